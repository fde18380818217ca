"""Benchmark: reduce_by_key (sum) and group_by_key (+ len) over skewed keys.

Data: ``--lines`` lines ``key<TAB>int`` (default 20 million; Zipf 0.9 keys
over lines/10 distinct keys: ~2 million at the default), from
``benchmarks/data.py``. Every contender reads the file, parses the lines,
computes per key the sum (or the number) of the values and brings the
``(key, result)`` pairs back to the calling process:

* ``serial dict``: the best of a few plain-Python single-process loops;
* ``multiprocessing``: a ``multiprocessing.Pool`` of ``--workers``, each
  worker combining a byte range into per-bucket dicts (``hash(key) %
  workers``: the same in forked workers), then one reduce task per bucket;
* ``mapfold``: ``read_text(...).map(parse).reduce_by_key(operator.add)``
  on the processes runner with ``--workers`` workers: a Python function
  parses every line, as in the PySpark and Dask contenders;
* ``mapfold kv``: ``read_key_value(path, value=int).reduce_by_key(operator.add)``:
  the lines are parsed by Arrow and summed in Arrow on the map side
  (``io/keyvalue.py``, ``shuffle/columnar.py``); for ``group_by_key`` the
  pairs are made from Arrow's columns;
* ``dask bag`` (``foldby``, ``groupby``; processes scheduler) and
  ``pyspark`` (``reduceByKey``, ``groupByKey``; ``local[workers]``) when
  importable. Their start-up (SparkContext, JVM) is not timed.

Each contender runs in a fresh child process (``harness.py``): ``wall`` is
the whole child process (interpreter and JVM start-up included), ``work``
the timed work inside it, ``cpu`` the CPU time of the child and all it
reaped (pool workers, JVM), ``peak MB`` the largest RSS of the whole
process tree, sampled every 50 ms (RSS counts pages shared by forked
workers once per process, so it errs high). The serial dict's loops
each run in their own process and the fastest is the anchor.

    python benchmarks/reduce_by_key.py --lines 2000000

What it showed (2 cores shared with other jobs): with a Python ``parse``
per line, a map task's time is dominated by the dict updates, exactly as
the serial loop's (a table of ~1 million keys misses the CPU caches either
way), plus the call of ``parse`` (~0.1 us a line); per line mapfold's map
side costs ~1.1-1.2x the serial loop, before any shuffle. So two cores give
at best ~0.65x of the serial wall time on that path, measured 0.73-1.0x at
20 M lines depending on the host's load. Pickling shuffle chunks without the
memo, in columns, cut the per-key cost of writing and reading a table 4-15x.
``mapfold kv`` removes the per-line Python work: Arrow parses the lines and
sums int64 values by key in C++, and only each task's distinct keys become
Python objects: 0.49x of the serial dict at 20 M lines (0.58x with a
244 MiB budget per worker, flushing partial sums). Earlier findings that
became code: streaming records through the combine loop instead of batch
lists (2x), pausing full garbage collections while tables grow (25-45% of
CPU, ``shuffle/memory.py``).
"""
from __future__ import annotations

import argparse
import importlib.util
import operator
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import emit, machine, measure  # noqa: E402

TASKS = ("reduce_by_key sum", "group_by_key + len")
EXTRA: dict = {}  # what a contender reports besides its time (mapfold: budget, spilled bytes)


# -- parsing (shared by the Python contenders) -------------------------------------
def parse(line: str):
    key, value = line.split("\t")
    return key, int(value)


def checksum(pairs) -> tuple[int, int]:
    n = total = 0
    for _, value in pairs:
        n += 1
        total += value
    return n, total


# -- contenders: each returns the (key, result) pairs ----------------------------------
def serial_sum_get(path):
    table = {}
    get = table.get
    with open(path) as f:
        for line in f:
            key, value = line.split("\t")
            table[key] = get(key, 0) + int(value)
    return table.items()


def serial_sum_defaultdict(path):
    from collections import defaultdict

    table = defaultdict(int)
    with open(path) as f:
        for line in f:
            key, value = line.split("\t")
            table[key] += int(value)
    return table.items()


def serial_sum_in(path):
    table = {}
    with open(path) as f:
        for key, value in map(operator.methodcaller("split", "\t"), f):
            if key in table:
                table[key] += int(value)
            else:
                table[key] = int(value)
    return table.items()


def serial_group_lists(path):
    from collections import defaultdict

    table = defaultdict(list)
    with open(path) as f:
        for line in f:
            key, value = line.split("\t")
            table[key].append(int(value))
    return [(k, len(v)) for k, v in table.items()]


def serial_group_get(path):
    table = {}
    get = table.get
    with open(path) as f:
        for line in f:
            key, value = line.split("\t")
            group = get(key)
            if group is None:
                table[key] = [int(value)]
            else:
                group.append(int(value))
    return [(k, len(v)) for k, v in table.items()]


SERIAL_SUM = [serial_sum_get, serial_sum_defaultdict, serial_sum_in]
SERIAL_GROUP = [serial_group_lists, serial_group_get]


def _byte_ranges(path, pieces):
    size = os.path.getsize(path)
    step = -(-size // pieces)
    return [(path, start, min(size, start + step)) for start in range(0, size, step)]


def _read_range(path, start, end):
    with open(path, "rb") as f:
        if start:
            f.seek(start - 1)
            f.readline()  # the line that started before `start` belongs to the previous range
        while f.tell() < end:
            line = f.readline()
            if not line:
                break
            yield line.decode()


def _mp_map(args):
    path, start, end, buckets, group = args
    tables = [{} for _ in range(buckets)]
    for line in _read_range(path, start, end):
        key, value = line.split("\t")
        table = tables[hash(key) % buckets]
        if group:
            table.setdefault(key, []).append(int(value))
        else:
            table[key] = table.get(key, 0) + int(value)
    return tables


def _mp_reduce(args):
    tables, group = args
    out = {}
    for table in tables:
        for key, value in table.items():
            if group:
                out.setdefault(key, []).extend(value)
            else:
                out[key] = out.get(key, 0) + value
    return [(k, len(v)) for k, v in out.items()] if group else list(out.items())


def multiprocessing_run(path, workers, group):
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        maps = pool.map(_mp_map, [(p, s, e, workers, group) for p, s, e in _byte_ranges(path, 2 * workers)])
        reduced = pool.map(_mp_reduce, [([m[b] for m in maps], group) for b in range(workers)])
    return [pair for part in reduced for pair in part]


def mapfold_run(path, workers, group, memory_limit, columns=False):
    import mapfold as mf

    options = {"workers": workers}
    if memory_limit:
        options["memory_limit"] = memory_limit
    with mf.runner("processes", **options) as runner, WorkerPeak() as workers_peak:
        pairs = mf.read_key_value(path, value=int) if columns else mf.read_text(path).map(parse)
        result = pairs.group_by_key().map_values(len) if group else pairs.reduce_by_key(operator.add)
        out = result.collect(runner=runner)
        stats = result._last_job.stats
    EXTRA.update(spilled_bytes=stats["spilled_bytes"], memory_limit=stats["memory_limit"].value,
                 worker_peak=workers_peak.peak)
    return out


class WorkerPeak:
    """The largest RSS of any one child process (a worker), sampled every 100 ms
    (sampling every 20 ms cost the run ~30% of its wall time on 2 cores):
    what the per-worker memory budget bounds (plus the interpreter and the
    task's output)."""

    def __enter__(self):
        import threading

        import psutil

        self.peak, self._stop = 0, threading.Event()
        me = psutil.Process()

        def sample():
            while not self._stop.is_set():
                for child in me.children():
                    try:
                        self.peak = max(self.peak, child.memory_info().rss)
                    except psutil.Error:
                        pass
                self._stop.wait(0.1)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def dask_run(path, workers, group):
    import dask
    import dask.bag as db

    blocksize = max(1 << 20, os.path.getsize(path) // (2 * workers) + 1)
    pairs = db.read_text(path, blocksize=blocksize).map(parse)
    with dask.config.set(scheduler="processes", num_workers=workers):
        if group:
            return pairs.groupby(operator.itemgetter(0)).map(lambda kv: (kv[0], len(kv[1]))).compute()
        return pairs.foldby(operator.itemgetter(0), lambda acc, kv: acc + kv[1], 0, operator.add, 0).compute()


def spark_context(workers):
    from pyspark import SparkConf, SparkContext

    conf = (SparkConf().setMaster(f"local[{workers}]").setAppName("mapfold-bench")
            .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false").set("spark.driver.memory", "4g"))
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    return sc


def spark_run(sc, path, workers, group):
    pairs = sc.textFile(path, 2 * workers).map(parse)
    if group:
        return pairs.groupByKey().mapValues(len).collect()
    return pairs.reduceByKey(operator.add).collect()


# -- child: run one contender, emit its timing ----------------------------------------------
def child(name, task, path, workers, memory_limit):
    group = task == TASKS[1]
    setup = None
    if name == "pyspark":
        setup = spark_context(workers)  # JVM start-up: not in the "work" time
    serial = SERIAL_GROUP if group else SERIAL_SUM
    if name.startswith("serial dict:"):  # one loop per process, so each gets a fair wall and peak
        serial = [fn for fn in serial if fn.__name__ == name.split(":", 1)[1]]
        name = "serial dict"
    variants = {
        "serial dict": serial,
        "multiprocessing": [lambda p: multiprocessing_run(p, workers, group)],
        "mapfold": [lambda p: mapfold_run(p, workers, group, memory_limit)],
        "mapfold kv": [lambda p: mapfold_run(p, workers, group, memory_limit, columns=True)],
        "dask bag": [lambda p: dask_run(p, workers, group)],
        "pyspark": [lambda p: spark_run(setup, p, workers, group)],
    }[name]
    best = None
    for fn in variants:  # the serial dict's best loop, measured in the same process
        start = time.perf_counter()
        result = checksum(fn(path))
        work = time.perf_counter() - start
        if best is None or work < best["work"]:
            best = {"work": work, "result": result, "variant": fn.__name__}
    if setup is not None:
        setup.stop()
    emit({**best, **EXTRA})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20_000_000)
    parser.add_argument("--keys", type=int, default=None, help="distinct keys (default lines / 10)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default=None, help="mapfold's shuffle budget per worker, e.g. 256MB")
    parser.add_argument("--only", default=None, help="comma-separated contenders")
    parser.add_argument("--tasks", default="sum,group", help="sum, group or both (comma-separated)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.task, args.path, args.workers, args.memory_limit)

    from data import key_value_lines

    path = key_value_lines(args.lines, args.keys)
    names = ["serial dict", "multiprocessing", "mapfold", "mapfold kv", "dask bag", "pyspark"]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    tasks = [t for t, short in zip(TASKS, ("sum", "group")) if short in args.tasks.split(",")]
    print(f"data: {path} ({os.path.getsize(path) / 1e6:.0f} MB, {args.lines:,} lines); {args.workers} workers")
    for task in tasks:
        rows = {}
        for name in names:
            module = {"dask bag": "dask.bag", "pyspark": "pyspark"}.get(name)
            if module and importlib.util.find_spec(module.split(".")[0]) is None:
                rows[name] = {"ok": False, "error": "not installed (pip install '.[bench]')"}
                continue
            runs = [name]
            if name == "serial dict":  # each loop in its own process; the fastest is the anchor
                runs = [f"serial dict:{fn.__name__}" for fn in (SERIAL_GROUP if task == TASKS[1] else SERIAL_SUM)]
            for run in runs:
                argv = [sys.executable, os.path.abspath(__file__), "--child", run, "--task", task, "--path", path,
                        "--workers", str(args.workers)]
                if args.memory_limit:
                    argv += ["--memory-limit", args.memory_limit]
                result = measure(argv)
                print(f"  {task}, {run}: {result.get('wall', 0):.2f} s", file=sys.stderr, flush=True)
                best = rows.get(name)
                if best is None or not best.get("ok") or (result.get("ok") and result["wall"] < best["wall"]):
                    rows[name] = result
        report(task, rows)


def report(task, rows):
    results = {tuple(r["result"]) for r in rows.values() if r.get("ok")}
    agree = "results agree" if len(results) == 1 else "RESULTS DIFFER"
    keys = next(iter(results))[0] if results else "?"
    mapfold, serial = rows.get("mapfold", {}), rows.get("serial dict", {})
    print(f"\n{task}: {keys} keys, {agree}\n{machine()}")
    print(f"{'contender':<17}{'wall s':>8}{'work s':>8}{'cpu s':>8}{'peak MB':>9}{'wall/mapfold':>14}  notes")
    for name, r in rows.items():
        if not r.get("ok"):
            print(f"{name:<17}{'-':>8}{'-':>8}{'-':>8}{'-':>9}{'-':>14}  {r.get('error', 'failed')}")
            continue
        ratio = f"{r['wall'] / mapfold['wall']:.2f}" if mapfold.get("ok") else "-"
        notes = r.get("variant", "") if name == "serial dict" else ""
        if name.startswith("mapfold"):
            notes = (f"budget {r['memory_limit'] / 2**20:.0f} MiB/worker, largest worker "
                     f"{r['worker_peak'] / 2**20:.0f} MiB, spilled {r['spilled_bytes'] / 1e6:.0f} MB")
        print(f"{name:<17}{r['wall']:>8.2f}{r['work']:>8.2f}{r['cpu']:>8.2f}{r['peak_mb']:>9.0f}{ratio:>14}  {notes}")
    for name in ("mapfold", "mapfold kv"):
        row = rows.get(name, {})
        if row.get("ok") and serial.get("ok"):
            print(f"{name} / best serial dict: wall {row['wall'] / serial['wall']:.2f}x, "
                  f"work {row['work'] / serial['work']:.2f}x (target: wall <= 0.6x)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
