"""Sources with one partition per file or group of whole files, and the
pickle-file writer: ``read_pickle``/``save_pickle``, ``read_whole_text``.

A pickle part file is a stream of pickled batches (lists of records), each
``pickle.dump``-ed after the other; reading loads batches until the end.
Worker-side: imports only ``core`` and ``io``.
"""
from __future__ import annotations

import pickle
from typing import BinaryIO, Iterator

from .paths import compression_of, expand_paths, is_local
from .sinks import PartWriter, batches

__all__ = ["PicklePartWriter", "PickleSource", "WholeTextSource", "group_files"]


class PicklePartWriter(PartWriter):
    """Writes ``part-NNNNN.pickle``: pickled batches of ``batch_size`` records."""

    extension = ".pickle"

    def __init__(self, output, batch_size: int = 10):
        super().__init__(output, None)
        self.batch_size = batch_size

    def write(self, f: BinaryIO, iterator: Iterator) -> int:
        written = 0
        for batch in batches(iterator, self.batch_size):
            pickle.dump(batch, f, protocol=pickle.HIGHEST_PROTOCOL)
            written += len(batch)
        return written


def _open_binary(fs, path: str):
    import fsspec

    if fs is None:
        return fsspec.open(path, "rb", compression=compression_of(path)).open()
    return fs.open(path, "rb", compression=compression_of(path))


class FilesPartition:
    """Some whole files, read in order by ``read_file(stream, path)``."""

    def __init__(self, fs, paths: list[str], kind: str):
        self.fs, self.paths, self.kind = fs, paths, kind

    def read(self) -> Iterator:
        for path in self.paths:
            with _open_binary(self.fs, path) as stream:
                if self.kind == "pickle":
                    yield from _load_batches(stream)
                else:
                    yield (_url(self.fs, path), stream.read().decode(self.kind))

    def position(self) -> str | None:
        return None

    def describe(self) -> str:
        return f"{len(self.paths)} whole file(s)"


def _url(fs, path: str) -> str:
    return "file:" + path if fs is None else path


def _load_batches(stream) -> Iterator:
    while True:
        try:
            batch = pickle.load(stream)
        except EOFError:
            return
        yield from batch


def group_files(paths: list[str]) -> list[list[str]]:
    """One partition per file, in order.

    >>> group_files(["a", "b", "c"])
    [['a'], ['b'], ['c']]
    """
    return [[path] for path in paths]


class _FilesSource:
    kind = "pickle"

    def __init__(self, paths, storage_options: dict | None = None):
        fs, files = expand_paths(paths, storage_options)
        self.fs = None if is_local(fs) else fs
        self.files = [f.path for f in files]

    def partitions(self) -> list:
        return [FilesPartition(self.fs, group, self.kind) for group in group_files(self.files)]

    def describe(self) -> str:
        return f"{self.kind} files: {len(self.files)}"


class PickleSource(_FilesSource):
    """Records of pickle part files (``PicklePartWriter``), one partition per file."""

    kind = "pickle"


class WholeTextSource(_FilesSource):
    """``(url, whole text)`` of each file (PySpark's ``wholeTextFiles``), one partition per file."""

    def __init__(self, paths, storage_options: dict | None = None, encoding: str = "utf-8"):
        super().__init__(paths, storage_options)
        self.kind = encoding
