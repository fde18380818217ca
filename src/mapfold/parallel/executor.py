"""A local process pool that survives dead workers.

Built on :class:`concurrent.futures.ProcessPoolExecutor` (standard library,
well kept, fork start on Linux so a pool is ready in milliseconds). We chose
it over loky because loky starts workers by fork+exec of a fresh interpreter
(hundreds of milliseconds per pool, too slow for the sub-second start we
promise) and, like the standard pool, breaks as a whole when a worker dies.

What the standard pool lacks, and this module adds:

* **Which task killed the worker.** When a worker dies, every pending future
  fails with ``BrokenProcessPool`` and the pool is unusable. Each worker
  writes ``(pid, task id)`` into a shared array slot before it runs a task,
  so after a break we know which tasks were on the dead process. Only those
  tasks spend an attempt; innocent in-flight tasks are resubmitted free. The
  broken pool is replaced by a new *generation* (a fork, milliseconds) and
  work goes on.
* **Bounded attempts, no hang.** After ``max_attempts`` deaths the task fails
  with :class:`~mapfold.core.errors.WorkerLostError` naming the exit signal.
  (``multiprocessing.Pool`` waits forever in that situation.)
* **A bounded window.** At most ``window`` calls of one run are in flight or
  waiting to be yielded, so an endless iterable streams in bounded memory.
* **Driver data shared at fork.** An object the driver holds before the
  workers are forked (``share_at_fork``: a ``from_sequence`` partition) is
  already in every worker's memory; a call refers to it by a token instead
  of pickling it through the pool's feeder thread and unpickling it again.
* **Any number of runs at once.** Each :meth:`ProcessExecutor.run` numbers
  its own calls and waits only on its own futures, so runs may be nested
  (the input of one is the output of another), interleaved, or driven from
  several threads: every result comes out exactly once, in order where
  asked. A run that cannot complete raises; it never ends early.
"""
from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, CancelledError, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from ..core.config import default_workers
from ..core.errors import InputError, MapfoldError, PoolClosedError, TaskContext, WorkerLostError
from .native_threads import default_native_threads, limit_native_threads

__all__ = ["Call", "ProcessExecutor", "describe_exitcode"]

_SLOTS = None  # in a worker: the shared (pid, task id) array of its generation
_SLOT_INDEX = -1
_SHARED: dict | None = None  # in a worker: the driver's objects shared at its fork (ProcessExecutor.share_at_fork)
_FORKS = sys.platform.startswith("linux")  # workers are forked (else spawned: nothing is inherited)


class ForkShared:
    """Stands in a call for an object the workers inherited when they were
    forked: it pickles as a token, and unpickles in a worker as that object.

    >>> ForkShared(3)
    ForkShared(3)
    """

    __slots__ = ("token",)

    def __init__(self, token: int):
        self.token = token

    def __reduce__(self):
        return (_inherited, (self.token,))

    def __repr__(self) -> str:
        return f"ForkShared({self.token})"


def _inherited(token: int) -> Any:
    shared = _SHARED
    if shared is None or token not in shared:  # the executor shares only before a generation forks
        raise MapfoldError(f"this worker was not forked with shared object {token}: "
                           "ProcessExecutor.share_at_fork was called after its pool started")
    return shared[token]


@dataclass
class Call:
    """One unit of work: ``fn(*args)`` run in a worker (``fn(*args, attempt=n)``
    with ``pass_attempt``: ``n`` is 1 the first time the call is sent to a
    worker, 2 when it is sent again because the pool broke, and so on)."""

    fn: Callable
    args: tuple
    context: TaskContext | None = None
    seq: int = -1  # position within its run: the order results come out in
    task_id: int = -1  # unique per submission, across runs: what a worker's slot records
    attempts: int = 0  # deaths charged to this call
    pass_attempt: bool = False
    launches: int = 0  # times sent to a worker
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


def _watch_parent(parent: int) -> None:
    # A driver killed outright (SIGKILL, OOM killer, a CI timeout) cannot stop
    # its workers, and a worker blocked on the task queue would wait forever.
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


PARENT_CHECK_SECONDS = 0.5
SETTLE_SECONDS = 1.0  # how long a run stopped early waits for its running calls before it stops the pool
ORPHAN_SECONDS = 2.0  # after a kill, how long a call's future may stay unresolved before it counts as lost


def _init_worker(slots, counter, initializer, initargs, parent, native_threads=None, shared=None) -> None:
    global _SLOTS, _SLOT_INDEX, _SHARED
    _SHARED = shared  # the driver's dict as it was at this fork (fork passes it without pickling)
    limit_native_threads(native_threads)  # see parallel/native_threads.py
    # What the worker inherited from the driver at fork (its modules, and whatever data the
    # driver holds: a from_sequence list, a graph) goes into the collector's permanent
    # generation: full collections in the worker no longer walk it (nor write into its
    # pages, which would copy them). It stays alive as in the driver; the worker's own
    # objects are collected as ever.
    gc.freeze()
    # Ctrl-C is the driver's to handle; it tears the pool down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM (terminate()) ends a worker whatever handler the driver had installed: Ray's,
    # inherited at fork, raises SystemExit, which a worker would send back as its task's result
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(parent,), name="mapfold-parent-watch", daemon=True).start()
    with counter.get_lock():
        _SLOT_INDEX = counter.value
        counter.value += 1
    _SLOTS = slots
    slots[2 * _SLOT_INDEX] = os.getpid()
    slots[2 * _SLOT_INDEX + 1] = -1
    if initializer is not None:
        initializer(*initargs)


def _run_call(task_id: int, fn: Callable, args: tuple, attempt: int | None = None) -> Any:
    slots, index = _SLOTS, _SLOT_INDEX
    if slots is not None:
        slots[2 * index + 1] = task_id
    try:
        return fn(*args) if attempt is None else fn(*args, attempt=attempt)
    finally:
        if slots is not None:
            slots[2 * index + 1] = -1


@dataclass
class _Verdict:
    """Who killed a generation: the task ids running on processes that died abnormally."""

    culprits: dict  # task id -> exit code
    running: set  # task ids that were running anywhere when it broke
    exitcodes: dict  # task id -> exit code of its process, for every running task


class _Generation:
    """One ``ProcessPoolExecutor`` and its (pid, task id) slots.

    Replaced as a whole when a worker dies; ``stopped`` marks one the driver
    shut down on purpose (close, terminate), whose lost calls are innocent.
    """

    def __init__(self, workers: int, initializer, initargs, native_threads: int | None = None,
                 shared: dict | None = None):
        method = "fork" if _FORKS else "spawn"
        ctx = multiprocessing.get_context(method)
        # slots for every process this generation may start (replacements included)
        self.slots = ctx.Array("q", 2 * workers * 4, lock=False)
        counter = ctx.Value("i", 0)
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker,
            initargs=(self.slots, counter, initializer, initargs, os.getpid(), native_threads, shared),
        )
        self.stopped = False
        self.killed_at: float | None = None  # when stop(now=True) killed its processes
        self.verdict: _Verdict | None = None

    def processes(self) -> dict:
        return dict(getattr(self.executor, "_processes", None) or {})

    def judge(self) -> _Verdict:
        """Once, after the break: which tasks were on the processes that died."""
        if self.verdict is None:
            processes = self.processes()
            for process in processes.values():
                process.join(timeout=5)
            exitcodes = {pid: p.exitcode for pid, p in processes.items()}
            running = {}
            for i in range(0, len(self.slots), 2):
                if self.slots[i] and self.slots[i + 1] >= 0:
                    running[self.slots[i + 1]] = self.slots[i]
            self.executor.shutdown(wait=False, cancel_futures=True)
            abnormal = {pid for pid, code in exitcodes.items() if code not in (0, -signal.SIGTERM, None)}
            self.verdict = _Verdict(
                culprits={task: exitcodes.get(pid) for task, pid in running.items() if pid in abnormal},
                running=set(running),
                exitcodes={task: exitcodes.get(pid) for task, pid in running.items()},
            )
        return self.verdict

    def stop(self, now: bool) -> None:
        self.stopped = True
        processes = self.processes()
        if not now:
            self.executor.shutdown(wait=True, cancel_futures=True)
            return
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes.values():
            if process.is_alive():
                process.terminate()
        for process in processes.values():
            process.join(timeout=5)
        self.killed_at = time.monotonic()


class ProcessExecutor:
    """Run calls on ``workers`` local processes, retrying calls whose worker died.

    ``restartable``: after :meth:`close` the next run starts a new pool (a
    runner, reused across actions); otherwise a closed executor refuses work
    with :class:`~mapfold.core.errors.PoolClosedError` (``mf.Pool``: a pool
    never starts itself behind the user's back).

    ``native_threads``: how many threads a worker's native libraries (BLAS, OpenMP) may
    use; ``"auto"`` (the default) gives each worker ``cores // workers`` (at least one)
    unless the environment already says (``OMP_NUM_THREADS`` and friends), None leaves
    them alone (see ``parallel/native_threads.py``).

    >>> with ProcessExecutor(workers=2) as ex:
    ...     [r for _, r in ex.run(Call(abs, (x,)) for x in (-1, -2, 3))]
    [1, 2, 3]
    """

    def __init__(self, workers: int | None = None, max_attempts: int = 3, restartable: bool = True,
                 initializer: Callable | None = None, initargs: tuple = (), native_threads: int | str | None = "auto"):
        self.workers = workers or default_workers()
        if native_threads == "auto":
            native_threads = default_native_threads(self.workers, default_workers())
        elif native_threads is not None and (not isinstance(native_threads, int) or isinstance(native_threads, bool)
                                             or native_threads < 1):
            raise InputError(f"ProcessExecutor: native_threads={native_threads!r} must be an int >= 1, 'auto' or None")
        self.native_threads = native_threads
        self.max_attempts = max_attempts
        self.restartable = restartable
        self.restarts = 0
        self._initializer, self._initargs = initializer, initargs
        self._generation: _Generation | None = None
        self._closed = False
        self._task_ids = itertools.count()
        self._lock = threading.RLock()  # runs may be driven from several threads (async results)
        self._shared: dict[int, Any] = {}  # share_at_fork's objects, by token, until released
        self._share_ids = itertools.count()

    # -- pool lifecycle -------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def share_at_fork(self, obj: Any) -> ForkShared | None:
        """A stand-in for ``obj`` to put in calls instead of it, or ``None``
        when the workers would not inherit it (they are already running, or
        they are spawned, not forked). Workers forked from now on, including
        replacements for dead ones, find ``obj`` in their inherited memory:
        a call carrying the stand-in pickles a token, not ``obj``. The
        object is kept until :meth:`release_shared`.

        >>> with ProcessExecutor(workers=1) as ex:
        ...     part = ex.share_at_fork(list(range(5)))
        ...     results = [r for _, r in ex.run([Call(sum, (part,))])]
        ...     ex.release_shared([part])
        >>> results == [10] or part is None  # None: a platform without fork
        True
        """
        with self._lock:
            if self._generation is not None or not _FORKS:  # a running pool forked before this object was here
                return None
            token = next(self._share_ids)
            self._shared[token] = obj
            return ForkShared(token)

    def release_shared(self, stand_ins: Iterable[ForkShared]) -> None:
        """Drop the driver's hold on shared objects (workers forked later will not have them)."""
        with self._lock:
            for stand_in in stand_ins:
                self._shared.pop(stand_in.token, None)

    def start(self) -> None:
        """Start the workers now (otherwise they start with the first call).

        Forking before the caller builds its data keeps the workers small:
        a worker forked later shares, and soon copies, the driver's pages.
        """
        self._current().executor.submit(int).result()

    def _current(self) -> _Generation:
        with self._lock:
            if self._generation is None:
                if self._closed:
                    if not self.restartable:
                        raise PoolClosedError(
                            "the pool was closed, so its workers are gone: results that were not read "
                            "before it closed cannot be computed. Read lazy results (imap, imap_unordered) "
                            "inside the pool's `with` block, or turn them into a list there."
                        )
                    self._closed = False
                self._generation = _Generation(self.workers, self._initializer, self._initargs,
                                               self.native_threads, self._shared)
            return self._generation

    def _retire(self, generation: _Generation) -> _Verdict:
        with self._lock:
            verdict = generation.judge()
            if self._generation is generation:
                self._generation = None
                self.restarts += 1
            return verdict

    def close(self) -> None:
        """Let running calls finish, cancel queued ones, stop the workers."""
        self._stop(now=False)

    def terminate(self) -> None:
        """Stop now: used on Ctrl-C and errors so no worker outlives the job."""
        self._stop(now=True)

    def _stop(self, now: bool) -> None:
        with self._lock:
            generation, self._generation = self._generation, None
            self._closed = True
        if generation is not None:
            generation.stop(now)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        generation = self._generation
        if generation is None:
            return []
        return [pid for pid, p in generation.processes().items() if p.is_alive()]

    def __enter__(self) -> "ProcessExecutor":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.terminate()

    # -- running --------------------------------------------------------
    def run(self, calls: Iterable[Call], ordered: bool = True, window: int | None = None,
            terminate_on_error: bool = True, settle_on_stop: bool = False) -> Iterator[tuple[Call, Any]]:
        """Yield ``(call, result)`` pairs, in submission order when ``ordered``.

        Exceptions raised by a call propagate (with their remote traceback
        as ``__cause__``); the run's queued calls are cancelled, and with
        ``terminate_on_error`` the pool is stopped too (a runner's job has
        failed: nothing of it may go on running). A call whose worker dies
        is retried on a fresh pool up to ``max_attempts`` times in all.
        With ``settle_on_stop``, a consumer that stops early waits for the
        calls already running (queued ones are cancelled), up to
        ``SETTLE_SECONDS``, then stops the pool (the next run starts a new
        one): a runner's job then ends with none of its tasks still writing
        to its folders, and closing it never waits on a long task.
        """
        window = window or 2 * self.workers
        source = iter(calls)
        retry: deque[Call] = deque()
        in_flight: dict = {}  # future -> (call, generation)
        finished: dict[int, tuple[Call, Any]] = {}
        submitted = next_out = 0
        exhausted = False
        try:
            while True:
                while (retry or not exhausted) and len(in_flight) + len(finished) < window:
                    if retry:
                        call = retry.popleft()
                    else:
                        try:
                            call = next(source)
                        except StopIteration:
                            exhausted = True
                            break
                        call.seq, submitted = submitted, submitted + 1
                    self._submit(call, in_flight, retry)
                if not in_flight:
                    if retry:
                        continue
                    break
                done: set = set()
                lost = []
                while not done and not lost:
                    # a timeout, so Ctrl-C reaches this thread even when the signal
                    # landed while it was blocked in a lock wait
                    done, _ = wait(in_flight, timeout=0.25, return_when=FIRST_COMPLETED)
                    if not done:
                        lost = self._orphaned(in_flight)
                for future in done:
                    call, generation = in_flight.pop(future)
                    try:
                        result = future.result()
                    except (BrokenProcessPool, CancelledError):
                        lost.append((call, generation))
                        continue
                    if ordered:
                        finished[call.seq] = (call, result)
                    else:
                        yield call, result
                if lost:
                    retry.extendleft(sorted(self._judge_lost(lost), key=lambda c: c.seq, reverse=True))
                while ordered and next_out in finished:
                    yield finished.pop(next_out)
                    next_out += 1
            if finished or (ordered and next_out != submitted):
                raise MapfoldError(
                    f"internal error: a run ended with {submitted - next_out} of its {submitted} results "
                    "not handed out; please report it"
                )
        except GeneratorExit:
            # The consumer stopped early (take, first): drop the queued calls; the pool stays
            # unless settle_on_stop finds a running call past its grace.
            self._cancel(in_flight)
            if settle_on_stop:
                try:
                    self._settle(in_flight)
                except BaseException:  # Ctrl-C while waiting: nothing of the pool may outlive it
                    self.terminate()
                    raise
            raise
        except Exception:
            self._cancel(in_flight)
            if terminate_on_error:
                self.terminate()
            raise
        except BaseException:  # Ctrl-C: nothing of the pool may outlive it
            self._cancel(in_flight)
            self.terminate()
            raise

    def _submit(self, call: Call, in_flight: dict, retry: deque) -> None:
        call.task_id = next(self._task_ids)
        generation = self._current()
        try:
            future = generation.executor.submit(_run_call, call.task_id, call.fn, call.args,
                                                call.launches + 1 if call.pass_attempt else None)
            call.launches += 1
        except BrokenProcessPool:
            self._retire(generation)  # broke before this call reached it: no attempt spent
            retry.appendleft(call)
            return
        except RuntimeError:  # "cannot schedule new futures after shutdown"
            if not generation.stopped:
                raise
            retry.appendleft(call)  # stopped by another run's error: the next generation takes it
            return
        in_flight[future] = (call, generation)

    @staticmethod
    def _orphaned(in_flight: dict) -> list:
        """Calls of a generation killed on purpose that its manager thread
        never resolved (it may exit before it sees the deaths): lost."""
        now, lost = time.monotonic(), []
        for future, (call, generation) in list(in_flight.items()):
            if generation.killed_at is not None and now - generation.killed_at > ORPHAN_SECONDS:
                del in_flight[future]
                lost.append((call, generation))
        return lost

    def _settle(self, in_flight: dict) -> None:
        """Wait until the calls that could not be cancelled (they were running)
        have ended; past ``SETTLE_SECONDS``, stop the workers still running them."""
        pending = {future: (call, generation) for future, (call, generation) in in_flight.items()
                   if not future.cancelled() and not generation.stopped}  # (stopped: its workers are gone)
        deadline = time.monotonic() + SETTLE_SECONDS
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                self.terminate()  # (another run's calls on these workers go again, free: _judge_lost)
                return
            done, _ = wait(pending, timeout=min(0.25, left), return_when=FIRST_COMPLETED)
            for future in done:
                del pending[future]
            self._orphaned(pending)  # a killed generation's calls may never resolve

    @staticmethod
    def _cancel(in_flight: dict) -> None:
        for future in in_flight:
            future.cancel()

    def _judge_lost(self, lost: list[tuple[Call, _Generation]]) -> list[Call]:
        """Charge an attempt to the calls that were on a dead worker; the rest go again free."""
        again = []
        for call, generation in lost:
            if generation.stopped:  # shut down on purpose, not by this call
                if self._closed and not self.restartable:
                    self._current()  # raises PoolClosedError
                again.append(call)
                continue
            verdict = self._retire(generation)
            suspects = verdict.culprits or verdict.running
            if suspects and call.task_id not in suspects:
                again.append(call)
                continue
            call.attempts += 1
            call.exitcodes.append(verdict.exitcodes.get(call.task_id))
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
            again.append(call)
        return again
