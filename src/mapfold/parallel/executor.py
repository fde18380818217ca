"""A local process pool that survives dead workers.

Built on :class:`concurrent.futures.ProcessPoolExecutor` (standard library,
well kept, fork start on Linux so a pool is ready in milliseconds). We chose
it over loky because loky starts workers by fork+exec of a fresh interpreter
(hundreds of milliseconds per pool, too slow for the sub-second start we
promise) and, like the standard pool, breaks as a whole when a worker dies.

What the standard pool lacks, and this module adds:

* **Which task killed the worker.** When a worker dies, every pending future
  fails with ``BrokenProcessPool`` and the pool is unusable. Each worker
  writes ``(pid, task number)`` into a shared array slot before it runs a
  task, so after a break we know which tasks were on the dead process. Only
  those tasks spend an attempt; innocent in-flight tasks are resubmitted
  free. The pool is rebuilt (a fork, milliseconds) and work goes on.
* **Bounded attempts, no hang.** After ``max_attempts`` deaths the task fails
  with :class:`~mapfold.core.errors.WorkerLostError` naming the exit signal.
  (``multiprocessing.Pool`` waits forever in that situation.)
* **A bounded window.** At most ``window`` calls are in flight or waiting to
  be yielded, so an endless iterable streams in bounded memory.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from ..core.config import default_workers
from ..core.errors import TaskContext, WorkerLostError

__all__ = ["Call", "ProcessExecutor", "describe_exitcode"]

_SLOTS = None  # in a worker: the shared (pid, task) array
_SLOT_INDEX = -1


@dataclass
class Call:
    """One unit of work: ``fn(*args)`` run in a worker."""

    fn: Callable
    args: tuple
    context: TaskContext | None = None
    seq: int = -1
    attempts: int = 0
    exitcodes: list = field(default_factory=list)


def describe_exitcode(code: int | None) -> str:
    if code is None:
        return "unknown exit status"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _init_worker(slots, counter) -> None:
    global _SLOTS, _SLOT_INDEX
    # Ctrl-C is the driver's to handle; it tears the pool down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with counter.get_lock():
        _SLOT_INDEX = counter.value
        counter.value += 1
    _SLOTS = slots
    slots[2 * _SLOT_INDEX] = os.getpid()
    slots[2 * _SLOT_INDEX + 1] = -1


def _run_call(seq: int, fn: Callable, args: tuple) -> Any:
    slots, index = _SLOTS, _SLOT_INDEX
    if slots is not None:
        slots[2 * index + 1] = seq
    try:
        return fn(*args)
    finally:
        if slots is not None:
            slots[2 * index + 1] = -1


class ProcessExecutor:
    """Run calls on ``workers`` local processes, retrying calls whose worker died.

    >>> with ProcessExecutor(workers=2) as ex:
    ...     [r for _, r in ex.run(Call(abs, (x,)) for x in (-1, -2, 3))]
    [1, 2, 3]
    """

    def __init__(self, workers: int | None = None, max_attempts: int = 3):
        self.workers = workers or default_workers()
        self.max_attempts = max_attempts
        self._executor: ProcessPoolExecutor | None = None
        self._slots = None
        self._seq = 0
        self.restarts = 0

    # -- pool lifecycle -------------------------------------------------
    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            ctx = multiprocessing.get_context(method)
            self._slots = ctx.Array("q", 2 * self.workers * 4, lock=False)
            counter = ctx.Value("i", 0)
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_init_worker, initargs=(self._slots, counter)
            )
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def terminate(self) -> None:
        """Stop now: used on Ctrl-C and errors so no worker outlives the job."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = dict(getattr(executor, "_processes", None) or {})
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes.values():
            if process.is_alive():
                process.terminate()
        for process in processes.values():
            process.join(timeout=5)

    def __enter__(self) -> "ProcessExecutor":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.terminate()

    # -- running --------------------------------------------------------
    def run(self, calls: Iterable[Call], ordered: bool = True, window: int | None = None) -> Iterator[tuple[Call, Any]]:
        """Yield ``(call, result)`` pairs, in submission order when ``ordered``.

        Exceptions raised by a call propagate (with their remote traceback
        as ``__cause__``). A call whose worker dies is retried on a fresh
        pool up to ``max_attempts`` times in all.
        """
        window = window or 2 * self.workers
        source = iter(calls)
        retry: deque[Call] = deque()
        in_flight: dict = {}
        finished: dict[int, tuple[Call, Any]] = {}
        next_out = None
        exhausted = False
        try:
            while True:
                while not exhausted or retry:
                    if len(in_flight) + len(finished) >= window:
                        break
                    if retry:
                        call = retry.popleft()
                    else:
                        try:
                            call = next(source)
                        except StopIteration:
                            exhausted = True
                            break
                        call.seq = self._seq
                        self._seq += 1
                        if next_out is None:
                            next_out = call.seq
                    executor = self._start()
                    in_flight[executor.submit(_run_call, call.seq, call.fn, call.args)] = call
                if not in_flight:
                    break
                done = set()
                while not done:
                    # a timeout, so Ctrl-C reaches this thread even when the signal
                    # landed while it was blocked in a lock wait
                    done, _ = wait(in_flight, timeout=0.25, return_when=FIRST_COMPLETED)
                lost = []
                for future in done:
                    call = in_flight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        lost.append(call)
                        continue
                    if ordered:
                        finished[call.seq] = (call, result)
                    else:
                        yield call, result
                if lost:
                    lost.extend(self._drain_broken(in_flight))
                    retry.extendleft(sorted(self._blame(lost), key=lambda c: c.seq, reverse=True))
                while ordered and next_out in finished:
                    yield finished.pop(next_out)
                    next_out += 1
        except GeneratorExit:
            # The consumer stopped early (take, first): keep the pool, drop the rest.
            for future in in_flight:
                future.cancel()
            raise
        except BaseException:
            self.terminate()
            raise

    def _drain_broken(self, in_flight: dict) -> list[Call]:
        # A broken pool fails every pending future; collect them all.
        wait(list(in_flight))
        calls = list(in_flight.values())
        in_flight.clear()
        return calls

    def _blame(self, lost: list[Call]) -> list[Call]:
        """Charge an attempt to the calls that were on the dead worker(s)."""
        executor = self._executor
        processes = dict(getattr(executor, "_processes", None) or {})
        for process in processes.values():
            process.join(timeout=5)
        exitcodes = {pid: p.exitcode for pid, p in processes.items()}
        slots = self._slots
        running = {}
        if slots is not None:
            for i in range(0, len(slots), 2):
                if slots[i] and slots[i + 1] >= 0:
                    running[slots[i + 1]] = slots[i]
        self._executor = None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        self.restarts += 1
        abnormal = {pid for pid, code in exitcodes.items() if code not in (0, -signal.SIGTERM, None)}
        culprits = {seq for seq, pid in running.items() if pid in abnormal}
        if not culprits:  # could not tell: everyone who was running is a suspect
            culprits = {c.seq for c in lost if c.seq in running} or {c.seq for c in lost}
        for call in lost:
            if call.seq not in culprits:
                continue
            pid = running.get(call.seq)
            call.attempts += 1
            call.exitcodes.append(exitcodes.get(pid))
            if call.attempts >= self.max_attempts:
                context = call.context or TaskContext()
                how = describe_exitcode(call.exitcodes[-1])
                raise WorkerLostError(
                    f"the worker process running {context.describe()} died ({how}) on each of "
                    f"{call.attempts} attempts; the task was given up. Likely causes: out of memory, "
                    "a crash in native code, or the process was killed.",
                    context=context,
                    exitcode=call.exitcodes[-1],
                )
        return lost
