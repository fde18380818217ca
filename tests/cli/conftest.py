"""Real standalone clusters for the command line's tests: separate processes bound to 127.0.0.1.

Each fixture starts the engine's own daemons as a user would (``dask
scheduler`` and two ``dask worker`` processes; Spark's standalone
``Master`` and ``Worker`` through ``spark-class``), each in a process group
of its own, waits until they answer, yields the address, and at the end
stops the groups and checks that every process they started (daemons,
nannies, executors) is gone.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ..conftest import IN_CI
from .helpers import environment

BIN = Path(sys.executable).parent
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, processes: list, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[:3]} exited {process.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Daemons:
    """Processes started in their own groups; ``stop()`` ends them and everything they started."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=self.log_dir)
        log.close()
        self.processes.append(process)
        return process

    def tree(self) -> list[psutil.Process]:
        found = []
        for process in self.processes:
            try:
                parent = psutil.Process(process.pid)
                found += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        return found

    def exposed(self) -> list[str]:
        """Listening sockets of the processes (and their children) bound elsewhere than loopback."""
        found = []
        for process in self.tree():
            try:
                sockets = process.net_connections(kind="inet")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            found += [f"{process.name()} {c.laddr.ip}:{c.laddr.port}" for c in sockets
                      if c.status == psutil.CONN_LISTEN and c.laddr.ip not in LOOPBACK]
        return found

    def stop(self) -> list[psutil.Process]:
        """Stop every group (SIGTERM, then SIGKILL); the processes still alive after (none, we hope)."""
        tree = self.tree()
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(tree, timeout=20)
        for process in alive:
            process.kill()
        _, alive = psutil.wait_procs(alive, timeout=10)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        return [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in self.log_dir.glob("*.log"))


@pytest.fixture
def dask_cluster(tmp_path_factory):
    """``tcp://127.0.0.1:PORT``: a ``dask scheduler`` and two ``dask worker`` processes, no dashboards."""
    pytest.importorskip("distributed")
    daemons = Daemons(tmp_path_factory.mktemp("dask-cluster"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = environment()
    dask = str(BIN / "dask")
    try:
        scheduler = daemons.start("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                                "--no-dashboard"], env)
        wait_for_port(port, [scheduler])
        for i in range(2):
            daemons.start(f"worker-{i}", [dask, "worker", address, "--host", "127.0.0.1", "--nworkers", "1",
                                          "--nthreads", "1", "--no-dashboard", "--memory-limit", "0"], env)
        _wait_for_dask_workers(address, 2)
        daemons.address = address
        yield daemons
    finally:
        alive = daemons.stop()
        assert not alive, f"left running: {alive}\n{daemons.logs()}"


def _wait_for_dask_workers(address: str, count: int, timeout: float = 120) -> None:
    import distributed

    with distributed.Client(address, timeout=timeout, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=timeout)


@pytest.fixture
def spark_cluster(tmp_path_factory):
    """``spark://127.0.0.1:PORT``: Spark's standalone Master and one Worker (``spark-class``), no web UIs."""
    pytest.importorskip("pyspark")
    if not (BIN / "spark-class").exists():
        pytest.skip("spark-class (pyspark) is needed")
    daemons = Daemons(tmp_path_factory.mktemp("spark-cluster"))
    port, worker_port = free_port(), free_port()
    env = environment(SPARK_LOCAL_IP="127.0.0.1", SPARK_MASTER_HOST="127.0.0.1", PYSPARK_PYTHON=sys.executable,
                      SPARK_WORKER_DIR=str(daemons.log_dir / "work"),
                      SPARK_MASTER_OPTS="-Dspark.ui.enabled=false", SPARK_WORKER_OPTS="-Dspark.ui.enabled=false")
    env.pop("SPARK_HOME", None)
    spark_class = str(BIN / "spark-class")
    address = f"spark://127.0.0.1:{port}"
    try:
        master = daemons.start("master", [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                          "--port", str(port), "--webui-port", str(free_port())], env)
        wait_for_port(port, [master])
        worker = daemons.start("worker", [spark_class, "org.apache.spark.deploy.worker.Worker", address,
                                          "--host", "127.0.0.1", "--port", str(worker_port), "--webui-port",
                                          str(free_port()), "--cores", "2", "--memory", "1g"], env)
        wait_for_port(worker_port, [master, worker])
        daemons.address = address
        yield daemons
    finally:
        alive = daemons.stop()
        assert not alive, f"left running: {alive}\n{daemons.logs()}"


@pytest.fixture
def ray_cluster(tmp_path_factory):
    """A Ray head (``ray start --head --block``) on 127.0.0.1 with its own temp dir; ``address`` is the
    GCS, ``job_address`` the dashboard's job server (``ray job submit``), bound to 127.0.0.1 too. The
    dashboard needs ``ray[default]`` (the dev extra): missing, it fails in CI and skips elsewhere."""
    pytest.importorskip("ray")
    import importlib.util

    if importlib.util.find_spec("aiohttp_cors") is None:
        message = "Ray's job server needs ray[default] (pip install 'ray[default]', in the dev extra)"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing engine is a failure)", pytrace=False)
        pytest.skip(message)
    daemons = Daemons(tmp_path_factory.mktemp("ray-cluster"))
    port, dashboard = free_port(), free_port()
    # Ray turns 127.0.0.1 in an address into the machine's IP unless told it is a one-machine cluster:
    # with this (Ray's own switch, the default on macOS and Windows) head and drivers stay on loopback
    # and token authentication with this cluster's own token (not ~/.ray/auth_token, which other Ray
    # clusters of this user share), given to the head and to every driver by the environment
    import secrets

    env = environment(RAY_USAGE_STATS_ENABLED="0", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_AUTH_MODE="token",
                      RAY_AUTH_TOKEN=secrets.token_hex(32))
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    temp = Path("/tmp") / f"ray-mapfold-{os.getpid()}-{port}"  # short: Ray's socket paths have a length limit
    try:
        head = daemons.start("head", [str(BIN / "ray"), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                                      "--port", str(port), "--num-cpus", "2",
                                      "--include-dashboard", "true", "--ray-client-server-port", str(free_port()),
                                      "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard),
                                      "--temp-dir", str(temp), "--disable-usage-stats"], env)
        wait_for_port(port, [head], timeout=180)
        wait_for_port(dashboard, [head], timeout=180)
        daemons.address = f"127.0.0.1:{port}"
        daemons.job_address = f"http://127.0.0.1:{dashboard}"
        daemons.env = env
        yield daemons
    finally:
        alive = daemons.stop()
        import shutil

        shutil.rmtree(temp, ignore_errors=True)
        assert not alive, f"left running: {alive}\n{daemons.logs()}"
