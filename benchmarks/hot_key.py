"""A hot key under the shuffle's memory budget, on every runner that has one.

``group_by_key`` over ``--records`` records, half of them on one key (the
rest spread over ``--keys`` keys), at ``memory_limit=--memory-limit`` on the
processes, dask and spark runners (issue 9: one shuffle on every engine, a
hot key must not exhaust a worker). The groups are consumed inside the job
(``map_values(len)``), as a group larger than memory is meant to be.

While each job runs, a thread samples every 100 ms the resident size of each
Python worker process under this one (pool workers, Dask's worker processes,
PySpark's Python workers; not the JVM, which Spark sizes itself): the table
gives each runner's largest worker at rest (after the engine started, before
the job) and at its peak. The budget bounds what the shuffle holds; the rest
of a worker is the interpreter, the engine's own machinery and I/O buffers.

    python benchmarks/hot_key.py                      # 10 M records
    python benchmarks/hot_key.py --records 1000000 --runners processes,dask
    python benchmarks/hot_key.py --memory-limit 64MB --runners dask --shuffle storage

Not a test: speed and memory are measured here, never asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import mapfold as mf
from mapfold.core.config import format_size, parse_size
from mapfold.runners import make_runner

try:
    import psutil
except ImportError:  # read /proc instead
    psutil = None

HOT = "hot"


class Records:
    """Partition ``i``'s records: every other one on the hot key (picklable, made in the workers)."""

    def __init__(self, per_partition: int, keys: int):
        self.per_partition, self.keys = per_partition, keys

    def __call__(self, index: int):
        start = index * self.per_partition
        keys = self.keys
        for j in range(start, start + self.per_partition):
            yield (HOT if j % 2 == 0 else j * 2654435761 % keys), j


# -- sampling workers' memory ---------------------------------------------------
def _children(pid: int) -> list[int]:
    """Every descendant of ``pid``."""
    if psutil is not None:
        try:
            return [p.pid for p in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            return []
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(name))
    found, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _python_rss(pid: int) -> int | None:
    """Resident bytes of ``pid`` if it is a Python process, else None."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            program = os.path.basename(f.read().split(b"\0", 1)[0].decode(errors="replace"))
        if not program.startswith("python"):
            return None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class PeakSampler:
    """The largest resident size of each Python worker under this process, sampled."""

    def __init__(self, every: float = 0.1):
        self.every = every
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        for pid in _children(os.getpid()):
            rss = _python_rss(pid)
            if rss is not None and rss > self.peaks.get(pid, 0):
                self.peaks[pid] = rss

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def largest(self) -> int:
        return max(self.peaks.values(), default=0)


def at_rest() -> int:
    """The largest Python worker's resident size right now."""
    sampler = PeakSampler()
    sampler.sample()
    return sampler.largest


# -- the job ----------------------------------------------------------------------
RUNNER_OPTIONS = {
    "processes": lambda workers: {"workers": workers},
    "dask": lambda workers: {"workers": workers},
    "spark": lambda workers: {"master": f"local[{workers}]", "conf": {"spark.ui.enabled": "false"}},
    "ray": lambda workers: {"num_cpus": workers},
}


def run(name: str, args) -> dict:
    per_partition = args.records // args.partitions
    total = per_partition * args.partitions
    options = RUNNER_OPTIONS[name](args.workers)
    if args.shuffle and name in ("dask", "ray"):  # the shuffle's transport: the engine's (bytes), or files
        options["shuffle"] = args.shuffle
    runner = make_runner(name, memory_limit=args.memory_limit, **options)
    try:
        start = getattr(runner, "start", None)
        if start is not None:
            start()
        # a tiny job first, so the workers exist (and have imported mapfold) before "at rest"
        mf.from_sequence(range(args.workers * 2), partitions=args.workers * 2).count(runner=runner)
        time.sleep(0.5)
        rest = at_rest()
        ds = (mf.from_sequence(range(args.partitions), partitions=args.partitions)
              .flat_map(Records(per_partition, args.keys))
              .group_by_key(partitions=args.reduce_partitions)
              .map_values(len))
        began = time.perf_counter()
        with PeakSampler() as sampler:
            sizes = dict(ds.collect(runner=runner))
        seconds = time.perf_counter() - began
        run_record = ds.last_run
    finally:
        runner.close()
    assert sum(sizes.values()) == total, (sum(sizes.values()), total)
    assert sizes[HOT] == (total + 1) // 2, sizes[HOT]
    return {"runner": name, "seconds": seconds, "workers": len(sampler.peaks), "rest": rest,
            "peak": sampler.largest, "spilled": run_record.spilled_bytes}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--keys", type=int, default=100_000, help="distinct keys of the cold half")
    parser.add_argument("--partitions", type=int, default=8, help="map tasks")
    parser.add_argument("--reduce-partitions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="128MB")
    parser.add_argument("--runners", default="processes,dask,spark")
    parser.add_argument("--shuffle", choices=["engine", "storage"], default=None,
                        help="dask and ray: move the buckets as the engine's objects (default) or as shared files")
    args = parser.parse_args(argv)
    budget = parse_size(args.memory_limit)
    print(f"group_by_key of {args.records:,} records, half on one key; memory_limit={format_size(budget)}; "
          f"{args.workers} workers; RSS sampled with {'psutil' if psutil else '/proc'}", flush=True)
    rows = []
    for name in args.runners.split(","):
        try:
            rows.append(run(name.strip(), args))
        except mf.MapfoldError as exc:
            print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        row = rows[-1]
        print(f"{row['runner']:<10} {row['seconds']:7.1f} s   largest worker: {format_size(row['rest'])} at rest, "
              f"{format_size(row['peak'])} peak (+{format_size(max(0, row['peak'] - row['rest']))}; budget "
              f"{format_size(budget)})   spilled {format_size(row['spilled'])}   "
              f"{row['workers']} Python workers sampled", flush=True)


if __name__ == "__main__":
    main()
