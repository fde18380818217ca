"""Spill files: runs of records written in pickled chunks, read back lazily.

A task writes all its runs into one append-only file (map side:
``map-00003.runs`` in the shuffle's folder; reduce side: a file in the
reduce task's folder). Each run is a :class:`Segment` (path, byte offset,
length, record count) made of pickled lists of records ("chunks"), so a
reader holds one chunk per run, never a whole run.

Two kinds of runs:

* **sorted** runs hold ``(hash, key, value)`` triples in ascending
  ``stable_hash(key)`` order: what a table spills when it outgrows the
  memory budget. They are merged with ``heapq.merge`` (see ``merge.py``).
* **unsorted** runs hold ``(key, value)`` pairs in any order: the last,
  in-memory part of a map task's output, and the buckets of a shuffle
  without combining.

A combined table's last run is written in **columns**: each chunk is a pair
``(keys, values)`` of lists rather than a list of pairs (``columnar``), so
no tuple is built per entry on either side and the reader can load a chunk
into a dict with one C-level ``dict.update(zip(keys, values))``. Chunks are
pickled without the memo (``core.serialize.dumps_records``): 4-5x cheaper
for small records, and bounded by the deep size the chunk was cut by.

Spill files are data (pickle of the user's keys and values, never code),
live under the job's private folder (mode 0700) and go away with it when
the job ends, fails or is interrupted (``plan/execute.py``).
"""
from __future__ import annotations

import errno
import io
import os
import pickle
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Iterable, Iterator

from ..core.config import format_size
from ..core.errors import SpillError
from ..core.serialize import dumps_records

__all__ = ["Segment", "AppendFile", "RunWriter", "column_list", "read_chunks", "read_records", "DISK_FULL"]

DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # no space, over quota, over the file-size limit

@dataclass(frozen=True)
class Segment:
    """One run in a spill file."""

    path: str
    offset: int
    length: int
    records: int
    sorted: bool = False
    columnar: bool = False  # chunks are (keys, values) pairs of columns: lists, or numpy arrays (column_list)
    # the run's bytes themselves, when an engine moves them (shuffle/packed.py): no file then
    data: bytes | None = field(default=None, repr=False, compare=False)


class AppendFile:
    """An append-only spill file in a private folder, opened on the first write.

    A write that finds the disk full raises :class:`~mapfold.core.errors.SpillError`
    naming the folder, the bytes this file took and the memory ``budget``
    the spill was made under.

    >>> import tempfile, os
    >>> f = AppendFile(os.path.join(tempfile.mkdtemp(), "x.runs"), budget=64 << 20)
    >>> with f.guarded():
    ...     raise OSError(28, "No space left on device")
    Traceback (most recent call last):
    mapfold.core.errors.SpillError: [Errno 28] spill to .../x.runs ran out of disk ...: 0 B written ..., memory budget 64.0 MiB ...
    """

    def __init__(self, path: str, budget: int | None = None):
        self.path = path
        self.budget = budget
        self._file = None
        self.bytes_written = 0

    @contextmanager
    def guarded(self, offset: int | None = None):
        """Turn a full disk met inside the block into a :class:`SpillError` with context."""
        try:
            yield
        except SpillError:
            raise
        except OSError as exc:
            if exc.errno not in DISK_FULL:
                raise
            written = self.bytes_written
            if offset is not None and self._file is not None:
                try:
                    written += max(0, self._file.tell() - offset)
                except (OSError, ValueError):
                    pass
            self.abandon()
            folder = os.path.dirname(self.path)
            budget = format_size(self.budget) if self.budget else "unknown"
            why = "the file-size limit (ulimit -f)" if exc.errno == errno.EFBIG else "disk"
            try:
                disk = shutil.disk_usage(folder)
                disk_size, disk_free = disk.total, disk.free
                where = f" (disk {format_size(disk_size)}, {format_size(disk_free)} free)"
            except OSError:
                disk_size = disk_free = None
                where = ""
            raise SpillError(exc.errno,
                             f"[Errno {exc.errno}] spill to {self.path} ran out of {why} ({exc.strerror}): "
                             f"{format_size(written)} written to it in folder {folder}{where}, memory budget "
                             f"{budget} per worker; free space there, point MAPFOLD_SCRATCH (or TMPDIR) at a "
                             "larger disk, or raise memory_limit so less is spilled",
                             folder=folder, written=written, budget=self.budget, disk_size=disk_size,
                             disk_free=disk_free) from exc

    def abandon(self) -> None:
        """Close without flushing what the disk refused (the file is removed with the job's folder)."""
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()
            except OSError:
                try:
                    os.close(f.fileno())
                except (OSError, ValueError):
                    pass

    def _open(self):
        if self._file is None:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            self._file = open(self.path, "wb")
        return self._file

    def flush(self) -> None:
        if self._file is not None:
            with self.guarded():
                self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            with self.guarded():
                self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RunWriter(AppendFile):
    """Appends runs to one file; opened on the first write.

    >>> import tempfile, os
    >>> w = RunWriter(os.path.join(tempfile.mkdtemp(), "x.runs"))
    >>> seg = w.write([("a", 1), ("b", 2)], chunk_records=1)
    >>> w.close(); list(read_records(seg))
    [('a', 1), ('b', 2)]
    """

    def write(self, records: Iterable, chunk_records: int, sorted: bool = False,
              chunk_values: int | None = None) -> Segment:
        """Append a run of ``records``, ``chunk_records`` to a pickled chunk.

        ``chunk_values``: the records are ``(hash, key, values)`` groups, and
        a chunk also ends once it holds that many values, so the pieces of
        one long group (``writer.split_groups``) never pile up in one chunk
        (a reader holds a chunk per run at once).

        >>> import tempfile, os
        >>> w = RunWriter(os.path.join(tempfile.mkdtemp(), "g.runs"))
        >>> seg = w.write([(1, "a", [1, 2]), (1, "a", [3, 4]), (2, "b", [5])], 100, chunk_values=2)
        >>> w.close(); [len(chunk) for chunk in read_chunks(seg)]
        [1, 1, 1]
        """
        f = self._open()
        offset = f.tell()
        with self.guarded(offset):
            if chunk_values is not None:
                return self._write_groups(f, offset, records, chunk_records, chunk_values, sorted)
            return self._write(f, offset, records, chunk_records, sorted)

    def _write_groups(self, f, offset: int, records: Iterable, chunk_records: int, chunk_values: int,
                      sorted: bool) -> Segment:
        write = f.write
        count, chunk, held = 0, [], 0
        for record in records:
            chunk.append(record)
            held += len(record[2])
            if held >= chunk_values or len(chunk) >= chunk_records:
                write(dumps_records(chunk))
                count += len(chunk)
                chunk, held = [], 0
        if chunk:
            write(dumps_records(chunk))
            count += len(chunk)
        length = f.tell() - offset
        self.bytes_written += length
        return Segment(self.path, offset, length, count, sorted)

    def _write(self, f, offset: int, records: Iterable, chunk_records: int, sorted: bool) -> Segment:
        write = f.write
        count = 0
        if isinstance(records, list):
            for start in range(0, len(records), chunk_records):
                write(dumps_records(records[start:start + chunk_records]))
            count = len(records)
        else:
            iterator = iter(records)
            while True:
                chunk = list(islice(iterator, chunk_records))
                if not chunk:
                    break
                write(dumps_records(chunk))
                count += len(chunk)
        length = f.tell() - offset
        self.bytes_written += length
        return Segment(self.path, offset, length, count, sorted)

    def write_columns(self, keys, values, chunk_records: int) -> Segment:
        """Append an unsorted run of ``(keys[i], values[i])`` pairs in columns:
        lists, or numpy arrays (float sums by int key: they travel as their
        bytes, and the reduce side sums them without a check or a conversion).

        >>> import tempfile, os
        >>> w = RunWriter(os.path.join(tempfile.mkdtemp(), "x.runs"))
        >>> seg = w.write_columns(["a", "b", "c"], [1, 2, 3], chunk_records=2)
        >>> w.close(); list(read_records(seg)), list(read_chunks(seg))
        ([('a', 1), ('b', 2), ('c', 3)], [(['a', 'b'], [1, 2]), (['c'], [3])])
        """
        f = self._open()
        offset = f.tell()
        write = f.write
        with self.guarded(offset):
            for start in range(0, len(keys), chunk_records):
                end = start + chunk_records
                write(dumps_records((keys[start:end], values[start:end])))
        length = f.tell() - offset
        self.bytes_written += length
        return Segment(self.path, offset, length, len(keys), False, columnar=True)


def read_chunks(segment: Segment) -> Iterator:
    """The pickled chunks of a run, one at a time: lists of records, or
    ``(keys, values)`` pairs of lists for a ``columnar`` run; from its file,
    or from its ``data`` when the run travelled in memory."""
    if segment.length == 0:
        return
    with (open(segment.path, "rb") if segment.data is None else io.BytesIO(segment.data)) as f:
        f.seek(segment.offset)
        end = segment.offset + segment.length
        load = pickle.load
        while f.tell() < end:
            yield load(f)


def column_list(column) -> list:
    """A columnar chunk's column as a list of Python objects (a numpy array's
    items would be numpy scalars, never handed to user code).

    >>> column_list([1, 2])
    [1, 2]
    """
    return column if type(column) is list else column.tolist()


def read_records(segment: Segment) -> Iterator:
    """The records of a run, lazily (one chunk in memory)."""
    if segment.columnar:
        return chain.from_iterable(zip(column_list(keys), column_list(values))
                                   for keys, values in read_chunks(segment))
    return chain.from_iterable(read_chunks(segment))
