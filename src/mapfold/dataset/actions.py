"""Actions: the Dataset methods that run a plan and return a result."""
from __future__ import annotations

import contextlib
import heapq
from contextvars import ContextVar
from typing import Any, Callable, Iterator

from ..plan import finishers as f
from ..plan.execute import Job
from ..runners import get_runner
from .checks import check_callable, check_count
from .runs import claim

__all__ = ["ActionsMixin", "ActionIntercepted", "intercept_actions"]

# set by intercept_actions() for the duration of a block: actions stop before they run
_intercept: ContextVar[Callable[[Any, str], None] | None] = ContextVar("mapfold_intercept_actions", default=None)


class ActionIntercepted(BaseException):
    """Raised by an action inside :func:`intercept_actions`: the plan it would
    have run (``dataset``, ``action``), not a result. A ``BaseException``, as
    ``KeyboardInterrupt`` is, so a script's ``except Exception`` lets it through."""

    def __init__(self, dataset: Any, action: str):
        super().__init__(f"{action or 'action'} intercepted before running")
        self.dataset = dataset
        self.action = action


@contextlib.contextmanager
def intercept_actions(callback: Callable[[Any, str], None] | None = None) -> Iterator[None]:
    """Inside the block, an action calls ``callback(dataset, action)`` and then
    raises :class:`ActionIntercepted` instead of running: how ``mapfold explain``
    shows a script's plan without running it.

    >>> class Plan(ActionsMixin):  # any Dataset
    ...     node = None
    >>> seen = []
    >>> with intercept_actions(lambda ds, action: seen.append(action)):
    ...     try:
    ...         Plan().count()
    ...     except ActionIntercepted as stop:
    ...         print(f"{stop.action}: not run")
    count: not run
    >>> seen
    ['count']
    """
    token = _intercept.set(callback or (lambda dataset, action: None))
    try:
        yield
    finally:
        _intercept.reset(token)


class ActionsMixin:
    node: Any

    # -- running ------------------------------------------------------------
    def _job(self, runner=None, progress=None, action: str = "") -> Job:
        intercept = _intercept.get()
        if intercept is not None:
            intercept(self, action)
            raise ActionIntercepted(self, action)
        instance, setting = get_runner(runner)
        job = Job(instance, progress=progress)
        job.runner_setting = setting
        self._last_job = job
        claim(self, job)  # on the Datasets, never on the shared plan (dataset/runs.py)
        return job

    def _partition_values(self, finisher, name: str, runner=None, progress=None, partitions=None) -> list:
        job = self._job(runner, progress, name)
        return [value for _, value in job.run(self.node, finisher, name, partitions)]

    @property
    def last_run(self):
        """The :class:`~mapfold.plan.record.RunRecord` of the last run that
        computed this Dataset (an action on it, or on one derived from it):
        stages, tasks with their time and worker, spills, counters, the
        runner and where the settings came from. None before any run.

        >>> from mapfold import from_sequence
        >>> ds = from_sequence(range(4), partitions=2)
        >>> ds.count(runner="serial"), ds.last_run.status, len(ds.last_run.tasks)
        (4, 'succeeded', 2)
        """
        job = self._computed_by
        return job.record if job is not None else None

    @property
    def counters(self) -> dict:
        """Counters summed over the tasks of the last run that computed this
        Dataset: an action on it, or on a Dataset derived from it."""
        job = self._computed_by
        return job.counters.as_dict() if job is not None else {}

    def __iter__(self) -> Iterator:
        """Stream the records, partition by partition (runs the plan)."""
        return self.iterate()

    def iterate(self, runner=None, progress=None) -> Iterator:
        """Stream the records in partition order on the chosen runner."""
        return self._job(runner, progress, "iterate").stream(self.node)

    def collect(self, runner=None, progress=None) -> list:
        """All records as a list, in partition order.

        >>> from mapfold import from_sequence
        >>> from_sequence(range(3)).collect(runner="serial")
        [0, 1, 2]
        """
        out: list = []
        for part in self._partition_values(f.to_list, "collect", runner, progress):
            out.extend(part)
        return out

    def count(self, runner=None, progress=None) -> int:
        """The number of records.

        >>> from mapfold import from_sequence
        >>> from_sequence("abc").count(runner="serial")
        3
        """
        return sum(self._partition_values(f.count, "count", runner, progress))

    def take(self, n: int, runner=None, progress=None) -> list:
        """The first ``n`` records, scanning as few partitions as needed
        (1, then 4 times more each round, as PySpark does).

        >>> from mapfold import from_sequence
        >>> from_sequence(range(100), partitions=10).take(3, runner="serial")
        [0, 1, 2]
        """
        check_count(n, "n", "take", minimum=0)
        out: list = []
        scanned, step, total = 0, 1, self.node.num_partitions
        rounds = []
        while len(out) < n and scanned < total:
            wanted = list(range(scanned, min(total, scanned + step)))
            for part in self._partition_values(f.Take(n - len(out)), "take", runner, progress, wanted):
                out.extend(part[: n - len(out)])
            rounds.append(self._last_job)
            scanned += len(wanted)
            step *= 4
        for earlier in rounds[:-1]:  # the counters of the whole take, not of its last round
            rounds[-1].counters.merge(earlier.counters)
        return out

    def first(self, runner=None, progress=None) -> Any:
        """The first record; ``ValueError`` when the Dataset is empty.

        >>> from mapfold import from_sequence
        >>> from_sequence("xyz").first(runner="serial")
        'x'
        """
        got = self.take(1, runner, progress)
        if not got:
            raise ValueError("first() of an empty Dataset")
        return got[0]

    def reduce(self, func: Callable[[Any, Any], Any], runner=None, progress=None) -> Any:
        """Combine all records with an associative ``func``.

        >>> import operator
        >>> from mapfold import from_sequence
        >>> from_sequence(range(5)).reduce(operator.add, runner="serial")
        10
        """
        check_callable(func, "func", "reduce")
        parts = [v for v in self._partition_values(f.Reduce(func), "reduce", runner, progress) if v is not f.EMPTY]
        if not parts:
            raise ValueError("reduce() of an empty Dataset")
        acc = parts[0]
        for value in parts[1:]:
            acc = func(acc, value)
        return acc

    def fold(self, zero: Any, func: Callable[[Any, Any], Any], runner=None, progress=None) -> Any:
        """Fold each partition from a copy of ``zero``, then fold the results.

        >>> import operator
        >>> from mapfold import from_sequence
        >>> from_sequence(range(5)).fold(0, operator.add, runner="serial")
        10
        """
        import copy

        check_callable(func, "func", "fold")
        acc = copy.deepcopy(zero)
        for value in self._partition_values(f.Fold(zero, func), "fold", runner, progress):
            acc = func(acc, value)
        return acc

    def aggregate(self, zero: Any, seq_op: Callable, comb_op: Callable, runner=None, progress=None) -> Any:
        """Fold records into an accumulator per partition with ``seq_op``,
        merge accumulators with ``comb_op``.

        >>> from mapfold import from_sequence
        >>> from_sequence([1, 2, 3]).aggregate((0, 0), lambda a, x: (a[0] + x, a[1] + 1),
        ...     lambda a, b: (a[0] + b[0], a[1] + b[1]), runner="serial")
        (6, 3)
        """
        import copy

        check_callable(seq_op, "seq_op", "aggregate")
        check_callable(comb_op, "comb_op", "aggregate")
        acc = copy.deepcopy(zero)
        for value in self._partition_values(f.Aggregate(zero, seq_op), "aggregate", runner, progress):
            acc = comb_op(acc, value)
        return acc

    def _stats(self, runner, progress):
        n, total, low, high = 0, 0, None, None
        for pn, ptotal, plow, phigh in self._partition_values(f.Stats(), "stats", runner, progress):
            if pn == 0:
                continue
            n, total = n + pn, total + ptotal
            low = plow if low is None or plow < low else low
            high = phigh if high is None or phigh > high else high
        return n, total, low, high

    def sum(self, runner=None, progress=None) -> Any:
        """The sum of the records (0 when empty).

        >>> from mapfold import from_sequence
        >>> from_sequence([1.5, 2.5]).sum(runner="serial")
        4.0
        """
        return self._stats(runner, progress)[1]

    def min(self, key: Callable | None = None, runner=None, progress=None) -> Any:
        """The smallest record (by ``key``).

        >>> from mapfold import from_sequence
        >>> from_sequence([3, 1, 2]).min(runner="serial")
        1
        """
        check_callable(key, "key", "min", optional=True)
        found = [v for part in self._partition_values(f.Top(1, key, largest=False), "min", runner, progress) for v in part]
        if not found:
            raise ValueError("min() of an empty Dataset")
        return min(found, key=key)

    def max(self, key: Callable | None = None, runner=None, progress=None) -> Any:
        """The largest record (by ``key``).

        >>> from mapfold import from_sequence
        >>> from_sequence(["bb", "a"]).max(key=len, runner="serial")
        'bb'
        """
        check_callable(key, "key", "max", optional=True)
        found = [v for part in self._partition_values(f.Top(1, key), "max", runner, progress) for v in part]
        if not found:
            raise ValueError("max() of an empty Dataset")
        return max(found, key=key)

    def mean(self, runner=None, progress=None) -> float:
        """The arithmetic mean of the records.

        >>> from mapfold import from_sequence
        >>> from_sequence([1, 2, 3, 4]).mean(runner="serial")
        2.5
        """
        n, total, _, _ = self._stats(runner, progress)
        if n == 0:
            raise ValueError("mean() of an empty Dataset")
        return total / n

    def top(self, n: int, key: Callable | None = None, runner=None, progress=None) -> list:
        """The ``n`` largest records (by ``key``), largest first.

        >>> from mapfold import from_sequence
        >>> from_sequence([5, 1, 4, 2]).top(2, runner="serial")
        [5, 4]
        """
        check_count(n, "n", "top", minimum=0)
        check_callable(key, "key", "top", optional=True)
        parts = self._partition_values(f.Top(n, key), "top", runner, progress)
        return heapq.nlargest(n, (v for part in parts for v in part), key=key)

    def take_ordered(self, n: int, key: Callable | None = None, runner=None, progress=None) -> list:
        """The ``n`` smallest records (by ``key``), smallest first.

        >>> from mapfold import from_sequence
        >>> from_sequence([5, 1, 4, 2]).take_ordered(2, runner="serial")
        [1, 2]
        """
        check_count(n, "n", "take_ordered", minimum=0)
        check_callable(key, "key", "take_ordered", optional=True)
        parts = self._partition_values(f.Top(n, key, largest=False), "take_ordered", runner, progress)
        return heapq.nsmallest(n, (v for part in parts for v in part), key=key)

    def count_by_value(self, runner=None, progress=None) -> dict:
        """``{record: count}`` over the whole Dataset.

        >>> from mapfold import from_sequence
        >>> from_sequence("abca").count_by_value(runner="serial") == {"a": 2, "b": 1, "c": 1}
        True
        """
        parts = self._partition_values(f.CountValues(), "count_by_value", runner, progress)
        if not parts:
            return {}
        # start from the largest partial so the Python-level merge loop is shortest
        parts.sort(key=len, reverse=True)
        total = parts[0]
        for part in parts[1:]:
            total.update(part)
        return dict(total)

    frequencies = count_by_value

    def explain(self, file=None) -> None:
        """Print the stages and partitions of this Dataset's plan and, after
        an action, how its last run went (runner, tasks, memory, spills).

        Returns ``None``, as Spark's ``DataFrame.explain()`` does, so a REPL
        shows the text once; :meth:`explain_string` returns it.

        >>> from mapfold import from_sequence
        >>> from_sequence([1, 2], partitions=2).map(str).explain()
        stage: map  (2 partitions)
          reads sequence of 2 items
        """
        print(self.explain_string(), file=file)

    def explain_string(self) -> str:
        """What :meth:`explain` prints, as a string (PySpark's ``toDebugString``).

        >>> from mapfold import from_sequence
        >>> "stage: map" in from_sequence([1]).map(str).explain_string()
        True
        """
        from ..plan.explain import explain

        return explain(self.node, self._last_job)
