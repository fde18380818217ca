"""Function pipelines with toolz: compose and pipe, then the same function on a pool.

Chapter 3's idea: build a job out of small functions, each one step, and
chain them (``compose`` reads right to left, ``pipe`` left to right). The
chained function is one plain function, so it runs as well in a
``mf.Pool`` as in the builtin ``map``.

    python examples/pipelines.py [SIZE]      # SIZE: standard library files to read (default 200)
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import string
import sysconfig
from collections import Counter

from toolz import compose, pipe
from toolz.curried import filter as cfilter
from toolz.curried import map as cmap

import mapfold as mf

PUNCTUATION = str.maketrans(string.punctuation, " " * len(string.punctuation))
STOP_WORDS = frozenset({"the", "a", "an", "of", "to", "in", "is", "and", "if", "for", "be", "it", "not"})


def read(path: str) -> str:
    with open(path, encoding="latin-1") as f:
        return f.read()


def comments(source: str) -> list[str]:
    """The text of a module's ``#`` comments."""
    return re.findall(r"#(.*)", source)


def words(lines: list[str]) -> list[str]:
    return " ".join(lines).lower().translate(PUNCTUATION).split()


def meaningful(all_words: list[str]) -> list[str]:
    return [w for w in all_words if w not in STOP_WORDS and w.isalpha() and len(w) > 2]


# compose: read a file, keep its comments, cut them into words, drop the noise, count
comment_words = compose(Counter, meaningful, words, comments, read)


def main(size: int) -> None:
    files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))[:size]

    # pipe: the same steps, left to right, on one value
    first = pipe(files[0], read, comments, words, meaningful, Counter)
    assert first == comment_words(files[0])
    print(f"pipe on {os.path.basename(files[0])}: {first.most_common(3)}")

    # curried map and filter make steps over many values; pipe still reads top to bottom
    big_modules = pipe(files, cmap(lambda p: (os.path.basename(p), len(read(p).splitlines()))),
                       cfilter(lambda name_lines: name_lines[1] > 1000), list)
    print(f"{len(big_modules)} of {len(files)} modules have more than 1000 lines")

    # the composed function is one function: the builtin map and a pool give the same counts
    one_core = sum(map(comment_words, files), Counter())
    with mf.Pool() as pool:
        parallel = sum(pool.map(comment_words, files), Counter())
    print(f"most common comment words in {len(files)} modules: {parallel.most_common(5)}")
    print(f"pool.map(compose(...)) same as map(): {parallel == one_core}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=200, help="how many standard library files")
    main(parser.parse_args().size)
