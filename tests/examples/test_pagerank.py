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


def test_pagerank_joins_never_reshuffle_the_links(serial, example):
    """As in Spark's PageRank: the links are partitioned once and persisted;
    each iteration shuffles only the shares (its reduce_by_key), never the
    links, which every join reads where they lie."""
    import io

    graph = example.make_graph(2000, nodes=300)
    links = mf.from_sequence(graph, partitions=4).partition_by(3).group_by_key().persist()
    try:
        nodes = links.count(runner=serial)
        ranks = example.pagerank_plan(links, nodes, iterations=4)
        result = dict(ranks.collect(runner=serial))
        text = ranks.explain_string()
    finally:
        links.unpersist()
    reference = example.scipy_pagerank(graph, iterations=4)
    assert max(abs(result[p] - reference[p]) for p in reference) < 1e-9
    run = text[text.index("last run:"):]
    map_stages = [line for line in run.splitlines() if "(map side)" in line]
    assert len(map_stages) == 4 and all("reduce_by_key" in line for line in map_stages), run
    assert text.count("join [no shuffle: input already hash-partitioned into 3]") == 4
