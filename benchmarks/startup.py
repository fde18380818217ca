"""A trivial job as a whole ``python -c`` process: how long until the answer?

    python benchmarks/startup.py [--repeat 5]

Runs ``from_sequence(range(1000)).map(f).sum()`` on mapfold's processes
runner and the same sum on multiprocessing.Pool, Dask (processes) and PySpark
local[2] when installed; prints the median of ``--repeat`` runs.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time

JOBS = {
    "mapfold-processes": (None, "import mapfold as mf\n"
                                "print(mf.from_sequence(range(1000)).map(lambda x: x * 2).sum())"),
    "mapfold-serial": (None, "import mapfold as mf\n"
                             "print(mf.from_sequence(range(1000)).map(lambda x: x * 2).sum(runner='serial'))"),
    "multiprocessing.Pool": (None, "import multiprocessing as mp\n"
                                   "def f(x): return x * 2\n"
                                   "if __name__ == '__main__':\n"
                                   "    with mp.Pool(2) as p: print(sum(p.map(f, range(1000))))"),
    "dask-bag": ("dask", "import dask.bag as db\n"
                         "print(db.from_sequence(range(1000), npartitions=4).map(lambda x: x * 2)"
                         ".sum().compute(scheduler='processes', num_workers=2))"),
    "pyspark": ("pyspark", "from pyspark import SparkContext\n"
                           "sc = SparkContext('local[2]', 'startup'); sc.setLogLevel('ERROR')\n"
                           "print(sc.parallelize(range(1000)).map(lambda x: x * 2).sum()); sc.stop()"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    from harness import machine

    print(f"trivial job as a whole process, median of {args.repeat}\n{machine()}")
    base = None
    for name, (module, code) in JOBS.items():
        if module and importlib.util.find_spec(module) is None:
            print(f"{name:<24} not installed")
            continue
        times = []
        for _ in range(args.repeat if module != "pyspark" else max(1, args.repeat // 2)):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if out.stdout.strip().splitlines()[-1:] != ["999000"]:
                print(f"{name}: wrong output {out.stdout!r} {out.stderr[-500:]!r}")
                break
        median = statistics.median(times)
        base = base or median
        print(f"{name:<24} {median:6.3f} s   {median / base:5.2f}x mapfold-processes")


if __name__ == "__main__":
    main()
