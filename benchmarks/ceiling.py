"""How much faster can 2 processes be on this machine? (the parallel ceiling)

    python benchmarks/ceiling.py

Times a fixed pure-Python loop in one process, then in N processes at once.
If the cores share execution resources (SMT siblings, a throttled host),
each process runs slower when the others run, and no N-process job can beat
``(time together) / N`` of the serial time, whatever the framework.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import time


def work(_=None) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def main(repeat: int = 5) -> None:
    n = os.cpu_count() or 1
    alone = statistics.median(work() for _ in range(repeat))
    with mp.Pool(n) as pool:
        together = statistics.median(max(pool.map(work, range(n))) for _ in range(repeat))
    print(f"{n} cores; one process alone: {alone:.3f} s; {n} at once: {together:.3f} s each "
          f"({together / alone:.2f}x slower)")
    print(f"best possible {n}-process wall time for CPU-bound work: {together / alone / n:.2f}x of serial")


if __name__ == "__main__":
    main()
