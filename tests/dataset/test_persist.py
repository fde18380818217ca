"""persist()/cache(): later actions reuse the computed partitions."""
from __future__ import annotations

import operator
import os

import mapfold as mf


class CountRuns:
    """Appends a line to a file each time a partition is computed (any process)."""

    def __init__(self, path):
        self.path = path

    def __call__(self, index, iterator):
        with open(self.path, "a") as f:
            f.write(f"{index}\n")
        return iterator

    def runs(self) -> int:
        if not os.path.exists(self.path):
            return 0
        with open(self.path) as f:
            return len(f.readlines())


def test_persist_avoids_recomputation(runner, tmp_path):
    counter = CountRuns(str(tmp_path / "runs.txt"))
    base = mf.from_sequence(range(100), partitions=4).map_partitions_with_index(counter).map(lambda x: (x % 7, x))
    cached = base.persist()
    assert cached is base
    assert cached.count(runner=runner) == 100
    assert counter.runs() == 4
    total = sum(range(100))
    for _ in range(3):  # iterative use: no partition is computed again
        assert sum(v for _, v in cached.reduce_by_key(operator.add).collect(runner=runner)) == total
        assert sorted(cached.join(cached.map_values(str)).keys().distinct().collect(runner=runner)) == list(range(7))
    assert counter.runs() == 4
    cached.unpersist()
    assert cached.count(runner=runner) == 100
    assert counter.runs() == 8


def test_persist_after_a_shuffle_and_unpersist_removes_files(processes, tmp_path):
    counter = CountRuns(str(tmp_path / "runs.txt"))
    summed = (mf.from_sequence([(i % 5, 1) for i in range(50)], partitions=3)
              .map_partitions_with_index(counter).reduce_by_key(operator.add).cache())
    assert dict(summed.collect(runner=processes)) == {k: 10 for k in range(5)}
    assert dict(summed.map_values(lambda v: v * 2).collect(runner=processes)) == {k: 20 for k in range(5)}
    assert counter.runs() == 3
    files = [p for values in summed.node.cache.values() for p in values]
    assert files and all(os.path.exists(p) for p in files)
    summed.unpersist()
    assert not any(os.path.exists(p) for p in files)


def test_counter_shows_single_computation(serial):
    def tick(x):
        mf.increment_counter("work", "records")
        return x

    ds = mf.from_sequence(range(10), partitions=2).map(tick).persist()
    ds.count(runner=serial)
    assert ds.counters == {"work": {"records": 10}}
    doubled = ds.map(lambda x: 2 * x)
    assert doubled.sum(runner=serial) == 90
    assert doubled.counters == {}  # reused, not recomputed
