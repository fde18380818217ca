"""The serial runner: tasks run lazily in the calling thread. The reference
every other runner is tested against, and the debugger (pdb works)."""
from __future__ import annotations

from typing import Any, Iterator

from ..core.errors import attach_context
from ..plan.stages import Stage, TaskSpec
from .base import Runner
from .tasks import TaskOutcome, TaskStream, context_of, finish, runtime_of

__all__ = ["SerialRunner"]


class SerialRunner(Runner):
    """Run every task in this process, one after the other, nothing pickled."""

    name = "serial"
    cache_on_disk = False
    streams_in_process = True

    def prepare(self, stage: Stage) -> tuple[str, Any]:
        return "", stage.code

    def run_tasks(self, stage: Stage, prepared, tasks: list[TaskSpec], ordered: bool = True) -> Iterator:
        code = prepared[1]
        for task in tasks:
            runtime = runtime_of(task, code)
            try:
                with runtime.active():
                    value = finish(task, code)
            except Exception as exc:
                # keep the live traceback: serial is where users debug
                attach_context(exc, context_of(task, stage.name), None)
                raise
            yield task, TaskOutcome(value, runtime.counters_table(), metrics=runtime.metrics)

    def stream(self, stage: Stage, prepared, task: TaskSpec) -> TaskStream:
        return TaskStream(task, prepared[1], stage.name)
