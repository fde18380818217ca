"""``TextSource``: lines of text files as partitions.

Uncompressed files split into line-aligned byte ranges (see ``lines.py``)
without reading any data on the driver; compressed files are one partition
each. Small uncompressed files are packed together so a folder of many small files does
not become thousands of tiny tasks.

:class:`LinePartition` is the reader the line formats share (text, JSON
lines, CSV): it walks the segments, decodes blocks, knows the file, line and
byte offset of the line it handed out last, and applies the bad-record
policy (``badrecords.py``) to undecodable lines and truncated or corrupt
compressed files. Formats override :meth:`LinePartition.read` to parse the
lines and call :meth:`LinePartition.bad` for records they cannot parse.
"""
from __future__ import annotations

import lzma
import zlib
from dataclasses import dataclass
from itertools import chain
from typing import Iterator

from ..core.config import default_workers
from ..core.errors import InputError
from . import badrecords as br
from .lines import BLOCK, WORD_BLOCK, LineCursor, byte_range_blocks, open_binary, split_block, stream_blocks
from .paths import FileInfo, expand_paths, is_local
from .secrets import protect_filesystem

__all__ = ["TextSource", "TextPartition", "LinePartition", "Segment", "plan_segments", "default_split_size"]

MAX_SPLIT = 64 << 20
MIN_SPLIT = 1 << 20


@dataclass(frozen=True)
class Segment:
    path: str
    start: int
    end: int  # -1: to the end (compressed)
    compression: str | None
    size: int = -1  # the file's size (-1: unknown)

    @property
    def whole_file(self) -> bool:
        return self.start == 0 and (self.end < 0 or self.end >= self.size)


def plan_segments(files: list[FileInfo], split_size: int, split: bool = True) -> list[list[Segment]]:
    """Cut files into byte ranges of about ``split_size``; pack small pieces.

    With ``split=False`` every file is read whole (one segment). A
    compressed file is always a partition of its own: its size on disk says
    little about how much it holds (a 1 MB ``.gz`` may inflate to 20 MB of
    lines), and it is the one unit of parallelism such input has.

    >>> from mapfold.io.paths import FileInfo
    >>> gz = [FileInfo(f"{i}.gz", 100, "gzip") for i in range(4)]
    >>> len(plan_segments(gz, 1 << 20))
    4
    >>> len(plan_segments([FileInfo("a.txt", 100, None), FileInfo("b.txt", 100, None)], 1 << 20))
    1
    """
    partitions: list[list[Segment]] = []
    current: list[Segment] = []
    current_size = 0
    for info in files:
        if info.compression is not None:
            if current:
                partitions.append(current)
                current, current_size = [], 0
            partitions.append([Segment(info.path, 0, -1, info.compression, info.size)])
            continue
        if not split:
            pieces = [(Segment(info.path, 0, max(info.size, 1), None, info.size), info.size)]
        else:
            pieces = []
            for start in range(0, max(info.size, 1), split_size):
                end = min(start + split_size, info.size)
                pieces.append((Segment(info.path, start, end, None, info.size), end - start))
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


HADOOP_SLOP = 1.1  # Hadoop's FileInputFormat.SPLIT_SLOP: a file's last split may be this much larger


def hadoop_segments(files: list[FileInfo], split_size: int) -> list[list[Segment]]:
    """Cut files as Hadoop's ``TextInputFormat`` does: each file on its own
    (never packed with another), in pieces of ``split_size`` while more than
    ``HADOOP_SLOP`` times that remains; a compressed file whole; an empty file
    one empty split. Hadoop's split ``[s, e)`` reads the lines that start in
    ``(s, e]`` (and the first, at 0); a segment owns the lines that start in
    it, so each inner boundary moves one byte on.

    >>> from mapfold.io.paths import FileInfo
    >>> [len(p) for p in hadoop_segments([FileInfo("a.txt", 100, None), FileInfo("b.txt", 100, None)], 1 << 20)]
    [1, 1]
    >>> [(p[0].start, p[0].end) for p in hadoop_segments([FileInfo("a.txt", 103, None)], 25)]
    [(0, 26), (26, 51), (51, 76), (76, 101), (101, 103)]
    >>> [(p[0].start, p[0].end) for p in hadoop_segments([FileInfo("a.txt", 102, None)], 25)]
    [(0, 26), (26, 51), (51, 76), (76, 102)]
    """
    partitions: list[list[Segment]] = []
    for info in files:
        if info.compression is not None:
            partitions.append([Segment(info.path, 0, -1, info.compression, info.size)])
            continue
        bounds, start, remaining = [0], 0, info.size
        while remaining / split_size > HADOOP_SLOP:
            start, remaining = start + split_size, remaining - split_size
            bounds.append(start + 1)
        bounds.append(max(info.size, 1))
        partitions.extend([Segment(info.path, a, b, None, info.size)] for a, b in zip(bounds, bounds[1:]))
    return partitions


def default_split_size(files: list[FileInfo], min_partitions: int | None, max_split: int = MAX_SPLIT,
                       per_worker: int = 2) -> int:
    """Bytes per split: the input over ``min_partitions`` (default
    ``per_worker`` splits per local core), within [1 MiB, ``max_split``]. Past ``max_split``, the number of
    splits is rounded up to a multiple of the cores, so that the last wave of
    tasks keeps every worker busy (5 splits on 2 workers leave one idle for a
    fifth of the stage).

    >>> from mapfold.io.paths import FileInfo
    >>> default_split_size([FileInfo("a", 10 << 20, None)], 4) == (10 << 20) // 4
    True
    """
    total = sum(f.size for f in files)
    wanted = min_partitions or per_worker * default_workers()
    size = -(-total // wanted)
    if size > max_split:
        workers = default_workers()
        count = -(-total // max_split)
        count = -(-count // workers) * workers
        size = -(-total // count)
    return max(MIN_SPLIT, size)


class _Skipped:
    """Stands in a block's line list for an undecodable line that was skipped."""


SKIPPED = _Skipped()


def _corruption_errors() -> tuple:
    import gzip

    errors: list = [EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errors)


_CORRUPT = _corruption_errors()


class LinePartition:
    """The lines of one or more file segments, with their positions."""

    def __init__(self, fs, segments: list[Segment], encoding: str = "utf-8", errors: str = "raise", options=None):
        self.fs = fs  # None for the local filesystem: plain open() is fastest
        self.segments = segments
        self.encoding = encoding
        self.errors = errors
        self.options = options  # the format's own settings (a frozen dataclass), if any
        self.bad_record = br.BadRecordPolicy(errors)
        self._cursor: LineCursor | None = None
        self._segment: Segment | None = None
        self._lines_before: dict[Segment, int] = {}

    def __getstate__(self):
        return {"fs": self.fs, "segments": self.segments, "encoding": self.encoding, "errors": self.errors,
                "options": self.options}

    def __setstate__(self, state):
        self.__init__(state["fs"], state["segments"], state["encoding"], state["errors"], state["options"])
        protect_filesystem(self.fs)

    def describe(self) -> str:
        first = self.segments[0]
        more = f" (+{len(self.segments) - 1} more files)" if len(self.segments) > 1 else ""
        span = "" if first.end < 0 else f" bytes {first.start}-{first.end}"
        return f"{first.path}{span}{more}"

    def read(self) -> Iterator:
        return self.lines()

    # -- the shared line reader --------------------------------------------
    def lines(self) -> Iterator[str]:
        # chain hands out lines in C; the generators below run once per block
        return chain.from_iterable(map(self.segment_lines, self.segments))

    def segment_lines(self, segment: Segment) -> Iterator[str]:
        return chain.from_iterable(self._segment_blocks(segment))

    def _segment_blocks(self, segment: Segment, words: bool = False) -> Iterator[Iterator[str]]:
        for offset, block, cursor in self.raw_blocks(segment, WORD_BLOCK if words else BLOCK):
            if words:
                try:
                    text = block.decode(self.encoding)
                except UnicodeDecodeError:
                    pass
                else:
                    count = text.count("\n") + (not text.endswith("\n"))
                    for _ in cursor.feed(offset, range(count), block):  # position: end of block
                        pass
                    yield iter(text.split())
                    continue
            try:
                lines = split_block(block, self.encoding)
            except UnicodeDecodeError:
                lines = self._decode_lines(offset, block, cursor)
                good = (x for x in cursor.feed(offset, lines, block) if x is not SKIPPED)
                yield chain.from_iterable(map(str.split, good)) if words else good
                continue
            yield cursor.feed(offset, lines, block)

    def raw_blocks(self, segment: Segment, size: int = BLOCK) -> Iterator[tuple[int, bytes, LineCursor]]:
        """``(offset, block, cursor)``: the undecoded blocks of whole lines of a
        segment, with the cursor that formats feed their records to (so
        positions stay known); unreadable and corrupt input handled here."""
        self._segment = segment
        cursor = self._cursor = LineCursor(segment.path, absolute=segment.start == 0)
        consumed = 0  # bytes of the (decompressed) stream handed out
        with open_binary(self.fs, segment.path, segment.compression) as f:
            try:
                if segment.compression is None:
                    blocks = byte_range_blocks(f, segment.start, segment.end, size)
                else:
                    blocks = stream_blocks(f, size)
                for offset, block in blocks:
                    consumed = offset + len(block)
                    yield offset, block, cursor
            except _CORRUPT + (OSError,) as exc:
                if isinstance(exc, InputError):
                    raise
                corrupt = segment.compression is not None and (isinstance(exc, _CORRUPT) or type(exc) is OSError)
                if not corrupt:
                    raise InputError(f"{segment.path}: cannot read ({type(exc).__name__}: {exc})",
                                     path=segment.path) from exc
                line = self._absolute(cursor.current_line() + 1)
                self.bad_record(br.TRUNCATED, segment.path, line, consumed,
                                f"{type(exc).__name__}: {exc}; lines before it were read")

    def _decode_lines(self, offset: int, block: bytes, cursor: LineCursor) -> list:
        """Decode a block line by line; undecodable lines become SKIPPED (or raise)."""
        out: list = []
        pieces = block.split(b"\n")
        if pieces and pieces[-1] == b"":
            pieces.pop()
        position = offset
        first = cursor.first_line + len(cursor.lines)  # lines before this block
        for number, piece in enumerate(pieces, first + 1):
            try:
                text = piece.decode(self.encoding)
            except UnicodeDecodeError as exc:
                self.bad_record(br.UNDECODABLE, self._where(), self._absolute(number), position + exc.start,
                                f"{self.encoding}: {exc.reason}", piece)
                out.append(SKIPPED)
            else:
                out.append(text[:-1] if text.endswith("\r") else text)
            position += len(piece) + 1
        return out

    # -- positions -----------------------------------------------------------
    def _where(self) -> str:
        return self._segment.path if self._segment else "?"

    def _absolute(self, line: int) -> int:
        segment = self._segment
        if segment is not None and segment.start > 0:
            line += self._count_lines_before(segment)
        return line

    def line_number(self) -> int | None:
        """1-based line number, in its file, of the last line handed out."""
        if self._cursor is None:
            return None
        return self._absolute(self._cursor.current_line())

    def line_offset(self) -> int | None:
        """Byte offset in its file of the last line handed out (None if unknown)."""
        return None if self._cursor is None else self._cursor.current_offset()

    def bad(self, kind: str, reason: str, text: str) -> None:
        """Report the last line handed out as a bad record (raises or counts)."""
        self.bad_record(kind, self._where(), self.line_number(), self.line_offset(), reason, text)

    def position(self) -> str | None:
        """Where the reader is: file and line of the last line handed out."""
        if self._cursor is None or self._segment is None:
            return None
        line = self.line_number()
        near = "near " if getattr(self, "_near", False) else ""
        return f"{self._segment.path} {near}line {line}" if line else self._segment.path

    def _count_lines_before(self, segment: Segment) -> int:
        # Only on error paths, once per segment: count the newlines before the split.
        if segment in self._lines_before:
            return self._lines_before[segment]
        count = 0
        with open_binary(self.fs, segment.path, None) as f:
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
        self._lines_before[segment] = count
        return count


class TextPartition(LinePartition):
    """The lines of one or more file segments, as strings without line endings."""

    #: views a planned task may read instead of the lines (plan/rewrites.py)
    views = ("words",)

    def words(self) -> Iterator[str]:
        """The whitespace-separated words of every line: the same records as
        ``chain.from_iterable(map(str.split, self.lines()))``, cheaper, since
        ``str.split()`` runs once per 64 KiB block (newlines are whitespace)
        instead of making a list per line. The planner has a task read it
        for a pipeline that starts with ``flat_map(str.split)``
        (``plan/rewrites.py``). Errors downstream
        name the last line of the block being read ("near line N")."""
        self._near = True
        return chain.from_iterable(map(self._segment_words, self.segments))

    def _segment_words(self, segment: Segment) -> Iterator[str]:
        return chain.from_iterable(self._segment_blocks(segment, words=True))


class LineSource:
    """Files of lines (text, JSON lines, CSV): listing and splitting, shared.

    ``split_size`` bounds the bytes per partition (default: the input split
    over twice the local cores, between 1 MiB and 64 MiB); ``split=False``
    reads each file whole.
    """

    kind = "lines"
    partition_class: type = LinePartition
    options = None  # handed to every partition
    max_split = MAX_SPLIT
    splits_per_worker = 2

    def __init__(self, paths, split_size: int | None = None, min_partitions: int | None = None,
                 encoding: str = "utf-8", storage_options: dict | None = None, errors: str = "raise",
                 split: bool = True, layout: str = "packed"):
        br.check_errors(errors)
        if layout not in ("packed", "hadoop"):
            raise ValueError(f"layout must be 'packed' or 'hadoop', not {layout!r}")
        self.layout = layout
        fs, files = expand_paths(paths, storage_options)
        self.fs = None if is_local(fs) else fs
        self.files = files
        self.encoding = encoding
        self.errors = errors
        self.split = split
        if split_size is None:
            split_size = default_split_size(files, min_partitions, self.max_split, self.splits_per_worker)
        if split_size < 1:
            raise ValueError(f"split_size must be positive, not {split_size}")
        self.split_size = split_size

    def segments(self) -> list[list[Segment]]:
        if self.layout == "hadoop":
            return hadoop_segments(self.files, self.split_size)
        return plan_segments(self.files, self.split_size, self.split)

    def partitions(self) -> list:
        return [self.partition_class(self.fs, segs, self.encoding, self.errors, self.options)
                for segs in self.segments()]

    def describe(self) -> str:
        total = sum(f.size for f in self.files)
        how = f"splits of {self.split_size / 1e6:.1f} MB" if self.split else "whole files"
        skip = ", bad records skipped" if self.errors == "skip" else ""
        return f"{self.kind}: {len(self.files)} file(s), {total / 1e6:.1f} MB, {how}{skip}"


class TextSource(LineSource):
    """Lines of text files, folders, globs or fsspec URLs."""

    kind = "text"
    partition_class = TextPartition
