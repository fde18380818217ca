"""``mapfold run`` and ``mapfold submit`` against real standalone clusters (tests/cli/conftest.py)."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from .helpers import environment, mapfold_cli
from .test_run import EXPECTED, WORD_COUNT
from .test_submit import FILES


def _project(tmp_path):
    root = tmp_path / "project"
    for name, text in FILES.items():
        if name != "mapfold.toml":
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    (root / "in.txt").write_text("the cat sat\non a mat\nthe cat ran\n" * 50)
    return root


def _serial(project) -> str:
    done = mapfold_cli("run", "wc.py", "-r", "serial", "--", "in.txt", cwd=project)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_run_and_submit_on_a_dask_standalone_cluster(dask_cluster, tmp_path):
    project = _project(tmp_path)
    (project / "alone.py").write_text(WORD_COUNT)  # no local module: mapfold run is enough
    option = f"address={dask_cluster.address}"
    done = mapfold_cli("run", "alone.py", "-r", "dask", "--runner-option", option, cwd=project, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{EXPECTED} []"
    assert f"on dask ({dask_cluster.address}" in done.stderr
    # wc.py imports lib/, which is on no worker's path: run says so; submit ships it
    expected = _serial(project)
    done = mapfold_cli("run", "wc.py", "-r", "dask", "--runner-option", option, "--", "in.txt", cwd=project,
                       timeout=600)
    assert done.returncode == 1 and "No module named 'lib'" in done.stderr
    done = mapfold_cli("submit", "--to", "dask", "--runner-option", f"address={dask_cluster.address}",
                       "wc.py", "--", "in.txt", cwd=project, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == expected.strip()


def test_run_and_submit_on_a_spark_standalone_cluster(spark_cluster, tmp_path):
    project = _project(tmp_path)
    (project / "alone.py").write_text(WORD_COUNT)
    expected = _serial(project)
    env = environment(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SPARK_HOME", None)
    conf = ["--runner-option", "conf.spark.driver.host=127.0.0.1", "--runner-option", "conf.spark.ui.enabled=false"]
    done = mapfold_cli("run", "alone.py", "-r", "spark", "--runner-option", f"master={spark_cluster.address}",
                       *conf, cwd=project, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"{EXPECTED} []"
    assert f"on spark ({spark_cluster.address}" in done.stderr
    # submit: a real spark-submit to the standalone master, lib/ in the --py-files zip
    done = mapfold_cli("submit", "--to", "spark", "--runner-option", f"master={spark_cluster.address}", *conf,
                       "wc.py", "--", str(project / "in.txt"), cwd=project, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == expected.strip()


def test_run_and_submit_on_a_ray_head(ray_cluster, tmp_path):
    """``mapfold run -r ray`` against the GCS, then ``ray job submit`` through the head's job server: the
    package is the job's working_dir (lib/ comes with it); results are the serial runner's, the head
    listens on loopback only, and (the fixture) every process it started is gone at the end."""
    project = _project(tmp_path)
    (project / "alone.py").write_text(WORD_COUNT)
    assert not ray_cluster.exposed()
    done = mapfold_cli("run", "alone.py", "-r", "ray", "--runner-option", f"address={ray_cluster.address}",
                       cwd=project, env=ray_cluster.env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == f"{EXPECTED} []"
    assert f"on ray ({ray_cluster.address}" in done.stderr
    expected = _serial(project)
    data = str(project / "in.txt")  # the job runs in the unpacked package, on this machine
    done = mapfold_cli("submit", "--to", "ray", "--runner-option", f"address={ray_cluster.job_address}",
                       "wc.py", "--", data, cwd=project, env=ray_cluster.env, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"command: ray job submit --address {ray_cluster.job_address} " in done.stdout
    assert expected.strip() in done.stdout.splitlines()
    assert "succeeded" in done.stdout


def test_a_dask_worker_killed_mid_job_is_retried_by_the_engine(dask_cluster, tmp_path):
    import signal
    import subprocess
    import time

    import psutil

    from .helpers import environment

    script = tmp_path / "slow.py"
    script.write_text("import time\nimport mapfold as mf\n\ndef slow(x):\n    time.sleep(0.5)\n    return x * x\n\n"
                      "print('started', flush=True)\n"
                      "print(mf.from_sequence(range(24), partitions=8).map(slow).sum())\n")
    process = subprocess.Popen([sys.executable, "-m", "mapfold", "run", str(script), "-r", "dask", "--runner-option",
                                f"address={dask_cluster.address}"], cwd=tmp_path, env=environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "started"
        time.sleep(3)  # tasks are running on both workers
        nanny = psutil.Process(dask_cluster.processes[1].pid)  # the first `dask worker`
        victims = nanny.children(recursive=True)
        assert victims, "the nanny's worker process"
        for victim in victims:
            victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        out, err = process.communicate(timeout=60)
        elapsed = time.monotonic() - killed
    finally:
        if process.poll() is None:
            process.kill()
    assert elapsed < 30
    if process.returncode == 0:  # Dask rescheduled the lost worker's tasks
        assert out.splitlines()[-1] == str(sum(x * x for x in range(24)))
    else:  # or the error names the lost worker, by the address the scheduler removed
        assert re.search(r"lost workers? tcp://127\.0\.0\.1:\d+", err), err
