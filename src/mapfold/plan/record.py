"""Run records: what one action did, kept with its result.

Every action on every runner leaves a :class:`RunRecord` (``ds.last_run``):
its stages, each task's time, worker and spills, the job's counters and
bad-record counts, the runner and where each setting came from. It is built
from the same events the listeners get (``plan/events.py``), so what a
record says and what a live view showed cannot differ.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .events import Event

__all__ = ["RunRecord", "StageRecord", "TaskRecord"]


@dataclass
class TaskRecord:
    stage: int
    partition: int
    seconds: float | None = None
    worker: str | None = None
    spilled_bytes: int = 0
    spilled_records: int = 0
    records: int | None = None  # records the task handed on, where its finisher counts them
    finished: float | None = None  # when the driver heard it finished (time.time())
    max_rss: int | None = None  # the worker process's peak resident bytes when the task ended


@dataclass
class StageRecord:
    id: int
    name: str
    tasks: int
    started: float
    finished: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


@dataclass
class RunRecord:
    """The record of one action's run.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence(range(10), partitions=2).map(lambda x: x + 1)
    >>> ds.count(runner="serial")
    10
    >>> run = ds.last_run
    >>> run.status, run.action, run.runner, [t.partition for t in run.tasks]
    ('succeeded', 'count', 'serial', [0, 1])
    """

    job: str
    action: str
    runner: str
    runner_source: str
    memory_limit: int | None = None
    memory_limit_source: str | None = None
    started: float | None = None
    finished: float | None = None
    status: str = "running"
    error: str | None = None
    stages: list[StageRecord] = field(default_factory=list)
    tasks: list[TaskRecord] = field(default_factory=list)
    counters: dict = field(default_factory=dict)
    spilled_bytes: int = 0
    spilled_records: int = 0
    failures: list[dict] = field(default_factory=list)  # task_failed: stage, partition, error, context, traceback

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None or self.started is None else self.finished - self.started

    def stage_records(self) -> dict[int, int]:
        """Records each stage's tasks handed on, by stage id (stages whose tasks count them).

        >>> import mapfold as mf
        >>> ds = mf.from_sequence(range(10), partitions=2).filter(lambda x: x % 2)
        >>> ds.collect(runner="serial")
        [1, 3, 5, 7, 9]
        >>> list(ds.last_run.stage_records().values())
        [5]
        """
        totals: dict[int, int] = {}
        for task in self.tasks:
            if task.records is not None:
                totals[task.stage] = totals.get(task.stage, 0) + task.records
        return totals

    def __call__(self, event: Event) -> None:
        """Fold one event into the record (a record is a listener too)."""
        if event.kind == "job_started":
            self.started = event.time
        elif event.kind == "stage_started":
            self.stages.append(StageRecord(event.stage, event.stage_name, event.data.get("tasks", 0), event.time))
        elif event.kind == "task_finished":
            data = event.data
            self.tasks.append(TaskRecord(event.stage, event.partition, data.get("seconds"), data.get("worker"),
                                         data.get("spilled_bytes", 0), data.get("spilled_records", 0),
                                         data.get("records"), event.time, data.get("max_rss")))
            self.spilled_bytes += data.get("spilled_bytes", 0) or 0
            self.spilled_records += data.get("spilled_records", 0) or 0
        elif event.kind == "task_failed":
            self.failures.append({"stage": event.stage, "stage_name": event.stage_name,
                                  "partition": event.partition, "time": event.time, **event.data})
        elif event.kind == "stage_finished":
            for stage in reversed(self.stages):
                if stage.id == event.stage:
                    stage.finished = event.time
                    break
        elif event.kind in ("job_finished", "job_failed"):
            self.finished = event.time
            self.status = "succeeded" if event.kind == "job_finished" else "failed"
            self.error = event.data.get("error")
            self.counters = event.data.get("counters", {})

    def as_dict(self) -> dict:
        return asdict(self)
