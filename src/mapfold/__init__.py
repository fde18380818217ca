"""mapfold: write map and reduce code once; run it lazily on one core, on all
local cores, or on a cluster engine (Dask, Spark, Ray).

>>> import mapfold as mf
>>> mf.from_sequence(range(10)).map(lambda x: x * x).sum(runner="serial")
285
"""
from .core.task_context import increment_counter
from .core.errors import (
    InputError,
    MapfoldError,
    OutputBusyError,
    OutputExistsError,
    PoolClosedError,
    RecordShapeError,
    RunnerUnavailableError,
    SerializationError,
    SpillError,
    WorkerLostError,
)
from .dataset.dataset import Dataset
from .dataset.sources import (from_sequence, from_slices, read_csv, read_jsonl, read_key_value, read_parquet, read_pickle,
                              read_text, read_whole_text)
from . import storage
from .io.badrecords import BadRecord, BadRecordsReport
from .parallel.pool import Pool
from .runners import dashboard, get_runner, runner

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "from_sequence",
    "read_text",
    "from_slices",
    "read_pickle",
    "read_whole_text",
    "read_key_value",
    "read_jsonl",
    "read_csv",
    "read_parquet",
    "storage",
    "BadRecord",
    "BadRecordsReport",
    "Pool",
    "runner",
    "get_runner",
    "dashboard",
    "write_report",
    "increment_counter",
    "MapfoldError",
    "InputError",
    "OutputBusyError",
    "OutputExistsError",
    "PoolClosedError",
    "RecordShapeError",
    "RunnerUnavailableError",
    "SerializationError",
    "SpillError",
    "WorkerLostError",
]


def write_report(source, path, title: str = "mapfold report") -> str:
    """Write the offline report of a run: one self-contained HTML file (``mapfold.web.write_report``).

    ``source``: a run record (``ds.last_run``), a JSON-lines event log, or events.

    >>> import os, tempfile
    >>> ds = from_sequence(range(8), partitions=2)
    >>> ds.count(runner="serial")
    8
    >>> os.path.getsize(write_report(ds.last_run, os.path.join(tempfile.mkdtemp(), "run.html"))) > 0
    True
    """
    from .web import write_report as write  # http.server and the page: only when a report is asked for

    return write(source, path, title)
