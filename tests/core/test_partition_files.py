"""Persisted partition files (core/partition_files.py): what is written reads back equal, in the
same types; arrays come back mapped and writable without touching the file; dict records with
the same keys are kept in columns; a processes runner's persisted Dataset equals the serial one."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import mapfold as mf
from mapfold.core.partition_files import ColumnarRecords, as_columns, read_partition, write_partition


def _round_trip(tmp_path, records):
    path = str(tmp_path / "part")
    write_partition(path, as_columns(records))
    value = read_partition(path)
    return value, list(value.rows()) if isinstance(value, ColumnarRecords) else value


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a.hex() == b.hex() if not math.isnan(a) else math.isnan(b)
    return a == b


def test_dict_records_come_back_equal_from_columns(tmp_path):
    rng = np.random.default_rng(0)
    records = [{"f": rng.normal(size=3), "y": float(i % 2), "n": i - 50, "s": f"r{i}", "flag": i % 3 == 0,
                "z": [-0.0, math.inf, math.nan][i % 3]} for i in range(200)]
    stored, back = _round_trip(tmp_path, records)
    assert isinstance(stored, ColumnarRecords)
    assert stored.kinds == {"f": "rows", "y": "scalars", "n": "scalars", "s": "objects", "flag": "objects",
                            "z": "scalars"}
    assert _same(back, records)


@pytest.mark.parametrize("records", [
    [{"a": 1}] * 10,                                     # too few for columns
    [{"a": 1}, {"b": 2}] * 100,                          # different keys
    [{"a": 1, "b": 2}, {"b": 2, "a": 1}] * 100,          # same keys, another order
    [{"a": 2 ** 70}] * 100,                              # an int past int64
    [{"a": 1}] * 99 + [{"a": 1.5}],                      # mixed numbers
    [{"a": np.zeros(2)}] * 99 + [{"a": np.zeros(3)}],    # vectors of two lengths
    [(np.arange(100000.0), 1.0)],                        # not dicts: a big array out of band
    [],
])
def test_other_records_come_back_equal(tmp_path, records):
    _, back = _round_trip(tmp_path, records)
    assert _same(back, records)


def test_arrays_are_mapped_writable_and_private(tmp_path):
    path = str(tmp_path / "part")
    write_partition(path, [(np.arange(100000.0), "x")])
    array = read_partition(path)[0][0]
    assert array.flags.writeable and array.ctypes.data % 64 == 0
    array[:] = -1.0
    assert read_partition(path)[0][0][5] == 5.0  # the write stayed with the first reader
    os.remove(path)
    assert array[5] == -1.0  # still mapped after the file is gone


def test_rows_hand_out_their_columns(tmp_path):
    records = [{"f": np.array([float(i), 2.0]), "y": i % 2} for i in range(100)]
    stored, _ = _round_trip(tmp_path, records)
    rows = stored.rows()
    assert rows.column("f").shape == (100, 2) and rows.column("y").dtype == np.int64
    assert next(rows)["f"].tolist() == [0.0, 2.0]


def test_a_processes_runner_persists_as_the_serial_runner_keeps():
    records = [{"features": np.array([i, i / 3.0]), "label": float(i % 2), "id": i} for i in range(500)]
    ds = mf.from_sequence(records, partitions=3).map(dict).persist()
    try:
        with mf.runner("processes", workers=2):
            assert ds.count() == 500
            got = ds.collect()
    finally:
        ds.unpersist()
    assert _same(got, records)
