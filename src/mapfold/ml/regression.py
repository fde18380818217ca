"""``LinearRegression`` with PySpark's objective, from one pass of sufficient statistics.

PySpark's objective, rewritten in the features' and label's own units
(Spark scales the label by its standard deviation ``s_y`` and the penalty
with it, ``regParam / s_y``)::

    1/(2n) sum (y - w.x - b)^2
      + reg_param * (1 - a) / (2 s_y) * sum (p_j w_j)^2 + reg_param * a * sum p_j |w_j|

with ``a = elastic_net_param``, ``p_j`` the feature's standard deviation
when ``standardization=True`` and 1 otherwise; the intercept is
not penalised. Standard deviations here are the population ones (divided
by ``n``), as Spark's linear regression computes them. The objective is quadratic in ``w``, so one pass over the
data is enough: each partition computes its count, means and centred cross
products (``X'X``, ``X'y``, ``y'y``), the driver merges them in partition
order (Chan et al.'s update) and solves: a linear system without an L1
part (Spark's ``normal`` solver), scipy's L-BFGS-B on the same quadratic
with each coefficient split in two bounded halves with one (where Spark
runs OWL-QN over the data, one pass per iteration). A feature of zero
variance gets coefficient 0; a constant label gives the constant model.
"""
from __future__ import annotations

from typing import Iterable

from .aggregate import batch_transform, feature_blocks, merge_in_order, partition_values
from .base import Estimator, Model

__all__ = ["LinearRegression", "LinearRegressionModel"]
DDOF = 1


def _comoments(block_iter: Iterable):
    import numpy as np

    for x, y in block_iter:
        mx, my = x.mean(axis=0), float(y.mean())
        cx, cy = x - mx, y - my
        return len(y), mx, my, cx.T @ cx, cx.T @ cy, float(cy @ cy)
    return None


def _merge_two_comoments(total, part):
    n1, mx1, my1, cxx1, cxy1, cyy1 = total
    n2, mx2, my2, cxx2, cxy2, cyy2 = part
    n = n1 + n2
    dx, dy, f = mx2 - mx1, my2 - my1, n1 * n2 / n
    return (n, mx1 + dx * (n2 / n), my1 + dy * (n2 / n), cxx1 + cxx2 + f * (dx[:, None] * dx[None, :]),
            cxy1 + cxy2 + f * dx * dy, cyy1 + cyy2 + f * dy * dy)


def merge_comoments(parts: Iterable):
    """``(n, mean x, mean y, Cxx, Cxy, Cyy)`` of the union of parts, merged in order."""
    return merge_in_order(parts, _merge_two_comoments, "LinearRegression: cannot fit on an empty Dataset")


class LinearRegression(Estimator):
    """Least squares with PySpark's parameters and objective (see the module docstring).

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"features": [float(x)], "label": 2.0 * x + 1.0} for x in range(5)])
    >>> model = LinearRegression().fit(ds, runner="serial")
    >>> model.coefficients.round(6).tolist(), round(model.intercept, 6)
    ([2.0], 1.0)
    """

    fit_imports = ("numpy", "scipy.optimize")
    _defaults = {"features_col": "features", "label_col": "label", "prediction_col": "prediction",
                 "reg_param": 0.0, "elastic_net_param": 0.0, "max_iter": 100, "tol": 1e-6, "standardization": True}

    def fit(self, ds, runner=None) -> "LinearRegressionModel":
        if not isinstance(self.reg_param, (int, float)) or self.reg_param < 0:
            raise ValueError(f"LinearRegression: reg_param={self.reg_param!r} must be a number >= 0")
        if not isinstance(self.elastic_net_param, (int, float)) or not 0 <= self.elastic_net_param <= 1:
            raise ValueError(f"LinearRegression: elastic_net_param={self.elastic_net_param!r} must be in [0, 1]")
        blocks = feature_blocks(ds, self.features_col, self.label_col)
        try:
            stats = merge_comoments(partition_values(blocks, _comoments, runner))
        finally:
            blocks.unpersist()
        coefficients, intercept = self._solve(*stats)
        return LinearRegressionModel(coefficient_vector=coefficients.tolist(), intercept=float(intercept),
                                     **self.get_params())

    def _solve(self, n, mean_x, mean_y, cxx, cxy, cyy):
        import numpy as np
        from scipy.optimize import minimize

        d = len(mean_x)
        if n < 2:
            raise ValueError("LinearRegression: needs at least 2 records")
        # population standard deviations: what Spark's fit uses here (its LogisticRegression uses
        # sample ones); checked against PySpark's coefficients in tests/ml/test_regression.py
        std = np.sqrt(np.maximum(np.diag(cxx), 0.0) / n)
        std_y = float(np.sqrt(cyy / n))
        if std_y == 0:
            return np.zeros(d), mean_y
        active = std > 0
        a, c = cxx[np.ix_(active, active)] / n, cxy[active] / n  # the loss: w'Aw/2 - c'w + const
        scale = std[active] if self.standardization else np.ones(int(active.sum()))
        reg, alpha = float(self.reg_param), float(self.elastic_net_param)
        l2 = reg * (1 - alpha) / std_y * scale ** 2
        l1 = reg * alpha * scale
        w = np.zeros(d)
        if not (l1 > 0).any():
            w[active] = np.linalg.lstsq(a + np.diag(l2), c, rcond=None)[0]
        else:
            k = len(c)
            hessian = a + np.diag(l2)
            # optimise over u = w * s (s: the features' standard deviations) for conditioning
            s = np.where(std[active] > 0, std[active], 1.0)
            h_u = hessian / np.outer(s, s)
            c_u, l1_u = c / s, l1 / s

            def objective(theta):
                u = theta[:k] - theta[k:]
                grad_u = h_u @ u - c_u
                value = 0.5 * u @ h_u @ u - c_u @ u + l1_u @ (theta[:k] + theta[k:])
                return value, np.concatenate([grad_u + l1_u, -grad_u + l1_u])

            result = minimize(objective, np.zeros(2 * k), jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * (2 * k),
                              options={"maxiter": max(self.max_iter, 1000), "ftol": 1e-15, "gtol": 1e-12})
            w[active] = (result.x[:k] - result.x[k:]) / s
        return w, mean_y - mean_x @ w


def _linear_predictor(coefficients, intercept: float, features: str, output: str):
    def compute(x):
        return {output: (x @ coefficients + intercept).tolist()}

    return batch_transform(features, compute)


class LinearRegressionModel(Model):
    """A fitted ``LinearRegression``: ``coefficients`` (a numpy view of the saved
    ``coefficient_vector``) and ``intercept``; ``transform`` adds ``prediction``."""

    _defaults = {**LinearRegression._defaults, "coefficient_vector": [], "intercept": 0.0}

    @property
    def coefficients(self):
        """The coefficients as a numpy array (PySpark's ``coefficients``)."""
        import numpy as np

        return np.asarray(self.coefficient_vector, dtype=np.float64)

    def transform(self, ds):
        return ds.map_partitions(_linear_predictor(self.coefficients, self.intercept, self.features_col,
                                                   self.prediction_col))
