"""Seeded benchmark data, shared by the benchmarks (small and self-contained).

``key_value_lines(lines, keys)``: a text file of ``key<TAB>int`` lines whose
keys follow a Zipf law (exponent 0.9 by default) over ``keys`` distinct
keys, so a few keys are very frequent and most are rare, as words in text.
Files are cached under ``benchmarks/data/`` (ignored by git) by their
parameters, so a second run does not generate them again.

``python benchmarks/data.py --lines 2000000`` writes one and prints its path.
"""
from __future__ import annotations

import argparse
import os

__all__ = ["DATA_DIR", "key_value_lines", "zipf_ranks"]

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
_BLOCK = 1_000_000


def zipf_ranks(n: int, keys: int, exponent: float = 0.9, seed: int = 1):
    """``n`` draws of ranks ``0..keys-1`` with ``P(rank r) ~ (r + 1) ** -exponent``
    (a bounded Zipf law; numpy's own zipf needs an exponent above 1)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    weights = np.arange(1, keys + 1, dtype=np.float64) ** -exponent
    cumulative = np.cumsum(weights)
    cumulative /= cumulative[-1]
    for start in range(0, n, _BLOCK):
        size = min(_BLOCK, n - start)
        yield np.searchsorted(cumulative, rng.random(size)), rng.integers(0, 1000, size)


def key_value_lines(lines: int, keys: int | None = None, exponent: float = 0.9, seed: int = 1) -> str:
    """Path of a cached file of ``lines`` lines ``key<TAB>value``."""
    keys = keys or max(1, lines // 10)
    os.makedirs(DATA_DIR, exist_ok=True)
    path = os.path.join(DATA_DIR, f"kv-{lines}-{keys}-{exponent}-{seed}.tsv")
    if os.path.exists(path):
        return path
    # ranks are shuffled into key names so that key order says nothing of frequency
    import numpy as np

    names = np.random.default_rng(seed + 1).permutation(keys)
    partial = path + ".partial"
    with open(partial, "w") as f:
        for ranks, values in zipf_ranks(lines, keys, exponent, seed):
            f.write("".join(f"key{k}\t{v}\n" for k, v in zip(names[ranks].tolist(), values.tolist())))
    os.replace(partial, path)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="write a benchmark data file")
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--keys", type=int, default=None)
    args = parser.parse_args()
    print(key_value_lines(args.lines, args.keys))
