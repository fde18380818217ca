"""``TextSource``: lines of text files as partitions.

Uncompressed files split into line-aligned byte ranges (see ``lines.py``)
without reading any data on the driver; compressed files are one partition
each. Small files are packed together so a folder of many small files does
not become thousands of tiny tasks.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Iterator

from ..core.config import default_workers
from ..core.errors import InputError
from .lines import LineCursor, byte_range_blocks, decode_error, open_binary, split_block, stream_blocks
from .paths import FileInfo, expand_paths, is_local

__all__ = ["TextSource", "TextPartition", "Segment", "plan_segments"]

MAX_SPLIT = 64 << 20
MIN_SPLIT = 1 << 20


@dataclass(frozen=True)
class Segment:
    path: str
    start: int
    end: int  # -1: to the end (compressed)
    compression: str | None


def plan_segments(files: list[FileInfo], split_size: int) -> list[list[Segment]]:
    """Cut files into byte ranges of about ``split_size``; pack small pieces."""
    partitions: list[list[Segment]] = []
    current: list[Segment] = []
    current_size = 0
    for info in files:
        if info.compression is not None:
            pieces = [(Segment(info.path, 0, -1, info.compression), info.size)]
        else:
            pieces = []
            for start in range(0, max(info.size, 1), split_size):
                end = min(start + split_size, info.size)
                pieces.append((Segment(info.path, start, end, None), end - start))
        for segment, size in pieces:
            if current and current_size + size > split_size:
                partitions.append(current)
                current, current_size = [], 0
            current.append(segment)
            current_size += size
            if current_size >= split_size:
                partitions.append(current)
                current, current_size = [], 0
    if current:
        partitions.append(current)
    return partitions


class TextPartition:
    """The lines of one or more file segments."""

    def __init__(self, fs, segments: list[Segment], encoding: str = "utf-8"):
        self.fs = fs  # None for the local filesystem: plain open() is fastest
        self.segments = segments
        self.encoding = encoding
        self._cursor: LineCursor | None = None
        self._segment: Segment | None = None

    def __getstate__(self):
        return {"fs": self.fs, "segments": self.segments, "encoding": self.encoding}

    def __setstate__(self, state):
        self.__init__(state["fs"], state["segments"], state["encoding"])

    def describe(self) -> str:
        first = self.segments[0]
        more = f" (+{len(self.segments) - 1} more files)" if len(self.segments) > 1 else ""
        span = "" if first.end < 0 else f" bytes {first.start}-{first.end}"
        return f"{first.path}{span}{more}"

    def read(self) -> Iterator[str]:
        # chain hands out lines in C; the generator below runs once per block
        return chain.from_iterable(self._blocks_of_lines())

    def _blocks_of_lines(self) -> Iterator[Iterator[str]]:
        for segment in self.segments:
            self._segment = segment
            cursor = self._cursor = LineCursor(segment.path, absolute=segment.start == 0)
            with open_binary(self.fs, segment.path, segment.compression) as f:
                try:
                    if segment.compression is None:
                        blocks = byte_range_blocks(f, segment.start, segment.end)
                    else:
                        blocks = stream_blocks(f)
                    for offset, block in blocks:
                        try:
                            lines = split_block(block, self.encoding)
                        except UnicodeDecodeError as exc:
                            raise decode_error(self._where(), offset, block, exc, cursor.first_line + len(cursor.lines)) from None
                        yield cursor.feed(offset, lines)
                except (EOFError, OSError) as exc:
                    if isinstance(exc, InputError):
                        raise
                    raise InputError(f"{segment.path}: cannot read ({exc})", path=segment.path) from exc

    def _where(self) -> str:
        return self._segment.path if self._segment else "?"

    def position(self) -> str | None:
        """Where the reader is: file and line of the last line handed out."""
        cursor, segment = self._cursor, self._segment
        if cursor is None or segment is None:
            return None
        line = cursor.current_line()
        if segment.start > 0:
            line += self._lines_before(segment)
        return f"{segment.path} line {line}"

    def _lines_before(self, segment: Segment) -> int:
        # Only on the error path: count the newlines before the split.
        count = 0
        with open_binary(self.fs, segment.path, None) as f:
            f.seek(0)
            f.seek(segment.start - 1)
            f.readline()
            owned_from = f.tell()
            f.seek(0)
            remaining = owned_from
            while remaining > 0:
                data = f.read(min(1 << 20, remaining))
                if not data:
                    break
                count += data.count(b"\n")
                remaining -= len(data)
        return count


class TextSource:
    """Lines of text files, folders, globs or fsspec URLs.

    ``split_size`` bounds the bytes per partition (default: the input split
    over twice the local cores, between 1 MiB and 64 MiB).
    """

    def __init__(self, paths, split_size: int | None = None, min_partitions: int | None = None,
                 encoding: str = "utf-8", storage_options: dict | None = None):
        fs, files = expand_paths(paths, storage_options)
        self.fs = None if is_local(fs) else fs
        self.files = files
        self.encoding = encoding
        total = sum(f.size for f in files)
        if split_size is None:
            wanted = min_partitions or 2 * default_workers()
            split_size = min(MAX_SPLIT, max(MIN_SPLIT, -(-total // wanted)))
        if split_size < 1:
            raise ValueError(f"split_size must be positive, not {split_size}")
        self.split_size = split_size

    def partitions(self) -> list[TextPartition]:
        return [TextPartition(self.fs, segs, self.encoding) for segs in plan_segments(self.files, self.split_size)]

    def describe(self) -> str:
        total = sum(f.size for f in self.files)
        return f"text: {len(self.files)} file(s), {total / 1e6:.1f} MB, splits of {self.split_size / 1e6:.1f} MB"
