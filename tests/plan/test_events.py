"""Every action on every runner tells its listeners what happens and leaves
a run record of the same shape (issue 9: run records and the event stream)."""
from __future__ import annotations

import json
import operator

import pytest

import mapfold as mf
from mapfold.runners import make_runner


@pytest.fixture
def heard(runner):
    events = []
    runner.add_listener(events.append)
    yield events
    runner.remove_listener(events.append)


def words():
    def see(w):
        mf.increment_counter("words", "seen")
        return (w, 1)

    return mf.from_sequence("a b a c b a d".split() * 30, partitions=3).map(see).reduce_by_key(operator.add, 2)


def test_a_shuffle_job_tells_every_stage_and_task(runner, heard):
    counts = words()
    assert dict(counts.collect(runner=runner)) == {"a": 90, "b": 60, "c": 30, "d": 30}
    kinds = [e.kind for e in heard]
    assert kinds[0] == "job_started" and kinds[-1] == "job_finished"
    assert kinds.count("stage_started") == kinds.count("stage_finished") == 2
    tasks = [e for e in heard if e.kind == "task_finished"]
    assert sorted((e.stage_name.endswith("(map side)"), e.partition) for e in tasks) == \
        [(False, 0), (False, 1), (True, 0), (True, 1), (True, 2)]
    assert all(e.data["worker"] and e.data["seconds"] is not None for e in tasks)
    assert len({e.job for e in heard}) == 1


def test_the_run_record_is_the_same_shape_on_every_runner(runner, heard):
    counts = words()
    counts.collect(runner=runner)
    run = counts.last_run
    assert (run.status, run.action, run.runner) == ("succeeded", "collect", runner.name)
    assert run.runner_source == "argument" and run.memory_limit > 0 and run.memory_limit_source
    assert [stage.tasks for stage in run.stages] == [3, 2]
    assert all(stage.seconds is not None and stage.seconds >= 0 for stage in run.stages)
    assert len(run.tasks) == 5 and all(t.worker for t in run.tasks)
    assert run.counters == counts.counters == {"words": {"seen": 210}}
    assert run.seconds >= 0
    json.dumps(run.as_dict())  # plain data: a dashboard or a file can take it


def test_a_failed_job_says_where_and_why(runner, heard):
    def explode(x):
        if x == 7:
            raise ValueError("bad seven")
        return x

    ds = mf.from_sequence(range(20), partitions=2).map(explode)
    with pytest.raises(ValueError, match="bad seven"):
        ds.collect(runner=runner)
    assert heard[-1].kind == "job_failed" and "bad seven" in heard[-1].data["error"]
    assert ds.last_run.status == "failed" and "ValueError" in ds.last_run.error
    if runner.name != "serial":  # serial raises in place, with the live traceback
        assert any(e.kind == "task_failed" and e.partition == 0 for e in heard)


def test_a_stream_and_a_take_are_runs_too(runner, heard):
    ds = mf.from_sequence(range(100), partitions=4)
    assert sum(ds.iterate(runner=runner)) == 4950
    assert heard[-1].kind == "job_finished" and ds.last_run.action == "iterate"
    assert ds.take(3, runner=runner) == [0, 1, 2]
    assert heard[-1].kind == "job_finished" and ds.last_run.status == "succeeded"


def test_event_log_as_json_lines(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "events.jsonl"
    with make_runner("serial", event_log=path) as runner:
        words().collect(runner=runner)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["kind"] == "job_started" and lines[-1]["kind"] == "job_finished"
    assert lines[-1]["data"]["counters"] == {"words": {"seen": 210}}
    env_path = tmp_path / "env.jsonl"
    monkeypatch.setenv("MAPFOLD_EVENT_LOG", str(env_path))
    mf.from_sequence([1, 2]).count(runner="serial")
    assert [json.loads(line)["kind"] for line in env_path.read_text().splitlines()][-1] == "job_finished"


def test_a_listener_that_raises_never_breaks_the_job():
    def broken(event):
        raise RuntimeError("listener bug")

    with make_runner("serial") as runner:
        runner.add_listener(broken)
        with pytest.warns(RuntimeWarning, match="listener bug"):
            assert mf.from_sequence(range(5)).sum(runner=runner) == 10
