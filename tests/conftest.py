"""Shared fixtures: the runners every behaviour test runs on.

``runner`` is parametrized over every runner in ``RUNNERS``; each test
compares what it gets with plain Python or with the serial runner (the
reference). Cluster engines join the list in ``ENGINE_RUNNERS``: in CI
(``CI=true``) a missing engine fails the run; locally it skips, saying what
to install.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from mapfold.runners import RUNNERS as REGISTRY
from mapfold.runners import make_runner

# The runner registry decides what the suite runs on: a runner added there is tested here.
# Those whose engine is an optional extra (an install hint in the registry) are the engines.
RUNNERS = list(REGISTRY)
ENGINE_RUNNERS = [name for name, (_, _, install) in REGISTRY.items() if install]
LOCAL_RUNNERS = [name for name in RUNNERS if name not in ENGINE_RUNNERS]

# Small engines, each started once per session: the machine has 2 cores.
RUNNER_OPTIONS = {
    "processes": {"workers": 2},
    "dask": {"workers": 2},  # LocalCluster, 2 worker processes of 1 thread
    "spark": {"master": "local[2]", "conf": {"spark.ui.enabled": "false"}},  # runs as local[2,3]: 3 attempts
    "ray": {"num_cpus": 2},
}
ENGINE_INSTALL = {name: REGISTRY[name][2] for name in ENGINE_RUNNERS}

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


# -- an S3-compatible server (io tests, and the docs' s3:// blocks) ------------------
# moto's standalone server runs as a subprocess on a free port for the whole
# session. Credentials are fake but distinctive, so tests can grep every
# message and log line for them.
ACCESS_KEY = "AKIAMAPFOLDTESTKEY42"
SECRET_KEY = "mapfold-TEST-secret-value-9f3c1e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """``http://127.0.0.1:PORT`` of a moto server started for this session."""
    if IN_CI:
        import moto.server  # noqa: F401  in CI a missing server is a failure, never a skip
        import s3fs  # noqa: F401
    else:
        pytest.importorskip("moto.server", reason="the S3 tests need moto[server] (in the dev extra)")
        pytest.importorskip("s3fs", reason="the S3 tests need s3fs (in the dev extra)")
    port = _free_port()
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto server did not start on port {port}")
            time.sleep(0.1)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # never ask an instance metadata service
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def s3_options(s3_endpoint):
    return {"key": ACCESS_KEY, "secret": SECRET_KEY,
            "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}


# -- a real headless Chromium (tests/web) --------------------------------------------
# Debian's chromium driven by Playwright (dev extra); Playwright's own browsers are never
# downloaded. In CI (.ci/run installs chromium) a missing browser is a failure, never a skip.
CHROMIUM = os.environ.get("MAPFOLD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A Playwright browser context over Debian's chromium, with a fresh profile folder.

    Per module, not per session: worker processes forked while Playwright's driver runs inherit its
    pipe, and its exit at the session's end then waits for them (seen: tests/web, then engine tests)."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        problem = f"the browser tests need playwright (in the dev extra): {exc}"
    if problem is None and not os.access(CHROMIUM, os.X_OK):
        problem = f"no chromium at {CHROMIUM}: apt-get install chromium chromium-driver (.ci/run does)"
    if problem is not None:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true: a missing browser is a failure)", pytrace=False)
        pytest.skip(problem)
    profile = tmp_path_factory.mktemp("chromium-profile")  # playwright passes it as --user-data-dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()
