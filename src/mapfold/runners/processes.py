"""The processes runner (the default): tasks on a pool of local processes.

The pool starts on first use (fork: milliseconds) and stays up across
actions until the runner is closed. A worker that dies is replaced and its
task retried (see ``parallel/executor.py``).
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any, Iterator

from ..core.serialize import dumps_code
from ..parallel.executor import Call, ProcessExecutor
from ..plan.stages import Stage, TaskSpec
from .base import Runner
from .tasks import context_of, run_task

__all__ = ["ProcessRunner"]


class ProcessRunner(Runner):
    """Run tasks on ``workers`` local processes (default: one per core), each letting its native
    libraries (BLAS) use ``native_threads`` threads (``"auto"``: ``cores // workers``; see
    ``parallel/native_threads.py``)."""

    name = "processes"

    def __init__(self, workers: int | None = None, max_attempts: int = 3, native_threads: int | str | None = "auto"):
        super().__init__()
        self.executor = ProcessExecutor(workers=workers, max_attempts=max_attempts, native_threads=native_threads)
        self.workers = self.executor.workers

    def prepare(self, stage: Stage) -> tuple[str, Any]:
        return uuid.uuid4().hex, dumps_code(stage.code, what=f"code of stage {stage.id} ({stage.name})")

    def run_tasks(self, stage: Stage, prepared, tasks: list[TaskSpec], ordered: bool = True) -> Iterator:
        token, payload = prepared
        shared: list = []
        # every call is built before the first one starts the pool: that fork is what shares inputs
        calls = [
            Call(run_task, (token, payload, self._shipped(task, shared), stage.name),
                 context=context_of(task, stage.name), pass_attempt=True)
            for task in tasks
        ]
        asked = {id(call): task for call, task in zip(calls, tasks)}
        try:
            # a job that stopped early (take, an iteration closed) ends once its running tasks
            # have: one still spilling would write into the job's folder after its cleanup
            for call, outcome in self.executor.run(calls, ordered=ordered, settle_on_stop=True):
                if outcome.failure is not None:
                    # the job fails with this task: nothing of it may go on running, and
                    # nothing is gained by waiting for its other tasks (a new pool serves the next job)
                    self.executor.terminate()
                yield asked[id(call)], outcome
        finally:
            self.executor.release_shared(shared)

    def _shipped(self, task: TaskSpec, shared: list) -> TaskSpec:
        """The task as it travels: an input held in the driver's memory (a
        ``from_sequence`` partition: ``shareable_at_fork``) is left to the
        workers' fork when the pool has yet to start, so only a token goes
        through the pool's queue (``parallel/executor.py``)."""
        if getattr(task.input, "shareable_at_fork", False):
            stand_in = self.executor.share_at_fork(task.input)
            if stand_in is not None:
                shared.append(stand_in)
                return replace(task, input=stand_in)
        return task

    def close(self) -> None:
        self.executor.close()
        super().close()

    def describe(self) -> str:
        return f"processes ({self.workers} workers)"
