"""Evaluators with PySpark's metric names, definitions and defaults.

Both are aggregations on the runner: each partition reduces its records to
a small table (counts per distinct score and label; a confusion table of
label and prediction), the driver merges the tables in partition order and
computes the metric from them. Predictions are never collected.

``BinaryClassificationEvaluator`` follows Spark's
``BinaryClassificationMetrics``: the score is ``raw_prediction[1]`` (or the
number itself); distinct scores are thresholds, from the highest down; the
ROC curve is ``(0, 0)``, then (false positive rate, true positive rate) at
each threshold, then ``(1, 1)``; the PR curve is (recall, precision) at each
threshold, starting from ``(0, precision at the first threshold)``; both
areas are trapezoidal. With more than ``2 * num_bins`` distinct scores
(``num_bins=1000`` as in PySpark), consecutive scores are merged into bins
of ``len(scores) // num_bins``, each keeping its first (highest) score.
Spark bins within the partitions of its sorted scores; this bins the
merged table, so the result does not depend on the partitioning.

``MulticlassClassificationEvaluator``: ``f1`` (the default; PySpark's
weighted F-measure), ``accuracy``, ``weightedPrecision``,
``weightedRecall``, each weighted by the labels' frequencies; a label never
predicted has precision 0.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from .aggregate import as_label, merge_moments
from .base import Evaluator, check_choice

__all__ = ["BinaryClassificationEvaluator", "MulticlassClassificationEvaluator", "RegressionEvaluator", "binary_areas"]

BINARY_METRICS = ("areaUnderROC", "areaUnderPR")
MULTICLASS_METRICS = ("f1", "accuracy", "weightedPrecision", "weightedRecall")


def _score(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return float(value[1])


def _score_counts(score_col: str, label_col: str):
    def counts(records: Iterable) -> dict:
        table: dict = {}
        for record in records:
            score = _score(record[score_col])
            pair = table.get(score)
            if pair is None:
                pair = table[score] = [0.0, 0.0]
            pair[0 if as_label(record[label_col], label_col) > 0.5 else 1] += 1.0
        return table

    return counts


def binary_areas(table: dict, num_bins: int = 1000) -> tuple[float, float]:
    """``(areaUnderROC, areaUnderPR)`` of ``{score: [positives, negatives]}``.

    >>> binary_areas({0.9: [1, 0], 0.8: [1, 0], 0.3: [0, 1], 0.1: [0, 1]})
    (1.0, 1.0)
    """
    scores = sorted(table, reverse=True)
    pairs = [table[s] for s in scores]
    if num_bins > 0 and len(pairs) // num_bins >= 2:
        size = len(pairs) // num_bins
        pairs = [[sum(p[0] for p in pairs[i:i + size]), sum(p[1] for p in pairs[i:i + size])]
                 for i in range(0, len(pairs), size)]
    positives = sum(p[0] for p in pairs)
    negatives = sum(p[1] for p in pairs)
    tp = fp = 0.0
    roc = [(0.0, 0.0)]
    pr = []
    for pos, neg in pairs:
        tp, fp = tp + pos, fp + neg
        roc.append((fp / negatives if negatives else 0.0, tp / positives if positives else 0.0))
        pr.append((tp / positives if positives else 0.0, tp / (tp + fp) if tp + fp else 1.0))
    roc.append((1.0, 1.0))
    pr.insert(0, (0.0, pr[0][1] if pr else 1.0))
    return _trapezoid(roc), _trapezoid(pr)


def _trapezoid(points: list) -> float:
    return sum((x2 - x1) * (y1 + y2) / 2.0 for (x1, y1), (x2, y2) in zip(points, points[1:]))


class BinaryClassificationEvaluator(Evaluator):
    """``areaUnderROC`` (default) or ``areaUnderPR`` of ``raw_prediction`` against ``label``.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"raw_prediction": [-s, s], "label": y} for s, y in [(2, 1), (1, 0), (0.5, 1), (-1, 0)]])
    >>> BinaryClassificationEvaluator().evaluate(ds, runner="serial")
    0.75
    """

    _defaults = {"raw_prediction_col": "raw_prediction", "label_col": "label", "metric_name": "areaUnderROC",
                 "num_bins": 1000}

    def evaluate(self, ds, runner=None) -> float:
        from .aggregate import partition_values

        metric = check_choice(self, "metric_name", BINARY_METRICS)
        table: dict = {}
        for part in partition_values(ds, _score_counts(self.raw_prediction_col, self.label_col), runner):
            for score, (pos, neg) in part.items():
                pair = table.setdefault(score, [0.0, 0.0])
                pair[0] += pos
                pair[1] += neg
        roc, pr = binary_areas(table, self.num_bins)
        return roc if metric == "areaUnderROC" else pr


def _confusion(label_col: str, prediction_col: str):
    def confusion(records: Iterable) -> Counter:
        table: Counter = Counter()
        for record in records:
            table[(as_label(record[label_col], label_col), float(record[prediction_col]))] += 1
        return table

    return confusion


def multiclass_metric(table: dict, metric: str) -> float:
    """A metric of ``{(label, prediction): count}``, weighted by label frequency.

    >>> multiclass_metric({(0.0, 0.0): 2, (1.0, 0.0): 1, (1.0, 1.0): 1}, "accuracy")
    0.75
    """
    total = sum(table.values())
    if total == 0:
        raise ValueError("cannot evaluate an empty Dataset")
    if metric == "accuracy":
        return sum(c for (label, prediction), c in table.items() if label == prediction) / total
    support: Counter = Counter()
    predicted: Counter = Counter()
    hits: Counter = Counter()
    for (label, prediction), count in table.items():
        support[label] += count
        predicted[prediction] += count
        if label == prediction:
            hits[label] += count
    result = 0.0
    for label in sorted(support):
        precision = hits[label] / predicted[label] if predicted[label] else 0.0
        recall = hits[label] / support[label]
        if metric == "weightedPrecision":
            value = precision
        elif metric == "weightedRecall":
            value = recall
        else:
            value = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result += value * support[label] / total
    return result


class MulticlassClassificationEvaluator(Evaluator):
    """``f1`` (default), ``accuracy``, ``weightedPrecision`` or ``weightedRecall`` of ``prediction``.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"label": y, "prediction": p} for y, p in [(0, 0), (0, 0), (1, 0), (1, 1)]])
    >>> MulticlassClassificationEvaluator(metric_name="accuracy").evaluate(ds, runner="serial")
    0.75
    """

    _defaults = {"prediction_col": "prediction", "label_col": "label", "metric_name": "f1"}

    def evaluate(self, ds, runner=None) -> float:
        from .aggregate import partition_values

        metric = check_choice(self, "metric_name", MULTICLASS_METRICS)
        table: Counter = Counter()
        for part in partition_values(ds, _confusion(self.label_col, self.prediction_col), runner):
            table.update(part)
        return multiclass_metric(table, metric)


REGRESSION_METRICS = ("rmse", "mse", "r2", "mae")


def _regression_sums(label_col: str, prediction_col: str):
    def sums(records: Iterable):
        n, squared, absolute, mean, m2 = 0, 0.0, 0.0, 0.0, 0.0
        for record in records:
            label, error = as_label(record[label_col], label_col), float(record[prediction_col]) - as_label(record[label_col], label_col)
            n += 1
            squared += error * error
            absolute += abs(error)
            delta = label - mean  # Welford: the label's variance, for r2
            mean += delta / n
            m2 += delta * (label - mean)
        return n, squared, absolute, mean, m2

    return sums


class RegressionEvaluator(Evaluator):
    """``rmse`` (default), ``mse``, ``r2`` or ``mae`` of ``prediction`` against ``label``, as PySpark's.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"label": y, "prediction": p} for y, p in [(1.0, 2.0), (3.0, 3.0)]])
    >>> RegressionEvaluator(metric_name="mse").evaluate(ds, runner="serial")
    0.5
    """

    _defaults = {"prediction_col": "prediction", "label_col": "label", "metric_name": "rmse"}

    def is_larger_better(self) -> bool:
        return self.metric_name == "r2"

    def evaluate(self, ds, runner=None) -> float:
        import math

        from .aggregate import partition_values
        metric = check_choice(self, "metric_name", REGRESSION_METRICS)
        parts = [p for p in partition_values(ds, _regression_sums(self.label_col, self.prediction_col), runner)
                 if p[0]]
        if not parts:
            raise ValueError("cannot evaluate an empty Dataset")
        n = sum(p[0] for p in parts)
        squared = sum(p[1] for p in parts)
        if metric == "mae":
            return sum(p[2] for p in parts) / n
        if metric == "r2":
            _, _, total = merge_moments((p[0], p[3], p[4]) for p in parts)
            return 1.0 - squared / total
        return squared / n if metric == "mse" else math.sqrt(squared / n)
