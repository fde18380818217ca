"""Writing Datasets out: ``save_text``, ``save_jsonl``, ``save_csv``, ``save_parquet``.

Every sink writes one file per partition and commits atomically (see
``io/commit.py``): files go to a hidden temporary folder beside the target,
and only when every task has succeeded are they published, ``_SUCCESS``
last. A failed job leaves the target as it was and no temporary folder.

``mode``: ``"error"`` (default: refuse an existing target), ``"overwrite"``,
``"append"`` (add files beside the existing ones). Paths are fsspec URLs;
``storage_options`` (credentials, endpoints) go to the filesystem and are
never shown in errors or logs.
"""
from __future__ import annotations

from typing import Any

from ..io.badrecords import BadRecordsReport
from ..io.commit import AtomicOutput

__all__ = ["WritersMixin"]


class WritersMixin:
    node: Any

    def _save(self, path: str, mode: str, make_writer, name: str, runner, progress, storage_options) -> str:
        job = self._job(runner, progress, name)
        output = AtomicOutput(path, mode=mode, storage_options=storage_options)
        writer = make_writer(output)
        plan = job.prepare(self.node, writer, f"{name} {output.path}")  # code pickled before any output exists
        output.begin()
        files, records = [], 0
        try:
            for _, result in job.run(self.node, writer, name, prepared=plan):
                if result.file is not None:
                    files.append(result.file)
                records += result.records
        except BaseException:
            output.abort()
            raise
        output.commit(files, records)
        return path

    def save_text(self, path: str, mode: str = "error", compression: str | None = None, runner=None,
                  progress=None, storage_options: dict | None = None) -> str:
        """Write ``str(record)`` lines, one file per partition (``part-00000``...) and ``_SUCCESS``.

        ``compression``: None, ``"gzip"``, ``"bz2"``, ``"zstd"``, ``"xz"``.

        >>> import tempfile, mapfold as mf
        >>> out = tempfile.mkdtemp() + "/out"
        >>> _ = mf.from_sequence(["a", "b"], partitions=2).save_text(out, runner="serial")
        >>> mf.read_text(out).collect(runner="serial")
        ['a', 'b']
        """
        from ..io.sinks import TextPartWriter

        return self._save(path, mode, lambda out: TextPartWriter(out, compression), "save_text", runner, progress,
                          storage_options)

    def save_pickle(self, path: str, batch_size: int = 10, mode: str = "error", runner=None, progress=None,
                    storage_options: dict | None = None) -> str:
        """Write the records pickled, ``batch_size`` to a pickle, one ``part-NNNNN.pickle`` per partition
        (read them back with ``mapfold.read_pickle``; PySpark's ``saveAsPickleFile``, without the JVM's
        SequenceFile around the batches).

        >>> import tempfile, mapfold as mf
        >>> out = tempfile.mkdtemp() + "/out"
        >>> _ = mf.from_sequence([1, (2, 3)], partitions=2).save_pickle(out, runner="serial")
        >>> mf.read_pickle(out).collect(runner="serial")
        [1, (2, 3)]
        """
        from ..io.wholefiles import PicklePartWriter
        from .checks import check_count

        check_count(batch_size, "batch_size", "save_pickle")
        return self._save(path, mode, lambda out: PicklePartWriter(out, batch_size), "save_pickle", runner,
                          progress, storage_options)

    def save_jsonl(self, path: str, mode: str = "error", compression: str | None = None, runner=None,
                   progress=None, storage_options: dict | None = None) -> str:
        """Write each record as a line of JSON (``part-00000.jsonl[.gz]``...).

        >>> import tempfile, mapfold as mf
        >>> out = tempfile.mkdtemp() + "/out"
        >>> _ = mf.from_sequence([{"k": "é", "n": 1}]).save_jsonl(out, compression="gzip", runner="serial")
        >>> mf.read_jsonl(out).collect(runner="serial")
        [{'k': 'é', 'n': 1}]
        """
        from ..io.jsonl import JsonlPartWriter

        return self._save(path, mode, lambda out: JsonlPartWriter(out, compression), "save_jsonl", runner,
                          progress, storage_options)

    def save_csv(self, path: str, columns: list | None = None, header: bool = True, delimiter: str = ",",
                 mode: str = "error", compression: str | None = None, runner=None, progress=None,
                 storage_options: dict | None = None) -> str:
        """Write rows (dicts, or sequences) as CSV files with a header line.

        Columns come from ``columns=`` or each partition's first dict record;
        give ``columns`` for a fixed order and for empty partitions.

        >>> import tempfile, mapfold as mf
        >>> out = tempfile.mkdtemp() + "/out"
        >>> _ = mf.from_sequence([{"w": "a", "n": 2}]).save_csv(out, runner="serial")
        >>> mf.read_csv(out).collect(runner="serial")
        [{'w': 'a', 'n': 2}]
        """
        from ..io.csv import CsvPartWriter

        return self._save(path, mode, lambda out: CsvPartWriter(out, compression, columns, header, delimiter),
                          "save_csv", runner, progress, storage_options)

    def save_parquet(self, path: str, schema=None, mode: str = "error", compression: str | None = "snappy",
                     row_group_size: int | None = None, runner=None, progress=None,
                     storage_options: dict | None = None, columns: list | None = None) -> str:
        """Write records as Parquet files (``part-00000.parquet``...).

        Dict records are rows by key. Tuple records (the ``(key, value)``
        pairs of ``reduce_by_key``) are rows by position, their columns named
        by ``columns=``, else the schema, else ``_1``, ``_2``... (as PySpark's
        ``toDF()``). ``schema``: a ``pyarrow.Schema``, or None to infer it
        from each partition's first records. ``compression``: ``"snappy"``
        (default), ``"zstd"``, ``"gzip"``, None. ``row_group_size``: rows per
        row group (the unit a filter can skip).

        >>> import tempfile, mapfold as mf
        >>> out = tempfile.mkdtemp() + "/out"
        >>> _ = mf.from_sequence([{"k": "a", "v": 1.5}]).save_parquet(out, compression="zstd", runner="serial")
        >>> mf.read_parquet(out).collect(runner="serial")
        [{'k': 'a', 'v': 1.5}]
        >>> out = tempfile.mkdtemp() + "/pairs"
        >>> _ = mf.from_sequence([("a", 2)]).save_parquet(out, columns=["word", "n"], runner="serial")
        >>> mf.read_parquet(out).collect(runner="serial")
        [{'word': 'a', 'n': 2}]
        """
        from ..io.parquet import ROW_GROUP, ParquetPartWriter

        size = row_group_size or ROW_GROUP
        return self._save(path, mode, lambda out: ParquetPartWriter(out, compression, schema, size, columns),
                          "save_parquet", runner, progress, storage_options)

    @property
    def bad_records(self) -> BadRecordsReport:
        """Bad input records skipped (``errors="skip"``) by the last run that
        computed this Dataset: an action on it, or on a Dataset derived from
        it (``events.bad_records`` after ``events.map(...).collect()``).

        >>> import tempfile, os, mapfold as mf
        >>> folder = tempfile.mkdtemp()
        >>> _ = open(os.path.join(folder, "a.jsonl"), "w").write('{"a": 1}\\n{oops\\n')
        >>> ds = mf.read_jsonl(folder, errors="skip")
        >>> ds.collect(runner="serial")
        [{'a': 1}]
        >>> ds.bad_records.total, ds.bad_records.sample[0].line
        (1, 2)
        """
        from ..core.counters import Counters

        job = self._computed_by
        return BadRecordsReport.from_counters(job.counters if job is not None else Counters())
