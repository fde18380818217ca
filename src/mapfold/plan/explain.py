"""``explain()``: the stages of a plan, their partitions, and run statistics.

A shuffle skipped for co-partitioned input shows where it would have been:
``reduce_by_key [no shuffle: input already hash-partitioned into 4]`` in a
stage's steps, and a co-partitioned join's sides as the inputs one task
reads together. A plan-time rewrite (``rewrites.py``) shows under the
stage it applies to, as the planner would choose it for the stage's first
partition: ``rewrite: flat_map(str.split) → word path ...``.
"""
from __future__ import annotations

from ..shuffle.writer import column_views
from .nodes import CoalesceNode, CombineNode, NarrowNode, Node, PersistNode, ShuffleNode, SourceNode, UnionNode, ZipNode
from .rewrites import find_rewrite


class _MapSide:
    """What explain knows of a shuffle's map-side finisher: the views it takes
    (the same on every runner: ``ShuffleWriter`` and ``PackingWriter`` agree)."""

    def __init__(self, shuffle: ShuffleNode):
        self.takes_views = column_views(shuffle.aggregator)

__all__ = ["explain"]


def _stage_lines(node: Node, depth: int, out: list, seen: set, title: str = "stage", finisher=None) -> None:
    pad = "  " * depth
    chain, nodes = [], []
    # a persisted node is computed by the stage of its parent's steps
    current = node.parent if isinstance(node, PersistNode) else node
    while isinstance(current, NarrowNode):
        chain.append(f"{current.name} [no shuffle: {current.skipped}]" if isinstance(current, CombineNode)
                     else current.name)
        nodes.append(current)
        current = current.parent
    steps = " -> ".join(reversed(chain)) or "(no narrow steps)"
    persisted = " [persisted]" if node.persisted else ""
    out.append(f"{pad}{title}: {steps}  ({node.num_partitions} partitions){persisted}")
    if isinstance(current, SourceNode) and current.input_partitions:
        rewrite = find_rewrite(current.input_partitions[0], list(reversed(nodes)), finisher)
        if rewrite is not None:
            out.append(f"{pad}  rewrite: {rewrite.label}")
    if isinstance(current, PersistNode):
        out.append(f"{pad}  reads persisted {current.label()}")
        if current.id not in seen:
            seen.add(current.id)
            _stage_lines(current, depth + 2, out, seen)
        return
    if isinstance(current, SourceNode):
        out.append(f"{pad}  reads {current.label()}")
    elif isinstance(current, UnionNode):
        out.append(f"{pad}  reads union of {len(current.parents())} inputs:")
        for parent in current.parents():
            _stage_lines(parent, depth + 2, out, seen)
    elif isinstance(current, ZipNode):
        out.append(f"{pad}  reads partition i of each of {len(current.parents())} sides in one task "
                   f"(a runner that cannot zip partitions shuffles them together):")
        for side, parent in enumerate(current.parents()):
            # a side shuffled here was not partitioned the join's way; the others were
            how = "shuffled into the join's partitioning" if current.shuffled[side] else \
                f"no shuffle, {current.skipped}"
            _stage_lines(parent, depth + 2, out, seen, title=f"side {side} ({how})")
    elif isinstance(current, CoalesceNode):
        out.append(f"{pad}  reads {len(current.groups)} groups of neighbouring partitions, each in one task "
                   f"(no shuffle; a runner that cannot read several inputs in a task shuffles them) of:")
        _stage_lines(current.parent, depth + 2, out, seen)
    elif isinstance(current, ShuffleNode):
        combine = "map-side combine" if current.aggregator is not None else "no combine"
        out.append(f"{pad}  reads {current.name} shuffle into {current.num_partitions} buckets ({combine}) of:")
        _stage_lines(current.parent, depth + 2, out, seen, finisher=_MapSide(current))


def explain(node: Node, job=None) -> str:
    out: list[str] = []
    _stage_lines(node, 0, out, set())
    if job is not None:
        out.append(f"last run: runner {job.runner.describe()} (chosen by {job.runner_setting.source})")
        rewrites = job.stats.get("rewrites", {})
        for stage_id, name, tasks in job.stats["stages"]:
            applied = "".join(f" [rewrite: {label}]" for label in rewrites.get(stage_id, ()))
            out.append(f"  stage {stage_id}: {name}, {tasks} tasks{applied}")
        limit = job.stats.get("memory_limit")
        if limit is not None:
            from ..core.config import format_size

            out.append(f"  shuffle memory limit: {format_size(limit.value)} per worker (from {limit.source})")
        out.append(f"  spilled: {job.stats['spilled_bytes']} bytes, {job.stats['spilled_records']} records")
        if job.counters:
            out.append(f"  counters: {job.counters.as_dict()}")
    return "\n".join(out)
