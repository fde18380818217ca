"""Benchmark: 10 PageRank iterations over a generated 2-million-link graph.

mapfold (``examples/pagerank.py``: group_by_key, persist, join, flat_map,
reduce_by_key; processes runner) next to a scipy sparse power iteration
(the reference: the ranks must agree to 1e-9) and, when pyspark is
importable, the classic PySpark RDD PageRank in the same shape
(groupByKey().cache(), join, flatMap, reduceByKey) on
``local[workers]``. Wall and CPU seconds (this process and its workers,
or the JVM and its Python workers; psutil) per contender. In both, the links are partitioned once and each
iteration's join finds them co-partitioned with the ranks, so only the
shares are shuffled. Spark's start-up is not timed.

    python benchmarks/pagerank.py --edges 2000000
"""
from __future__ import annotations

import argparse
import operator
import os
import sys
import time
from itertools import repeat

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))

import pagerank as example  # noqa: E402  (examples/pagerank.py)

import mapfold as mf  # noqa: E402


def tree_cpu() -> float | None:
    """CPU seconds of this process and its live descendants (workers, a JVM),
    with the children they reaped; ``None`` without psutil."""
    try:
        import psutil
    except ImportError:
        return None
    total = 0.0
    me = psutil.Process()
    for proc in [me] + me.children(recursive=True):
        try:
            times = proc.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def spark_pagerank(sc, edges, iterations, damping, partitions):
    # partitioned once and cached; the ranks share the partitioner, so joins leave the links in place
    links = sc.parallelize(edges, partitions).groupByKey(partitions).cache()
    nodes = links.count()
    ranks = links.mapValues(lambda _: 1.0 / nodes)
    base = (1 - damping) / nodes
    for _ in range(iterations):
        # each page's shares as examples/pagerank.py makes them (pairs zipped in C)
        shares = links.join(ranks, partitions).flatMap(
            lambda kv: zip(kv[1][0], repeat(kv[1][1] / len(kv[1][0]))))
        ranks = shares.reduceByKey(operator.add, partitions).mapValues(lambda r: base + damping * r)
    out = dict(ranks.collect())
    links.unpersist()
    return out


def main():
    parser = argparse.ArgumentParser(description="PageRank benchmark")
    parser.add_argument("--edges", type=int, default=2_000_000)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    graph = example.make_graph(args.edges)
    print(f"graph: {args.edges:,} links over {args.edges // 10:,} pages, generated in "
          f"{time.perf_counter() - start:.1f} s; {args.iterations} iterations; {args.workers} workers")
    rows = []

    start, cpu = time.perf_counter(), tree_cpu()
    reference = example.scipy_pagerank(graph, args.iterations)
    rows.append(("scipy sparse", time.perf_counter() - start, 0.0, _spent(cpu)))

    partitions = 2 * args.workers
    with mf.runner("processes", workers=args.workers) as runner:
        start, cpu = time.perf_counter(), tree_cpu()
        ranks = example.pagerank(mf.from_sequence(graph, partitions=partitions), args.iterations,
                                 runner=runner, partitions=partitions)
        took, cpu = time.perf_counter() - start, _spent(cpu)  # before the workers end
    rows.append(("mapfold processes", took, max(abs(ranks[p] - reference[p]) for p in reference), cpu))

    if not args.no_spark:
        try:
            from pyspark import SparkConf, SparkContext
        except ImportError:
            rows.append(("pyspark", None, "not importable", None))
        else:
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            conf = (SparkConf().setMaster(f"local[{args.workers}]").setAppName("pagerank")
                    .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false").set("spark.driver.memory", "4g"))
            sc = SparkContext(conf=conf)
            sc.setLogLevel("ERROR")
            try:
                start, cpu = time.perf_counter(), tree_cpu()
                ranks = spark_pagerank(sc, graph, args.iterations, 0.85, partitions)
                took, cpu = time.perf_counter() - start, _spent(cpu)
                rows.append(("pyspark RDD", took, max(abs(ranks[p] - reference[p]) for p in reference), cpu))
            finally:
                sc.stop()

    mapfold_time = rows[1][1]
    print(f"{'contender':<20}{'wall s':>9}{'/ mapfold':>11}{'cpu s':>9}{'max |rank diff|':>18}")
    for name, took, diff, cpu in rows:
        if took is None:
            print(f"{name:<20}{'-':>9}{'-':>11}{'-':>9}  {diff}")
        else:
            shown = "-" if cpu is None else f"{cpu:.2f}"
            print(f"{name:<20}{took:>9.2f}{took / mapfold_time:>11.2f}{shown:>9}{diff:>18.1e}")
    print(f"mapfold / scipy: {mapfold_time / rows[0][1]:.2f}x wall"
          + (f", {rows[1][3] / rows[0][3]:.2f}x cpu" if rows[1][3] and rows[0][3] else ""))


def _spent(before: float | None) -> float | None:
    after = tree_cpu()
    return None if before is None or after is None else after - before


if __name__ == "__main__":
    main()
