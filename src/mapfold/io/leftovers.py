"""What dead jobs leave beside their targets, and removing it.

A job writing ``.../NAME`` keeps, beside it and hidden from readers, its
claim ``.NAME.mapfold-claim`` and its staging folder
``.NAME.mapfold-tmp-JOB`` (and, where folders cannot be swapped
atomically, the old target moved aside, ``.NAME.mapfold-tmp-JOB-old``).
A SIGKILL, the OOM killer or a lost machine leaves them there. They are
*stale* when their job is dead (see :func:`mapfold.io.claims.is_stale`);
a staging folder is stale when its job no longer holds the target's claim.

:func:`find` lists them, :func:`remove` removes the stale ones after
repairing the target a dead job may have left half-published (the old
folder put back, or the commit finished when its ``_SUCCESS`` was
written; files an unfinished append or object-store overwrite copied in
but never listed in ``_SUCCESS`` deleted). Every job does this for its own
target when it starts; ``mapfold clean PATH`` does it on demand.

Runs on the driver only.
"""
from __future__ import annotations

import json
import posixpath
import re
import time
from dataclasses import dataclass

from . import claims

__all__ = ["Leftover", "find", "remove", "clean"]

TRANSIENT_SECONDS = 60.0  # a claim's temporary copy lives milliseconds; past this its job died making it

_NAME = re.compile(r"^\.(?P<target>.+?)\.mapfold-(?:(?P<claim>claim)(?P<broken>\.(?:broken|new)-[0-9a-f-]+)?"
                   r"|tmp-(?P<job>[0-9a-f]+)(?P<old>-old)?)$")


@dataclass(frozen=True)
class Leftover:
    """One claim or staging folder beside a target, and whether its job is dead.

    >>> Leftover("/d/.out.mapfold-claim", "claim", "/d/out", "ab12", "pid 7 is gone on this host").stale
    True
    """

    path: str
    kind: str  # "claim", "staging", "old target" (moved aside), "broken claim"
    target: str
    job: str
    reason: str = ""  # why it is stale; empty while its job may be alive

    @property
    def stale(self) -> bool:
        return bool(self.reason)

    def describe(self) -> str:
        state = f"stale: {self.reason}" if self.stale else "in use"
        return f"{self.kind:<11} {self.path}  (job {self.job}; {state})"


def _entries(fs, folder: str) -> list[str]:
    try:
        fs.invalidate_cache(folder)
        return sorted(p.rstrip("/") for p in fs.ls(folder, detail=False))
    except (FileNotFoundError, NotADirectoryError):
        return []


def find(fs, path: str, max_age: float | None = None, inside: bool = True) -> list[Leftover]:
    """Claims and staging folders of target ``path`` and, when ``inside``, of the targets inside folder ``path``."""
    max_age = claims.stale_after(max_age)
    root = path.rstrip("/")
    parent, name = posixpath.split(root)
    candidates = [p for p in _entries(fs, parent) if posixpath.basename(p).startswith(f".{name}.mapfold-")]
    if inside and fs.isdir(root):
        candidates += _entries(fs, root)
    found, verdicts = [], {}
    for p in dict.fromkeys(candidates):
        match = _NAME.match(posixpath.basename(p))
        if match is None:
            continue
        target = posixpath.join(posixpath.dirname(p), match["target"])
        if target not in verdicts:
            held = claims.read(fs, claims.claim_path(target))
            verdicts[target] = (held, claims.is_stale(held, max_age) if held is not None else None)
        held, held_stale = verdicts[target]
        if match["claim"] and match["broken"]:
            # a claim being created or broken right now, or left so by a job killed doing it
            age = _age(fs, p)
            reason = f"a claim's temporary copy, {age:.0f} s old" if age > TRANSIENT_SECONDS else ""
            found.append(Leftover(p, "broken claim", target, "?", reason))
        elif match["claim"]:
            if held is not None:
                found.append(Leftover(p, "claim", target, held.job, held_stale or ""))
        else:
            job = match["job"]
            if held is None or held.job != job:
                reason = "its job holds no claim on the target"
            else:
                reason = held_stale or ""
            found.append(Leftover(p, "old target" if match["old"] else "staging", target, job, reason))
    return found


def _age(fs, path: str) -> float:
    try:
        info = fs.info(path)
        mtime = info.get("mtime") or info.get("LastModified") or fs.modified(path)
        return time.time() - (mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime))
    except (OSError, AttributeError, NotImplementedError, TypeError, ValueError):
        return 0.0


def _manifest(fs, root: str) -> dict | None:
    try:
        fs.invalidate_cache(root)
        data = json.loads(fs.cat_file(f"{root}/_SUCCESS") or b"null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def _repair(fs, target: str, job: str, items: list[Leftover]) -> None:
    """Put back a target a dead job ``job`` left absent, or drop the files it copied in unlisted."""
    staging = next((i.path for i in items if i.kind == "staging"), None)
    old = next((i.path for i in items if i.kind == "old target"), None)
    if old is not None and not fs.exists(target):
        # killed between moving the old target aside and moving the new one in
        done = staging is not None and fs.exists(f"{staging}/_SUCCESS")
        fs.mv(staging if done else old, target, recursive=True)
        return
    if not fs.isdir(target):
        return
    manifest = _manifest(fs, target)
    if manifest is None and claims.is_local_fs(fs):
        return  # a local target appears whole, with its _SUCCESS: this one is not mapfold's
    # on an object store, a job killed while copying into a new target leaves its parts and no _SUCCESS
    listed = set(manifest["files"]) if manifest is not None else set()
    ours = manifest is not None and manifest.get("job") == job
    base = target.rstrip("/")
    unlisted = []
    for p in fs.find(base):
        rel = p[len(base):].lstrip("/")
        if any(part.startswith(("_", ".")) for part in rel.split("/")) or rel in listed:
            continue
        if ours or f"-{job[:8]}" in rel:
            unlisted.append(p)
    if unlisted:
        fs.rm(unlisted)


def remove(fs, leftovers: list[Leftover]) -> list[Leftover]:
    """Repair the targets of the stale ``leftovers``, then remove them (claims last); returns those removed."""
    stale = [item for item in leftovers if item.stale]
    by_job: dict = {}
    for item in stale:
        by_job.setdefault((item.target, item.job), []).append(item)
    for (target, job), items in by_job.items():
        if job != "?" and any(i.kind == "claim" for i in items) or any(i.kind == "old target" for i in items):
            _repair(fs, target, job, items)
    removed = []
    for item in sorted(stale, key=lambda i: i.kind == "claim"):
        if item.kind == "claim":
            held = claims.read(fs, item.path)
            if held is None or held.job != item.job or not claims.break_stale(fs, item.path, held):
                continue
        elif fs.exists(item.path):
            fs.rm(item.path, recursive=True)
        removed.append(item)
    return removed


def clean(path: str, storage_options: dict | None = None, max_age=None, dry_run: bool = False) -> list[Leftover]:
    """List the claims and staging folders at ``path``, removing the stale ones unless ``dry_run``.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> os.mkdir(f"{d}/.out.mapfold-tmp-0123abcd")      # a dead job's staging folder
    >>> [(i.kind, i.stale) for i in clean(f"{d}/out")]
    [('staging', True)]
    >>> os.listdir(d)
    []
    """
    from .paths import filesystem
    from .secrets import scrubbed

    fs, root = filesystem(path, storage_options)
    with scrubbed(storage_options):
        found = find(fs, root, max_age)
        if not dry_run:
            remove(fs, found)
    return found
