"""mapfold: write map and reduce code once; run it lazily on one core, on all
local cores, or on a cluster engine (Dask, Spark, Ray).

>>> import mapfold as mf
>>> mf.from_sequence(range(10)).map(lambda x: x * x).sum(runner="serial")
285
"""
from importlib import import_module
from typing import Any

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

# The rest of the public API is imported when first used (PEP 562): a job file started as a
# Hadoop Streaming task (``python job.py --mapper``) needs ``mapfold.jobs``' task code only,
# not the engine, the io layer and fsspec, which took most of its start (0.4 s of 0.5 s here).
_LAZY = {
    "Dataset": ".dataset.dataset",
    **dict.fromkeys(["from_sequence", "from_slices", "read_csv", "read_jsonl", "read_key_value", "read_parquet",
                     "read_pickle", "read_text", "read_whole_text"], ".dataset.sources"),
    "BadRecord": ".io.badrecords",
    "BadRecordsReport": ".io.badrecords",
    "Pool": ".parallel.pool",
    "dashboard": ".runners",
    "get_runner": ".runners",
    "runner": ".runners",
    "increment_counter": ".core.task_context",
}


def __getattr__(name: str) -> Any:
    if name == "storage":
        return import_module(".storage", __name__)
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'mapfold' has no attribute {name!r}")
    value = getattr(import_module(where, __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY) | {"storage"})


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
    >>> import mapfold as mf
    >>> ds = mf.from_sequence(range(8), partitions=2)
    >>> ds.count(runner="serial")
    8
    >>> os.path.getsize(write_report(ds.last_run, os.path.join(tempfile.mkdtemp(), "run.html"))) > 0
    True
    """
    from .web import write_report as write  # http.server and the page: only when a report is asked for

    return write(source, path, title)
