"""Drills of the commit protocol with real driver processes (tests/drills/driver.py).

* Two drivers race on one output, 20 rounds per mode (and 20 pairs of
  fresh driver processes per mode, and on S3): exactly one job of
  each pair succeeds, the output is that job's, complete; the other gets
  ``OutputExistsError`` (mode error: the target exists or is claimed) or
  ``OutputBusyError`` at once (mode overwrite: mapfold never waits).
* A driver SIGKILLed mid-commit (``MAPFOLD_COMMIT_PAUSE`` widens the
  window) or mid-task: the target is the old or the new output, whole; the
  next run on it succeeds and leaves no staging folder or claim; and no
  worker process the driver started is alive 5 s after the kill.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mapfold as mf

DRIVER = Path(__file__).with_name("driver.py")
SRC = Path(mf.__file__).resolve().parents[1]
ROUNDS = 20
S3_ROUNDS = 10  # each S3 round is a dozen requests to the local server: half the local drills' rounds
RECORDS, PARTITIONS = 200, 4

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the drills read /proc (Linux)")


def env(**extra) -> dict:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
                       MAPFOLD_PROGRESS="0")
    environment.update(extra)
    return environment


def driver(*args, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(DRIVER), *args], env=env(**extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def start_race(sync: Path, base: str, mode: str, runner_name: str, rounds: int, storage: dict | None = None):
    sync.mkdir()
    extra = {"MAPFOLD_DRILL_STORAGE": json.dumps(storage)} if storage else {}
    return [driver("race", str(sync), tag, peer, mode, str(rounds), runner_name, base, **extra)
            for tag, peer in (("A", "B"), ("B", "A"))]


def race(tmp_path: Path, base: str, mode: str, runner_name: str, storage: dict | None = None,
         rounds: int = ROUNDS, racers: list | None = None) -> dict:
    """Two drivers racing ``rounds`` times on ``base/out-i``; returns {round: (winner, loser's outcome)}."""
    sync = tmp_path / "sync"
    if racers is None:
        racers = start_race(sync, base, mode, runner_name, rounds, storage)
    for proc in racers:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    outcomes = {}
    for i in range(rounds):
        results = {tag: (sync / f"result-{i}-{tag}").read_text() for tag in "AB"}
        winners = [tag for tag, result in results.items() if result == "ok"]
        assert len(winners) == 1, f"round {i}: {results}"
        (loser_result,) = [r for tag, r in results.items() if tag not in winners]
        expected = "OutputBusyError" if mode == "overwrite" else ("OutputExistsError", "OutputBusyError")
        assert loser_result.startswith(expected), f"round {i}: {results}"
        if mode == "overwrite":  # refused at once, naming the job that holds the target
            assert "is being written by job" in loser_result
        outcomes[i] = (winners[0], loser_result)
    return outcomes


def check_output(target: str, winner: str, i: int | None, storage: dict | None = None) -> None:
    got = mf.read_text(target, storage_options=storage).collect(runner="serial")
    prefix = winner if i is None else f"{winner}-{i}"
    assert got == [f"{prefix}-{k}" for k in range(RECORDS)]
    fs, root = mf_filesystem(target, storage)
    manifest = json.loads(fs.cat_file(f"{root}/_SUCCESS"))
    assert manifest["records"] == RECORDS and len(manifest["files"]) == PARTITIONS
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.find(root))
    assert names == sorted(manifest["files"] + ["_SUCCESS"])


def mf_filesystem(url: str, storage: dict | None):
    from fsspec.core import url_to_fs

    return url_to_fs(url, **(storage or {}))


def hidden_leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if ".mapfold-" in name)


def lines_of(target: Path) -> list[str]:
    return mf.read_text(str(target)).collect(runner="serial")


@pytest.mark.parametrize("runner_name", ["serial", "processes"])
@pytest.mark.parametrize("mode", ["error", "overwrite"])
def test_racing_drivers_one_wins_each_round(tmp_path, mode, runner_name):
    base = tmp_path / "data"
    base.mkdir()
    if mode == "overwrite":
        for i in range(ROUNDS):
            mf.from_sequence(["old"]).save_text(str(base / f"out-{i}"), runner="serial")
    for i, (winner, _) in race(tmp_path, str(base), mode, runner_name).items():
        check_output(str(base / f"out-{i}"), winner, i)
    assert hidden_leftovers(base) == []


@pytest.mark.parametrize("mode", ["error", "overwrite"])
def test_racing_pairs_of_fresh_driver_processes(tmp_path, mode):
    """10 pairs of new driver processes, 5 pairs at a time, each pair racing once on its own target."""
    for batch in range(2):
        pairs = []
        for j in range(batch * 5, batch * 5 + 5):
            folder = tmp_path / f"pair-{j}"
            (folder / "data").mkdir(parents=True)
            if mode == "overwrite":
                mf.from_sequence(["old"]).save_text(str(folder / "data" / "out-0"), runner="serial")
            pairs.append((folder, start_race(folder / "sync", str(folder / "data"), mode, "serial", 1)))
        for folder, racers in pairs:
            ((_, (winner, _)),) = race(folder, str(folder / "data"), mode, "serial", rounds=1, racers=racers).items()
            check_output(str(folder / "data" / "out-0"), winner, 0)
            assert hidden_leftovers(folder / "data") == []


@pytest.mark.parametrize("mode", ["error", "overwrite"])
def test_racing_drivers_on_s3_one_wins_each_round(tmp_path, mode, s3_endpoint, s3_options):
    """The claim is a conditional PUT (If-None-Match: *): as exclusive on S3 as O_EXCL locally."""
    import boto3

    bucket = f"mapfold-race-{os.getpid()}-{mode}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id=s3_options["key"],
                 aws_secret_access_key=s3_options["secret"]).create_bucket(Bucket=bucket)
    base = f"s3://{bucket}/data"
    if mode == "overwrite":
        for i in range(S3_ROUNDS):
            mf.from_sequence(["old"]).save_text(f"{base}/out-{i}", runner="serial", storage_options=s3_options)
    for i, (winner, _) in race(tmp_path, base, mode, "serial", s3_options, rounds=S3_ROUNDS).items():
        check_output(f"{base}/out-{i}", winner, i, s3_options)
    fs, root = mf_filesystem(base, s3_options)
    fs.invalidate_cache()
    assert [p for p in fs.find(bucket, withdirs=True) if ".mapfold-" in p] == []


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr, proc.stdout], [], [], 0.2)
        for stream in ready:
            line = stream.readline()
            seen.append(line)
            if needle in line:
                return line
        if proc.poll() is not None:
            break
    raise AssertionError(f"driver never said {needle!r}; it said: {''.join(seen)}")


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    if int(f.read().rsplit(b")", 1)[-1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def kill_and_check_workers(proc: subprocess.Popen, expect_workers: bool) -> None:
    workers = children(proc.pid)
    if expect_workers:
        assert workers, "the processes runner had started no worker"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = time.monotonic()
    while any(alive(pid) for pid in workers) and time.monotonic() - killed_at < 5:
        time.sleep(0.1)
    assert [pid for pid in workers if alive(pid)] == [], "workers outlived their driver by 5 s"


@pytest.mark.parametrize("runner_name", ["serial", "processes"])
@pytest.mark.parametrize("mode", ["error", "overwrite"])
@pytest.mark.parametrize("point", ["before-publish", "after-publish"])
def test_sigkill_mid_commit_then_the_next_run_succeeds(tmp_path, mode, point, runner_name):
    target = tmp_path / "out"
    if mode == "overwrite":
        mf.from_sequence(["old"]).save_text(str(target), runner="serial")
    proc = driver("save", str(target), mode, runner_name, "killed", MAPFOLD_COMMIT_PAUSE=f"{point}=60")
    wait_for_line(proc, f"commit paused at {point}")
    kill_and_check_workers(proc, expect_workers=runner_name == "processes")
    assert hidden_leftovers(tmp_path)  # the dead job's claim (and staging folder) are still there
    if target.exists():  # the old output, or the killed job's, whole
        expected = {"before-publish": ["old"], "after-publish": [f"killed-{k}" for k in range(RECORDS)]}[point]
        assert lines_of(target) == expected
        assert (target / "_SUCCESS").exists()
    nxt = driver("save", str(target), "overwrite", runner_name, "next")
    out, err = nxt.communicate(timeout=300)
    assert nxt.returncode == 0 and "saved" in out, err
    assert lines_of(target) == [f"next-{k}" for k in range(RECORDS)]
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no staging folder, no claim


def test_sigkill_mid_task_leaves_no_worker_and_no_leftover(tmp_path):
    target = tmp_path / "out"
    mf.from_sequence(["old"]).save_text(str(target), runner="serial")
    proc = driver("save", str(target), "overwrite", "processes", "killed", MAPFOLD_DRILL_SLOW="60",
                  MAPFOLD_COMMIT_PAUSE="claimed=0.5")
    wait_for_line(proc, "commit paused at claimed")
    deadline = time.monotonic() + 60
    while len(children(proc.pid)) < 2 and time.monotonic() < deadline:  # the tasks are running
        time.sleep(0.1)
    kill_and_check_workers(proc, expect_workers=True)
    assert lines_of(target) == ["old"]
    nxt = driver("save", str(target), "error", "serial", "next")
    out, err = nxt.communicate(timeout=300)
    assert nxt.returncode != 0 and "OutputExistsError" in err  # the old output is still there
    assert sorted(os.listdir(tmp_path)) == ["out"]  # ...and the dead job's claim and staging are gone


def test_sigkill_mid_copy_on_s3_is_refused_by_readers_and_repaired_by_the_next_run(tmp_path, s3_endpoint,
                                                                                    s3_options):
    """An object store cannot publish many objects at once: a driver killed after copying its parts
    into a new target, before its _SUCCESS, leaves a state readers refuse and the next run repairs."""
    import boto3

    bucket = f"mapfold-kill-{os.getpid()}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id=s3_options["key"],
                 aws_secret_access_key=s3_options["secret"]).create_bucket(Bucket=bucket)
    target = f"s3://{bucket}/data/out"
    proc = driver("save", target, "error", "serial", "killed", MAPFOLD_COMMIT_PAUSE="copied=60",
                  MAPFOLD_DRILL_STORAGE=json.dumps(s3_options))
    wait_for_line(proc, "commit paused at copied")
    kill_and_check_workers(proc, expect_workers=False)
    fs, root = mf_filesystem(target, s3_options)
    fs.invalidate_cache()
    assert len(fs.find(root)) == PARTITIONS  # the parts are there, without _SUCCESS
    with pytest.raises(mf.InputError, match="has no _SUCCESS yet: it is claimed by job"):
        mf.read_text(target, storage_options=s3_options).collect(runner="serial")
    nxt = driver("save", target, "error", "serial", "next", MAPFOLD_DRILL_STORAGE=json.dumps(s3_options))
    out, err = nxt.communicate(timeout=300)
    assert nxt.returncode == 0 and "saved" in out, err
    check_output(target, "next", None, s3_options)
    fs.invalidate_cache()
    assert [p for p in fs.find(bucket, withdirs=True) if ".mapfold-" in p or "killed" in p] == []


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return "?"


def descendants(pid: int) -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process(pid).children(recursive=True)]


@pytest.mark.parametrize("engine_name", ["dask", "spark", "ray"])
def test_sigkill_of_an_engine_driver_mid_task_takes_its_local_cluster_along(tmp_path, engine_name):
    """The engine's local cluster that mapfold started (Dask's workers, Spark's JVM and its Python
    workers, Ray's raylet and workers) dies with the driver; the next run succeeds and leaves nothing."""
    target = tmp_path / "out"
    scratch, running = tmp_path / "scratch", tmp_path / "running"
    scratch.mkdir()
    running.mkdir()
    proc = driver("save", str(target), "error", engine_name, "killed", MAPFOLD_DRILL_SLOW="60",
                  MAPFOLD_DRILL_STARTED=str(running), MAPFOLD_SCRATCH=str(scratch))
    try:
        deadline = time.monotonic() + 120
        while len(os.listdir(running)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)  # two tasks are running (each sleeps 60 s)
        assert len(os.listdir(running)) >= 2, proc.stderr.read() if proc.poll() is not None else "tasks never ran"
        started = descendants(proc.pid)
    except BaseException:
        proc.kill()
        raise
    assert started, f"the {engine_name} runner had started no process"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = time.monotonic()
    while any(alive(pid) for pid in started) and time.monotonic() - killed_at < 5:
        time.sleep(0.1)
    left = {pid: command_line(pid) for pid in started if alive(pid)}
    assert left == {}, f"processes outlived their driver by 5 s: {left}"
    assert not target.exists()
    # the next run: on the serial runner (the commit and its clean-up are the driver's; a second engine
    # start would double the drill's time)
    nxt = driver("save", str(target), "error", "serial", "next", MAPFOLD_SCRATCH=str(scratch))
    out, err = nxt.communicate(timeout=300)
    assert nxt.returncode == 0 and "saved" in out, err
    assert lines_of(target) == [f"next-{k}" for k in range(RECORDS)]
    assert sorted(os.listdir(tmp_path)) == ["out", "running", "scratch"]  # no staging folder, no claim
    assert os.listdir(scratch) == []  # the killed driver's scratch folder went with its lifeline


@pytest.mark.parametrize("mode", ["error", "overwrite"])
def test_racing_drivers_on_the_dask_runner(tmp_path, mode):
    """The commit is the driver's: one engine variant of the race (3 rounds; each driver its LocalCluster)."""
    base = tmp_path / "data"
    base.mkdir()
    if mode == "overwrite":
        for i in range(3):
            mf.from_sequence(["old"]).save_text(str(base / f"out-{i}"), runner="serial")
    for i, (winner, _) in race(tmp_path, str(base), mode, "dask", rounds=3).items():
        check_output(str(base / f"out-{i}"), winner, i)
    assert hidden_leftovers(base) == []
