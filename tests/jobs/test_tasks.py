"""A map task's grouping for its combiner: counted while values are uniform, lists after, same groups."""
from __future__ import annotations

from hypothesis import given, strategies as st

from mapfold.jobs.protocols import JSONProtocol
from mapfold.jobs.tasks import _group_lists, _group_pairs

CODEC = JSONProtocol()
keys = st.one_of(st.sampled_from(["a", "b", "c"]), st.integers(-2, 2), st.booleans(),
                 st.tuples(st.integers(0, 1)))
values = st.one_of(st.just(1), st.just("1"), st.just(True), st.just(1.0), st.integers(0, 3), st.none(),
                   st.text(max_size=2), st.lists(st.integers(0, 1), max_size=2))


def typed(groups: dict) -> dict:
    """Each group's values as a list of (type, value): ``1`` and ``True`` must stay apart."""
    return {(type(key), key): [(type(v), v) for v in values] for key, values in groups.items()}


def reference(pairs: list) -> dict:
    return _group_lists({}, iter(pairs), CODEC._dumps, CODEC._loads)


@given(st.lists(st.tuples(keys, values), max_size=40))
def test_grouping_equals_the_list_grouping_in_record_order(pairs):
    assert typed(_group_pairs(iter(pairs), CODEC._dumps, CODEC._loads)) == typed(reference(pairs))


@given(st.lists(st.sampled_from(["x", "y", 7]), max_size=60), st.integers(0, 60), keys, values)
def test_a_uniform_run_then_a_different_pair_keeps_every_value_in_order(words, at, key, value):
    pairs = [(word, 1) for word in words]
    pairs.insert(min(at, len(pairs)), (key, value))
    assert typed(_group_pairs(iter(pairs), CODEC._dumps, CODEC._loads)) == typed(reference(pairs))


def test_equal_values_that_are_not_the_same_object_are_still_counted():
    big = [(w, int("1000000")) for w in "abab"]  # equal ints, distinct objects
    groups = _group_pairs(iter(big), CODEC._dumps, CODEC._loads)
    assert {k: list(v) for k, v in groups.items()} == {"a": [1000000, 1000000], "b": [1000000, 1000000]}
    assert not any(isinstance(v, list) for v in groups.values())  # counted, not listed


def test_a_pair_that_is_not_a_pair_fails_as_unpacking_does():
    import pytest
    for bad in ([None], [("a", 1), None], [("a", 1), ("b", 1, 2)]):
        with pytest.raises((TypeError, ValueError)):
            _group_pairs(iter(bad), CODEC._dumps, CODEC._loads)
