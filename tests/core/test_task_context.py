"""Each task's budget, folder, counters and metrics live in the runtime its
runner builds around it, on every runner (issue 9's defects: the sort's
module-level settings, counters lost by streams, take() and count_by_key(),
spills reported as a reserved counter group)."""
from __future__ import annotations

import itertools
import os

import pytest

import mapfold as mf
from mapfold.core.task_context import TaskRuntime, current_task
from mapfold.core.config import parse_size
from mapfold.runners import make_runner
from mapfold.shuffle.sort import external_sorted


def counted(n: int = 600, partitions: int = 6, group: str = "seen"):
    def see(x):
        mf.increment_counter(group, "records")
        return x

    return mf.from_sequence(range(n), partitions=partitions).map(see)


def test_iterate_reports_its_counters(runner):
    ds = counted()
    assert list(ds.iterate(runner=runner)) == list(range(600))
    assert ds.counters == {"seen": {"records": 600}}


def test_two_streams_read_in_turns_keep_their_counters_apart(runner):
    first, second = counted(300, 3, "first"), counted(500, 5, "second")
    a, b = first.iterate(runner=runner), second.iterate(runner=runner)
    for _ in itertools.count():
        got = list(itertools.islice(a, 7)) + list(itertools.islice(b, 13))
        if not got:
            break
    assert first.counters == {"first": {"records": 300}}
    assert second.counters == {"second": {"records": 500}}


def test_take_counts_every_round_it_scanned(runner):
    ds = counted(600, 6)
    assert ds.take(250, runner=runner) == list(range(250))
    # rounds of 1 then 4 partitions: 5 partitions of 100 records were computed
    assert ds.counters == {"seen": {"records": 500}}


def test_count_by_key_reports_counters_on_the_dataset_held(runner):
    pairs = counted(90, 3).map(lambda x: (x % 3, x))
    assert pairs.count_by_key(runner=runner) == {0: 30, 1: 30, 2: 30}
    assert pairs.counters == {"seen": {"records": 90}}


def test_bad_records_of_a_stream(runner, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n{oops\n')
    events = mf.read_jsonl(str(path), errors="skip")
    assert [e["a"] for e in events.iterate(runner=runner)] == [1, 2]
    assert events.bad_records.total == 2


def test_spills_are_metrics_not_counters(runner, monkeypatch):
    # the engines too: their map side is mapfold's ShuffleWriter under the task's budget (shuffle/packed.py)
    monkeypatch.setattr(runner, "memory_limit", parse_size("64KB"))  # this test's budget, on the session's runner
    ds = mf.from_sequence([(i % 5000, "x" * 20) for i in range(60_000)], partitions=4).group_by_key()
    assert sum(len(v) for _, v in ds.collect(runner=runner)) == 60_000
    assert ds._last_job.stats["spilled_bytes"] > 0
    # the map side spilled under the runner's budget (a task metric), not only the reduce side
    run = ds.last_run
    map_stages = {stage.id for stage in run.stages if "map side" in stage.name}
    assert any(task.spilled_bytes > 0 for task in run.tasks if task.stage in map_stages)
    assert run.spilled_bytes == ds._last_job.stats["spilled_bytes"]
    assert "mapfold.shuffle" not in ds.counters and ds.counters == {}


def test_sort_by_spills_within_the_runners_budget(runner, monkeypatch):
    monkeypatch.setattr(runner, "memory_limit", parse_size("64KB"))
    data = [(i * 7919) % 100_003 for i in range(40_000)]
    ds = mf.from_sequence(data, partitions=2).sort_by(lambda x: x)
    assert ds.collect(runner=runner) == sorted(data)
    # the runner's memory_limit reached the reduce tasks' external sort (engines too): it wrote sorted runs
    assert ds._last_job.stats.get("spilled_records", 0) > 0


def test_a_sort_after_a_job_uses_nothing_of_it(tmp_path):
    with make_runner("serial", memory_limit="32KB") as runner:
        ds = mf.from_sequence(list(range(20_000, 0, -1)), partitions=2).sort_by(lambda x: x)
        assert ds.collect(runner=runner) == list(range(1, 20_001))
        scratch = runner.scratch()
        before = sorted(os.listdir(scratch))
        # outside any task: the default budget and a private folder, never the last job's folders
        assert current_task() is None
        pairs = [((i * 7919) % 20_011, "x" * 30) for i in range(20_000)]  # past the last job's 32 KB
        assert list(external_sorted(pairs, memory_limit=None)) == sorted(pairs, key=lambda p: p[0])
        assert sorted(os.listdir(scratch)) == before
        assert not any(name.startswith("job-") for name in before)


def test_counters_outside_a_task_are_refused_clearly():
    with pytest.raises(mf.MapfoldError, match="inside|from a function"):
        mf.increment_counter("driver", "calls")


def test_a_runtime_is_active_only_while_its_task_runs():
    runtime = TaskRuntime()
    assert current_task() is None
    with runtime.active():
        assert current_task() is runtime
    records = runtime.run_stream(iter([1, 2]))
    assert next(records) == 1 and current_task() is None
