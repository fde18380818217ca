"""mapfold's errors.

Every error mapfold raises on its own account subclasses :class:`MapfoldError`
and carries the context a user needs to act on it (stage, partition, file,
line). Exceptions raised by *user* functions keep their original type so that
``except ValueError`` still works; mapfold attaches the worker's traceback as
``__cause__`` and a note naming where it happened.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "MapfoldError",
    "TaskContext",
    "RemoteTraceback",
    "WorkerLostError",
    "PoolClosedError",
    "SerializationError",
    "OutputExistsError",
    "OutputBusyError",
    "SpillError",
    "RunnerUnavailableError",
    "InputError",
    "RecordShapeError",
    "attach_context",
]


class MapfoldError(Exception):
    """Base class of every error mapfold raises itself."""


@dataclass(frozen=True)
class TaskContext:
    """Where a task ran: stage, partition and, when known, input position."""

    stage: int | None = None
    stage_name: str = ""
    partition: int | None = None
    location: str | None = None  # "file.txt line 17" or "file.txt byte 4096"
    attempts: int = 1
    extra: dict = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        parts = []
        if self.stage is not None:
            name = f" ({self.stage_name})" if self.stage_name else ""
            parts.append(f"stage {self.stage}{name}")
        if self.partition is not None:
            parts.append(f"partition {self.partition}")
        if self.location:
            parts.append(f"at {self.location}")
        return ", ".join(parts) or "a task"


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, kept as text."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return "\n" + self.text


class WorkerLostError(MapfoldError):
    """A worker process died (killed, crashed, out of memory) too many times."""

    def __init__(self, message: str, context: TaskContext | None = None, exitcode: int | None = None):
        super().__init__(message)
        self.context = context
        self.exitcode = exitcode


class PoolClosedError(MapfoldError, ValueError):
    """Work was asked of a pool that was closed (or whose workers were stopped).

    A ``ValueError`` too, as ``multiprocessing.Pool`` raises ``ValueError("Pool
    not running")`` in the same situation.
    """


class SerializationError(MapfoldError):
    """A function or value could not be pickled to ship it to the workers."""


class OutputExistsError(MapfoldError, FileExistsError):
    """The output target exists and ``mode`` does not allow replacing it."""


class OutputBusyError(OutputExistsError):
    """Another live job holds the claim on the output target (see ``io/claims.py``).

    ``holder`` is that job's claim (job id, host, pid, start time), or None
    when the claim vanished or could not be read.
    """

    def __init__(self, message: str, target: str | None = None, holder=None):
        super().__init__(message)
        self.target = target
        self.holder = holder


class SpillError(MapfoldError, OSError):
    """A spill to disk failed for want of space (``ENOSPC``, ``EDQUOT``) or over the
    file-size limit (``EFBIG``); names the folder, the bytes written, the budget and
the size and free space of the disk the folder is on (``disk_size``, ``disk_free``:
several tasks share one disk, so the failing file may have written little itself).

    An ``OSError`` too, with the original ``errno``, so ``except OSError`` still works.

    >>> e = SpillError(28, "disk full", folder="/tmp/job", written=4096, budget=1 << 20)
    >>> isinstance(e, OSError), e.errno, e.folder
    (True, 28, '/tmp/job')
    """

    def __init__(self, errno: int | None, message: str, folder: str | None = None, written: int | None = None,
                 budget: int | None = None, disk_size: int | None = None, disk_free: int | None = None):
        OSError.__init__(self, errno, message)
        self.folder = folder
        self.written = written
        self.budget = budget
        self.disk_size = disk_size
        self.disk_free = disk_free

    def __str__(self) -> str:
        return str(self.strerror)


class RunnerUnavailableError(MapfoldError):
    """A runner was asked for whose engine is not installed or unknown."""


class InputError(MapfoldError, ValueError):
    """Input data could not be read or parsed (names the file and line)."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class RecordShapeError(MapfoldError, TypeError):
    """A by-key operation met a record that is not a ``(key, value)`` pair
    (or whose key cannot be hashed); the message says what was found and how
    to make pairs. A ``TypeError``, as Python's own unpacking error is."""


def attach_context(exc: BaseException, context: TaskContext, traceback_text: str | None) -> BaseException:
    """Give a user exception from a worker its context, keeping its type.

    The worker's traceback becomes ``__cause__`` (as in concurrent.futures)
    and a note says which stage, partition and record it came from.
    """
    if traceback_text:
        exc.__cause__ = RemoteTraceback(traceback_text)
    note = f"mapfold: raised in {context.describe()}"
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    try:
        exc.mapfold_context = context  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    return exc
