"""mapfold on the cluster runners next to the same engine used directly.

Two jobs, each run on one engine instance shared by both contenders (so
engine start-up is not measured):

* word count: text files -> words -> (word, 1) -> reduce by key -> count;
* reduce by key: generated (key, 1) records -> sum per key -> count.

Rows: mapfold on dask / spark / ray, Dask Bag, PySpark RDD (and mapfold's
local runners for scale). Best of ``--repeat`` runs after one warm-up, the
two contenders of an engine taking turns.

    python benchmarks/cluster.py --size-mb 32 --records 4000000

Targets (issue "cluster runners"): reduce by key on Spark within 10% of
PySpark's own reduceByKey; the dask runner faster than Dask Bag.
"""
from __future__ import annotations

import argparse
import operator
import os
import random
import sys
import time

import mapfold as mf

HERE = os.path.dirname(os.path.abspath(__file__))


# -- data -------------------------------------------------------------------
def make_text(folder: str, size_mb: int, files: int = 4) -> str:
    os.makedirs(folder, exist_ok=True)
    marker = os.path.join(folder, f".done-{size_mb}")
    if os.path.exists(marker):
        return folder
    rng = random.Random(42)
    vocabulary = [f"w{i}" for i in range(50_000)]
    cumulative, total = [], 0.0
    for i in range(len(vocabulary)):  # Zipf-like, as real text
        total += 1 / (i + 1)
        cumulative.append(total)
    per_file = size_mb * (1 << 20) // files
    for f in range(files):
        with open(os.path.join(folder, f"part-{f}.txt"), "w") as out:
            written = 0
            while written < per_file:
                line = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=12)) + "\n"
                out.write(line)
                written += len(line)
    open(marker, "w").close()
    return folder


def generate(index: int, per_partition: int, keys: int):
    start = index * per_partition
    return ((j * 2654435761 % keys, 1) for j in range(start, start + per_partition))


# -- contenders ----------------------------------------------------------------
def mapfold_wordcount(folder, runner, partitions):
    return (mf.read_text(folder, min_partitions=partitions).flat_map(str.split).map(lambda w: (w, 1))
            .reduce_by_key(operator.add, partitions=partitions).count(runner=runner))


def mapfold_reduce_by_key(records, keys, partitions, runner):
    per = records // partitions
    return (mf.from_sequence(range(partitions), partitions=partitions).flat_map(lambda i: generate(i, per, keys))
            .reduce_by_key(operator.add, partitions=partitions).count(runner=runner))


def spark_wordcount(sc, folder, partitions):
    return (sc.textFile(folder, minPartitions=partitions).flatMap(str.split).map(lambda w: (w, 1))
            .reduceByKey(operator.add, numPartitions=partitions).count())


def spark_reduce_by_key(sc, records, keys, partitions):
    per = records // partitions
    return (sc.parallelize(range(partitions), partitions).flatMap(lambda i: generate(i, per, keys))
            .reduceByKey(operator.add, numPartitions=partitions).count())


def bag_wordcount(client, folder, partitions):
    import dask.bag as db

    size = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder) if n.endswith(".txt"))
    bag = db.read_text(os.path.join(folder, "*.txt"), blocksize=max(1 << 20, size // partitions))
    return len(bag.str.split().flatten().frequencies().compute(scheduler=client))


def bag_reduce_by_key(client, records, keys, partitions):
    import dask.bag as db

    per = records // partitions
    bag = db.from_sequence(range(partitions), npartitions=partitions).map_partitions(
        lambda part: [kv for i in part for kv in generate(i, per, keys)])
    folded = bag.foldby(operator.itemgetter(0), lambda acc, kv: acc + kv[1], 0, operator.add, 0)
    return len(folded.compute(scheduler=client))


def best(fns: list, repeat: int) -> list:
    """Best time and result of each function; the contenders take turns
    (A B A B ...) so that load from elsewhere on the machine hits both alike."""
    for fn in fns:
        fn()  # warm-up: workers import, JIT, caches
    times: list[list[float]] = [[] for _ in fns]
    results: list = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - start)
    return [(min(t), r) for t, r in zip(times, results)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=32, help="word count input size")
    parser.add_argument("--records", type=int, default=4_000_000, help="reduce-by-key records")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default="dask,spark,ray,local")
    parser.add_argument("--jobs", default="wordcount,reduce")
    args = parser.parse_args(argv)
    os.environ.setdefault("MAPFOLD_PROGRESS", "0")
    engines = args.engines.split(",")
    folder = make_text(os.path.join(HERE, "data", "cluster-text"), args.size_mb)
    n, k, p = args.records, args.keys, args.partitions
    rows = []  # (job, engine, contender, seconds, result)

    def run(job, engine, *contenders):
        """``contenders``: (name, function) pairs, measured in turns."""
        if ("word" in job and "wordcount" not in args.jobs) or ("reduce" in job and "reduce" not in args.jobs):
            return
        measured = best([fn for _, fn in contenders], args.repeat)
        for (contender, _), (seconds, result) in zip(contenders, measured):
            rows.append((job, engine, contender, seconds, result))
            print(f"{job:14} {engine:9} {contender:22} {seconds:8.2f}s  ({result})", file=sys.stderr, flush=True)

    if "local" in engines:
        with mf.runner("processes", workers=args.workers) as local:
            run("word count", "local", ("mapfold processes", lambda: mapfold_wordcount(folder, local, p)))
            run("reduce by key", "local", ("mapfold processes", lambda: mapfold_reduce_by_key(n, k, p, local)))
    if "dask" in engines:
        from mapfold.runners.dask import DaskRunner

        with DaskRunner(workers=args.workers) as dask:
            client = dask.client
            run("word count", "dask", ("mapfold dask", lambda: mapfold_wordcount(folder, dask, p)),
                ("Dask Bag", lambda: bag_wordcount(client, folder, p)))
            run("reduce by key", "dask", ("mapfold dask", lambda: mapfold_reduce_by_key(n, k, p, dask)),
                ("Dask Bag", lambda: bag_reduce_by_key(client, n, k, p)))
    if "spark" in engines:
        from mapfold.runners.spark import SparkRunner

        with SparkRunner(master=f"local[{args.workers}]", conf={"spark.ui.enabled": "false"}) as spark:
            sc = spark.context
            run("word count", "spark", ("mapfold spark", lambda: mapfold_wordcount(folder, spark, p)),
                ("PySpark RDD", lambda: spark_wordcount(sc, folder, p)))
            run("reduce by key", "spark", ("mapfold spark", lambda: mapfold_reduce_by_key(n, k, p, spark)),
                ("PySpark RDD", lambda: spark_reduce_by_key(sc, n, k, p)))
    if "ray" in engines:
        from mapfold.runners.ray import RayRunner

        with RayRunner(num_cpus=args.workers) as ray_runner:
            run("word count", "ray", ("mapfold ray", lambda: mapfold_wordcount(folder, ray_runner, p)))
            run("reduce by key", "ray", ("mapfold ray", lambda: mapfold_reduce_by_key(n, k, p, ray_runner)))

    print(f"\n{args.size_mb} MB of text, {n:,} records over {k:,} keys, {p} partitions, {args.workers} workers; "
          f"best of {args.repeat}\n")
    print("| job | engine | contender | seconds | mapfold / native |")
    print("| --- | --- | --- | ---: | ---: |")
    native = {(job, engine): s for job, engine, c, s, _ in rows if not c.startswith("mapfold")}
    for job, engine, contender, seconds, _ in rows:
        base = native.get((job, engine))
        ratio = f"{seconds / base:.2f}" if base and contender.startswith("mapfold") else ""
        print(f"| {job} | {engine} | {contender} | {seconds:.2f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
