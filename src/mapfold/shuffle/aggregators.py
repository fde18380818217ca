"""Small picklable helpers for the combine_by_key family (no lambdas, so
stage code pickles small and fast)."""
from __future__ import annotations

import copy
from typing import Any, Callable

__all__ = ["identity", "to_list", "append", "extend", "CreateFromZero", "keep_first", "ValuesOfSide"]


def identity(value):
    return value


def to_list(value) -> list:
    return [value]


def append(values: list, value) -> list:
    values.append(value)
    return values


def extend(values: list, more: list) -> list:
    values.extend(more)
    return values


def keep_first(a, b):
    return a


class CreateFromZero:
    """``create(v) = seq_op(copy of zero, v)`` for fold_by_key/aggregate_by_key."""

    def __init__(self, zero: Any, seq_op: Callable):
        self.zero, self.seq_op = zero, seq_op

    def __call__(self, value):
        return self.seq_op(copy.deepcopy(self.zero), value)
