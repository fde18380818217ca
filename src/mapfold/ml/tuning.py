"""``ParamGridBuilder`` and ``CrossValidator``, reproducible on every runner.

A parameter map is a dict from a parameter name (for the estimator given
to ``CrossValidator``) or a ``(stage, name)`` pair (a stage inside a
``Pipeline``, as PySpark's ``lr.regParam``) to a value.

Folds: each record's fold is ``stable_hash((seed, position)) % num_folds``,
its position being its index in the Dataset (``zip_with_index``, one
counting pass). So the folds depend only on the seed and the records'
order, not on the runner, the process (PySpark's default seed comes from
Python's salted ``hash()``, so its folds change from process to process)
or the partitioning. Fits and metrics add per-partition values in
partition order, so ``avg_metrics`` are the same bit for bit on every
runner for the same input. The best parameters (largest metric, or
smallest when the evaluator says smaller is better; the first on a tie)
are refitted on all the data: ``best_model``.

``parallelism=N`` (PySpark's name) fits the grid's models as tasks: the
pairs of (split, parameter map) are cut into ``N`` tasks of consecutive
pairs, each fitted and scored by the serial runner inside one task of the
active runner (a processes pool of ``N`` workers when the active runner is
serial, where the refit of the best parameters then runs too: its
partitions' tasks fan out over the same workers instead of running one by
one). When the tasks runner's tasks share the driver's disk
(``cache_on_disk``: that pool, the processes runner), the ``(split key,
record)`` pairs are computed once, in one pass of the runner's tasks, into
partition files of its scratch folder, and each task reads those: the
input is read and every position hashed once, not once per task. On an
engine a task ships the Dataset's plan and rebuilds the split from it. The
serial runner adds per-partition values in the same partition order and
the files keep the records' order, so the metrics are the same bit for bit
as with ``parallelism=1``.
"""
from __future__ import annotations

import importlib
import itertools
import math
import os
import shutil
import tempfile
from typing import Any, Iterable

from ..core.hashing import stable_hash
from ..core.partition_files import write_partition
from ..dataset.sources import from_partition_files, from_sequence
from ..runners import get_runner, make_runner
from .base import Estimator, Evaluator, Model, ParamError, Params

__all__ = ["ParamGridBuilder", "CrossValidator", "CrossValidatorModel", "TrainValidationSplit",
           "TrainValidationSplitModel", "apply_params"]


class ParamGridBuilder:
    """The cross product of parameter values, as a list of dicts.

    >>> ParamGridBuilder().add_grid("reg_param", [0.1, 0.01]).add_grid("max_iter", [10]).build()
    [{'reg_param': 0.1, 'max_iter': 10}, {'reg_param': 0.01, 'max_iter': 10}]
    """

    def __init__(self) -> None:
        self._grid: dict[Any, list] = {}

    def add_grid(self, param: Any, values: Iterable) -> "ParamGridBuilder":
        """Vary ``param`` (a name, or ``(stage, name)``) over ``values``."""
        values = list(values)
        if not values:
            raise ValueError(f"add_grid({param!r}, ...) got no values")
        self._grid[param] = values
        return self

    def base_on(self, params: dict) -> "ParamGridBuilder":
        """Fix each parameter of ``params`` to its one value."""
        for param, value in params.items():
            self._grid[param] = [value]
        return self

    def build(self) -> list[dict]:
        keys = list(self._grid)
        return [dict(zip(keys, combo)) for combo in itertools.product(*(self._grid[k] for k in keys))]


def apply_params(estimator: Estimator, param_map: dict) -> Estimator:
    """A copy of ``estimator`` with ``param_map`` applied (``(stage, name)`` keys reach pipeline stages)."""
    from .pipeline import Pipeline

    plain = {k: v for k, v in param_map.items() if isinstance(k, str)}
    staged = [(k, v) for k, v in param_map.items() if not isinstance(k, str)]
    for key, _ in staged:
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], Params) and isinstance(key[1], str)):
            raise TypeError(f"a parameter map key is a name or a (stage, name) pair; got {key!r}")
    result = estimator.copy(**plain)
    if not staged:
        return result
    if isinstance(estimator, Pipeline):
        stages = list(estimator.stages)
        copies = list(result.stages)
        for (stage, name), value in staged:
            found = [i for i, s in enumerate(stages) if s is stage]
            if not found:
                raise ValueError(f"{type(stage).__name__} in a parameter map is not a stage of the Pipeline")
            copies[found[0]] = copies[found[0]].copy(**{name: value})
        return result.copy(stages=copies)
    for (stage, name), value in staged:
        if stage is not estimator:
            raise ValueError(f"{type(stage).__name__} in a parameter map is not the estimator being tuned")
        result = result.copy(**{name: value})
    return result


def _fold_of(seed: int, num_folds: int):
    def assign(pair):
        record, position = pair
        return stable_hash((seed, position)) % num_folds, record

    return assign


def _in_fold(fold: int, inside: bool):
    def keep(pair) -> bool:
        return (pair[0] == fold) is inside

    return keep


def _first_is(side: bool):
    def keep(pair) -> bool:
        return pair[0] is side

    return keep


def _record(pair):
    return pair[1]


def _check_tuning(owner: Estimator) -> list:
    """The candidate estimators of a tuner, after checking its parameters."""
    name = type(owner).__name__
    if not isinstance(owner.estimator, Estimator):
        raise TypeError(f"{name} needs estimator, a mapfold.ml Estimator; got {owner.estimator!r}")
    if not isinstance(owner.evaluator, Evaluator):
        raise TypeError(f"{name} needs evaluator, a mapfold.ml Evaluator; got {owner.evaluator!r}")
    if not isinstance(owner.seed, int):
        raise TypeError(f"{name}: seed={owner.seed!r} must be an int")
    param_maps = list(owner.estimator_param_maps)
    if not param_maps:
        raise ValueError(f"{name}: estimator_param_maps is empty")
    return [apply_params(owner.estimator, m) for m in param_maps]


class _Folds:
    """CrossValidator's splits: record ``position`` is in fold ``stable_hash((seed, position)) % count``."""

    def __init__(self, seed: int, count: int) -> None:
        self.seed, self.count = seed, count

    def assign(self):
        return _fold_of(self.seed, self.count)

    def sides(self, labelled, split: int):
        return (labelled.filter(_in_fold(split, False)).map(_record),
                labelled.filter(_in_fold(split, True)).map(_record))


class _Split:
    """TrainValidationSplit's one split: training when the hash, as a fraction, is below ``train_ratio``."""

    count = 1

    def __init__(self, seed: int, train_ratio: float) -> None:
        self.seed, self.train_ratio = seed, train_ratio

    def assign(self):
        return _train_side(self.seed, self.train_ratio)

    def sides(self, labelled, split: int):
        return labelled.filter(_first_is(True)).map(_record), labelled.filter(_first_is(False)).map(_record)


def _score(labelled, splitter, pairs, candidates: list, evaluator: Evaluator, runner,
           keep_models: bool = False) -> list[tuple]:
    """``(split, candidate, metric, model or None)`` of each pair, fitted one after the other on ``runner``;
    ``labelled`` holds ``(split key, record)`` pairs (:func:`_labelled`)."""
    labelled = labelled.persist()
    try:
        scored, sides = [], {}
        for split, i in pairs:
            if split not in sides:
                sides = {split: splitter.sides(labelled, split)}  # pairs come split by split
            train, validation = sides[split]
            model = candidates[i].fit(train, runner=runner)
            metric = evaluator.evaluate(model.transform(validation), runner=runner)
            scored.append((split, i, metric, model if keep_models else None))
        return scored
    finally:
        labelled.unpersist()


def _labelled(ds, splitter, runner):
    """``(split key, record)`` of every record: its position (one counting pass on ``runner``) hashed."""
    return ds.zip_with_index(runner=runner).map(splitter.assign())


def _score_task(ds, splitter, candidates: list, evaluator: Evaluator, keep_models: bool, assigned: bool):
    def score(pairs: Iterable) -> list:
        labelled = ds if assigned else _labelled(ds, splitter, "serial")
        return _score(labelled, splitter, list(pairs), candidates, evaluator, "serial", keep_models)

    return score


def _write_partitions(folder: str):
    def write(index: int, records: Iterable) -> list:
        path = os.path.join(folder, f"part-{index:05d}")
        write_partition(path, list(records))
        return [path]

    return write


def _shared_labelled(ds, splitter, runner):
    """``ds``'s ``(split key, record)`` pairs computed once on ``runner`` (its tasks share a disk:
    ``cache_on_disk``) into partition files of a folder of its scratch, and a Dataset reading them;
    remove the folder after use."""
    folder = tempfile.mkdtemp(prefix="tuning-", dir=runner.scratch())
    try:
        paths = _labelled(ds, splitter, runner).map_partitions_with_index(_write_partitions(folder)).collect(
            runner=runner)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return from_partition_files(paths), folder


class _FanOut:
    """Where a tuner's work runs: the fits of the grid as at most ``parallelism`` tasks, and the
    refit of the best parameters. On the serial runner (tasks one by one) with ``parallelism > 1``
    both run on a processes pool of ``parallelism`` workers of its own, made on entry (after
    importing what the fits import: the forked workers share it) and closed on exit; otherwise on
    the active runner."""

    def __init__(self, runner, parallelism: int, candidates: list) -> None:
        self.runner, self.parallelism, self.candidates = runner, parallelism, candidates
        self.pool = None

    def __enter__(self) -> "_FanOut":
        if self.parallelism > 1 and get_runner(self.runner)[0].name == "serial":
            for name in dict.fromkeys(n for c in self.candidates for n in c.all_fit_imports()):
                importlib.import_module(name)
            self.pool = make_runner("processes", workers=self.parallelism)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.close()

    @property
    def tasks_runner(self):
        """The runner the fits' tasks (and the refit's) go to."""
        return self.pool if self.pool is not None else get_runner(self.runner)[0]

    @property
    def refit_runner(self):
        return self.pool if self.pool is not None else self.runner


def _split_metrics(ds, splitter, candidates: list, evaluator: Evaluator, fan_out: _FanOut,
                   keep_models: bool = False) -> tuple[list[list], list[list] | None]:
    """``metrics[split][candidate]`` (and the models, when kept): in the caller's loop, or as at most
    ``parallelism`` tasks (``fan_out``)."""
    pairs = [(split, i) for split in range(splitter.count) for i in range(len(candidates))]
    if fan_out.parallelism == 1:
        scored = _score(_labelled(ds, splitter, fan_out.runner), splitter, pairs, candidates, evaluator,
                        fan_out.runner, keep_models)
    else:
        runner = fan_out.tasks_runner
        shared, folder = _shared_labelled(ds, splitter, runner) if runner.cache_on_disk else (ds, None)
        try:
            work = from_sequence(pairs, partitions=min(fan_out.parallelism, len(pairs)))
            work = work.map_partitions(_score_task(shared, splitter, candidates, evaluator, keep_models,
                                                   assigned=folder is not None))
            scored = work.collect(runner=runner)
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    metrics = [[0.0] * len(candidates) for _ in range(splitter.count)]
    models = [[None] * len(candidates) for _ in range(splitter.count)]
    for split, i, metric, model in scored:
        metrics[split][i], models[split][i] = metric, model
    return metrics, models if keep_models else None


def _check_parallelism(owner: Params) -> int:
    if not isinstance(owner.parallelism, int) or isinstance(owner.parallelism, bool) or owner.parallelism < 1:
        raise ParamError(f"{type(owner).__name__}: parallelism={owner.parallelism!r} must be an int >= 1")
    return owner.parallelism


def _best(evaluator: Evaluator, metrics: list[float]) -> int:
    pick = max if evaluator.is_larger_better() else min
    return metrics.index(pick(metrics))


class CrossValidator(Estimator):
    """k-fold cross-validation over a grid; ``fit`` returns a ``CrossValidatorModel``.

    >>> import mapfold as mf
    >>> from mapfold.ml import LogisticRegression, MulticlassClassificationEvaluator
    >>> ds = mf.from_sequence([{"features": [float(x % 7)], "label": float(x % 7 > 3)} for x in range(30)])
    >>> cv = CrossValidator(estimator=LogisticRegression(max_iter=20),
    ...                     estimator_param_maps=ParamGridBuilder().add_grid("reg_param", [0.0, 10.0]).build(),
    ...                     evaluator=MulticlassClassificationEvaluator(metric_name="accuracy"))
    >>> model = cv.fit(ds, runner="serial")
    >>> model.avg_metrics[0] > model.avg_metrics[1], model.best_index
    (True, 0)
    """

    _defaults = {"estimator": None, "estimator_param_maps": [{}], "evaluator": None, "num_folds": 3, "seed": 0,
                 "parallelism": 1, "collect_sub_models": False}

    def fit(self, ds, runner=None) -> "CrossValidatorModel":
        candidates = _check_tuning(self)
        if not isinstance(self.num_folds, int) or self.num_folds < 2:
            raise ParamError(f"CrossValidator: num_folds={self.num_folds!r} must be an int >= 2")
        with _FanOut(runner, _check_parallelism(self), candidates) as fan_out:
            metrics, sub_models = _split_metrics(ds, _Folds(self.seed, self.num_folds), candidates, self.evaluator,
                                                 fan_out, bool(self.collect_sub_models))
            avg_metrics = [sum(m[i] for m in metrics) / self.num_folds for i in range(len(candidates))]
            std_metrics = [math.sqrt(sum((m[i] - avg) ** 2 for m in metrics) / self.num_folds)
                           for i, avg in enumerate(avg_metrics)]
            best_index = _best(self.evaluator, avg_metrics)
            best_model = candidates[best_index].fit(ds, runner=fan_out.refit_runner)
        return CrossValidatorModel(best_model=best_model, avg_metrics=avg_metrics, std_metrics=std_metrics,
                                   best_index=best_index, sub_models=sub_models, **self.get_params())


class CrossValidatorModel(Model):
    """``best_model`` (refitted on all the data), ``avg_metrics`` and ``std_metrics`` (one per parameter
    map, over the folds), ``best_index``, and with ``collect_sub_models=True`` ``sub_models[fold][map]``;
    ``transform`` is the best model's. ``save``/``load`` keep all of them (PySpark's
    ``CrossValidatorModel.write``/``read``, sub-models included when collected).

    >>> model = CrossValidatorModel(avg_metrics=[0.5, 0.75], best_index=1)
    >>> model.avg_metrics[model.best_index]
    0.75
    """

    _defaults = {**CrossValidator._defaults, "best_model": None, "avg_metrics": [], "std_metrics": [],
                 "best_index": 0, "sub_models": None}

    def transform(self, ds):
        return self.best_model.transform(ds)


def _train_side(seed: int, train_ratio: float):
    def assign(pair):
        record, position = pair
        # the hash's top 53 bits as a fraction in [0, 1)
        return (stable_hash((seed, position)) >> 11) * 2.0 ** -53 < train_ratio, record

    return assign


class TrainValidationSplit(Estimator):
    """One split into training (``train_ratio`` of the records) and validation data, as PySpark's.

    A record is for training when ``stable_hash((seed, position))``, as a
    fraction of 2**64, is below ``train_ratio``: the split is the same on
    every runner and in every process. ``validation_metrics`` has one
    metric per parameter map; the best is refitted on all the data.

    >>> import mapfold as mf
    >>> from mapfold.ml import LogisticRegression, MulticlassClassificationEvaluator
    >>> ds = mf.from_sequence([{"features": [float(x % 7)], "label": float(x % 7 > 3)} for x in range(40)])
    >>> tvs = TrainValidationSplit(estimator=LogisticRegression(max_iter=20),
    ...                            estimator_param_maps=ParamGridBuilder().add_grid("reg_param", [0.0, 10.0]).build(),
    ...                            evaluator=MulticlassClassificationEvaluator(metric_name="accuracy"))
    >>> tvs.fit(ds, runner="serial").best_index
    0
    """

    _defaults = {"estimator": None, "estimator_param_maps": [{}], "evaluator": None, "train_ratio": 0.75,
                 "seed": 0, "parallelism": 1, "collect_sub_models": False}

    def fit(self, ds, runner=None) -> "TrainValidationSplitModel":
        candidates = _check_tuning(self)
        if not isinstance(self.train_ratio, (int, float)) or not 0 < self.train_ratio < 1:
            raise ParamError(f"TrainValidationSplit: train_ratio={self.train_ratio!r} must be in (0, 1)")
        with _FanOut(runner, _check_parallelism(self), candidates) as fan_out:
            [metrics], sub_models = _split_metrics(ds, _Split(self.seed, float(self.train_ratio)), candidates,
                                                   self.evaluator, fan_out, bool(self.collect_sub_models))
            best_index = _best(self.evaluator, metrics)
            best_model = candidates[best_index].fit(ds, runner=fan_out.refit_runner)
        return TrainValidationSplitModel(best_model=best_model, validation_metrics=metrics, best_index=best_index,
                                         sub_models=None if sub_models is None else sub_models[0],
                                         **self.get_params())


class TrainValidationSplitModel(Model):
    """``best_model`` (refitted on all the data), ``validation_metrics``, ``best_index``, and with
    ``collect_sub_models=True`` ``sub_models`` (one per parameter map); ``save``/``load`` keep them all."""

    _defaults = {**TrainValidationSplit._defaults, "best_model": None, "validation_metrics": [], "best_index": 0,
                 "sub_models": None}

    def transform(self, ds):
        return self.best_model.transform(ds)
