"""Reduce and parallel fold: one accumulator per chunk, then a combiner to merge them.

Chapters 5 and 6's idea: ``functools.reduce`` walks a sequence with an
accumulator; to run it in parallel, each worker folds its own chunk from a
fresh initial value, and a *combiner* merges the chunks' accumulators. The
accumulator and the combiner differ when the accumulator's type is not the
items' type (a dict of counts built from words, a (sum, count) pair).

    python examples/fold.py [SIZE]      # SIZE: standard library files to read (default 200)
"""
from __future__ import annotations

import argparse
import functools
import glob
import operator
import os
import re
import sysconfig

from toolz import frequencies, merge_with

import mapfold as mf

WORD = re.compile(r"[a-z_]+")


def words_of(path: str) -> list[str]:
    with open(path, encoding="latin-1") as f:
        return WORD.findall(f.read().lower())


def add_word(counts: dict, word: str) -> dict:
    """Accumulator: one more word into the counts."""
    counts[word] = counts.get(word, 0) + 1
    return counts


def merge_counts(left: dict, right: dict) -> dict:
    """Combiner: two chunks' counts into one."""
    return merge_with(sum, left, right)


def add_length(acc: tuple, word: str) -> tuple:
    return acc[0] + len(word), acc[1] + 1


def add_pairs(left: tuple, right: tuple) -> tuple:
    return left[0] + right[0], left[1] + right[1]


def main(size: int) -> None:
    files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))[:size]
    words = [w for path in files for w in words_of(path)]

    # one core: functools.reduce, and toolz's frequencies (which is that reduce)
    counts = functools.reduce(add_word, words, {})
    assert counts == frequencies(words)
    print(f"reduce: {len(words)} words, {len(counts)} distinct, most common "
          f"{sorted(counts.items(), key=lambda kv: -kv[1])[:3]}")

    with mf.Pool() as pool:
        # the accumulator and the combiner are the same when items and result share a type
        total = pool.fold(operator.add, range(len(words)), 0)
        print(f"fold(operator.add): {total}, same as sum(): {total == sum(range(len(words)))}")

        # counts: fold words into a dict per chunk, merge the dicts
        parallel = pool.fold(add_word, words, {}, combine=merge_counts)
        print(f"fold(add_word, combine=merge_counts): same as reduce: {parallel == counts}")

        # a mean needs (sum, count) accumulators; the division happens once, at the end
        length, n = pool.fold(add_length, words, (0, 0), combine=add_pairs)
        print(f"mean word length: {length / n:.3f} over {n} words")

        # map then reduce: per-file counts in parallel, merged on the driver
        per_file = list(pool.map(frequencies, map(words_of, files)))
        merged = functools.reduce(merge_counts, per_file, {})
        print(f"map(frequencies) then reduce(merge_counts): same as reduce: {merged == counts}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=200, help="how many standard library files")
    main(parser.parse_args().size)
