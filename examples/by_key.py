"""By-key operations: reduce_by_key, group_by_key and join, over the standard library.

Chapter 8's idea: records as ``(key, value)`` pairs, and the operations
that bring together the values of one key wherever they were: reduce them
(summing as it shuffles), group them (every value), or join two Datasets on
their keys. Here the keys are the standard library's packages.

    python examples/by_key.py [SIZE]      # SIZE: modules to read (default: all)
"""
from __future__ import annotations

import argparse
import operator
import os
import sysconfig

import mapfold as mf


def modules(root: str) -> list[tuple[str, str]]:
    """``(package, path)`` for every module under the standard library folder."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__", "test"))
        for name in sorted(files):
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, name), root)
                package = rel.split(os.sep)[0].removesuffix(".py")
                out.append((package, os.path.join(folder, name)))
    return out


def line_count(path: str) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main(size: int | None) -> None:
    root = sysconfig.get_paths()["stdlib"]
    pairs = mf.from_sequence(modules(root)[:size], partitions=4)

    # reduce_by_key: lines per package, summed as the shuffle goes (map-side combine)
    lines = pairs.map_values(line_count).reduce_by_key(operator.add)
    biggest = lines.top(5, key=lambda kv: kv[1])
    print("largest packages by lines:", ", ".join(f"{p} {n:,}" for p, n in biggest))

    # group_by_key: every value of a key together (here: the module names of a package)
    names = pairs.map_values(lambda path: os.path.relpath(path, root)).group_by_key().map_values(sorted)
    grouped = dict(names.collect())
    print(f"{len(grouped)} packages; email has {len(grouped.get('email', []))} modules, "
          f"first: {grouped.get('email', [])[:3]}")

    # join: modules per package with lines per package, on the package's name
    module_counts = pairs.map_values(lambda _: 1).reduce_by_key(operator.add)
    average = lines.join(module_counts).map_values(lambda lm: lm[0] / lm[1])
    for package, mean in sorted(average.collect(), key=lambda kv: -kv[1])[:3]:
        print(f"  {package}: {mean:,.0f} lines per module")

    # the answers, checked against plain Python
    plain: dict[str, int] = {}
    for package, path in modules(root)[:size]:
        plain[package] = plain.get(package, 0) + line_count(path)
    print(f"reduce_by_key agrees with plain Python: {dict(lines.collect()) == plain}; "
          f"join covers every package: {average.count() == len(plain)}")


if __name__ == "__main__":  # required: the runner's worker processes must not run this again
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=None, help="how many modules")
    main(parser.parse_args().size)
