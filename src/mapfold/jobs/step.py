"""``MRStep``: one map/combine/reduce step of a job, with mrjob's keywords and errors.

A step holds up to three substeps. A missing mapper is the identity; a
missing combiner or reducer is absent, unless one of its ``*_init`` or
``*_final`` functions is given, in which case it is the identity too (as
in mrjob). Unknown keywords raise ``TypeError`` and conflicting ones
``ValueError``, with mrjob's messages.

>>> step = MRStep(mapper=lambda k, v: [(v, 1)], reducer=lambda k, vs: [(k, sum(vs))])
>>> step.has_explicit_reducer, step.has_explicit_combiner
(True, False)
>>> try:
...     MRStep(mapper=None, mapepr=None)
... except TypeError as exc:
...     print(exc)
MRStep() got an unexpected keyword argument 'mapepr'
"""
from __future__ import annotations

import shlex
from typing import Any, Callable, Iterable

from ..core.errors import MapfoldError

__all__ = ["MRStep", "SparkStep", "StepArgumentError", "StepConflictError", "MAPPER_FUNCS", "COMBINER_FUNCS",
           "REDUCER_FUNCS", "identity_mapper", "identity_reducer"]

MAPPER_FUNCS = ("mapper", "mapper_init", "mapper_final", "mapper_cmd", "mapper_pre_filter", "mapper_raw")
COMBINER_FUNCS = ("combiner", "combiner_init", "combiner_final", "combiner_cmd", "combiner_pre_filter")
REDUCER_FUNCS = ("reducer", "reducer_init", "reducer_final", "reducer_cmd", "reducer_pre_filter")
STEP_FUNCS = MAPPER_FUNCS + COMBINER_FUNCS + REDUCER_FUNCS
STEP_KWARGS = STEP_FUNCS + ("jobconf",)


class StepArgumentError(MapfoldError, TypeError):
    """An ``MRStep`` keyword mrjob does not know (a ``TypeError``, as in mrjob)."""


class StepConflictError(MapfoldError, ValueError):
    """``MRStep`` keywords that exclude each other, or a step with nothing to run (a ``ValueError``)."""


def identity_mapper(key: Any, value: Any) -> Iterable:
    """The mapper of a step that names none: each pair as it came.

    >>> list(identity_mapper("k", 1))
    [('k', 1)]
    """
    yield key, value


def identity_reducer(key: Any, values: Iterable) -> Iterable:
    """The reducer (or combiner) a step gets when only its init or final is given.

    >>> list(identity_reducer("k", iter([1, 2])))
    [('k', 1), ('k', 2)]
    """
    for value in values:
        yield key, value


class MRStep:
    """One streaming step: ``mapper``, ``combiner``, ``reducer`` and their
    ``*_init``, ``*_final``, ``*_cmd``, ``*_pre_filter``, ``mapper_raw``, and
    ``jobconf`` (a dict of Hadoop properties).

    >>> MRStep(reducer_final=lambda: []).has_explicit_reducer
    True
    >>> try:
    ...     MRStep(jobconf={})
    ... except ValueError as exc:
    ...     print(exc)
    Step has no mappers and no reducers
    """

    def __init__(self, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(STEP_KWARGS))
        if unknown:
            raise StepArgumentError(f"MRStep() got an unexpected keyword argument {unknown[0]!r}")
        if not set(kwargs) & set(STEP_FUNCS):
            raise StepConflictError("Step has no mappers and no reducers")
        self.has_explicit_mapper = any(v for k, v in kwargs.items() if k in MAPPER_FUNCS)
        self.has_explicit_combiner = any(v for k, v in kwargs.items() if k in COMBINER_FUNCS)
        self.has_explicit_reducer = any(v for k, v in kwargs.items() if k in REDUCER_FUNCS)
        self._steps = dict.fromkeys(STEP_KWARGS)
        self._steps.update(kwargs)
        # the same checks, in the same order, as mrjob: the first conflict found is the one reported
        for func, others in (("mapper_cmd", MAPPER_FUNCS), ("mapper_raw", ("mapper", "mapper_pre_filter")),
                             ("combiner_cmd", COMBINER_FUNCS), ("reducer_cmd", REDUCER_FUNCS)):
            if self._steps[func]:
                for other in others:
                    if other != func and self._steps[other]:
                        raise StepConflictError(f"Can't specify both {func} and {other}")

    def __getitem__(self, name: str) -> Callable | dict | str | None:
        """The function (or ``jobconf``) for ``name``, identities filled in as mrjob does."""
        value = self._steps[name]
        if value is None:
            if name == "mapper":
                return identity_mapper
            if name == "reducer" and self.has_explicit_reducer:
                return identity_reducer
            if name == "combiner" and self.has_explicit_combiner:
                return identity_reducer
        return value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MRStep) and self._steps == other._steps

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self._steps.items() if v is not None)
        return f"MRStep({given})"

    def description(self, step_num: int = 0) -> dict:
        """mrjob's JSON-able description of the step (which substeps run, and how).

        >>> MRStep(mapper=len).description(1)
        {'type': 'streaming', 'mapper': {'type': 'script'}}
        """
        desc: dict = {"type": "streaming"}
        if step_num == 0 or self.has_explicit_mapper or self.has_explicit_combiner:
            desc["mapper"] = self._render("mapper")
        if self.has_explicit_combiner:
            desc["combiner"] = self._render("combiner")
        if self.has_explicit_reducer:
            desc["reducer"] = self._render("reducer")
        if self._steps["mapper_raw"]:
            desc["input_manifest"] = True
        if self._steps["jobconf"]:
            desc["jobconf"] = self._steps["jobconf"]
        return desc

    def _render(self, kind: str) -> dict:
        cmd, pre_filter = self._steps[f"{kind}_cmd"], self._steps[f"{kind}_pre_filter"]
        if cmd:
            if pre_filter:
                raise StepConflictError(f"Cannot specify both {kind}_cmd and {kind}_pre_filter")
            # a list is quoted into one command line, as mrjob's cmd_line does: it splits back the same
            return {"type": "command", "command": cmd if isinstance(cmd, str) else shlex.join(map(str, cmd))}
        return {"type": "script", **({"pre_filter": pre_filter} if pre_filter else {})}


SPARK_STEP_KWARGS = ("spark", "jobconf", "spark_args")


class SparkStep:
    """A step the job's own PySpark code runs: ``spark(input_path, output_path)``
    reads the step's input (the paths, comma-separated) and writes its output
    folder; ``jobconf`` (Hadoop properties) and ``spark_args`` (spark-submit
    arguments) are kept for ``description()``, as mrjob keeps them.

    >>> step = SparkStep(lambda input_path, output_path: None, spark_args=["--executor-memory", "2G"])
    >>> step.description(0)
    {'type': 'spark', 'spark_args': ['--executor-memory', '2G']}
    >>> try:
    ...     SparkStep(len, mapper=len)
    ... except TypeError as exc:
    ...     print(exc)
    SparkStep() got an unexpected keyword argument 'mapper'
    """

    def __init__(self, spark: Callable, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(SPARK_STEP_KWARGS))
        if unknown:
            raise StepArgumentError(f"SparkStep() got an unexpected keyword argument {unknown[0]!r}")
        if not callable(spark):
            raise StepArgumentError(f"SparkStep(spark=...) takes a function (input_path, output_path), not {spark!r}")
        self.spark = spark
        self.jobconf: dict = dict(kwargs.get("jobconf") or {})
        self.spark_args: list = list(kwargs.get("spark_args") or [])

    def __getitem__(self, name: str) -> Any:
        if name not in SPARK_STEP_KWARGS:
            raise KeyError(name)
        return getattr(self, name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SparkStep) and (self.spark, self.jobconf, self.spark_args) == (
            other.spark, other.jobconf, other.spark_args)

    def __repr__(self) -> str:
        return f"SparkStep(spark={self.spark!r}, jobconf={self.jobconf!r}, spark_args={self.spark_args!r})"

    def description(self, step_num: int = 0) -> dict:
        """mrjob's JSON-able description of the step."""
        desc: dict = {"type": "spark"}
        if self.jobconf:
            desc["jobconf"] = self.jobconf
        desc["spark_args"] = self.spark_args
        return desc
