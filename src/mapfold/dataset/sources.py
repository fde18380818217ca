"""Where Datasets come from: Python sequences, text, JSON lines, CSV and Parquet files.

Each file reader builds a Source (``io/``) whose ``partitions()`` are
picklable objects with ``read()`` (and ``position()`` for error messages);
:class:`~mapfold.plan.nodes.SourceNode` wraps them. No data is read here
beyond what planning needs (a CSV header, Parquet footers).
"""
from __future__ import annotations

import os
from typing import Callable, Iterable, Iterator

from ..core.config import default_workers
from ..core.partition_files import read_partition
from ..plan.nodes import SourceNode

__all__ = ["from_sequence", "from_slices", "from_partition_files", "read_pickle", "read_whole_text", "read_text", "read_key_value", "read_jsonl", "read_csv", "read_parquet", "SequencePartition"]


class SequencePartition:
    """A slice of an in-memory sequence."""

    #: it lives in the driver's memory: workers forked after it was made have it already
    #: (``runners/processes.py`` then sends a token, not the items)
    shareable_at_fork = True

    def __init__(self, items: list, first: int):
        self.items = items
        self.first = first
        self._iterator = None

    def __getstate__(self):
        return {"items": self.items, "first": self.first}

    def __setstate__(self, state):
        self.__init__(state["items"], state["first"])

    def read(self) -> Iterator:
        self._iterator = iter(self.items)
        return self._iterator

    def position(self) -> str | None:
        if self._iterator is None:
            return None
        done = len(self.items) - self._iterator.__length_hint__()
        return f"element {self.first + done - 1} of the input sequence"

    def describe(self) -> str:
        return f"elements {self.first}-{self.first + len(self.items) - 1}"


class SequenceSource:
    def __init__(self, length: int):
        self.length = length

    def describe(self) -> str:
        return f"sequence of {self.length} items"


def from_sequence(items: Iterable, partitions: int | None = None):
    """A Dataset over the items of a Python iterable, cut into partitions.

    >>> from_sequence(range(10), partitions=3).glom().collect()
    [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    """
    from .checks import check_count
    from .dataset import Dataset

    items = list(items)
    if partitions is None:
        partitions = min(2 * default_workers(), max(1, len(items)))
    check_count(partitions, "partitions", "from_sequence")
    size, extra = divmod(len(items), partitions)
    parts, start = [], 0
    for i in range(partitions):
        end = start + size + (1 if i < extra else 0)
        parts.append(SequencePartition(items[start:end], start))
        start = end
    return Dataset(SourceNode(SequenceSource(len(items)), parts))


def from_slices(slices: Iterable[Iterable]):
    """A Dataset whose partition ``i`` holds the items of ``slices[i]``, as given.

    >>> from_slices([[1, 2], [], [3]]).glom().collect(runner="serial")
    [[1, 2], [], [3]]
    """
    from .dataset import Dataset

    parts, start = [], 0
    for items in slices:
        items = list(items)
        parts.append(SequencePartition(items, start))
        start += len(items)
    return Dataset(SourceNode(SequenceSource(start), parts))


class PartitionFile:
    """A partition written by ``core.partition_files.write_partition``, read back mapped."""

    def __init__(self, path: str):
        self.path = path

    def read(self) -> Iterator:
        return iter(read_partition(self.path))  # a list, or ColumnarRecords (its rows)

    def position(self) -> str | None:
        return None

    def describe(self) -> str:
        return f"partition file {self.path}"


class PartitionFilesSource:
    def __init__(self, count: int):
        self.count = count

    def describe(self) -> str:
        return f"{self.count} partition files"


def from_partition_files(paths: Iterable[str]):
    """A Dataset whose partition ``i`` is the file ``paths[i]`` of ``core.partition_files``
    (what a runner's tasks wrote with ``write_partition``; the files must stay until the Dataset
    is no longer read, and every task must see them: one machine, or a shared disk).

    >>> import os, tempfile
    >>> from mapfold.core.partition_files import write_partition
    >>> folder = tempfile.mkdtemp(prefix="mapfold-doc-")
    >>> paths = [os.path.join(folder, name) for name in ("a", "b")]
    >>> write_partition(paths[0], [1, 2]); write_partition(paths[1], [3])
    >>> from_partition_files(paths).glom().collect(runner="serial")
    [[1, 2], [3]]
    >>> import shutil; shutil.rmtree(folder)
    """
    from .dataset import Dataset

    parts = [PartitionFile(os.fspath(path)) for path in paths]
    return Dataset(SourceNode(PartitionFilesSource(len(parts)), parts))


def read_pickle(paths: str | os.PathLike | Iterable, storage_options: dict | None = None):
    """The records of pickle files written by :meth:`Dataset.save_pickle`, one partition per file.

    >>> import tempfile
    >>> out = tempfile.mkdtemp() + "/out"
    >>> _ = from_sequence([(1, "a"), {"b": 2}], partitions=2).save_pickle(out, runner="serial")
    >>> read_pickle(out).collect(runner="serial")
    [(1, 'a'), {'b': 2}]
    """
    from ..io.wholefiles import PickleSource

    return _dataset(PickleSource(paths, storage_options=storage_options))


def read_whole_text(paths: str | os.PathLike | Iterable, encoding: str = "utf-8", storage_options: dict | None = None):
    """``(url, text)`` for each file, whole (PySpark's ``wholeTextFiles``), one partition per file.

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "a.txt"), "w").write("one\\ntwo\\n")
    >>> [(url.endswith("/a.txt"), text) for url, text in read_whole_text(folder).collect(runner="serial")]
    [(True, 'one\\ntwo\\n')]
    """
    from ..io.wholefiles import WholeTextSource

    return _dataset(WholeTextSource(paths, storage_options=storage_options, encoding=encoding))


class EmptyPartition:
    """No records: stands in when a source has nothing to read (all row groups pruned)."""

    def read(self) -> Iterator:
        return iter(())

    def describe(self) -> str:
        return "nothing"


def _check_splits(split_size, min_partitions, method: str) -> None:
    from .checks import check_count

    check_count(split_size, "split_size", method, optional=True)
    check_count(min_partitions, "min_partitions", method, optional=True)


def _dataset(source):
    from .dataset import Dataset

    return Dataset(SourceNode(source, source.partitions() or [EmptyPartition()]))


def read_text(paths: str | os.PathLike | Iterable, split_size: int | None = None, min_partitions: int | None = None,
              encoding: str = "utf-8", storage_options: dict | None = None, errors: str = "raise",
              layout: str = "packed"):
    """Lines of text files (no line endings), from files, folders, globs or URLs.

    Uncompressed files split into line-aligned byte ranges; ``.gz``,
    ``.bz2``, ``.zst`` and ``.xz`` files are one partition each. No data is
    read here. ``errors="skip"`` skips undecodable lines and the unreadable
    rest of a truncated compressed file, counting them (``Dataset.bad_records``).
    ``layout="hadoop"`` cuts as Hadoop's ``TextInputFormat`` (each file on its
    own, small files never packed together: ``io/text.hadoop_segments``).

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "a.txt"), "w").write("one two\\nthree\\n")
    >>> read_text(folder).flat_map(str.split).collect(runner="serial")
    ['one', 'two', 'three']
    """
    from ..io.text import TextSource  # imported here: fsspec is slow to import

    _check_splits(split_size, min_partitions, "read_text")
    source = TextSource(paths, split_size=split_size, min_partitions=min_partitions, encoding=encoding,
                        storage_options=storage_options, errors=errors, layout=layout)
    return _dataset(source)


def read_key_value(paths: str | os.PathLike | Iterable, sep: str = "\t", value: Callable = str,
                   split_size: int | None = None, min_partitions: int | None = None, encoding: str = "utf-8",
                   storage_options: dict | None = None, errors: str = "raise"):
    """``(key, value)`` pairs from ``key<sep>value`` lines (Hadoop Streaming's format).

    Each line splits at its first ``sep``; ``value`` converts the rest
    (``str``, ``int``, ``float`` or any function of one str). Blank lines
    are skipped; a value that does not convert raises
    :class:`~mapfold.InputError` naming file and line, or with
    ``errors="skip"`` is counted in ``Dataset.bad_records``. With pyarrow
    installed, blocks are parsed in C++ (``io/keyvalue.py``), and
    ``reduce_by_key(operator.add)`` straight after it sums in C++ too.

    >>> import operator, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "a.tsv"), "w").write("a\\t1\\nb\\t2\\na\\t3\\n")
    >>> sorted(read_key_value(folder, value=int).reduce_by_key(operator.add).collect(runner="serial"))
    [('a', 4), ('b', 2)]
    """
    from ..io.keyvalue import KeyValueSource

    _check_splits(split_size, min_partitions, "read_key_value")
    source = KeyValueSource(paths, sep=sep, value=value, split_size=split_size, min_partitions=min_partitions,
                            encoding=encoding, storage_options=storage_options, errors=errors)
    return _dataset(source)


def read_jsonl(paths: str | os.PathLike | Iterable, split_size: int | None = None, min_partitions: int | None = None,
               encoding: str = "utf-8", storage_options: dict | None = None, errors: str = "raise"):
    """One record per line of JSON (parsed with orjson), from files, folders, globs or URLs.

    Split like text (byte ranges aligned to lines; compressed files whole).
    Blank lines are skipped. A malformed line raises
    :class:`~mapfold.InputError` naming its file and line, or with
    ``errors="skip"`` is counted and sampled in ``Dataset.bad_records``.

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "a.jsonl"), "w").write('{"w": "a", "n": 1}\\n{"w": "b", "n": 2}\\n')
    >>> read_jsonl(folder).map(lambda r: r["n"]).sum(runner="serial")
    3
    """
    from ..io.jsonl import JsonlSource

    _check_splits(split_size, min_partitions, "read_jsonl")
    source = JsonlSource(paths, split_size=split_size, min_partitions=min_partitions, encoding=encoding,
                         storage_options=storage_options, errors=errors)
    return _dataset(source)


def read_csv(paths: str | os.PathLike | Iterable, header: bool = True, delimiter: str = ",", quotechar: str = '"',
             columns: list | None = None, types="infer", split: bool = True, split_size: int | None = None,
             min_partitions: int | None = None, encoding: str = "utf-8", storage_options: dict | None = None,
             errors: str = "raise"):
    """Rows of CSV files: dicts keyed by the header (or ``columns=``), else lists.

    ``types``: ``"infer"`` (int/float/bool/str per column, from a sample of
    the first file), None (all strings), or ``{column: int | float | bool |
    str}``. A row with the wrong number of fields, or a value that does not
    convert, raises :class:`~mapfold.InputError` naming file and line, or is
    skipped and counted with ``errors="skip"``. Files split into byte ranges
    unless ``split=False``; a quoted field holding a newline needs
    ``split=False`` (with splitting, such a record is detected and refused).

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "a.csv"), "w").write("word,n\\nb,2\\na,1\\n")
    >>> read_csv(folder).collect(runner="serial")
    [{'word': 'b', 'n': 2}, {'word': 'a', 'n': 1}]
    """
    from ..io.csv import CsvSource

    _check_splits(split_size, min_partitions, "read_csv")
    source = CsvSource(paths, header=header, delimiter=delimiter, quotechar=quotechar, columns=columns, types=types,
                       split=split, split_size=split_size, min_partitions=min_partitions, encoding=encoding,
                       storage_options=storage_options, errors=errors)
    return _dataset(source)


def read_parquet(paths: str | os.PathLike | Iterable, columns: list | None = None, filters=None,
                 storage_options: dict | None = None):
    """Rows of Parquet files as dicts, one partition per row group.

    ``columns`` projects (only those columns are read); ``filters`` (pyarrow
    form: ``[("year", ">=", 2020), ...]``, a list of such lists for OR, or a
    ``pyarrow.compute`` expression) keeps matching rows and, using the
    row-group statistics in the file footers, never reads row groups that
    cannot match.

    >>> import tempfile, mapfold as mf
    >>> out = tempfile.mkdtemp() + "/t"
    >>> _ = mf.from_sequence([{"k": i % 3, "v": i} for i in range(9)]).save_parquet(out, runner="serial")
    >>> read_parquet(out, columns=["v"], filters=[("k", "==", 0)]).collect(runner="serial")
    [{'v': 0}, {'v': 3}, {'v': 6}]
    """
    from ..io.parquet import ParquetSource

    return _dataset(ParquetSource(paths, columns=columns, filters=filters, storage_options=storage_options))
