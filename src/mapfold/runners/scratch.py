"""A runner's scratch folder, and the sweep of folders whose driver died.

A runner's ``close()`` removes its folder, and an engine runner's lifeline
(``runners/lifeline.py``) removes it when the driver is killed. The serial
and processes runners start no lifeline, so a driver killed outright
(SIGKILL, the OOM killer, a CI timeout) left its spill and cache files
behind. Each scratch folder therefore holds an ``owner`` file that its
driver keeps locked (``flock``) while the folder is in use: the kernel
drops the lock when the last process holding the file dies, however it
dies, so a lock that can be taken means nobody uses the folder any more.
Making a scratch folder first removes such folders of earlier drivers in
the same place: the way Dask's worker space purges the folders of dead
workers, with a lock rather than a pid, which a new process may reuse.

Forked workers inherit the lock (the processes runner's pool forks from
the driver), so a folder stays while a worker of its driver still runs.
Folders without an ``owner`` file (another program's, an older mapfold's)
and folders of other users (mode 0700) are never touched. Where ``fcntl``
is missing (Windows) there is no lock and no sweep.
"""
from __future__ import annotations

import os
import shutil
import tempfile

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; folders of killed drivers stay
    fcntl = None

__all__ = ["Scratch", "sweep_stale", "OWNER", "PREFIX"]

OWNER = "owner"  # the file a live driver holds locked inside its scratch folder
PREFIX = "mapfold-"


class Scratch:
    """A private folder (mode 0700) that its maker holds until :meth:`remove`.

    >>> import tempfile, os
    >>> base = tempfile.mkdtemp()
    >>> s = Scratch.make("mapfold-serial-", base)
    >>> os.path.basename(s.path).startswith("mapfold-serial-"), sweep_stale(base)
    (True, [])
    >>> s.remove(); os.listdir(base)
    []
    """

    def __init__(self, path: str, lock_fd: int | None):
        self.path = path
        self._lock_fd = lock_fd

    @classmethod
    def make(cls, prefix: str, base: str | None = None) -> "Scratch":
        """Sweep ``base`` (the system temp folder by default) of dead drivers'
        folders, then make a new folder there and take its lock."""
        root = base or tempfile.gettempdir()
        os.makedirs(root, exist_ok=True)
        sweep_stale(root)
        path = tempfile.mkdtemp(prefix=prefix, dir=root)
        os.chmod(path, 0o700)
        lock_fd = None
        if fcntl is not None:
            # locked before it has the name a sweep opens: no sweep can take a new folder's lock
            pending = os.path.join(path, OWNER + ".new")
            lock_fd = os.open(pending, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            os.rename(pending, os.path.join(path, OWNER))
        return cls(path, lock_fd)

    def exists(self) -> bool:
        return os.path.isdir(self.path)

    def remove(self) -> None:
        """Remove the folder and let go of its lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def sweep_stale(root: str, dry_run: bool = False) -> list[str]:
    """Remove the ``mapfold-*`` folders in ``root`` whose owner lock nobody
    holds (their driver and its workers are gone); return their paths.
    ``dry_run``: only list them."""
    if fcntl is None:
        return []
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        try:
            fd = os.open(os.path.join(entry.path, OWNER), os.O_RDWR)
        except OSError:  # no owner file (not a runner's folder, or not ours to open): leave it
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a live driver's
            os.close(fd)
            continue
        try:
            if not dry_run:
                shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
        finally:
            os.close(fd)
    return removed
