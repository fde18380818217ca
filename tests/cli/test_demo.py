"""``mapfold demo``: word count and import-graph PageRank, tables, graph files, clear errors."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from mapfold.cli.demo import run_demo, shown_code
from mapfold.cli.importgraph import ImportEdges, module_name
from mapfold.cli.main import main

TREE = {
    "app/__init__.py": "from . import core\nimport sys\n",
    "app/core.py": "import os.path\nfrom app.util import (helper,\n    other)\nfrom __future__ import annotations\n",
    "app/util.py": "import json  # a standard module without a file here: still a node\nimport re, sys\n",
    "tool.py": "from app import core, util as u\nimport app.core\n",
}


@pytest.fixture
def tree(tmp_path):
    for name, text in TREE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_import_edges_resolve_relative_dotted_and_builtin_names(tree):
    modules = [module_name(str(tree / name), str(tree)) for name in TREE]
    assert modules == ["app", "app.core", "app.util", "tool"]
    edges = ImportEdges(str(tree), modules)
    found = {name: edges(str(tree / name)) for name in TREE}
    assert found["app/__init__.py"] == [("app", "app.core"), ("app", "sys")]
    # os.path -> os (a built-in standard name); the parenthesised names resolve to app.util; no __future__
    assert found["app/core.py"] == [("app.core", "app.util"), ("app.core", "os")]
    assert found["app/util.py"] == [("app.util", "json"), ("app.util", "re"), ("app.util", "sys")]
    assert found["tool.py"] == [("tool", "app.core"), ("tool", "app.util")]


@pytest.mark.parametrize("runner_name", ["serial", "processes"])
def test_demo_ranks_sum_to_one_and_match_a_plain_python_pagerank(tree, runner_name):
    lines = []
    result = run_demo(str(tree), top=3, runner=runner_name, echo=lines.append, iterations=30)
    assert abs(sum(result.ranks.values()) - 1) < 1e-9
    assert result.ranks == pytest.approx(_plain_pagerank(result.edges, 30), abs=1e-12)
    assert [module for module, _ in result.modules] == sorted(result.ranks, key=lambda m: -result.ranks[m])[:3]
    text = "\n".join(lines)
    assert "1. Word count" in text and "2. PageRank of the import graph" in text
    assert "The code that ran:" in text and "reduce_by_key" in text and "Where next:" in text


def _plain_pagerank(edges, iterations, damping=0.85):
    nodes = sorted({n for edge in edges for n in edge})
    out = {n: [t for s, t in edges if s == n] for n in nodes}
    ranks = {n: 1 / len(nodes) for n in nodes}
    for _ in range(iterations):
        dangling = sum(ranks[n] for n in nodes if not out[n])
        new = {n: (1 - damping) / len(nodes) + damping * dangling / len(nodes) for n in nodes}
        for n in nodes:
            for t in out[n]:
                new[t] += damping * ranks[n] / len(out[n])
        ranks = new
    return ranks


def test_cli_demo_prints_tables_and_writes_gexf(tree, tmp_path):
    out = tmp_path / "imports.gexf"
    result = CliRunner().invoke(main, ["demo", "--path", str(tree), "-r", "serial", "--top", "2",
                                       "--graph", str(out)])
    assert result.exit_code == 0, result.output
    assert "module" in result.output and "imported by" in result.output
    ns = {"g": "http://gexf.net/1.3"}
    root = ET.parse(out).getroot()
    nodes = {node.get("id"): float(node.find("g:attvalues/g:attvalue", ns).get("value"))
             for node in root.iterfind("g:graph/g:nodes/g:node", ns)}
    edges = {(e.get("source"), e.get("target")) for e in root.iterfind("g:graph/g:edges/g:edge", ns)}
    assert ("tool", "app.core") in edges and len(edges) == 9
    assert set(nodes) == {"app", "app.core", "app.util", "tool", "sys", "os", "re", "json"}
    assert abs(sum(nodes.values()) - 1) < 1e-9


def test_graphml_output(tree, tmp_path):
    out = tmp_path / "imports.graphml"
    run_demo(str(tree), runner="serial", echo=lambda line: None, graph=str(out))
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    graph = ET.parse(out).getroot().find("g:graph", ns)
    assert graph.get("edgedefault") == "directed"
    assert len(graph.findall("g:node", ns)) == 8 and len(graph.findall("g:edge", ns)) == 9


def test_folder_without_python_files_is_a_one_line_usage_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no python here\n")
    result = CliRunner().invoke(main, ["demo", "--path", str(tmp_path), "-r", "serial"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"Error: no .py files under {tmp_path}" in result.output


@pytest.mark.parametrize("graph, message", [("out.svg", "must end in .gexf or .graphml"),
                                            ("/no/such/folder/out.gexf", "does not exist")])
def test_bad_graph_path_is_refused_before_any_job_runs(tree, graph, message):
    result = CliRunner().invoke(main, ["demo", "--path", str(tree), "-r", "serial", "--graph", graph])
    assert result.exit_code == 2 and message in result.output
    assert "Word count" not in result.output


def test_shown_code_is_the_code_in_the_modules():
    code = shown_code()
    assert "mf.read_text(files" in code and "links.join(ranks, partitions)" in code
    assert "demo-code" not in code


def test_missing_engine_is_one_line_saying_what_to_install(tree, monkeypatch):
    import sys

    import mapfold.runners as runners

    monkeypatch.setitem(sys.modules, "distributed", None)  # as in a `make demo` install: no engines
    monkeypatch.delitem(sys.modules, "mapfold.runners.dask", raising=False)
    monkeypatch.setattr(runners, "_defaults", {})
    result = CliRunner().invoke(main, ["demo", "--path", str(tree), "-r", "dask"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: the 'dask' runner is not available")
    assert "pip install 'mapfold[dask]'" in result.output
