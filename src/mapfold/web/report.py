"""The offline report: one self-contained HTML file of a run.

The report is the live page with the view's snapshot embedded, so it shows
the same figures and needs no server, no network and nothing beside it.
Its source is a JSON-lines event log (``event_log=``,
``MAPFOLD_EVENT_LOG``, ``mapfold run --event-log``), the events themselves,
or a :class:`~mapfold.plan.record.RunRecord` (``ds.last_run``), which is
replayed as the events it was folded from.
"""
from __future__ import annotations

import os
from typing import Iterable, Iterator

import orjson

from ..plan.events import EVENT_KINDS, Event
from ..plan.record import RunRecord
from .page import render_page
from .server import DashboardError
from .view import RunView

__all__ = ["write_report", "read_events", "record_events", "report_html"]


def read_events(path: str | os.PathLike) -> Iterator[Event]:
    """The events of a JSON-lines event log, in order.

    >>> import os, tempfile
    >>> from mapfold.plan.events import EventLog
    >>> path = os.path.join(tempfile.mkdtemp(), "events.jsonl")
    >>> log = EventLog(path); log(Event("job_started", job="j1")); log.close()
    >>> [event.kind for event in read_events(path)]
    ['job_started']
    """
    path = os.fspath(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise DashboardError(f"cannot read the event log {path}: {exc.strerror or exc}") from exc
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
                if raw.get("kind") not in EVENT_KINDS:
                    raise ValueError(f"unknown event kind {raw.get('kind')!r}")
                yield Event(raw["kind"], raw["job"], raw.get("stage"), raw.get("stage_name") or "",
                            raw.get("partition"), raw.get("data") or {}, raw.get("time") or 0.0)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise DashboardError(f"{path} line {number} is not a mapfold event: {exc}") from exc


def record_events(record: RunRecord) -> list[Event]:
    """The events a run record was folded from, as near as it keeps them
    (tasks in the order they finished, failures, the job's end).

    >>> import mapfold as mf
    >>> ds = mf.from_sequence(range(4), partitions=2)
    >>> ds.count(runner="serial")
    4
    >>> [e.kind for e in record_events(ds.last_run)][:3]
    ['job_started', 'stage_started', 'task_finished']
    """
    job = record.job
    started = record.started or 0.0
    events = [Event("job_started", job, data={"action": record.action, "runner": record.runner}, time=started)]
    names = {stage.id: stage.name for stage in record.stages}
    timed: list[tuple[float, int, Event]] = []
    for stage in record.stages:
        timed.append((stage.started, 0, Event("stage_started", job, stage.id, stage.name,
                                              data={"tasks": stage.tasks}, time=stage.started)))
        if stage.finished is not None:
            timed.append((stage.finished, 2, Event("stage_finished", job, stage.id, stage.name, time=stage.finished)))
    for task in record.tasks:
        finished = task.finished if task.finished is not None else started
        data = {"seconds": task.seconds, "worker": task.worker, "spilled_bytes": task.spilled_bytes,
                "spilled_records": task.spilled_records, "records": task.records, "max_rss": task.max_rss}
        timed.append((finished, 1, Event("task_finished", job, task.stage, names.get(task.stage, ""),
                                          task.partition, data, finished)))
    for failure in record.failures:
        data = {k: v for k, v in failure.items() if k not in ("stage", "stage_name", "partition", "time")}
        timed.append((failure.get("time") or started, 1, Event("task_failed", job, failure.get("stage"),
                                                              failure.get("stage_name", ""), failure.get("partition"),
                                                              data, failure.get("time") or started)))
    events.extend(event for _, _, event in sorted(timed, key=lambda t: (t[0], t[1])))
    if record.finished is not None:
        kind = "job_finished" if record.status == "succeeded" else "job_failed"
        data = {"counters": record.counters, **({"error": record.error} if record.error else {})}
        events.append(Event(kind, job, data=data, time=record.finished))
    return events


def report_html(source: "str | os.PathLike | RunRecord | RunView | Iterable[Event]",
                title: str = "mapfold report") -> str:
    """The report's HTML, from an event log's path, a run record, a view or events.

    >>> page = report_html([Event("job_started", job="j1", data={"action": "count"}),
    ...                     Event("job_finished", job="j1", data={"counters": {"g": {"n": 2}}})])
    >>> '"counters":{"g":{"n":2}}' in page, page.startswith("<!DOCTYPE html>")
    (True, True)
    """
    if isinstance(source, RunView):  # a view that listened to the run (a runner's report=)
        return render_page(source.snapshot(), title=title)
    if isinstance(source, RunRecord):
        events: Iterable[Event] = record_events(source)
    elif isinstance(source, (str, os.PathLike)):
        events = read_events(source)
    else:
        events = source
    return render_page(RunView().extend(events).snapshot(), title=title)


def write_report(source: "str | os.PathLike | RunRecord | RunView | Iterable[Event]", path: str | os.PathLike,
                 title: str = "mapfold report") -> str:
    """Write the offline report of a run to ``path`` (one HTML file); returns the path.

    ``source``: a JSON-lines event log, a run record (``ds.last_run``), a
    :class:`RunView` that listened to the runs, or events.

    >>> import os, tempfile, mapfold as mf
    >>> ds = mf.from_sequence(range(100), partitions=4).map(lambda x: (x % 3, 1)).reduce_by_key(lambda a, b: a + b)
    >>> sorted(ds.collect(runner="serial"))
    [(0, 34), (1, 33), (2, 33)]
    >>> path = write_report(ds.last_run, os.path.join(tempfile.mkdtemp(), "run.html"))
    >>> page = open(path).read()
    >>> '"status":"succeeded"' in page, "http://" in page.replace("http://www.w3.org/2000/svg", "")
    (True, False)
    """
    page = report_html(source, title)
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    try:
        os.makedirs(folder, exist_ok=True)
        temporary = f"{target}.tmp-{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(temporary, target)
    except OSError as exc:
        raise DashboardError(f"cannot write the report {target}: {exc.strerror or exc}") from exc
    return target
