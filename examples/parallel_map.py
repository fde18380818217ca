"""Parallel map with a process pool: map, imap, imap_unordered, starmap, chunk sizes.

Chapter 2's idea: a function applied to every item is the easiest code to
parallelize, since no item depends on another. ``mf.Pool`` has the shape of
``multiprocessing.Pool`` and also takes lambdas and closures (they travel
with cloudpickle), and it picks chunk sizes by measuring (``chunksize="auto"``).

    python examples/parallel_map.py [SIZE]      # SIZE: numbers to check (default 200000)
"""
from __future__ import annotations

import argparse
import glob
import itertools
import os
import re
import sysconfig
import time

import mapfold as mf

WORD = re.compile(r"[a-z]+")


def collatz_steps(n: int) -> int:
    """Steps of the Collatz walk from ``n`` down to 1: a small CPU-bound job."""
    steps = 0
    while n > 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def count_word(path: str, word: str) -> int:
    with open(path, encoding="latin-1") as f:
        return sum(WORD.findall(line.lower()).count(word) for line in f)


def main(size: int) -> None:
    numbers = range(1, size + 1)
    expected = list(map(collatz_steps, numbers))  # the one-core reference
    with mf.Pool() as pool:
        # map: results in input order, the same as the builtin map's
        steps = list(pool.map(collatz_steps, numbers))
        print(f"map: {len(steps)} Collatz walks, longest {max(steps)} steps, same as map(): {steps == expected}")

        # chunk sizes: one item per task pays the pool's cost (pickling, two pipe hops)
        # per item; a fixed size must be guessed; "auto" (the default) measures
        sample = numbers[: max(1000, size // 10)]
        for chunksize in (1, 1000, "auto"):
            start = time.perf_counter()
            same = list(pool.map(collatz_steps, sample, chunksize=chunksize)) == expected[: len(sample)]
            print(f"map of {len(sample)} with chunksize={chunksize!r}: {time.perf_counter() - start:.2f} s, "
                  f"same: {same}")

        # imap: lazy, so it works on an endless iterable; take what you need
        first = list(itertools.islice(pool.imap(collatz_steps, itertools.count(1)), 10))
        print(f"imap over itertools.count(), first 10: {first}")

        # imap_unordered: each result as soon as it is ready, in no fixed order
        unordered = list(pool.imap_unordered(lambda n: (n, collatz_steps(n)), numbers))
        print(f"imap_unordered: {len(unordered)} results, same once sorted: "
              f"{[s for _, s in sorted(unordered)] == expected}")

        # starmap: one tuple of arguments per call
        files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))[:40]
        jobs = [(path, word) for path in files for word in ("self", "return")]
        counts = list(pool.starmap(count_word, jobs))
        totals = {word: sum(c for (_, w), c in zip(jobs, counts) if w == word) for word in ("self", "return")}
        print(f"starmap over {len(jobs)} (file, word) pairs: {totals}, "
              f"same as itertools.starmap: {counts == list(itertools.starmap(count_word, jobs))}")


if __name__ == "__main__":  # required: the pool's workers must not run this again
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=200_000, help="how many numbers to walk")
    main(parser.parse_args().size)
