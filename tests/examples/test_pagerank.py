"""examples/pagerank.py gives scipy's ranks to 1e-6 on every runner."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import mapfold as mf

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pagerank.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("pagerank_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pagerank_matches_scipy(runner, example):
    graph = example.make_graph(2000, nodes=300)
    assert len(graph) == 2000
    ranks = example.pagerank(mf.from_sequence(graph, partitions=4), iterations=10, runner=runner, partitions=3)
    reference = example.scipy_pagerank(graph, iterations=10)
    assert ranks.keys() == reference.keys()
    assert max(abs(ranks[p] - reference[p]) for p in reference) < 1e-6
    assert abs(sum(ranks.values()) - 1.0) < 1e-9


def test_pagerank_with_spills_matches(example):
    graph = example.make_graph(2000, nodes=300)
    with mf.runner("serial", memory_limit="16kB"):
        ranks = example.pagerank(mf.from_sequence(graph, partitions=4), iterations=3)
    reference = example.scipy_pagerank(graph, iterations=3)
    assert max(abs(ranks[p] - reference[p]) for p in reference) < 1e-6
