"""Writers of one partition's file: run in the workers.

A writer is a finisher: ``writer(partition, iterator) -> PartResult``. It
writes ``part-NNNNN<suffix>`` into the output's temporary folder (see
``commit.py``) and reports the file name and record count, which the
driver puts in the ``_SUCCESS`` manifest. The formats subclass
:class:`PartWriter` and implement :meth:`PartWriter.write`.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO, Iterator

from ..core.task_context import count_written

__all__ = ["PartWriter", "PartResult", "TextPartWriter", "open_for_write", "SUFFIXES", "check_compression"]

SUFFIXES = {None: "", "gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}
BATCH = 4096  # records encoded and written per call: amortizes write() calls


def check_compression(compression: str | None, choices=SUFFIXES) -> str | None:
    if compression not in choices:
        names = ", ".join(repr(k) for k in choices)
        raise ValueError(f"unknown compression {compression!r}; choose one of {names}")
    return compression


def open_for_write(fs, path: str, compression: str | None):
    raw = fs.open(path, "wb")
    if compression is None:
        return raw
    if compression == "gzip":
        import gzip

        return _Closing(gzip.GzipFile(fileobj=raw, mode="wb", mtime=0), raw)
    if compression == "bz2":
        import bz2

        return _Closing(bz2.BZ2File(raw, "wb"), raw)
    if compression == "xz":
        import lzma

        return _Closing(lzma.LZMAFile(raw, "wb"), raw)
    if compression == "zstd":
        from ..core.extras import require

        zstandard = require("zstandard", "formats", ".zst files")
        # a content checksum, so readers detect damage (gzip, bz2 and xz always carry one)
        return zstandard.ZstdCompressor(write_checksum=True).stream_writer(raw, closefd=True)
    raw.close()
    check_compression(compression)


class _Closing:
    """A compressor whose underlying file must be closed too (GzipFile does not)."""

    def __init__(self, stream, raw):
        self.stream, self.raw = stream, raw
        self.write = stream.write

    def close(self) -> None:
        try:
            self.stream.close()
        finally:
            self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class PartResult:
    file: str | None  # name inside the output folder; None: nothing written
    records: int


class PartWriter:
    """Writes one partition into one file of an :class:`~mapfold.io.commit.AtomicOutput`."""

    extension = ""
    compressions: dict = SUFFIXES

    def __init__(self, output, compression: str | None = None):
        self.output = output
        self.compression = check_compression(compression, self.compressions)

    def suffix(self) -> str:
        return self.extension + SUFFIXES.get(self.compression, "")

    def __call__(self, partition: int, iterator: Iterator) -> PartResult:
        output = self.output
        name = output.part_name(partition, self.suffix())
        path = f"{output.temporary}/{name}"
        written = self.write_file(path, iterator)
        if written is None:
            return PartResult(None, 0)
        if not output.still_writing():
            # the job was aborted while we wrote: leave nothing behind
            try:
                output.fs.rm(path)
            except FileNotFoundError:
                pass
            return PartResult(None, written)
        count_written(written)
        return PartResult(name, written)

    def write_file(self, path: str, iterator: Iterator) -> int | None:
        with open_for_write(self.output.fs, path, self.compression) as f:
            return self.write(f, iterator)

    def write(self, f: BinaryIO, iterator: Iterator) -> int:
        raise NotImplementedError


def batches(iterator: Iterator, size: int = BATCH) -> Iterator[list]:
    iterator = iter(iterator)
    while True:
        batch = list(islice(iterator, size))
        if not batch:
            return
        yield batch


class TextPartWriter(PartWriter):
    """Writes ``str(record)`` lines into ``part-NNNNN[.gz]``."""

    def write(self, f: BinaryIO, iterator: Iterator) -> int:
        written = 0
        for batch in batches(iterator):
            f.write(("\n".join(map(str, batch)) + "\n").encode("utf-8"))
            written += len(batch)
        return written
