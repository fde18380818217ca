"""Word count: mapfold against its anchors on the same file, in one run.

    python benchmarks/wordcount.py --size-mb 256 [--workers 2] [--only a,b]

Contenders (each in a fresh process; see harness.py):
  serial-best      the best serial Python we found: 64 KB newline-aligned
                   blocks, str.split, Counter.update (all in C; beat 16 MB
                   blocks by 25% and line-by-line splitting by 5-10% here)
  mp-byte-ranges   multiprocessing.Pool over 16 byte ranges, a Counter per
                   range, merged in the parent
  mapfold-serial   read_text().flat_map(str.split).count_by_value(), serial
  mapfold-processes  the same on the processes runner
  dask-bag         Dask Bag, processes scheduler (if dask is installed)
  pyspark          PySpark RDD, local[N] (if pyspark is installed)
  mapfold-dask     mapfold on the dask runner (LocalCluster of N processes)
  dask-bag-cluster Dask Bag on the same kind of LocalCluster
  mapfold-spark    mapfold on the spark runner, local[N]
  mapfold-ray      mapfold on the ray runner, a local Ray with N CPUs
Every contender's result is checked against serial-best's (total words and
the top 20), so a fast wrong answer cannot win.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import emit, measure, print_table  # noqa: E402

BLOCK = 64 << 10


def summary(counts) -> dict:
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    return {"total": sum(counts.values()), "distinct": len(counts), "top": top}


def serial_best(path, workers):
    counts = Counter()
    with open(path, encoding="utf-8") as f:
        while True:
            block = f.read(BLOCK)
            if not block:
                break
            block += f.readline()
            counts.update(block.split())
    return counts


def _count_range(args):
    path, start, end = args
    counts = Counter()
    with open(path, "rb") as f:
        if start:
            f.seek(start - 1)
            f.readline()
        while f.tell() < end:
            want = min(BLOCK, end - f.tell())
            block = f.read(want) + f.readline()
            counts.update(block.decode("utf-8").split())
    return counts


def mp_byte_ranges(path, workers):
    import multiprocessing

    size = os.path.getsize(path)
    step = -(-size // 16)
    ranges = [(path, s, min(size, s + step)) for s in range(0, size, step)]
    counts = Counter()
    with multiprocessing.Pool(workers) as pool:
        for part in pool.imap_unordered(_count_range, ranges):
            counts.update(part)
    return counts


def mapfold_serial(path, workers):
    import mapfold as mf

    return mf.read_text(path).flat_map(str.split).count_by_value(runner="serial")


def mapfold_processes(path, workers):
    import mapfold as mf

    with mf.runner("processes", workers=workers):
        return mf.read_text(path).flat_map(str.split).count_by_value()


def dask_bag(path, workers):
    import dask
    import dask.bag as db

    with dask.config.set(scheduler="processes", num_workers=workers):
        return dict(db.read_text(path, blocksize="32MiB").str.split().flatten().frequencies().compute())


def pyspark(path, workers):
    import operator

    from pyspark import SparkConf, SparkContext

    conf = SparkConf().setMaster(f"local[{workers}]").setAppName("wordcount").set("spark.ui.enabled", "false")
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    try:
        pairs = sc.textFile(path).flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add).collect()
        return dict(pairs)
    finally:
        sc.stop()


def mapfold_dask(path, workers):
    import mapfold as mf

    with mf.runner("dask", workers=workers):  # a LocalCluster of worker processes
        return mf.read_text(path).flat_map(str.split).count_by_value()


def dask_bag_cluster(path, workers):
    import dask.bag as db
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        bag = db.read_text(path, blocksize="32MiB").str.split().flatten().frequencies()
        return dict(bag.compute(scheduler=client))


def mapfold_spark(path, workers):
    import mapfold as mf

    with mf.runner("spark", master=f"local[{workers}]", conf={"spark.ui.enabled": "false"}, log_level="ERROR"):
        return mf.read_text(path).flat_map(str.split).count_by_value()


def mapfold_ray(path, workers):
    import mapfold as mf

    with mf.runner("ray", num_cpus=workers):
        return mf.read_text(path).flat_map(str.split).count_by_value()


CONTENDERS = {
    "serial-best": serial_best,
    "mp-byte-ranges": mp_byte_ranges,
    "mapfold-serial": mapfold_serial,
    "mapfold-processes": mapfold_processes,
    "dask-bag": dask_bag,
    "pyspark": pyspark,
    "mapfold-dask": mapfold_dask,
    "dask-bag-cluster": dask_bag_cluster,
    "mapfold-spark": mapfold_spark,
    "mapfold-ray": mapfold_ray,
}
OPTIONAL = {"dask-bag": "dask", "pyspark": "pyspark", "mapfold-dask": "distributed",
            "dask-bag-cluster": "distributed", "mapfold-spark": "pyspark", "mapfold-ray": "ray"}


def run_one(name, path, workers):
    start = time.perf_counter()
    counts = CONTENDERS[name](path, workers)
    emit({"inner": time.perf_counter() - start, **summary(counts)})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated contenders")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        return run_one(args.run, args.path, args.workers)
    from corpus import corpus_path

    path = corpus_path(args.size_mb)
    names = [n for n in (args.only.split(",") if args.only else CONTENDERS)]
    rows, reference = [], None
    for name in names:
        module = OPTIONAL.get(name)
        if module:
            import importlib.util

            if importlib.util.find_spec(module) is None:
                rows.append((name, {"ok": False, "error": f"not installed (pip install '.[bench]')"}))
                continue
        result = measure([sys.executable, __file__, "--run", name, "--path", path, "--workers", str(args.workers)])
        if result.get("ok"):
            if reference is None:
                reference = (result["total"], result["top"])
            elif (result["total"], result["top"]) != reference:
                result = {"ok": False, "error": "WRONG RESULT"}
        rows.append((name, result))
        print(f"  {name}: {result.get('wall', 0):.2f} s", file=sys.stderr, flush=True)
    print_table(f"word count, {args.size_mb} MB corpus, {args.workers} workers", rows, "serial-best")
    from ceiling import main as ceiling  # what 2 processes can gain on this machine at all

    ceiling()


if __name__ == "__main__":
    main()
