"""``GBTClassifier``: gradient-boosted regression trees on the log loss, as Spark boosts them.

Spark's algorithm (``GradientBoostedTrees.boost``), on ``tree``'s binned
blocks, thresholds found once: labels become ``2y - 1``; the first tree
(weight 1) is a regression tree on them; each later tree (weight
``step_size``) is a regression tree on the pseudo-residuals of the log loss
at the margin ``F`` of the trees so far, ``4y / (1 + exp(2yF))``. Each
iteration maps the persisted blocks to new ones holding the updated margin
and residuals (Spark's cached prediction-and-error RDD), then grows the
next tree on them, one job per level. With ``subsampling_rate < 1`` each
tree gets its own Bernoulli sample (seeded by ``seed + iteration`` and the
partition). The model's margin is ``sum(weight * tree(x))``;
``probability`` is ``1 / (1 + exp(-2F))``, ``raw_prediction`` ``[-F, F]``,
``prediction`` ``F > 0``, as Spark's.
"""
from __future__ import annotations

from typing import Iterable

from .aggregate import batch_transform
from .base import Estimator, ParamError, check_choice
from .tree import TreeParams, class_count, feature_importances, grow_blocks, predict_leaves, prepare, route_bins
from .trees import DecisionTreeRegressionModel, _EnsembleModel

__all__ = ["GBTClassifier", "GBTClassificationModel"]


def _start(blocks: Iterable) -> list:
    import numpy as np

    for bins, y, weights in blocks:
        signed = 2.0 * y - 1.0
        return [(bins, signed, weights, signed, np.zeros(len(y)))]
    return []


def _resample(rate: float, seed: int):
    """The first tree's Bernoulli sample of the rows (later trees draw theirs in ``_step``)."""

    def resample(index: int, blocks: Iterable) -> list:
        import numpy as np

        return [(bins, y, (np.random.default_rng([seed, index, 2]).random(w.shape) < rate).astype(np.float64), s, m)
                for bins, y, w, s, m in blocks]

    return resample


def _step(tree: dict, weight: float, rate: float, seed: int):
    """Add ``weight * tree`` to each block's margin; the residuals at the new margin become the labels."""

    def step(index: int, blocks: Iterable) -> list:
        import numpy as np

        for bins, _, weights, signed, margin in blocks:
            margin = margin + np.asarray(tree["prediction"], dtype=np.float64)[route_bins(tree, bins)] * weight
            residual = 4.0 * signed / (1.0 + np.exp(2.0 * signed * margin))
            if rate < 1.0:
                weights = (np.random.default_rng([seed, index, 2]).random(weights.shape) < rate).astype(np.float64)
            return [(bins, residual, weights, signed, margin)]
        return []

    return step


class GBTClassifier(Estimator):
    """Binary classification by gradient-boosted trees, with PySpark's parameters and outputs.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"features": [float(x), float(x % 3)], "label": float(x > 9)} for x in range(20)])
    >>> model = GBTClassifier(max_iter=5, max_depth=2).fit(ds, runner="serial")
    >>> [r["prediction"] for r in model.transform(ds).collect(runner="serial")] == [float(x > 9) for x in range(20)]
    True
    >>> model.tree_weights
    [1.0, 0.1, 0.1, 0.1, 0.1]
    """

    _defaults = {"features_col": "features", "label_col": "label", "prediction_col": "prediction",
                 "probability_col": "probability", "raw_prediction_col": "raw_prediction", "max_depth": 5,
                 "max_bins": 32, "min_instances_per_node": 1, "min_info_gain": 0.0, "impurity": "variance",
                 "max_iter": 20, "step_size": 0.1, "subsampling_rate": 1.0, "feature_subset_strategy": "all",
                 "loss_type": "logistic", "seed": 0}

    def _checked(self) -> TreeParams:
        from .trees import _tree_params

        check_choice(self, "loss_type", ("logistic",))
        if not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise ParamError(f"GBTClassifier: max_iter={self.max_iter!r} must be an int >= 1")
        if not isinstance(self.step_size, (int, float)) or not 0 < self.step_size <= 1:
            raise ParamError(f"GBTClassifier: step_size={self.step_size!r} must be in (0, 1]")
        if not isinstance(self.subsampling_rate, (int, float)) or not 0 < self.subsampling_rate <= 1:
            raise ParamError(f"GBTClassifier: subsampling_rate={self.subsampling_rate!r} must be in (0, 1]")
        single = _tree_params(self, classify=False, forest=False)
        single.subset = str(self.feature_subset_strategy)
        return single

    def fit(self, ds, runner=None) -> "GBTClassificationModel":
        params = self._checked()
        thresholds, binned = prepare(ds, self.features_col, self.label_col, params, runner)
        current = binned
        try:
            if class_count(binned, runner) != 2:
                raise ParamError("GBTClassifier: labels must be 0 and 1 (binary classification only, as Spark's)")
            rate = float(self.subsampling_rate)
            trees, weights = [], []
            start = binned.map_partitions(_start)
            if rate < 1.0:
                start = start.map_partitions_with_index(_resample(rate, params.seed))
            current = start.persist()
            for m in range(self.max_iter):
                if m:
                    previous = current
                    current = current.map_partitions_with_index(
                        _step(trees[-1], weights[-1], rate, params.seed + m)).persist()
                    previous.unpersist()
                tree_params = TreeParams(**{**vars(params), "seed": params.seed + m})
                trees += grow_blocks(current, thresholds, tree_params, 0, runner, prune=False)
                weights.append(1.0 if m == 0 else float(self.step_size))
        finally:
            if current is not binned:
                current.unpersist()
            binned.unpersist()
        return GBTClassificationModel(forest=trees, tree_weights=weights, num_features=len(thresholds),
                                      **self.get_params())


def _boosted(model: "GBTClassificationModel"):
    import numpy as np

    trees, weights = model.forest, [float(w) for w in model.tree_weights]
    values = [np.asarray(t["prediction"], dtype=np.float64) for t in trees]
    out_raw, out_prob, out_pred = model.raw_prediction_col, model.probability_col, model.prediction_col

    def compute(x):
        margin = np.zeros(len(x))
        for tree, value, weight in zip(trees, values, weights):
            margin = margin + value[predict_leaves(tree, x)] * weight
        p = 1.0 / (1.0 + np.exp(-2.0 * margin))
        return {out_raw: list(np.column_stack([-margin, margin])), out_prob: list(np.column_stack([1.0 - p, p])),
                out_pred: (margin > 0).astype(np.float64).tolist()}

    return batch_transform(model.features_col, compute)


class GBTClassificationModel(_EnsembleModel):
    """A fitted ``GBTClassifier``: ``forest`` (the trees), ``tree_weights``; ``feature_importances``
    as Spark's for boosted trees (gains times counts added over the trees, normalised once)."""

    _defaults = {**GBTClassifier._defaults, "forest": [], "tree_weights": [], "num_features": 0}

    @property
    def trees(self) -> list:
        """Each tree as a ``DecisionTreeRegressionModel`` (PySpark's ``trees``)."""
        return [DecisionTreeRegressionModel(tree=tree, num_features=self.num_features, features_col=self.features_col)
                for tree in self.forest]

    @property
    def feature_importances(self):
        import numpy as np

        return np.asarray(feature_importances(self.forest, self.num_features, "variance", per_tree=False))

    def transform(self, ds):
        return ds.map_partitions(_boosted(self))
