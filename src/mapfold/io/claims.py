"""The exclusive claim a job takes on its output target while it writes.

A claim is a small JSON file beside the target, ``.NAME.mapfold-claim``
(hidden: readers skip it), holding who writes: job id, host, pid (with the
pid's start time, so a reused pid is not taken for the job), start time and
mode. It is created atomically or not at all:

* local disk: written whole under a unique name, then ``link()``-ed to its
  name, which fails if a claim is there (the NFS-safe form of ``O_EXCL``);
* S3: a conditional PUT (``If-None-Match: *``; s3fs' ``mode="create"``);
* ``memory://``: an exclusive open inside the one process that sees it;
* other fsspec stores: "create unless it exists", a check then a write
  (best effort: two jobs starting in the same instant may both get it; the
  check at commit then catches one of them most of the time).

A claim is *stale* when its job is dead: on this host, its pid is gone (or
now belongs to another process); on another host, it is older than
``stale_after`` (default a day; ``MAPFOLD_STALE_AFTER``, e.g. ``"2h"``).
A stale claim is broken by renaming it away first, so that of two jobs
breaking it at once only one wins (:func:`break_stale`).

Runs on the driver only.
"""
from __future__ import annotations

import json
import os
import posixpath
import socket
import time
import uuid
from dataclasses import asdict, dataclass

from ..core.config import parse_duration

__all__ = ["Claim", "claim_path", "take", "read", "release", "is_stale", "break_stale", "stale_after",
           "pid_alive", "is_local_fs", "DEFAULT_STALE_AFTER"]

DEFAULT_STALE_AFTER = 86400.0  # seconds: a claim from another host older than this is a dead job's
SUFFIX = ".mapfold-claim"


def _pid_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name


def pid_alive(pid: int, pid_start: str | None = None) -> bool:
    """Whether ``pid`` runs on this host (and, when given, is the process that started at ``pid_start``).

    >>> pid_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive
    if pid_start is not None:
        now = _pid_start(pid)
        if now is not None and now != pid_start:
            return False  # the pid was reused
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                    return False  # a zombie waiting for its parent
        except OSError:
            pass
    return True


@dataclass(frozen=True)
class Claim:
    """Who writes a target: what the claim file holds.

    >>> c = Claim.mine("0123456789ab", "error", "/data/out")
    >>> Claim.from_json(c.to_json()) == c, c.pid == os.getpid()
    (True, True)
    """

    job: str
    host: str
    pid: int
    started: float  # Unix time
    mode: str = "error"
    target: str = ""
    pid_start: str | None = None

    @classmethod
    def mine(cls, job: str, mode: str, target: str) -> "Claim":
        pid = os.getpid()
        return cls(job, socket.gethostname(), pid, time.time(), mode, target, _pid_start(pid))

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Claim":
        fields = json.loads(data)
        return cls(str(fields["job"]), str(fields["host"]), int(fields["pid"]), float(fields["started"]),
                   str(fields.get("mode", "")), str(fields.get("target", "")), fields.get("pid_start"))

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started))
        return f"job {self.job} (host {self.host}, pid {self.pid}, started {when})"


def stale_after(value=None) -> float:
    """The age past which a claim from another host is a dead job's: ``value``,
    else ``MAPFOLD_STALE_AFTER``, else a day.

    >>> stale_after("2h")
    7200.0
    """
    if value is None:
        value = os.environ.get("MAPFOLD_STALE_AFTER") or DEFAULT_STALE_AFTER
    return parse_duration(value)


def is_stale(claim: Claim, max_age: float, now: float | None = None) -> str | None:
    """Why ``claim`` belongs to a dead job (a reason to show), or None when it may be alive.

    >>> c = Claim.mine("j", "error", "/out")
    >>> is_stale(c, 3600) is None
    True
    >>> is_stale(Claim("j", "elsewhere", 1, 0.0), 3600)
    'claimed ... ago on host elsewhere, past the 3600 s limit'
    """
    now = time.time() if now is None else now
    if claim.host == socket.gethostname():
        if not pid_alive(claim.pid, claim.pid_start):
            return f"pid {claim.pid} is gone on this host"
        return None
    age = now - claim.started
    if age > max_age:
        return f"claimed {age:.0f} s ago on host {claim.host}, past the {max_age:.0f} s limit"
    return None


def claim_path(root: str) -> str:
    """Where the claim of target ``root`` lives (beside it, hidden).

    >>> claim_path("/data/out")
    '/data/.out.mapfold-claim'
    """
    parent, name = posixpath.split(root.rstrip("/"))
    return posixpath.join(parent, f".{name}{SUFFIX}")


def _protocol(fs) -> str:
    return fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]


def is_local_fs(fs) -> bool:
    return _protocol(fs) in ("file", "local")


def take(fs, path: str, claim: Claim) -> bool:
    """Create the claim file at ``path`` unless one exists; True when this call created it.

    >>> import fsspec, tempfile
    >>> fs, path = fsspec.filesystem("file"), tempfile.mkdtemp() + "/.out.mapfold-claim"
    >>> mine = Claim.mine("0123456789ab", "error", "out")
    >>> take(fs, path, mine), take(fs, path, Claim.mine("ba9876543210", "error", "out"))
    (True, False)
    >>> read(fs, path) == mine
    True
    >>> release(fs, path, "ba9876543210"); read(fs, path) == mine   # not its claim: kept
    True
    >>> release(fs, path, mine.job); read(fs, path) is None
    True
    """
    data = claim.to_json()
    if _protocol(fs) in ("file", "local"):
        # written whole under a unique name, then linked in: link() fails if the claim exists,
        # so it appears atomically and never empty (O_EXCL alone would show an empty file a moment)
        staged = f"{path}.new-{claim.job}-{uuid.uuid4().hex[:6]}"
        fd = os.open(staged, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(staged, path)
        except FileExistsError:
            return False
        finally:
            os.unlink(staged)
        return True
    try:
        fs.pipe_file(path, data, mode="create")
    except FileExistsError:
        return False
    except TypeError:  # a store whose pipe_file has no mode: check, then write (best effort)
        fs.invalidate_cache(path)
        if fs.exists(path):
            return False
        fs.pipe_file(path, data)
    fs.invalidate_cache(path)
    return True


def read(fs, path: str) -> Claim | None:
    """The claim at ``path``, None when there is none; an unreadable claim reads as a dead one."""
    try:
        if _protocol(fs) in ("file", "local"):
            with open(path, "rb") as f:
                data = f.read()
        else:
            fs.invalidate_cache(path)
            data = fs.cat_file(path)
    except FileNotFoundError:
        return None
    try:
        return Claim.from_json(data)
    except (ValueError, KeyError, TypeError):
        # damaged (claims appear whole): its job is unknown, so only its age can make it stale
        try:
            started = float(fs.info(path).get("mtime") or fs.modified(path).timestamp())
        except (OSError, AttributeError, NotImplementedError, TypeError, ValueError):
            started = time.time()
        return Claim("unknown", "unknown", -1, started)


def release(fs, path: str, job: str) -> None:
    """Remove the claim at ``path`` if it is still job ``job``'s."""
    held = read(fs, path)
    if held is None or held.job != job:
        return
    try:
        fs.rm(path)
    except FileNotFoundError:
        pass


def break_stale(fs, path: str, seen: Claim) -> bool:
    """Remove the stale claim ``seen`` at ``path``; True when it is gone.

    >>> import fsspec, tempfile
    >>> fs, path = fsspec.filesystem("file"), tempfile.mkdtemp() + "/.out.mapfold-claim"
    >>> dead = Claim("0123456789ab", "elsewhere", 1, 0.0)
    >>> take(fs, path, dead) and break_stale(fs, path, dead), read(fs, path)
    (True, None)

    The claim is renamed to a unique name first (locally: one rename wins),
    then checked: if the renamed file is not the claim judged stale (a live
    job took the target in between), it is put back without replacing
    anything, and that job's check at commit sorts out the rest.
    """
    aside = f"{path}.broken-{uuid.uuid4().hex[:8]}"
    local = _protocol(fs) in ("file", "local")
    try:
        if local:
            os.rename(path, aside)
        else:
            fs.mv(path, aside)
    except FileNotFoundError:
        return True  # someone else broke it
    moved = read(fs, aside)
    if moved is not None and moved != seen:
        if local:
            try:
                os.link(aside, path)  # never replaces a claim taken meanwhile
            except FileExistsError:
                pass
        else:
            take(fs, path, moved)
    try:
        fs.rm(aside)
    except FileNotFoundError:
        pass
    return moved is None or moved == seen
