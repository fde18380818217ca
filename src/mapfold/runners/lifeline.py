"""A driver's lifeline: what an engine runner started dies with its driver.

A driver killed outright (SIGKILL, the OOM killer, a CI timeout) runs no
cleanup: a Dask ``LocalCluster``'s worker processes wait for a scheduler
that is gone, and the JVM pyspark started finishes its shutdown hooks
(20 s and more while Python tasks run) before it exits. The processes
runner's workers watch their parent themselves (``parallel/executor.py``);
an engine's processes are not ours to change, so a runner that started a
local cluster starts a lifeline beside it: a small Python process, a child
of the driver, told the pids of the engine's processes (``watch``: Dask's
worker processes, the JVM), that every quarter second notes them and their
descendants (the JVM's Python workers) and checks that the driver is still
its parent (the last two notes count: a child of a driver's thread that
died first may already be gone, its children orphaned). Only those: a process the user's program started is not the
lifeline's to end. When the driver is gone it sends SIGTERM to the
processes it last saw, SIGKILL to those still alive
``GRACE_SECONDS`` later, and removes the runner's scratch folder (the spill
files of killed tasks). ``Lifeline.stop()`` (the runner's ``close()``)
ends it first. ``ray.init()`` starts a reaper of its own, but under load its
agents outlived the driver by more than 5 s: a local Ray gets a lifeline
too, watching the processes ``ray.init()`` started.

The lifeline imports nothing but the standard library (``python -S``).
Linux only (it reads ``/proc``); elsewhere ``Lifeline.start`` returns None.
"""
from __future__ import annotations

import os
import subprocess
import sys

__all__ = ["Lifeline", "GRACE_SECONDS", "children"]

GRACE_SECONDS = 2.0  # after SIGTERM, how long before SIGKILL (a driver's watchers allow 5 s in all)

_CODE = r"""
import os, select, shutil, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's; the lifeline waits for its end
driver, grace, folders = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False

def tree(roots):
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/" + name + "/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(name))
    found, stack = [], [pid for pid in roots if alive(pid)]
    found.extend(stack)
    while stack:
        for pid in children.get(stack.pop(), ()):
            found.append(pid)
            stack.append(pid)
    return found

roots, seen, last, reading, pending = set(), [], [], True, b""
while os.getppid() == driver:
    if reading and select.select([0], [], [], 0.25)[0]:
        data = os.read(0, 65536)
        if not data:
            reading = False
        pending += data
        *lines, pending = pending.split(b"\n")
        roots.update(int(line) for line in lines if line.strip())
    elif not reading:
        time.sleep(0.25)
    current = tree(roots) if roots else []
    if os.getppid() != driver:  # taken after the driver died: orphans (its PDEATHSIG children's) are missing
        break
    # with the snapshot before: a driver's thread that forked a PDEATHSIG child (Ray's raylet) can die
    # first, orphaning that child's children while the driver is still this process's parent
    seen, last = list(set(current) | set(last)), current
for pid in seen:
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass
deadline = time.monotonic() + grace
while any(map(alive, seen)) and time.monotonic() < deadline:
    time.sleep(0.05)
for pid in seen:
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
for folder in folders:
    shutil.rmtree(folder, ignore_errors=True)
"""


def children(pid: int | None = None) -> set[int]:
    """The pids of the direct children of ``pid`` (this process), from ``/proc``.

    >>> import subprocess, sys
    >>> child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    >>> child.pid in children()
    True
    >>> child.kill(); child.wait() != 0
    True
    """
    pid = os.getpid() if pid is None else pid
    found = set()
    if not os.path.isdir("/proc"):
        return found
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    if int(f.read().rsplit(b")", 1)[1].split()[1]) == pid:
                        found.add(int(name))
            except (OSError, IndexError, ValueError):
                continue
    return found


class Lifeline:
    """The lifeline process of one runner's local cluster.

    >>> line = Lifeline.start([])
    >>> line is None or line.running
    True
    >>> line is None or line.watch([os.getpid()]) is None  # (not killed: the driver is alive)
    True
    >>> line is None or line.stop() is None
    True
    """

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.watched: set[int] = set()

    @classmethod
    def start(cls, folders: list[str], grace: float = GRACE_SECONDS) -> "Lifeline | None":
        """Start watching this process; ``folders`` are removed when it dies."""
        if not sys.platform.startswith("linux"):
            return None
        process = subprocess.Popen([sys.executable, "-S", "-c", _CODE, str(os.getpid()), str(grace), *folders],
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True, close_fds=True)
        return cls(process)

    def watch(self, pids) -> None:
        """Add processes (and, from then on, their descendants) to those ended with the driver."""
        new = {int(pid) for pid in pids if pid} - self.watched
        if new and self.process.poll() is None:
            self.process.stdin.write("".join(f"{pid}\n" for pid in sorted(new)).encode())
            self.process.stdin.flush()
            self.watched |= new

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """End the lifeline (the runner closes its engine itself)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdin.close()
