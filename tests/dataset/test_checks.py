"""Arguments are checked when a transformation is built, not when the job runs (issue 15)."""
from __future__ import annotations

import operator

import pytest

import mapfold as mf

DS = mf.from_sequence([("a", 1), ("b", 2)], partitions=2)


@pytest.mark.parametrize("build, error, message", [
    (lambda: DS.group_by("city"), TypeError,
     r"group_by\(\): key_func must be callable, not str 'city'; .*group_by\(lambda r: r\['city'\]\)"),
    (lambda: DS.key_by(0), TypeError, r"key_by\(\): func must be callable, not int 0.*itemgetter\(0\)"),
    (lambda: DS.map(None), TypeError, r"map\(\): func must be callable, not NoneType None"),
    (lambda: DS.flat_map("split"), TypeError, r"flat_map\(\): func must be callable"),
    (lambda: DS.filter(True), TypeError, r"filter\(\): predicate must be callable, not bool True$"),
    (lambda: DS.map_values(1), TypeError, r"map_values\(\): func"),
    (lambda: DS.map_partitions([]), TypeError, r"map_partitions\(\): func"),
    (lambda: DS.reduce_by_key("+"), TypeError, r"reduce_by_key\(\): func must be callable, not str '\+'"),
    (lambda: DS.fold_by_key(0, 0), TypeError, r"fold_by_key\(\): func"),
    (lambda: DS.aggregate_by_key(0, operator.add, "add"), TypeError, r"aggregate_by_key\(\): comb_op"),
    (lambda: DS.combine_by_key(list, None, operator.add), TypeError, r"combine_by_key\(\): merge_value"),
    (lambda: DS.sort_by(lambda kv: kv[1], ascending="desc"), TypeError,
     r"sort_by\(\): ascending must be True or False, not str 'desc'"),
    (lambda: DS.sort_by_key(ascending=0), TypeError, r"sort_by_key\(\): ascending must be True or False, not int 0"),
    (lambda: DS.sort_by("key"), TypeError, r"sort_by\(\): key must be callable"),
    (lambda: DS.repartition(0), ValueError, r"repartition\(\): partitions must be a positive int, not 0"),
    (lambda: DS.repartition(2.5), TypeError, r"repartition\(\): partitions must be an int, not float 2.5"),
    (lambda: DS.partition_by(-1), ValueError, r"partition_by\(\): partitions must be a positive int, not -1"),
    (lambda: DS.partition_by(2, "hash"), TypeError, r"partition_by\(\): partition_func must be callable"),
    (lambda: DS.group_by_key(True), TypeError, r"group_by_key\(\): partitions must be an int, not bool True"),
    (lambda: DS.reduce_by_key(operator.add, 0), ValueError, r"reduce_by_key\(\): partitions must be a positive int"),
    (lambda: DS.distinct(0), ValueError, r"distinct\(\): partitions"),
    (lambda: DS.join(DS, partitions=0), ValueError, r"join\(\): partitions must be a positive int, not 0"),
    (lambda: DS.join([("a", 1)]), TypeError, r"join\(\): other must be a Dataset, not list"),
    (lambda: DS.left_outer_join({"a": 1}), TypeError, r"left_outer_join\(\): other must be a Dataset"),
    (lambda: DS.cogroup(DS, 3), TypeError, r"cogroup\(\): each argument must be a Dataset, not int 3"),
    (lambda: DS.union([1]), TypeError, r"union\(\): each argument must be a Dataset"),
    (lambda: DS.sample(2.0), ValueError, r"sample\(\): fraction must be in \[0, 1\], not 2.0 \(more than 1 needs"),
    (lambda: DS.sample("0.1"), TypeError, r"sample\(\): fraction must be a number"),
    (lambda: DS.sample(0.1, with_replacement="yes"), TypeError, r"sample\(\): with_replacement must be True or False"),
    (lambda: mf.from_sequence([1], partitions=0), ValueError, r"from_sequence\(\): partitions must be a positive int"),
    (lambda: mf.read_text(__file__, min_partitions=0), ValueError, r"read_text\(\): min_partitions must be a positive"),
    (lambda: mf.read_jsonl(__file__, split_size="1MB"), TypeError, r"read_jsonl\(\): split_size must be an int"),
])
def test_bad_arguments_fail_at_the_call(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize("action, error, message", [
    (lambda: DS.take(-1), ValueError, r"take\(\): n must be an int >= 0, not -1"),
    (lambda: DS.take("3"), TypeError, r"take\(\): n must be an int, not str '3'"),
    (lambda: DS.top(2, key="n"), TypeError, r"top\(\): key must be callable"),
    (lambda: DS.take_ordered(1.5), TypeError, r"take_ordered\(\): n must be an int"),
    (lambda: DS.reduce("+"), TypeError, r"reduce\(\): func must be callable"),
    (lambda: DS.fold(0, None), TypeError, r"fold\(\): func must be callable"),
    (lambda: DS.max(key=1), TypeError, r"max\(\): key must be callable"),
])
def test_bad_action_arguments_fail_before_any_task_runs(monkeypatch, action, error, message):
    from mapfold.dataset import actions

    def no_run(*args, **kwargs):
        raise AssertionError("a job ran")

    monkeypatch.setattr(actions.ActionsMixin, "_partition_values", no_run)
    with pytest.raises(error, match=message):
        action()


def test_good_arguments_still_work():
    ds = mf.from_sequence(["b", "a", "c"], partitions=2)
    assert ds.sort_by(None, ascending=False, runner="serial").collect(runner="serial") == ["c", "b", "a"]
    assert ds.take(0, runner="serial") == []
    assert ds.sample(1.5, seed=2, with_replacement=True).count(runner="serial") >= 0
    assert DS.group_by(operator.itemgetter(0), partitions=1).count(runner="serial") == 2
