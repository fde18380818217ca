"""Which run a Dataset reports: kept on the Datasets the user holds, never on the plan.

A Dataset remembers the Datasets it was made from (``Dataset.derived_from``)
and the last run that computed it (``Dataset._computed_by``). An action on
a Dataset *claims* it and every Dataset it was derived from, so
``counters`` and ``bad_records`` read on ``events`` after
``events.map(f).save_parquet(...)`` report that run. Plan nodes are shared
(two Datasets may hold one node: ``kept.unpersist()`` and the Dataset
``persist()`` was called on), so nothing is written on them: each Dataset
sees the runs of its own actions and of the Datasets derived from it, and
no one else's.

A persisted Dataset whose partitions the runner already holds is read,
not computed: it and what it was derived from keep the run that did
compute them.
"""
from __future__ import annotations

from typing import Any

__all__ = ["claim"]


def claim(dataset: Any, job: Any) -> None:
    """Record ``job`` as the run that computed ``dataset`` and its ancestors.

    >>> import mapfold as mf
    >>> base = mf.from_sequence(range(4), partitions=2)
    >>> a, b = base.map(str), base.map(float)
    >>> a.count(runner="serial"), b.count(runner="serial")
    (4, 4)
    >>> a.last_run is b.last_run, base.last_run is b.last_run
    (False, True)
    """
    stack, seen = [dataset], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if not job.computes(current.node):
            continue
        current._computed_by = job
        stack.extend(current.derived_from)
