"""Spill files go away: when the job ends, when it fails, and on Ctrl-C."""
from __future__ import annotations

import operator
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import mapfold as mf
from mapfold.runners import make_runner
from mapfold.runners.scratch import OWNER


def leftovers(folder) -> list:
    """What jobs left in a runner's folder (its ``owner`` lock file is the runner's own)."""
    return [os.path.join(root, name) for root, dirs, files in os.walk(folder) for name in files + dirs
            if (root, name) != (folder, OWNER)]


@pytest.fixture(params=["serial", "processes"])
def private_runner(request, tmp_path, monkeypatch):
    monkeypatch.setenv("MAPFOLD_SCRATCH", str(tmp_path))
    options = {"workers": 2} if request.param == "processes" else {}
    instance = make_runner(request.param, memory_limit="16kB", **options)
    yield instance, tmp_path
    instance.close()
    assert leftovers(tmp_path) == []  # closing the runner removes its scratch folder


def spilling_job():
    pairs = [(f"k{i % 3000}", i) for i in range(30_000)]
    return mf.from_sequence(pairs, partitions=4).reduce_by_key(operator.add, 3)


def test_scratch_is_private(private_runner):
    runner, base = private_runner
    scratch = runner.scratch()
    assert os.path.dirname(scratch) == str(base)
    assert os.stat(scratch).st_mode & 0o777 == 0o700


def test_spill_files_removed_when_job_ends(private_runner):
    runner, base = private_runner
    ds = spilling_job()
    assert len(ds.collect(runner=runner)) == 3000
    assert ds._last_job.stats["spilled_bytes"] > 0
    assert leftovers(runner.scratch()) == []


def fail_on_key(kv):
    if kv[0] == "k7":
        raise KeyError("boom on k7")
    return kv


def test_spill_files_removed_on_error(private_runner):
    runner, _ = private_runner
    ds = spilling_job().map(fail_on_key)  # fails in the reduce stage, after the map side spilled
    with pytest.raises(KeyError, match="boom on k7"):
        ds.collect(runner=runner)
    assert leftovers(runner.scratch()) == []


def test_nothing_left_when_a_save_cannot_pickle_its_code(private_runner, tmp_path_factory):
    import threading

    runner, _ = private_runner
    if runner.name == "serial":
        pytest.skip("the serial runner pickles nothing")
    lock = threading.Lock()
    ds = spilling_job().map(lambda kv: (lock, kv))  # planned with a shuffle folder, then fails to pickle
    with pytest.raises(mf.SerializationError):
        ds.save_text(str(tmp_path_factory.mktemp("save") / "out"), runner=runner)
    assert ds.last_run.status == "failed"
    assert leftovers(runner.scratch()) == []


def test_spill_files_removed_when_iteration_stops_early(private_runner):
    runner, _ = private_runner
    it = spilling_job().iterate(runner=runner)
    next(it)
    it.close()
    assert leftovers(runner.scratch()) == []


def late_add(marker):
    def add(a, b):
        if mf.core.task_context.current_task().partition == 1 and not os.path.exists(marker):
            time.sleep(0.5)  # partition 1's reduce is still running when the driver stops reading
            open(marker, "w").close()
        return a + b
    return add


def test_a_job_stopped_early_ends_with_its_running_tasks(private_runner, tmp_path_factory):
    # a task still running after the job's cleanup would write its spills into a folder
    # it recreates (seen in CI): the job ends only once its running tasks have
    runner, _ = private_runner
    if runner.name == "serial":
        pytest.skip("the serial runner runs one task at a time: none runs when the iteration stops")
    marker = str(tmp_path_factory.mktemp("marker") / "slept")
    pairs = [(f"k{i % 3000}", i) for i in range(30_000)]
    it = mf.from_sequence(pairs, partitions=4).reduce_by_key(late_add(marker), 3).iterate(runner=runner)
    next(it)
    it.close()
    assert os.path.exists(marker)
    assert leftovers(runner.scratch()) == []


def test_a_job_stopped_early_does_not_wait_on_a_long_task(private_runner):
    # past a grace period the workers still running the job's tasks are stopped
    # (a new pool serves the next action): closing an iteration never hangs on a task
    runner, _ = private_runner
    if runner.name == "serial":
        pytest.skip("the serial runner runs one task at a time: none runs when the iteration stops")
    ds = mf.from_sequence(range(400), partitions=4).map_partitions_with_index(sleepy)
    it = ds.iterate(runner=runner)
    next(it)
    start = time.monotonic()
    it.close()
    assert time.monotonic() - start < 10  # the task sleeps 60 s
    assert leftovers(runner.scratch()) == []
    assert spilling_job().count(runner=runner) == 3000  # the runner goes on with a new pool


def sleepy(index, records):
    if index:
        time.sleep(60)
    return records


SCRIPT = textwrap.dedent("""
    import operator, os, sys, time
    import mapfold as mf

    def slow(kv):
        if kv[0] == "k1":
            print("reduce started", flush=True)
            time.sleep(60)
        return kv

    pairs = [(f"k{i % 3000}", i) for i in range(30_000)]
    with mf.runner(sys.argv[1], memory_limit="16kB", **({"workers": 2} if sys.argv[1] == "processes" else {})):
        mf.from_sequence(pairs, partitions=4).reduce_by_key(operator.add, 2).map(slow).collect()
""")


@pytest.mark.parametrize("name", ["serial", "processes"])
def test_spill_files_removed_on_ctrl_c(tmp_path, name):
    env = dict(os.environ, MAPFOLD_SCRATCH=str(tmp_path), MAPFOLD_PROGRESS="0")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, name], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "reduce started"
        spilled = [p for p in leftovers(tmp_path) if p.endswith(".runs")]
        assert spilled, "the map side should have written spill files by now"
        # A signal can land on a helper thread of concurrent.futures while the driver
        # blocks in wait() without a timeout (parallel/executor.py), and then goes
        # unnoticed until a task ends; a user presses Ctrl-C again, and so do we.
        err = ""
        for _ in range(10):
            proc.send_signal(signal.SIGINT)
            try:
                _, err = proc.communicate(timeout=3)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "KeyboardInterrupt" in err
    assert leftovers(tmp_path) == []
