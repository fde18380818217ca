"""A mapfold program under a real ``spark-submit`` uses its --master, --name and --conf."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .helpers import environment

pytest.importorskip("pyspark")
BIN = Path(sys.executable).parent
if not (BIN / "spark-submit").exists() or shutil.which("java") is None:
    pytest.skip("spark-submit (pyspark) and java are needed", allow_module_level=True)

PROGRAM = textwrap.dedent("""\
    import mapfold as mf

    ds = mf.from_sequence(range(10), partitions=2).map(lambda x: x * 2)
    print("SUM", ds.sum())                     # no runner named: under spark-submit, the spark runner
    print("CHOSEN", ds.last_run.runner, ds.last_run.runner_source)
    runner = mf.get_runner()[0]
    sc = runner.context
    print("MASTER", sc.master)
    print("APP", sc.appName)
    print("CONF", sc.getConf().get("spark.mapfold.canary", "unset"))
""")


def spark_env() -> dict:
    env = environment(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SPARK_HOME", None)
    return env


def test_spark_submit_master_name_and_conf_are_used(tmp_path):
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    done = subprocess.run([str(BIN / "spark-submit"), "--master", "local[2]", "--name", "X",
                           "--conf", "spark.mapfold.canary=yes", "--conf", "spark.ui.enabled=false", str(script)],
                          cwd=tmp_path, env=spark_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["SUM"] == "90"
    assert lines["CHOSEN"] == "spark spark-submit"
    assert lines["MASTER"] == "local[2]"  # as given: not local[*] (the bug), not rewritten
    assert lines["APP"] == "X"
    assert lines["CONF"] == "yes"
