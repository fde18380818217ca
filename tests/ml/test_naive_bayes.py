"""NaiveBayes against PySpark's recorded pi/theta/sigma and scikit-learn's predictions.

PySpark's values were recorded by running real PySpark ML's NaiveBayes
(``reference/record_pyspark.py``): multinomial on the first 300 rows of
wine, Gaussian on the first 300 rows of digits.
"""
import numpy as np
import pytest

import mapfold as mf
from mapfold.ml import NaiveBayes

from .conftest import split_records


def _records(name, rows):
    from sklearn import datasets

    data = getattr(datasets, f"load_{name}")()
    return [{"features": x, "label": float(y)} for x, y in zip(data.data[:rows], data.target[:rows])]


@pytest.mark.parametrize("index", range(2))
def test_parameters_match_pyspark(pyspark_expected, index, runner):
    expected = pyspark_expected["naive_bayes"][index]
    ds = mf.from_sequence(_records(expected["data"], expected["rows"]), partitions=3)
    model = NaiveBayes(model_type=expected["model_type"]).fit(ds, runner=runner)
    np.testing.assert_allclose(model.pi, expected["pi"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.theta, expected["theta"], rtol=1e-9, atol=1e-12)
    if expected["sigma"] is not None:
        np.testing.assert_allclose(model.sigma, expected["sigma"], rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("model_type, sklearn_class, data", [
    ("multinomial", "MultinomialNB", "wine"),
    ("gaussian", "GaussianNB", "digits"),
    ("bernoulli", "BernoulliNB", "digits"),
])
def test_accuracy_within_002_of_sklearn(model_type, sklearn_class, data):
    from sklearn import naive_bayes
    from sklearn.metrics import accuracy_score

    train, test = split_records(data)
    if model_type == "bernoulli":  # 0/1 features, as Spark's Bernoulli model requires
        train = [{**r, "features": (r["features"] > 7).astype(float)} for r in train]
        test = [{**r, "features": (r["features"] > 7).astype(float)} for r in test]
    model = NaiveBayes(model_type=model_type).fit(mf.from_sequence(train, partitions=3), runner="serial")
    predicted = [r["prediction"] for r in model.transform(mf.from_sequence(test)).collect(runner="serial")]
    sk = getattr(naive_bayes, sklearn_class)().fit(np.vstack([r["features"] for r in train]),
                                                   [r["label"] for r in train])
    truth = [r["label"] for r in test]
    sk_predicted = sk.predict(np.vstack([r["features"] for r in test]))
    assert accuracy_score(truth, predicted) == pytest.approx(accuracy_score(truth, sk_predicted), abs=0.02)
    if model_type != "gaussian":  # the same smoothed log probabilities as scikit-learn's alpha=1
        np.testing.assert_allclose(model.theta, sk.feature_log_prob_, rtol=1e-12)


def test_negative_features_need_gaussian():
    ds = mf.from_sequence([{"features": [-1.0], "label": 0.0}])
    with pytest.raises(ValueError, match="features >= 0.*gaussian"):
        NaiveBayes().fit(ds, runner="serial")
