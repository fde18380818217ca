"""``explain()``: the stages of a plan, their partitions, and run statistics.

A shuffle skipped for co-partitioned input shows where it would have been:
``reduce_by_key [no shuffle: input already hash-partitioned into 4]`` in a
stage's steps, and a co-partitioned join's sides as the inputs one task
reads together.
"""
from __future__ import annotations

from .nodes import CoalesceNode, CombineNode, NarrowNode, Node, PersistNode, ShuffleNode, SourceNode, UnionNode, ZipNode

__all__ = ["explain"]


def _stage_lines(node: Node, depth: int, out: list, seen: set, title: str = "stage") -> None:
    pad = "  " * depth
    chain = []
    # a persisted node is computed by the stage of its parent's steps
    current = node.parent if isinstance(node, PersistNode) else node
    while isinstance(current, NarrowNode):
        chain.append(f"{current.name} [no shuffle: {current.skipped}]" if isinstance(current, CombineNode)
                     else current.name)
        current = current.parent
    steps = " -> ".join(reversed(chain)) or "(no narrow steps)"
    persisted = " [persisted]" if node.persisted else ""
    out.append(f"{pad}{title}: {steps}  ({node.num_partitions} partitions){persisted}")
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
            how = "shuffled into the join's partitioning" if isinstance(parent, ShuffleNode) else \
                f"no shuffle, {current.skipped}"
            _stage_lines(parent, depth + 2, out, seen, title=f"side {side} ({how})")
    elif isinstance(current, CoalesceNode):
        out.append(f"{pad}  reads {len(current.groups)} groups of neighbouring partitions, each in one task "
                   f"(no shuffle; a runner that cannot read several inputs in a task shuffles them) of:")
        _stage_lines(current.parent, depth + 2, out, seen)
    elif isinstance(current, ShuffleNode):
        combine = "map-side combine" if current.aggregator is not None else "no combine"
        out.append(f"{pad}  reads {current.name} shuffle into {current.num_partitions} buckets ({combine}) of:")
        _stage_lines(current.parent, depth + 2, out, seen)


def explain(node: Node, job=None) -> str:
    out: list[str] = []
    _stage_lines(node, 0, out, set())
    if job is not None:
        out.append(f"last run: runner {job.runner.describe()} (chosen by {job.runner_setting.source})")
        for stage_id, name, tasks in job.stats["stages"]:
            out.append(f"  stage {stage_id}: {name}, {tasks} tasks")
        limit = job.stats.get("memory_limit")
        if limit is not None:
            from ..core.config import format_size

            out.append(f"  shuffle memory limit: {format_size(limit.value)} per worker (from {limit.source})")
        out.append(f"  spilled: {job.stats['spilled_bytes']} bytes, {job.stats['spilled_records']} records")
        if job.counters:
            out.append(f"  counters: {job.counters.as_dict()}")
    return "\n".join(out)
