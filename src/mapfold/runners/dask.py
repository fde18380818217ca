"""The dask runner: tasks on a ``distributed.Client``.

``DaskRunner(address="tls://scheduler:8786")`` joins a running cluster;
without an address it starts a ``LocalCluster`` of worker processes (one
thread each: mapfold's tasks are pure Python, so processes, not threads,
give parallelism) and closes it with the runner.

Each task is one Dask task (``client.submit``) running
``engine_tasks.run_engine_task``; the stage's cloudpickled code is scattered
to the workers once per stage and passed as a future.

Shuffles (``shuffle="engine"``, the default) move between workers as
futures: a map task returns its buckets and stays on its worker; a tiny
``pick_bucket`` task per non-empty bucket (scheduled where the data is)
splits them; reduce task ``b`` takes the bucket-``b`` futures of every map
task as arguments, so Dask moves exactly that data, spills it to the
workers' disks under memory pressure, and recomputes it from its lineage
when a worker dies. ``shuffle="storage"`` uses mapfold's own bucket files
instead, in ``scratch`` (a folder every worker must see, e.g. NFS): chosen
when the shuffle is larger than the cluster's memory, since files need
none and survive worker restarts; the futures are faster otherwise.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any, Iterator

import distributed
import distributed.diagnostics.plugin

from ..core.config import default_workers
from ..plan.stages import Stage, TaskSpec
from .engine import EngineRunner, RemoteMapOutput, engine_error, in_order, write_mapfold_zip
from .engine_tasks import RemoteValue, outcome_value, pick_bucket, remote_inputs, run_engine_task, summarize
from .lifeline import Lifeline

__all__ = ["DaskRunner", "dask_attempt"]


def dask_attempt() -> int:
    """In a Dask worker, while a task runs: which attempt at it this is, 1 the
    first time. The scheduler reschedules a task whose worker died and counts
    those deaths (its ``suspicious`` count); the task asks it."""
    key = distributed.get_worker().get_current_task()
    return 1 + distributed.get_client().run_on_scheduler(_deaths, key)


def _deaths(key, dask_scheduler=None) -> int:
    state = dask_scheduler.tasks.get(key)
    return 0 if state is None else state.suspicious


class DaskRunner(EngineRunner):
    """Run mapfold's tasks on Dask (``pip install 'mapfold[dask]'``).

    ``address``: a scheduler to join (``tls://host:8786``); ``security``: a
    ``distributed.security.Security`` for TLS. Without ``address``, a
    ``LocalCluster`` of ``workers`` processes (default: one per core) with
    ``threads_per_worker`` threads; ``cluster_options`` go to it.
    ``client``: use an existing ``distributed.Client`` (left open).
    ``ship_mapfold``: upload this mapfold's source to the workers (default:
    when joining a remote cluster). ``py_files``: zips or ``.py`` files
    uploaded to every worker, now and as they join, and put on their
    ``sys.path`` (``mapfold submit --to dask`` ships the code package so).
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None, threads_per_worker: int = 1,
                 shuffle: str = "engine", client: Any = None, security: Any = None, ship_mapfold: bool | None = None,
                 scratch: str | None = None, cluster_options: dict | None = None, py_files: list | None = None):
        remote = address is not None or client is not None
        super().__init__(shuffle, remote if ship_mapfold is None else ship_mapfold, scratch)
        self.address = address
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self.security = security
        self.cluster_options = dict(cluster_options or {})
        self.py_files = [os.fspath(path) for path in (py_files or [])]
        self._client = client
        self._owns_client = client is None
        self._cluster = None
        self._lifeline: Lifeline | None = None  # ends the LocalCluster's workers if the driver dies
        self._started = False

    # -- lifecycle ------------------------------------------------------
    @property
    def client(self) -> "distributed.Client":
        if not self._started:
            self.start()
        return self._client

    def start(self) -> "DaskRunner":
        """Connect to the cluster (or start the local one) now rather than on first use."""
        if self._started:
            return self
        if self._client is None and self.address is not None:
            self._client = distributed.Client(self.address, security=self.security, set_as_default=False)
        elif self._client is None:
            options = {
                "n_workers": self.workers or default_workers(),
                "threads_per_worker": self.threads_per_worker,
                "processes": True,
                "dashboard_address": None,  # pass cluster_options={"dashboard_address": "127.0.0.1:8787"}
                "silence_logs": logging.WARNING,
            }
            options.update(self.cluster_options)
            self._cluster = distributed.LocalCluster(**options)
            self._client = distributed.Client(self._cluster, set_as_default=False)
            self._lifeline = Lifeline.start([self.scratch()])
            self._watch_workers()
        if self.ship_mapfold:  # the driver's mapfold, first on the workers' sys.path (and on later workers')
            upload = distributed.diagnostics.plugin.UploadFile(write_mapfold_zip(self.scratch()), load=True)
            self._client.register_plugin(upload, name="mapfold-source")
        for path in self.py_files:  # the user's code package (mapfold submit): a zip on every worker's sys.path
            upload = distributed.diagnostics.plugin.UploadFile(path, load=True)
            self._client.register_plugin(upload, name=f"mapfold-py-file-{os.path.basename(path)}")
        self._started = True
        return self

    def _watch_workers(self) -> None:
        """Tell the lifeline the pids of the LocalCluster's worker processes (a restarted worker is new)."""
        if self._lifeline is not None and self._cluster is not None:
            self._lifeline.watch(getattr(nanny, "pid", None) for nanny in list(self._cluster.workers.values()))

    def close(self) -> None:
        self.release_persisted()  # while the engine still runs: it frees their objects
        if self._lifeline is not None:
            self._lifeline.stop()
            self._lifeline = None
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None
        self._started = False
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        super().close()

    def describe(self) -> str:
        if self._cluster is not None:
            return f"dask (LocalCluster, {len(self._cluster.workers)} workers, shuffle={self.shuffle})"
        where = self.address or (self._client.scheduler.address if self._client is not None else "?")
        return f"dask ({where}, shuffle={self.shuffle})"

    def parallelism(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    # -- running --------------------------------------------------------
    def run_tasks(self, stage: Stage, prepared, tasks: list[TaskSpec], ordered: bool = True) -> Iterator:
        client = self.client
        self._watch_workers()
        token, payload = prepared
        code = client.scatter(payload, broadcast=True, hash=False)  # the stage's code: once, to every worker
        keep = self.is_map_stage(stage) or self.is_cache_stage(stage)  # results stay on the cluster
        waiting: dict = {}
        for position, task in enumerate(tasks):
            shipped, refs = remote_inputs(task)
            future = client.submit(run_engine_task, token, code, shipped, stage.name, *refs, attempt=dask_attempt,
                                   key=self.key(stage, token, task), pure=False)
            if keep:
                waiting[client.submit(summarize, future, key=self.key(stage, token, task, "summary"))] = (position, future)
            else:
                waiting[future] = (position, future)
        try:
            yield from in_order(self._completed(stage, token, code, tasks, waiting), tasks, ordered)
        finally:
            if waiting:  # stopped early (take, a failure): drop what is still queued
                client.cancel(list(waiting) + [future for _, future in waiting.values()])

    def _completed(self, stage: Stage, token: str, code, tasks: list[TaskSpec], waiting: dict) -> Iterator:
        client = self.client
        for done in distributed.as_completed(list(waiting), loop=client.loop):
            position, future = waiting.pop(done)
            task = tasks[position]
            try:
                outcome = done.result()
            except Exception as exc:  # KilledWorker, a worker that cannot import the code, ...
                task, exc = self._culprit(tasks, waiting, task, exc)
                raise engine_error(stage, task, exc, "dask") from None
            if outcome.failure is None and self.is_map_stage(stage):
                refs = {b: client.submit(pick_bucket, future, b, key=self.key(stage, token, task, f"bucket{b}"))
                        for b in outcome.value.sizes}
                # keep the map task wanted: were it forgotten, lost buckets could not be recomputed
                outcome.value = RemoteMapOutput(refs, outcome.value.records, keepalive=(code, future))
            elif outcome.failure is None and self.is_cache_stage(stage):
                ref = client.submit(outcome_value, future, key=self.key(stage, token, task, "value"))
                outcome.value = RemoteValue(ref, keepalive=(code, future))
            yield position, outcome

    @staticmethod
    def _culprit(tasks: list[TaskSpec], waiting: dict, task: TaskSpec, exc: BaseException):
        """A task cancelled because a worker died is a bystander: name the
        task Dask gave up on (``KilledWorker``) when there is one."""
        if not isinstance(exc, distributed.client.FutureCancelledError):
            return task, exc
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            for future, (position, _) in waiting.items():
                if future.status == "error":
                    return tasks[position], future.exception()
            time.sleep(0.05)
        return task, exc
