"""Decision trees and random forests with PySpark's parameters, grown by ``tree.grow``.

``DecisionTreeClassifier`` / ``DecisionTreeRegressor`` grow one tree on all
the data with all the features; ``RandomForestClassifier`` /
``RandomForestRegressor`` grow ``num_trees`` at once (one job per level for
the whole forest), each on Poisson(``subsampling_rate``) bootstrap weights
(``bootstrap=True``) and choosing each split among a random subset of the
features (``feature_subset_strategy``), as Spark does. Models add PySpark's
fields: a classifier ``raw_prediction`` (the leaf's class counts for a
tree; for a forest the sum of the trees' class probabilities),
``probability`` and ``prediction``; a regressor ``prediction``.
"""
from __future__ import annotations

from .aggregate import batch_transform
from .base import Estimator, Model, ParamError, check_choice
from .tree import TreeParams, feature_importances, grow, predict_leaves, subset_size

__all__ = ["DecisionTreeClassifier", "DecisionTreeClassificationModel", "DecisionTreeRegressor",
           "DecisionTreeRegressionModel", "RandomForestClassifier", "RandomForestClassificationModel",
           "RandomForestRegressor", "RandomForestRegressionModel"]

_COMMON = {"features_col": "features", "label_col": "label", "prediction_col": "prediction", "max_depth": 5,
           "max_bins": 32, "min_instances_per_node": 1, "min_info_gain": 0.0, "seed": 0}
_CLASSIFIER = {**_COMMON, "probability_col": "probability", "raw_prediction_col": "raw_prediction",
               "impurity": "gini"}
_REGRESSOR = {**_COMMON, "impurity": "variance"}
_FOREST = {"num_trees": 20, "feature_subset_strategy": "auto", "subsampling_rate": 1.0, "bootstrap": True}


def _tree_params(owner, classify: bool, forest: bool) -> TreeParams:
    name = type(owner).__name__
    impurity = check_choice(owner, "impurity", ("gini", "entropy") if classify else ("variance",))
    for param, low in (("max_depth", 0), ("max_bins", 2), ("min_instances_per_node", 1)):
        value = owner.get_params()[param]
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ParamError(f"{name}: {param}={value!r} must be an int >= {low}")
    if owner.max_depth > 30:
        raise ParamError(f"{name}: max_depth={owner.max_depth} must be at most 30, as Spark's")
    if not isinstance(owner.min_info_gain, (int, float)) or owner.min_info_gain < 0:
        raise ParamError(f"{name}: min_info_gain={owner.min_info_gain!r} must be a number >= 0")
    if not isinstance(owner.seed, int):
        raise ParamError(f"{name}: seed={owner.seed!r} must be an int")
    if not forest:
        return TreeParams(impurity, owner.max_depth, owner.max_bins, owner.min_instances_per_node,
                          float(owner.min_info_gain), seed=owner.seed)
    if not isinstance(owner.num_trees, int) or owner.num_trees < 1:
        raise ParamError(f"{name}: num_trees={owner.num_trees!r} must be an int >= 1")
    if not isinstance(owner.subsampling_rate, (int, float)) or not 0 < owner.subsampling_rate <= 1:
        raise ParamError(f"{name}: subsampling_rate={owner.subsampling_rate!r} must be in (0, 1]")
    subset = str(owner.feature_subset_strategy)
    try:
        subset_size(subset, 100, owner.num_trees, classify)
    except ValueError as error:
        raise ParamError(f"{name}: {error}") from None
    bootstrap = bool(owner.bootstrap) and owner.num_trees > 1  # Spark samples a one-tree forest without replacement
    return TreeParams(impurity, owner.max_depth, owner.max_bins, owner.min_instances_per_node,
                      float(owner.min_info_gain), num_trees=owner.num_trees, subset=subset,
                      subsampling_rate=float(owner.subsampling_rate), bootstrap=bootstrap, seed=owner.seed)


def _depth(tree: dict, node: int = 0) -> int:
    if tree["feature"][node] < 0:
        return 0
    return 1 + max(_depth(tree, tree["left"][node]), _depth(tree, tree["right"][node]))


def _debug_lines(tree: dict, node: int, indent: str, lines: list) -> None:
    if tree["feature"][node] < 0:
        lines.append(f"{indent}Predict: {tree['prediction'][node]}")
        return
    feature, threshold = tree["feature"][node], tree["threshold"][node]
    lines.append(f"{indent}If (feature {feature} <= {threshold})")
    _debug_lines(tree, tree["left"][node], indent + " ", lines)
    lines.append(f"{indent}Else (feature {feature} > {threshold})")
    _debug_lines(tree, tree["right"][node], indent + " ", lines)


class _TreeModel(Model):
    """What every tree model shares: ``tree`` (``tree.grow``'s dict of node lists)."""

    _kind = "gini"

    @property
    def depth(self) -> int:
        """The tree's depth (a lone leaf: 0), PySpark's ``depth``."""
        return _depth(self.tree)

    @property
    def num_nodes(self) -> int:
        """Nodes, inner and leaves (PySpark's ``numNodes``)."""
        return len(self.tree["feature"])

    @property
    def feature_importances(self):
        """Spark's importances: gain times node count per split, normalised to sum to 1."""
        import numpy as np

        return np.asarray(feature_importances([self.tree], self.num_features, self.impurity), dtype=np.float64)

    def to_debug_string(self) -> str:
        """The tree as nested if/else lines, as PySpark's ``toDebugString``."""
        lines = [f"{type(self).__name__} of depth {self.depth} with {self.num_nodes} nodes"]
        _debug_lines(self.tree, 0, "  ", lines)
        return "\n".join(lines)


def _classify(trees: list, model, forest: bool):
    import numpy as np

    tables = [np.asarray(t["stats"], dtype=np.float64) for t in trees]
    out_raw, out_prob, out_pred = model.raw_prediction_col, model.probability_col, model.prediction_col

    def compute(x):
        raw = np.zeros((len(x), tables[0].shape[1]))
        for tree, stats in zip(trees, tables):
            counts = stats[predict_leaves(tree, x)]
            if forest:
                total = counts.sum(axis=1, keepdims=True)
                counts = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
            raw += counts
        total = raw.sum(axis=1, keepdims=True)
        probability = np.divide(raw, total, out=np.zeros_like(raw), where=total > 0)
        return {out_raw: list(raw), out_prob: list(probability),
                out_pred: np.argmax(raw, axis=1).astype(np.float64).tolist()}

    return batch_transform(model.features_col, compute)


def _regress(trees: list, model):
    import numpy as np

    means = [np.asarray(t["prediction"], dtype=np.float64) for t in trees]

    def compute(x):
        total = np.zeros(len(x))
        for tree, mean in zip(trees, means):
            total += mean[predict_leaves(tree, x)]
        return {model.prediction_col: (total / len(trees)).tolist()}

    return batch_transform(model.features_col, compute)


class DecisionTreeClassifier(Estimator):
    """A classification tree grown level by level from histograms aggregated on the runner.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"features": [float(x), 0.0], "label": float(x > 2)} for x in range(6)])
    >>> model = DecisionTreeClassifier().fit(ds, runner="serial")
    >>> model.depth, model.tree["threshold"][0], [r["prediction"] for r in model.transform(ds).collect(runner="serial")]
    (1, 2.5, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    >>> model.feature_importances.tolist()
    [1.0, 0.0]
    """

    _defaults = dict(_CLASSIFIER)

    def fit(self, ds, runner=None) -> "DecisionTreeClassificationModel":
        grown = grow(ds, self.features_col, self.label_col, _tree_params(self, True, False), True, runner)
        return DecisionTreeClassificationModel(tree=grown["trees"][0], num_features=grown["num_features"],
                                               num_classes=grown["num_classes"], **self.get_params())


class DecisionTreeClassificationModel(_TreeModel):
    """A fitted classification tree: ``transform`` adds ``raw_prediction`` (the leaf's class
    counts), ``probability`` and ``prediction``; ``depth``, ``num_nodes``, ``feature_importances``."""

    _defaults = {**_CLASSIFIER, "tree": None, "num_features": 0, "num_classes": 2}

    def transform(self, ds):
        return ds.map_partitions(_classify([self.tree], self, forest=False))


class DecisionTreeRegressor(Estimator):
    """A regression tree (variance impurity), grown as ``DecisionTreeClassifier``.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"features": [float(x)], "label": float(x > 2) * 10} for x in range(6)])
    >>> [r["prediction"] for r in DecisionTreeRegressor().fit(ds, runner="serial").transform(ds).collect(runner="serial")]
    [0.0, 0.0, 0.0, 10.0, 10.0, 10.0]
    """

    _defaults = dict(_REGRESSOR)

    def fit(self, ds, runner=None) -> "DecisionTreeRegressionModel":
        grown = grow(ds, self.features_col, self.label_col, _tree_params(self, False, False), False, runner)
        return DecisionTreeRegressionModel(tree=grown["trees"][0], num_features=grown["num_features"],
                                           **self.get_params())


class DecisionTreeRegressionModel(_TreeModel):
    """A fitted regression tree: ``transform`` adds ``prediction`` (the leaf's mean label)."""

    _defaults = {**_REGRESSOR, "tree": None, "num_features": 0}

    def transform(self, ds):
        return ds.map_partitions(_regress([self.tree], self))


class _EnsembleModel(Model):
    """What every tree-ensemble model (forests, boosted trees) shares: ``forest``, a list of ``tree.grow`` trees."""

    @property
    def get_num_trees(self) -> int:
        return len(self.forest)

    @property
    def total_num_nodes(self) -> int:
        return sum(len(tree["feature"]) for tree in self.forest)


class _ForestModel(_EnsembleModel):
    """What both forest models share."""

    @property
    def trees(self) -> list:
        """Each tree as a model of its own (PySpark's ``trees``)."""
        single = DecisionTreeClassificationModel if self.impurity != "variance" else DecisionTreeRegressionModel
        names = set(single._defaults) - {"tree"}
        shared = {k: v for k, v in self.get_params().items() if k in names}
        return [single(tree=tree, **shared) for tree in self.forest]

    @property
    def tree_weights(self) -> list[float]:
        """Every tree weighs 1, as in Spark's forests."""
        return [1.0] * len(self.forest)

    @property
    def feature_importances(self):
        """Spark's: each tree's importances normalised, added over the trees, normalised again."""
        import numpy as np

        return np.asarray(feature_importances(self.forest, self.num_features, self.impurity), dtype=np.float64)


class RandomForestClassifier(Estimator):
    """A forest of classification trees, all grown at once: one job per level for the whole forest.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"features": [float(x), float(x % 2)], "label": float(x > 9)} for x in range(20)])
    >>> model = RandomForestClassifier(num_trees=5, seed=1).fit(ds, runner="serial")
    >>> sum(r["prediction"] == r["label"] for r in model.transform(ds).collect(runner="serial")) >= 18
    True
    """

    _defaults = {**_CLASSIFIER, **_FOREST}

    def fit(self, ds, runner=None) -> "RandomForestClassificationModel":
        grown = grow(ds, self.features_col, self.label_col, _tree_params(self, True, True), True, runner)
        return RandomForestClassificationModel(forest=grown["trees"], num_features=grown["num_features"],
                                               num_classes=grown["num_classes"], **self.get_params())


class RandomForestClassificationModel(_ForestModel):
    """A fitted forest: ``raw_prediction`` is the sum of the trees' leaf class probabilities,
    ``probability`` it normalised, ``prediction`` its largest class, as Spark's."""

    _defaults = {**_CLASSIFIER, **_FOREST, "forest": [], "num_features": 0, "num_classes": 2}

    def transform(self, ds):
        return ds.map_partitions(_classify(self.forest, self, forest=True))


class RandomForestRegressor(Estimator):
    """A forest of regression trees; the prediction is the trees' mean.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"features": [float(x)], "label": float(x)} for x in range(20)])
    >>> model = RandomForestRegressor(num_trees=4).fit(ds, runner="serial")
    >>> len(model.trees), model.get_num_trees
    (4, 4)
    """

    _defaults = {**_REGRESSOR, **_FOREST}

    def fit(self, ds, runner=None) -> "RandomForestRegressionModel":
        grown = grow(ds, self.features_col, self.label_col, _tree_params(self, False, True), False, runner)
        return RandomForestRegressionModel(forest=grown["trees"], num_features=grown["num_features"],
                                           **self.get_params())


class RandomForestRegressionModel(_ForestModel):
    """A fitted regression forest: ``prediction`` is the mean of the trees' predictions."""

    _defaults = {**_REGRESSOR, **_FOREST, "forest": [], "num_features": 0}

    def transform(self, ds):
        return ds.map_partitions(_regress(self.forest, self))
