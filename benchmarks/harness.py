"""Run contenders in fresh processes; measure wall, CPU and peak memory.

Each contender runs as ``python BENCHMARK --run NAME ...`` in its own
process, so one's pool, JVM or cache cannot help or hurt another. The
parent samples the RSS of the whole process tree (every 50 ms) for peak
memory, and takes CPU time from ``wait4`` (the child plus every descendant
it reaped: pool workers, the JVM).
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time

import psutil

__all__ = ["measure", "print_table", "machine"]


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        for p in [proc] + proc.children(recursive=True):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def measure(argv: list[str], timeout: float = 1800) -> dict:
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    proc = psutil.Process(child.pid)
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(proc))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": peak[0] / 1e6, "ok": child.returncode == 0}
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if lines:
        result.update(json.loads(lines[-1][len("RESULT "):]))
    return result


def machine() -> str:
    return (f"{platform.node()}: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
            f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}")


def print_table(title: str, rows: list[tuple[str, dict]], anchor: str) -> None:
    base = dict(rows).get(anchor)
    print(f"\n{title}\n{machine()}")
    print(f"{'contender':<38} {'wall s':>8} {'cpu s':>8} {'peak MB':>9} {'wall / ' + anchor:>24}")
    for name, r in rows:
        if not r.get("ok"):
            print(f"{name:<38} {'failed':>8}  {r.get('error', '')}")
            continue
        ratio = f"{r['wall'] / base['wall']:.2f}x" if base and base.get("ok") else "-"
        print(f"{name:<38} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['peak_mb']:>9.0f} {ratio:>24}")
    sys.stdout.flush()


def emit(payload: dict) -> None:
    print("RESULT " + json.dumps(payload), flush=True)
