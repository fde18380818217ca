"""``mapfold submit``: the reproducible package, its checks, and golden --dry-run commands for every target."""
from __future__ import annotations

import io
import os
import sys
import textwrap
import zipfile

import pytest

from .helpers import environment, mapfold_cli

CANARY = "CANARY-abc123-do-not-print"
FILES = {
    "wc.py": textwrap.dedent("""\
        import operator
        import sys

        import mapfold as mf
        from lib.words import words

        counts = mf.read_text(sys.argv[1]).flat_map(words).map(lambda w: (w, 1)).reduce_by_key(operator.add)
        print(sorted(counts.collect()))
    """),
    "lib/__init__.py": "",
    "lib/words.py": "from .stop import STOP\n\n\ndef words(line):\n    return [w for w in line.lower().split() if w not in STOP]\n",
    "lib/stop.py": 'STOP = {"the", "a"}\n',
    "unused.py": "print('not imported, not packaged')\n",
    "mapfold.toml": textwrap.dedent("""\
        [profiles.spark]
        master = "spark://127.0.0.1:7077"
        deploy_mode = "client"

        [profiles.spark.conf]
        "spark.executor.memory" = "1g"
        "spark.hadoop.fs.s3a.secret.key" = "${AWS_SECRET_ACCESS_KEY}"

        [profiles.dask]
        address = "tcp://127.0.0.1:8786"

        [profiles.ray]
        address = "http://127.0.0.1:8265"
    """),
}
PACKAGE = "dist/mapfold/wc-acd51f522b13.zip"  # the same sources give the same bytes: the hash is golden too
LISTING = f"""\
package: {PACKAGE} (4 files, 675 B, sha256 acd51f522b13)
  lib/__init__.py
  lib/stop.py
  lib/words.py
  wc.py
"""
DASK_PACKAGE = "dist/mapfold/wc-df809d0b8bcd.zip"  # the modules only: a Dask worker imports every module of it
DASK_LISTING = f"""\
package: {DASK_PACKAGE} (3 files, 439 B, sha256 df809d0b8bcd)
  lib/__init__.py
  lib/stop.py
  lib/words.py
"""
GOLDEN = {
    "spark": LISTING + "command: spark-submit --master spark://127.0.0.1:7077 --deploy-mode client --name wc "
                       "--conf spark.executor.memory=1g --conf 'spark.hadoop.fs.s3a.secret.key=${AWS_SECRET_ACCESS_KEY}' "
                       f"--py-files <project>/{PACKAGE} <project>/wc.py in.txt\n",
    "dask": DASK_LISTING + "command: python -m mapfold run -r dask --runner-option address=tcp://127.0.0.1:8786 "
                           f"--runner-option 'py_files=[\"<project>/{DASK_PACKAGE}\"]' <project>/wc.py -- in.txt\n",
    "ray": LISTING + "command: ray job submit --address http://127.0.0.1:8265 --runtime-env-json "
                     f"'{{\"env_vars\": {{\"MAPFOLD_RUNNER\": \"ray\"}}, \"working_dir\": \"<project>/{PACKAGE}\"}}' "
                     "-- python wc.py in.txt\n",
}


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def canary_env(**extra):
    return environment(AWS_SECRET_ACCESS_KEY=CANARY, AWS_ACCESS_KEY_ID="AKIACANARY0000", **extra)


@pytest.mark.parametrize("target", ["spark", "dask", "ray"])
def test_dry_run_prints_the_golden_command(project, target):
    done = mapfold_cli("submit", "--to", target, "--profile", target, "--dry-run", "wc.py", "--", "in.txt",
                       cwd=project, env=canary_env())
    assert done.returncode == 0, done.stderr
    out = done.stdout.replace(str(project), "<project>").replace(sys.executable, "python")
    assert out == GOLDEN[target]
    assert CANARY not in done.stdout + done.stderr and "AKIACANARY" not in done.stdout
    archive = (project / (DASK_PACKAGE if target == "dask" else PACKAGE)).read_bytes()
    assert CANARY.encode() not in archive
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert names == ["lib/__init__.py", "lib/stop.py", "lib/words.py"] + ([] if target == "dask" else ["wc.py"])
    assert {info.date_time for info in zipfile.ZipFile(io.BytesIO(archive)).infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_secret_value_on_the_command_line_is_masked(project):
    done = mapfold_cli("submit", "--to", "spark", "--dry-run", "--runner-option", f"conf.spark.token={CANARY}",
                       "wc.py", cwd=project, env=canary_env())
    assert done.returncode == 0, done.stderr
    assert CANARY not in done.stdout and "spark.token=${AWS_SECRET_ACCESS_KEY}" in done.stdout


@pytest.mark.parametrize("bad, message", [
    (".env", "refusing to package a secrets file (.env): <project>/data/.env"),
    ("server.pem", "refusing to package a secrets file (*.pem): <project>/data/server.pem"),
    (".aws/credentials", "refusing to package a secrets file (credentials): <project>/data/.aws/credentials"),
    (".git/config", "refusing to package a .git folder: <project>/data/.git/config"),
    ("venv/pyvenv.cfg", "refusing to package a virtualenv (its packages belong in requirements): "
                        "<project>/data/venv/pyvenv.cfg"),
])
def test_a_package_with_secrets_git_or_a_virtualenv_fails_naming_the_path(project, bad, message):
    (project / "data" / bad).parent.mkdir(parents=True, exist_ok=True)
    (project / "data" / bad).write_text("x = 1\n")
    (project / "data" / "keep.csv").write_text("a,b\n")
    done = mapfold_cli("submit", "--to", "spark", "--dry-run", "--include", "data", "wc.py", cwd=project,
                       env=canary_env())
    assert done.returncode == 1
    assert message in done.stderr.replace(str(project), "<project>")
    assert not (project / "dist").exists()  # nothing written, nothing submitted


def test_a_package_over_the_size_limit_fails_naming_the_path(project):
    (project / "data").mkdir()
    (project / "data" / "big.bin").write_bytes(os.urandom(20_000))
    (project / "mapfold.toml").write_text('max_package_size = "10kB"\n')
    done = mapfold_cli("submit", "--to", "spark", "--dry-run", "--include", "data", "wc.py", cwd=project)
    assert done.returncode == 1
    assert f"exceeds max_package_size 9.8 KiB at: {project / 'data' / 'big.bin'}" in done.stderr
    done = mapfold_cli("submit", "--to", "spark", "--dry-run", "--max-size", "1MB", "--include", "data", "wc.py",
                       cwd=project)
    assert done.returncode == 0, done.stderr  # the command line wins over the file


def test_dask_and_ray_need_an_address(project):
    (project / "mapfold.toml").unlink()
    for target in ("dask", "ray"):
        done = mapfold_cli("submit", "--to", target, "--dry-run", "wc.py", cwd=project)
        assert done.returncode == 1 and "needs the cluster's address" in done.stderr
    done = mapfold_cli("submit", "--to", "dask", "--dry-run", "wc.py", cwd=project,
                       env=environment(MAPFOLD_ADDRESS="tcp://127.0.0.1:9999"))
    assert done.returncode == 0 and "address=tcp://127.0.0.1:9999" in done.stdout


def test_ray_requirements_go_to_the_runtime_environment(project):
    (project / "requirements.txt").write_text("# what the job needs\nrequests>=2.31\nnumpy\n")
    done = mapfold_cli("submit", "--to", "ray", "--profile", "ray", "--dry-run", "--requirements",
                       "requirements.txt", "wc.py", cwd=project)
    assert done.returncode == 0, done.stderr
    assert ('"pip": ["requests>=2.31", "numpy"]' in done.stdout
            and done.stdout.rstrip().endswith("-- python wc.py"))


def test_spark_with_a_packed_environment_is_golden(project):
    """--env-archive: the executors unpack the packed environment (venv-pack, conda-pack) as ./environment
    and run its python; the driver, in client mode, runs this one."""
    (project / "env.tar.gz").write_bytes(b"a packed environment")  # never opened by a dry run
    done = mapfold_cli("submit", "--to", "spark", "--profile", "spark", "--dry-run", "--env-archive", "env.tar.gz",
                       "wc.py", "--", "in.txt", cwd=project, env=canary_env())
    assert done.returncode == 0, done.stderr
    out = done.stdout.replace(str(project), "<project>").replace(sys.executable, "python")
    assert out == LISTING + (
        "command: PYSPARK_DRIVER_PYTHON=python PYSPARK_PYTHON=./environment/bin/python spark-submit "
        "--master spark://127.0.0.1:7077 --deploy-mode client --name wc --archives '<project>/env.tar.gz#environment' "
        "--conf spark.executor.memory=1g --conf spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python "
        "--conf 'spark.hadoop.fs.s3a.secret.key=${AWS_SECRET_ACCESS_KEY}' "
        f"--py-files <project>/{PACKAGE} <project>/wc.py in.txt\n")
    done = mapfold_cli("submit", "--to", "spark", "--dry-run", "--env-archive", "missing.tar.gz", "wc.py", cwd=project)
    assert done.returncode == 1 and "no packed environment at missing.tar.gz (make one: venv-pack" in done.stderr
