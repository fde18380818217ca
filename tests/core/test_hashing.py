"""stable_hash and the hash partitioner: the same bucket in every process.

The cross-process property runs a second interpreter with another
PYTHONHASHSEED (an "oracle" that hashes what it is sent) and compares.
"""
from __future__ import annotations

import datetime
import enum
import os
import pickle
import struct
import subprocess
import sys
from collections import namedtuple
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapfold.core.hashing import stable_hash
from mapfold.shuffle.partitioner import HashPartitioner

ORACLE = r"""
import pickle, struct, sys
from mapfold.core.hashing import stable_hash
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if not head:
        break
    keys = pickle.loads(inp.read(struct.unpack("<I", head)[0]))
    blob = pickle.dumps([(stable_hash(k), hash(k)) for k in keys])
    out.write(struct.pack("<I", len(blob)) + blob)
    out.flush()
"""


class Oracle:
    def __init__(self, seed: str):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        self.proc = subprocess.Popen([sys.executable, "-c", ORACLE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)

    def hashes(self, keys: list) -> list:
        blob = pickle.dumps(keys)
        self.proc.stdin.write(struct.pack("<I", len(blob)) + blob)
        self.proc.stdin.flush()
        size = struct.unpack("<I", self.proc.stdout.read(4))[0]
        return pickle.loads(self.proc.stdout.read(size))

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def oracles():
    pair = [Oracle("1"), Oracle("4242")]
    yield pair
    for oracle in pair:
        oracle.close()


scalars = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.text(), st.binary(), st.none(), st.booleans(),
)
keys = st.recursive(scalars, lambda inner: st.one_of(st.tuples(inner, inner), st.lists(inner, max_size=4).map(tuple),
                                                     st.frozensets(scalars, max_size=4)), max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(keys, min_size=1, max_size=20))
def test_stable_across_hash_seeds(oracles, batch):
    here = [stable_hash(k) for k in batch]
    first, second = (oracle.hashes(batch) for oracle in oracles)
    assert [h for h, _ in first] == here == [h for h, _ in second]
    strs = [i for i, k in enumerate(batch) if isinstance(k, str) and len(k) > 1]
    if strs:  # the oracles really ran with different salts
        assert any(first[i][1] != second[i][1] for i in strs)


@given(keys)
def test_equal_keys_hash_equal(key):
    # a tuple key and its rebuilt copy, a str and its copy, ints and equal floats
    assert stable_hash(key) == stable_hash(pickle.loads(pickle.dumps(key)))
    assert 0 <= stable_hash(key) < 2 ** 64


@given(st.integers())
def test_numbers_equal_across_types(n):
    assert stable_hash(n) == stable_hash(Fraction(n)) == stable_hash(Decimal(n))
    if abs(n) < 2 ** 53:  # exact as a float
        assert stable_hash(n) == stable_hash(float(n)) == stable_hash(complex(n, 0))


@given(st.fractions())
def test_fractions_match_decimals_and_floats(q):
    if float(q) == q:
        assert stable_hash(q) == stable_hash(float(q))
    assert stable_hash(q) == stable_hash(Fraction(q.numerator, q.denominator))


def test_special_values():
    assert stable_hash(True) == stable_hash(1) and stable_hash(False) == stable_hash(0)
    assert stable_hash(-0.0) == stable_hash(0)
    assert stable_hash(float("inf")) == stable_hash(Decimal("Infinity"))
    assert stable_hash("a") != stable_hash(b"a")
    assert stable_hash(2 ** 64) != stable_hash(0)  # big ints hash all their bits
    assert stable_hash(frozenset({"x", "y", "z"})) == stable_hash(frozenset(["z", "y", "x"]))


class Color(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 3


Point = namedtuple("Point", "x y")


def test_subclasses_and_fallback(oracles):
    assert stable_hash(Level.HIGH) == stable_hash(3)
    assert stable_hash(Point(1, "a")) == stable_hash((1, "a"))
    fallback = [datetime.date(2024, 1, 2), Color.RED, Decimal("1.25"), 3 + 4j]
    ours = [stable_hash(k) for k in fallback]
    assert ours == [h for h, _ in oracles[1].hashes(fallback)]


def test_partitioner_spreads_keys():
    part = HashPartitioner(8)
    counts = [0] * 8
    for i in range(8000):
        counts[part(i)] += 1
        counts[part(f"key{i}")] += 1
    assert min(counts) > 1500  # expected 2000 each
    assert part == HashPartitioner(8) and part != HashPartitioner(4)


# -- int_buckets: the buckets of many int keys at once, in Arrow -------------------------------


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1), min_size=512, max_size=2000),
       st.integers(min_value=1, max_value=1 << 40))
def test_int_buckets_are_the_stable_hash_buckets(keys, buckets):
    from mapfold.core.hashing import int_buckets

    assert int_buckets(keys, buckets) == [stable_hash(key) % buckets for key in keys]


@pytest.mark.parametrize("odd", [1 << 63, -(1 << 63) - 1, True, 1.0, "1", None])
def test_int_buckets_leave_other_keys_to_stable_hash(odd):
    from mapfold.core.hashing import int_buckets

    assert int_buckets(list(range(1000)) + [odd], 7) is None  # the caller hashes key by key
    assert int_buckets(list(range(100)), 7) is None  # too few to be worth Arrow


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1), min_size=512, max_size=2000),
       st.integers(min_value=1, max_value=64))
def test_int_bucket_positions_group_the_keys_by_stable_hash_bucket_in_order(keys, buckets):
    from mapfold.core.hashing import int_bucket_positions

    expected: list[list[int]] = [[] for _ in range(buckets)]
    for i, key in enumerate(keys):  # each key hashed once (not once per bucket)
        expected[stable_hash(key) % buckets].append(i)
    assert int_bucket_positions(keys, buckets) == expected


@pytest.mark.parametrize("odd", [1 << 63, True, 1.0, "1", None])
def test_int_bucket_positions_leave_other_keys_to_stable_hash(odd):
    from mapfold.core.hashing import int_bucket_positions

    assert int_bucket_positions(list(range(1000)) + [odd], 7) is None
