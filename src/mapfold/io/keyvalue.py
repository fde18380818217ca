"""Key-value text: ``key<TAB>value`` lines as ``(key, value)`` pairs.

The format Hadoop Streaming jobs read and write (Hadoop's
``KeyValueTextInputFormat``, mrjob's default protocol for raw values): each
line splits at its *first* separator; the key is the text before it, the
value the rest, converted by ``value`` (``str``, ``int``, ``float`` or any
function of one ``str``). Blank lines are skipped; a line without the
separator has the empty value, as in Hadoop. A value that does not convert
makes the line a bad record: it raises
:class:`~mapfold.core.errors.InputError` naming file and line, or with
``errors="skip"`` is counted and sampled.

Splitting is the line machinery's (``text.py``): line-aligned byte ranges,
compressed files whole.

**Speed.** With pyarrow installed, a one-character separator, UTF-8 and
``value`` one of ``str``/``int``/``float``, each 1 MiB block is parsed by
Arrow's CSV reader (C++, no quoting, no escapes) instead of a Python loop.
The Python reader defines the meaning: a block Arrow refuses or reads
differently (a count of rows other than its count of lines, a null, a value
past 64 bits, a lone ``\\r``) is read again by the Python reader, which names
the bad line. Records become Python pairs per block, about 0.1 us a line.

A shuffle that only sums the values (``reduce_by_key(operator.add)`` right
after the read) takes the blocks as columns (:meth:`KeyValuePartition.key_value_columns`)
and never builds the pairs at all (``shuffle/columnar.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Callable, Iterator

from . import badrecords as br
from .lines import split_block
from .text import SKIPPED, LinePartition, LineSource

__all__ = ["KeyValueSource", "KeyValuePartition", "KeyValueOptions"]

_ARROW_VALUES = {str: "string", int: "int64", float: "float64"}


@dataclass(frozen=True)
class KeyValueOptions:
    sep: str = "\t"
    value: Callable = str

    @property
    def arrow_value_type(self) -> str | None:
        return _ARROW_VALUES.get(self.value) if len(self.sep) == 1 and self.sep not in "\r\n" else None


def _arrow():
    try:
        import pyarrow
        import pyarrow.csv
    except ImportError:  # pragma: no cover - pyarrow is in the formats and dev extras
        return None
    return pyarrow


class KeyValuePartition(LinePartition):
    """The ``(key, value)`` pairs of one or more file segments."""

    #: views a planned task may read instead of the records (plan/rewrites.py)
    views = ("key_value_columns",)

    def __init__(self, fs, segments, encoding: str = "utf-8", errors: str = "raise",
                 options: KeyValueOptions = KeyValueOptions()):
        super().__init__(fs, segments, encoding, errors, options)
        self._arrow_options = None  # made on first use, in the worker (not pickled)

    def read(self) -> Iterator[tuple]:
        return chain.from_iterable(map(self._segment_pairs, self.segments))

    def _segment_pairs(self, segment) -> Iterator[tuple]:
        return chain.from_iterable(self._pair_blocks(segment))

    def _pair_blocks(self, segment) -> Iterator[Iterator[tuple]]:
        for offset, block, cursor in self.raw_blocks(segment):
            columns = self._arrow_columns(block)
            if columns is not None:
                keys, values = columns
                yield cursor.feed(offset, list(zip(keys.to_pylist(), values.to_pylist())), block)
            else:
                pairs = self._python_pairs(offset, block, cursor)
                yield (x for x in cursor.feed(offset, pairs, block) if x is not SKIPPED)

    def key_value_columns(self) -> Iterator[tuple]:
        """``(keys, values)`` per block: Arrow arrays where Arrow parsed the
        block, else Python lists (same records as :meth:`read`)."""
        for segment in self.segments:
            for offset, block, cursor in self.raw_blocks(segment):
                columns = self._arrow_columns(block)
                if columns is None:
                    pairs = [x for x in self._python_pairs(offset, block, cursor) if x is not SKIPPED]
                    columns = ([k for k, _ in pairs], [v for _, v in pairs])
                    count = len(pairs)
                else:
                    count = len(columns[0])
                for _ in cursor.feed(offset, range(count), block):  # position: end of block
                    pass
                yield columns

    # -- Arrow ---------------------------------------------------------------
    def _arrow_columns(self, block: bytes):
        """The block's keys and values as Arrow arrays, or None (Python reads it)."""
        options = self._arrow_options
        if options is None:
            options = self._arrow_options = self._make_arrow_options() or False
        if options is False or not block:
            return None
        pa, read_options, parse_options, convert_options = options
        if block.startswith((b"\n", b"\r\n")) or b"\n\n" in block or b"\n\r\n" in block:
            return None  # blank lines: Arrow may read one as a row; the Python reader skips them
        lines = block.count(b"\n") + (not block.endswith(b"\n"))
        try:
            table = pa.csv.read_csv(pa.py_buffer(block), read_options=read_options, parse_options=parse_options,
                                    convert_options=convert_options)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
        if table.num_rows != lines:  # a lone \r ends an Arrow row, not a line
            return None
        keys, values = table.column(0), table.column(1)
        if keys.null_count or values.null_count:
            return None
        return keys.combine_chunks(), values.combine_chunks()

    def _make_arrow_options(self):
        value_type = self.options.arrow_value_type
        if value_type is None or self.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            return None
        pa = _arrow()
        if pa is None:
            return None
        csv = pa.csv
        read_options = csv.ReadOptions(column_names=["key", "value"], use_threads=False, block_size=1 << 30)
        parse_options = csv.ParseOptions(delimiter=self.options.sep, quote_char=False, escape_char=False,
                                         double_quote=False, newlines_in_values=False, ignore_empty_lines=False)
        convert_options = csv.ConvertOptions(column_types={"key": pa.string(), "value": getattr(pa, value_type)()},
                                             null_values=[], strings_can_be_null=False,
                                             quoted_strings_can_be_null=False, check_utf8=True)
        return pa, read_options, parse_options, convert_options

    # -- Python: the reference reader -------------------------------------------
    def _python_pairs(self, offset: int, block: bytes, cursor) -> list:
        try:
            lines = split_block(block, self.encoding)
        except UnicodeDecodeError:
            lines = self._decode_lines(offset, block, cursor)
        sep, convert = self.options.sep, self.options.value
        first = cursor.first_line + len(cursor.lines)  # lines before this block
        out: list = []
        append = out.append
        for number, line in enumerate(lines, first + 1):
            if line is SKIPPED or not line:
                append(SKIPPED)
                continue
            key, _, value = line.partition(sep)
            if convert is not str:
                try:
                    value = convert(value)
                except (ValueError, TypeError, ArithmeticError) as exc:
                    self.bad_record(br.BAD_VALUE, self._where(), self._absolute(number), None,
                                    f"value {value!r}: {exc}", line)
                    append(SKIPPED)
                    continue
            append((key, value))
        return out


class KeyValueSource(LineSource):
    """Files of ``key<sep>value`` lines."""

    kind = "key-value text"
    partition_class = KeyValuePartition
    # Records cost ~0.1 us each here, while a combining shuffle pays ~2 us per
    # distinct key *per task*: one large split per worker, as HDFS-block-sized
    # splits would give (benchmarks/reduce_by_key.py).
    max_split = 256 << 20
    splits_per_worker = 1

    def __init__(self, paths, sep: str = "\t", value: Callable = str, **kwargs):
        if not isinstance(sep, str) or not sep or "\n" in sep:
            raise ValueError(f"sep must be a non-empty str without a newline, not {sep!r}")
        if not callable(value):
            raise TypeError(f"value must be callable (str, int, float or a function), not {value!r}")
        super().__init__(paths, **kwargs)
        self.options = KeyValueOptions(sep, value)
