"""The PySpark names this layer refuses, each with why and what to use instead.

:data:`UNSUPPORTED` is the declared table: ``{class name: {method: alternative}}``.
:func:`refuse` installs an explicit stub for each entry on the class, so a
call raises :class:`UnsupportedError` (a ``NotImplementedError`` and a
``MapfoldError``) naming the method and the closest mapfold alternative,
never an ``AttributeError``. ``docs/pyspark.md``'s table is generated from
it (``surface_table``) and a test checks the two agree.

>>> from mapfold.compat.pyspark import SparkContext
>>> SparkContext("local").sequenceFile("data/")
Traceback (most recent call last):
mapfold.compat.pyspark.unsupported.UnsupportedError: SparkContext.sequenceFile() is not supported by mapfold.compat.pyspark: Hadoop SequenceFiles need the JVM; write pickle files (saveAsPickleFile/pickleFile) or text instead
"""
from __future__ import annotations

import functools
from typing import Callable

from ...core.errors import MapfoldError

__all__ = ["UnsupportedError", "UNSUPPORTED", "refuse", "refusal", "refuse_argument"]


class UnsupportedError(MapfoldError, NotImplementedError):
    """A PySpark method or argument that mapfold's compat layer does not offer.

    ``method`` is ``Class.name``; ``alternative`` says what to use instead.
    """

    def __init__(self, method: str, alternative: str, argument: str | None = None):
        what = f"{method}({argument})" if argument else f"{method}()"
        super().__init__(f"{what} is not supported by mapfold.compat.pyspark: {alternative}")
        self.method, self.argument, self.alternative = method, argument, alternative


_JVM = "needs Spark's JVM; "
_NO_UI = "mapfold has no Spark UI or job scheduler to tag; "
_APPROX = "mapfold's actions always run to completion; use the exact "

UNSUPPORTED: dict[str, dict[str, str]] = {
    "RDD": {
        "barrier": _JVM + "barrier execution has no mapfold counterpart; use mapPartitions",
        "checkpoint": "there is no checkpoint directory; persist() the RDD, or save it (saveAsPickleFile) and read it back",
        "localCheckpoint": "there is no checkpointing; persist() the RDD instead",
        "isCheckpointed": "there is no checkpointing; persist() and is_cached instead",
        "isLocallyCheckpointed": "there is no checkpointing; persist() and is_cached instead",
        "getCheckpointFile": "there is no checkpointing; save the RDD with saveAsPickleFile",
        "cleanShuffleDependencies": "a job's shuffle files are removed when it ends; nothing to clean",
        "collectWithJobGroup": _NO_UI + "use collect()",
        "countApprox": _APPROX + "count()",
        "sumApprox": _APPROX + "sum()",
        "meanApprox": _APPROX + "mean()",
        "getResourceProfile": _JVM + "runners take their resources as arguments (mf.runner(..., workers=N))",
        "withResources": _JVM + "runners take their resources as arguments (mf.runner(..., workers=N))",
        "saveAsHadoopDataset": _JVM + "use saveAsTextFile, saveAsPickleFile or the Dataset's save_* writers",
        "saveAsHadoopFile": _JVM + "use saveAsTextFile, saveAsPickleFile or the Dataset's save_* writers",
        "saveAsNewAPIHadoopDataset": _JVM + "use saveAsTextFile, saveAsPickleFile or the Dataset's save_* writers",
        "saveAsNewAPIHadoopFile": _JVM + "use saveAsTextFile, saveAsPickleFile or the Dataset's save_* writers",
        "saveAsSequenceFile": "Hadoop SequenceFiles need the JVM; use saveAsPickleFile",
        "toDF": "there are no DataFrames; use rdd.dataset (a mapfold Dataset) and its save_parquet/save_csv",
    },
    "SparkContext": {
        "addArchive": "archives are not unpacked on workers; use addFile for single files",
        "listArchives": "archives are not supported; see listFiles",
        "addPyFile": "local workers import what the driver can import (PYTHONPATH); engines ship modules their own way",
        "addJobTag": _NO_UI + "nothing to use instead",
        "removeJobTag": _NO_UI + "nothing to use instead",
        "getJobTags": _NO_UI + "nothing to use instead",
        "clearJobTags": _NO_UI + "nothing to use instead",
        "setJobGroup": _NO_UI + "ds.last_run (a RunRecord) describes each run",
        "setJobDescription": _NO_UI + "ds.last_run (a RunRecord) describes each run",
        "setInterruptOnCancel": "jobs cannot be cancelled from another thread; interrupt the action (Ctrl-C)",
        "cancelAllJobs": "jobs cannot be cancelled from another thread; interrupt the action (Ctrl-C)",
        "cancelJobGroup": "jobs cannot be cancelled from another thread; interrupt the action (Ctrl-C)",
        "cancelJobsWithTag": "jobs cannot be cancelled from another thread; interrupt the action (Ctrl-C)",
        "getLocalProperty": "local properties do not reach tasks; pass values in closures or sc.broadcast",
        "setLocalProperty": "local properties do not reach tasks; pass values in closures or sc.broadcast",
        "getSystemProperty": _JVM + "read os.environ",
        "setSystemProperty": _JVM + "set os.environ before the SparkContext starts",
        "getCheckpointDir": "there is no checkpointing; persist() or saveAsPickleFile",
        "setCheckpointDir": "there is no checkpointing; persist() or saveAsPickleFile",
        "statusTracker": "no status tracker; ds.last_run and runner.add_listener report jobs, stages and tasks",
        "dump_profiles": "no Python profiler hook; run on master 'local' (the serial runner) under cProfile",
        "show_profiles": "no Python profiler hook; run on master 'local' (the serial runner) under cProfile",
        "getOrCreate": "there is no process-wide active context; create SparkContext(conf=...) and pass it along",
        "sequenceFile": "Hadoop SequenceFiles need the JVM; write pickle files (saveAsPickleFile/pickleFile) or text instead",
        "hadoopFile": _JVM + "use textFile, pickleFile or mapfold.read_* (jsonl, csv, parquet)",
        "hadoopRDD": _JVM + "use textFile, pickleFile or mapfold.read_* (jsonl, csv, parquet)",
        "newAPIHadoopFile": _JVM + "use textFile, pickleFile or mapfold.read_* (jsonl, csv, parquet)",
        "newAPIHadoopRDD": _JVM + "use textFile, pickleFile or mapfold.read_* (jsonl, csv, parquet)",
        "binaryFiles": "no binary file reader yet; use wholeTextFiles for text, or parallelize(paths).map(read)",
        "binaryRecords": "no fixed-length record reader; use parallelize(paths).flatMap(read_records)",
    },
}


def refusal(cls_name: str, method: str, alternative: str) -> Callable:
    """A method that raises :class:`UnsupportedError` for ``cls_name.method``, whatever its arguments."""

    def refused(*args, **kwargs):
        raise UnsupportedError(f"{cls_name}.{method}", alternative)

    refused.__name__ = refused.__qualname__ = method
    refused.__doc__ = f"Not supported: {alternative}."
    return functools.wraps(refused)(refused)


def refuse(cls: type) -> type:
    """Class decorator: an explicit refusing stub for each of the class's entries in :data:`UNSUPPORTED`."""
    for method, alternative in UNSUPPORTED[cls.__name__].items():
        if method in cls.__dict__:
            raise TypeError(f"{cls.__name__}.{method} is both implemented and declared unsupported")
        stub = refusal(cls.__name__, method, alternative)
        setattr(cls, method, staticmethod(stub) if method == "getOrCreate" else stub)
    return cls


def refuse_argument(method: str, argument: str, why: str) -> UnsupportedError:
    """The error for an argument value this layer does not honour (never ignored silently).

    >>> raise refuse_argument("RDD.persist", "storageLevel=OFF_HEAP", "the runner decides where partitions live")
    Traceback (most recent call last):
    mapfold.compat.pyspark.unsupported.UnsupportedError: RDD.persist(storageLevel=OFF_HEAP) is not supported by mapfold.compat.pyspark: the runner decides where partitions live
    """
    return UnsupportedError(method, why, argument)
