"""Lazy workflows: iglob, filter, map and zip that read only what is asked for.

Chapter 4's idea: iterators compute one item when the next step asks for
it, so a chain over thousands of files holds one line in memory and stops
reading as soon as it has its answer. A mapfold Dataset is lazy the same
way: transformations only describe the work; an action runs it.

    python examples/lazy_workflows.py [SIZE]      # SIZE: lines to take (default 20)
"""
from __future__ import annotations

import argparse
import glob
import itertools
import os
import sysconfig

import mapfold as mf

opened: list[str] = []  # the files the lazy chain really opened


def lines_of(path: str):
    opened.append(path)
    with open(path, encoding="latin-1") as f:
        yield from f


def main(size: int) -> None:
    root = sysconfig.get_paths()["stdlib"]
    pattern = os.path.join(root, "**", "*.py")

    # iglob lists files one at a time; nothing is open yet
    paths = glob.iglob(pattern, recursive=True)
    # map + chain: every line of every file, read when asked for
    lines = itertools.chain.from_iterable(map(lines_of, paths))
    # filter: the lines that define a function
    definitions = filter(lambda line: line.lstrip().startswith("def "), lines)
    # zip with a counter: number them, still lazily
    numbered = zip(itertools.count(1), definitions)
    print(f"built the chain; files opened so far: {len(opened)}")

    first = list(itertools.islice(numbered, size))
    for number, line in first[:3]:
        print(f"  {number}: {line.strip()}")
    total = sum(1 for _ in glob.iglob(pattern, recursive=True))
    print(f"took {len(first)} definitions, opening {len(opened)} of {total} files")

    # the Dataset version: the same steps, nothing read until the action
    files = sorted(glob.glob(os.path.join(root, "*.py")))
    ds = mf.read_text(files, encoding="latin-1").filter(lambda line: line.lstrip().startswith("def "))
    print(f"Dataset built over {len(files)} files: {ds!r}")
    taken = ds.take(size, runner="serial")  # scans partitions one at a time until it has enough
    print(f"take({size}) on the serial runner: {len(taken)} definitions, first: {taken[0].strip()}")
    print(f"count() on all cores: {ds.count()} definitions in {len(files)} top-level modules")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=20, help="how many lines to take")
    main(parser.parse_args().size)
