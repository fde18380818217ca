"""What only the cluster runners do: the engine's own retries, engine
failures as mapfold errors, the shuffle modes, adopting a running engine."""
from __future__ import annotations

import operator
import os
import re
import signal
import subprocess
import sys

import pytest

import mapfold as mf
from mapfold.runners.engine import RemoteMapOutput
from mapfold.runners.engine_tasks import RemoteValue

WORDS = ["alpha", "beta", "gamma", "delta", "beta", "alpha", "alpha"] * 5


def word_counts():
    return mf.from_sequence(WORDS, partitions=4).map(lambda w: (w, 1)).reduce_by_key(operator.add, partitions=3)


def expected_counts():
    return sorted({w: WORDS.count(w) for w in set(WORDS)}.items())


def die_once(marker: str, how: str = "kill"):
    """A function that kills the process running it the first time only."""

    def step(record):
        if record[0] == "gamma" and not os.path.exists(marker):
            with open(marker, "w"):
                pass
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            os._exit(3)
        return record

    return step


def test_engine_results_and_describe(engine):
    counts = word_counts()
    assert sorted(counts.collect(runner=engine)) == expected_counts()
    assert engine.name in engine.describe()
    assert f"runner {engine.name}" in counts.explain_string()


def test_engine_shuffle_outputs_are_references(engine):
    """Map outputs stay in the engine: the driver only holds references."""
    seen = []
    original = engine.run_tasks

    def spy(stage, prepared, tasks, ordered=True):
        for task, outcome in original(stage, prepared, tasks, ordered):
            seen.append(outcome.value)
            yield task, outcome

    engine.run_tasks = spy
    try:
        assert sorted(word_counts().collect(runner=engine)) == expected_counts()
    finally:
        del engine.run_tasks
    outputs = [value for value in seen if isinstance(value, RemoteMapOutput)]
    # (MapOutput.records counts the combine's full batches only: these tasks are one short batch each)
    assert len(outputs) == 4 and all(out.refs for out in outputs)
    assert all(isinstance(ref, RemoteValue) for out in outputs for ref in out.refs.values())


def test_dask_worker_killed_mid_job_is_retried_by_dask(dask_runner, tmp_path):
    """One worker process is SIGKILLed while it runs a reduce task (its
    bucket futures die with it): Dask reschedules the task, recomputes the
    lost map outputs from their lineage, and the result is right."""
    dask = dask_runner
    marker = str(tmp_path / "killed")
    before = set(dask.client.run(os.getpid).values())
    result = word_counts().map(die_once(marker)).collect(runner=dask)
    assert sorted(result) == expected_counts()
    assert os.path.exists(marker)
    dask.client.wait_for_workers(2, timeout=60)
    assert set(dask.client.run(os.getpid).values()) != before  # the nanny started a new worker


def test_spark_task_that_fails_once_is_retried_by_spark(spark_runner, tmp_path):
    spark = spark_runner
    marker = str(tmp_path / "crashed")
    result = word_counts().map(die_once(marker, "exit")).collect(runner=spark)
    assert sorted(result) == expected_counts()
    assert os.path.exists(marker)
    # and on the map side of a shuffle, before Spark's shuffle write
    marker2 = str(tmp_path / "crashed-map")
    pairs = mf.from_sequence(WORDS, partitions=4).map(lambda w: (w, 1)).map(die_once(marker2, "exit"))
    assert sorted(pairs.reduce_by_key(operator.add).collect(runner=spark)) == expected_counts()


def test_ray_worker_crash_is_retried_by_ray(ray_runner, tmp_path):
    ray = ray_runner
    marker = str(tmp_path / "crashed")
    result = word_counts().map(die_once(marker, "exit")).collect(runner=ray)
    assert sorted(result) == expected_counts()


def crash_on(value):
    """A step that kills its worker process on ``value``, every time."""

    def step(x):
        if x == value:
            os._exit(3)
        return x

    return step


def test_spark_gives_up_with_stage_and_partition(spark_runner):
    spark = spark_runner
    ds = mf.from_sequence(range(6), partitions=3).map(crash_on(4))
    with pytest.raises(mf.WorkerLostError) as info:
        ds.collect(runner=spark)
    assert info.value.context.partition == 2
    assert "partition 2" in str(info.value) and "spark" in str(info.value)


def test_ray_gives_up_with_stage_and_partition(ray_runner):
    ray = ray_runner
    from mapfold.runners.ray import RayRunner

    impatient = RayRunner(max_retries=0)  # shares the session's Ray
    ds = mf.from_sequence(range(6), partitions=3).map(crash_on(1))
    with pytest.raises(mf.WorkerLostError) as info:
        ds.collect(runner=impatient)
    assert info.value.context.partition == 0
    impatient.close()  # not its session: Ray keeps running
    assert ray.describe() and mf.from_sequence([1, 2]).sum(runner=ray) == 3


def test_dask_gives_up_with_stage_and_partition(dask_runner):
    import dask

    from mapfold.runners.dask import DaskRunner

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        impatient = DaskRunner(workers=2).start()
    try:
        ds = mf.from_sequence(range(4), partitions=2).map(crash_on(3))
        with pytest.raises(mf.WorkerLostError) as info:
            ds.collect(runner=impatient)
        assert info.value.context.partition == 1
        assert "KilledWorker" in str(info.value)
        lost = re.search(r"lost worker (tcp://127\.0\.0\.1:\d+)", str(info.value))
        assert lost, str(info.value)  # the worker Dask removed, as its scheduler reported it
        assert lost.group(1) not in impatient.client.scheduler_info()["workers"]
    finally:
        impatient.close()


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_storage_shuffle_mode(name, request, tmp_path):
    """shuffle="storage": mapfold's bucket files in a folder the workers share."""
    session = request.getfixturevalue(f"{name}_runner")
    if name == "dask":
        from mapfold.runners.dask import DaskRunner

        runner = DaskRunner(client=session.client, shuffle="storage", scratch=str(tmp_path))
    else:
        from mapfold.runners.ray import RayRunner

        runner = RayRunner(shuffle="storage", scratch=str(tmp_path))
    try:
        assert sorted(word_counts().collect(runner=runner)) == expected_counts()
        assert "shuffle=storage" in runner.describe()
    finally:
        runner.close()
    assert os.listdir(tmp_path) == []  # the scratch folder is removed with the runner


def test_unknown_shuffle_mode_lists_the_choices(dask_runner):
    from mapfold.runners.dask import DaskRunner

    with pytest.raises(ValueError, match="'engine', 'storage'"):
        DaskRunner(shuffle="disk")


def test_spark_uses_the_active_context(spark_runner):
    """As under spark-submit: a SparkContext already running is used, and left running."""
    spark = spark_runner
    from mapfold.runners.spark import SparkRunner

    adopted = SparkRunner()
    assert mf.from_sequence(range(5)).sum(runner=adopted) == 10
    assert adopted.context is spark.context and "active SparkContext" in adopted.describe()
    adopted.close()
    assert mf.from_sequence(range(5)).sum(runner=spark) == 10  # still running
    with pytest.raises(mf.RunnerUnavailableError, match="already has a SparkContext"):
        SparkRunner(master="spark://elsewhere:7077").start()


def test_mf_runner_block_with_an_engine(dask_runner):
    dask = dask_runner
    with mf.runner(dask):
        assert word_counts().count() == 4
    assert dask.client.status == "running"  # an instance passed in is left open


def test_code_the_workers_cannot_import_is_a_serialization_error(engine, tmp_path, monkeypatch):
    """A function from a module only the driver has: the task fails at once,
    naming the module and the partition, instead of being retried."""
    (tmp_path / "driver_only_module.py").write_text("def double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import driver_only_module

    try:
        with pytest.raises(mf.SerializationError, match="driver_only_module") as info:
            mf.from_sequence(range(4), partitions=2).map(driver_only_module.double).collect(runner=engine)
        assert info.value.mapfold_context.partition in (0, 1)
    finally:
        del sys.modules["driver_only_module"]


def test_spark_submit_program_uses_its_context(spark_runner, tmp_path):
    """A program launched with spark-submit: the runner uses the submit's
    SparkContext (its master), and leaves it for the program."""
    submit = os.path.join(os.path.dirname(sys.executable), "spark-submit")
    program = tmp_path / "job.py"
    program.write_text(
        "import operator\n"
        "import mapfold as mf\n"
        "from pyspark import SparkContext\n"
        "sc = SparkContext.getOrCreate()\n"
        "with mf.runner('spark') as r:\n"
        "    ds = mf.from_sequence('a b a c'.split(), partitions=2).map(lambda w: (w, 1))\n"
        "    print('RESULT', sorted(ds.reduce_by_key(operator.add).collect()), r.context is sc, r.describe())\n"
        "print('ALIVE', sc._jsc is not None)\n")
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    done = subprocess.run([submit, "--master", "local[1]", "--conf", "spark.ui.enabled=false", str(program)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert "RESULT [('a', 2), ('b', 1), ('c', 1)] True spark (local[1], active SparkContext)" in done.stdout, done.stderr[-3000:]
    assert "ALIVE True" in done.stdout


def test_persisted_partitions_stay_in_the_engine(engine):
    """persist() keeps the partitions in the engine (futures, objects, a
    persisted RDD): the driver holds references, and nothing is recomputed."""

    def mark(x):
        mf.increment_counter("persist", "computed")
        return 2 * x

    kept = mf.from_sequence(range(20), partitions=4).map(mark).persist()
    try:
        assert kept.sum(runner=engine) == 380
        assert kept.counters == {"persist": {"computed": 20}}
        assert all(isinstance(value, RemoteValue) for value in engine.persisted.get(kept.node))
        derived = kept.map(lambda x: x + 1)
        assert derived.collect(runner=engine) == [2 * x + 1 for x in range(20)]
        assert derived.counters == {}  # read from the engine, not recomputed
    finally:
        kept.unpersist()
    assert kept.collect(runner=engine) == [2 * x for x in range(20)]


@pytest.mark.parametrize("name", ["dask", "spark"])
def test_ship_mapfold_to_the_workers(name, request):
    """ship_mapfold=True (the default when joining a cluster) sends the
    driver's mapfold as a zip the workers put on sys.path; jobs still run."""
    session = request.getfixturevalue(f"{name}_runner")
    if name == "dask":
        from mapfold.runners.dask import DaskRunner

        shipped = DaskRunner(client=session.client, ship_mapfold=True).start()
        paths = session.client.run(lambda: [p for p in __import__("sys").path if p.endswith("mapfold.zip")])
        assert all(found for found in paths.values())
        assert not [p for p in sys.path if p.endswith("mapfold.zip")]  # the driver is left alone
    else:
        from mapfold.runners.spark import SparkRunner

        shipped = SparkRunner(ship_mapfold=True).start()  # adopts the session's context
    try:
        assert sorted(word_counts().collect(runner=shipped)) == expected_counts()
    finally:
        shipped.close()


def _task_folder(records):
    from mapfold.core.task_context import current_task

    return [current_task().scratch]


def test_engine_shuffle_tasks_work_in_the_runners_folder(engine):
    """Map and reduce tasks of an engine's shuffle spill in the runner's scratch folder (local workers
    see it), not a private temporary folder each: what a killed worker leaves goes with close()."""
    pairs = mf.from_sequence([(i % 7, i) for i in range(200)], partitions=4)
    folders = pairs.reduce_by_key(operator.add, 3).map_partitions(_task_folder).collect(runner=engine)
    assert set(folders) == {engine.scratch()}
    assert os.path.isdir(engine.scratch())


def test_dask_task_cancelled_under_the_job_is_resubmitted_once(dask_runner):
    """A task Dask cancels while it runs (as it does when it loses what the task needs) is
    resubmitted once, and the job's result is still right."""
    import threading
    import time

    import distributed

    dask = dask_runner
    cancelled: list = []

    def cancel_one():
        with distributed.Client(dask.client.scheduler.address, set_as_default=False) as other:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not cancelled:
                for keys in other.processing().values():
                    for key in keys:
                        if key.startswith("mapfold-task-") and "retry" not in key:
                            other.cancel([distributed.Future(key, client=other)], force=True)
                            cancelled.append(key)
                            return
                time.sleep(0.05)

    def slow(x):
        time.sleep(1.0)
        return x * x

    canceller = threading.Thread(target=cancel_one)
    canceller.start()
    try:
        assert mf.from_sequence(range(6), partitions=3).map(slow).collect(runner=dask) == [x * x for x in range(6)]
    finally:
        canceller.join()
    assert cancelled  # one task was cancelled under the job, and the job still finished


def _fetch(engine, ref):
    """The bucket an engine keeps behind a reference (what its reduce task is handed)."""
    if engine.name == "dask":
        return ref.result()
    import ray

    return ray.get(ref)


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_spilled_engine_shuffle_hands_reduce_tasks_file_references(name, request, serial):
    """On a local cluster mapfold started, a map task's big (here: spilled) buckets stay run files in
    the job's folder: the engine keeps and moves only references (path, offset, length), never the
    bytes; the reduce tasks merge them from the files; the folder goes with the job."""
    from mapfold.shuffle.spill import Segment

    engine = request.getfixturevalue(f"{name}_runner")
    assert engine.shares_scratch
    pairs = mf.from_sequence([(f"k{i % 5}" if i % 2 else "hot", i) for i in range(300_000)], partitions=4)
    job = pairs.group_by_key(partitions=3).map_values(lambda values: (len(values), sum(values)))
    buckets, original = [], engine.run_tasks

    def spy(stage, prepared, tasks, ordered=True):
        for task, outcome in original(stage, prepared, tasks, ordered):
            if isinstance(outcome.value, RemoteMapOutput):
                buckets.extend(_fetch(engine, ref.ref) for ref in outcome.value.refs.values())
            yield task, outcome

    engine.run_tasks, budget = spy, engine.memory_limit
    engine.memory_limit = 1 << 20  # the map tasks spill: their buckets are larger than budget / 16
    try:
        got = sorted(job.collect(runner=engine))
    finally:
        del engine.run_tasks
        engine.memory_limit = budget
    assert got == sorted(job.collect(runner=serial))
    segments = [segment for runs in buckets for segment in runs]
    assert segments and all(isinstance(segment, Segment) for segment in segments)
    on_file = [segment for segment in segments if segment.data is None]
    assert on_file, "no bucket travelled as a file reference"
    assert any(segment.sorted for segment in on_file)  # the spilled runs among them
    folders = {os.path.dirname(segment.path) for segment in on_file}
    assert {os.path.dirname(folder) for folder in folders} == {engine.scratch()}  # the job's folder
    assert not any(os.path.exists(folder) for folder in folders)  # removed with the job
    assert not [entry for entry in os.listdir(engine.scratch()) if entry.startswith("job-")]


def test_spark_reduce_task_spools_its_buckets(spark_runner, serial):
    """Spark hands a reduce task its bucket's runs one by one: they go to a spool file in the task's
    folder as they arrive (removed after the task), results as the serial runner's."""
    pairs = mf.from_sequence([(f"k{i % 5}" if i % 2 else "hot", i) for i in range(300_000)], partitions=4)
    job = pairs.group_by_key(partitions=3).map_values(lambda values: (len(values), sum(values)))
    def spools():  # (a worker an earlier test killed mid-task leaves its spool to the runner's close())
        return {entry for entry in os.listdir(spark_runner.scratch()) if entry.startswith("spool-")}

    before, budget = spools(), spark_runner.memory_limit
    spark_runner.memory_limit = 1 << 20
    try:
        got = sorted(job.collect(runner=spark_runner))
    finally:
        spark_runner.memory_limit = budget
    assert got == sorted(job.collect(runner=serial))
    assert spools() <= before


RAY_FROM_A_THREAD = """
import threading, time
import mapfold as mf
from mapfold.runners import make_runner
runner = make_runner("ray", num_cpus=2)
starter = threading.Thread(target=runner.start)  # a short-lived thread, as a pool's or joblib's are
starter.start(); starter.join()
time.sleep(2)  # the raylet would be dead by now had it died with its thread
for _ in range(2):
    print(mf.from_sequence(range(100), partitions=4).map(lambda x: x * 2).sum(runner=runner), flush=True)
import ray
ray.shutdown()  # the session shut down under the runner: its next job, in a thread, starts a new one
job = threading.Thread(target=lambda: print(mf.from_sequence(range(10)).sum(runner=runner), flush=True))
job.start(); job.join()
time.sleep(2)
print(mf.from_sequence(range(10)).sum(runner=runner), flush=True)
runner.close()
"""


def test_a_local_ray_started_from_a_thread_outlives_the_thread(ray_runner):
    # A local Ray's raylet dies with the thread that started it (PR_SET_PDEATHSIG), and the driver
    # then ends with exit status 1 and no traceback. In a fresh process: this one's Ray session
    # belongs to the suite.
    done = subprocess.run([sys.executable, "-c", RAY_FROM_A_THREAD], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["9900", "9900", "45", "45"]
