"""A joblib backend: scikit-learn's own ``n_jobs`` runs on a mapfold runner.

scikit-learn parallelizes through joblib (``GridSearchCV``,
``cross_val_score``, ``RandomForestClassifier(n_jobs=...)``): a
``joblib.Parallel`` call cuts its calls into *batches* and hands each batch
to the active backend. This backend makes each batch one mapfold job of
one task on a runner, so the batches run wherever the runner runs tasks
(local processes, Dask, Spark, Ray), with the runner's events and run
record:

* **A batch is a task.** ``submit`` puts the batch (joblib's callable of
  its calls) in the code of a one-partition ``map`` and collects it: the
  batch travels as stage code does (cloudpickle, once), the task returns
  the batch's list of results, and joblib puts the batches back in order.
* **As many at once as the runner has workers.** ``effective_n_jobs(-1)``
  is ``runner.parallelism()``; a driver-side pool of that many threads
  each waits on one job, and joblib's callback dispatches the next batch
  when one finishes. Batch sizes are joblib's automatic ones (a batch is
  grown until it takes a fifth of a second, hiding the job's overhead).
* **One worker: in the calling thread.** joblib runs ``n_jobs=1`` itself,
  in a loop no backend sees, so on a runner of one worker (the serial
  runner) the backend reports joblib's own count for ``n_jobs`` (``-1``:
  the cores) and runs the batches one at a time, in order, in the calling
  thread, when joblib asks for each result: the serial runner's semantics
  (pdb works inside a fit), through the same tasks as everywhere else.
* **Nested calls run sequentially.** A ``Parallel`` call inside a task (a
  forest's ``n_jobs`` inside a grid search's) runs its calls one after the
  other: the worker is one slot of the runner already.
* **Errors name the batch.** A call's exception reaches joblib's caller
  with its own type, the worker's traceback as ``__cause__``, mapfold's
  note naming the stage and partition, and a note naming the batch, which
  of the ``Parallel`` call's calls it held and the runner.

Results are the default backend's: the calls, their arguments and their
order are joblib's; only where they run changes.
"""
from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterator

from joblib import cpu_count
from joblib.parallel import (AutoBatchingMixin, ParallelBackendBase, SequentialBackend, parallel_config,
                             register_parallel_backend)

from ..dataset.sources import from_sequence
from ..runners import Runner, get_runner
from .base import ParamError

__all__ = ["MapfoldBackend", "joblib_backend", "register_joblib_backend", "BACKEND_NAME"]

#: the name ``register_joblib_backend`` gives the backend in joblib
BACKEND_NAME = "mapfold"


def _add_note(exc: BaseException, note: str) -> None:
    if hasattr(exc, "add_note"):  # Python 3.11+ (PEP 678)
        exc.add_note(note)


class _RunBatch:
    """A task's code: call the joblib batch it carries (the task's one record is a placeholder)."""

    def __init__(self, batch: Callable[[], list]) -> None:
        self.batch = batch

    def __call__(self, _placeholder) -> list:
        return self.batch()


class _Deferred:
    """A batch on a one-worker runner: run in the calling thread when joblib asks for its result."""

    def __init__(self, backend: "MapfoldBackend", batch, label: str, callback) -> None:
        self.backend, self.batch, self.label, self.callback = backend, batch, label, callback

    def get(self, timeout: float | None = None) -> list:
        result = self.backend.run_batch(self.batch, self.label)
        if self.callback is not None:
            self.callback(result)  # joblib's bookkeeping: batch timing, the next dispatch
        return result


class MapfoldBackend(AutoBatchingMixin, ParallelBackendBase):
    """joblib's batches as mapfold tasks on ``runner`` (default: the active runner when the backend is made).

    Use it through :func:`joblib_backend`, or by name after
    :func:`register_joblib_backend`. ``n_jobs=-1`` (and ``None``, the
    default inside the block) is ``runner.parallelism()``; ``-2`` one less,
    and so on; a positive ``n_jobs`` is taken as given.

    >>> import joblib
    >>> backend = MapfoldBackend(runner="processes")
    >>> backend.effective_n_jobs(-1) == backend.runner.parallelism()
    True
    """

    default_n_jobs = -1
    uses_threads = False
    supports_sharedmem = False  # results come back as copies: joblib picks threads for require="sharedmem"

    def __init__(self, runner: str | Runner | None = None, nesting_level: int | None = None,
                 inner_max_num_threads: int | None = None, **backend_kwargs) -> None:
        if inner_max_num_threads is not None:
            raise ParamError("MapfoldBackend: inner_max_num_threads is not supported; a task runs in one worker "
                             "slot of the runner (set the workers' thread limits on the runner's workers)")
        super().__init__(nesting_level=nesting_level, **backend_kwargs)
        self.runner = get_runner(runner)[0]
        self.slots = self.runner.parallelism()
        # one worker: batches run in the calling thread when joblib asks (no callback thread)
        self.supports_retrieve_callback = self.slots > 1
        self.parallel = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        self._draining: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()
        self._batches = 0
        self._calls = 0

    # -- how many -------------------------------------------------------------
    def effective_n_jobs(self, n_jobs: int | None) -> int:
        """The batches run at once: ``-1`` is the runner's parallelism (``-2`` one less, ...)."""
        if n_jobs is None:
            n_jobs = self.default_n_jobs
        if n_jobs == 0:
            raise ParamError("n_jobs=0 in a joblib Parallel call has no meaning; use -1 for all the runner's workers")
        if n_jobs > 0:
            return int(n_jobs)
        # one worker: joblib's own count (it would run 1 itself, never handing us a batch)
        total = cpu_count() if self.slots == 1 else self.slots
        return max(total + 1 + int(n_jobs), 1)

    def configure(self, n_jobs: int | None = 1, parallel=None, prefer=None, require=None, **backend_kwargs) -> int:
        self.parallel = parallel
        count = self.effective_n_jobs(n_jobs)
        if self.supports_retrieve_callback and count > 1:
            self._ensure_pool(count)
        return count

    def _ensure_pool(self, count: int) -> None:
        """The driver-side threads, ``count`` of them, each waiting on one job (made anew for a new count)."""
        with self._lock:
            if self._pool is not None and self._pool_size != count:
                self._draining.append(self._pool)  # its batches finish; terminate() waits for them
                self._pool.shutdown(wait=False)
                self._pool = None
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="mapfold-joblib")
                self._pool_size = count

    def start_call(self) -> None:
        with self._lock:
            self._batches = self._calls = 0

    # -- running --------------------------------------------------------------
    def run_batch(self, batch, label: str) -> list:
        """Run one batch as a one-task mapfold job on the runner; its list of results."""
        try:
            [results] = from_sequence([None], partitions=1).map(_RunBatch(batch)).collect(runner=self.runner,
                                                                                          progress=False)
        except Exception as exc:
            _add_note(exc, f"in {label}, run as a mapfold task on the {self.runner.describe()} runner")
            raise
        return results

    def _label(self, size: int) -> str:
        with self._lock:
            index, first = self._batches, self._calls
            self._batches += 1
            self._calls += size
        calls = f"call {first}" if size == 1 else f"calls {first} to {first + size - 1}"
        return f"joblib batch {index} ({calls} of the Parallel call)"

    def submit(self, func, callback=None):
        label = self._label(len(func) if hasattr(func, "__len__") else 1)
        if not self.supports_retrieve_callback:
            return _Deferred(self, func, label, callback)
        if self._pool is None:  # aborted without ensure_ready, then handed a batch all the same
            self._ensure_pool(max(self._pool_size, 2))
        future: Future = self._pool.submit(self.run_batch, func, label)
        if callback is not None:
            future.add_done_callback(callback)
        return future

    def retrieve_result_callback(self, out: Future) -> Any:
        return out.result()

    def get_nested_backend(self):
        return SequentialBackend(nesting_level=(self.nesting_level or 0) + 1), None

    # -- stopping -------------------------------------------------------------
    def abort_everything(self, ensure_ready: bool = True) -> None:
        """Cancel the batches not started; the running ones finish (``terminate`` waits for them)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            self._draining.append(pool)
        if ensure_ready and self.parallel is not None:
            self.configure(n_jobs=self.parallel.n_jobs, parallel=self.parallel)

    def terminate(self) -> None:
        """Wait for the running batches, then stop the driver-side threads."""
        with self._lock:
            pools, self._pool, self._draining = [self._pool, *self._draining], None, []
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=True)


@contextlib.contextmanager
def joblib_backend(runner: str | Runner | None = None, **config) -> Iterator[MapfoldBackend]:
    """Run the joblib calls inside the block (scikit-learn's ``n_jobs``) as tasks of ``runner``.

    ``runner``: a name or a runner (default: the active runner); ``config``
    goes to ``joblib.parallel_config`` (``n_jobs=``, ``verbose=``). Nothing
    is registered in joblib: the block's backend is this one instance.
    Within the block ``n_jobs=None`` (scikit-learn's default) and ``-1``
    mean all the runner's workers.

    >>> import mapfold as mf, joblib
    >>> with mf.runner("processes", workers=2) as r, joblib_backend(r):
    ...     joblib.Parallel(n_jobs=-1)(joblib.delayed(abs)(-x) for x in range(4))
    [0, 1, 2, 3]
    """
    backend = MapfoldBackend(runner=runner)
    with parallel_config(backend=backend, **config):
        yield backend


def register_joblib_backend(name: str = BACKEND_NAME) -> None:
    """Make the backend known to joblib as ``name``, so
    ``joblib.parallel_config("mapfold", runner=...)`` (and
    ``parallel_backend``) select it; ``runner`` defaults to the active one.

    This changes joblib's registry of backends, for the whole process, as
    joblib's own function does; :func:`joblib_backend` needs no registration.

    >>> import joblib
    >>> register_joblib_backend()
    >>> with joblib.parallel_config("mapfold", runner="serial"):
    ...     joblib.Parallel(n_jobs=2)(joblib.delayed(abs)(-x) for x in range(3))
    [0, 1, 2]
    """
    register_parallel_backend(name, MapfoldBackend)
