"""Joins against a plain-Python reference, including duplicate keys and empty sides."""
from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mapfold as mf


def reference_join(left, right, keep_left, keep_right):
    lmap, rmap = defaultdict(list), defaultdict(list)
    for k, v in left:
        lmap[k].append(v)
    for k, w in right:
        rmap[k].append(w)
    out = []
    for k in set(lmap) | set(rmap):
        ls, rs = lmap.get(k, []), rmap.get(k, [])
        if ls and rs:
            out += [(k, (v, w)) for v in ls for w in rs]
        elif ls and keep_left:
            out += [(k, (v, None)) for v in ls]
        elif rs and keep_right:
            out += [(k, (None, w)) for w in rs]
    return sorted(out, key=repr)


KINDS = {
    "join": (False, False),
    "left_outer_join": (True, False),
    "right_outer_join": (False, True),
    "full_outer_join": (True, True),
}

keys = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b", "ü", ""]), st.none())
pairs = st.lists(st.tuples(keys, st.integers(0, 9)), max_size=25)


@pytest.mark.parametrize("kind", list(KINDS))
def test_joins_match_reference(runner, kind):
    # the join is the same code on every runner; an engine adds only the transport of the buckets,
    # and each of its examples costs two engine jobs: fewer examples there
    examples = 25 if runner.name in ("serial", "processes") else 8

    @settings(max_examples=examples, deadline=None)
    @given(left=pairs, right=pairs, left_parts=st.integers(1, 3), right_parts=st.integers(1, 3))
    def check(left, right, left_parts, right_parts):
        a = mf.from_sequence(left, partitions=left_parts)
        b = mf.from_sequence(right, partitions=right_parts)
        got = getattr(a, kind)(b).collect(runner=runner)
        assert sorted(got, key=repr) == reference_join(left, right, *KINDS[kind])

    check()


def test_join_with_duplicates_on_both_sides(runner):
    left = [("k", i) for i in range(5)] + [("x", 0)]
    right = [("k", c) for c in "abc"] + [("y", "z")]
    got = mf.from_sequence(left, partitions=2).join(mf.from_sequence(right, partitions=2), 3).collect(runner=runner)
    assert sorted(got) == sorted(("k", (i, c)) for i in range(5) for c in "abc")


@pytest.mark.parametrize("kind", list(KINDS))
def test_join_empty_sides(runner, kind):
    full = mf.from_sequence([("a", 1), ("b", 2)])
    empty = mf.from_sequence([], partitions=1)
    left_empty = getattr(empty, kind)(full).collect(runner=runner)
    right_empty = getattr(full, kind)(empty).collect(runner=runner)
    keep_left, keep_right = KINDS[kind]
    assert sorted(left_empty) == ([("a", (None, 1)), ("b", (None, 2))] if keep_right else [])
    assert sorted(right_empty) == ([("a", (1, None)), ("b", (2, None))] if keep_left else [])


@pytest.mark.parametrize("kind", ["join", "left_outer_join", "full_outer_join", "subtract_by_key", "cogroup"])
def test_joining_dict_records_says_what_to_do(runner, kind):
    # issue 15: joining dict records ended in `KeyError: 0` from a worker
    people = mf.from_sequence([{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}])
    cities = mf.from_sequence([(1, "London")])
    with pytest.raises(mf.RecordShapeError) as info:
        getattr(cities, kind)(people).collect(runner=runner)
    message = str(info.value)
    assert f"{kind} needs (key, value) records" in message
    assert "argument 1" in message if kind == "cogroup" else "on the other Dataset" in message
    assert "found a dict: {'id': 1, 'name': 'Ada'}" in message or "found a dict: {'id': 2" in message
    assert ".key_by(lambda r: r['id'])" in message and ".map(lambda r: (r['id'], r))" in message
    assert any("stage" in note and "partition" in note for note in info.value.__notes__)
    with pytest.raises(mf.RecordShapeError, match="on the Dataset it is called on"):
        getattr(people, kind)(cities).collect(runner=runner)


def test_keyed_dict_records_join(runner):
    people = mf.from_sequence([{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}]).key_by(lambda r: r["id"])
    cities = mf.from_sequence([(1, "London")])
    assert people.map_values(lambda r: r["name"]).join(cities).collect(runner=runner) == [(1, ("Ada", "London"))]
