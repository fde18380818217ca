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
* a task reading several inputs (the partitions a ``coalesce`` merges, the
  sides of a co-partitioned join: ``plan.stages.ZippedInput``) is one Spark
  partition gathering the held partitions it reads: each cut out of its
  RDD without computing the others (Spark's ``PartitionPruningRDD``),
  tagged with its place among the inputs, their union coalesced into one
  partition; no shuffle.

The stage's cloudpickled code is broadcast once per stage.
"""
from __future__ import annotations

import os
import re
import sys
import weakref
from dataclasses import replace
from typing import Any, Iterator

import pyspark

from ..core.errors import RunnerUnavailableError
from ..plan.stages import Stage, TaskSpec, ZippedInput
from .engine import EngineRunner, RemoteMapOutput, engine_error, in_order, write_mapfold_zip
from .engine_tasks import RemoteValue, remote_inputs
from .lifeline import Lifeline
from .spark_tasks import GatheredSide, ReduceSide, Tagged, TaskSide, bucket_of, passthrough, summaries

__all__ = ["SparkRunner", "with_attempts", "under_spark_submit", "spark_attempt"]

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


def spark_attempt() -> int:
    """In a PySpark worker, while a task runs: which attempt at it Spark is
    making, 1 the first time (Spark retries a task whose worker died)."""
    return pyspark.TaskContext.get().attemptNumber() + 1


class SparkShuffle:
    """A shuffle Spark holds: the partitioned RDD the reduce stage reads."""

    def __init__(self, rdd, buckets: int, keepalive: Any = None):
        self.rdd = rdd
        self.buckets = buckets
        self.partitions = buckets + 1  # + the summaries' partition
        self.keepalive = keepalive

    def partition_of(self, source) -> int:
        """The Spark partition holding what ``source`` (a ``ShuffleInput``) reads."""
        return source.partition


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

    def partition_of(self, source) -> int:
        """The Spark partition holding what ``source`` (a ``CachedInput``) reads."""
        return self.index_of[source.partition]


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
        self._lifeline: Lifeline | None = None  # ends the JVM (and its Python workers) if the driver dies

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
        jvm = getattr(getattr(self._sc._gateway, "proc", None), "pid", None)  # None under spark-submit
        if local and jvm is not None:  # the JVM outlives a killed driver by its shutdown hooks (20 s and more)
            self._lifeline = Lifeline.start([self.scratch()])
            if self._lifeline is not None:
                self._lifeline.watch([jvm])
        self._sc.setLogLevel(self.log_level)
        if local and (self.python or not os.environ.get("PYSPARK_PYTHON")):
            self._sc.pythonExec = self.python or sys.executable
        if self.ship_mapfold:
            self._sc.addPyFile(write_mapfold_zip(self.scratch()))
        return self

    def close(self) -> None:
        self.release_persisted()  # while the engine still runs: it frees their objects
        if self._lifeline is not None:
            self._lifeline.stop()
            self._lifeline = None
        if self._sc is not None and self._owns_context:
            self._sc.stop()
        self._sc = None
        self._owns_context = False
        super().close()

    def describe(self) -> str:
        master = self._sc.master if self._sc is not None else (self.master or "local[*]")
        owner = "" if self._owns_context or self._sc is None else ", active SparkContext"
        return f"spark ({master}{owner})"

    def parallelism(self) -> int:
        return max(1, int(self.context.defaultParallelism))

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
        plain: list = []
        # (id, round) -> (SparkShuffle | SparkPersisted, {partition: task}); a plan that reads the
        # same partition twice (a self-join of a persisted Dataset) gets a second round, i.e. a
        # second RDD over the same held data, so no task overwrites another
        remote: dict[tuple[int, int], tuple[Any, dict]] = {}
        rounds: dict[tuple[int, int], int] = {}
        gathered: list = []  # (position, RDD of one partition): tasks reading several held partitions
        for position, task in enumerate(tasks):
            shipped, refs = remote_inputs(task)
            if refs and isinstance(task.input, ZippedInput):
                gathered.append((position, self._gathered(sc, stage, token, code, task, shipped, buckets, position)))
            elif refs:
                held = refs[0]
                partition = held.partition_of(task.input)
                round_ = rounds.get((id(held), partition), 0)
                rounds[(id(held), partition)] = round_ + 1
                remote.setdefault((id(held), round_), (held, {}))[1][partition] = (position, shipped)
            else:  # a source, or a bucket no map task wrote to
                plain.append((position, shipped))
        rdds, index_of, offset = [], {}, 0
        if plain:
            rdds.append(sc.parallelize(plain, len(plain)).mapPartitions(TaskSide(token, code, stage.name, buckets, spark_attempt)))
            for i, (position, _) in enumerate(plain):
                index_of[position] = i
            offset = len(plain)
        for held, entries in remote.values():
            side = ReduceSide(token, code, stage.name, entries, buckets, persisted=isinstance(held, SparkPersisted),
                              attempt=spark_attempt)
            rdds.append(held.rdd.mapPartitionsWithIndex(side))
            for index, (position, _) in entries.items():
                index_of[position] = offset + index
            offset += held.partitions
        for position, rdd in gathered:
            rdds.append(rdd)
            index_of[position] = offset
            offset += 1
        return (rdds[0] if len(rdds) == 1 else sc.union(rdds)), index_of

    def _gathered(self, sc, stage: Stage, token: str, code, task: TaskSpec, shipped: TaskSpec, buckets: int | None,
                  position: int):
        """One Spark partition running ``task``, which reads several held partitions (a ``ZippedInput``)."""
        pieces, counts = [], []
        for held, source, count in _held_leaves(task, task.input):
            index = len(pieces)
            pieces.append(_only_partition(sc, held.rdd, held.partition_of(source))
                          .mapPartitions(Tagged(index, isinstance(held, SparkPersisted))))
            counts.append(count)
        side = GatheredSide(token, code, stage.name, position, shipped, counts, buckets, spark_attempt)
        return sc.union(pieces).coalesce(1).mapPartitions(side)

    def _run_job(self, sc, stage: Stage, tasks: list[TaskSpec], rdd, partitions: list[int], position_of: dict) -> list:
        try:
            return sc.runJob(rdd, passthrough, partitions)
        except Exception as exc:  # Py4JJavaError: a task failed max_attempts times, an executor was lost
            text = str(exc)
            match = _FAILED_TASK.search(text)
            position = position_of.get(int(match.group(1))) if match else None
            task = tasks[position] if position is not None else None
            raise engine_error(stage, task, exc, "spark", _spark_reason(text)) from None


def _held_leaves(task: TaskSpec, source) -> Iterator[tuple[Any, Any, int]]:
    """``(held RDD, input, number of references)`` of each input of ``source`` whose data Spark holds,
    in the order ``engine_tasks.remote_inputs`` lists their references (the order the task takes them in)."""
    if isinstance(source, ZippedInput):
        for part, _ in source.parts:
            yield from _held_leaves(task, part)
        return
    _, refs = remote_inputs(replace(task, input=source))
    if refs:
        yield refs[0], source, len(refs)


def _only_partition(sc, rdd, index: int):
    """Partition ``index`` of ``rdd`` as an RDD of its own, the other partitions never computed."""
    jvm, jrdd = sc._jvm, rdd._jrdd
    keep = jvm.java.util.HashSet()
    keep.add(index)
    pruned = jvm.org.apache.spark.rdd.PartitionPruningRDD(
        jrdd.rdd(), jvm.scala.jdk.javaapi.CollectionConverters.asScala(keep), jrdd.classTag())
    return pyspark.RDD(jvm.org.apache.spark.api.java.JavaRDD(pruned, jrdd.classTag()), sc, rdd._jrdd_deserializer)


def _spark_reason(text: str) -> str | None:
    """The line of a Py4JJavaError that says what went wrong."""
    aborted = re.search(r"Job aborted due to stage failure: .*", text)
    if aborted:
        return aborted.group(0)
    python = [line.strip() for line in text.splitlines()
              if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line.strip()) and not line.strip().startswith("org.")]
    return python[-1] if python else None
