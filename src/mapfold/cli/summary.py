"""The end-of-run summary of ``mapfold run``: one run record per action.

:class:`RunSummary` listens to the runner's events (``plan/events.py``) and
keeps a :class:`~mapfold.plan.record.RunRecord` for each job, so what it
prints is what ``ds.last_run`` would say, for every action of the script.
"""
from __future__ import annotations

from ..plan.events import Event
from ..plan.record import RunRecord

__all__ = ["RunSummary"]


class RunSummary:
    """A listener that folds each job's events into its run record.

    >>> summary = RunSummary("serial", "command line")
    >>> summary(Event("job_started", job="j1", data={"action": "count"}, time=1.0))
    >>> summary(Event("stage_started", job="j1", stage=0, stage_name="count", data={"tasks": 2}, time=1.0))
    >>> summary(Event("task_finished", job="j1", stage=0, partition=0, data={"seconds": 0.1}, time=1.1))
    >>> summary(Event("job_finished", job="j1", data={"counters": {}}, time=1.5))
    >>> print("\\n".join(summary.lines()))
    mapfold: 1 action on serial, chosen by command line, 0.50 s
      count: succeeded, 1 stage, 1 task, 0.50 s
    """

    def __init__(self, runner: str, source: str):
        self.runner = runner
        self.source = source
        self.records: dict[str, RunRecord] = {}

    def __call__(self, event: Event) -> None:
        record = self.records.get(event.job)
        if record is None:
            if event.kind != "job_started":
                return
            record = self.records[event.job] = RunRecord(event.job, event.data.get("action", "?"), self.runner,
                                                         self.source)
        record(event)

    def lines(self) -> list[str]:
        """What ``mapfold run`` prints on stderr at the end."""
        records = list(self.records.values())
        total = sum(r.seconds or 0.0 for r in records)
        plural = "" if len(records) == 1 else "s"
        out = [f"mapfold: {len(records)} action{plural} on {self.runner}, chosen by {self.source}, {total:.2f} s"]
        for r in records:
            stages = f"{len(r.stages)} stage{'' if len(r.stages) == 1 else 's'}"
            tasks = f"{len(r.tasks)} task{'' if len(r.tasks) == 1 else 's'}"
            line = f"  {r.action}: {r.status}, {stages}, {tasks}, {(r.seconds or 0.0):.2f} s"
            if r.spilled_bytes:
                line += f", spilled {r.spilled_bytes / 1e6:.1f} MB"
            if r.error:
                line += f" ({r.error})"
            out.append(line)
            for group, names in sorted(r.counters.items()):
                if isinstance(names, dict):
                    counts = ", ".join(f"{name}={value}" for name, value in sorted(names.items()))
                    out.append(f"    counters {group}: {counts}")
        return out
