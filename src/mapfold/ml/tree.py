"""Decision trees grown by aggregation, level by level, as Spark grows them.

The data never leaves the runner; every step is ``aggregate.partition_values``:

1. **Splits** (Spark's ``findSplits``): each partition counts the distinct
   values of every feature (of a Bernoulli sample when there are more than
   ``max(max_bins**2, 10000)`` records, as Spark samples); the driver merges
   the counts and picks at most ``max_bins - 1`` thresholds per feature as
   Spark does: the midpoints between consecutive distinct values when there
   are few enough, else quantiles (a midpoint each time the running count
   passes a multiple of ``count / max_bins``). On data under the sample
   size, the thresholds are exactly Spark's.
2. **Bins**: each partition becomes one persisted block of bin indices
   (``x <= threshold[b]`` is bin ``b`` or lower), labels, and one weight per
   tree: 1, or for a forest Poisson(``subsampling_rate``) counts (bootstrap)
   or Bernoulli draws, from a generator seeded by ``(seed, partition)``.
3. **Levels**: per level, one job. Each task routes its rows down the
   trees grown so far and adds, for every node of the frontier, a histogram
   per feature and bin of the label statistics (class counts; or count, sum
   and sum of squares for regression); the driver sums the histograms in
   partition order and picks each node's best split (largest gain over the
   features the node may use; Spark's impurities, in Spark's order of
   operations), or makes it a leaf.

A tree is a dict of parallel lists (``feature``, ``threshold``, ``left``,
``right``, ``stats``, ``impurity``, ``gain``; ``feature = -1`` for a leaf),
JSON as it is, so a model saves and loads with ``persistence``. Sibling
leaves with the same prediction are merged into their parent, as Spark
prunes. Features are continuous (Spark's categorical features come from
DataFrame metadata, which dict records do not carry).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from ..core.errors import MapfoldError
from .aggregate import as_label, as_vector, partition_values

__all__ = ["TreeParams", "grow", "prepare", "class_count", "grow_blocks", "route_bins", "find_thresholds", "impurity_of", "predict_leaves", "feature_importances",
           "subset_size", "TreeGrowthError"]

IMPURITIES = ("gini", "entropy", "variance")
EPSILON = 2.220446049250313e-16  # Spark's Utils.EPSILON: a child this pure is a leaf


class TreeGrowthError(MapfoldError, ValueError):
    """The data cannot grow a tree (no records, labels that are not class indices)."""


class TreeParams:
    """What ``grow`` needs: the estimator's parameters, checked."""

    def __init__(self, impurity: str, max_depth: int, max_bins: int, min_instances_per_node: int,
                 min_info_gain: float, num_trees: int = 1, subset: str = "all", subsampling_rate: float = 1.0,
                 bootstrap: bool = False, seed: int = 0) -> None:
        self.impurity, self.max_depth, self.max_bins = impurity, max_depth, max_bins
        self.min_instances_per_node, self.min_info_gain = min_instances_per_node, min_info_gain
        self.num_trees, self.subset, self.subsampling_rate = num_trees, subset, subsampling_rate
        self.bootstrap, self.seed = bootstrap, seed


# -- 1. thresholds --------------------------------------------------------------

def _value_counts(features_col: str, keep_fraction: float, seed: int):
    def counts(index: int, records: Iterable) -> list:
        import numpy as np

        rows = [as_vector(r[features_col], features_col) for r in records]
        if not rows:
            return [None]
        x = np.vstack(rows)
        if keep_fraction < 1.0:
            x = x[np.random.default_rng([seed, index, 1]).random(len(x)) < keep_fraction]
        return [[np.unique(x[:, j], return_counts=True) for j in range(x.shape[1])]]

    return counts


def _continuous_thresholds(values, counts, max_bins: int) -> list[float]:
    """Spark's ``findSplitsForContinuousFeature`` over sorted distinct values and their counts.

    >>> _continuous_thresholds([1.0, 2.0, 4.0], [1, 1, 1], 32)
    [1.5, 3.0]
    >>> _continuous_thresholds(list(range(10)), [1] * 10, 3)
    [2.5, 6.5]
    """
    num_splits = max_bins - 1
    possible = len(values) - 1
    if possible <= 0:
        return []
    if possible <= num_splits:
        return [(values[i - 1] + values[i]) / 2.0 for i in range(1, len(values))]
    stride = float(sum(counts)) / (num_splits + 1)
    splits = []
    current, target = counts[0], stride
    for i in range(1, len(values)):
        previous = current
        current += counts[i]
        if abs(previous - target) < abs(current - target):
            splits.append((values[i - 1] + values[i]) / 2.0)
            target += stride
    return splits


def find_thresholds(ds, features_col: str, max_bins: int, seed: int, runner) -> tuple[int, list[list[float]]]:
    """``(records, thresholds per feature)``, from value counts aggregated on the runner.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"f": [float(v), 1.0]} for v in [3, 1, 2, 2]], partitions=2)
    >>> find_thresholds(ds, "f", 32, 0, "serial")
    (4, [[1.5, 2.5], []])
    """
    import numpy as np

    n = ds.count(runner=runner)
    if n == 0:
        raise TreeGrowthError("cannot grow a tree on an empty Dataset")
    required = max(max_bins * max_bins, 10000)
    fraction = 1.0 if n <= required else required / n
    parts = [p for p in ds.map_partitions_with_index(_value_counts(features_col, fraction, seed)).collect(
        runner=runner) if p is not None]
    thresholds = []
    for j in range(len(parts[0])):
        values = np.concatenate([p[j][0] for p in parts])
        counts = np.concatenate([p[j][1] for p in parts])
        distinct, inverse = np.unique(values, return_inverse=True)
        totals = np.bincount(inverse, weights=counts)
        thresholds.append(_continuous_thresholds(distinct.tolist(), totals.tolist(), max_bins))
    return n, thresholds


# -- 2. binned blocks -------------------------------------------------------------

def _binned(features_col: str, label_col: str, thresholds: list, params: TreeParams, classify: bool = False):
    def to_block(index: int, records: Iterable) -> list:
        import numpy as np

        rows, labels = [], []
        for record in records:
            rows.append(as_vector(record[features_col], features_col))
            labels.append(as_label(record[label_col], label_col))
        if not rows:
            return []
        x = np.vstack(rows)
        bins = np.empty(x.shape, dtype=np.int32)
        for j, cut in enumerate(thresholds):
            bins[:, j] = np.searchsorted(np.asarray(cut, dtype=np.float64), x[:, j], side="left")
        y = np.asarray(labels, dtype=np.float64)
        shape = (len(y), params.num_trees)
        rng = np.random.default_rng([params.seed, index, 2])
        if params.bootstrap:
            weights = rng.poisson(params.subsampling_rate, size=shape).astype(np.float64)
        elif params.subsampling_rate < 1.0:
            weights = (rng.random(shape) < params.subsampling_rate).astype(np.float64)
        else:
            weights = np.ones(shape)
        return [(bins, y, weights)]

    return to_block


# -- impurities, in Spark's order of operations -------------------------------------

def impurity_of(stats, kind: str):
    """The impurity of label statistics (last axis): class counts, or ``(count, sum, sum of squares)``.

    >>> import numpy as np
    >>> float(impurity_of(np.array([2.0, 2.0]), "gini")), float(impurity_of(np.array([2.0, 2.0]), "entropy"))
    (0.5, 1.0)
    >>> float(impurity_of(np.array([3.0, 6.0, 14.0]), "variance"))  # values 1, 2, 3
    0.666...
    """
    import numpy as np

    stats = np.asarray(stats, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "variance":
            count = stats[..., 0]
            value = (stats[..., 2] - stats[..., 1] * stats[..., 1] / count) / count
            return np.where(count > 0, value, 0.0)
        total = stats.sum(axis=-1)
        impurity = np.ones(total.shape) if kind == "gini" else np.zeros(total.shape)
        for c in range(stats.shape[-1]):
            freq = stats[..., c] / total
            if kind == "gini":
                impurity = impurity - freq * freq
            else:
                impurity = impurity - np.where(freq > 0, freq * (np.log(np.where(freq > 0, freq, 1.0)) / math.log(2)),
                                               0.0)
        return np.where(total > 0, impurity, 0.0)


def _count(stats, kind: str):
    return stats[..., 0] if kind == "variance" else stats.sum(axis=-1)


def _prediction(stats, kind: str) -> float:
    import numpy as np

    if kind == "variance":
        return float(stats[1] / stats[0]) if stats[0] > 0 else 0.0
    return float(np.argmax(stats))


# -- 3. levels ------------------------------------------------------------------------

def route_bins(tree: dict, bins):
    """The node of every binned row (its leaf so far), following split bins."""
    import numpy as np

    return _descend(tree, bins, np.asarray(tree["split_bin"], dtype=np.int64))


def _descend(tree: dict, rows_values, cuts):
    """Each row's leaf: left where its value of the node's feature is at most the node's cut."""
    import numpy as np

    feature = np.asarray(tree["feature"], dtype=np.int64)
    left, right = np.asarray(tree["left"], dtype=np.int64), np.asarray(tree["right"], dtype=np.int64)
    node = np.zeros(len(rows_values), dtype=np.int64)
    rows = np.arange(len(rows_values))
    while True:
        inner = feature[node] >= 0
        if not inner.any():
            return node
        r = rows[inner]
        at = node[r]
        node[r] = np.where(rows_values[r, feature[at]] <= cuts[at], left[at], right[at])


def _histograms(trees: list, frontier: list, subsets, num_bins: int, stats_size: int, classify: bool):
    """A task: for each (tree, node) of the frontier and each feature of its subset
    (``subsets[slot]``), per bin, the label statistics: ``slots x features x bins x stats``."""

    def hist(blocks: Iterable):
        import numpy as np

        for block in blocks:
            bins, y, weights = block[:3]
            k = subsets.shape[1]
            out = np.zeros((len(frontier), k, num_bins, stats_size))
            size = out.size // stats_size
            slot_of = {key: s for s, key in enumerate(frontier)}
            for t, tree in enumerate(trees):
                table = np.full(len(tree["feature"]), -1, dtype=np.int64)
                for node in range(len(tree["feature"])):
                    table[node] = slot_of.get((t, node), -1)
                if (table < 0).all():
                    continue
                slots = table[route_bins(tree, bins)]
                w = weights[:, t]
                keep = (slots >= 0) & (w > 0)
                if not keep.any():
                    continue
                s, lab, w = slots[keep], y[keep], w[keep]
                b = np.take_along_axis(bins[keep], subsets[s], axis=1)  # rows x the slot's features
                cells = (s[:, None] * k + np.arange(k)[None, :]) * num_bins + b
                if classify:
                    index = (cells * stats_size + lab.astype(np.int64)[:, None]).ravel()
                    out += np.bincount(index, weights=np.repeat(w, k), minlength=out.size).reshape(out.shape)
                else:
                    index = cells.ravel()
                    for j, values in enumerate((w, w * lab, w * lab * lab)):
                        out[..., j] += np.bincount(index, weights=np.repeat(values, k), minlength=size).reshape(
                            out.shape[:3])
            return out
        return None

    return hist


def subset_size(strategy: str, num_features: int, num_trees: int, classify: bool) -> int:
    """How many features a node may choose from (Spark's ``featureSubsetStrategy``).

    >>> subset_size("auto", 30, 20, True), subset_size("auto", 30, 1, True), subset_size("onethird", 30, 5, False)
    (6, 30, 10)
    >>> subset_size("0.5", 7, 3, True), subset_size("4", 7, 3, True)
    (4, 4)
    """
    if strategy == "auto":
        strategy = "all" if num_trees == 1 else ("sqrt" if classify else "onethird")
    named = {"all": num_features, "sqrt": math.ceil(math.sqrt(num_features)),
             "log2": max(1, math.ceil(math.log2(num_features))) if num_features > 1 else 1,
             "onethird": math.ceil(num_features / 3.0)}
    if strategy in named:
        return max(1, named[strategy])
    try:
        number = float(strategy)
    except ValueError:
        raise TreeGrowthError(f"feature_subset_strategy={strategy!r}: use auto, all, sqrt, log2, onethird, "
                              "a fraction in (0, 1] or a number of features") from None
    if "." in strategy:
        if not 0 < number <= 1:
            raise TreeGrowthError(f"feature_subset_strategy={strategy!r}: a fraction must be in (0, 1]")
        return max(1, math.ceil(number * num_features))
    if number < 1:
        raise TreeGrowthError(f"feature_subset_strategy={strategy!r}: a number of features must be >= 1")
    return min(int(number), num_features)


def _new_node(tree: dict, stats, kind: str) -> int:
    tree["feature"].append(-1)
    tree["split_bin"].append(-1)
    tree["threshold"].append(0.0)
    tree["left"].append(-1)
    tree["right"].append(-1)
    tree["stats"].append([float(v) for v in stats])
    tree["impurity"].append(float(impurity_of(stats, kind)))
    tree["gain"].append(0.0)
    tree["prediction"].append(_prediction(stats, kind))
    return len(tree["feature"]) - 1


def _best_split(hist, bins_per_feature, params: TreeParams):
    """``(gain, position in the subset, split bin, left stats, right stats)`` of one node's histogram
    (its subset's features x bins x stats), or None."""
    import numpy as np

    kind = params.impurity
    total = hist[0].sum(axis=0)  # every feature's bins add up to the node's statistics
    parent = impurity_of(total, kind)
    left = np.cumsum(hist, axis=1)[:, :-1, :]  # features x split bins x stats
    right = total[None, None, :] - left
    count = _count(total, kind)
    left_count, right_count = _count(left, kind), _count(right, kind)
    gain = parent - (left_count / count) * impurity_of(left, kind) - (right_count / count) * impurity_of(right, kind)
    splits = np.arange(left.shape[1])[None, :]
    valid = splits < (np.asarray(bins_per_feature)[:, None] - 1)
    valid &= (left_count >= params.min_instances_per_node) & (right_count >= params.min_instances_per_node)
    valid &= gain >= params.min_info_gain
    if not valid.any():
        return None
    gain = np.where(valid, gain, -np.inf)
    feature, split = np.unravel_index(int(np.argmax(gain)), gain.shape)  # the first best, as Spark's maxBy
    return float(gain[feature, split]), int(feature), int(split), left[feature, split], right[feature, split]


def prepare(ds, features_col: str, label_col: str, params: TreeParams, runner):
    """``(thresholds, blocks)``: Spark's thresholds, and the persisted blocks of ``(bins, labels,
    weights)`` (``unpersist()`` them after use).

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"f": [float(v)], "y": v % 2} for v in range(4)], partitions=1)
    >>> thresholds, blocks = prepare(ds, "f", "y", TreeParams("gini", 2, 32, 1, 0.0), "serial")
    >>> [(b[:, 0].tolist(), y.tolist()) for b, y, _ in blocks.collect(runner="serial")], thresholds
    ([([0, 1, 2, 3], [0.0, 1.0, 0.0, 1.0])], [[0.5, 1.5, 2.5]])
    >>> class_count(blocks, "serial")
    2
    >>> _ = blocks.unpersist()
    """
    _, thresholds = find_thresholds(ds, features_col, params.max_bins, params.seed, runner)
    blocks = ds.map_partitions_with_index(_binned(features_col, label_col, thresholds, params, False)).persist()
    return thresholds, blocks


def class_count(blocks, runner) -> int:
    """The number of classes of the blocks' labels (at least 2); an error unless they are 0, 1, 2, ...
    (an example at ``prepare``)."""
    labels = [v for v in partition_values(blocks, _label_range, runner) if v is not None]
    low, high = min(v[0] for v in labels), max(v[1] for v in labels)
    if low < 0 or any(not v[2] for v in labels):
        raise TreeGrowthError(f"labels must be class indices 0, 1, 2, ...; got values in [{low}, {high}]")
    return max(int(high) + 1, 2)


def grow(ds, features_col: str, label_col: str, params: TreeParams, classify: bool, runner) -> dict[str, Any]:
    """Grow ``params.num_trees`` trees on ``ds``; ``{"trees", "num_features", "num_classes"}``.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"f": [float(v)], "y": float(v > 1)} for v in range(4)], partitions=2)
    >>> grown = grow(ds, "f", "y", TreeParams("gini", 2, 32, 1, 0.0), True, "serial")
    >>> tree = grown["trees"][0]
    >>> tree["feature"], tree["threshold"], tree["prediction"]
    ([0, -1, -1], [1.5, 0.0, 0.0], [0.0, 0.0, 1.0])
    >>> import numpy as np
    >>> route_bins(tree, np.array([[0], [3]])).tolist()  # bins 0 and 3 of the feature
    [1, 2]
    """
    thresholds, blocks = prepare(ds, features_col, label_col, params, runner)
    try:
        num_classes = class_count(blocks, runner) if classify else 0
        trees = grow_blocks(blocks, thresholds, params, num_classes, runner)
    finally:
        blocks.unpersist()
    return {"trees": trees, "num_features": len(thresholds), "num_classes": num_classes}


def grow_blocks(blocks, thresholds: list, params: TreeParams, num_classes: int, runner,
                prune: bool = True) -> list[dict]:
    """The trees grown on binned blocks (``num_classes`` 0: regression on the blocks' labels);
    ``prune=False`` keeps sibling leaves of one prediction (Spark's boosted trees do).

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"f": [float(v)], "y": float(v * v)} for v in range(4)], partitions=1)
    >>> params = TreeParams("variance", 1, 32, 1, 0.0)
    >>> thresholds, blocks = prepare(ds, "f", "y", params, "serial")
    >>> grow_blocks(blocks, thresholds, params, 0, "serial")[0]["prediction"]  # root, 0 1 4 | 9
    [3.5, 1.6666666666666667, 9.0]
    >>> _ = blocks.unpersist()
    """
    import numpy as np

    classify = num_classes > 0
    d = len(thresholds)
    stats_size = num_classes if classify else 3
    num_bins = max(len(t) for t in thresholds) + 1
    bins_per_feature = [len(t) + 1 for t in thresholds]
    k = subset_size(params.subset, d, params.num_trees, classify)
    rng = np.random.default_rng([params.seed, 3])

    def subset():  # a node's features, in ascending order (Spark's order of search)
        return np.arange(d) if k >= d else np.sort(rng.choice(d, size=k, replace=False))

    trees = [{name: [] for name in ("feature", "split_bin", "threshold", "left", "right", "stats", "impurity",
                                    "gain", "prediction")} for _ in range(params.num_trees)]
    for tree in trees:
        _new_node(tree, np.zeros(stats_size), params.impurity)  # the root; its statistics come with level 0
    frontier = [((t, 0), subset()) for t in range(params.num_trees)]
    depth = 0
    while frontier:
        keys = [key for key, _ in frontier]
        subsets = np.vstack([features for _, features in frontier])
        make = _histograms(trees, keys, subsets, num_bins, stats_size, classify)
        hist = None
        for part in partition_values(blocks, make, runner):
            if part is not None:
                hist = part if hist is None else hist + part
        if hist is None:
            raise TreeGrowthError("cannot grow a tree: every record has weight 0")
        next_frontier = []
        for s, (t, node) in enumerate(keys):
            tree = trees[t]
            if depth == 0:  # the root learns its statistics from its histogram
                root = hist[s][0].sum(axis=0)
                tree["stats"][node] = root.tolist()
                tree["impurity"][node] = float(impurity_of(root, params.impurity))
                tree["prediction"][node] = _prediction(root, params.impurity)
            if depth >= params.max_depth:
                continue
            features = subsets[s]
            best = _best_split(hist[s], [bins_per_feature[j] for j in features], params)
            if best is None or best[0] <= 0:
                continue
            gain, position, split, left_stats, right_stats = best
            feature = int(features[position])
            tree["feature"][node], tree["split_bin"][node] = feature, split
            tree["threshold"][node], tree["gain"][node] = float(thresholds[feature][split]), gain
            for side, stats in (("left", left_stats), ("right", right_stats)):
                child = _new_node(tree, stats, params.impurity)
                tree[side][node] = child
                if depth + 1 < params.max_depth and abs(tree["impurity"][child]) >= EPSILON:
                    next_frontier.append(((t, child), subset()))
        frontier = next_frontier
        depth += 1
    return [_pruned(tree, prune) for tree in trees]


def _label_range(blocks: Iterable):
    import numpy as np

    for block in blocks:
        y = block[1]
        return float(y.min()), float(y.max()), bool(np.all(y == np.floor(y)))
    return None


def _pruned(tree: dict, prune_leaves: bool = True) -> dict:
    """Spark's pruning: an inner node whose two children are leaves of one prediction becomes a leaf;
    the nodes renumbered depth first (root 0, left subtree, right subtree)."""
    names = ("feature", "split_bin", "threshold", "left", "right", "stats", "impurity", "gain", "prediction")

    def is_leaf(node: int) -> bool:
        return tree["feature"][node] < 0

    def prune(node: int) -> None:
        if is_leaf(node):
            return
        left, right = tree["left"][node], tree["right"][node]
        prune(left)
        prune(right)
        if is_leaf(left) and is_leaf(right) and tree["prediction"][left] == tree["prediction"][right]:
            tree["feature"][node], tree["gain"][node] = -1, 0.0

    if prune_leaves:
        prune(0)
    out: dict = {name: [] for name in names}

    def copy(node: int) -> int:
        index = len(out["feature"])
        for name in names:
            out[name].append(tree[name][node])
        if is_leaf(node):
            out["left"][index] = out["right"][index] = out["split_bin"][index] = -1
            out["threshold"][index] = 0.0
            return index
        out["left"][index] = copy(tree["left"][node])
        out["right"][index] = copy(tree["right"][node])
        return index

    copy(0)
    return out


# -- using a grown tree ------------------------------------------------------------------

def predict_leaves(tree: dict, x):
    """The leaf of each row of ``x`` (``x[feature] <= threshold`` goes left).

    >>> import numpy as np
    >>> tree = {"feature": [0, -1, -1], "threshold": [1.5, 0, 0], "left": [1, -1, -1], "right": [2, -1, -1]}
    >>> predict_leaves(tree, np.array([[1.0], [2.0]])).tolist()
    [1, 2]
    """
    import numpy as np

    return _descend(tree, x, np.asarray(tree["threshold"], dtype=np.float64))


def feature_importances(trees: list, num_features: int, kind: str, per_tree: bool = True) -> list[float]:
    """Spark's importances: per tree, each split's gain times its node's count, normalised to 1
    (not for boosted trees: ``per_tree=False``); the trees' vectors added and normalised again.

    >>> tree = {"feature": [1, -1, -1], "gain": [0.5, 0.0, 0.0], "stats": [[2.0, 2.0], [2.0, 0.0], [0.0, 2.0]]}
    >>> feature_importances([tree], 3, "gini")
    [0.0, 1.0, 0.0]
    """
    import numpy as np

    total = np.zeros(num_features)
    for tree in trees:
        importance = np.zeros(num_features)
        for feature, gain, stats in zip(tree["feature"], tree["gain"], tree["stats"]):
            if feature >= 0:
                importance[feature] += gain * float(_count(np.asarray(stats), kind))
        if importance.sum() > 0:
            total += importance / importance.sum() if per_tree else importance
    return (total / total.sum()).tolist() if total.sum() > 0 else total.tolist()
