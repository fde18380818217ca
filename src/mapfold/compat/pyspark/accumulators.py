"""``Accumulator``: a value tasks add to (``acc += x`` or ``acc.add(x)``) and the driver reads.

Inside a task, an update goes into the running task's counters
(``core/task_context.py``), in the group :data:`GROUP` under the
accumulator's key (its id and its context's token: two contexts on one
runner keep their updates apart); the job sums its tasks' tables, and the SparkContext,
listening to its runner's ``job_finished``/``job_failed`` events, adds each
job's sum to the accumulator. So updates made on every runner reach the
driver, once per task that ran them, as PySpark's. On the driver, ``+=``
adds directly. Numbers add with ``+``; any other value needs an
:class:`AccumulatorParam`, whose ``addInPlace`` merges the tasks' partial
values.

>>> from mapfold.compat.pyspark import SparkContext
>>> sc = SparkContext("local")
>>> blank = sc.accumulator(0)
>>> def count_blank(line):
...     global blank
...     if not line:
...         blank += 1
...     return line
>>> sc.parallelize(["a", "", "b", ""], 2).map(count_blank).count()
4
>>> blank.value
2
"""
from __future__ import annotations

from typing import Generic, TypeVar

from ...core.errors import MapfoldError
from ...core.task_context import current_task

__all__ = ["Accumulator", "AccumulatorParam", "GROUP", "param_for"]

T = TypeVar("T")
GROUP = "pyspark.accumulators"  # the counter group task-side updates travel in


class AccumulatorParam(Generic[T]):
    """How values of a custom accumulator start (``zero``) and merge (``addInPlace``)."""

    def zero(self, value: T) -> T:
        raise NotImplementedError

    def addInPlace(self, value1: T, value2: T) -> T:
        raise NotImplementedError


class _AddParam(AccumulatorParam):
    def __init__(self, zero_value):
        self.zero_value = zero_value

    def zero(self, value):
        return self.zero_value

    def addInPlace(self, value1, value2):
        value1 += value2
        return value1


def param_for(value) -> AccumulatorParam:
    """PySpark's default parameter for an int, float or complex value; anything else needs one.

    >>> param_for(2.5).zero(2.5)
    0.0
    """
    for kind, zero in ((bool, None), (int, 0), (float, 0.0), (complex, 0j)):
        if isinstance(value, kind) and zero is not None:
            return _AddParam(zero)
    raise TypeError(f"no default AccumulatorParam for a {type(value).__name__}: pass accum_param=")


class _Partial:
    """A task's partial value of a custom accumulator: adds with ``addInPlace``, so the counters' sums merge it."""

    def __init__(self, value, param: AccumulatorParam):
        self.value, self.param = value, param

    def __radd__(self, other):
        if isinstance(other, int) and other == 0:  # the counter table's start
            return self
        return NotImplemented

    def __add__(self, other: "_Partial") -> "_Partial":
        return _Partial(self.param.addInPlace(self.value, other.value), self.param)


class Accumulator(Generic[T]):
    """A shared value tasks only add to; read ``.value`` on the driver."""

    def __init__(self, aid: int, value: T, accum_param: AccumulatorParam, key: str | None = None):
        self.aid = aid
        self.key = key if key is not None else str(aid)  # the counter its task-side updates go in
        self.accum_param = accum_param
        self._value = value
        self._numeric = isinstance(accum_param, _AddParam)

    @property
    def value(self) -> T:
        if current_task() is not None:
            raise MapfoldError(f"Accumulator {self.aid}.value cannot be read inside a task; read it on the driver")
        return self._value

    @value.setter
    def value(self, value: T) -> None:
        if current_task() is not None:
            raise MapfoldError(f"Accumulator {self.aid}.value cannot be set inside a task; use += or add()")
        self._value = value

    def add(self, term: T) -> None:
        """Add ``term``: to the running task's share inside a task, to the value on the driver."""
        task = current_task()
        if task is None:
            self._value = self.accum_param.addInPlace(self._value, term)
        elif self._numeric:
            task.increment(GROUP, self.key, term)
        else:
            task.increment(GROUP, self.key, _Partial(term, self.accum_param))

    def __iadd__(self, term: T) -> "Accumulator[T]":
        self.add(term)
        return self

    def _merge(self, total) -> None:
        """A job's summed task updates, on the driver."""
        term = total.value if isinstance(total, _Partial) else total
        self._value = self.accum_param.addInPlace(self._value, term)

    def __reduce__(self):
        # a task gets an accumulator with this id whose driver value it cannot see
        return (_in_task, (self.aid, self.accum_param, self.key))

    def __repr__(self) -> str:
        return f"Accumulator<id={self.aid}, value={self._value}>"


def _in_task(aid: int, accum_param: AccumulatorParam, key: str) -> Accumulator:
    return Accumulator(aid, None, accum_param, key)
