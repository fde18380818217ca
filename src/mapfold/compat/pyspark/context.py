"""``SparkContext``: the entry point of RDD programs; ``master`` picks the mapfold runner.

``local`` is ``serial``, ``local[N]`` is ``processes`` with N workers,
``local[*]`` ``processes`` with one worker per core, and any other master
goes to the ``spark`` runner. With no master (nor ``spark.master`` in the
conf) a context runs on the runner mapfold would choose when something
chose one (an ``mf.runner()`` block, as a job's spark step runs in; a
caller's default such as ``mapfold run -r``; ``MAPFOLD_RUNNER``), left open
by ``stop()``; else, as ``local[*]``, on its own processes runner. The context holds what
PySpark keeps per application: its broadcasts, its accumulators (fed by
its runner's job events: ``accumulators.py``) and its added files.
"""
from __future__ import annotations

import getpass
import logging
import os
import re
import shutil
import time
import uuid
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ...dataset.sources import from_slices, read_pickle, read_text, read_whole_text
from ...core.errors import MapfoldError
from ...io.paths import expand_paths
from ...runners import get_runner, make_runner
from ...runners.scratch import Scratch
from .accumulators import GROUP, Accumulator, AccumulatorParam, param_for
from .broadcast import Broadcast
from .conf import SparkConf
from .files import ENVIRONMENT
from .unsupported import refuse, refuse_argument

if TYPE_CHECKING:
    from .rdd import RDD

__all__ = ["SparkContext", "PYSPARK_VERSION"]

PYSPARK_VERSION = "4.0.0"  # the PySpark API this layer follows (sc.version)
_DEFAULT = object()  # PySpark's object defaults (serializer, profilers): only the default is accepted
_LOCAL_BLOCK = 32 << 20  # Hadoop's local file system block size: the largest text split
_LOG_LEVELS = {"ALL": logging.NOTSET, "DEBUG": logging.DEBUG, "ERROR": logging.ERROR, "FATAL": logging.CRITICAL,
               "INFO": logging.INFO, "OFF": logging.CRITICAL + 10, "TRACE": logging.DEBUG, "WARN": logging.WARNING}


def _runner_for(master: str | None):
    if master in (None, "local[*]"):
        return make_runner("processes")
    if master == "local":
        return make_runner("serial")
    match = re.fullmatch(r"local\[(\d+)\]", master)
    if match:
        return make_runner("processes", workers=int(match.group(1)))
    return make_runner("spark", master=master)


@refuse
class SparkContext:
    """The entry point of RDD programs.

    >>> sc = SparkContext("local", "doctest")
    >>> sc.parallelize([1, 2, 3, 4], 2).map(lambda x: x * x).sum()
    30
    >>> sc.parallelize(range(5), 2).glom().collect()
    [[0, 1], [2, 3, 4]]
    >>> sc.defaultParallelism, sc.version
    (1, '4.0.0')
    >>> sc.stop()
    """

    PACKAGE_EXTENSIONS = (".zip", ".egg", ".jar")

    def __init__(self, master: str | None = None, appName: str | None = None, sparkHome: str | None = None,
                 pyFiles: list[str] | None = None, environment: dict | None = None, batchSize: int = 0,
                 serializer: Any = _DEFAULT, conf: SparkConf | None = None, gateway: Any = None, jsc: Any = None,
                 profiler_cls: Any = _DEFAULT, udf_profiler_cls: Any = _DEFAULT,
                 memory_profiler_cls: Any = _DEFAULT, runner=None):
        for name, value in (("sparkHome", sparkHome), ("pyFiles", pyFiles), ("environment", environment),
                            ("gateway", gateway), ("jsc", jsc)):
            if value is not None:
                raise refuse_argument("SparkContext", name, "there is no JVM or cluster install to configure; "
                                      "give the runner its settings (runner=mf.make_runner(...))")
        for name, value in (("batchSize", batchSize != 0 or None), ("serializer", serializer),
                            ("profiler_cls", profiler_cls), ("udf_profiler_cls", udf_profiler_cls),
                            ("memory_profiler_cls", memory_profiler_cls)):
            if value is not _DEFAULT and value is not None:
                raise refuse_argument("SparkContext", name, "mapfold pickles with cloudpickle and has no profilers")
        self._conf = SparkConf()
        if conf is not None:
            self._conf.setAll(conf.getAll())
        master = master or self._conf.get("spark.master")
        appName = appName or self._conf.get("spark.app.name")
        if master is not None:
            self._conf.setMaster(master)
        if appName is not None:
            self._conf.setAppName(appName)
        self.master, self.appName = master, appName
        if runner is None and master is None:
            chosen, setting = get_runner(None)
            if setting.source != "default":  # something chose it: a block, a caller's default, the environment
                runner = chosen
        self._owns_runner = runner is None or isinstance(runner, str)
        if isinstance(runner, str):
            runner = make_runner(runner)
        self.runner = runner if runner is not None else _runner_for(master)
        self._start = int(time.time() * 1000)
        self._broadcasts: list[Broadcast] = []
        self._accumulators: dict[str, Accumulator] = {}  # by counter key: f"{id}@{this context's token}"
        self._token = uuid.uuid4().hex[:8]
        # made now, before the runner starts workers, so that forked workers inherit its name (files.py);
        # in an owner-locked scratch folder, which the next runner or context sweeps if this driver is killed
        self._scratch = Scratch.make("mapfold-sparkfiles-")
        self._files_dir: str | None = os.path.join(self._scratch.path, "files")
        os.mkdir(self._files_dir)
        os.environ[ENVIRONMENT] = self._files_dir
        self._files: list[str] = []
        self._rdd_ids = 0
        # the runner (often longer-lived, shared) holds the context weakly: one dropped without stop()
        # is collected, and its finalizer stops the listening and removes the files folder
        self._listener = _JobEvents(self)
        self.runner.add_listener(self._listener)
        weakref.finalize(self, _forget, self.runner, self._listener, self._scratch)

    # -- what the application is ----------------------------------------------
    @property
    def version(self) -> str:
        return PYSPARK_VERSION

    @property
    def startTime(self) -> int:
        """When this context started, in milliseconds since the epoch."""
        return self._start

    @property
    def applicationId(self) -> str:
        return f"mapfold-{self.runner.name}-{self._start}"

    @property
    def uiWebUrl(self) -> None:
        """No web UI: ``None``, as PySpark's with ``spark.ui.enabled=false``."""
        return None

    @property
    def resources(self) -> dict:
        return {}

    @property
    def defaultParallelism(self) -> int:
        """The runner's workers: 1 on ``local``, N on ``local[N]``, the cores on ``local[*]``."""
        return getattr(self.runner, "workers", None) or 1

    @property
    def defaultMinPartitions(self) -> int:
        return min(self.defaultParallelism, 2)

    def getConf(self) -> SparkConf:
        conf = SparkConf()
        return conf.setAll(self._conf.getAll())

    def sparkUser(self) -> str:
        return getpass.getuser()

    def setLogLevel(self, logLevel: str) -> None:
        """Set the level of mapfold's loggers (``mapfold.*``) by Spark's level name."""
        level = _LOG_LEVELS.get(str(logLevel).upper())
        if level is None:
            raise ValueError(f"setLogLevel(): {logLevel!r} is not one of {', '.join(_LOG_LEVELS)}")
        logging.getLogger("mapfold").setLevel(level)

    # -- making RDDs ------------------------------------------------------------
    def _rdd(self, dataset) -> "RDD":
        from .rdd import RDD

        return RDD(dataset, self)

    def parallelize(self, c: Iterable, numSlices: int | None = None) -> "RDD":
        """``c`` cut into ``numSlices`` slices as PySpark cuts it: slice ``i`` of ``n``
        holds items ``i * len // n`` up to ``(i + 1) * len // n`` (the leftovers go last)."""
        items = list(c)
        n = numSlices if numSlices is not None else self.defaultParallelism
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"parallelize(): numSlices must be a positive int, not {n!r}")
        return self._rdd(from_slices(items[i * len(items) // n:(i + 1) * len(items) // n] for i in range(n)))

    def range(self, start: int, end: int | None = None, step: int = 1, numSlices: int | None = None) -> "RDD":
        if end is None:
            start, end = 0, start
        return self.parallelize(range(start, end, step), numSlices)

    def emptyRDD(self) -> "RDD":
        return self._rdd(from_slices([]))

    def textFile(self, name: str, minPartitions: int | None = None, use_unicode: bool = True) -> "RDD":
        """Lines of the files at ``name`` (comma-separated paths allowed), split as Hadoop splits
        them: at least ``minPartitions`` (default ``defaultMinPartitions``) splits of the uncompressed input."""
        if use_unicode is not True:
            raise refuse_argument("SparkContext.textFile", "use_unicode=False", "lines are always str")
        paths = name.split(",") if "," in name else name
        wanted = minPartitions if minPartitions is not None else self.defaultMinPartitions
        _, files = expand_paths(paths)
        total = sum(f.size for f in files)  # compressed files count too, as in Hadoop's goal size
        split = max(1, min(total // max(wanted, 1), _LOCAL_BLOCK))
        return self._rdd(read_text(paths, split_size=split, layout="hadoop"))

    def wholeTextFiles(self, path: str, minPartitions: int | None = None, use_unicode: bool = True) -> "RDD":
        """``(url, text)`` for each file, one partition per file (at least ``minPartitions`` files, or refused)."""
        if use_unicode is not True:
            raise refuse_argument("SparkContext.wholeTextFiles", "use_unicode=False", "texts are always str")
        rdd = self._rdd(read_whole_text(path.split(",") if "," in path else path))
        return _at_least(rdd, minPartitions, "SparkContext.wholeTextFiles")

    def pickleFile(self, name: str, minPartitions: int | None = None) -> "RDD":
        """The records saved by ``RDD.saveAsPickleFile``, one partition per part file (at least ``minPartitions``
        files, or refused)."""
        return _at_least(self._rdd(read_pickle(name.split(",") if "," in name else name)), minPartitions,
                         "SparkContext.pickleFile")

    def union(self, rdds: list["RDD"]) -> "RDD":
        if not rdds:
            raise ValueError("union(): give at least one RDD")
        return self._rdd(rdds[0].dataset.union(*(r.dataset for r in rdds[1:])))

    def runJob(self, rdd: "RDD", partitionFunc: Callable, partitions: list[int] | None = None,
               allowLocal: bool = False) -> list:
        """``partitionFunc`` over the chosen partitions' iterators, the results flattened in partition order
        (``allowLocal`` has no effect in PySpark either)."""
        chosen = range(rdd.getNumPartitions()) if partitions is None else list(partitions)
        per_partition = rdd.mapPartitionsWithIndex(_Chosen(set(chosen), partitionFunc)).glom().collect()
        return [x for i in chosen for x in per_partition[i]]

    # -- shared variables ------------------------------------------------------
    def broadcast(self, value: Any) -> Broadcast:
        shared = Broadcast(len(self._broadcasts), value)
        self._broadcasts.append(shared)
        return shared

    def accumulator(self, value: Any, accum_param: AccumulatorParam | None = None) -> Accumulator:
        aid = len(self._accumulators)
        shared = Accumulator(aid, value, accum_param or param_for(value), key=f"{aid}@{self._token}")
        self._accumulators[shared.key] = shared
        return shared

    def _job_event(self, event) -> None:
        """Every job of this context's runner: its tasks' accumulator updates, once per job."""
        if event.kind not in ("job_finished", "job_failed"):
            return
        for key, total in event.data.get("counters", {}).get(GROUP, {}).items():
            accumulator = self._accumulators.get(key)
            if accumulator is not None:
                accumulator._merge(total)

    def addFile(self, path: str, recursive: bool = False) -> None:
        """Copy the file (or, with ``recursive``, folder) at ``path`` where ``SparkFiles.get(name)`` finds it."""
        if self._files_dir is None:
            raise MapfoldError("addFile(): this SparkContext was stopped")
        target = os.path.join(self._files_dir, os.path.basename(os.path.normpath(path)))
        if os.path.isdir(path):
            if not recursive:
                raise ValueError(f"addFile(): {path} is a folder; pass recursive=True")
            shutil.copytree(path, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(path, target)
        self._files.append(os.path.abspath(path))

    @property
    def listFiles(self) -> list[str]:
        return list(self._files)

    # -- the end -------------------------------------------------------------------
    def stop(self) -> None:
        """Destroy the broadcasts, stop listening to the runner, and close it if this context made it."""
        for shared in self._broadcasts:
            shared.destroy()
        if self._listener in self.runner.listeners:
            self.runner.remove_listener(self._listener)
        if self._owns_runner:
            self.runner.close()
        if self._files_dir is not None:
            if os.environ.get(ENVIRONMENT) == self._files_dir:
                del os.environ[ENVIRONMENT]
            self._scratch.remove()
            self._files_dir = None

    def __enter__(self) -> "SparkContext":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _JobEvents:
    """A context's listener on its runner, holding the context weakly."""

    def __init__(self, context: SparkContext):
        self._context = weakref.ref(context)

    def __call__(self, event) -> None:
        context = self._context()
        if context is not None:
            context._job_event(event)


def _forget(runner, listener: _JobEvents, scratch: Scratch) -> None:
    """What a context never stopped leaves behind, undone when it is collected."""
    if listener in runner.listeners:
        runner.remove_listener(listener)
    scratch.remove()


def _at_least(rdd: "RDD", wanted: int | None, method: str) -> "RDD":
    """``rdd``, whose partitions are whole files: refused when it has fewer than ``wanted``."""
    if wanted is not None and rdd.getNumPartitions() < wanted:
        raise refuse_argument(method, f"minPartitions={wanted}",
                              f"whole files are read one partition each, and there are {rdd.getNumPartitions()}; "
                              "call repartition(n) on the result")
    return rdd


class _Chosen:
    def __init__(self, chosen: set, func: Callable):
        self.chosen, self.func = chosen, func

    def __call__(self, index, iterator):
        return list(self.func(iterator)) if index in self.chosen else []
