"""sort_by past its memory budget: sorted runs on disk, merged, stable."""
from __future__ import annotations

import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mapfold as mf
from mapfold.runners import make_runner
from mapfold.shuffle.sort import external_sorted


@settings(max_examples=80, deadline=None)
@given(keys=st.lists(st.integers(min_value=0, max_value=20), max_size=3000), reverse=st.booleans(),
       limit=st.sampled_from([2_000, 20_000, 1 << 20]))
def test_external_sort_is_sorted_and_stable_at_any_budget(keys, reverse, limit, tmp_path_factory):
    pairs = [(k, i) for i, k in enumerate(keys)]  # the index shows stability
    folder = str(tmp_path_factory.mktemp("sort"))
    got = list(external_sorted(pairs, reverse=reverse, memory_limit=limit, scratch=folder))
    assert got == sorted(pairs, key=lambda p: p[0], reverse=reverse)
    assert os.listdir(folder) == []  # runs are removed once merged


def test_many_runs_merge_in_passes(tmp_path):
    rng = random.Random(5)
    pairs = [(rng.random(), i) for i in range(60_000)]
    # ~2 KB buffers: hundreds of runs, more than one merge pass (fan-in 64)
    got = list(external_sorted(pairs, memory_limit=2_500, scratch=str(tmp_path)))
    assert got == sorted(pairs)


def test_sort_by_larger_than_its_budget_spills_and_is_globally_sorted(tight_runner):
    rng = random.Random(11)
    words = [f"w{rng.randrange(5000):05d}-{i}" for i in range(60_000)]  # ~5 MB in memory, 20x the budget
    ds = mf.from_sequence(words, partitions=4).sort_by(lambda w: w.split("-")[0], runner="serial")
    got = ds.collect(runner=tight_runner)
    assert got == sorted(words, key=lambda w: w.split("-")[0])  # stable: equal keys keep input order
    assert ds._last_job.stats["spilled_bytes"] > 0


def test_the_reduce_side_sort_itself_spills(monkeypatch):
    from mapfold.shuffle import sort

    written = []

    class CountingWriter(sort.RunWriter):
        def write(self, records, *args, **kwargs):
            segment = super().write(records, *args, **kwargs)
            written.append(segment.records)
            return segment

    monkeypatch.setattr(sort, "RunWriter", CountingWriter)
    words = [f"w{(i * 7919) % 4000:04d}" for i in range(40_000)]
    with make_runner("serial", memory_limit="256KB") as tight:  # as tight_runner (conftest.TIGHT)
        got = mf.from_sequence(words, partitions=2).sort_by(runner="serial").collect(runner=tight)
    assert got == sorted(words)
    assert len(written) > 2 and sum(written) >= len(words)  # every record went through a sorted run
