"""``TaskContext.get()``: the running task's partition, stage and attempt, inside a task.

It reads the runtime the runner builds around every task
(``core/task_context.py``); outside tasks it is ``None``, as PySpark's.

>>> from mapfold.compat.pyspark import SparkContext
>>> sc = SparkContext("local")
>>> sc.parallelize("abc", 3).map(lambda x: (x, TaskContext.get().partitionId())).collect()
[('a', 0), ('b', 1), ('c', 2)]
>>> TaskContext.get() is None
True
"""
from __future__ import annotations

from ...core.task_context import TaskRuntime, current_task

__all__ = ["TaskContext"]


class TaskContext:
    """What a task knows about itself."""

    def __init__(self, runtime: TaskRuntime):
        self._runtime = runtime

    @classmethod
    def get(cls) -> "TaskContext | None":
        runtime = current_task()
        return None if runtime is None else cls(runtime)

    def partitionId(self) -> int:
        return self._runtime.partition

    def stageId(self) -> int:
        return self._runtime.stage

    def attemptNumber(self) -> int:
        """How many times this task was tried before (0 on the first attempt)."""
        return self._runtime.attempt - 1

    def taskAttemptId(self) -> int:
        """An id of this attempt, unique within its stage (mapfold has no job-wide task ids)."""
        return self._runtime.partition * 1000 + self._runtime.attempt - 1

    def cpus(self) -> int:
        return 1

    def resources(self) -> dict:
        return {}

    def getLocalProperty(self, key: str) -> str | None:
        """No local properties reach tasks (``SparkContext.setLocalProperty`` is refused)."""
        return None
