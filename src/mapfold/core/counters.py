"""User counters, as in Hadoop and mrjob: ``increment_counter(group, name)``.

Inside a task, increments go to that task's table, which travels back with
the task's result; the driver sums the tables of all tasks. The table is per
thread: a Dask worker may run several tasks at once in threads.

Samples ride the same channel: ``keep_sample(group, item)`` keeps the first
few items of a group in the task (bad input lines, for instance); they
travel back under the reserved key :data:`SAMPLES` of the task's table and
the driver's :class:`Counters` keeps the first :data:`SAMPLE_LIMIT` of each
group in ``.samples``, apart from the summed counters.
"""
from __future__ import annotations

import threading
from collections import defaultdict

__all__ = ["increment_counter", "keep_sample", "Counters", "task_counters", "reset_task_counters", "SAMPLES",
           "SAMPLE_LIMIT"]

SAMPLES = "__samples__"  # reserved group name: kept samples, not counts
SAMPLE_LIMIT = 20  # per group, per task and per job


class Counters(defaultdict):
    """``{group: {name: total}}`` summed over tasks."""

    def __init__(self, *args):
        super().__init__(lambda: defaultdict(int))
        self.samples: dict[str, list] = {}
        for table in args:
            self.add(table)

    def add(self, other) -> None:
        for group, names in (other or {}).items():
            if group == SAMPLES:
                for name, items in names.items():
                    kept = self.samples.setdefault(name, [])
                    kept.extend(items[: max(0, SAMPLE_LIMIT - len(kept))])
                continue
            mine = self[group]
            for name, amount in names.items():
                mine[name] += amount

    def as_dict(self) -> dict:
        return {group: dict(names) for group, names in self.items()}


_local = threading.local()


def _table() -> Counters:
    table = getattr(_local, "table", None)
    if table is None:
        table = _local.table = Counters()
    return table


def _sample_table() -> dict:
    samples = getattr(_local, "samples", None)
    if samples is None:
        samples = _local.samples = {}
    return samples


def increment_counter(group: str, name: str, amount: int = 1) -> None:
    """Add ``amount`` to counter ``name`` of ``group`` for the running task.

    >>> reset_task_counters(); increment_counter("words", "long")
    >>> task_counters()
    {'words': {'long': 1}}
    """
    _table()[group][name] += amount


def keep_sample(group: str, item, limit: int = SAMPLE_LIMIT) -> None:
    """Keep ``item`` in the running task's sample of ``group`` (the first ``limit``).

    >>> reset_task_counters(); keep_sample("bad", "line 3")
    >>> Counters(task_counters()).samples
    {'bad': ['line 3']}
    """
    kept = _sample_table().setdefault(group, [])
    if len(kept) < limit:
        kept.append(item)


def task_counters() -> dict:
    table = _table().as_dict()
    samples = _sample_table()
    if samples:
        table[SAMPLES] = {group: list(items) for group, items in samples.items()}
    return table


def reset_task_counters() -> None:
    _table().clear()
    _sample_table().clear()
