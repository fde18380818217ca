"""Persisted partitions on disk: big buffers out of band, read back memory-mapped; dict records in columns.

Import rule: runs inside workers (the processes runner's tasks read these
files, ``plan.execute.Materialize`` writes them); imports nothing of
mapfold but ``core.collector`` and never imports numpy itself (it uses numpy only when the
worker already has it, that is when the records hold numpy values).

Why: an iterative fit (``mapfold.ml``'s logistic regression) reads the same
persisted partitions once per optimizer iteration. Plain pickle files cost
a copy of every array per read, and records of many small numpy vectors
(what ``VectorAssembler`` makes) cost ~10 us each to unpickle, so reading
the partition was most of an iteration. Two changes, both invisible to the
code reading records:

* **Out-of-band buffers, mapped.** A partition is pickled with protocol 5;
  every contiguous buffer of at least ``OUT_OF_BAND`` bytes (numpy arrays)
  is written after the pickle, 64-byte aligned, instead of inside it.
  Reading maps the file copy-on-write (``mmap.ACCESS_COPY``) and hands the
  buffers to ``pickle.loads``: the arrays are views of the page cache,
  writable (a write stays private to the reader), no copy and no parsing.
* **Columns.** A partition of dicts with the same keys (``ColumnarRecords``)
  is kept as one column per key when numpy is loaded: numpy arrays of one
  shape and dtype stacked into one block (records get its rows, as views),
  Python floats as a float64 array and ints as an int64 array (records get
  the same Python floats and ints back, ``tolist``), anything else as a
  list. Reading it yields equal records; code that can use the blocks asks
  the iterator for them (``column(key)``), as ``mapfold.ml``'s
  ``feature_blocks`` does, so the fit's ``(X, y)`` is the mapped block itself.

File layout: ``MAGIC``, the count of buffers and the pickle's length
(little-endian u64), each buffer's length (u64), the pickle, then each
buffer at the next multiple of 64.
"""
from __future__ import annotations

import mmap
import pickle
import struct
import sys
from typing import Any, Iterator

from .collector import paused_gc

__all__ = ["write_partition", "read_partition", "ColumnarRecords", "as_columns", "OUT_OF_BAND"]

MAGIC = b"MFP1"
ALIGN = 64
# Buffers at least this big go out of band (mapped on read); smaller ones stay in the pickle,
# where a copy costs less than a page-aligned slot.
OUT_OF_BAND = 64 * 1024
# Fewer records than this stay a list: columns pay off on many records.
MIN_COLUMNAR = 64
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _padded(n: int) -> int:
    return -n % ALIGN


def write_partition(path: str, value: Any) -> None:
    """Write ``value`` (a partition's records, or ``ColumnarRecords``) to ``path``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(prefix="mapfold-doc-"), "part")
    >>> write_partition(path, [1, "a", None])
    >>> read_partition(path)
    [1, 'a', None]
    >>> os.remove(path); os.rmdir(os.path.dirname(path))
    """
    buffers: list = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        if buffer.raw().nbytes < OUT_OF_BAND:
            return True  # in band
        buffers.append(buffer)
        return False

    payload = pickle.dumps(value, protocol=5, buffer_callback=out_of_band)
    raws = [b.raw() for b in buffers]
    with open(path, "wb") as f:
        header = MAGIC + struct.pack("<QQ", len(raws), len(payload)) + struct.pack(f"<{len(raws)}Q",
                                                                                   *(r.nbytes for r in raws))
        f.write(header)
        f.write(payload)
        offset = len(header) + len(payload)
        for raw in raws:
            f.write(b"\0" * _padded(offset))
            offset += _padded(offset)
            f.write(raw)
            offset += raw.nbytes


def read_partition(path: str) -> Any:
    """What :func:`write_partition` wrote, its big buffers mapped from the file (copy-on-write);
    the cyclic garbage collector paused meanwhile, and left as it was.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(prefix="mapfold-doc-"), "part")
    >>> write_partition(path, [(1, [2, 3])])
    >>> import gc
    >>> read_partition(path), gc.isenabled()
    ([(1, [2, 3])], True)
    >>> os.remove(path); os.rmdir(os.path.dirname(path))
    """
    # a partition's records are thousands of new containers and none of them garbage: with the
    # cyclic collector on, they set off its collections, the older ones walking everything the
    # process holds (PageRank's persisted links read each iteration: 0.09 s -> 0.05 s a partition)
    with paused_gc():
        return _read_partition(path)


def _read_partition(path: str) -> Any:
    with open(path, "rb") as f:
        head = f.read(20)
        if head[:4] != MAGIC:
            raise ValueError(f"{path} is not a persisted partition file (no {MAGIC!r} header)")
        count, length = struct.unpack("<QQ", head[4:])
        sizes = struct.unpack(f"<{count}Q", f.read(8 * count))
        if not count:
            return pickle.loads(f.read(length))
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    view = memoryview(mapped)
    start = 20 + 8 * count
    offset = start + length
    buffers = []
    for size in sizes:
        offset += _padded(offset)
        buffers.append(view[offset:offset + size])
        offset += size
    return pickle.loads(view[start:start + length], buffers=buffers)


class ColumnarRecords:
    """Dict records with the same keys, kept as columns (see the module docstring).

    ``kinds[key]`` is ``"rows"`` (a block whose rows are the values),
    ``"scalars"`` (an array whose ``tolist()`` gives the values) or
    ``"objects"`` (a list of the values).

    >>> import numpy as np
    >>> records = [{"f": np.array([float(i), 1.0]), "y": float(i), "s": str(i)} for i in range(100)]
    >>> columns = as_columns(records)
    >>> columns.kinds
    {'f': 'rows', 'y': 'scalars', 's': 'objects'}
    >>> rows = columns.rows()
    >>> rows.column("f").shape, rows.column("s") is None
    ((100, 2), True)
    >>> back = list(rows)
    >>> back[3]["f"].tolist(), type(back[3]["y"]), back[3]["s"]
    ([3.0, 1.0], <class 'float'>, '3')
    """

    __slots__ = ("keys", "kinds", "columns", "length")

    def __init__(self, keys: tuple, kinds: dict, columns: dict, length: int):
        self.keys, self.kinds, self.columns, self.length = keys, kinds, columns, length

    def __reduce__(self):
        return ColumnarRecords, (self.keys, self.kinds, self.columns, self.length)

    def __len__(self) -> int:
        return self.length

    def rows(self) -> "_Rows":
        """An iterator of the records (new dicts) that also hands out the columns."""
        return _Rows(self)

    def __iter__(self) -> Iterator[dict]:
        return self.rows()


class _Rows:
    __slots__ = ("records", "_iterator")

    def __init__(self, records: ColumnarRecords):
        self.records = records
        self._iterator = None

    def column(self, key):
        """The block (``"rows"``) or array (``"scalars"``) of ``key``'s values, or None."""
        if self.records.kinds.get(key) == "objects":
            return None
        return self.records.columns.get(key)

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        if self._iterator is None:
            self._iterator = self._make()
        return next(self._iterator)

    def _make(self) -> Iterator[dict]:
        records = self.records
        keys = records.keys
        values = []
        for key in keys:
            column, kind = records.columns[key], records.kinds[key]
            values.append(list(column) if kind == "rows" else column.tolist() if kind == "scalars" else column)
        return (dict(zip(keys, row)) for row in zip(*values))


def _column(np, values: list):
    """``(kind, column)`` of one key's values."""
    first = values[0]
    kind = type(first)
    if kind is np.ndarray and first.ndim >= 1 and first.dtype != object:
        shape, dtype = first.shape, first.dtype
        if all(type(v) is np.ndarray and v.shape == shape and v.dtype == dtype for v in values):
            return "rows", np.stack(values)
    elif kind is float:
        if all(type(v) is float for v in values):
            return "scalars", np.array(values, dtype=np.float64)
    elif kind is int:
        if all(type(v) is int for v in values) and _INT64[0] <= min(values) and max(values) <= _INT64[1]:
            return "scalars", np.array(values, dtype=np.int64)
    return "objects", values


def as_columns(records: list) -> "ColumnarRecords | list":
    """``records`` as :class:`ColumnarRecords` when they are many dicts with the same keys
    (and numpy is loaded), else ``records`` as they are.

    >>> as_columns([1, 2])
    [1, 2]
    """
    np = sys.modules.get("numpy")
    if np is None or len(records) < MIN_COLUMNAR or type(records[0]) is not dict:
        return records
    keys = tuple(records[0])
    if not keys or any(type(r) is not dict or tuple(r) != keys for r in records):
        return records
    kinds, columns = {}, {}
    for key in keys:
        kinds[key], columns[key] = _column(np, [r[key] for r in records])
    if all(kind == "objects" for kind in kinds.values()):
        return records
    return ColumnarRecords(keys, kinds, columns, len(records))
