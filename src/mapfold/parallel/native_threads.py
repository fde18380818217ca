"""How many threads the native libraries of a pool worker (BLAS, OpenMP) may use.

Import rule: runs inside workers (the pool's initializer); imports only the
standard library, and threadpoolctl only when numpy is already loaded.

Why: numpy's OpenBLAS starts one thread per core in every process. A pool
of one worker per core then runs ``workers x cores`` BLAS threads on
``cores`` cores; OpenBLAS's threads spin while they wait, so each matrix
product of one worker slows the other. Measured here (2 cores, a 33k x 20
logistic-loss gradient, the other core busy): 2.3 ms with one BLAS thread,
12 ms with two. A worker of a pool of ``workers`` processes therefore gets
``cores // workers`` native threads (at least one), as Dask's nanny
(``OMP_NUM_THREADS=1``), Spark (``spark.task.cpus``) and joblib's loky do
for theirs. Libraries loaded before the fork (the driver had imported
numpy) are told through threadpoolctl, if it is installed (scikit-learn
depends on it); libraries loaded later read the usual environment variables,
which the worker sets. A user who set one of those variables decided
already: the worker then leaves them, and the libraries, alone.
"""
from __future__ import annotations

import os
import sys

__all__ = ["THREAD_VARIABLES", "default_native_threads", "limit_native_threads"]

# the environment variables the common native thread pools read when they load
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def default_native_threads(workers: int, cores: int) -> int | None:
    """Native threads per worker of a pool of ``workers`` on ``cores`` cores: ``cores // workers``
    (at least 1), or None (leave the libraries alone) when the user set one of
    :data:`THREAD_VARIABLES` in the environment.

    >>> default_native_threads(2, 2) if not any(v in os.environ for v in THREAD_VARIABLES) else 1
    1
    """
    if any(os.environ.get(name) for name in THREAD_VARIABLES):
        return None
    return max(1, cores // max(1, workers))


def limit_native_threads(threads: int | None) -> None:
    """In a worker: let native libraries use at most ``threads`` threads (None: change nothing).

    Sets :data:`THREAD_VARIABLES` for libraries loaded from now on and, when numpy
    is loaded and threadpoolctl installed, limits the loaded ones.

    >>> limit_native_threads(None)
    """
    if threads is None:
        return
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "numpy" not in sys.modules:
        return  # nothing loaded yet: the variables are enough
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads)
