"""Float sums by int key in numpy (``shuffle/float_sums.py``): bit for bit, and in
the order, what the dict loop gives, on every input it takes or hands back."""
from __future__ import annotations

import math
import operator
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapfold.plan.nodes import Aggregator
from mapfold.shuffle.combine import combine_loop
from mapfold.shuffle.float_sums import FloatSums, float_sums_absorb, float_sums_run
from mapfold.shuffle.memory import MemoryBudget, SizeModel
from mapfold.shuffle.local import LocalCombine
from mapfold.shuffle.partitioner import HashPartitioner
from mapfold.shuffle.writer import ShuffleWriter

import mapfold as mf


def _bits(table: dict) -> list:
    """Keys (with their types) and values as exact bits, in order: -0.0 and nan payloads count."""
    return [(type(k), k, type(v), struct.pack("<d", v) if type(v) is float else v) for k, v in table.items()]


def _dict_loop(records) -> dict:
    table: dict = {}
    combine_loop(None, operator.add)(table, records)
    return table


def _summed_prefix(records) -> tuple:
    """What the map side holds after the numpy path: (table, the records left, records summed)."""
    sums, rest = float_sums_run(iter(records), MemoryBudget(1 << 30), SizeModel())
    return sums.to_dict(), iter(()) if rest is None else rest, sums.records


def _positive_zero(floats):
    """-0.0 sends the path back to the dict loop (its sum's sign depends on order), so
    the tests of the numpy sums themselves leave it out."""
    return floats.filter(lambda v: v != 0 or math.copysign(1.0, v) > 0)


_keys = st.one_of(st.integers(0, 300), st.integers(-(2**63), 2**63 - 1), st.integers(2**63, 2**70))
_values = st.floats(allow_nan=True, allow_infinity=True)
_pairs = st.tuples(st.one_of(_keys, st.booleans(), st.just(2.0), st.just("k")), st.one_of(_values, st.integers(0, 3)))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3000), _positive_zero(st.floats(-1e6, 1e6))),
                max_size=6000))
def test_sums_of_qualifying_pairs_equal_the_dict_loop_bit_for_bit(records):
    table, rest, summed = _summed_prefix(records)
    assert list(rest) == [] and summed == len(records)
    assert _bits(table) == _bits(_dict_loop(records))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.tuples(_keys, _values), _pairs), max_size=3000))
def test_any_pairs_summed_then_handed_back_equal_the_dict_loop(records):
    table, rest, summed = _summed_prefix(records)
    rest = list(rest)
    assert summed + len(rest) == len(records) and rest == records[summed:]
    combine_loop(None, operator.add)(table, rest)  # what the map side does next
    assert _bits(table) == _bits(_dict_loop(records))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-(2**40), 2**40), _positive_zero(st.floats(-1e3, 1e3))), min_size=1, max_size=4000),
       st.integers(1, 5))
def test_compacting_in_steps_keeps_order_and_sums(records, pieces):
    sums = FloatSums()
    step = max(1, len(records) // pieces)
    for start in range(0, len(records), step):
        assert sums.add_pairs(records[start:start + step])
        sums._compact()  # as a long task compacts between batches
    assert _bits(sums.to_dict()) == _bits(_dict_loop(records))


def test_negative_zero_nan_and_odd_keys_leave_the_path():
    for bad in [(1, -0.0), (True, 1.0), (2**64, 1.0), (1, 1), ("a", 1.0), (1.0, 1.0), (1, 2.0, 3.0)]:
        assert not FloatSums().add_pairs([(5, 1.0), bad]), bad
    nan = FloatSums()
    assert nan.add_pairs([(1, math.nan), (1, 1.0), (2, math.inf)])
    table = nan.to_dict()
    assert math.isnan(table[1]) and table[2] == math.inf


def test_the_reduce_side_sums_runs_in_order_and_hands_back_the_rest():
    class Columns:
        columnar = True

    class Records:
        columnar = False

    chunks = [(Columns, ([1, 2], [0.5, 1.0])), (Columns, ([2, 3], [0.25, 0.1])), (Records, [(1, 1.0)])]
    table, rest = float_sums_absorb(iter(chunks), MemoryBudget(1 << 20), SizeModel())
    assert table == {1: 0.5, 2: 1.25, 3: 0.1} and list(table) == [1, 2, 3]
    assert list(rest) == chunks[2:]


def test_a_small_budget_leaves_numpy_and_spills_with_the_same_sums():
    records = [(i % 5000, 1.0 / (1 + i % 7)) for i in range(60_000)]
    add = Aggregator(None, operator.add, operator.add)
    tight = dict(LocalCombine(add, "reduce_by_key", memory_limit=256 << 10)(0, iter(records)))
    roomy = dict(LocalCombine(add, "reduce_by_key", memory_limit=1 << 30)(0, iter(records)))
    assert _bits(dict(sorted(tight.items()))) == _bits(dict(sorted(_dict_loop(records).items())))
    assert _bits(roomy) == _bits(_dict_loop(records))


def test_reduce_by_key_float_sums_on_the_processes_runner_equal_serial():
    records = [((i * 7919) % 3001, (i % 13) / 7.0) for i in range(40_000)]
    ds = mf.from_sequence(records, partitions=4).reduce_by_key(operator.add, 3)
    serial = ds.collect(runner="serial")
    assert serial == ds.collect(runner="processes")  # same records, same order: partitions and keys within
    expected = _dict_loop(records)  # one table: the sums by partition then merged differ in their last bits
    assert dict(serial) == expected or all(math.isclose(v, expected[k]) for k, v in serial)


def test_map_side_sums_travel_as_arrays_and_reach_user_code_as_python_numbers(tmp_path_factory):
    from mapfold.shuffle.spill import read_chunks

    records = [(i % 500, 0.5 * i) for i in range(4000)]
    folder = str(tmp_path_factory.mktemp("sums"))
    out = ShuffleWriter(_Shuffle(3, HashPartitioner(3)), folder)(0, iter(records))
    chunks = [chunk for b in range(3) for segment in out.bucket(b) for chunk in read_chunks(segment)]
    assert {(type(keys).__name__, str(keys.dtype), str(values.dtype)) for keys, values in chunks} == {
        ("ndarray", "int64", "float64")}
    # one map partition's sums are arrays, the other's int values go by the dict loop: the reduce
    # side sums the arrays, then hands the table on to the loop with the rest
    mixed = [(i % 300, 0.25 * i) for i in range(3000)] + [(i % 300, i) for i in range(3000)]
    ds = mf.from_sequence(mixed, partitions=2).reduce_by_key(operator.add, 2)
    for runner in ("serial", "processes"):
        got = ds.collect(runner=runner)
        assert {(type(k), type(v)) for k, v in got} == {(int, float)}
        assert dict(got) == pytest.approx(_dict_loop(mixed))


class _Shuffle:
    def __init__(self, buckets: int, partitioner):
        from mapfold.plan.nodes import Aggregator

        self.num_partitions, self.partitioner = buckets, partitioner
        self.aggregator = Aggregator(None, operator.add, operator.add)


def _bucket_pairs(out, buckets: int) -> list:
    from mapfold.shuffle.spill import read_records

    return [[pair for segment in out.bucket(b) for pair in read_records(segment)] for b in range(buckets)]


@settings(max_examples=40, deadline=None)  # the first example imports numpy
@given(st.lists(st.tuples(st.one_of(st.integers(0, 3000), st.integers(-(2**63), 2**63 - 1)),
                          _positive_zero(st.floats(allow_nan=False))), min_size=1, max_size=3000),
       st.integers(1, 5), st.booleans())
def test_sums_written_from_numpy_columns_are_the_dict_loops_buckets(tmp_path_factory, records, buckets, hashed):
    """The map side writes numpy sums bucketed in numpy: each bucket holds the keys, their
    order and their sums' bits that the dict loop's table gives through ``bucket_columns``."""
    from mapfold.shuffle.partitioner import HashPartitioner
    from mapfold.shuffle.spill import RunWriter
    from mapfold.shuffle.writer import MapOutput, ShuffleWriter, bucket_columns

    partitioner = HashPartitioner(buckets) if hashed else (lambda key: key % buckets)
    folder = str(tmp_path_factory.mktemp("sums"))
    out = ShuffleWriter(_Shuffle(buckets, partitioner), folder)(0, iter(records))
    table = _dict_loop(records)
    expected = [list(zip(*part)) for part in bucket_columns(list(table), list(table.values()), buckets, partitioner)]
    got = _bucket_pairs(out, buckets)
    assert [_bits(dict(part)) for part in got] == [_bits(dict(part)) for part in expected]
    assert [len(part) for part in got] == [len(part) for part in expected]
