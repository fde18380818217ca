"""LinearRegression against PySpark's recorded coefficients and scikit-learn.

PySpark's values were recorded by running real PySpark ML's LinearRegression
(``reference/record_pyspark.py``) on scikit-learn's diabetes data, unscaled.
"""
import numpy as np
import pytest

import mapfold as mf
from mapfold.ml import LinearRegression, RegressionEvaluator


def _diabetes():
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    return data.data, data.target.astype(float)


def _ds(partitions=3):
    x, y = _diabetes()
    return mf.from_sequence([{"features": row, "label": label} for row, label in zip(x, y)], partitions=partitions)


@pytest.mark.parametrize("index", range(5))
def test_coefficients_match_pyspark(pyspark_expected, index, runner):
    fit = pyspark_expected["linear_regression"][index]
    model = LinearRegression(reg_param=fit["reg_param"], elastic_net_param=fit["elastic_net_param"],
                             standardization=fit["standardization"]).fit(_ds(), runner=runner)
    # the normal equations (no L1) agree to rounding; with L1, Spark's OWL-QN stops a little short
    tolerance = 1e-6 if fit["elastic_net_param"] == 0 or fit["reg_param"] == 0 else 1e-3
    scale = np.abs(fit["coefficients"]).max()
    np.testing.assert_allclose(model.coefficients, fit["coefficients"], atol=tolerance * scale)
    assert model.intercept == pytest.approx(fit["intercept"], abs=tolerance * max(scale, abs(fit["intercept"])))


def test_unregularised_equals_sklearn_and_metrics_agree():
    from sklearn.linear_model import LinearRegression as SkLinear
    from sklearn.metrics import r2_score

    x, y = _diabetes()
    model = LinearRegression().fit(_ds(), runner="serial")
    sk = SkLinear().fit(x, y)
    np.testing.assert_allclose(model.coefficients, sk.coef_, rtol=1e-8)
    predicted = model.transform(_ds())
    r2 = RegressionEvaluator(metric_name="r2").evaluate(predicted, runner="serial")
    assert r2 == pytest.approx(r2_score(y, sk.predict(x)), abs=1e-10)


def test_lasso_equals_sklearn_without_standardization():
    """Without an L2 part the label's scale drops out: Spark's objective is scikit-learn's Lasso's."""
    from sklearn.linear_model import Lasso

    x, y = _diabetes()
    model = LinearRegression(reg_param=2.0, elastic_net_param=1.0, standardization=False).fit(_ds(), runner="serial")
    sk = Lasso(alpha=2.0, max_iter=1000000, tol=1e-12).fit(x, y)
    np.testing.assert_allclose(model.coefficients, sk.coef_, atol=1e-3 * np.abs(sk.coef_).max())


def test_constant_label_gives_the_constant_model():
    ds = mf.from_sequence([{"features": [float(i), 1.0], "label": 3.0} for i in range(4)])
    model = LinearRegression(reg_param=0.1).fit(ds, runner="serial")
    assert model.coefficients.tolist() == [0.0, 0.0] and model.intercept == 3.0
