"""A driver whose shuffle spills more than its disk holds (tests/drills/test_drill_spill.py).

``python spill_driver.py RUNNER [FSIZE]``: with ``FSIZE``, files may not grow
past that many bytes (``RLIMIT_FSIZE``, SIGXFSZ ignored: writes fail with
EFBIG); without, the test has pointed ``MAPFOLD_SCRATCH`` at a small tmpfs.
Prints the error as JSON and exits 3 on ``SpillError``.
"""
from __future__ import annotations

import json
import resource
import signal
import sys

import mapfold as mf
from mapfold.runners import make_runner

BUDGET = "8MB"

if __name__ == "__main__":
    name = sys.argv[1]
    if len(sys.argv) > 2:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
    options = {"workers": 2} if name == "processes" else {}
    runner = make_runner(name, memory_limit=BUDGET, **options)
    pairs = mf.from_sequence(range(300_000), partitions=2).map(lambda i: (f"key-{i:08d}", "v" * 64))
    try:
        pairs.reduce_by_key(lambda a, b: a).count(runner=runner, progress=False)
    except mf.SpillError as exc:
        print(json.dumps({"type": type(exc).__name__, "oserror": isinstance(exc, OSError), "errno": exc.errno,
                          "folder": exc.folder, "written": exc.written, "budget": exc.budget,
                          "disk_size": exc.disk_size, "disk_free": exc.disk_free,
                          "message": str(exc)}))
        sys.exit(3)
    finally:
        runner.close()
    print("no error")
