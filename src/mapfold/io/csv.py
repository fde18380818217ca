"""CSV: rows as dicts (or lists), read with Python's ``csv`` module.

Reading shares the line machinery of ``text.py``: uncompressed files split
into line-aligned byte ranges, compressed files are one partition each.
Python's ``csv`` parser (C code) is used rather than pyarrow's because it
parses exactly the lines a split owns and lets every bad row be named by
file and line; pyarrow's reader would have to be handed whole files.

**Quoted newlines.** A quoted field may hold a newline, and then a record
spans lines. A byte-range split cannot know whether the line it starts on
is the inside of such a field, so:

* with ``split=False`` (and for compressed files, always read whole) quoted
  newlines are read correctly;
* with splitting on (the default) mapfold *detects and refuses*: a record
  that spans lines inside a split that is not a whole file raises
  :class:`~mapfold.core.errors.InputError` saying to pass ``split=False``,
  in either ``errors`` mode. A split that happens to start inside a quoted
  field usually fails first with a wrong field count, which names the line.

**Header and types.** The driver reads the head of the first non-empty
file (at most :data:`HEAD_BYTES`) for the header and, with
``types="infer"`` (the default), for a sample of rows from which each
column is typed int, float, bool or str; every partition then converts with
the same types. An empty field in a typed column reads as ``None``. A value
that does not convert is a bad record ("bad value"), as is a row with the
wrong number of fields. Every file must start with the same header.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from itertools import repeat
from typing import BinaryIO, Iterator

from ..core.errors import InputError
from . import badrecords as br
from .lines import open_binary
from .sinks import PartWriter, batches
from .text import LinePartition, LineSource

__all__ = ["CsvSource", "CsvPartition", "CsvOptions", "CsvPartWriter", "infer_types", "TYPES"]

HEAD_BYTES = 256 << 10
SAMPLE_ROWS = 1000
_INT = re.compile(r"[+-]?\d+\Z")
_TRUE, _FALSE = frozenset({"true", "True", "TRUE"}), frozenset({"false", "False", "FALSE"})


def _to_bool(value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a bool: {value!r}")


TYPES = {"str": None, "int": int, "float": float, "bool": _to_bool}
_TYPE_NAMES = {str: "str", int: "int", float: "float", bool: "bool"}


def _type_name(kind) -> str:
    name = _TYPE_NAMES.get(kind, kind)
    if name not in TYPES:
        raise ValueError(f"unknown CSV column type {kind!r}; choose one of {', '.join(TYPES)} (or int, float, bool, str)")
    return name


def infer_types(rows: list[list[str]], width: int) -> list[str]:
    """Per column: ``int`` if every non-empty value is one, else float, bool, str.

    >>> infer_types([["1", "2.5", "x", "true"], ["", "3", "y", "False"]], 4)
    ['int', 'float', 'str', 'bool']
    """
    out = []
    for i in range(width):
        values = [row[i] for row in rows if i < len(row) and row[i] != ""]
        if not values:
            out.append("str")
        elif all(_INT.match(v) for v in values):
            out.append("int")
        elif all(_is_float(v) for v in values):
            out.append("float")
        elif all(v in _TRUE or v in _FALSE for v in values):
            out.append("bool")
        else:
            out.append("str")
    return out


def _is_float(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    quotechar: str = '"'
    header: bool = True
    columns: tuple | None = None  # names: records are dicts; None: lists
    width: int | None = None  # fields per row (None: not checked)
    types: tuple | None = None  # a type name per column (None: all str)
    header_row: tuple | None = None  # the header of the first file: every file must start with it


def row_builder(columns: tuple | None, types: tuple | None, width: int | None):
    """A function turning a parsed row (list of str) into a record.

    Generated as source and compiled once per task, as ``namedtuple`` used
    to be: ``{"a": row[0], "n": int(row[1]) if row[1] != "" else None}``
    runs about twice as fast as looping over per-column converters
    (benchmarks/formats.py). Column names enter the source only through
    ``repr``. Raises ValueError when a value does not convert.

    >>> row_builder(("a", "n"), ("str", "int"), 2)(["x", "7"])
    {'a': 'x', 'n': 7}
    >>> row_builder(None, ("float",), 1)([""])
    [None]
    """
    if width is None:
        return list if columns is None else (lambda row: dict(zip(columns, row)))
    kinds = types or ("str",) * width
    parts = []
    for i, kind in enumerate(kinds):
        parts.append(f"row[{i}]" if TYPES[kind] is None else f"({kind}_(row[{i}]) if row[{i}] != '' else None)")
    if columns is None:
        body = "[" + ", ".join(parts) + "]"
    else:
        body = "{" + ", ".join(f"{name!r}: {part}" for name, part in zip(columns, parts)) + "}"
    namespace = {f"{name}_": conv for name, conv in TYPES.items() if conv is not None}
    exec(f"def build(row):\n    return {body}\n", namespace)  # noqa: S102 - source built from repr()s only
    return namespace["build"]


class CsvPartition(LinePartition):
    """The rows of one or more CSV file segments."""

    def __init__(self, fs, segments, encoding: str = "utf-8", errors: str = "raise", options: CsvOptions = CsvOptions()):
        super().__init__(fs, segments, encoding, errors, options)

    def read(self) -> Iterator:
        for segment in self.segments:
            yield from self._rows(segment)

    def _rows(self, segment) -> Iterator:
        opts = self.options
        # lines go back with their newline: a quoted field spanning lines must keep it
        lines = map(str.__add__, self.segment_lines(segment), repeat("\n"))
        reader = csv.reader(lines, delimiter=opts.delimiter, quotechar=opts.quotechar)
        columns, width = opts.columns, opts.width
        build = row_builder(columns, opts.types, width)
        header_pending = opts.header and segment.start == 0
        partial = not segment.whole_file
        last = 0
        while True:
            try:
                for row in reader:
                    if partial:
                        if reader.line_num - last > 1:
                            self._spanning(segment)
                        last = reader.line_num
                    if not row:
                        continue
                    if header_pending:
                        header_pending = False
                        if opts.header_row is not None and tuple(row) != opts.header_row:
                            raise InputError(f"{segment.path}: header {row} differs from the first file's "
                                             f"{list(opts.header_row)}", path=segment.path, line=1)
                        continue
                    if width is not None and len(row) != width:
                        self.bad(br.WRONG_FIELD_COUNT, f"expected {width} fields, got {len(row)}", self._text())
                        continue
                    try:
                        record = build(row)
                    except ValueError:
                        self.bad(br.BAD_VALUE, self._explain_value(row), self._text())
                        continue
                    yield record
                return
            except csv.Error as exc:  # the reader goes on with the next line
                last = reader.line_num
                self.bad(br.MALFORMED_CSV, str(exc), self._text())

    def _spanning(self, segment) -> None:
        line = self.line_number()
        raise InputError(f"{segment.path} line {line}: a quoted field spans lines, which a byte-range split "
                         "cannot read safely; read this input with split=False", path=segment.path, line=line)

    def _explain_value(self, row: list) -> str:
        names = self.options.columns or [str(i) for i in range(len(row))]
        for name, kind, value in zip(names, self.options.types or (), row):
            conv = TYPES[kind]
            if conv is not None and value != "":
                try:
                    conv(value)
                except ValueError:
                    return f"column {name!r}: {value!r} is not {kind}"
        return "a value does not convert"

    def _text(self) -> str:
        cursor = self._cursor
        if cursor is None:
            return ""
        index = cursor.current_line() - cursor.first_line - 1
        return cursor.lines[index] if 0 <= index < len(cursor.lines) else ""


class CsvSource(LineSource):
    """CSV files, folders, globs or fsspec URLs (see the module docstring)."""

    kind = "csv"
    partition_class = CsvPartition

    def __init__(self, paths, header: bool = True, delimiter: str = ",", quotechar: str = '"',
                 columns: list | None = None, types="infer", **options):
        super().__init__(paths, **options)
        head_rows = self._head_rows(delimiter, quotechar)
        found = None
        if header:
            found = head_rows[0] if head_rows else None
            head_rows = head_rows[1:]
            if columns is None:
                columns = found
            elif found is not None and len(found) != len(columns):
                raise InputError(f"columns= names {len(columns)} columns, the header of the input has {len(found)}")
        width = len(columns) if columns is not None else (len(head_rows[0]) if head_rows else None)
        if types is None or width is None:
            kinds = None
        elif types == "infer":
            kinds = tuple(infer_types(head_rows[:SAMPLE_ROWS], width))
        elif isinstance(types, dict):
            names = list(columns) if columns is not None else list(range(width))
            unknown = set(types) - set(names)
            if unknown:
                raise ValueError(f"types= names unknown columns {sorted(map(str, unknown))}; columns are {names}")
            kinds = tuple(_type_name(types.get(name, "str")) for name in names)
        else:
            raise ValueError(f"types must be 'infer', None or a dict of column types, not {types!r}")
        self.options = CsvOptions(delimiter, quotechar, header, tuple(columns) if columns is not None else None,
                                  width, kinds, tuple(found) if found is not None else None)

    def _head_rows(self, delimiter: str, quotechar: str) -> list[list[str]]:
        """Rows from the head of the first non-empty file (header included)."""
        for info in self.files[:16]:
            if info.size == 0:
                continue
            with open_binary(self.fs, info.path, info.compression) as f:
                data = _head(f, HEAD_BYTES)
            if len(data) == HEAD_BYTES:
                data = data[: data.rfind(b"\n") + 1]
            text = data.decode(self.encoding, "replace")
            rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                              quotechar=quotechar) if row]
            if rows:
                return rows
        return []

    def describe(self) -> str:
        columns = f", columns {list(self.options.columns)}" if self.options.columns else ""
        return super().describe() + columns


def _head(f, size: int) -> bytes:
    """Up to ``size`` bytes from the start of ``f``; a truncated or corrupt compressed file gives
    what came before the break (the task reading it then reports the damage, by file and line)."""
    read = getattr(f, "read1", None) or f.read
    pieces: list[bytes] = []
    got = 0
    while got < size:
        try:
            data = read(size - got)
        except Exception:  # EOFError, zlib/lzma/zstd errors: the task reading this file names them
            break
        if not data:
            break
        pieces.append(data)
        got += len(data)
    return b"".join(pieces)


class CsvPartWriter(PartWriter):
    """Writes rows (dicts or sequences) as CSV, with a header line when columns are known.

    Dict records take their columns from ``columns=`` or from the keys of the
    partition's first record; ``None`` is written as an empty field.
    """

    extension = ".csv"

    def __init__(self, output, compression: str | None = None, columns: list | None = None, header: bool = True,
                 delimiter: str = ","):
        super().__init__(output, compression)
        self.columns = list(columns) if columns is not None else None
        self.header = header
        self.delimiter = delimiter

    def write(self, f: BinaryIO, iterator: Iterator) -> int:
        columns = self.columns
        written = 0
        header_done = False
        for batch in batches(iterator):
            buf = io.StringIO()
            writer = csv.writer(buf, delimiter=self.delimiter, lineterminator="\n")
            if not header_done:
                if columns is None and isinstance(batch[0], dict):
                    columns = list(batch[0])
                if self.header and columns is not None:
                    writer.writerow(columns)
                header_done = True
            if columns is not None and isinstance(batch[0], dict):
                names = frozenset(columns)
                rows = [_dict_row(record, columns, names) for record in batch]
            else:
                rows = batch
            writer.writerows(rows)
            f.write(buf.getvalue().encode("utf-8"))
            written += len(batch)
        if not header_done and self.header and columns is not None:
            f.write((self.delimiter.join(columns) + "\n").encode("utf-8"))
        return written


def _dict_row(record: dict, columns: list, names: frozenset) -> list:
    if not names.issuperset(record):
        extra = [key for key in record if key not in names]
        raise ValueError(f"record has fields not in the CSV columns {columns}: {extra} (pass columns=)")
    return [record.get(column) for column in columns]
