"""``mf.Pool``: parallel map, starmap and fold over local processes.

Functions may be lambdas, closures or bound methods: each is pickled with
cloudpickle once per call and unpickled once per worker (cached by token).
"""
from __future__ import annotations

import copy
import time
import uuid
from typing import Any, Callable, Iterable, Iterator

from ..core.serialize import dumps_code, loads_code_cached
from .chunking import ChunkSizer, chunks
from .executor import Call, ProcessExecutor

__all__ = ["Pool"]

def _map_chunk(token: str, payload: bytes, items: list, star: bool):
    fn = loads_code_cached(token, payload)
    start = time.perf_counter()
    out = [fn(*x) for x in items] if star else [fn(x) for x in items]
    return out, time.perf_counter() - start


def _fold_chunk(token: str, payload: bytes, items: list, initial):
    accumulate = loads_code_cached(token, payload)
    start = time.perf_counter()
    acc = copy.deepcopy(initial)
    for item in items:
        acc = accumulate(acc, item)
    return acc, time.perf_counter() - start


def _length(iterable) -> int | None:
    try:
        return len(iterable)
    except TypeError:
        return None


class Pool:
    """A pool of local worker processes for parallel map and fold.

    >>> with Pool(workers=2) as pool:
    ...     list(pool.map(lambda x: x * x, range(5)))
    ...     pool.fold(lambda acc, x: acc + x, range(101), 0)
    [0, 1, 4, 9, 16]
    5050
    """

    def __init__(self, workers: int | None = None, max_attempts: int = 3):
        self._executor = ProcessExecutor(workers=workers, max_attempts=max_attempts)
        self.workers = self._executor.workers

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self._executor.__exit__(*exc)

    def close(self) -> None:
        """Stop the workers once their current tasks are done."""
        self._executor.close()

    def _run(self, fn, iterable, chunksize, ordered: bool, star: bool) -> Iterator:
        token, payload = uuid.uuid4().hex, dumps_code(fn)
        sizer = ChunkSizer(chunksize, _length(iterable), self.workers)
        calls = (Call(_map_chunk, (token, payload, chunk, star)) for chunk in chunks(iterable, sizer))
        for call, (results, seconds) in self._executor.run(calls, ordered=ordered):
            sizer.record(len(results), seconds)
            yield from results

    def map(self, fn: Callable, iterable: Iterable, chunksize: int | str = "auto") -> Iterator:
        """Apply ``fn`` to every item, lazily, yielding results in input order.

        Only a bounded number of chunks is in flight, so an endless iterable
        streams: ``next(pool.map(f, itertools.count()))`` returns.
        """
        return self._run(fn, iterable, chunksize, ordered=True, star=False)

    imap = map

    def imap_unordered(self, fn: Callable, iterable: Iterable, chunksize: int | str = "auto") -> Iterator:
        """Like :meth:`map`, yielding each chunk's results as soon as it is done."""
        return self._run(fn, iterable, chunksize, ordered=False, star=False)

    def starmap(self, fn: Callable, iterable: Iterable[tuple], chunksize: int | str = "auto") -> Iterator:
        """``fn(*args)`` for every tuple ``args``, in order.

        >>> with Pool(workers=2) as pool:
        ...     list(pool.starmap(pow, [(2, 3), (3, 2)]))
        [8, 9]
        """
        return self._run(fn, iterable, chunksize, ordered=True, star=True)

    def fold(
        self,
        accumulate: Callable[[Any, Any], Any],
        iterable: Iterable,
        initial: Any,
        combine: Callable[[Any, Any], Any] | None = None,
        chunksize: int | str = "auto",
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
        token, payload = uuid.uuid4().hex, dumps_code(accumulate)
        sizer = ChunkSizer(chunksize, _length(iterable), self.workers)
        calls = (Call(_fold_chunk, (token, payload, chunk, initial)) for chunk in chunks(iterable, sizer))
        result, first = copy.deepcopy(initial), True
        for call, (partial, seconds) in self._executor.run(calls, ordered=True):
            sizer.record(len(call.args[2]), seconds)
            result = partial if first else combine(result, partial)
            first = False
        return result
