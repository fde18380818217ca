"""A shuffle about 100 times larger than its memory budget.

Budget: 1 MB per worker. Data: 700,000 ``(str, int)`` records, which the
memory model sizes at about 150 bytes each in memory (tuple, str, int and a
list slot): ~100 MB, ~100x the budget. Pure Python keeps this test at a
few seconds per runner on 2 cores; the ratio, not the absolute size, is
what makes every map and reduce task spill and merge.
"""
from __future__ import annotations

import operator
import os

import pytest

import mapfold as mf
from mapfold.runners import make_runner
from mapfold.shuffle.memory import SizeModel

N = 700_000
DISTINCT = 250_000


def records(partition, _):
    start = partition * (N // 4)
    return ((f"key-{(i * 7919) % DISTINCT}", i % 10) for i in range(start, start + N // 4))


def source():
    return mf.from_sequence(range(4), partitions=4).map_partitions_with_index(records)


def test_data_is_about_100x_the_budget(small_budget):
    model = SizeModel()
    model.observe([(f"key-{i}", i % 10) for i in range(1000)])
    assert 80 <= N * model.buffered(1) / small_budget <= 150


def test_reduce_by_key_100x_budget(small_runner):
    expected_total = sum(i % 10 for i in range(N))
    ds = source().reduce_by_key(operator.add, 3)
    out = ds.collect(runner=small_runner)
    assert len(out) == DISTINCT and len({k for k, _ in out}) == DISTINCT
    assert sum(v for _, v in out) == expected_total
    one = dict(out)["key-0"]
    assert one == sum(i % 10 for i in range(N) if (i * 7919) % DISTINCT == 0)
    stats = ds._last_job.stats
    assert stats["spilled_records"] > N // 2, stats


def test_group_by_key_100x_budget(small_runner):
    ds = source().group_by_key(3).map_values(len)
    counts = ds.collect(runner=small_runner)
    assert len(counts) == DISTINCT and sum(c for _, c in counts) == N
    assert ds._last_job.stats["spilled_records"] >= N


def test_one_group_larger_than_memory(small_runner):
    """All 700,000 values under one key: the group streams from disk."""
    ds = source().map(lambda kv: ("one", kv[1])).group_by_key(2)
    got = ds.map_values(lambda values: (type(values).__name__, len(values), sum(values))).collect(runner=small_runner)
    assert got == [("one", ("SpilledValues", N, sum(i % 10 for i in range(N))))]


def test_spilled_group_outlives_the_job_until_dropped(small_budget):
    """On the serial runner the collected values are the lazy object itself:
    readable after the job, its file removed once nothing refers to it."""
    import gc
    import glob

    from mapfold.shuffle.groups import SpilledValues

    with make_runner("serial", memory_limit=small_budget) as runner:
        out = source().map(lambda kv: ("one", kv[1])).group_by_key(1).collect(runner=runner)
        (key, values), = out
        assert isinstance(values, SpilledValues)
        assert len(values) == N and sum(values) == sum(i % 10 for i in range(N))
        files = glob.glob(f"{runner.scratch()}/**/groups-*", recursive=True)
        assert files and all(os.path.exists(f) for f in files)
        del out, key, values
        gc.collect()
        assert not any(os.path.exists(f) for f in files)


def test_join_on_one_key_larger_than_memory(small_runner):
    """700,000 values of one key on one side, 3 on the other: the cogroup
    streams the big side from disk and the join still gives every pair."""
    big = source().map(lambda kv: ("hot", kv[1]))
    small = mf.from_sequence([("hot", "x"), ("hot", "y"), ("cold", "z")], partitions=1)
    joined = small.join(big, partitions=2)
    got = joined.map(lambda kv: (kv[1][0], kv[1][1])).count_by_key(runner=small_runner)
    assert got == {"x": N, "y": N}
    sides = small.cogroup(big, partitions=2).map_values(
        lambda groups: tuple((type(g).__name__, len(g)) for g in groups)).collect(runner=small_runner)
    assert sorted(sides) == [("cold", (("list", 1), ("list", 0))), ("hot", (("SideValues", 2), ("SideValues", N)))]


def test_the_progress_bar_shows_what_spilled(capsys, small_budget):
    with make_runner("serial", memory_limit=small_budget) as runner:
        source().reduce_by_key(operator.add, 3).count(runner=runner, progress=True)
    shown = capsys.readouterr().err
    assert "reduce_by_key" in shown and "spilled=" in shown and " MB, " in shown
