"""PageRank with mapfold's Dataset: group_by_key, persist, join, flat_map, reduce_by_key.

The graph's adjacency lists are hash-partitioned once and persisted, as in
Spark's own PageRank; each of the iterations joins them with the current
ranks, sends each page's rank in equal shares along its links and sums the
shares per page::

    r(j) = (1 - d) / N + d * sum over links i -> j of r(i) / outdegree(i)

(every page of the generated graphs has at least one link in and out, so
no rank leaks away). The ranks come out of ``reduce_by_key`` partitioned
the way the links are, so each iteration's join reads the persisted links
where they lie: only the shares are shuffled, never the links
(``pagerank_plan(...).explain()`` shows the skipped shuffles).
``python examples/pagerank.py --edges 20000`` runs it and compares with a
scipy sparse power iteration.
"""
from __future__ import annotations

import argparse
import operator
import random
import time
from itertools import repeat

import mapfold as mf

__all__ = ["make_graph", "pagerank", "pagerank_plan", "scipy_pagerank"]


def make_graph(edges: int, nodes: int | None = None, seed: int = 1) -> list[tuple[int, int]]:
    """``edges`` distinct directed edges over ``nodes`` pages: a ring (so
    every page links and is linked) plus random links, skewed to favour
    low page numbers (a few popular pages, as on the web)."""
    nodes = nodes or max(2, edges // 10)
    rng = random.Random(seed)
    out = {(i, (i + 1) % nodes) for i in range(nodes)}
    while len(out) < edges:
        src = rng.randrange(nodes)
        dst = min(int(rng.paretovariate(1.2)) - 1, nodes - 1) if rng.random() < 0.5 else rng.randrange(nodes)
        if src != dst:
            out.add((src, dst))
    return sorted(out)


class _Shares:
    """``(page, (targets, rank))`` -> ``(target, rank / len(targets))`` per target."""

    def __call__(self, record):
        _, (targets, rank) = record
        return zip(targets, repeat(rank / len(targets)))  # pairs made in C, as flat_map takes them


class _Uniform:
    def __init__(self, nodes: int):
        self.rank = 1.0 / nodes

    def __call__(self, _targets) -> float:
        return self.rank


class _Damp:
    def __init__(self, nodes: int, damping: float):
        self.base, self.damping = (1 - damping) / nodes, damping

    def __call__(self, total: float) -> float:
        return self.base + self.damping * total


def pagerank_plan(links: mf.Dataset, nodes: int, iterations: int = 10, damping: float = 0.85) -> mf.Dataset:
    """The ranks after ``iterations`` steps, as a plan over ``links``
    (``(page, [targets])``, partitioned and persisted)."""
    ranks = links.map_values(_Uniform(nodes))  # keeps the links' partitioning
    damp = _Damp(nodes, damping)
    for _ in range(iterations):
        # links and ranks share their partitioner: this join moves neither
        shares = links.join(ranks).flat_map(_Shares())
        ranks = shares.reduce_by_key(operator.add, links.num_partitions).map_values(damp)
    return ranks


def pagerank(edges: mf.Dataset, iterations: int = 10, damping: float = 0.85, runner=None,
             partitions: int | None = None) -> dict:
    """``{page: rank}`` after ``iterations`` steps from the uniform ranks.

    >>> ranks = pagerank(mf.from_sequence([(0, 1), (1, 2), (2, 0)]), 5, runner="serial")
    >>> [round(ranks[p], 6) for p in (0, 1, 2)]
    [0.333333, 0.333333, 0.333333]
    """
    # hash-partitioned once (group_by_key is partition_by plus grouping, cheaper since values are
    # grouped before they move) and kept: every join below finds the links where they lie
    links = edges.group_by_key(partitions).persist()
    try:
        nodes = links.count(runner=runner)
        return dict(pagerank_plan(links, nodes, iterations, damping).collect(runner=runner))
    finally:
        links.unpersist()


def scipy_pagerank(edges: list[tuple[int, int]], iterations: int = 10, damping: float = 0.85) -> dict:
    """The same iteration with a scipy sparse matrix (the reference)."""
    import numpy as np
    import scipy.sparse as sp

    src = np.fromiter((s for s, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((d for _, d in edges), dtype=np.int64, count=len(edges))
    nodes = int(max(src.max(), dst.max())) + 1
    outdegree = np.bincount(src, minlength=nodes).astype(np.float64)
    matrix = sp.csr_matrix((1.0 / outdegree[src], (dst, src)), shape=(nodes, nodes))
    ranks = np.full(nodes, 1.0 / nodes)
    for _ in range(iterations):
        ranks = (1 - damping) / nodes + damping * (matrix @ ranks)
    return dict(enumerate(ranks.tolist()))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=20_000)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--runner", default="processes")
    args = parser.parse_args(argv)
    graph = make_graph(args.edges)
    start = time.perf_counter()
    ranks = pagerank(mf.from_sequence(graph), args.iterations, runner=args.runner)
    took = time.perf_counter() - start
    reference = scipy_pagerank(graph, args.iterations)
    worst = max(abs(ranks[p] - reference[p]) for p in reference)
    print(f"{len(ranks)} pages, {len(graph)} links, {args.iterations} iterations: {took:.2f} s on "
          f"{args.runner}; largest difference from scipy: {worst:.2e}")
    for page, rank in sorted(ranks.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  page {page}: {rank:.6f}")


if __name__ == "__main__":
    main()
