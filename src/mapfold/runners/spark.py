"""The spark runner: stages as PySpark RDDs, shuffles as Spark shuffles.

``SparkRunner(master="spark://host:7077")`` (or ``yarn``, ``k8s://...``)
joins a cluster; the default is ``local[*]``. When this process already has
an active SparkContext (a program launched with ``spark-submit`` that made
one, a notebook), the runner uses it and leaves it running; a
``spark-submit`` program without one gets a context built from the
submit's own settings: its ``--master`` (used as given), ``--name`` and
``--conf`` live in the JVM spark-submit started, so the runner connects to
that JVM before it reads ``SparkConf()`` (a ``SparkConf`` made before the
gateway is up is empty, which is how such a program used to run on
``local[*]`` as "mapfold"). Under spark-submit, ``spark`` is also the
default runner (``runners.get_runner``).

Mapping (Spark's own scheduler, retries, UI and shuffle apply throughout):

* a stage is one RDD with one Spark partition per mapfold task: source
  tasks are ``parallelize``d task descriptions (``mapPartitions`` runs
  them); tasks reading a shuffle are ``mapPartitionsWithIndex`` over the
  shuffled RDD, partition ``b`` being bucket ``b``;
* the map side of a shuffle emits ``(bucket, combined records)`` pairs
  (mapfold's stable partitioner and map-side combine) and
  ``partitionBy(buckets + 1, identity)`` makes it a Spark shuffle; the extra
  partition carries each map task's summary (counters, failures). Running
  that one partition makes Spark run the shuffle's map stage; the reduce
  stage later reuses its shuffle files (shown as "skipped" in the UI) and,
  when an executor with shuffle files is lost, Spark recomputes them from
  the lineage.

The stage's cloudpickled code is broadcast once per stage.
"""
from __future__ import annotations

import os
import re
import sys
import weakref
from typing import Any, Iterator

import pyspark

from ..core.errors import RunnerUnavailableError
from ..plan.stages import Stage, TaskSpec, ZippedInput
from .engine import EngineRunner, RemoteMapOutput, engine_error, in_order, write_mapfold_zip
from .engine_tasks import Awaiting, RemoteValue, remote_inputs
from .spark_tasks import LeafBatch, ReduceSide, TaskSide, ZipSide, bucket_of, passthrough, summaries

__all__ = ["SparkRunner", "with_attempts", "under_spark_submit"]

_LOCAL = re.compile(r"^local(?:\[(\*|\d+)(?:,\s*(\d+))?\])?$")
_FAILED_TASK = re.compile(r"Task (\d+) in stage [\d.]+ failed")


def with_attempts(master: str, attempts: int | None) -> str:
    """A local master with Spark's task retries: ``local[2]`` -> ``local[2,3]``.

    Spark never retries a failed task in local mode unless the master says
    so; an explicit ``local[N,F]`` is kept.

    >>> with_attempts("local[2]", 3), with_attempts("local", 2), with_attempts("local[*,4]", 3)
    ('local[2,3]', 'local[1,2]', 'local[*,4]')
    """
    match = _LOCAL.match(master)
    if match is None or attempts is None or match.group(2) is not None:
        return master
    return f"local[{match.group(1) or 1},{attempts}]"


def under_spark_submit(environ=None) -> bool:
    """Whether this Python was started by ``spark-submit`` (or ``pyspark``): its
    launcher runs the JVM first and tells Python where its gateway listens.

    >>> under_spark_submit({}), under_spark_submit({"PYSPARK_GATEWAY_PORT": "4242"})
    (False, True)
    """
    environ = os.environ if environ is None else environ
    return bool(environ.get("PYSPARK_GATEWAY_PORT"))


class SparkShuffle:
    """A shuffle Spark holds: the partitioned RDD the reduce stage reads."""

    def __init__(self, rdd, buckets: int, keepalive: Any = None):
        self.rdd = rdd
        self.buckets = buckets
        self.partitions = buckets + 1  # + the summaries' partition
        self.keepalive = keepalive

    def partition_of(self, task: TaskSpec) -> int:
        return task.input.partition


class SparkPersisted:
    """A persisted Dataset Spark keeps: an RDD of ``(position, outcome)``
    persisted in the executors (memory, then disk), unpersisted by
    ``release()`` (``Dataset.unpersist``, ``runner.close()``) or when the
    last reference to it goes."""

    def __init__(self, rdd, index_of: dict):
        self.rdd = rdd
        self.index_of = index_of
        self.partitions = rdd.getNumPartitions()
        self._finalizer = weakref.finalize(self, _unpersist, rdd)
        self._finalizer.atexit = False

    def release(self) -> None:
        """Unpersist the RDD now (once), not when the last reference goes."""
        self._finalizer()

    def partition_of(self, task: TaskSpec) -> int:
        return self.index_of[task.input.partition]


def _unpersist(rdd) -> None:
    try:
        rdd.unpersist(blocking=False)
    except Exception:  # the context is already stopped
        pass


class SparkRunner(EngineRunner):
    """Run mapfold's stages on PySpark (``pip install 'mapfold[spark]'``, Java 17+).

    ``master``: where to run (default ``local[*]``, or what spark-submit
    set); ``conf``: extra Spark settings; ``max_attempts``: attempts per
    task (local masters: default 3, as the processes runner; cluster
    masters: Spark's ``spark.task.maxFailures`` unless given); ``python``:
    the workers' interpreter for a local master (default: this one, unless
    ``PYSPARK_PYTHON`` is set); ``ship_mapfold``: ``addPyFile`` this
    mapfold's source (default: for a cluster master).
    """

    name = "spark"
    # the sides of a co-partitioned join are read through a partitioner-aware union (_zipped_rdd):
    # every mapfold shuffle of n buckets is partitionBy(n + 1, bucket_of), one partitioner
    zips_inputs = True
    # coalesce reads neighbouring partitions of one RDD, which a union cannot: its shuffled fallback
    coalesces_inputs = False

    def __init__(self, master: str | None = None, app_name: str = "mapfold", conf: dict | None = None,
                 max_attempts: int | None = None, python: str | None = None, ship_mapfold: bool | None = None,
                 log_level: str = "WARN", context: Any = None):
        remote = master is not None and _LOCAL.match(master) is None
        super().__init__("engine", remote if ship_mapfold is None else ship_mapfold)
        self._ship_by_master = ship_mapfold is None  # decided again once spark-submit's master is known
        self.master = master
        self.app_name = app_name
        self.conf = dict(conf or {})
        self.max_attempts = max_attempts
        self.python = python
        self.log_level = log_level
        self._sc = context
        self._owns_context = False

    # -- lifecycle ------------------------------------------------------
    @property
    def context(self) -> "pyspark.SparkContext":
        if self._sc is None:
            self.start()
        return self._sc

    def start(self) -> "SparkRunner":
        """Create (or adopt) the SparkContext now rather than on first use."""
        if self._sc is not None:
            return self
        active = pyspark.SparkContext._active_spark_context
        if active is not None:
            if self.master is not None and active.master not in (self.master, with_attempts(self.master, 3)):
                raise RunnerUnavailableError(
                    f"this process already has a SparkContext for {active.master!r}; Spark allows one per "
                    f"process: stop it, or create the runner without master= to use it")
            self._sc = active
            return self
        if under_spark_submit():  # the JVM spark-submit started holds its --master, --name and --conf
            pyspark.SparkContext._ensure_initialized()  # connect to it, so SparkConf() loads them
        conf = pyspark.SparkConf()  # under spark-submit: the submit's settings
        submitted = conf.get("spark.master", None)
        master = self.master or submitted or "local[*]"
        local = _LOCAL.match(master) is not None
        if self._ship_by_master:
            self.ship_mapfold = not local
        if self.master is not None or submitted is None:  # spark-submit's master is used as given
            conf.setMaster(with_attempts(master, (self.max_attempts or 3) if local else None))
        if not local and self.max_attempts is not None:
            conf.set("spark.task.maxFailures", str(self.max_attempts))
        if conf.get("spark.app.name", None) is None:
            conf.setAppName(self.app_name)
        if local:  # a local Spark listens on loopback only
            conf.setIfMissing("spark.driver.host", "127.0.0.1")
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1")
        show = sys.stderr.isatty() and os.environ.get("MAPFOLD_PROGRESS", "1") != "0"
        conf.setIfMissing("spark.ui.showConsoleProgress", "true" if show else "false")
        for key, value in self.conf.items():
            conf.set(key, str(value))
        self._sc = pyspark.SparkContext(conf=conf)
        self._owns_context = True
        self._sc.setLogLevel(self.log_level)
        if local and (self.python or not os.environ.get("PYSPARK_PYTHON")):
            self._sc.pythonExec = self.python or sys.executable
        if self.ship_mapfold:
            self._sc.addPyFile(write_mapfold_zip(self.scratch()))
        return self

    def close(self) -> None:
        self.release_persisted()  # while the engine still runs: it frees their objects
        if self._sc is not None and self._owns_context:
            self._sc.stop()
        self._sc = None
        self._owns_context = False
        super().close()

    def describe(self) -> str:
        master = self._sc.master if self._sc is not None else (self.master or "local[*]")
        owner = "" if self._owns_context or self._sc is None else ", active SparkContext"
        return f"spark ({master}{owner})"

    # -- running --------------------------------------------------------
    def run_tasks(self, stage: Stage, prepared, tasks: list[TaskSpec], ordered: bool = True) -> Iterator:
        if not tasks:
            return
        sc = self.context
        token, payload = prepared
        code = sc.broadcast(payload)  # the stage's code: once per executor
        map_stage = self.is_map_stage(stage)
        buckets = stage.shuffle_of.num_partitions if map_stage else None
        sc.setLocalProperty("spark.job.description", f"mapfold stage {stage.id}: {stage.name}")
        rdd, index_of = self._stage_rdd(sc, stage, token, code, tasks, buckets)
        position_of = {index: position for position, index in index_of.items()}
        if map_stage:
            # a stage RDD may keep its input's partitioner (zipped, persisted): Spark's partitionBy
            # would take an equal one (Python's or the JVM's) for done; passthrough drops it
            rdd = rdd.mapPartitions(passthrough)
            shuffled = rdd.partitionBy(buckets + 1, bucket_of)
            handle = SparkShuffle(shuffled, buckets, keepalive=code)
            pairs = [entry for _, entry in self._run_job(sc, stage, tasks, shuffled, [buckets], position_of)]
            for _, outcome in pairs:
                if outcome.failure is None:
                    summary = outcome.value
                    outcome.value = RemoteMapOutput({b: handle for b in summary.sizes}, summary.records, handle)
        elif self.is_cache_stage(stage):  # persist: the partitions stay in the executors
            kept = rdd.persist(pyspark.StorageLevel.MEMORY_AND_DISK)
            persisted = SparkPersisted(kept, {task.partition: index_of[p] for p, task in enumerate(tasks)})
            partitions = [index_of[position] for position in range(len(tasks))]
            pairs = self._run_job(sc, stage, tasks, kept.mapPartitions(summaries), partitions, position_of)
            for _, outcome in pairs:
                if outcome.failure is None:
                    outcome.value = RemoteValue(persisted)
        else:
            partitions = [index_of[position] for position in range(len(tasks))]
            pairs = self._run_job(sc, stage, tasks, rdd, partitions, position_of)
        yield from in_order(iter(pairs), tasks, ordered)

    def _stage_rdd(self, sc, stage: Stage, token: str, code, tasks: list[TaskSpec], buckets: int | None):
        """One RDD for the stage and, per task position, its partition in it."""
        if isinstance(tasks[0].input, ZippedInput):
            zipped = self._zipped_rdd(sc, stage, token, code, tasks, buckets)
            if zipped is not None:
                return zipped
        plain: list = []
        # (id, round) -> (SparkShuffle | SparkPersisted, {partition: task}); a plan that reads the
        # same partition twice (a self-join of a persisted Dataset) gets a second round, i.e. a
        # second RDD over the same held data, so no task overwrites another
        remote: dict[tuple[int, int], tuple[Any, dict]] = {}
        rounds: dict[tuple[int, int], int] = {}
        for position, task in enumerate(tasks):
            shipped, refs = remote_inputs(task)
            if refs:
                held = refs[0]
                partition = held.partition_of(task)
                round_ = rounds.get((id(held), partition), 0)
                rounds[(id(held), partition)] = round_ + 1
                remote.setdefault((id(held), round_), (held, {}))[1][partition] = (position, shipped)
            else:  # a source, or a bucket no map task wrote to
                plain.append((position, shipped))
        rdds, index_of, offset = [], {}, 0
        if plain:
            rdds.append(sc.parallelize(plain, len(plain)).mapPartitions(TaskSide(token, code, stage.name, buckets)))
            for i, (position, _) in enumerate(plain):
                index_of[position] = i
            offset = len(plain)
        for held, entries in remote.values():
            side = ReduceSide(token, code, stage.name, entries, buckets, persisted=isinstance(held, SparkPersisted))
            # partition i is task partition i: the held RDD's partitioner still places it (zips read it)
            aligned = not plain and len(remote) == 1 and all(tasks[position].partition == index
                                                             for index, (position, _) in entries.items())
            rdds.append(held.rdd.mapPartitionsWithIndex(side, preservesPartitioning=aligned))
            for index, (position, _) in entries.items():
                index_of[position] = offset + index
            offset += held.partitions
        return (rdds[0] if len(rdds) == 1 else sc.union(rdds)), index_of

    def _zipped_rdd(self, sc, stage: Stage, token: str, code, tasks: list[TaskSpec], buckets: int | None):
        """The RDD of a stage whose tasks read co-partitioned sides, without a shuffle.

        Each leaf input (a shuffle bucket, a persisted partition) of every
        task is one RDD of :class:`LeafBatch` elements partitioned as the
        shuffles are (``partitionBy(n + 1, bucket_of)``, the same for every
        shuffle of ``n`` buckets); their ``sc.union`` is Spark's
        ``PartitionerAwareUnionRDD``, whose partition ``i`` is partition
        ``i`` of each. A held RDD placed otherwise (a persisted partition
        computed from several RDDs) is moved into place by its partition
        index first: the one case that shuffles. ``None``: no task has a
        held input (the plain path runs them)."""
        entries: dict[int, tuple] = {}
        leaf_rdds: dict[tuple[int, int], tuple[Any, dict]] = {}  # (leaf, id(held)) -> (held, {index: partition})
        for position, task in enumerate(tasks):
            shipped, refs = remote_inputs(task)
            leaves, taken = [], 0
            for leaf, count in enumerate(_leaf_counts(shipped.input)):
                held = refs[taken] if count else None
                taken += count
                leaves.append((count, isinstance(held, SparkPersisted)))
                if held is not None:
                    leaf_rdds.setdefault((leaf, id(held)), (held, {}))[1][held.partition_of(task)] = task.partition
            entries[task.partition] = (position, shipped, leaves)
        if not leaf_rdds:
            return None
        shuffles = [held.partitions for held, _ in leaf_rdds.values() if isinstance(held, SparkShuffle)]
        width = shuffles[0] if shuffles else max(entries) + 2
        placed = pyspark.rdd.Partitioner(width, bucket_of)
        rdds = []
        for (leaf, _), (held, partitions) in leaf_rdds.items():
            batch = LeafBatch(leaf, partitions)
            if held.rdd.partitioner == placed and all(index == p for index, p in partitions.items()):
                rdds.append(held.rdd.mapPartitionsWithIndex(batch, preservesPartitioning=True))
            else:
                rdds.append(held.rdd.mapPartitionsWithIndex(batch).partitionBy(width, bucket_of))
        union = rdds[0] if len(rdds) == 1 else sc.union(rdds)
        if union.getNumPartitions() != width:  # not a partitioner-aware union: partitions would not line up
            raise RuntimeError(f"mapfold: the sides of stage {stage.id} did not line up in Spark "
                               f"({union.getNumPartitions()} partitions, not {width})")
        union.partitioner = placed  # as the JVM's union keeps it (PySpark's sc.union does not say)
        rdd = union.mapPartitionsWithIndex(ZipSide(token, code, stage.name, entries, buckets), preservesPartitioning=True)
        return rdd, {position: partition for partition, (position, _, _) in entries.items()}

    def _run_job(self, sc, stage: Stage, tasks: list[TaskSpec], rdd, partitions: list[int], position_of: dict) -> list:
        try:
            return sc.runJob(rdd, passthrough, partitions)
        except Exception as exc:  # Py4JJavaError: a task failed max_attempts times, an executor was lost
            text = str(exc)
            match = _FAILED_TASK.search(text)
            position = position_of.get(int(match.group(1))) if match else None
            task = tasks[position] if position is not None else None
            raise engine_error(stage, task, exc, "spark", _spark_reason(text)) from None


def _leaf_counts(source) -> list[int]:
    """How many engine references each leaf input of a shipped zipped input awaits,
    depth first (the order ``remote_inputs`` lists them in)."""
    if isinstance(source, ZippedInput):
        return [count for part, _ in source.parts for count in _leaf_counts(part)]
    if isinstance(source, Awaiting):
        if isinstance(source.source, ZippedInput):
            return _leaf_counts(source.source)
        return [source.count]
    return [0]


def _spark_reason(text: str) -> str | None:
    """The line of a Py4JJavaError that says what went wrong."""
    aborted = re.search(r"Job aborted due to stage failure: .*", text)
    if aborted:
        return aborted.group(0)
    python = [line.strip() for line in text.splitlines()
              if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line.strip()) and not line.strip().startswith("org.")]
    return python[-1] if python else None
