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
from .runners import get_runner, runner

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
