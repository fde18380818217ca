"""JSON lines: one JSON value per line, read and written with orjson.

Reading shares the line machinery of ``text.py``: uncompressed files split
into line-aligned byte ranges (a JSON line never holds a raw newline, so
any split is safe), compressed files are one partition each. Blank lines
are skipped; a line that is not valid JSON is a bad record
(``errors="raise"`` names its file, line and byte offset; ``"skip"``
counts it).
"""
from __future__ import annotations

from typing import BinaryIO, Iterator

import orjson

from . import badrecords as br
from .sinks import PartWriter, batches
from .text import LinePartition, LineSource

__all__ = ["JsonlSource", "JsonlPartition", "JsonlPartWriter"]


class JsonlPartition(LinePartition):
    """The parsed JSON values of one or more file segments."""

    def read(self) -> Iterator:
        loads = orjson.loads
        malformed = orjson.JSONDecodeError
        for line in self.lines():
            try:
                yield loads(line)
            except malformed as exc:
                if line.strip():
                    self.bad(br.MALFORMED_JSON, str(exc), line)


class JsonlSource(LineSource):
    """JSON lines files, folders, globs or fsspec URLs."""

    kind = "jsonl"
    partition_class = JsonlPartition


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class JsonlPartWriter(PartWriter):
    """Writes each record as one line of JSON (orjson; dict keys of any type become strings)."""

    extension = ".jsonl"

    def write(self, f: BinaryIO, iterator: Iterator) -> int:
        dumps = orjson.dumps
        written = 0
        for batch in batches(iterator):
            f.write(b"\n".join([dumps(record, option=_OPTIONS) for record in batch]) + b"\n")
            written += len(batch)
        return written
