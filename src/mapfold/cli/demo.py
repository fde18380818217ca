"""``mapfold demo``: word frequencies over the Python standard library.

Real text nobody here wrote: the ``.py`` files of the standard library
installed on this machine (site-packages left out).
"""
from __future__ import annotations

import os
import re
import sysconfig
import time

__all__ = ["stdlib_sources", "words", "run_demo"]

_WORD = re.compile(r"[a-z]+")


def words(line: str) -> list[str]:
    """Lower-case alphabetic words of a line.

    >>> words("Hello, World 42 times")
    ['hello', 'world', 'times']
    """
    return _WORD.findall(line.lower())


def stdlib_sources(root: str | None = None) -> list[str]:
    """The ``.py`` files under the standard library folder, sorted."""
    root = root or sysconfig.get_paths()["stdlib"]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__"))
        found.extend(os.path.join(folder, name) for name in sorted(files) if name.endswith(".py"))
    return found


def run_demo(root: str | None = None, top: int = 20, runner: str | None = None, echo=print) -> list[tuple[str, int]]:
    import mapfold as mf

    files = stdlib_sources(root)
    if not files:
        raise mf.InputError(f"no .py files under {root}")
    size = sum(os.path.getsize(p) for p in files)
    echo(f"mapfold demo: word frequencies over {len(files)} standard library files ({size / 1e6:.1f} MB)")
    start = time.perf_counter()
    # latin-1 never fails to decode, and [a-z]+ words read the same in it as in UTF-8
    lines = mf.read_text(files, encoding="latin-1")
    all_words = lines.flat_map(words)
    counts = all_words.count_by_value(runner=runner)  # a Counter per partition, merged here
    best = sorted(counts.items(), key=_rank)[:top]
    seconds = time.perf_counter() - start
    width = max(len(w) for w, _ in best) if best else 4
    for rank, (word, count) in enumerate(best, 1):
        echo(f"{rank:>3}. {word:<{width}}  {count:>9,}")
    total = sum(counts.values())
    echo(f"{total:,} words, {len(counts):,} distinct, {size / 1e6 / seconds:.1f} MB/s, {seconds:.2f} s "
         f"on the {all_words._last_job.runner.describe()} runner")
    return best


def _rank(pair):
    return (-pair[1], pair[0])
