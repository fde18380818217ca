"""Driver-side glue shared by the cluster runners (dask, spark, ray).

The three engines run mapfold's tasks the same way: a stage's code is
cloudpickled once (``prepare``), sent to the cluster once (broadcast,
a replicated Dask task or ``ray.put``), and each :class:`~mapfold.plan.stages.TaskSpec`
becomes one engine task running ``engine_tasks.run_engine_task`` in a
worker. Shuffles go through the engine (``shuffle="engine"``, the default:
see ``engine_tasks.py``) or through mapfold's own bucket files in a folder
every worker can read (``shuffle="storage"``, Dask and Ray only).

Nothing here imports an engine; ``dask.py``, ``spark.py`` and ``ray.py`` do.
"""
from __future__ import annotations

import io
import os
import re
import uuid
import zipfile
from typing import Any, Iterable, Iterator

from ..core.errors import TaskContext, WorkerLostError
from ..core.serialize import dumps_code
from ..plan.stages import CACHE, SHUFFLE_MAP, Stage, TaskSpec
from .base import Runner
from .engine_tasks import PackingWriter, RemoteValue
from .tasks import context_of

__all__ = ["EngineRunner", "RemoteMapOutput", "engine_error", "in_order", "mapfold_zip", "write_mapfold_zip", "SHUFFLE_MODES"]

SHUFFLE_MODES = ("engine", "storage")


class RemoteMapOutput:
    """A map task's output kept by the engine: one reference per non-empty bucket.

    Behaves like ``shuffle.writer.MapOutput`` for the execution loop, which
    keeps only the buckets' references: each is a :class:`RemoteValue`
    carrying ``keepalive`` (the map task, the stage code), so the engine can
    recompute a lost bucket for as long as a reduce task may need it.
    """

    def __init__(self, refs: dict, records: int = 0, keepalive: Any = None):
        self.refs = {bucket: RemoteValue(ref, keepalive) for bucket, ref in refs.items()}
        self.records = records

    def bucket(self, index: int) -> list:
        ref = self.refs.get(index)
        return [] if ref is None else [ref]


class EngineRunner(Runner):
    """Common part of the cluster runners; subclasses implement ``run_tasks``."""

    cache_on_disk = False  # persisted partitions stay in the engine (or come back as lists)

    def __init__(self, shuffle: str = "engine", ship_mapfold: bool = False, scratch: str | None = None):
        super().__init__()
        if shuffle not in SHUFFLE_MODES:
            raise ValueError(f"shuffle must be one of {', '.join(map(repr, SHUFFLE_MODES))}, not {shuffle!r}")
        self.shuffle = shuffle
        self.ship_mapfold = ship_mapfold
        self.scratch_base = scratch

    def scratch(self) -> str:
        """The private scratch folder; under ``scratch=`` when given (with
        ``shuffle="storage"`` it must be a folder every worker can read)."""
        if self.scratch_base is None:
            return super().scratch()
        return self._own_scratch(self.scratch_base)

    def prepare(self, stage: Stage) -> tuple[str, Any]:
        return uuid.uuid4().hex, dumps_code(stage.code, what=f"code of stage {stage.id} ({stage.name})")

    def shuffle_writer(self, shuffle) -> Any:
        return PackingWriter(shuffle) if self.shuffle == "engine" else None

    #: the workers are a local cluster this runner starts, on the driver's disk: an engine
    #: shuffle's big buckets then stay run files in the job's folder (``shuffle/packed.py``)
    #: and the engine moves only their references; on a remote cluster it moves the bytes
    shares_scratch: bool = False

    def is_map_stage(self, stage: Stage) -> bool:
        """A shuffle's map side whose buckets this engine moves (the stage's declared role)."""
        return stage.role == SHUFFLE_MAP and self.shuffle == "engine"

    @staticmethod
    def is_cache_stage(stage: Stage) -> bool:
        """A stage computing a persisted Dataset, whose partitions the engine keeps."""
        return stage.role == CACHE

    def key(self, stage: Stage, token: str, task: TaskSpec | None, what: str = "task") -> str:
        """A readable, unique engine task name (shows in the engine's dashboard); ``task=None``: the stage's."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stage.name)[:40]
        partition = "" if task is None else f"-p{task.partition}"
        return f"mapfold-{what}-{name}-s{stage.id}{partition}-{token[:8]}"


def engine_error(stage: Stage, task: TaskSpec | None, exc: BaseException, engine: str,
                 detail: str | None = None) -> WorkerLostError:
    """An engine's failure (a killed worker, a lost executor) as mapfold's error,
    naming the stage and (when the engine says which) the partition."""
    context = context_of(task, stage.name) if task is not None else TaskContext(stage=stage.id, stage_name=stage.name)
    lines = (detail or str(exc)).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    error = WorkerLostError(
        f"{engine} could not run {context.describe()}: {type(exc).__name__}: {first[:500].rstrip('.')}. "
        f"The engine retried the task as configured and gave up; likely causes: a worker ran out of "
        f"memory or was killed, a machine left the cluster, or the workers lack mapfold or one of "
        f"your modules (see docs/runners/{engine}.md).",
        context=context,
    )
    error.__cause__ = exc
    return error


def in_order(done: Iterable[tuple[int, Any]], tasks: list[TaskSpec], ordered: bool) -> Iterator[tuple[TaskSpec, Any]]:
    """Yield ``(task, outcome)`` from ``(position, outcome)`` completions,
    in task order when ``ordered`` (buffering early finishers)."""
    if not ordered:
        for position, outcome in done:
            yield tasks[position], outcome
        return
    waiting: dict[int, Any] = {}
    next_out = 0
    for position, outcome in done:
        waiting[position] = outcome
        while next_out in waiting:
            yield tasks[next_out], waiting.pop(next_out)
            next_out += 1


def mapfold_zip() -> bytes:
    """This mapfold's source as a zip, for engines that put zips on ``sys.path``
    (Spark ``addPyFile``, Dask ``upload_file``): the workers then run the
    driver's exact version. Its dependencies must still be installed there.

    >>> import io, zipfile
    >>> "mapfold/__init__.py" in zipfile.ZipFile(io.BytesIO(mapfold_zip())).namelist()
    True
    """
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    root = os.path.dirname(package)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    archive.write(path, os.path.relpath(path, root))
    return buffer.getvalue()


def write_mapfold_zip(directory: str) -> str:
    path = os.path.join(directory, "mapfold.zip")
    with open(path, "wb") as f:
        f.write(mapfold_zip())
    return path
