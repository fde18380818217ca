"""Where Datasets come from: Python sequences and text files."""
from __future__ import annotations

import os
from typing import Iterable, Iterator

from ..core.config import default_workers
from ..plan.nodes import SourceNode

__all__ = ["from_sequence", "read_text", "SequencePartition"]


class SequencePartition:
    """A slice of an in-memory sequence."""

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
    from .dataset import Dataset

    items = list(items)
    if partitions is None:
        partitions = min(2 * default_workers(), max(1, len(items)))
    if not isinstance(partitions, int) or partitions < 1:
        raise ValueError(f"partitions must be a positive int, not {partitions!r}")
    size, extra = divmod(len(items), partitions)
    parts, start = [], 0
    for i in range(partitions):
        end = start + size + (1 if i < extra else 0)
        parts.append(SequencePartition(items[start:end], start))
        start = end
    return Dataset(SourceNode(SequenceSource(len(items)), parts))


def read_text(paths: str | os.PathLike | Iterable, split_size: int | None = None, min_partitions: int | None = None,
              encoding: str = "utf-8", storage_options: dict | None = None):
    """Lines of text files (no line endings), from files, folders, globs or URLs.

    Uncompressed files split into line-aligned byte ranges; ``.gz`` and
    ``.bz2`` files are one partition each. No data is read here.

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "a.txt"), "w").write("one two\\nthree\\n")
    >>> read_text(folder).flat_map(str.split).collect(runner="serial")
    ['one', 'two', 'three']
    """
    from ..io.text import TextSource  # imported here: fsspec is slow to import
    from .dataset import Dataset

    source = TextSource(paths, split_size=split_size, min_partitions=min_partitions, encoding=encoding,
                        storage_options=storage_options)
    return Dataset(SourceNode(source, source.partitions()))
