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
* its file (in the runner's private scratch folder) is removed as soon as
  no ``SpilledValues`` of it is referenced any more: usually while the
  job runs, as the groups are consumed; at the latest when the runner is
  closed (which removes its scratch folder). A ``SpilledValues`` kept past
  that (the serial runner hands out the object itself) raises
  :class:`~mapfold.MapfoldError` when read.

``cogroup`` (and the joins built on it) groups ``(side, value)`` pairs the
same way; a spilled group is handed out as one :class:`SideValues` view per
side, which filters the spilled pairs as it streams them.
"""
from __future__ import annotations

import os
import pickle
import weakref
from typing import Iterator

from ..core.errors import MapfoldError
from .spill import AppendFile

__all__ = ["SpilledValues", "SideValues", "GroupStore", "GroupBuilder"]


class SpilledValues:
    """The values of a group too big for memory; reads them from disk."""

    __slots__ = ("_file", "_pieces", "_tail", "_count")

    def __init__(self, file: "_SharedFile", pieces: list, tail: list, count: int):
        self._file, self._pieces, self._tail, self._count = file, pieces, tail, count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator:
        if self._pieces:
            try:
                f = open(self._file.path, "rb")
            except FileNotFoundError:
                raise MapfoldError(
                    f"the {self._count} values of this group were spilled to disk and their file is "
                    "gone (the runner that made it was closed); consume them inside the job "
                    "(e.g. .map_values(list) or .map_values(len)) or while the runner is open"
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


class SideValues:
    """One side's values of a spilled ``cogroup`` group: the ``value`` of each
    ``(side, value)`` of the group with this side, streamed from disk on each
    iteration; ``len()`` takes one pass (then is remembered); pickles as a list.

    >>> list(SideValues([(0, "a"), (1, "b"), (0, "c")], 0)), len(SideValues([(0, "a")], 1))
    (['a', 'c'], 0)
    """

    __slots__ = ("_tagged", "_side", "_count")

    def __init__(self, tagged, side: int):
        self._tagged, self._side, self._count = tagged, side, None

    def __iter__(self) -> Iterator:
        side = self._side
        return (value for tag, value in self._tagged if tag == side)

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count

    def __reduce__(self):
        return (list, (list(self),))

    def __eq__(self, other) -> bool:
        if isinstance(other, (list, SpilledValues, SideValues)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"<SideValues: side {self._side} of {self._tagged!r}>"


def _remove(path: str, with_folder: bool = False) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    if with_folder:  # a folder made for this file alone
        try:
            os.rmdir(os.path.dirname(path))
        except OSError:
            pass


class _SharedFile:
    """A file removed when the last object holding this handle is gone."""

    __slots__ = ("path", "__weakref__")

    def __init__(self, path: str, with_folder: bool = False):
        self.path = path
        weakref.finalize(self, _remove, path, with_folder)


class GroupStore(AppendFile):
    """The file a reduce task writes its oversized groups to; it lives as
    long as this store or any :class:`SpilledValues` made from it."""

    def __init__(self, path: str, budget: int | None = None, own_folder: bool = False):
        super().__init__(path, budget)
        self.handle = _SharedFile(path, own_folder)  # own_folder: removed with the file

    def append(self, values: list) -> int:
        f = self._open()
        offset = f.tell()
        with self.guarded(offset):
            pickle.dump(values, f, pickle.HIGHEST_PROTOCOL)
        self.bytes_written += f.tell() - offset
        return offset


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
        return SpilledValues(self.store.handle, self.pieces, self.values, self.count)
