"""mf.Pool against multiprocessing.Pool on the book's pool programs (chapters 2-6).

    python benchmarks/pool.py [--items 2000000]

Each job runs in its own process (``harness.measure``), once with each pool,
on the same data, with the same defaults a reader would use (no chunksize):

* ``map``: a cheap function over N ints (multiprocessing: len/(4*processes) chunks);
* ``imap``: the same lazily (multiprocessing's default chunksize is 1);
* ``imap, stateful``: a ``partial`` holding a dict (each of multiprocessing's
  chunks gets a fresh copy: mf.Pool unpickles one per item here too, to give
  the same answers);
* ``toolz fold``: ``fold(add_word, words, {}, map=pool.imap)``, the book's
  parallel fold.

Prints wall time, CPU, peak memory of the process tree and the ratio to
multiprocessing; the answers of both pools are checked equal.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import machine, measure, print_table  # noqa: E402


def cheap(x: int) -> int:
    return (x * 2654435761) % 1000003


def count_into(table: dict, x: int) -> int:
    table[x % 7] = table.get(x % 7, 0) + 1
    return table[x % 7]


def add_word(acc: dict, word: str) -> dict:
    acc[word] = acc.get(word, 0) + 1
    return acc


def merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def job(pool_name: str, task: str, items: int) -> str:
    import mapfold as mf

    Pool = mf.Pool if pool_name == "mapfold" else multiprocessing.Pool
    with Pool(2) as pool:
        if task == "map":
            result = pool.map(cheap, range(items))
        elif task == "imap":
            result = list(pool.imap(cheap, range(items // 10)))
        elif task == "imap-stateful":
            result = list(pool.imap(functools.partial(count_into, {}), range(items // 10)))
        elif task == "toolz-fold":
            from toolz.sandbox.parallel import fold

            words = [f"w{cheap(i) % 5000}" for i in range(items // 2)]
            result = sorted(fold(add_word, words, {}, map=pool.imap, chunksize=1000, combine=merge).items())
        else:
            raise SystemExit(f"unknown task {task}")
    return hashlib.sha1(repr(result).encode()).hexdigest()


TASKS = ["map", "imap", "imap-stateful", "toolz-fold"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2_000_000)
    parser.add_argument("--run", nargs=2, metavar=("POOL", "TASK"))
    args = parser.parse_args()
    if args.run:
        print("RESULT " + json.dumps({"digest": job(args.run[0], args.run[1], args.items)}))
        return
    print(machine())
    for task in TASKS:
        rows = []
        for pool_name in ("multiprocessing", "mapfold"):
            rows.append((pool_name, measure([sys.executable, __file__, "--items", str(args.items),
                                             "--run", pool_name, task])))
        digests = {r.get("digest") for _, r in rows}
        print_table(f"{task} ({args.items:,} items; answers {'agree' if len(digests) == 1 else 'DIFFER'})",
                    rows, "multiprocessing")


if __name__ == "__main__":
    main()
