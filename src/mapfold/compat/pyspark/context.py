"""``SparkContext``: the entry point of RDD programs; ``master`` picks the mapfold runner.

``local`` is ``serial``, ``local[N]``/``local[*]`` is ``processes`` with N
workers, and any other master goes to the ``spark`` runner.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from ...dataset.sources import from_sequence, read_text
from ...runners import make_runner

if TYPE_CHECKING:
    from .rdd import RDD

__all__ = ["SparkContext"]


def _runner_for(master: str | None):
    if master in (None, "local[*]"):
        return make_runner("processes")
    if master == "local":
        return make_runner("serial")
    match = re.fullmatch(r"local\[(\d+)\]", master)
    if match:
        return make_runner("processes", workers=int(match.group(1)))
    return make_runner("spark", master=master)


class SparkContext:
    """The entry point of RDD programs.

    >>> sc = SparkContext("local", "doctest")
    >>> sc.parallelize([1, 2, 3, 4], 2).map(lambda x: x * x).sum()
    30
    >>> sc.stop()
    """

    def __init__(self, master: str | None = None, appName: str | None = None, runner=None):
        self.master = master
        self.appName = appName
        self.runner = runner if runner is not None else _runner_for(master)

    @property
    def defaultParallelism(self) -> int:
        return getattr(self.runner, "workers", 1) * 2

    def parallelize(self, data: Iterable, numSlices: int | None = None) -> "RDD":
        return _rdd(from_sequence(data, numSlices or self.defaultParallelism), self)

    def range(self, start: int, end: int | None = None, step: int = 1, numSlices: int | None = None) -> "RDD":
        if end is None:
            start, end = 0, start
        return self.parallelize(range(start, end, step), numSlices)

    def textFile(self, name: str, minPartitions: int | None = None) -> "RDD":
        return _rdd(read_text(name.split(",") if "," in name else name, min_partitions=minPartitions), self)

    def union(self, rdds: list["RDD"]) -> "RDD":
        return rdds[0].union(*rdds[1:])

    def stop(self) -> None:
        self.runner.close()

    def __enter__(self) -> "SparkContext":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _rdd(dataset, context: SparkContext) -> "RDD":
    from .rdd import RDD

    return RDD(dataset, context)
