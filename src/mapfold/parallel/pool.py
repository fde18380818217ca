"""``mf.Pool``: ``multiprocessing.Pool``'s interface and answers, faster.

A drop-in for ``multiprocessing.Pool`` (``processes=``, ``map``/``starmap``
returning lists, lazy ``imap``/``imap_unordered``, ``apply``, the ``*_async``
forms, ``close``/``join``/``terminate``, the context manager), plus what
mapfold adds: lambdas, closures and bound methods (cloudpickle), chunk sizes
measured instead of guessed (``chunksize=None`` or ``"auto"``), a parallel
:meth:`Pool.fold`, dead workers replaced and their chunk retried, and
errors that keep their type. ``docs/pool.md`` puts the two side by side.

**Functions with state get multiprocessing's answers.** ``multiprocessing``
pickles the function with every chunk, so each chunk starts from the
function as it was given: a ``partial`` holding a dict, a closure over a
list, or a callable object counting its calls never carries a mutation over
to the next chunk. Unpickling once per worker is faster and only equivalent
when the function holds nothing mutable, so :func:`~mapfold.core.serialize.
is_stateless` decides: stateless code is unpickled once per worker; code
with state is unpickled afresh for every chunk *of the size multiprocessing
would have used* (the ``chunksize`` given, else multiprocessing's default:
1 for ``imap``, ``len / (4 * processes)`` rounded up for ``map``), while the
chunks that travel may still be larger.
"""
from __future__ import annotations

import copy
import multiprocessing
import threading
import time
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, Iterable, Iterator

from ..core.errors import PoolClosedError
from ..core.serialize import dumps_code, is_stateless, loads_code, loads_code_cached
from .chunking import ChunkSizer, chunks
from .executor import Call, ProcessExecutor

__all__ = ["Pool", "AsyncResult"]


def _load(token: str, payload: bytes, fresh: bool):
    return loads_code(payload) if fresh else loads_code_cached(token, payload)


def _map_chunk(token: str, payload: bytes, items: list, star: bool, fresh_every: int | None):
    start = time.perf_counter()
    if fresh_every is None:
        fn = loads_code_cached(token, payload)
        out = [fn(*x) for x in items] if star else [fn(x) for x in items]
    else:  # a fresh copy of the function for each of multiprocessing's chunks
        out = []
        for i in range(0, len(items), fresh_every):
            fn = loads_code(payload)
            part = items[i:i + fresh_every]
            out.extend([fn(*x) for x in part] if star else [fn(x) for x in part])
    return out, time.perf_counter() - start


def _fold_chunk(token: str, payload: bytes, items: list, initial, fresh_every: int | None):
    start = time.perf_counter()
    step = fresh_every or len(items) or 1
    acc = copy.deepcopy(initial)
    for i in range(0, len(items), step):
        accumulate = _load(token, payload, fresh_every is not None)
        for item in items[i:i + step]:
            acc = accumulate(acc, item)
    return acc, time.perf_counter() - start


def _apply_call(token: str, payload: bytes, args: tuple, kwds: dict, fresh: bool):
    return _load(token, payload, fresh)(*args, **kwds)


def _length(iterable) -> int | None:
    try:
        return len(iterable)
    except TypeError:
        return None


def _map_default_chunksize(length: int, workers: int) -> int:
    """``multiprocessing.Pool.map``'s default: ``len / (4 * processes)``, rounded up."""
    size, extra = divmod(length, workers * 4)
    return max(1, size + bool(extra))


class AsyncResult:
    """The result of an ``*_async`` call, as ``multiprocessing``'s ``AsyncResult``.

    >>> with Pool(2) as pool:
    ...     result = pool.apply_async(divmod, (7, 2))
    ...     result.get(timeout=30), result.ready(), result.successful()
    ((3, 1), True, True)
    """

    def __init__(self, future):
        self._future = future

    def get(self, timeout: float | None = None) -> Any:
        """The result, or the call's exception raised here; ``multiprocessing.TimeoutError``
        when it is not ready within ``timeout`` seconds."""
        try:
            return self._future.result(timeout)
        except FutureTimeout:
            raise multiprocessing.TimeoutError(f"the result was not ready within {timeout} s") from None

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the result is ready, or ``timeout`` seconds have passed."""
        try:
            self._future.exception(timeout)
        except FutureTimeout:
            pass

    def ready(self) -> bool:
        """Has the call finished (either way)?"""
        return self._future.done()

    def successful(self) -> bool:
        """Did the call finish without raising? ``ValueError`` while it is not ready."""
        if not self._future.done():
            raise ValueError(f"{self!r} not ready")
        return self._future.exception() is None


class Pool:
    """A pool of local worker processes, shaped like ``multiprocessing.Pool``.

    ``processes`` (or ``workers``): how many (default: one per core).
    ``initializer(*initargs)`` runs once in each worker as it starts.
    The workers start with the pool and are gone when it is closed and
    joined, terminated, its ``with`` block ends, or the program exits.

    >>> with Pool(processes=2) as pool:
    ...     pool.map(lambda x: x * x, range(5))
    ...     list(pool.imap(str.upper, "ab"))
    ...     pool.fold(lambda acc, x: acc + x, range(101), 0)
    [0, 1, 4, 9, 16]
    ['A', 'B']
    5050
    """

    def __init__(self, processes: int | None = None, initializer: Callable | None = None,
                 initargs: tuple = (), maxtasksperchild: int | None = None, context: Any = None, *,
                 workers: int | None = None, max_attempts: int = 3):
        if processes is not None and workers is not None and processes != workers:
            raise ValueError(f"give processes= or workers=, not both ({processes} and {workers})")
        count = processes if processes is not None else workers
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError(f"processes must be a positive int, not {count!r}")
        if maxtasksperchild is not None:
            raise NotImplementedError(
                "maxtasksperchild is not supported: mapfold's workers are forked and replaced only "
                "when they die; a worker that leaks memory is best fixed in the function it runs"
            )
        if context is not None:
            raise NotImplementedError("context= is not supported: workers are forked on Linux, spawned elsewhere")
        self._executor = ProcessExecutor(workers=count, max_attempts=max_attempts, restartable=False,
                                         initializer=initializer, initargs=initargs)
        self.workers = self._executor.workers
        self._accepting = True
        self._drivers: ThreadPoolExecutor | None = None  # threads that drive *_async calls
        self._drivers_lock = threading.Lock()
        self._executor.start()
        # a pool dropped without close() still stops its workers, as multiprocessing's does
        self._finalizer = weakref.finalize(self, _stop_quietly, self._executor)

    # -- lifecycle ------------------------------------------------------------
    def __enter__(self) -> "Pool":
        self._check_running()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        # multiprocessing terminates here, losing async work not yet collected;
        # we finish it when the block ends normally, and stop at once on an error
        if exc_type is None:
            self.close()
            self.join()
        else:
            self.terminate()

    def close(self) -> None:
        """Accept no more work; what was started finishes. Then :meth:`join`."""
        self._accepting = False

    def join(self) -> None:
        """Wait for the ``*_async`` work to finish, then stop the workers.

        Lazy results (``imap``) not read by then raise
        :class:`~mapfold.core.errors.PoolClosedError` when read later.
        """
        if self._accepting:
            raise ValueError("Pool is still running: call close() before join()")
        drivers, self._drivers = self._drivers, None
        if drivers is not None:
            drivers.shutdown(wait=True)
        self._executor.close()

    def terminate(self) -> None:
        """Stop the workers now; unfinished results raise ``PoolClosedError``."""
        self._accepting = False
        self._executor.terminate()
        drivers, self._drivers = self._drivers, None
        if drivers is not None:
            drivers.shutdown(wait=True, cancel_futures=True)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers."""
        return self._executor.worker_pids()

    def __reduce__(self):
        raise TypeError("a Pool cannot be sent to its own workers (or pickled): pass the data, not the pool")

    def __repr__(self) -> str:
        state = "running" if self._accepting else ("closed" if not self._executor.closed else "stopped")
        return f"<mapfold.Pool {state} processes={self.workers}>"

    def _check_running(self) -> None:
        if not self._accepting or self._executor.closed:
            raise PoolClosedError("Pool not running: it was closed or terminated, so it takes no more work")

    # -- the calls ------------------------------------------------------------
    def _prepare(self, fn: Callable) -> tuple[str, bytes, bool]:
        self._check_running()
        if not callable(fn):
            raise TypeError(f"the function to run must be callable, not {type(fn).__name__} {fn!r:.60}")
        return uuid.uuid4().hex, dumps_code(fn), not is_stateless(fn)

    def _chunk_plan(self, iterable, chunksize, stateful: bool, lazy: bool):
        """(items, sizer, fresh_every): how items travel, and how often state is renewed."""
        if chunksize == "auto":
            chunksize = None
        fresh_every = None
        if chunksize is not None:
            fresh_every = chunksize if stateful else None
        elif stateful:
            if lazy:
                fresh_every = 1  # imap's default chunksize
            else:
                if _length(iterable) is None:
                    iterable = list(iterable)  # multiprocessing's map does the same to size its chunks
                fresh_every = _map_default_chunksize(len(iterable), self.workers)
        sizer = ChunkSizer("auto" if chunksize is None else chunksize, _length(iterable), self.workers,
                           multiple=fresh_every or 1)
        return iterable, sizer, fresh_every

    def _run(self, fn, iterable, chunksize, ordered: bool, star: bool, lazy: bool) -> Iterator:
        token, payload, stateful = self._prepare(fn)
        iterable, sizer, fresh_every = self._chunk_plan(iterable, chunksize, stateful, lazy)
        return self._results(token, payload, iterable, sizer, fresh_every, ordered, star)

    def _results(self, token, payload, iterable, sizer, fresh_every, ordered, star) -> Iterator:
        calls = (Call(_map_chunk, (token, payload, chunk, star, fresh_every)) for chunk in chunks(iterable, sizer))
        for call, (results, seconds) in self._executor.run(calls, ordered=ordered, terminate_on_error=False):
            sizer.record(len(results), seconds)
            yield from results

    def map(self, func: Callable, iterable: Iterable, chunksize: int | str | None = None) -> list:
        """``[func(x) for x in iterable]``, computed in parallel.

        ``chunksize``: items per task; ``None`` (or ``"auto"``) measures and
        aims at about 20 ms per task.
        """
        return list(self._run(func, iterable, chunksize, ordered=True, star=False, lazy=False))

    def imap(self, func: Callable, iterable: Iterable, chunksize: int | str | None = None) -> Iterator:
        """Results lazily, in input order. Only a bounded number of chunks is
        in flight, so an endless iterable streams:
        ``next(pool.imap(f, itertools.count()))`` returns.

        >>> import itertools
        >>> with Pool(2) as pool:
        ...     list(itertools.islice(pool.imap(lambda x: x * x, itertools.count()), 4))
        [0, 1, 4, 9]
        """
        return self._run(func, iterable, chunksize, ordered=True, star=False, lazy=True)

    def imap_unordered(self, func: Callable, iterable: Iterable, chunksize: int | str | None = None) -> Iterator:
        """Like :meth:`imap`, yielding each chunk's results as soon as it is done.

        >>> with Pool(2) as pool:
        ...     sorted(pool.imap_unordered(abs, [-3, 1, -2]))
        [1, 2, 3]
        """
        return self._run(func, iterable, chunksize, ordered=False, star=False, lazy=True)

    def starmap(self, func: Callable, iterable: Iterable[tuple], chunksize: int | str | None = None) -> list:
        """``[func(*args) for args in iterable]``, computed in parallel.

        >>> with Pool(workers=2) as pool:
        ...     pool.starmap(pow, [(2, 3), (3, 2)])
        [8, 9]
        """
        return list(self._run(func, iterable, chunksize, ordered=True, star=True, lazy=False))

    def apply(self, func: Callable, args: tuple = (), kwds: dict | None = None) -> Any:
        """``func(*args, **kwds)`` in a worker; waits for the result.

        >>> with Pool(2) as pool:
        ...     pool.apply(int, ("ff",), {"base": 16})
        255
        """
        return self._run_apply(self._apply_of(func, args, kwds))

    def _apply_of(self, func: Callable, args: tuple, kwds: dict | None) -> Call:
        token, payload, stateful = self._prepare(func)
        return Call(_apply_call, (token, payload, tuple(args), dict(kwds or {}), stateful))

    def _run_apply(self, call: Call) -> Any:
        for _, result in self._executor.run([call], terminate_on_error=False):
            return result

    def _async(self, work: Callable[[], Any], callback, error_callback) -> AsyncResult:
        def drive():
            try:
                value = work()
            except BaseException as exc:
                if error_callback is not None:
                    error_callback(exc)
                raise
            if callback is not None:
                callback(value)
            return value

        with self._drivers_lock:
            self._check_running()
            if self._drivers is None:
                # enough drivers to keep every worker busy with one-call apply_async jobs
                self._drivers = ThreadPoolExecutor(max_workers=4 * self.workers, thread_name_prefix="mapfold-pool")
            return AsyncResult(self._drivers.submit(drive))

    def apply_async(self, func: Callable, args: tuple = (), kwds: dict | None = None,
                    callback: Callable | None = None, error_callback: Callable | None = None) -> AsyncResult:
        """:meth:`apply` without waiting: an :class:`AsyncResult`."""
        call = self._apply_of(func, args, kwds)  # pickled now: an unpicklable function or a closed pool fails here
        return self._async(lambda: self._run_apply(call), callback, error_callback)

    def map_async(self, func: Callable, iterable: Iterable, chunksize: int | str | None = None,
                  callback: Callable | None = None, error_callback: Callable | None = None) -> AsyncResult:
        """:meth:`map` without waiting: an :class:`AsyncResult` whose ``get()`` is the list.

        >>> with Pool(2) as pool:
        ...     pool.map_async(len, ["a", "bb"]).get(timeout=30)
        [1, 2]
        """
        results = self._run(func, iterable, chunksize, ordered=True, star=False, lazy=False)
        return self._async(lambda: list(results), callback, error_callback)

    def starmap_async(self, func: Callable, iterable: Iterable[tuple], chunksize: int | str | None = None,
                      callback: Callable | None = None, error_callback: Callable | None = None) -> AsyncResult:
        """:meth:`starmap` without waiting: an :class:`AsyncResult`."""
        results = self._run(func, iterable, chunksize, ordered=True, star=True, lazy=False)
        return self._async(lambda: list(results), callback, error_callback)

    def fold(
        self,
        accumulate: Callable[[Any, Any], Any],
        iterable: Iterable,
        initial: Any,
        combine: Callable[[Any, Any], Any] | None = None,
        chunksize: int | str | None = None,
    ) -> Any:
        """Parallel reduce: fold each chunk from a fresh copy of ``initial``,
        then merge the chunk results in order with ``combine`` (default
        ``accumulate``).

        ``initial`` must be a neutral element for ``combine`` (0 for sums,
        an empty set for unions), as in PySpark's ``fold``.

        >>> with Pool(workers=2) as pool:
        ...     pool.fold(lambda s, w: s | {w}, "abcab", frozenset(), combine=frozenset.union) == set("abc")
        True
        """
        combine = combine or accumulate
        token, payload, stateful = self._prepare(accumulate)
        iterable, sizer, fresh_every = self._chunk_plan(iterable, chunksize, stateful, lazy=False)
        calls = (Call(_fold_chunk, (token, payload, chunk, initial, fresh_every)) for chunk in chunks(iterable, sizer))
        result, first = copy.deepcopy(initial), True
        for call, (partial, seconds) in self._executor.run(calls, ordered=True, terminate_on_error=False):
            sizer.record(len(call.args[2]), seconds)
            result = partial if first else combine(result, partial)
            first = False
        return result


def _stop_quietly(executor: ProcessExecutor) -> None:
    try:
        executor.terminate()
    except Exception:  # at interpreter exit, parts of the stdlib may be gone already
        pass
