"""Word count with a Dataset: flat_map, map, reduce_by_key, top; on any runner.

Chapters 7 and 8's idea: the map and reduce steps of chapters 2 to 6, on a
lazy, partitioned collection that splits files into partitions, combines
counts on the map side, shuffles by key and runs the same way on one core,
all local cores or a cluster engine.

    python examples/word_count.py [SIZE] [--runner serial|processes|dask|spark|ray]
    # SIZE: standard library files to read (default: all of its top-level modules)
"""
from __future__ import annotations

import argparse
import glob
import operator
import os
import re
import sysconfig
import time

import mapfold as mf

WORD = re.compile(r"[a-z]+")


def words(line: str) -> list[str]:
    return WORD.findall(line.lower())


def main(size: int | None, runner: str) -> None:
    files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))[:size]
    lines = mf.read_text(files, encoding="latin-1")  # latin-1 decodes any byte
    counts = (lines.flat_map(words)                  # nothing runs yet: a plan
                   .map(lambda w: (w, 1))
                   .reduce_by_key(operator.add))     # combined per partition, then shuffled by word

    start = time.perf_counter()
    top = counts.top(10, key=lambda kv: kv[1], runner=runner)  # the action runs the plan
    took = time.perf_counter() - start
    print(f"{len(files)} files, {lines.num_partitions} partitions, on {runner}: {took:.2f} s")
    for word, n in top:
        print(f"  {word:<10} {n:>8,}")

    # the same answer by two other routes: count_by_value, and plain Python
    by_value = lines.flat_map(words).count_by_value(runner=runner)
    plain: dict[str, int] = {}
    for path in files:
        with open(path, encoding="latin-1") as f:
            for line in f:
                for w in words(line):
                    plain[w] = plain.get(w, 0) + 1
    same = dict(counts.collect(runner=runner)) == by_value == plain
    print(f"{len(plain):,} distinct words; reduce_by_key, count_by_value and plain Python agree: {same}")


if __name__ == "__main__":  # required: the runner's worker processes must not run this again
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=None, help="how many standard library files")
    parser.add_argument("--runner", default="processes", help="serial, processes, dask, spark or ray")
    args = parser.parse_args()
    main(args.size, args.runner)
