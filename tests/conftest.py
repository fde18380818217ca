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
ENGINE_RUNNERS: list[str] = []  # "dask", "spark", "ray" join here with their fixtures
RUNNERS = LOCAL_RUNNERS + ENGINE_RUNNERS

_instances: dict = {}


def runner_instance(name: str):
    if name not in _instances:
        options = {"workers": 2} if name == "processes" else {}
        _instances[name] = make_runner(name, **options)
    return _instances[name]


@pytest.fixture(params=RUNNERS, scope="session")
def runner(request):
    """Each runner once per session (engines start once, pools are reused)."""
    return runner_instance(request.param)


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
