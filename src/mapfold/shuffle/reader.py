"""Reduce side of a shuffle: read a bucket's files from every map task."""
from __future__ import annotations

import pickle
from typing import Iterator

__all__ = ["read_bucket"]


def _records(paths) -> Iterator:
    for path in paths:
        with open(path, "rb") as f:
            yield from pickle.load(f)


def read_bucket(source, aggregator) -> Iterator:
    paths = [p for group in source.outputs for p in group]
    if aggregator is None:
        return _records(paths)
    merge = aggregator.merge_combiners
    table: dict = {}
    for key, combined in _records(paths):
        if key in table:
            table[key] = merge(table[key], combined)
        else:
            table[key] = combined
    return iter(table.items())
