"""The dask runner: tasks on a ``distributed.Client``.

``DaskRunner(address="tls://scheduler:8786")`` joins a running cluster;
without an address it starts a ``LocalCluster`` of worker processes (one
thread each: mapfold's tasks are pure Python, so processes, not threads,
give parallelism) and closes it with the runner.

Each task is one Dask task (``client.submit``) running
``engine_tasks.run_engine_task``; the stage's cloudpickled code goes to the
cluster once per stage as a task of its own (``stage_payload``), copied
to every worker (``replicate``: Dask runs a task only on workers that hold
its inputs, so one copy would draw every task to one worker), and is
passed as a future. A task, not ``scatter``: scattered data has no lineage,
and Dask's active memory manager soon drops a broadcast's extra copies, so
a worker that died holding the last copy took the code with it and Dask
*cancelled* every task that needed it (``FutureCancelledError``); a task
whose graph holds the bytes is recomputed like any other lost result.

A lost worker: Dask's nanny restarts it and the scheduler reruns its tasks
and recomputes lost results from their lineage, up to
``distributed.scheduler.allowed-failures`` times. A task Dask still
cancels for a lost worker is resubmitted once; when a task finally fails
for a lost worker (``KilledWorker``, a second cancellation), the
:class:`~mapfold.core.errors.WorkerLostError` names the workers the
scheduler removed during the stage (its ``remove-worker`` events) and the
task Dask gave up on.

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
from .engine_tasks import (RemoteValue, outcome_value, pick_bucket, remote_inputs, run_engine_task, stage_payload,
                           summarize)
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
        self.shares_scratch = not remote  # a LocalCluster of our own: its workers share the scratch folder
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
        started = time.time()
        # the stage's code: once, as a task (lineage: recomputed if the worker holding it dies), copied to every
        # worker before the tasks are submitted: Dask places a task only on workers holding its inputs
        code = client.submit(stage_payload, payload, key=self.key(stage, token, None, "code"), pure=False)
        next(distributed.as_completed([code], loop=client.loop))  # done (not fetched)
        client.replicate([code])
        waiting: dict = {}
        for position, task in enumerate(tasks):
            waiting.update(self._submit(stage, token, code, position, task))
        pending = distributed.as_completed(list(waiting), loop=client.loop)
        try:
            yield from in_order(self._completed(stage, token, code, tasks, waiting, pending, started), tasks, ordered)
        finally:
            if waiting:  # stopped early (take, a failure): drop what is still queued
                client.cancel(list(waiting) + [future for _, future, _ in waiting.values()])

    def _submit(self, stage: Stage, token: str, code, position: int, task: TaskSpec, attempt: int = 1) -> dict:
        """Submit one task: ``{future to wait for: (position, task's future, attempt)}``."""
        client = self.client
        suffix = "" if attempt == 1 else f"-retry{attempt - 1}"
        shipped, refs = remote_inputs(task)
        future = client.submit(run_engine_task, token, code, shipped, stage.name, *refs, attempt=dask_attempt,
                               key=self.key(stage, token, task) + suffix, pure=False)
        if self.is_map_stage(stage) or self.is_cache_stage(stage):  # results stay on the cluster
            summary = client.submit(summarize, future, key=self.key(stage, token, task, "summary") + suffix)
            return {summary: (position, future, attempt)}
        return {future: (position, future, attempt)}

    def _completed(self, stage: Stage, token: str, code, tasks: list[TaskSpec], waiting: dict, pending,
                   started: float) -> Iterator:
        client = self.client
        for done in pending:
            position, future, attempt = waiting.pop(done)
            task = tasks[position]
            try:
                outcome = done.result()
            except distributed.client.FutureCancelledError as exc:  # not by us: a worker was lost
                if attempt == 1:
                    retry = self._submit(stage, token, code, position, task, attempt + 1)
                    waiting.update(retry)
                    for again in retry:
                        pending.add(again)
                    continue
                raise self._lost(stage, tasks, waiting, task, exc, started) from None
            except Exception as exc:  # KilledWorker, a worker that cannot import the code, ...
                raise self._lost(stage, tasks, waiting, task, exc, started) from None
            if outcome.failure is None and self.is_map_stage(stage):
                refs = {b: client.submit(pick_bucket, future, b, key=self.key(stage, token, task, f"bucket{b}"))
                        for b in outcome.value.sizes}
                # keep the map task wanted: were it forgotten, lost buckets could not be recomputed
                outcome.value = RemoteMapOutput(refs, outcome.value.records, keepalive=(code, future))
            elif outcome.failure is None and self.is_cache_stage(stage):
                ref = client.submit(outcome_value, future, key=self.key(stage, token, task, "value"))
                outcome.value = RemoteValue(ref, keepalive=(code, future))
            yield position, outcome

    def _lost(self, stage: Stage, tasks: list[TaskSpec], waiting: dict, task: TaskSpec, exc: BaseException,
              started: float):
        """The engine error for a task Dask gave up on, naming the workers lost since the stage started."""
        task, exc = self._culprit(tasks, waiting, task, exc)
        lost = self.lost_workers(started)
        last = getattr(getattr(exc, "last_worker", None), "address", None)  # KilledWorker's
        if last and last not in lost:
            lost.append(last)
        detail = None
        if lost:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            detail = (f"{first} (lost worker{'s' if len(lost) > 1 else ''} {', '.join(lost)}; Dask does not report "
                      f"a worker's exit status: its nanny's log says the signal or exit code)")
        return engine_error(stage, task, exc, "dask", detail)

    def lost_workers(self, since: float = 0.0) -> list[str]:
        """The addresses of the workers the scheduler removed, unexpectedly, since ``since`` (a ``time.time()``)."""
        try:
            events = self.client.get_events("all")
        except Exception:  # the scheduler itself is gone: nothing more to say
            return []
        lost = [msg["worker"] for when, msg in events
                if when >= since and isinstance(msg, dict) and msg.get("action") == "remove-worker"
                and not msg.get("expected")]
        return list(dict.fromkeys(lost))

    @staticmethod
    def _culprit(tasks: list[TaskSpec], waiting: dict, task: TaskSpec, exc: BaseException):
        """A task cancelled because a worker died is a bystander: name the
        task Dask gave up on (``KilledWorker``) when there is one."""
        if not isinstance(exc, distributed.client.FutureCancelledError):
            return task, exc
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            for future, (position, _, _) in waiting.items():
                if future.status == "error":
                    return tasks[position], future.exception()
            time.sleep(0.05)
        return task, exc
