"""Errors: user exceptions keep their type and say where; dead workers are
retried, then reported; unpicklable code fails before anything runs."""
from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest

import mapfold as mf
from mapfold.runners.processes import ProcessRunner


def fail_on_line(line):
    if line == "poison":
        raise ValueError(f"cannot handle {line!r}")
    return line


def test_user_exception_names_file_and_line(runner, text_files):
    folder = text_files({"a.txt": "ok\n" * 10, "b.txt": "fine\n" * 4 + "poison\n" + "fine\n"})
    ds = mf.read_text(folder).map(fail_on_line)
    with pytest.raises(ValueError, match="cannot handle 'poison'") as info:
        ds.collect(runner=runner)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "b.txt line 5" in notes
    assert "partition" in notes and "stage" in notes
    if runner.name != "serial":
        assert "fail_on_line" in str(info.value.__cause__)  # the worker's traceback


def test_line_number_in_a_later_byte_range_split(runner, tmp_path):
    path = tmp_path / "big.txt"
    lines = [f"row {i}" for i in range(2000)]
    lines[1500] = "poison"
    path.write_text("\n".join(lines) + "\n")
    ds = mf.read_text(str(path), split_size=4096)
    assert ds.num_partitions > 3
    with pytest.raises(ValueError) as info:
        ds.map(fail_on_line).count(runner=runner)
    assert "big.txt line 1501" in "\n".join(info.value.__notes__)


def test_user_exceptions_are_not_retried(processes, tmp_path):
    marker = tmp_path / "attempts"

    def count_and_fail(x):
        with open(marker, "a") as f:
            f.write("x")
        raise RuntimeError("no retry")

    with pytest.raises(RuntimeError):
        mf.from_sequence([1], partitions=1).map(count_and_fail).collect(runner=processes)
    assert marker.read_text() == "x"


def kill_self_first_time(marker):
    def step(x):
        with open(marker, "a") as f:
            f.write("attempt\n")
        with open(marker) as f:
            attempts = f.read().count("attempt")
        if attempts == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return x * 2

    return step


def test_worker_killed_once_is_retried_with_two_attempts(tmp_path):
    marker = tmp_path / "attempts"
    with ProcessRunner(workers=2) as runner:
        got = mf.from_sequence([1, 2, 3], partitions=1).map(kill_self_first_time(str(marker))).collect(runner=runner)
        assert got == [2, 4, 6]
        assert marker.read_text().count("attempt") == 2 + 2  # two tries of record 1, then records 2 and 3
        assert runner.executor.restarts == 1


def test_worker_killed_every_time_fails_fast_with_signal(tmp_path):
    def always_die(x):
        os.kill(os.getpid(), signal.SIGKILL)

    with ProcessRunner(workers=2, max_attempts=3) as runner:
        start = time.monotonic()
        with pytest.raises(mf.WorkerLostError) as info:
            mf.from_sequence(range(4), partitions=2).map(always_die).collect(runner=runner)
        assert time.monotonic() - start < 10
        message = str(info.value)
        assert "SIGKILL" in message and "3 attempts" in message
        assert re.search(r"partition [01]", message) and "stage" in message
        # the runner is usable afterwards
        assert mf.from_sequence(range(3)).map(lambda x: x + 1).collect(runner=runner) == [1, 2, 3]


def test_innocent_tasks_do_not_spend_attempts(tmp_path):
    marker = tmp_path / "attempts"

    def die_on_zero_once(x):
        if x == 0:
            with open(marker, "a") as f:
                f.write("attempt\n")
            if marker.read_text().count("attempt") == 1:
                os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.01)
        return x

    with ProcessRunner(workers=2, max_attempts=2) as runner:
        assert mf.from_sequence(range(8), partitions=8).map(die_on_zero_once).collect(runner=runner) == list(range(8))


def test_closure_capturing_a_lock_fails_before_any_task(tmp_path, processes):
    lock = threading.Lock()
    ran = tmp_path / "ran"
    target = tmp_path / "out"

    def guarded(x):
        ran.touch()
        with lock:
            return x

    ds = mf.from_sequence(range(5), partitions=2).map(guarded)
    with pytest.raises(mf.SerializationError, match="closure variable 'lock'"):
        ds.collect(runner=processes)
    with pytest.raises(mf.SerializationError):
        ds.save_text(str(target), runner=processes)
    assert not ran.exists()
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
