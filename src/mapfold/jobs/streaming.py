"""Lines in and out of a job, as mrjob's tasks see them.

Input lines are bytes without their line ending (``\\r\\n`` or ``\\n``
stripped, as mrjob does); ``.gz`` and ``.bz2`` files are decompressed; ``-``
is stdin. Output is lines of bytes, each ended by ``\\n``.

>>> list(to_lines([b"a\\nb", b"c\\n", b"d"]))
[b'a', b'bc', b'd']
"""
from __future__ import annotations

import bz2
import gzip
import os
from typing import BinaryIO, Iterable, Iterator

__all__ = ["read_input_lines", "to_lines", "expand_inputs"]


def to_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Bytes chunks cut into lines (``\\n`` removed); the last line may lack its newline.

    >>> list(to_lines([b"x\\n\\n"]))
    [b'x', b'']
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending


def expand_inputs(paths: Iterable[str]) -> list[str]:
    """Files named by ``paths``: folders walked (hidden and ``_`` names skipped), in sorted order.

    >>> expand_inputs(["-"])
    ['-']
    """
    found: list[str] = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
                found.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith((".", "_")))
        else:
            found.append(path)
    return found


def _open(path: str) -> BinaryIO:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def read_input_lines(paths: list[str], stdin: BinaryIO) -> Iterator[bytes]:
    """The lines of ``paths`` (stdin when empty or ``-``), line endings stripped.

    >>> import io
    >>> list(read_input_lines([], io.BytesIO(b"a\\r\\nb\\n")))
    [b'a', b'b']
    """
    for path in expand_inputs(paths or ["-"]):
        if path == "-":
            for line in stdin:
                yield line.rstrip(b"\r\n")
        else:
            with _open(path) as f:
                for line in f:
                    yield line.rstrip(b"\r\n")
