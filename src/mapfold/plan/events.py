"""The event stream of a run: job, stage and task events, to any listener.

A listener is any callable taking an :class:`Event`. A runner holds its
listeners (``runner.add_listener``), as Spark's context holds its listener
bus; every job on that runner tells them what happens. The progress bar is
one listener (:class:`ProgressListener`), an optional JSON-lines log another
(:class:`EventLog`: ``mf.runner(..., event_log="run.jsonl")`` or
``MAPFOLD_EVENT_LOG``); the coming dashboard will be a third. A listener
that raises is dropped from the job with a warning: watching a job never
breaks it.

Kinds: ``job_started``, ``stage_started``, ``task_finished`` (with the
task's seconds, worker and spills), ``task_failed``, ``stage_finished``,
``job_finished``, ``job_failed``.
"""
from __future__ import annotations

import os
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import orjson

from ..core.progress import Progress

__all__ = ["Event", "EventLog", "ProgressListener", "Listeners", "EVENT_KINDS"]

EVENT_KINDS = ("job_started", "stage_started", "task_finished", "task_failed", "stage_finished",
               "job_finished", "job_failed")


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run.

    >>> Event("stage_started", job="j1", stage=2, stage_name="collect", data={"tasks": 4}).as_dict()["data"]
    {'tasks': 4}
    """

    kind: str
    job: str
    stage: int | None = None
    stage_name: str = ""
    partition: int | None = None
    data: dict = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def as_dict(self) -> dict:
        return asdict(self)


class EventLog:
    """A listener that appends each event to a file as one JSON line.

    >>> import json, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "events.jsonl")
    >>> log = EventLog(path); log(Event("job_started", job="j1")); log.close()
    >>> json.loads(open(path).readline())["kind"]
    'job_started'
    """

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._file = None

    def __call__(self, event: Event) -> None:
        line = orjson.dumps(event.as_dict(), default=str) + b"\n"
        with self._lock:
            if self._file is None:
                folder = os.path.dirname(os.path.abspath(self.path))
                os.makedirs(folder, exist_ok=True)
                self._file = open(self.path, "ab")
            self._file.write(line)
            self._file.flush()  # a log read while the job runs (tail -f, the dashboard) is current

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class ProgressListener:
    """The progress bar, as a listener: a bar per stage, the job's spills beside it."""

    def __init__(self, enabled: bool | None = None):
        self.progress = Progress(enabled)
        self._spilled = [0, 0]

    def __call__(self, event: Event) -> None:
        if event.kind == "stage_started":
            self.progress.stage(event.stage_name, event.data.get("tasks", 0))
        elif event.kind == "task_finished":
            self._spilled[0] += event.data.get("spilled_bytes", 0) or 0
            self._spilled[1] += event.data.get("spilled_records", 0) or 0
            self.progress.advance(**self.postfix())
        elif event.kind in ("stage_finished", "job_finished", "job_failed"):
            self.progress.close()

    def postfix(self) -> dict:
        """What the bar shows beside the tasks: the job's spills so far."""
        spilled_bytes, spilled_records = self._spilled
        if not spilled_bytes:
            return {}
        return {"spilled": f"{spilled_bytes / 1e6:.1f} MB, {spilled_records:,} records"}


class Listeners:
    """The listeners one job tells: the runner's, plus the job's own."""

    def __init__(self, listeners: list[Callable[[Event], Any]]):
        self._listeners = list(listeners)

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception as exc:  # watching a job never breaks it
                self._listeners.remove(listener)
                warnings.warn(f"mapfold: event listener {listener!r} raised {exc!r} on {event.kind}; "
                              "it gets no more events of this job", RuntimeWarning, stacklevel=2)
