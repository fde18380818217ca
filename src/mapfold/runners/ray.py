"""The ray runner: tasks on Ray, data through Ray's object store.

``RayRunner(address="ray://head:10001")`` (or ``"auto"``) joins a running
cluster; without an address it starts a local Ray (``ray.init``) with
``num_cpus`` CPUs and shuts it down with the runner. Ray allows one session
per process: when this process already has one (``ray.init`` was called by
you), the runner uses it and leaves it running.

Each task is one Ray task running ``engine_tasks.run_engine_task``; the
stage's cloudpickled code goes into the object store once per stage
(``ray.put``) and tasks take its reference.

Shuffles (``shuffle="engine"``, the default) go through the object store:
a map task returns ``1 + buckets`` objects (``num_returns``): a small
summary for the driver, then one list per bucket; reduce task ``b`` takes
the bucket-``b`` references of every map task as arguments, so Ray moves
that data between nodes, spills it to disk when the store is full and
rebuilds lost objects by re-running their map task (lineage).
``shuffle="storage"`` uses mapfold's bucket files in ``scratch`` (a folder
every node must see) instead.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, Iterator

import ray

from ..plan.stages import Stage, TaskSpec
from .engine import EngineRunner, RemoteMapOutput, engine_error, in_order
from .engine_tasks import RemoteValue, remote_inputs, run_engine_keep_task, run_engine_map_task, run_engine_task
from .lifeline import Lifeline, children

__all__ = ["RayRunner", "ray_attempt"]


def _init_in_a_lasting_thread(init, stop: threading.Event) -> None:
    """Run ``init`` (``ray.init``) in a thread that lives until ``stop`` is set.

    A local Ray's raylet and GCS die with the *thread* that started them
    (``PR_SET_PDEATHSIG``), and the driver, its raylet gone, ends with exit
    status 1 and no traceback. A runner first used in a short-lived thread (a
    worker of a thread pool, a joblib backend's thread, a streaming reader)
    would take the whole program down when that thread ended; started from
    this thread, the engine lives until the runner closes.
    """
    failure: list[BaseException] = []
    ready = threading.Event()

    def own() -> None:
        try:
            init()
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)
            return
        finally:
            ready.set()
        stop.wait()

    threading.Thread(target=own, name="mapfold-ray-owner", daemon=True).start()
    ready.wait()
    if failure:
        raise failure[0]


def ray_attempt() -> int:
    """In a Ray worker, while a task runs: which attempt at it Ray is making,
    1 the first time (Ray retries a task whose worker died, ``max_retries``).
    Ray's public runtime context does not say; its core worker does."""
    return ray._private.worker.global_worker.core_worker.get_current_task_attempt_number() + 1


class RayRunner(EngineRunner):
    """Run mapfold's tasks on Ray (``pip install 'mapfold[ray]'``).

    ``address``: a cluster to join (``"auto"``, ``"ray://head:10001"``);
    ``num_cpus``: CPUs of the local Ray started without an address;
    ``max_retries``: re-runs of a task whose worker died (Ray's own retry);
    ``runtime_env``: Ray's runtime environment for the workers;
    ``ship_mapfold``: add this mapfold's source to it (default: when joining
    a cluster); ``init_options`` go to ``ray.init``.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, shuffle: str = "engine",
                 max_retries: int = 3, runtime_env: dict | None = None, ship_mapfold: bool | None = None,
                 scratch: str | None = None, **init_options):
        super().__init__(shuffle, address is not None if ship_mapfold is None else ship_mapfold, scratch)
        self.address = address
        self.num_cpus = num_cpus
        self.max_retries = max_retries
        self.runtime_env = dict(runtime_env or {})
        self.init_options = init_options
        self._started = False
        self._owns_session = False
        self._owner_stop: threading.Event | None = None  # ends the thread that started a local Ray
        self._lifeline: Lifeline | None = None  # ends the local Ray's processes if the driver dies
        self._functions: dict = {}
        self.shares_scratch = address is None  # a local Ray on this machine: its workers share the scratch folder

    # -- lifecycle ------------------------------------------------------
    def start(self) -> "RayRunner":
        """Join or start Ray now rather than on first use."""
        if self._started:
            if ray.is_initialized():
                return self
            # the session was shut down under this runner (ray.shutdown()): a new one, with this
            # runner's options and from a lasting thread, not Ray's own auto-init in the calling thread
            self.close()
        if not ray.is_initialized():
            runtime_env = dict(self.runtime_env)
            if self.ship_mapfold:
                package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
                runtime_env["py_modules"] = list(runtime_env.get("py_modules", [])) + [package]
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,  # worker output stays in Ray's logs (session_latest/logs)
                "logging_level": logging.WARNING,
            }
            if self.address is None:
                options["num_cpus"] = self.num_cpus
            if runtime_env:
                options["runtime_env"] = runtime_env
            options.update(self.init_options)
            before = children() if self.address is None else set()
            if threading.current_thread() is threading.main_thread():
                ray.init(address=self.address, **options)
            else:
                self._owner_stop = threading.Event()
                _init_in_a_lasting_thread(lambda: ray.init(address=self.address, **options), self._owner_stop)
            self._owns_session = True
            if self.address is None:  # a local Ray: its processes end with this driver
                self._lifeline = Lifeline.start([self.scratch()])
                if self._lifeline is not None:
                    self._lifeline.watch(children() - before - {self._lifeline.process.pid})
        remote = ray.remote(num_cpus=1, max_retries=self.max_retries)
        self._functions = {
            "task": remote(run_engine_task),
            "map": remote(run_engine_map_task),
            "keep": remote(run_engine_keep_task),
        }
        self._started = True
        return self

    def close(self) -> None:
        self.release_persisted()  # while the engine still runs: it frees their objects
        if self._lifeline is not None:
            self._lifeline.stop()
            self._lifeline = None
        if self._owns_session and ray.is_initialized():
            ray.shutdown()
        if self._owner_stop is not None:
            self._owner_stop.set()
            self._owner_stop = None
        self._owns_session = False
        self._started = False
        self._functions = {}
        super().close()

    def describe(self) -> str:
        where = self.address or ("local" if self._owns_session else "existing session")
        return f"ray ({where}, shuffle={self.shuffle})"

    def parallelism(self) -> int:
        self.start()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    # -- running --------------------------------------------------------
    def run_tasks(self, stage: Stage, prepared, tasks: list[TaskSpec], ordered: bool = True) -> Iterator:
        self.start()
        token, payload = prepared
        code = ray.put(payload)  # the stage's code: once, into the object store
        map_stage, cache_stage = self.is_map_stage(stage), self.is_cache_stage(stage)
        buckets = stage.shuffle_of.num_partitions if map_stage else 0
        waiting: dict = {}
        for position, task in enumerate(tasks):
            shipped, refs = remote_inputs(task)
            name = self.key(stage, token, task)
            if map_stage:
                out = self._functions["map"].options(num_returns=1 + buckets, name=name).remote(
                    token, code, shipped, stage.name, buckets, *refs, attempt=ray_attempt)
            elif cache_stage:
                out = self._functions["keep"].options(num_returns=2, name=name).remote(
                    token, code, shipped, stage.name, *refs, attempt=ray_attempt)
            else:
                out = [self._functions["task"].options(name=name).remote(token, code, shipped, stage.name, *refs,
                                                                         attempt=ray_attempt)]
            waiting[out[0]] = (position, out)
        try:
            yield from in_order(self._completed(stage, code, tasks, waiting, map_stage, cache_stage), tasks, ordered)
        finally:
            # Stopped early (take, a failure, an abandoned stream): what is still out is left to finish
            # and its results dropped with their references. Not ray.cancel(): in Ray 2.60 a cancel that
            # races a task's reply fails a check in the driver's core worker ("Tried to complete task
            # that was not pending"), which ends the driver with exit status 1 and no traceback.
            if waiting and self.shuffle == "storage":  # their bucket files land before the job's cleanup
                ray.wait(list(waiting), num_returns=len(waiting))
            waiting.clear()

    def _completed(self, stage: Stage, code, tasks: list[TaskSpec], waiting: dict, map_stage: bool,
                   cache_stage: bool) -> Iterator:
        while waiting:
            ready, _ = ray.wait(list(waiting), num_returns=1)
            for ref in ready:
                position, out = waiting.pop(ref)
                task = tasks[position]
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # WorkerCrashedError after the retries, a worker missing mapfold, ...
                    raise engine_error(stage, task, exc, "ray") from None
                if outcome.failure is None and map_stage:
                    summary = outcome.value
                    refs = {b: out[1 + b] for b in summary.sizes}
                    outcome.value = RemoteMapOutput(refs, summary.records, keepalive=code)
                elif outcome.failure is None and cache_stage:
                    outcome.value = RemoteValue(out[1], keepalive=code)
                yield position, outcome
