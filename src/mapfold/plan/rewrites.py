"""Plan-time rewrites: a task that reads a faster *view* of its input.

Import rule: runs on the driver and travels inside task descriptions; it
imports nothing of mapfold.

Some pipelines have a cheaper equivalent that only the input can offer.
The planner recognises them from what plan objects **declare**, never
from the operations themselves, and writes the choice into the task
(``TaskSpec.rewrite``), so the code that runs tasks applies it without
knowing any operation, and ``explain()`` shows it:

* a narrow step may declare that it equals reading a view of its input
  (``NarrowNode.reads_as``: ``flat_map(str.split)`` is the ``words`` view
  of a text partition, which splits each 64 KiB block once);
* a finisher may declare views it consumes directly (``takes_views``: the
  shuffle writer of ``reduce_by_key(operator.add)`` sums the
  ``key_value_columns`` blocks of ``read_key_value`` in Arrow);
* an input declares the views it has (``views``).

A rewrite applies only where all three meet, task by task (the partitions
of a union may differ).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

__all__ = ["Rewrite", "find_rewrite"]


@dataclass(frozen=True)
class Rewrite:
    """Read ``view`` (a method of the task's input) instead of its records.

    ``replaces``: how many leading steps of the chain the view already
    applies; ``into``: the finisher's method that takes the view's blocks
    (None: the view's records go through the rest of the chain into the
    finisher as usual); ``label``: what ``explain()`` says.

    >>> Rewrite("words", replaces=1, label="flat_map(str.split) → word path").label
    'flat_map(str.split) → word path'
    """

    view: str
    replaces: int = 0
    into: str | None = None
    label: str = ""


def find_rewrite(source: Any, steps: Sequence[Any], finisher: Any = None) -> Rewrite | None:
    """The rewrite a task reading ``source`` through ``steps`` (plan nodes,
    first applied first) into ``finisher`` gets, or None.

    >>> class Text:
    ...     views = ("words",)
    >>> class Split:
    ...     reads_as = Rewrite("words", replaces=1, label="flat_map(str.split) → word path")
    >>> find_rewrite(Text(), [Split()]).view, find_rewrite(object(), [Split()])
    ('words', None)
    >>> class Sums:
    ...     takes_views = {"key_value_columns": ("consume_columns", "reduce_by_key(add) → Arrow sums")}
    >>> class Pairs:
    ...     views = ("key_value_columns",)
    >>> find_rewrite(Pairs(), [], Sums()).into
    'consume_columns'
    """
    views = getattr(source, "views", ())
    if not views:
        return None
    if steps:
        declared = getattr(steps[0], "reads_as", None)
        if declared is not None and declared.view in views:
            return declared
        return None
    for view in views:
        taken = (getattr(finisher, "takes_views", None) or {}).get(view)
        if taken is not None:
            method, label = taken
            return Rewrite(view, 0, method, label)
    return None
