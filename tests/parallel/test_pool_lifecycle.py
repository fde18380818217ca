"""A pool never starts itself behind the user's back, and every worker it
started is gone when it closes, its block ends, it is dropped, or its program
exits or is killed (issue 17)."""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

import mapfold as mf


def alive(pids) -> list[int]:
    out = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def gone_soon(pids, seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(pids)


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}


def test_workers_start_with_the_pool_and_are_gone_after_close_and_join():
    pool = mf.Pool(2)
    assert pool.map(abs, [-1, -2]) == [1, 2]
    pids = pool.worker_pids()
    assert len(pids) == 2 and alive(pids) == pids
    pool.close()
    with pytest.raises(mf.PoolClosedError, match="not running"):
        pool.map(abs, [1])
    with pytest.raises(ValueError):  # as multiprocessing: a ValueError
        pool.apply(abs, (1,))
    pool.join()
    assert gone_soon(pids) == []


def test_join_before_close_is_refused_as_multiprocessing_does():
    with mf.Pool(2) as pool:
        with pytest.raises(ValueError, match="close"):
            pool.join()


def test_workers_are_gone_after_the_with_block():
    with mf.Pool(2) as pool:
        pool.map(abs, range(10))
        pids = pool.worker_pids()
    assert pids and gone_soon(pids) == []
    assert "stopped" in repr(pool)


def test_a_lazy_result_read_after_the_pool_closed_raises_and_starts_nothing():
    before = children()
    with mf.Pool(2) as pool:
        results = pool.imap(lambda x: x * 2, range(10_000), chunksize=10)
        assert next(results) == 0
        pids = pool.worker_pids()
    assert gone_soon(pids) == []
    with pytest.raises(mf.PoolClosedError, match="closed"):
        list(results)
    time.sleep(0.2)
    assert children() - before == set()  # no pool was started to answer it


def test_an_abandoned_lazy_result_leaves_nothing_behind():
    before = children()
    with mf.Pool(2) as pool:
        results = pool.imap_unordered(lambda x: x + 1, range(100_000), chunksize=50)
        next(results)
        del results
        gc.collect()
        assert pool.map(abs, [-3]) == [3]  # the pool goes on serving after it
        pids = pool.worker_pids()
    assert gone_soon(pids) == []
    assert gone_soon(children() - before) == []


def test_a_dropped_pool_stops_its_workers():
    pool = mf.Pool(2)
    pool.map(abs, range(4))
    pids = pool.worker_pids()
    del pool
    gc.collect()
    assert gone_soon(pids) == []


def test_terminate_fails_pending_results_clearly():
    pool = mf.Pool(2)
    slow = pool.map_async(time.sleep, [0.5] * 8, chunksize=1)
    lazy = pool.imap(time.sleep, [0.2] * 10, chunksize=1)
    pids = pool.worker_pids()
    pool.terminate()
    assert gone_soon(pids) == []
    with pytest.raises(mf.PoolClosedError):
        slow.get(timeout=30)
    with pytest.raises(mf.PoolClosedError):
        list(lazy)


def test_terminate_ends_workers_whatever_sigterm_handler_the_driver_has():
    # Ray installs one that raises SystemExit; forked workers inherited it, and a task cut by
    # terminate() came back as "SystemExit: 15" instead of the pool's clear error (seen in a suite run)
    import signal

    def raise_exit(signum, frame):
        raise SystemExit(signum)

    previous = signal.signal(signal.SIGTERM, raise_exit)
    try:
        pool = mf.Pool(2)
        slow = pool.map_async(time.sleep, [0.5] * 8, chunksize=1)
        time.sleep(0.3)  # the workers are in their tasks
        pool.terminate()
        with pytest.raises(mf.PoolClosedError):
            slow.get(timeout=30)
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_async_work_finishes_before_the_with_block_ends():
    # multiprocessing terminates at the end of the block and loses this work; we finish it
    got = []
    with mf.Pool(2) as pool:
        result = pool.map_async(lambda x: x * x, range(100), callback=got.append)
    assert result.get(timeout=5) == [x * x for x in range(100)]
    assert got == [[x * x for x in range(100)]]


def run_script(body: str) -> subprocess.Popen:
    script = textwrap.dedent(body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)


def test_workers_are_gone_when_the_program_exits_without_closing():
    process = run_script("""
        import mapfold as mf
        pool = mf.Pool(2)
        pool.map(abs, range(10))
        print(*pool.worker_pids(), flush=True)
        lazy = pool.imap(abs, range(10**6))
        next(lazy)
    """)
    out, _ = process.communicate(timeout=60)
    pids = [int(p) for p in out.split()]
    assert process.returncode == 0 and len(pids) == 2
    assert gone_soon(pids) == []


def test_workers_die_with_a_killed_program():
    process = run_script("""
        import time
        import mapfold as mf
        pool = mf.Pool(2)
        pool.map(abs, range(10))
        print(*pool.worker_pids(), flush=True)
        pool.map_async(time.sleep, [60] * 4, chunksize=1)
        time.sleep(60)
    """)
    pids = [int(p) for p in process.stdout.readline().split()]
    assert len(pids) == 2 and alive(pids) == pids
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert gone_soon(pids) == []


def test_a_pool_cannot_be_sent_to_its_workers():
    with mf.Pool(2) as pool:
        with pytest.raises(mf.SerializationError, match="Pool cannot be sent"):
            pool.map(lambda x: pool.map(abs, [x]), [1])


def test_async_errors_reach_get_and_the_error_callback():
    errors = []
    with mf.Pool(2) as pool:
        result = pool.apply_async(int, ("not a number",), error_callback=errors.append)
        result.wait(timeout=30)
        assert result.ready() and not result.successful()
        with pytest.raises(ValueError, match="not a number"):
            result.get(timeout=30)
        pending = pool.apply_async(time.sleep, (2,))
        with pytest.raises(ValueError, match="not ready"):
            pending.successful()
        with pytest.raises(multiprocessing.TimeoutError):
            pending.get(timeout=0.05)
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    assert pending.successful()  # the block waited for it
