"""A driver process for the drills: saves Datasets as an operator's job would.

``python driver.py race SYNC TAG PEER MODE ROUNDS RUNNER BASE``: for each
round ``i``, meet the peer driver (files ``ready-i-TAG`` in SYNC), then save
``RECORDS`` lines ``TAG-i-k`` to ``BASE/out-i`` with ``mode``. The job holds
its claim until the peer's attempt is over (its ``done-i-PEER`` file, or
5 s), so the two attempts overlap for certain; the outcome goes to
``result-i-TAG``: ``ok``, or the error's class name and message. BASE may
be a URL; ``MAPFOLD_DRILL_STORAGE`` then holds its storage options (JSON).

``python driver.py save TARGET MODE RUNNER TAG``: one save of ``RECORDS``
lines ``TAG-k``, each partition sleeping ``MAPFOLD_DRILL_SLOW`` seconds
first (so a kill can land mid-task; a file in ``MAPFOLD_DRILL_STARTED``, if
set, says it started); prints ``saved``.
"""
from __future__ import annotations

import json
import os
import sys
import time

import mapfold as mf
from mapfold.runners import make_runner

RECORDS = 200
PARTITIONS = 4


def wait_for(path: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def touch(path: str, text: str = "") -> None:
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def make(name: str):
    return make_runner(name, workers=2) if name == "processes" else make_runner(name)


def hold_until(path: str):
    def transform(index, iterator):
        if index == 0:
            wait_for(path, 5.0)  # keep the claim until the peer has tried
        return iterator
    return transform


def race(sync: str, tag: str, peer: str, mode: str, rounds: int, runner_name: str, base: str) -> None:
    runner = make(runner_name)
    storage = json.loads(os.environ.get("MAPFOLD_DRILL_STORAGE") or "null")
    try:
        for i in range(rounds):
            touch(f"{sync}/ready-{i}-{tag}")
            if not wait_for(f"{sync}/ready-{i}-{peer}", 120):
                raise SystemExit(f"peer {peer} never reached round {i}")
            lines = [f"{tag}-{i}-{k}" for k in range(RECORDS)]
            ds = mf.from_sequence(lines, partitions=PARTITIONS).map_partitions_with_index(
                hold_until(f"{sync}/done-{i}-{peer}"))
            try:
                ds.save_text(f"{base}/out-{i}", mode=mode, runner=runner, progress=False, storage_options=storage)
                outcome = "ok"
            except mf.MapfoldError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            touch(f"{sync}/result-{i}-{tag}", outcome)
            touch(f"{sync}/done-{i}-{tag}")
    finally:
        runner.close()


def slow(index, iterator):
    started = os.environ.get("MAPFOLD_DRILL_STARTED")
    if started:  # a folder: the task says it runs (the engine and its workers are up by then)
        touch(os.path.join(started, f"task-{index}-{os.getpid()}"))
    time.sleep(float(os.environ.get("MAPFOLD_DRILL_SLOW", "0")))
    return iterator


def save(target: str, mode: str, runner_name: str, tag: str) -> None:
    runner = make(runner_name)
    storage = json.loads(os.environ.get("MAPFOLD_DRILL_STORAGE") or "null")
    lines = [f"{tag}-{k}" for k in range(RECORDS)]
    ds = mf.from_sequence(lines, partitions=PARTITIONS).map_partitions_with_index(slow)
    ds.save_text(target, mode=mode, runner=runner, progress=False, storage_options=storage)
    print("saved", flush=True)
    runner.close()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "race":
        sync, tag, peer, mode, rounds, runner_name, base = args
        race(sync, tag, peer, mode, int(rounds), runner_name, base)
    elif command == "save":
        save(*args)
    else:
        raise SystemExit(f"unknown command {command}")
