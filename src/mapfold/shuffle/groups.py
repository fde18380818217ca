"""Groups larger than memory: the values of one key, streamed from disk.

``group_by_key`` hands out ``(key, values)``. When a group fits in the
memory budget, ``values`` is a plain ``list``. When one key has more values
than fit, the reduce task writes them to a file in its private folder as
they arrive and ``values`` is a :class:`SpilledValues`: a read-only,
re-iterable sequence with ``len()``, that reads the values back one chunk at
a time. What a user gets:

* iterate it (``sum(values)``, ``for v in values``), as often as needed,
  and ``len(values)`` costs nothing: both work inside the job, which is
  where the values of a huge group are meant to be consumed
  (``group_by_key().map_values(len)``, ``.flat_map(...)``);
* when it is pickled (a worker sends results to the driver, or it is
  persisted on disk) it turns into a plain ``list``: so ``collect()`` on the
  processes runner returns lists;
* its file belongs to the job and is removed when the job ends. On the
  serial runner nothing is pickled, so a ``SpilledValues`` that outlives
  the job (collected as it is) raises :class:`~mapfold.MapfoldError` when
  read; write ``.map_values(list)`` to keep the values.
"""
from __future__ import annotations

import os
import pickle
from typing import Iterator

from ..core.errors import MapfoldError

__all__ = ["SpilledValues", "GroupStore", "GroupBuilder"]


class SpilledValues:
    """The values of a group too big for memory; reads them from disk."""

    __slots__ = ("_path", "_pieces", "_tail", "_count")

    def __init__(self, path: str, pieces: list, tail: list, count: int):
        self._path, self._pieces, self._tail, self._count = path, pieces, tail, count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator:
        if self._pieces:
            try:
                f = open(self._path, "rb")
            except FileNotFoundError:
                raise MapfoldError(
                    f"the {self._count} values of this group were spilled to disk during the job and "
                    "their file was removed when the job ended; consume them inside the job "
                    "(e.g. .map_values(list) or .map_values(len)) before collecting"
                ) from None
            with f:
                for offset in self._pieces:
                    f.seek(offset)
                    yield from pickle.load(f)
        yield from self._tail

    def __reduce__(self):
        return (list, (list(self),))

    def __eq__(self, other) -> bool:
        if isinstance(other, (list, SpilledValues)):
            return len(other) == self._count and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # mutable-looking container, as list

    def __repr__(self) -> str:
        return f"<SpilledValues: {self._count} values, {len(self._pieces)} chunks on disk>"


class GroupStore:
    """The file a reduce task writes its oversized groups to."""

    def __init__(self, path: str):
        self.path = path
        self._file = None
        self.bytes_written = 0

    def append(self, values: list) -> int:
        if self._file is None:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            self._file = open(self.path, "wb")
        offset = self._file.tell()
        pickle.dump(values, self._file, pickle.HIGHEST_PROTOCOL)
        self.bytes_written += self._file.tell() - offset
        return offset

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class GroupBuilder:
    """Collects one key's values; past ``max_values`` in memory, moves them
    to the store in chunks."""

    __slots__ = ("store", "max_values", "values", "pieces", "count")

    def __init__(self, store: GroupStore, max_values: int):
        self.store, self.max_values = store, max_values
        self.values: list = []
        self.pieces: list = []
        self.count = 0

    def extend(self, values: list) -> None:
        self.values.extend(values)
        self.count += len(values)
        if len(self.values) >= self.max_values:
            self.pieces.append(self.store.append(self.values))
            self.values = []

    def result(self):
        if not self.pieces:
            return self.values
        self.store.flush()
        return SpilledValues(self.store.path, self.pieces, self.values, self.count)
