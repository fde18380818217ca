"""RDD programs written as PySpark users write them, shared by the recorder
(``record_pyspark.py``, on real PySpark) and the parity tests (``test_parity.py``,
on ``mapfold.compat.pyspark``).

Each program is ``program(sc, data) -> result``: ``sc`` a SparkContext (either
kind), ``data`` a folder made by :func:`make_inputs`. A result is JSON data
(tuples become lists); where PySpark leaves an order undefined (shuffled
output) the program sorts, and where its randomness differs from mapfold's
(sampling) the program returns only what both must agree on (sizes within
bounds, subsets, determinism for one seed). The programs use only what
``sc`` gives, and the ``TaskContext`` of ``sc``'s kind (``_task_context``).
"""
from __future__ import annotations

import gzip
import operator
import os
from collections import defaultdict

PROGRAMS: dict = {}

TEXT = """It was the best of times, it was the worst of times,
it was the age of wisdom, it was the age of foolishness,
it was the epoch of belief, it was the epoch of incredulity,

it was the season of Light, it was the season of Darkness,
it was the spring of hope, it was the winter of despair,

we had everything before us, we had nothing before us,
"""
GZIPPED = """the quick brown fox jumps over the lazy dog
the dog barks
a fox runs
"""
LINKS = [("a", "b"), ("a", "c"), ("b", "c"), ("c", "a"), ("d", "a"), ("d", "c"), ("e", "d"), ("e", "a")]


def make_inputs(folder: str) -> str:
    """Write the programs' input files into ``folder`` (and return it)."""
    os.makedirs(os.path.join(folder, "text"), exist_ok=True)
    with open(os.path.join(folder, "text", "tale.txt"), "w") as f:
        f.write(TEXT)
    with open(os.path.join(folder, "text", "more.txt"), "w") as f:
        f.write(TEXT.upper())
    os.makedirs(os.path.join(folder, "gz"), exist_ok=True)
    with gzip.open(os.path.join(folder, "gz", "fox.txt.gz"), "wt") as f:
        f.write(GZIPPED)
    with open(os.path.join(folder, "lookup.txt"), "w") as f:
        f.write("a=apple\nb=banana\n")
    return folder


def program(function):
    PROGRAMS[function.__name__] = function
    return function


def _words(line: str) -> list:
    return [w.strip(",.").lower() for w in line.split() if w.strip(",.")]


# -- word count ------------------------------------------------------------------
@program
def word_count_text(sc, data):
    lines = sc.textFile(os.path.join(data, "text"))
    counts = lines.flatMap(_words).map(lambda w: (w, 1)).reduceByKey(operator.add)
    return sorted(counts.collect())


@program
def word_count_gzip(sc, data):
    lines = sc.textFile(os.path.join(data, "gz", "fox.txt.gz"))
    counts = lines.flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b)
    return {"partitions": lines.getNumPartitions(), "counts": sorted(counts.collect())}


@program
def word_count_top(sc, data):
    counts = sc.textFile(os.path.join(data, "text")).flatMap(_words).countByValue()
    top = sc.parallelize(list(counts.items()), 3).takeOrdered(5, key=lambda kv: (-kv[1], kv[0]))
    return {"top": top, "absent": counts["no-such-word"], "lines": sc.textFile(os.path.join(data, "text")).count()}


@program
def text_min_partitions(sc, data):
    rdd = sc.textFile(os.path.join(data, "text", "tale.txt"), minPartitions=4)
    return {"at_least_4": rdd.getNumPartitions() >= 4, "lines": rdd.collect(),
            "blank": rdd.filter(lambda line: not line).count()}


@program
def text_layout(sc, data):
    folder, one = os.path.join(data, "text"), os.path.join(data, "text", "tale.txt")
    return {"folder": sc.textFile(folder).glom().map(len).collect(),
            "folder_3": sc.textFile(folder, 3).glom().map(len).collect(),
            "file_4": sc.textFile(one, 4).glom().map(len).collect(),
            "file_5": sc.textFile(one, 5).glom().map(len).collect(),
            "gzip_and_text": sc.textFile(",".join([os.path.join(data, "gz"), one])).glom().map(len).collect()}


@program
def whole_text_files(sc, data):
    files = sc.wholeTextFiles(os.path.join(data, "text"))
    return sorted((os.path.basename(path), len(text), text.count("\n")) for path, text in files.collect())


# -- save and read back -----------------------------------------------------------
def _parts(folder: str) -> int:
    return len([name for name in os.listdir(folder) if name.startswith("part-")])


@program
def save_text_round_trip(sc, data):
    out = os.path.join(data, "out-text")
    sc.parallelize([("a", 1), ("b", 2), ("c", 3)], 2).saveAsTextFile(out)
    return {"parts": _parts(out), "lines": sorted(sc.textFile(out).collect()),
            "success": os.path.exists(os.path.join(out, "_SUCCESS"))}


@program
def save_gzip_round_trip(sc, data):
    out = os.path.join(data, "out-gzip")
    sc.parallelize(range(100), 3).map(str).saveAsTextFile(out, "org.apache.hadoop.io.compress.GzipCodec")
    names = [name for name in os.listdir(out) if name.startswith("part-")]
    return {"gzipped": all(name.endswith(".gz") for name in names), "parts": len(names),
            "sum": sc.textFile(out).map(int).sum()}


@program
def pickle_round_trip(sc, data):
    out = os.path.join(data, "out-pickle")
    records = [(i, {"square": i * i}, [str(i)]) for i in range(20)]
    sc.parallelize(records, 4).saveAsPickleFile(out, batchSize=3)
    back = sc.pickleFile(out)
    return {"records": sorted(back.collect()), "count": back.count()}


# -- iterative, cached -----------------------------------------------------------------
@program
def page_rank(sc, data):
    links = sc.parallelize(LINKS, 2).groupByKey().mapValues(list).cache()
    ranks = links.mapValues(lambda _: 1.0)
    for _ in range(10):
        contributions = links.join(ranks).flatMap(
            lambda kv: [(dest, kv[1][1] / len(kv[1][0])) for dest in kv[1][0]])
        ranks = contributions.reduceByKey(operator.add).mapValues(lambda r: 0.15 + 0.85 * r)
    result = sorted((page, round(rank, 9)) for page, rank in ranks.collect())
    return {"ranks": result, "cached": links.is_cached, "level": str(links.getStorageLevel())}


@program
def aggregate_to_dict(sc, data):
    words = sc.textFile(os.path.join(data, "text")).flatMap(_words)

    def add(acc, word):
        acc[word[0]] = acc.get(word[0], 0) + 1
        return acc

    def merge(a, b):
        for k, v in b.items():
            a[k] = a.get(k, 0) + v
        return a

    return dict(sorted(words.aggregate({}, add, merge).items()))


@program
def folds_and_reductions(sc, data):
    rdd = sc.parallelize(range(1, 21), 4)
    return {"reduce": rdd.reduce(operator.mul), "fold": rdd.fold(0, operator.add),
            "tree_aggregate": rdd.treeAggregate((0, 0), lambda acc, x: (acc[0] + x, acc[1] + 1),
                                                lambda a, b: (a[0] + b[0], a[1] + b[1]), depth=3),
            "tree_reduce": rdd.treeReduce(max), "sum": rdd.sum(), "count": rdd.count()}


# -- by-key operations and joins ----------------------------------------------------------
SALES = [("north", 10), ("south", 4), ("north", 7), ("east", 1), ("south", 9), ("north", 2)]
REGIONS = [("north", "N"), ("south", "S"), ("west", "W")]


@program
def by_key_aggregations(sc, data):
    sales = sc.parallelize(SALES, 3)
    return {
        "reduceByKey": sorted(sales.reduceByKey(operator.add).collect()),
        "foldByKey": sorted(sales.foldByKey(0, max).collect()),
        "aggregateByKey": sorted(sales.aggregateByKey((0, 0), lambda a, v: (a[0] + v, a[1] + 1),
                                                      lambda a, b: (a[0] + b[0], a[1] + b[1])).collect()),
        "combineByKey": sorted(sales.combineByKey(lambda v: [v], lambda c, v: c + [v],
                                                  lambda a, b: a + b).mapValues(sorted).collect()),
        "groupByKey": sorted(sales.groupByKey().mapValues(sorted).collect()),
        "groupBy": sorted(sc.parallelize(range(10), 2).groupBy(lambda x: x % 3).mapValues(sorted).collect()),
        "countByKey": dict(sorted(sales.countByKey().items())),
        "reduceByKeyLocally": dict(sorted(sales.reduceByKeyLocally(operator.add).items())),
        "lookup": sorted(sales.lookup("north")),
        "collectAsMap": sorted(sc.parallelize(REGIONS).collectAsMap().items()),
        "keys_values": [sorted(sales.keys().distinct().collect()), sum(sales.values().collect())],
        "mapValues": sorted(sales.mapValues(lambda v: v * 10).collect()),
        "flatMapValues": sales.flatMapValues(lambda v: range(v % 3)).collect(),
        "keyBy": sc.parallelize(["aa", "b"]).keyBy(len).collect(),
    }


@program
def joins(sc, data):
    sales, regions = sc.parallelize(SALES, 2), sc.parallelize(REGIONS, 3)
    return {
        "join": sorted(sales.join(regions).collect()),
        "leftOuterJoin": sorted(sales.leftOuterJoin(regions).collect(), key=repr),
        "rightOuterJoin": sorted(regions.rightOuterJoin(sales).collect(), key=repr),
        "fullOuterJoin": sorted(sales.fullOuterJoin(regions).collect(), key=repr),
        "join_partitions": sales.join(regions).getNumPartitions(),
        "cogroup": sorted((k, [sorted(vs) for vs in groups]) for k, groups in sales.cogroup(regions).collect()),
        "groupWith": sorted((k, [sorted(vs) for vs in groups])
                            for k, groups in sales.groupWith(regions, sc.parallelize([("east", 0)])).collect()),
        "subtractByKey": sorted(sales.subtractByKey(regions).collect()),
        "partitions": [sales.subtractByKey(regions).getNumPartitions(), sales.cogroup(regions).getNumPartitions(),
                       sales.leftOuterJoin(regions, 4).getNumPartitions(),
                       sales.partitionBy(3).join(regions.partitionBy(3)).getNumPartitions()],
    }


@program
def set_operations(sc, data):
    a, b = sc.parallelize([1, 2, 2, 3, 4, 5], 2), sc.parallelize([4, 5, 6, 6], 3)
    return {"union": a.union(b).collect(), "union_partitions": a.union(b).getNumPartitions(),
            "distinct": sorted(a.union(b).distinct().collect()), "subtract": sorted(a.subtract(b).collect()),
            "intersection": sorted(a.intersection(b).collect()),
            "cartesian": sorted(a.cartesian(sc.parallelize("xy", 1)).collect()),
            "cartesian_partitions": a.cartesian(b).getNumPartitions(),
            "sc_union": sorted(sc.union([a, b, sc.parallelize([0])]).collect()),
            "partitions": [a.subtract(b).getNumPartitions(), a.intersection(b).getNumPartitions(),
                           a.distinct().getNumPartitions(), a.subtract(b, 2).getNumPartitions()]}


# -- sorting --------------------------------------------------------------------------------
@program
def sorting(sc, data):
    words = sc.parallelize(["delta", "Alpha", "charlie", "Bravo", "echo", "foxtrot"], 3)
    pairs = words.map(lambda w: (w, len(w)))
    return {
        "sortByKey": pairs.sortByKey().collect(),
        "sortByKey_desc": pairs.sortByKey(ascending=False, numPartitions=2).collect(),
        "sortByKey_keyfunc": pairs.sortByKey(keyfunc=str.lower).keys().collect(),
        "sortBy": words.sortBy(lambda w: (len(w), w)).collect(),
        "sortBy_partitions": words.sortBy(len, numPartitions=2).getNumPartitions(),
        "top": words.top(2), "top_key": words.top(2, key=str.lower),
        "takeOrdered": words.takeOrdered(3), "takeOrdered_key": words.takeOrdered(3, key=lambda w: -len(w)),
        "min_max": [words.min(), words.max(), words.max(key=len)],
        "repartitionAndSort": sc.parallelize([(5, "e"), (2, "b"), (4, "d"), (1, "a"), (3, "c")], 2)
        .repartitionAndSortWithinPartitions(2, lambda k: k % 2).glom().collect(),
        "partitionBy": sc.parallelize([(i, i) for i in range(6)], 2).partitionBy(3, lambda k: k).glom().collect(),
    }


# -- sampling: what any two correct implementations agree on ---------------------------------------
@program
def sampling(sc, data):
    rdd = sc.parallelize(range(1000), 4)
    sample = rdd.sample(False, 0.3, seed=42).collect()
    again = rdd.sample(False, 0.3, seed=42).collect()
    boot = rdd.sample(True, 0.5, seed=7).collect()
    taken = rdd.takeSample(False, 20, seed=3)
    everything = rdd.takeSample(False, 5000, seed=3)
    with_repl = rdd.takeSample(True, 30, seed=1)
    parts = rdd.randomSplit([0.25, 0.75], seed=11)
    split = [part.collect() for part in parts]
    by_key = rdd.map(lambda x: (x % 2, x)).sampleByKey(False, {0: 0.1, 1: 0.0}, seed=5).collect()
    unseeded = [sorted(rdd.sample(False, 0.5).collect()) for _ in range(2)]
    return {
        "sample_size_ok": 230 < len(sample) < 370, "sample_subset": set(sample) <= set(range(1000)),
        "sample_distinct": len(set(sample)) == len(sample), "same_seed_same_sample": sample == again,
        "sample_keeps_order": sample == sorted(sample),
        "bootstrap_size_ok": 400 < len(boot) < 600,
        "take_sample": [len(taken), len(set(taken)), set(taken) <= set(range(1000))],
        "take_sample_all": sorted(everything) == list(range(1000)),
        "take_sample_with_replacement": [len(with_repl), set(with_repl) <= set(range(1000))],
        "take_sample_seeded": rdd.takeSample(False, 20, seed=3) == taken,
        "random_split": [sorted(split[0] + split[1]) == list(range(1000)), not set(split[0]) & set(split[1]),
                         150 < len(split[0]) < 350],
        "sample_by_key": [all(k == 0 for k, _ in by_key), 40 < len(by_key) < 160],
        "unseeded_samples_differ": unseeded[0] != unseeded[1],
    }


# -- statistics ----------------------------------------------------------------------------------------------
@program
def statistics(sc, data):
    numbers = sc.parallelize([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0, 1.5, 11.25], 3)
    stats = numbers.stats()
    return {
        "stats": stats.asDict(), "sample_stats": stats.asDict(sample=True), "repr": repr(stats),
        "mean": numbers.mean(), "variance": numbers.variance(), "stdev": numbers.stdev(),
        "sampleVariance": numbers.sampleVariance(), "sampleStdev": numbers.sampleStdev(),
        "sum": numbers.sum(), "count": stats.count(),
        "histogram_int": numbers.histogram(4), "histogram_list": numbers.histogram([0, 5, 10, 20]),
        "histogram_ints": sc.parallelize(range(51)).histogram(2),
        "histogram_uneven": sc.parallelize([1, 2, 3, 10, 11, 100, None], 2).histogram([0, 3, 50, 100]),
        "merged": sc.parallelize(range(100), 7).stats().asDict(),
        "empty_rdd": [sc.emptyRDD().count(), sc.emptyRDD().getNumPartitions(), sc.emptyRDD().isEmpty()],
    }


# -- shared variables ------------------------------------------------------------------------------------------
@program
def broadcast_lookup(sc, data):
    table = dict(line.split("=") for line in open(os.path.join(data, "lookup.txt")).read().split())
    shared = sc.broadcast(table)
    fruit = sc.parallelize(["a", "b", "a", "z"], 2).map(lambda k: shared.value.get(k, "?")).collect()
    shared.unpersist()
    again = sc.parallelize(["b"], 1).map(lambda k: shared.value[k]).collect()
    return {"fruit": fruit, "after_unpersist": again, "driver_value": sorted(shared.value.items())}


@program
def accumulators(sc, data):
    blank = sc.accumulator(0)
    chars = sc.accumulator(0.0)
    seen = sc.accumulator(0)

    def check(line):
        nonlocal blank
        if not line:
            blank += 1
        chars.add(len(line) / 2)
        return line

    lines = sc.textFile(os.path.join(data, "text"))
    words = lines.map(check).flatMap(_words).count()
    sc.parallelize(range(10), 3).foreach(lambda x: seen.add(x))
    before = seen.value
    sc.parallelize(range(5), 2).foreachPartition(lambda it: seen.add(sum(1 for _ in it)))
    seen += 100  # on the driver
    return {"words": words, "blank": blank.value, "chars": chars.value, "foreach": before, "seen": seen.value}


@program
def accumulators_and_caching(sc, data):
    """Updates count once per task run: a cached RDD's tasks run once; sortBy's sampling pass runs them too."""
    seen = sc.accumulator(0)

    def touch(x):
        seen.add(1)
        return x

    cached = sc.parallelize(range(20), 4).map(touch).cache()
    cached.count()
    cached.count()
    once = seen.value
    cached.unpersist()
    cached.count()
    after_unpersist = seen.value
    sorted_seen = sc.accumulator(0)
    ordered = sc.parallelize(range(20), 4).map(lambda x: sorted_seen.add(1) or x).sortBy(lambda x: -x).collect()
    return {"once": once, "after_unpersist": after_unpersist, "ordered": ordered,
            "sort_ran_the_map_more_than_once": sorted_seen.value > 20}


# -- partition layout -----------------------------------------------------------------------------------------------
@program
def partition_layout(sc, data):
    return {
        "parallelize": sc.parallelize(range(10), 3).glom().collect(),
        "parallelize_list": sc.parallelize(list("abcdefg"), 4).glom().collect(),
        "range": sc.range(0, 20, 3, numSlices=4).glom().collect(),
        "range_one_arg": sc.range(5).collect(),
        "default_partitions": sc.parallelize(range(8)).getNumPartitions(),
        "defaultParallelism": sc.defaultParallelism, "defaultMinPartitions": sc.defaultMinPartitions,
        "coalesce": sc.parallelize(range(10), 5).coalesce(2).glom().collect(),
        "coalesce_more": sc.parallelize(range(4), 2).coalesce(5).getNumPartitions(),
        "coalesce_shuffle": sorted(sc.parallelize(range(10), 2).coalesce(4, shuffle=True).collect()),
        "repartition": [sc.parallelize(range(10), 2).repartition(3).getNumPartitions(),
                        sorted(sc.parallelize(range(10), 2).repartition(3).collect())],
        "union": sc.parallelize([1, 2], 2).union(sc.parallelize([3], 1)).glom().collect(),
        "zipWithIndex": sc.parallelize("abcde", 2).zipWithIndex().collect(),
        "zipWithUniqueId": sc.parallelize("abcde", 2).zipWithUniqueId().collect(),
        "zip": sc.parallelize(range(5), 2).zip(sc.parallelize("vwxyz", 2)).glom().collect(),
        "mapPartitionsWithIndex": sc.parallelize(range(6), 3).mapPartitionsWithIndex(
            lambda i, it: [(i, sum(it))]).collect(),
        "mapPartitions": sc.parallelize(range(6), 2).mapPartitions(lambda it: [max(it)]).collect(),
        "glom_empty": sc.parallelize([], 2).glom().collect(),
        "cartesian": sc.parallelize([1, 2], 2).cartesian(sc.parallelize("ab", 2)).glom().collect(),
    }


@program
def task_context(sc, data):
    task_context_class = _task_context(sc)

    def where(index, iterator):
        context = task_context_class.get()
        return [(index, context.partitionId(), context.attemptNumber(), sum(iterator))]

    return sc.parallelize(range(9), 3).mapPartitionsWithIndex(where).collect()


@program
def actions_misc(sc, data):
    rdd = sc.parallelize(["b", "a", "c", "a"], 2)
    counted = rdd.countByValue()
    return {
        "first": rdd.first(), "take": rdd.take(3), "take_more": rdd.take(10), "isEmpty": rdd.isEmpty(),
        "empty_isEmpty": sc.parallelize([], 1).isEmpty(),
        "countByValue": dict(sorted(counted.items())), "countByValue_absent": counted["zz"],
        "toLocalIterator": list(rdd.toLocalIterator()),
        "filter": rdd.filter(lambda x: x != "a").collect(), "map": rdd.map(str.upper).collect(),
        "flatMap": rdd.flatMap(lambda x: [x, x]).collect(), "name": rdd.setName("letters").name(),
        "pipe": sc.parallelize(["3", "1", "2"], 1).pipe("sort").collect(),
        "runJob": sc.runJob(sc.parallelize(range(6), 3), lambda it: [sum(it)], [0, 2]),
        "getNumPartitions": rdd.getNumPartitions(), "version_major": int(sc.version.split(".")[0]) >= 3,
    }


@program
def count_lines_by_length(sc, data):
    """A typical log-style job: key by a derived field, count, join back, sort."""
    lines = sc.textFile(os.path.join(data, "text")).filter(lambda line: line.strip())
    by_length = lines.keyBy(lambda line: len(line.split())).mapValues(lambda _: 1).reduceByKey(operator.add)
    first_words = lines.map(lambda line: (len(line.split()), line.split()[0].lower())).distinct()
    joined = by_length.join(first_words.groupByKey().mapValues(sorted))
    return joined.sortByKey().collect()


@program
def inverted_index(sc, data):
    files = sc.wholeTextFiles(os.path.join(data, "text"))
    postings = files.flatMap(lambda kv: [(w, os.path.basename(kv[0])) for w in _words(kv[1])]).distinct()
    index = postings.groupByKey().mapValues(sorted).filter(lambda kv: kv[0].startswith("w"))
    return index.sortByKey().collect()


def _task_context(sc):
    """``pyspark.TaskContext`` or ``mapfold.compat.pyspark.TaskContext``, whichever ``sc`` belongs with."""
    if type(sc).__module__.startswith("mapfold."):
        from mapfold.compat.pyspark import TaskContext
    else:
        from pyspark import TaskContext
    return TaskContext


def canonical(result):
    """The result as JSON data: tuples as lists, dict keys as str, sets sorted, defaultdicts plain."""
    if isinstance(result, (defaultdict, dict)):
        return {str(k): canonical(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return [canonical(x) for x in result]
    if isinstance(result, (set, frozenset)):
        return sorted(canonical(x) for x in result)
    if isinstance(result, range):
        return list(result)
    return result
