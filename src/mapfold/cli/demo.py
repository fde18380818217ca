"""``mapfold demo``: the book's first two jobs on data every Python has.

The data is the ``.py`` files of the standard library installed with the
interpreter (site-packages left out), so the demo needs no download and
no package beyond mapfold's own dependencies:

1. a **word count** (``read_text``, ``flat_map``, ``count_by_value``);
2. a **PageRank of the import graph** (``importgraph.py``: ``flat_map``
   over files, ``distinct``, ``group_by_key``, ``join``, ``reduce_by_key``,
   ``persist``), optionally written as GEXF or GraphML for Gephi.

Then it prints the code it ran (read from these modules' own source, between
``# demo-code`` markers, so it cannot drift) and where to read next.
"""
from __future__ import annotations

import inspect
import os
import re
import sysconfig
import textwrap
import time
from dataclasses import dataclass, field
from typing import Callable

from ..core.config import default_workers
from .importgraph import ImportEdges, import_pagerank, module_name, python_files

__all__ = ["stdlib_sources", "words", "run_demo", "DemoResult", "shown_code", "check_graph_path", "NEXT_STEPS"]

_WORD = re.compile(r"[a-z]+")

NEXT_STEPS = [
    ("README.md, \"A tour\"", "the Dataset operations and actions in twenty lines"),
    ("README.md, \"Picking a runner\"", "serial for pdb, processes by default, dask / spark / ray clusters"),
    ("docs/io.md", "files, folders, globs, .gz/.bz2, S3, Parquet, bad records"),
    ("examples/pagerank.py", "this PageRank on a generated graph, checked against scipy"),
    ("examples/README.md", "one runnable script per chapter idea"),
    ("mapfold demo --graph imports.gexf", "the import graph with its ranks, to open in Gephi"),
]


@dataclass
class DemoResult:
    """What the demo found: the top words and modules, and the whole graph."""

    words: list[tuple[str, int]]
    modules: list[tuple[str, float]]
    edges: list[tuple[str, str]] = field(repr=False)
    ranks: dict[str, float] = field(repr=False)


def words(line: str) -> list[str]:
    """Lower-case alphabetic words of a line.

    >>> words("Hello, World 42 times")
    ['hello', 'world', 'times']
    """
    return _WORD.findall(line.lower())


def stdlib_sources(root: str | None = None) -> list[str]:
    """The ``.py`` files under ``root`` (default: the standard library), sorted.

    >>> any(path.endswith(os.sep + "json" + os.sep + "decoder.py") for path in stdlib_sources())
    True
    """
    return list(python_files(root or sysconfig.get_paths()["stdlib"]))


def run_demo(root: str | None = None, top: int = 10, runner: str | None = None,
             echo: Callable[[str], None] = print, graph: str | None = None,
             iterations: int = 20) -> DemoResult:
    """Run the word count and the import-graph PageRank over ``root``'s
    ``.py`` files, print tables with ``echo``; write the graph to ``graph``
    (``.gexf`` or ``.graphml``) when given.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name, text in {"a.py": "import b\\n", "b.py": "import sys\\n"}.items():
    ...     with open(os.path.join(folder, name), "w") as f:
    ...         _ = f.write(text)
    >>> result = run_demo(folder, runner="serial", echo=lambda line: None)
    >>> [module for module, _ in result.modules]
    ['sys', 'b', 'a']
    """
    import mapfold as mf

    if graph is not None:
        check_graph_path(graph)
    chosen = mf.get_runner(runner)[0]  # a missing engine says what to install before any output
    root = root or sysconfig.get_paths()["stdlib"]
    files = stdlib_sources(root)
    if not files:
        raise mf.InputError(f"no .py files under {root}: point --path at a folder of Python sources", path=root)
    size = sum(os.path.getsize(p) for p in files)
    echo(f"mapfold demo: {len(files):,} Python files under {root} ({size / 1e6:.1f} MB)")

    echo("")
    start = time.perf_counter()
    # demo-code: 1. word count
    lines = mf.read_text(files, encoding="latin-1")  # latin-1 never fails; [a-z]+ reads the same
    counts = lines.flat_map(words).count_by_value(runner=runner)  # a Counter per partition, merged
    # demo-code: end
    best = sorted(counts.items(), key=_by_count)[:top]
    seconds = time.perf_counter() - start
    echo(f"1. Word count: {sum(counts.values()):,} words, {len(counts):,} distinct, "
         f"{seconds:.2f} s ({size / 1e6 / seconds:.0f} MB/s) on the {chosen.describe()} runner")
    echo(_table(["#", "word", "count"], [(i, w, f"{c:,}") for i, (w, c) in enumerate(best, 1)]))

    echo("")
    start = time.perf_counter()
    modules = [module_name(path, root) for path in files]
    # demo-code: 2. the import graph, ranked
    edges = mf.from_sequence(files).flat_map(ImportEdges(root, modules)).distinct().persist()
    ranks = import_pagerank(edges, iterations, runner=runner, partitions=default_workers())
    # demo-code: end
    try:
        imported_by = edges.values().count_by_value(runner=runner)
        imports = edges.count_by_key(runner=runner)
        edge_list = sorted(edges.collect(runner=runner))
    finally:
        edges.unpersist()
    seconds = time.perf_counter() - start
    leaders = sorted(ranks.items(), key=_by_count)[:top]
    echo(f"2. PageRank of the import graph: {len(ranks):,} modules, {len(edge_list):,} imports, "
         f"{iterations} iterations, {seconds:.2f} s")
    echo(_table(["#", "module", "rank", "imported by", "imports"],
                [(i, m, f"{r:.4f}", f"{imported_by.get(m, 0):,}", f"{imports.get(m, 0):,}")
                 for i, (m, r) in enumerate(leaders, 1)]))
    if graph is not None:
        from .graphfile import write_graph

        kind = write_graph(graph, edge_list, ranks)
        echo(f"   graph written to {graph} ({kind.upper()}: open it in Gephi, size nodes by 'pagerank')")

    echo("")
    echo("The code that ran:")
    echo(textwrap.indent(shown_code(), "    "))
    echo("")
    echo("Where next:")
    width = max(len(where) for where, _ in NEXT_STEPS)
    for where, what in NEXT_STEPS:
        echo(f"    {where:<{width}}  {what}")
    return DemoResult(best, leaders, edge_list, ranks)


def shown_code() -> str:
    """The demo's jobs as they are written, between ``# demo-code`` markers.

    >>> "count_by_value" in shown_code() and "reduce_by_key" in shown_code()
    True
    """
    from . import importgraph

    blocks = []
    for module in (inspect.getmodule(run_demo), importgraph):
        source = inspect.getsource(module)
        where = "mapfold/" + module.__name__.split(".", 1)[1].replace(".", "/") + ".py"
        for title, block in re.findall(r"# demo-code: (?!end)([^\n]+)\n(.*?)\n[ \t]*# demo-code: end", source, re.S):
            blocks.append(f"# {title} ({where})\n" + textwrap.dedent(block))
    return "\n\n".join(blocks)


def check_graph_path(graph: str) -> None:
    """``ValueError`` unless ``graph`` names a ``.gexf`` or ``.graphml`` file in an existing folder.

    >>> check_graph_path("out.svg")
    Traceback (most recent call last):
    ValueError: must end in .gexf or .graphml, not 'out.svg'
    """
    from .graphfile import GRAPH_FORMATS

    if os.path.splitext(graph)[1].lower() not in GRAPH_FORMATS:
        raise ValueError(f"must end in {' or '.join(GRAPH_FORMATS)}, not {graph!r}")
    folder = os.path.dirname(os.path.abspath(graph))
    if not os.path.isdir(folder):
        raise ValueError(f"folder {folder} does not exist")


def _table(header: list[str], rows: list[tuple]) -> str:
    """Rows under a header; the first two columns left-aligned, numbers right.

    >>> print(_table(["#", "word", "count"], [(1, "self", "10"), (2, "x", "9")]))
       #  word  count
       1  self     10
       2  x         9
    """
    cells = [list(map(str, header))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [row[0].rjust(widths[0]), row[1].ljust(widths[1])]
        parts += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:])]
        lines.append("   " + "  ".join(parts).rstrip())
    return "\n".join(lines)


def _by_count(pair):
    return (-pair[1], pair[0])
