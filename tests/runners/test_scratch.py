"""A serial or processes driver killed outright leaves its scratch folder
(no close(), no lifeline); the next runner made in the same place removes it,
and never the folder of a driver that is still alive."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mapfold as mf
from mapfold.runners import make_runner
from mapfold.runners.scratch import OWNER, Scratch, sweep_stale

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock and SIGKILL drills: Linux")

SRC = Path(mf.__file__).resolve().parents[1]

DRIVER = textwrap.dedent("""
    import operator, sys, time
    import mapfold as mf
    from mapfold.runners import make_runner
    options = {"workers": 2} if sys.argv[1] == "processes" else {}
    runner = make_runner(sys.argv[1], memory_limit="1MB", **options)
    print(runner.scratch(), flush=True)
    pairs = mf.from_sequence(range(200_000), partitions=4).map(lambda i: (i % 5000, str(i)))
    # killed in the reduce stage, with the map side's bucket files in the runner's folder
    pairs.reduce_by_key(operator.add).map(lambda kv: time.sleep(600)).count(runner=runner, progress=False)
""")


def start_driver(runner_name: str, base: Path) -> tuple[subprocess.Popen, Path]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
               MAPFOLD_SCRATCH=str(base), MAPFOLD_PROGRESS="0")
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, runner_name], env=env, stdout=subprocess.PIPE, text=True)
    folder = Path(driver.stdout.readline().strip())
    assert folder.parent == base and (folder / OWNER).exists(), folder
    return driver, folder


def wait_gone(pids: list[int], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("runner_name", ["serial", "processes"])
def test_the_next_runner_removes_the_folder_of_a_killed_driver(tmp_path, monkeypatch, runner_name):
    driver, folder = start_driver(runner_name, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not [p for p in folder.rglob("*") if p.is_file() and p.name != OWNER]:
            assert time.monotonic() < deadline and driver.poll() is None, "no shuffle files in the driver's folder"
            time.sleep(0.1)
        monkeypatch.setenv("MAPFOLD_SCRATCH", str(tmp_path))
        with make_runner("serial") as live:  # the driver is alive: its folder stays
            assert live.scratch() != str(folder) and folder.is_dir()
        workers = children(driver.pid)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
        wait_gone(workers)  # the processes runner's workers watch their parent and exit
        assert folder.is_dir()  # nothing of the killed driver cleaned up
        with make_runner("serial") as later:
            mine = Path(later.scratch())
            assert not folder.exists() and mine.is_dir()
        assert not mine.exists()
    finally:
        driver.kill()
        driver.stdout.close()


def test_a_sweep_leaves_folders_without_an_owner_and_other_names(tmp_path):
    foreign = tmp_path / "mapfold-sort-abc"  # another mapfold folder kind, no owner file
    foreign.mkdir()
    other = tmp_path / "something-else"
    other.mkdir()
    (other / OWNER).touch()
    dead = tmp_path / "mapfold-serial-dead"
    dead.mkdir()
    (dead / OWNER).touch()  # nobody holds its lock
    live = Scratch.make("mapfold-serial-", str(tmp_path))
    try:
        assert sweep_stale(str(tmp_path)) == []  # Scratch.make swept the dead one already
        assert not dead.exists() and foreign.is_dir() and other.is_dir() and live.exists()
    finally:
        live.remove()
    assert not live.exists()
