"""Reading lines from byte ranges and compressed streams, fast.

A split owns the lines that *start* inside ``[start, end)``, as Hadoop's
TextInputFormat does: a split that does not begin the file skips up to and
including the first newline at or after ``start - 1``, and the last line a
split owns may run past ``end``. Every line of a file therefore belongs to
exactly one split, whatever the split size.

Lines are read in blocks of :data:`BLOCK` bytes, decoded a block at a time
and cut with ``str.split("\\n")``: much cheaper than decoding line by line.
The :class:`LineCursor` remembers the block being handed out so that, when a
user function fails, we can name the line it was working on.
"""
from __future__ import annotations

import bz2
import io
import gzip
import lzma
from typing import BinaryIO, Iterator

from ..core.errors import InputError

__all__ = ["BLOCK", "WORD_BLOCK", "LineCursor", "open_binary", "byte_range_blocks", "stream_blocks", "ZstdFrames"]

BLOCK = 1 << 20  # 1 MiB: past this, larger blocks gain nothing in benchmarks/wordcount.py
WORD_BLOCK = 64 << 10  # the word path: 64 KiB beat 1 MiB and 16 MiB blocks (benchmarks/wordcount.py)


def open_binary(fs, path: str, compression: str | None) -> BinaryIO:
    raw = open(path, "rb") if fs is None else fs.open(path, "rb")
    if compression is None:
        return raw
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bz2":
        return bz2.BZ2File(raw, "rb")
    if compression == "xz":
        return lzma.LZMAFile(raw, "rb")
    if compression == "zstd":
        from ..core.extras import require

        require("zstandard", "formats", ".zst files")
        return io.BufferedReader(ZstdFrames(raw), buffer_size=256 << 10)
    raise InputError(f"unknown compression {compression!r} for {path}", path=path)


class ZstdFrames(io.RawIOBase):
    """The decompressed bytes of a stream of zstd frames, which fails when the stream ends early.

    ``zstandard``'s own stream reader returns a silent prefix of a truncated
    file; this one raises ``EOFError`` (as ``gzip``, ``bz2`` and ``lzma``
    do) when the input ends inside a frame, and ``zstandard.ZstdError`` when
    a frame fails its checksum (frames written by mapfold carry one).

    >>> import zstandard
    >>> data = zstandard.ZstdCompressor(write_checksum=True).compress(b"line\\n" * 1000)
    >>> io.BufferedReader(ZstdFrames(io.BytesIO(data * 2))).read().count(b"\\n")
    2000
    >>> io.BufferedReader(ZstdFrames(io.BytesIO(data[:-3]))).read()
    Traceback (most recent call last):
    EOFError: zstd stream ends inside a frame (after 5000 bytes of output): the file is truncated
    """

    CHUNK = 16 << 10  # compressed bytes per call: bounds what one call can decompress to

    def __init__(self, raw: BinaryIO):
        import zstandard

        self._zstd = zstandard
        self._raw = raw
        self._frame = zstandard.ZstdDecompressor().decompressobj()
        self._in_frame = False  # input fed to the current frame, which has not ended yet
        self._out, self._pos = b"", 0  # decompressed bytes not handed out yet: self._out[self._pos:]
        self._produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._pos >= len(self._out):
            data = self._raw.read(self.CHUNK)
            if not data:
                if self._in_frame:
                    raise EOFError(f"zstd stream ends inside a frame (after {self._produced} bytes of output): "
                                   "the file is truncated")
                return 0
            self._feed(data)
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = memoryview(self._out)[self._pos:self._pos + n]
        self._pos += n
        self._produced += n
        return n

    def _feed(self, data: bytes) -> None:
        out = []
        while data:
            self._in_frame = True
            out.append(self._frame.decompress(data))
            if not self._frame.eof:
                break
            data = self._frame.unused_data  # the next frame starts here
            self._frame = self._zstd.ZstdDecompressor().decompressobj()
            self._in_frame = False
        self._out, self._pos = b"".join(out), 0

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def byte_range_blocks(f: BinaryIO, start: int, end: int, block: int = BLOCK) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, block)``: whole lines starting in ``[start, end)``."""
    if start > 0:
        f.seek(start - 1)
        pos = start - 1 + len(f.readline())
    else:
        f.seek(0)
        pos = 0
    buf = b""
    buf_start = pos
    while True:
        if buf_start >= end:  # the line at buf_start belongs to the next split
            return
        data = f.read(block)
        if not data:
            if buf:
                yield buf_start, buf
            return
        buf += data
        last_owned = end - 1 - buf_start  # index of byte end-1 in buf
        if last_owned < len(buf):
            newline = buf.find(b"\n", max(last_owned, 0))
            if newline != -1:
                yield buf_start, buf[: newline + 1]
                return
            continue
        newline = buf.rfind(b"\n")
        if newline != -1:
            yield buf_start, buf[: newline + 1]
            buf_start += newline + 1
            buf = buf[newline + 1 :]


def stream_blocks(f: BinaryIO, block: int = BLOCK) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, block)`` of whole lines from a stream read to its end.

    Reads with ``read1`` where the stream has it (the decompressors do), so
    that when a compressed file turns out truncated or corrupt, every whole
    line decompressed before the break is still handed out before the error
    is raised.
    """
    read = getattr(f, "read1", None) or f.read
    pending: list[bytes] = []
    size = 0
    carry = b""  # an unfinished line from the previous block
    offset = 0
    while True:
        try:
            data = read(block)
        except Exception:
            buf = carry + b"".join(pending)
            newline = buf.rfind(b"\n")
            if newline != -1:
                yield offset, buf[: newline + 1]
            raise
        if data:
            pending.append(data)
            size += len(data)
            if size < block:
                continue
        buf = carry + b"".join(pending)
        pending, size = [], 0
        if not data:
            if buf:
                yield offset, buf
            return
        newline = buf.rfind(b"\n")
        if newline == -1:
            carry = buf
            continue
        yield offset, buf[: newline + 1]
        offset += newline + 1
        carry = buf[newline + 1 :]


def split_block(block: bytes, encoding: str) -> list[str]:
    text = block.decode(encoding)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


class LineCursor:
    """Hands out the lines of a sequence of blocks and knows where it is."""

    __slots__ = ("path", "first_line", "lines", "iterator", "offset", "absolute", "block")

    def __init__(self, path: str, absolute: bool):
        self.path = path
        self.first_line = 0  # lines handed out before the current block
        self.lines: list = []
        self.iterator = iter(())
        self.offset = 0
        self.absolute = absolute  # line numbers count from the file start
        self.block = b""

    def feed(self, offset: int, lines: list, block: bytes = b"") -> Iterator[str]:
        self.first_line += len(self.lines)
        self.lines = lines
        self.offset = offset
        self.block = block
        self.iterator = iter(lines)
        return self.iterator

    def current_line(self) -> int:
        """1-based number (within what this cursor read) of the last line handed out."""
        remaining = self.iterator.__length_hint__()
        return self.first_line + len(self.lines) - remaining

    def current_offset(self) -> int | None:
        """Byte offset (in the stream read) of the last line handed out (error path only)."""
        index = len(self.lines) - self.iterator.__length_hint__() - 1
        if index < 0 or not self.block:
            return None
        pos = 0
        for _ in range(index):
            pos = self.block.find(b"\n", pos) + 1
            if pos == 0:
                return None
        return self.offset + pos
