"""Runs are kept by the Datasets the user holds, not on shared plan nodes (issue 9)."""
from __future__ import annotations

import mapfold as mf


def _tick(x):
    mf.increment_counter("seen", "records")
    return x


def test_two_datasets_sharing_a_plan_node_each_see_their_own_run(serial):
    parent = mf.from_sequence(range(10), partitions=2).map(_tick)
    plain = parent.persist().unpersist()
    assert plain.node is parent.node  # one plan node, two Datasets
    a = parent.map(lambda x: x + 1)
    b = plain.filter(lambda x: x < 3)
    assert a.count(runner=serial) == 10
    assert b.count(runner=serial) == 3
    assert a.last_run is not b.last_run
    assert parent.last_run is a.last_run  # on the old code: b's run, written on the shared node
    assert plain.last_run is b.last_run
    assert parent.counters == plain.counters == {"seen": {"records": 10}}


def test_datasets_sharing_a_parent_each_see_their_own_record(serial):
    base = mf.from_sequence(range(6), partitions=3).map(_tick)
    a, b = base.map(str), base.filter(lambda x: x % 2)
    a.collect(runner=serial)
    b.collect(runner=serial)
    assert a.last_run.action == b.last_run.action == "collect"
    assert a.last_run.job != b.last_run.job
    assert base.last_run is b.last_run  # the last run that computed it
    assert a.last_run is a._last_job.record


def test_a_derived_action_is_the_run_of_its_origins_through_joins(serial):
    left = mf.from_sequence([("k", 1), ("j", 2)]).map(_tick)
    right = mf.from_sequence([("k", 3)])
    joined = left.join(right)
    assert joined.collect(runner=serial) == [("k", (1, 3))]
    assert left.last_run is joined.last_run is right.last_run
    assert left.counters == {"seen": {"records": 2}}


def test_a_pickled_dataset_carries_no_runs(serial):
    import pickle

    ds = mf.from_sequence(range(3)).map(_tick)
    ds.count(runner=serial)
    copy = pickle.loads(pickle.dumps(ds))
    assert copy.last_run is None and copy.derived_from == ()
