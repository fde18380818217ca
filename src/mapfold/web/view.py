"""What a dashboard shows, folded from the event stream.

:class:`RunView` is a listener (``plan/events.py``): every event of every
job it hears updates a small table per job (its stages with their progress,
records and spills; the task stream; failures with their context; counters)
under a lock, and bumps a version. The live page asks for a snapshot of it
(``server.py``); the offline report replays an event log (or a run record)
into one and embeds the snapshot (``report.py``). One fold for both, so the
live page and the report cannot disagree.

The fold costs a few dictionary updates per event, on the driver, where the
events are made; nothing runs in the workers. What the live page reads is
:meth:`RunView.state_json`: the tables serialized once per version and
kept, so any number of polls (tabs) of one version cost one
``orjson.dumps``. The task stream keeps the
last :attr:`RunView.max_tasks` tasks of a job (the stage totals count them
all), and the view the last :attr:`RunView.max_jobs` jobs.
"""
from __future__ import annotations

import threading
from typing import Iterable

import orjson

from ..core.counters import SAMPLE_LIMIT, SAMPLES
from ..plan.events import Event

__all__ = ["RunView"]


class RunView:
    """The jobs seen so far, as JSON-able tables; a listener of the event stream.

    >>> view = RunView()
    >>> view(Event("job_started", job="j1", data={"action": "count", "runner": "serial"}))
    >>> view(Event("stage_started", job="j1", stage=0, stage_name="count", data={"tasks": 2}))
    >>> view(Event("task_finished", job="j1", stage=0, stage_name="count", partition=0,
    ...            data={"seconds": 0.5, "worker": "w1", "records": 10, "spilled_bytes": 0}))
    >>> job = view.snapshot()["jobs"][-1]
    >>> job["stages"][0]["done"], job["stages"][0]["tasks"], job["records"]
    (1, 2, 10)
    """

    max_tasks = 5000
    max_jobs = 50

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.version = 0
        self._jobs: list[dict] = []
        self._by_id: dict[str, dict] = {}
        self._json: tuple[int, bytes] | None = None  # (version, state_json at that version)

    # -- the listener ------------------------------------------------------
    def __call__(self, event: Event) -> None:
        with self._lock:
            job = self._by_id.get(event.job)
            if job is None:
                job = self._new_job(event)
            fold = _FOLDS.get(event.kind)
            if fold is not None:
                fold(job, event)
            job["updated"] = event.time
            self.version += 1
            self._changed.notify_all()

    def extend(self, events: Iterable[Event]) -> "RunView":
        """Fold many events (a replayed log); returns the view."""
        for event in events:
            self(event)
        return self

    def _new_job(self, event: Event) -> dict:
        job = {"id": event.job, "action": "", "runner": "", "status": "running", "started": event.time,
               "finished": None, "updated": event.time, "error": None, "stages": [], "tasks": [],
               "tasks_seen": 0, "failures": [], "counters": {}, "samples": {}, "records": 0, "workers": {},
               "spilled_bytes": 0, "spilled_records": 0}
        self._jobs.append(job)
        self._by_id[event.job] = job
        while len(self._jobs) > self.max_jobs:
            del self._by_id[self._jobs.pop(0)["id"]]
        return job

    # -- what the page reads ---------------------------------------------
    def snapshot(self) -> dict:
        """A copy of the tables, safe to serialize while jobs go on."""
        with self._lock:
            jobs = [{**job, "stages": [dict(s) for s in job["stages"]], "tasks": list(job["tasks"]),
                     "failures": list(job["failures"]), "workers": {w: dict(v) for w, v in job["workers"].items()},
                     "counters": {g: dict(names) for g, names in job["counters"].items()},
                     "samples": {g: list(items) for g, items in job["samples"].items()}}
                    for job in self._jobs]
            return {"version": self.version, "jobs": jobs}

    def state_json(self) -> bytes:
        """The snapshot as JSON bytes, serialized once per version and kept.

        The lock is held only for the snapshot's shallow copy (tens of
        microseconds for thousands of tasks), never for the ``orjson.dumps``
        (about 2 ms a megabyte), so the driver's fold of the next event does
        not wait on a page; polls of a version already served get the kept
        bytes (every tab, every answer after a quiet spell).

        >>> view = RunView()
        >>> view(Event("job_started", job="j1", data={"action": "count", "runner": "serial"}))
        >>> first = view.state_json()
        >>> first is view.state_json(), first == orjson.dumps(view.snapshot(), default=str)
        (True, True)
        """
        with self._lock:
            kept = self._json
            if kept is not None and kept[0] == self.version:
                return kept[1]
        snapshot = self.snapshot()
        body = orjson.dumps(snapshot, default=str)
        with self._lock:
            if self._json is None or self._json[0] < snapshot["version"]:
                self._json = (snapshot["version"], body)
        return body

    def wait(self, version: int, timeout: float) -> bool:
        """Block until the view is past ``version`` (True) or ``timeout`` seconds pass (False)."""
        with self._lock:
            return self._changed.wait_for(lambda: self.version > version, timeout)


def _stage(job: dict, event: Event) -> dict:
    for stage in reversed(job["stages"]):
        if stage["id"] == event.stage:
            return stage
    stage = {"id": event.stage, "name": event.stage_name, "tasks": 0, "done": 0, "failed": 0, "records": 0,
             "counted": False, "spilled_bytes": 0, "spilled_records": 0, "started": event.time,
             "finished": None, "seconds": [], "status": "running"}
    job["stages"].append(stage)
    return stage


def _job_started(job: dict, event: Event) -> None:
    job["action"] = event.data.get("action", "")
    job["runner"] = event.data.get("runner", "")
    job["started"] = event.time


def _stage_started(job: dict, event: Event) -> None:
    stage = _stage(job, event)
    stage["tasks"] = event.data.get("tasks", 0)
    stage["started"] = event.time


def _task_finished(job: dict, event: Event) -> None:
    data = event.data
    stage = _stage(job, event)
    stage["done"] += 1
    seconds = data.get("seconds")
    if seconds is not None:
        stage["seconds"].append(seconds)
    records = data.get("records")
    if records is not None:
        stage["records"] += records
        stage["counted"] = True
        job["records"] += records
    spilled_bytes = data.get("spilled_bytes") or 0
    spilled_records = data.get("spilled_records") or 0
    stage["spilled_bytes"] += spilled_bytes
    stage["spilled_records"] += spilled_records
    job["spilled_bytes"] += spilled_bytes
    job["spilled_records"] += spilled_records
    _add_counters(job, data.get("counters"))
    _worker(job, data.get("worker"), seconds, data.get("max_rss"))
    _keep_task(job, {"stage": event.stage, "stage_name": event.stage_name, "partition": event.partition,
                     "status": "finished", "worker": data.get("worker"), "seconds": seconds,
                     "finished": event.time, "records": records, "spilled_bytes": spilled_bytes})


def _task_failed(job: dict, event: Event) -> None:
    data = event.data
    stage = _stage(job, event)
    stage["failed"] += 1
    failure = {"stage": event.stage, "stage_name": event.stage_name, "partition": event.partition,
               "time": event.time, "error": data.get("error"), "context": data.get("context"),
               "location": data.get("location"), "worker": data.get("worker"),
               "traceback": data.get("traceback")}
    job["failures"].append(failure)
    _keep_task(job, {"stage": event.stage, "stage_name": event.stage_name, "partition": event.partition,
                     "status": "failed", "worker": data.get("worker"), "seconds": data.get("seconds"),
                     "finished": event.time, "records": None, "spilled_bytes": 0, "error": data.get("error")})


def _stage_finished(job: dict, event: Event) -> None:
    stage = _stage(job, event)
    stage["finished"] = event.time
    stage["status"] = "failed" if stage["failed"] else "finished"


def _job_ended(job: dict, event: Event) -> None:
    job["finished"] = event.time
    job["status"] = "succeeded" if event.kind == "job_finished" else "failed"
    job["error"] = event.data.get("error")
    job["counters"] = {g: dict(names) for g, names in (event.data.get("counters") or {}).items()}
    if "samples" in event.data:
        job["samples"] = {g: list(items)[:SAMPLE_LIMIT] for g, items in event.data["samples"].items()}
    for stage in job["stages"]:
        if stage["status"] == "running":
            stage["status"] = "failed" if job["status"] == "failed" else "finished"


def _add_counters(job: dict, table: dict | None) -> None:
    for group, names in (table or {}).items():
        if group == SAMPLES:
            for name, items in names.items():
                kept = job["samples"].setdefault(name, [])
                kept.extend(items[: max(0, SAMPLE_LIMIT - len(kept))])
            continue
        mine = job["counters"].setdefault(group, {})
        for name, amount in names.items():
            mine[name] = mine.get(name, 0) + amount


def _worker(job: dict, name: str | None, seconds: float | None, max_rss: int | None) -> None:
    """A worker's tasks, busy seconds and peak resident memory (the largest its tasks reported)."""
    worker = job["workers"].setdefault(name or "?", {"tasks": 0, "seconds": 0.0, "max_rss": None})
    worker["tasks"] += 1
    worker["seconds"] += seconds or 0.0
    if max_rss is not None and (worker["max_rss"] is None or max_rss > worker["max_rss"]):
        worker["max_rss"] = max_rss


def _keep_task(job: dict, task: dict) -> None:
    job["tasks_seen"] += 1
    tasks = job["tasks"]
    tasks.append(task)
    if len(tasks) > RunView.max_tasks:
        del tasks[: len(tasks) - RunView.max_tasks]


_FOLDS = {"job_started": _job_started, "stage_started": _stage_started, "task_finished": _task_finished,
          "task_failed": _task_failed, "stage_finished": _stage_finished, "job_finished": _job_ended,
          "job_failed": _job_ended}
