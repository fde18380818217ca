"""Evaluators against scikit-learn's metrics and PySpark's recorded values.

``areaUnderROC`` and ``areaUnderPR`` of tied scores were recorded by running
real PySpark ML's BinaryClassificationEvaluator
(``reference/record_pyspark.py``) on the scores and labels stored in
``reference/pyspark_expected.json``.
"""
import random

import pytest

import mapfold as mf
from mapfold.ml import BinaryClassificationEvaluator, MulticlassClassificationEvaluator


def test_binary_matches_pyspark_and_sklearn(pyspark_expected, runner):
    from sklearn.metrics import roc_auc_score

    data = pyspark_expected["binary_evaluator"]
    ds = mf.from_sequence([{"raw_prediction": [-s, s], "label": y} for s, y in zip(data["scores"], data["labels"])],
                          partitions=3)
    roc = BinaryClassificationEvaluator().evaluate(ds, runner=runner)
    pr = BinaryClassificationEvaluator(metric_name="areaUnderPR").evaluate(ds, runner=runner)
    assert roc == pytest.approx(data["areaUnderROC"], abs=1e-12)
    assert roc == pytest.approx(roc_auc_score(data["labels"], data["scores"]), abs=1e-12)
    assert pr == pytest.approx(data["areaUnderPR"], abs=1e-12)


def test_binary_accepts_a_number_as_score():
    from sklearn.metrics import roc_auc_score

    rng = random.Random(3)
    rows = [(rng.random(), float(rng.random() < 0.3)) for _ in range(200)]
    ds = mf.from_sequence([{"score": s, "label": y} for s, y in rows])
    got = BinaryClassificationEvaluator(raw_prediction_col="score").evaluate(ds, runner="serial")
    assert got == pytest.approx(roc_auc_score([y for _, y in rows], [s for s, _ in rows]), abs=1e-12)


@pytest.mark.parametrize("metric, sklearn_name, options", [
    ("f1", "f1_score", {"average": "weighted"}),
    ("accuracy", "accuracy_score", {}),
    ("weightedPrecision", "precision_score", {"average": "weighted", "zero_division": 0}),
    ("weightedRecall", "recall_score", {"average": "weighted"}),
])
def test_multiclass_equals_sklearn(metric, sklearn_name, options, runner):
    from sklearn import metrics

    rng = random.Random(5)
    labels = [float(rng.randrange(4)) for _ in range(300)]
    # class 3 is never predicted: its precision is 0 (PySpark's and zero_division=0)
    predictions = [y if rng.random() < 0.6 else float(rng.randrange(3)) for y in labels]
    predictions = [p if p != 3.0 else 0.0 for p in predictions]
    ds = mf.from_sequence([{"label": y, "prediction": p} for y, p in zip(labels, predictions)], partitions=3)
    got = MulticlassClassificationEvaluator(metric_name=metric).evaluate(ds, runner=runner)
    assert got == pytest.approx(getattr(metrics, sklearn_name)(labels, predictions, **options), abs=1e-12)


def test_default_metric_is_f1():
    assert MulticlassClassificationEvaluator().metric_name == "f1"
    assert BinaryClassificationEvaluator().metric_name == "areaUnderROC"


@pytest.mark.parametrize("metric, sklearn_name", [
    ("rmse", "root_mean_squared_error"), ("mse", "mean_squared_error"), ("r2", "r2_score"),
    ("mae", "mean_absolute_error"),
])
def test_regression_equals_sklearn(metric, sklearn_name, runner):
    from sklearn import metrics

    from mapfold.ml import RegressionEvaluator

    rng = random.Random(9)
    labels = [rng.gauss(10, 3) for _ in range(250)]
    predictions = [y + rng.gauss(0, 1) for y in labels]
    ds = mf.from_sequence([{"label": y, "prediction": p} for y, p in zip(labels, predictions)], partitions=3)
    got = RegressionEvaluator(metric_name=metric).evaluate(ds, runner=runner)
    assert got == pytest.approx(getattr(metrics, sklearn_name)(labels, predictions), rel=1e-12)
    assert RegressionEvaluator(metric_name=metric).is_larger_better() is (metric == "r2")
