"""A pool worker's native thread pools (BLAS) get cores // workers threads, or what the user said."""
import os

import pytest

from mapfold.core.config import default_workers
from mapfold.core.errors import InputError
from mapfold.parallel.executor import Call, ProcessExecutor
from mapfold.parallel.native_threads import THREAD_VARIABLES, default_native_threads
from mapfold.runners import make_runner

np = pytest.importorskip("numpy")
threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads(_=None) -> tuple:
    """In a worker: the BLAS libraries' thread counts (numpy is loaded: the driver imported it) and the
    variables a library loaded later reads."""
    counts = sorted({info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"})
    return tuple(counts), os.environ.get("OPENBLAS_NUM_THREADS")


def _run(executor: ProcessExecutor) -> tuple:
    with executor:
        return [value for _, value in executor.run([Call(_blas_threads, (None,))])][0]


@pytest.fixture
def clean_environment(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_workers_get_cores_over_workers_threads(clean_environment):
    expected = max(1, default_workers() // 2)
    assert _run(ProcessExecutor(workers=2)) == ((expected,), str(expected))


def test_an_explicit_count_wins(clean_environment):
    assert _run(ProcessExecutor(workers=2, native_threads=1)) == ((1,), "1")


def test_the_users_environment_is_left_alone(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert default_native_threads(2, 2) is None
    before = _blas_threads()
    assert _run(ProcessExecutor(workers=2)) == before


def test_none_leaves_the_libraries_alone(clean_environment):
    assert _run(ProcessExecutor(workers=2, native_threads=None)) == _blas_threads()


def test_the_processes_runner_passes_it_on(clean_environment):
    runner = make_runner("processes", workers=2, native_threads=1)
    try:
        assert runner.executor.native_threads == 1
    finally:
        runner.close()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "two"])
def test_a_bad_count_names_itself(bad):
    with pytest.raises(InputError, match="native_threads"):
        ProcessExecutor(workers=2, native_threads=bad)
