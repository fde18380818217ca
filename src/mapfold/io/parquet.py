"""Parquet: one partition per row group, columns projected, filters pushed down.

Planning (driver) reads only file footers: for each file, pyarrow's
dataset layer splits it into row groups and, given a filter, drops the row
groups whose column statistics (min/max, null counts) prove that no row can
match (``ParquetFileFragment.split_by_row_group``). Those row groups never
become partitions, so they are never read. Each task then reads one row
group, only the projected columns (plus those the filter needs), applies
the filter exactly to the rows, and yields dicts.

``filters`` take pyarrow's forms: a list of ``(column, op, value)`` tuples
(AND), a list of such lists (OR of ANDs), or a ``pyarrow.compute``
expression. Requires pyarrow (``pip install 'mapfold[formats]'``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..core.errors import InputError
from .paths import expand_paths, is_local
from .secrets import protect_filesystem, scrubbed
from .sinks import PartWriter

__all__ = ["ParquetSource", "ParquetPartition", "ParquetPartWriter", "COMPRESSIONS"]

BATCH = 65536  # rows per record batch turned into dicts
ROW_GROUP = 128 * 1024  # rows per row group written: pruning granularity vs. footer size
COMPRESSIONS = {None: "", "snappy": "", "zstd": "", "gzip": "", "lz4": "", "brotli": ""}


def _pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.dataset  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise ImportError("Parquet needs pyarrow: pip install 'mapfold[formats]'") from exc
    return pyarrow


def arrow_filesystem(fs):
    """A pyarrow filesystem for an fsspec one (None: local)."""
    import pyarrow.fs as pafs

    if fs is None:
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def to_expression(filters):
    if filters is None:
        return None
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if isinstance(filters, pc.Expression):
        return filters
    if not isinstance(filters, (list, tuple)) or not filters:
        raise ValueError(f"filters must be a list of (column, op, value) tuples, a list of such lists, "
                         f"or a pyarrow expression, not {filters!r}")
    return pq.filters_to_expression(list(filters))


@dataclass(frozen=True)
class RowGroup:
    path: str
    index: int
    rows: int


class ParquetPartition:
    """One row group of one file."""

    def __init__(self, fs, group: RowGroup, columns: list | None, filters, batch_size: int = BATCH):
        self.fs = fs
        self.group = group
        self.columns = columns
        self.filters = filters
        self.batch_size = batch_size
        self._rows = 0

    def __getstate__(self):
        return {"fs": self.fs, "group": self.group, "columns": self.columns, "filters": self.filters,
                "batch_size": self.batch_size}

    def __setstate__(self, state):
        self.__init__(**state)
        protect_filesystem(self.fs)

    def describe(self) -> str:
        return f"{self.group.path} row group {self.group.index}"

    def position(self) -> str | None:
        return f"{self.describe()} row {self._rows}" if self._rows else None

    def read(self) -> Iterator[dict]:
        import pyarrow.dataset as ds

        group = self.group
        try:
            fragment = ds.ParquetFileFormat().make_fragment(group.path, arrow_filesystem(self.fs),
                                                            row_groups=[group.index])
            table = fragment.to_table(columns=self.columns, filter=to_expression(self.filters))
        except (OSError, ValueError) as exc:
            raise InputError(f"{group.path}: cannot read row group {group.index} ({type(exc).__name__}: {exc})",
                             path=group.path) from None
        for batch in table.to_batches(max_chunksize=self.batch_size):
            for record in batch.to_pylist():
                self._rows += 1
                yield record


class ParquetSource:
    """Parquet files, folders, globs or fsspec URLs, as row-group partitions."""

    def __init__(self, paths, columns: list | None = None, filters=None, storage_options: dict | None = None,
                 batch_size: int = BATCH):
        _pyarrow()
        import pyarrow.dataset as ds

        fs, files = expand_paths(paths, storage_options)
        self.fs = None if is_local(fs) else fs
        self.files = files
        self.columns = list(columns) if columns is not None else None
        self.filters = filters
        self.batch_size = batch_size
        expression = to_expression(filters)
        arrow_fs = arrow_filesystem(self.fs)
        fmt = ds.ParquetFileFormat()
        self.groups: list[RowGroup] = []
        self.total_groups = 0
        with scrubbed(storage_options):
            for info in files:
                try:
                    fragment = fmt.make_fragment(info.path, arrow_fs)
                    fragment.ensure_complete_metadata()
                    self.total_groups += fragment.num_row_groups
                    kept = fragment.split_by_row_group(expression, schema=fragment.physical_schema) \
                        if expression is not None else [fragment]
                except (OSError, ValueError) as exc:
                    raise InputError(f"{info.path}: cannot read the Parquet footer ({type(exc).__name__}: {exc})",
                                     path=info.path) from None
                for piece in kept:
                    for group in piece.row_groups:
                        self.groups.append(RowGroup(info.path, group.id, group.num_rows))

    def partitions(self) -> list[ParquetPartition]:
        return [ParquetPartition(self.fs, g, self.columns, self.filters, self.batch_size) for g in self.groups]

    def describe(self) -> str:
        rows = sum(g.rows for g in self.groups)
        columns = f", columns {self.columns}" if self.columns is not None else ""
        pruned = ""
        if self.filters is not None:
            pruned = f", filter kept {len(self.groups)} of {self.total_groups} row groups"
        return f"parquet: {len(self.files)} file(s), {len(self.groups)} row groups, {rows} rows{columns}{pruned}"


class ParquetPartWriter(PartWriter):
    """Writes records as one Parquet file per partition.

    Dict records are rows by their keys. Tuple (or list) records, such as
    the ``(key, value)`` pairs of ``reduce_by_key``, are rows by position:
    their columns are named by ``columns=``, else by the schema, else by a
    namedtuple's fields, else ``_1``, ``_2``, ... (PySpark's ``toDF()``
    names). The schema is ``schema=`` (a ``pyarrow.Schema``) or inferred
    from the partition's first :data:`ROW_GROUP` records; later records must
    fit it. An empty partition writes a file only when the schema is given.
    """

    extension = ".parquet"
    compressions = COMPRESSIONS

    def __init__(self, output, compression: str | None = "snappy", schema=None, row_group_size: int = ROW_GROUP,
                 columns: list | None = None):
        _pyarrow()
        super().__init__(output, compression)
        self.schema = schema
        self.row_group_size = row_group_size
        self.columns = list(columns) if columns is not None else None
        if self.columns is not None and schema is not None and list(schema.names) != self.columns:
            raise ValueError(f"columns {self.columns} differ from the schema's names {list(schema.names)}; "
                             "give one of them")

    def suffix(self) -> str:
        return self.extension  # the codec lives inside the file

    def write_file(self, path: str, iterator: Iterator) -> int | None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .sinks import batches

        schema = self.schema
        codec = self.compression or "none"
        fs = self.output.fs
        raw = writer = None
        written = 0
        try:
            for batch in batches(iterator, self.row_group_size):
                try:
                    table = _to_table(batch, schema, self.columns)
                except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                    how = "given" if self.schema is not None else "inferred from the first records"
                    raise ValueError(f"records do not fit the Parquet schema {how} ({exc}); "
                                     "pass schema= to save_parquet") from None
                if writer is None:
                    schema = table.schema
                    raw = fs.open(path, "wb")  # opened only now: an empty partition may write nothing
                    writer = pq.ParquetWriter(raw, schema, compression=codec)
                writer.write_table(table, row_group_size=self.row_group_size)
                written += len(batch)
            if writer is None:
                if schema is None:
                    return None  # empty partition, schema unknown: no file
                raw = fs.open(path, "wb")
                writer = pq.ParquetWriter(raw, schema, compression=codec)
                writer.write_table(schema.empty_table())
        finally:
            try:
                if writer is not None:
                    writer.close()
            finally:
                if raw is not None:
                    raw.close()
        return written


def _to_table(batch: list, schema, columns: list | None):
    """One batch of records as an Arrow table: dicts by key, tuples by position."""
    import pyarrow as pa

    first = batch[0]
    if isinstance(first, dict) or not isinstance(first, (tuple, list)):
        return pa.Table.from_pylist(batch, schema=schema)
    names = columns or (list(schema.names) if schema is not None else None) \
        or list(getattr(first, "_fields", ())) or [f"_{i}" for i in range(1, len(first) + 1)]
    width = len(names)
    for record in batch:
        if not isinstance(record, (tuple, list)) or len(record) != width:
            raise ValueError(f"every record must be a dict, or a tuple of {width} values for the columns "
                             f"{names}; found {record!r}")
    if len(set(names)) != width:
        raise ValueError(f"column names must differ: {names}")
    data = dict(zip(names, (list(values) for values in zip(*batch))))
    return pa.Table.from_pydict(data, schema=schema)
