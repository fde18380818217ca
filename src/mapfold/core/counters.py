"""User counters, as in Hadoop and mrjob: ``increment_counter(group, name)``.

Inside a task, increments go to that task's table, which travels back with
the task's result; the driver sums the tables of all tasks. The table is per
thread: a Dask worker may run several tasks at once in threads.
"""
from __future__ import annotations

import threading
from collections import defaultdict

__all__ = ["increment_counter", "Counters", "task_counters", "reset_task_counters"]


class Counters(defaultdict):
    """``{group: {name: total}}`` summed over tasks."""

    def __init__(self, *args):
        super().__init__(lambda: defaultdict(int))
        for table in args:
            self.add(table)

    def add(self, other) -> None:
        for group, names in (other or {}).items():
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


def increment_counter(group: str, name: str, amount: int = 1) -> None:
    """Add ``amount`` to counter ``name`` of ``group`` for the running task.

    >>> reset_task_counters(); increment_counter("words", "long")
    >>> task_counters()
    {'words': {'long': 1}}
    """
    _table()[group][name] += amount


def task_counters() -> dict:
    return _table().as_dict()


def reset_task_counters() -> None:
    _table().clear()
