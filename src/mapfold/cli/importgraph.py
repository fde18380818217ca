"""The demo's second job: PageRank of a source tree's import graph.

Nodes are modules (``json/decoder.py`` is ``json.decoder``, a package's
``__init__.py`` the package itself, plus the built-in modules such as
``sys`` that have no ``.py`` file); an edge ``a -> b`` says ``a`` imports
``b``. The edges are found inside a mapfold job, one file per record, with
a regular expression rather than ``ast``: parsing the standard library's
31 MB with ``ast`` takes about 20 s of CPU, the regex under one, and an
import statement is one of the few things a regex reads reliably (a stray
``import`` at the start of a docstring line costs at most an extra edge).

PageRank is the classic iteration, with the rank of modules that import
nothing (``sys``, ``abc``...) spread over every module, so ranks always
sum to 1::

    r(j) = (1 - d) / N + d * (sum over i -> j of r(i) / outdegree(i) + D / N)

where ``D`` is the rank held by modules without imports.
"""
from __future__ import annotations

import operator
import os
import re
import sys
from typing import Iterable, Iterator

__all__ = ["module_name", "ImportEdges", "import_pagerank"]

_FROM = re.compile(r"^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#;]+)", re.M)
_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# names that have no .py file but are standard modules all the same (sys, _io, math...)
_BUILTIN = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)


def module_name(path: str, root: str) -> str:
    """The dotted module name of a ``.py`` file under ``root``.

    >>> module_name("/lib/json/decoder.py", "/lib"), module_name("/lib/json/__init__.py", "/lib")
    ('json.decoder', 'json')
    """
    parts = os.path.relpath(path, root)[:-3].split(os.sep)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


class ImportEdges:
    """``path -> [(module, imported module), ...]``, each edge once per file.

    Only imports of modules in ``modules`` (those under ``root``) or of
    built-in standard modules become edges; ``from __future__`` is a
    compiler switch, not a dependency, and is left out.

    >>> edges = ImportEdges("/lib", {"json", "json.decoder", "json.scanner"})
    >>> edges.of_source("json.decoder", False, "import re, sys\\nfrom .scanner import make_scanner\\n")
    [('json.decoder', 'json.scanner'), ('json.decoder', 're'), ('json.decoder', 'sys')]
    """

    def __init__(self, root: str, modules: Iterable[str]):
        self.root = root
        self.modules = frozenset(modules)

    def __call__(self, path: str) -> list[tuple[str, str]]:
        with open(path, encoding="latin-1") as f:  # latin-1 never fails; import lines are ASCII
            text = f.read()
        return self.of_source(module_name(path, self.root), path.endswith("__init__.py"), text)

    def of_source(self, module: str, is_package: bool, text: str) -> list[tuple[str, str]]:
        found = set()
        for line in _IMPORT.finditer(text):
            for name in line.group(1).split(","):
                words = name.split()
                if words and _NAME.fullmatch(words[0]):
                    found.add(self._resolve(words[0]))
        package = module if is_package else module.rpartition(".")[0]
        for line in _FROM.finditer(text):
            source, names = line.groups()
            level = len(source) - len(source.lstrip("."))
            base = source[level:]
            if level:
                parent = package.split(".") if package else []
                parent = parent[:len(parent) - (level - 1)] if level > 1 else parent
                base = ".".join(parent + ([base] if base else []))
            if not base or base == "__future__":
                continue
            for name in names.strip("()").replace("\n", " ").split(","):
                words = name.split()
                sub = f"{base}.{words[0]}" if words else ""
                found.add(sub if sub in self.modules else self._resolve(base))
        found.discard(None)
        found.discard(module)
        return sorted((module, target) for target in found)

    def _resolve(self, name: str) -> str | None:
        """The longest known module that ``name`` starts with (``os.path`` -> ``os``)."""
        parts = name.split(".")
        while parts:
            candidate = ".".join(parts)
            if candidate in self.modules:
                return candidate
            parts.pop()
        top = name.split(".")[0]
        return top if top in _BUILTIN else None


class _Shares:
    """``(module, (imports, rank))`` -> ``(imported, rank / len(imports))`` each."""

    def __call__(self, record) -> list:
        _, (targets, rank) = record
        share = rank / len(targets)
        return [(target, share) for target in targets]


class _Damp:
    """A module's new rank from the shares it received (see the module docstring)."""

    def __init__(self, nodes: int, damping: float, dangling: float):
        self.base = (1 - damping) / nodes + damping * dangling / nodes
        self.damping = damping

    def __call__(self, received: float) -> float:
        return self.base + self.damping * received


def _zero(module: str) -> tuple:
    return (module, 0.0)


def _initial(nodes: int):
    return lambda module: (module, 1.0 / nodes)


def import_pagerank(edges, iterations: int = 20, damping: float = 0.85, runner=None,
                    partitions: int | None = None) -> dict:
    """``{module: rank}`` of a Dataset of ``(module, imported)`` edges;
    ``partitions`` for every shuffle (default: as many as ``edges`` has).

    >>> import mapfold as mf
    >>> ranks = import_pagerank(mf.from_sequence([("a", "sys"), ("b", "sys"), ("b", "a")]), runner="serial")
    >>> sorted(ranks, key=ranks.get, reverse=True), round(sum(ranks.values()), 9)
    (['sys', 'a', 'b'], 1.0)
    """
    # demo-code: import_pagerank: one action per iteration
    nodes = edges.flat_map(list).distinct(partitions).persist()  # every module, importing or imported
    links = edges.group_by_key(partitions).persist()             # module -> [modules it imports]
    n = nodes.count(runner=runner)
    ranks, summed = nodes.map(_initial(n)), None
    for _ in range(iterations):
        shares = links.join(ranks, partitions).flat_map(_Shares()).union(nodes.map(_zero))
        summed, previous = shares.reduce_by_key(operator.add, partitions).persist(), summed
        dangling = 1.0 - summed.values().sum(runner=runner)  # rank of modules importing nothing
        ranks = summed.map_values(_Damp(n, damping, dangling))
        # demo-code: end
        if previous is not None:
            previous.unpersist()
    try:
        return dict(ranks.collect(runner=runner))
    finally:
        for kept in (summed, links, nodes):
            if kept is not None:
                kept.unpersist()


def python_files(root: str) -> Iterator[str]:
    """The ``.py`` files under ``root``, sorted, site-packages left out."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__"))
        yield from (os.path.join(folder, name) for name in sorted(files) if name.endswith(".py"))
