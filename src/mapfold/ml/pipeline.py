"""``Pipeline``: stages fitted in order, as PySpark's.

``fit(ds)`` walks the stages: a transformer transforms the data for the
stages after it; an estimator is fitted on the data as transformed so far,
and its model transforms the data for the next stage (not after the last
estimator: nothing needs it). The result is a ``PipelineModel`` of the
transformers and fitted models. Transformations are lazy, so each
estimator's ``fit`` runs the stages before it on the runner again; persist
the input (``ds.persist()``) when reading it is dear.
"""
from __future__ import annotations

from .base import Estimator, Model, Transformer

__all__ = ["Pipeline", "PipelineModel"]


def _check_stages(stages, owner: str) -> list:
    if isinstance(stages, (str, bytes)) or not hasattr(stages, "__iter__"):
        raise TypeError(f"{owner} needs stages, a list of estimators and transformers; got {stages!r}")
    stages = list(stages)
    for stage in stages:
        if not isinstance(stage, (Estimator, Transformer)):
            raise TypeError(f"{owner}: a stage must be a mapfold.ml Estimator or Transformer; "
                            f"got {type(stage).__name__}")
    return stages


class Pipeline(Estimator):
    """Stages fitted in order; ``fit`` returns a ``PipelineModel``.

    >>> import mapfold as mf
    >>> from mapfold.ml import StringIndexer, VectorAssembler
    >>> ds = mf.from_sequence([{"c": "x", "v": 1.0}, {"c": "y", "v": 2.0}, {"c": "x", "v": 3.0}])
    >>> pipeline = Pipeline(stages=[StringIndexer(input_col="c", output_col="ci"),
    ...                             VectorAssembler(input_cols=["ci", "v"], output_col="f")])
    >>> [r["f"].tolist() for r in pipeline.fit(ds, runner="serial").transform(ds).collect(runner="serial")]
    [[0.0, 1.0], [1.0, 2.0], [0.0, 3.0]]
    """

    _defaults = {"stages": []}

    def fit(self, ds, runner=None) -> "PipelineModel":
        stages = _check_stages(self.stages, "Pipeline")
        last_estimator = max((i for i, s in enumerate(stages) if isinstance(s, Estimator)), default=-1)
        fitted = []
        for i, stage in enumerate(stages):
            if isinstance(stage, Estimator):
                stage = stage.fit(ds, runner=runner)
            fitted.append(stage)
            if i < last_estimator:
                ds = stage.transform(ds)
        return PipelineModel(stages=fitted)

    def copy(self, **overrides) -> "Pipeline":
        """A new Pipeline; stages are copied too, so a grid's copies share no stage object."""
        params = {**self.get_params(), **overrides}
        params["stages"] = [stage.copy() for stage in params["stages"]]
        return Pipeline(**params)


class PipelineModel(Model):
    """Fitted stages; ``transform`` applies them in order (lazily).

    >>> import mapfold as mf
    >>> from mapfold.ml import VectorAssembler
    >>> model = PipelineModel(stages=[VectorAssembler(input_cols=["a"], output_col="f")])
    >>> model.transform(mf.from_sequence([{"a": 2}])).collect(runner="serial")[0]["f"].tolist()
    [2.0]
    """

    _defaults = {"stages": []}

    def transform(self, ds):
        for stage in _check_stages(self.stages, "PipelineModel"):
            ds = stage.transform(ds)
        return ds
