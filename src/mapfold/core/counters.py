"""Counter tables, as in Hadoop and mrjob.

Inside a task, ``increment_counter(group, name)`` (``core/task_context.py``)
adds to that task's own table, which travels back with the task's result;
the driver sums the tables of all tasks in a :class:`Counters`.

Samples ride the same table: ``keep_sample(group, item)`` keeps the first
few items of a group in the task (bad input lines, for instance); they
travel back under the key :data:`SAMPLES` of the task's table and the
driver's :class:`Counters` keeps the first :data:`SAMPLE_LIMIT` of each
group in ``.samples``, apart from the summed counters.
"""
from __future__ import annotations

from collections import defaultdict

__all__ = ["Counters", "SAMPLES", "SAMPLE_LIMIT"]

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

    def merge(self, other: "Counters") -> None:
        """Add another job's counters and samples to these.

        >>> a, b = Counters({"g": {"x": 1}}), Counters({"g": {"x": 2}, SAMPLES: {"bad": ["l3"]}})
        >>> a.merge(b); a.as_dict(), a.samples
        ({'g': {'x': 3}}, {'bad': ['l3']})
        """
        self.add(other.as_dict())
        self.add({SAMPLES: other.samples})

    def as_dict(self) -> dict:
        return {group: dict(names) for group, names in self.items()}
