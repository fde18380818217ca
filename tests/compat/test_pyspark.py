"""The PySpark names give what the Dataset API gives, on both local runners."""
from __future__ import annotations

import gc
import operator
import os
import subprocess
import sys
import tempfile
from collections import Counter

import pytest

from mapfold.compat.pyspark import SparkContext


@pytest.fixture
def sc(runner):
    return SparkContext(runner=runner)


def test_word_count_shape(sc, tmp_path):
    (tmp_path / "a.txt").write_text("to be or not\nto be\n")
    counts = sc.textFile(str(tmp_path)).flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add)
    assert dict(counts.collect()) == Counter("to be or not to be".split())
    assert counts.sortBy(lambda kv: (-kv[1], kv[0])).take(2) == [("be", 2), ("to", 2)]
    out = tmp_path / "out"
    counts.saveAsTextFile(str(out))
    assert sorted(sc.textFile(str(out)).collect()) == sorted(str(kv) for kv in counts.collect())


def test_actions_match_python(sc):
    data = list(range(1, 41))
    rdd = sc.parallelize(data, 3)
    assert rdd.getNumPartitions() == 3
    assert rdd.count() == 40 and rdd.sum() == sum(data) and rdd.first() == 1
    assert rdd.reduce(operator.mul) == __import__("math").prod(data)
    assert rdd.fold(0, operator.add) == sum(data)
    assert rdd.aggregate(0, operator.add, operator.add) == sum(data)
    assert rdd.top(3) == [40, 39, 38] and rdd.takeOrdered(2) == [1, 2]
    assert rdd.mean() == sum(data) / 40 and rdd.min() == 1 and rdd.max() == 40
    assert rdd.countByValue() == Counter(data)
    assert rdd.zipWithIndex().take(2) == [(1, 0), (2, 1)]
    assert not rdd.isEmpty() and sc.parallelize([], 2).isEmpty()


def test_pair_operations(sc):
    left = sc.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
    right = sc.parallelize([("a", "x"), ("c", "y")], 2)
    assert sorted(left.join(right).collect()) == [("a", (1, "x")), ("a", (3, "x"))]
    assert sorted(left.leftOuterJoin(right).collect()) == [("a", (1, "x")), ("a", (3, "x")), ("b", (2, None))]
    assert sorted(left.fullOuterJoin(right).collect())[-1] == ("c", (None, "y"))
    assert sorted(left.groupByKey().mapValues(sorted).collect()) == [("a", [1, 3]), ("b", [2])]
    assert left.countByKey() == {"a": 2, "b": 1}
    assert sorted(left.lookup("a")) == [1, 3]
    assert sorted(left.subtractByKey(right).collect()) == [("b", 2)]
    assert sorted(left.aggregateByKey(0, operator.add, operator.add).collect()) == [("a", 4), ("b", 2)]
    assert left.sortByKey(ascending=False).keys().collect() == ["b", "a", "a"]
    assert left.collectAsMap()["b"] == 2


def test_master_picks_runner():
    with SparkContext("local[2]") as sc:
        assert sc.runner.name == "processes" and sc.runner.workers == 2
        assert sc.parallelize(range(10)).map(lambda x: x + 1).sum() == 55
    assert SparkContext("local").runner.name == "serial"


def test_to_debug_string_returns_the_plan_text():
    rdd = SparkContext(runner="serial").parallelize(range(6), 2).map(str).filter(bool)
    text = rdd.toDebugString()
    assert isinstance(text, str) and "map -> filter" in text and "2 partitions" in text


def test_a_context_dropped_without_stop_leaves_nothing_on_a_shared_runner(serial):
    # the runner outlives the context: its listener must not keep the context (and its files folder) alive
    listening = len(serial.listeners)
    context = SparkContext(runner=serial)
    folder = context._files_dir
    assert context.parallelize([1, 2, 3]).sum() == 6
    del context
    gc.collect()
    assert not os.path.exists(folder)
    assert len(serial.listeners) == listening


def test_a_killed_drivers_files_folder_is_swept_by_the_next_context():
    # a driver killed outright runs no finalizer: its folder's owner lock dies with it, and the
    # next context (or runner) that makes a scratch folder sweeps it
    script = ("import os; from mapfold.compat.pyspark import SparkContext; "
              "sc = SparkContext(runner='serial'); print(os.path.dirname(sc._files_dir), flush=True); "
              "os.kill(os.getpid(), 9)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    folder = done.stdout.strip()
    assert done.returncode == -9 and os.path.isdir(folder), done.stderr
    assert os.path.dirname(folder) == tempfile.gettempdir()
    with SparkContext(runner="serial") as sc:
        assert not os.path.exists(folder)
        own = os.path.dirname(sc._files_dir)
        assert os.path.isdir(own)
    assert not os.path.exists(own)  # stopped: its own folder, lock and all, is gone
