"""Shared fixtures: the runners every behaviour test runs on.

``runner`` is parametrized over every runner in ``RUNNERS``; each test
compares what it gets with plain Python or with the serial runner (the
reference). Cluster engines join the list in ``ENGINE_RUNNERS``: in CI
(``CI=true``) a missing engine fails the run; locally it skips, saying what
to install.
"""
from __future__ import annotations

import os

import pytest

from mapfold.runners import make_runner

LOCAL_RUNNERS = ["serial", "processes"]
ENGINE_RUNNERS: list[str] = ["dask", "spark", "ray"]
RUNNERS = LOCAL_RUNNERS + ENGINE_RUNNERS

# Small engines, each started once per session: the machine has 2 cores.
RUNNER_OPTIONS = {
    "processes": {"workers": 2},
    "dask": {"workers": 2},  # LocalCluster, 2 worker processes of 1 thread
    "spark": {"master": "local[2]", "conf": {"spark.ui.enabled": "false"}},  # runs as local[2,3]: 3 attempts
    "ray": {"num_cpus": 2},
}
ENGINE_INSTALL = {
    "dask": "pip install 'mapfold[dask]'",
    "spark": "pip install 'mapfold[spark]' and Java 17 (apt-get install openjdk-17-jre-headless)",
    "ray": "pip install 'mapfold[ray]'",
}

_instances: dict = {}
_unavailable: dict[str, str] = {}


def runner_instance(name: str):
    if name in _unavailable:
        raise RuntimeError(_unavailable[name])
    if name not in _instances:
        try:
            instance = make_runner(name, **RUNNER_OPTIONS.get(name, {}))
            start = getattr(instance, "start", None)
            if start is not None:  # engines start here, once, not inside a timed test
                start()
        except Exception as exc:
            if name not in ENGINE_RUNNERS:
                raise
            _unavailable[name] = (f"the {name} engine is not available ({type(exc).__name__}: {exc}); "
                                  f"to run these tests: {ENGINE_INSTALL[name]}")
            raise RuntimeError(_unavailable[name]) from exc
        _instances[name] = instance
    return _instances[name]


def engine_or_skip(name: str):
    """The session's runner ``name``; a missing engine skips locally and fails in CI."""
    try:
        return runner_instance(name)
    except RuntimeError as exc:
        if name not in ENGINE_RUNNERS:
            raise
        if IN_CI:
            pytest.fail(f"{exc} (CI=true: a missing engine is a failure)", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(params=RUNNERS, scope="session")
def runner(request):
    """Each runner once per session (engines start once, pools are reused)."""
    return engine_or_skip(request.param)


@pytest.fixture(params=ENGINE_RUNNERS, scope="session")
def engine(request):
    """Each cluster runner (dask, spark, ray), the same instances as ``runner``."""
    return engine_or_skip(request.param)


@pytest.fixture(scope="session")
def dask_runner():
    return engine_or_skip("dask")


@pytest.fixture(scope="session")
def spark_runner():
    return engine_or_skip("spark")


@pytest.fixture(scope="session")
def ray_runner():
    return engine_or_skip("ray")


@pytest.fixture(scope="session")
def serial():
    return runner_instance("serial")


@pytest.fixture(scope="session")
def processes():
    return runner_instance("processes")


def pytest_sessionfinish(session, exitstatus):
    for instance in _instances.values():
        try:
            instance.close()
        except Exception:
            pass
    _instances.clear()


@pytest.fixture(autouse=True)
def _no_progress(monkeypatch):
    monkeypatch.setenv("MAPFOLD_PROGRESS", "0")


@pytest.fixture
def text_files(tmp_path):
    """Write ``{name: text}`` files under a temporary folder; returns a factory."""

    def make(files: dict[str, str | bytes]) -> str:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                content = content.encode("utf-8")
            if name.endswith(".gz"):
                import gzip

                content = gzip.compress(content)
            elif name.endswith(".bz2"):
                import bz2

                content = bz2.compress(content)
            path.write_bytes(content)
        return str(tmp_path)

    return make


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
