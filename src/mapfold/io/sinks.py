"""Writers of one partition's file: run in the workers."""
from __future__ import annotations

from itertools import islice
from typing import Iterator

__all__ = ["TextPartWriter", "open_for_write", "SUFFIXES"]

SUFFIXES = {None: "", "gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}


def open_for_write(fs, path: str, compression: str | None):
    raw = fs.open(path, "wb")
    if compression is None:
        return raw
    if compression == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)
    if compression == "bz2":
        import bz2

        return bz2.BZ2File(raw, "wb")
    if compression == "xz":
        import lzma

        return lzma.LZMAFile(raw, "wb")
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(raw, closefd=True)
    raise ValueError(f"unknown compression {compression!r}; choose one of {', '.join(k for k in SUFFIXES if k)}")


class TextPartWriter:
    """Writes ``str(record)`` lines into ``part-NNNNN[.gz]``; returns the line count."""

    def __init__(self, output, compression: str | None = None):
        if compression not in SUFFIXES:
            raise ValueError(f"unknown compression {compression!r}; choose one of {', '.join(k for k in SUFFIXES if k)}")
        self.fs = output.fs
        self.output = output
        self.compression = compression

    def __call__(self, partition: int, iterator: Iterator) -> int:
        path = self.output.part_path(partition, SUFFIXES[self.compression])
        written = 0
        with open_for_write(self.fs, path, self.compression) as f:
            iterator = iter(iterator)
            while True:
                batch = list(islice(iterator, 4096))
                if not batch:
                    break
                f.write(("\n".join(map(str, batch)) + "\n").encode("utf-8"))
                written += len(batch)
        return written
