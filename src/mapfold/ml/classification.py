"""``LogisticRegression``: binary and multinomial, fit as Spark fits it.

The objective is PySpark's: the mean log loss over the records plus
``reg_param * ((1 - a) / 2 * ||w||^2 + a * ||w||_1)`` with
``a = elastic_net_param``; intercepts are never penalised. With
``standardization=True`` (the default) the penalty is on the coefficients
of the features scaled to unit sample standard deviation; with ``False``
on the coefficients of the features as given. Either way the optimisation
runs in the scaled (and, for conditioning, centred) space, and a feature of
zero variance gets coefficient 0, as in Spark.

How it runs, as Spark does: the records become one ``(X, y)`` numpy block
per partition, persisted by the runner (``aggregate.feature_blocks``). Each
iteration of scipy's L-BFGS-B on the driver asks the runner for every
block's loss and gradient sums for the current coefficients (one task per
partition; the coefficients travel with the task), adds them in partition
order and adds the penalty. An L1 part is handled exactly by splitting each
coefficient into two non-negative halves (bounds in L-BFGS-B) where Spark
uses OWL-QN; both minimise the same objective.

Binary fits (``family="auto"`` with labels 0 and 1, or ``"binomial"``)
have one coefficient vector and an intercept; multinomial fits a softmax
with one vector per class, intercepts centred to sum to 0 (and, without
regularisation, coefficients centred across classes), as Spark does.
"""
from __future__ import annotations

from typing import Iterable

from .aggregate import batch_transform, feature_blocks, merge_moments, partition_values
from .base import Estimator, Model, check_choice

__all__ = ["LogisticRegression", "LogisticRegressionModel", "NaiveBayes", "NaiveBayesModel"]

FAMILIES = ("auto", "binomial", "multinomial")


def _label_stats(block_iter: Iterable):
    """Per partition: n, feature mean and squared deviations, label counts."""
    import numpy as np

    for x, y in block_iter:
        mean = x.mean(axis=0)
        labels, counts = np.unique(y, return_counts=True)
        return (len(y), mean, ((x - mean) ** 2).sum(axis=0), dict(zip(labels.tolist(), counts.tolist())))
    return None


def _binary_loss(weights, intercept):
    def loss(block_iter: Iterable):
        import numpy as np

        for x, y in block_iter:
            margin = x @ weights + intercept
            # log(1 + exp(m)) - y m, computed without overflow
            total = float(np.sum(np.logaddexp(0.0, margin) - y * margin))
            residual = 1.0 / (1.0 + np.exp(-margin)) - y
            return total, x.T @ residual, float(residual.sum())
        return None

    return loss


def _softmax_loss(weights, intercepts):
    def loss(block_iter: Iterable):
        import numpy as np

        for x, y in block_iter:
            margins = x @ weights + intercepts  # rows x classes
            top = margins.max(axis=1, keepdims=True)
            log_norm = top[:, 0] + np.log(np.exp(margins - top).sum(axis=1))
            rows = np.arange(len(y))
            labels = y.astype(np.int64)
            total = float(np.sum(log_norm - margins[rows, labels]))
            residual = np.exp(margins - log_norm[:, None])
            residual[rows, labels] -= 1.0
            return total, x.T @ residual, residual.sum(axis=0)
        return None

    return loss


class LogisticRegression(Estimator):
    """Logistic regression with PySpark's parameters, objective and outputs.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"features": [float(x)], "label": float(x > 2)} for x in range(6)])
    >>> model = LogisticRegression(reg_param=0.1).fit(ds, runner="serial")
    >>> [r["prediction"] for r in model.transform(ds).collect(runner="serial")]
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """

    fit_imports = ("numpy", "scipy.optimize")
    _defaults = {"features_col": "features", "label_col": "label", "prediction_col": "prediction",
                 "probability_col": "probability", "raw_prediction_col": "raw_prediction",
                 "reg_param": 0.0, "elastic_net_param": 0.0, "max_iter": 100, "tol": 1e-6,
                 "standardization": True, "family": "auto", "threshold": 0.5}

    def _check(self) -> str:
        family = check_choice(self, "family", FAMILIES)
        if not isinstance(self.reg_param, (int, float)) or self.reg_param < 0:
            raise ValueError(f"LogisticRegression: reg_param={self.reg_param!r} must be a number >= 0")
        if not isinstance(self.elastic_net_param, (int, float)) or not 0 <= self.elastic_net_param <= 1:
            raise ValueError(f"LogisticRegression: elastic_net_param={self.elastic_net_param!r} must be in [0, 1]")
        if not isinstance(self.max_iter, int) or self.max_iter < 0:
            raise ValueError(f"LogisticRegression: max_iter={self.max_iter!r} must be an int >= 0")
        return family

    def fit(self, ds, runner=None) -> "LogisticRegressionModel":
        family = self._check()
        blocks = feature_blocks(ds, self.features_col, self.label_col)
        try:
            return self._fit_blocks(blocks, family, runner)
        finally:
            blocks.unpersist()

    def _fit_blocks(self, blocks, family: str, runner) -> "LogisticRegressionModel":
        import numpy as np
        from scipy.optimize import minimize

        stats = [s for s in partition_values(blocks, _label_stats, runner) if s is not None]
        if not stats:
            raise ValueError("LogisticRegression: cannot fit on an empty Dataset")
        n, mean, m2 = merge_moments(s[:3] for s in stats)
        label_counts: dict = {}
        for s in stats:
            for label, count in s[3].items():
                label_counts[label] = label_counts.get(label, 0) + count
        bad = [label for label in label_counts if label < 0 or label != int(label)]
        if bad:
            raise ValueError(f"LogisticRegression: labels must be 0, 1, 2, ...; got {sorted(bad)[:5]}")
        num_classes = int(max(label_counts)) + 1
        if family == "binomial" and num_classes > 2:
            raise ValueError(f"LogisticRegression: family='binomial' with {num_classes} classes of labels")
        multinomial = family == "multinomial" or (family == "auto" and num_classes > 2)
        k = num_classes if multinomial else 1
        d = len(mean)

        std = np.sqrt(m2 / (n - 1)) if n > 1 else np.zeros(d)
        inv_std = np.divide(1.0, std, out=np.zeros(d), where=std > 0)
        reg, alpha = float(self.reg_param), float(self.elastic_net_param)
        # per-coefficient penalty weights in the scaled space (see the module docstring)
        penalty_scale = np.ones(d) if self.standardization else inv_std
        l2 = reg * (1 - alpha) * penalty_scale ** 2   # times beta_s**2 / 2
        l1 = reg * alpha * penalty_scale               # times |beta_s|
        l2, l1 = np.repeat(l2[:, None], k, axis=1), np.repeat(l1[:, None], k, axis=1)
        active = np.repeat((std > 0)[:, None], k, axis=1)
        use_split = bool((l1 > 0).any())
        # A diagonal preconditioner: the optimiser's variables are beta_s * c, with c chosen so that
        # the curvature along each (the log loss's, at most 1/4 in the scaled space, plus the L2
        # penalty's) is about 1. Without it, standardization=False on features of very different
        # scales (breast cancer's) leaves L-BFGS far from the optimum after thousands of iterations.
        c = np.sqrt(1.0 + 4.0 * l2).ravel()

        def unpack(theta):
            if use_split:
                beta = (theta[:d * k] - theta[d * k:2 * d * k]) / c
                b = theta[2 * d * k:]
            else:
                beta, b = theta[:d * k] / c, theta[d * k:]
            return beta.reshape(d, k), b

        def objective(theta):
            beta_s, b_s = unpack(theta)
            weights = beta_s * inv_std[:, None]          # coefficients on the features as given
            intercepts = b_s - mean @ weights            # the centring folded into the intercept
            make = _softmax_loss(weights, intercepts) if multinomial else _binary_loss(weights[:, 0], intercepts[0])
            total, grad_w, grad_b = 0.0, np.zeros((d, k)), np.zeros(k)
            for part in partition_values(blocks, make, runner):
                if part is not None:
                    total += part[0]
                    grad_w += np.asarray(part[1]).reshape(d, k)
                    grad_b += np.asarray(part[2]).reshape(k)
            total, grad_w, grad_b = total / n, grad_w / n, grad_b / n
            grad_beta = (grad_w - mean[:, None] * grad_b[None, :]) * inv_std[:, None]
            total += 0.5 * float(np.sum(l2 * beta_s ** 2))
            grad_u = (grad_beta + l2 * beta_s).ravel() / c
            if use_split:
                positive, negative = theta[:d * k], theta[d * k:2 * d * k]
                l1_u = l1.ravel() / c
                total += float(np.sum(l1_u * (positive + negative)))
                grad = np.concatenate([grad_u + l1_u, -grad_u + l1_u, grad_b])
            else:
                grad = np.concatenate([grad_u, grad_b])
            return total, grad

        counts = np.array([label_counts.get(float(c), 0) for c in range(max(num_classes, 2))], dtype=np.float64)
        if multinomial:
            # Spark's start: the intercepts of the model without features
            b0 = np.log(np.maximum(counts, 1.0)) - np.log(np.maximum(counts, 1.0)).mean()
        else:
            b0 = np.array([np.log(max(counts[1], 1.0) / max(counts[0], 1.0))])
        frozen = [(0.0, 0.0)]
        free = [(None, None)]
        if use_split:
            halves = [(0.0, None) if a else frozen[0] for a in active.ravel()]
            theta0 = np.concatenate([np.zeros(2 * d * k), b0])
            bounds = halves + halves + free * k
        else:
            theta0 = np.concatenate([np.zeros(d * k), b0])
            bounds = [(None, None) if a else frozen[0] for a in active.ravel()] + free * k
        result = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-9, "maxcor": 10})
        beta_s, b_s = unpack(result.x)
        weights = beta_s * inv_std[:, None]
        intercepts = b_s - mean @ weights
        if multinomial:
            intercepts = intercepts - intercepts.mean()  # unpenalised: only differences are identified
            if reg == 0:
                weights = weights - weights.mean(axis=1, keepdims=True)
        params = self.get_params()
        return LogisticRegressionModel(coefficient_matrix=weights.T.tolist(), intercept_vector=intercepts.tolist(),
                                       num_classes=max(num_classes, 2), iterations=int(result.nit), **params)


def _predictor(model: "LogisticRegressionModel"):
    import numpy as np

    coefficients = np.asarray(model.coefficient_matrix, dtype=np.float64)  # classes (or 1) x features
    intercepts = np.asarray(model.intercept_vector, dtype=np.float64)
    binary = coefficients.shape[0] == 1
    threshold = model.threshold
    out_raw, out_prob, out_pred = model.raw_prediction_col, model.probability_col, model.prediction_col

    def compute(x):
        margins = x @ coefficients.T + intercepts
        if binary:
            m = margins[:, 0]
            p = 1.0 / (1.0 + np.exp(-m))
            raw, probability = np.column_stack([-m, m]), np.column_stack([1.0 - p, p])
            prediction = (p > threshold).astype(np.float64)
        else:
            raw = margins
            shifted = np.exp(margins - margins.max(axis=1, keepdims=True))
            probability = shifted / shifted.sum(axis=1, keepdims=True)
            prediction = np.argmax(raw, axis=1).astype(np.float64)
        return {out_raw: list(raw), out_prob: list(probability), out_pred: prediction.tolist()}

    return batch_transform(model.features_col, compute)


class LogisticRegressionModel(Model):
    """A fitted ``LogisticRegression``; ``transform`` adds ``raw_prediction``,
    ``probability`` (numpy vectors) and ``prediction`` (a float), as PySpark's.

    ``coefficient_matrix`` is classes x features (one row for a binary
    model), ``intercept_vector`` one per row: PySpark's
    ``coefficientMatrix`` and ``interceptVector``.

    >>> model = LogisticRegressionModel(coefficient_matrix=[[2.0]], intercept_vector=[-1.0], num_classes=2)
    >>> model.coefficients.tolist(), model.intercept
    ([2.0], -1.0)
    """

    _defaults = {**LogisticRegression._defaults, "coefficient_matrix": [], "intercept_vector": [],
                 "num_classes": 2, "iterations": 0}

    @property
    def coefficients(self):
        """The coefficient vector of a binary model (PySpark's ``coefficients``)."""
        import numpy as np

        if len(self.coefficient_matrix) != 1:
            raise ValueError("coefficients is for binary models; use coefficient_matrix for multinomial ones")
        return np.asarray(self.coefficient_matrix[0], dtype=np.float64)

    @property
    def intercept(self) -> float:
        """The intercept of a binary model (PySpark's ``intercept``)."""
        if len(self.intercept_vector) != 1:
            raise ValueError("intercept is for binary models; use intercept_vector for multinomial ones")
        return float(self.intercept_vector[0])

    def transform(self, ds):
        return ds.map_partitions(_predictor(self))


NAIVE_BAYES_TYPES = ("multinomial", "bernoulli", "gaussian")


def _class_moments(block_iter: Iterable):
    """Per partition: ``{label: (n, sum, mean, squared deviations)}`` of the features."""
    import numpy as np

    for x, y in block_iter:
        table = {}
        for label in np.unique(y).tolist():
            rows = x[y == label]
            mean = rows.mean(axis=0)
            table[label] = (len(rows), rows.sum(axis=0), mean, ((rows - mean) ** 2).sum(axis=0))
        return table
    return {}


class NaiveBayes(Estimator):
    """Naive Bayes from counts aggregated on the runner, as PySpark's.

    ``model_type``: ``multinomial`` (the default; features are counts >= 0),
    ``bernoulli`` (features 0 or 1) or ``gaussian``; ``smoothing`` is
    PySpark's additive smoothing (1.0). As in Spark, for multinomial and
    Bernoulli ``pi[c] = log(n_c + smoothing) - log(n + classes * smoothing)``;
    multinomial ``theta[c, j] = log(sum_cj + smoothing) - log(sum_c + features * smoothing)``;
    Bernoulli ``theta[c, j] = log(count_cj + smoothing) - log(n_c + 2 smoothing)``.
    Gaussian: ``pi`` unsmoothed, ``theta`` the class means, ``sigma`` the class
    (population) variances plus ``1e-9`` times the largest feature variance.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"features": [3.0, 0.0], "label": 0}, {"features": [0.0, 4.0], "label": 1}])
    >>> model = NaiveBayes().fit(ds, runner="serial")
    >>> [r["prediction"] for r in model.transform(ds).collect(runner="serial")]
    [0.0, 1.0]
    """

    _defaults = {"features_col": "features", "label_col": "label", "prediction_col": "prediction",
                 "probability_col": "probability", "raw_prediction_col": "raw_prediction",
                 "smoothing": 1.0, "model_type": "multinomial"}

    def fit(self, ds, runner=None) -> "NaiveBayesModel":
        model_type = check_choice(self, "model_type", NAIVE_BAYES_TYPES)
        if not isinstance(self.smoothing, (int, float)) or self.smoothing < 0:
            raise ValueError(f"NaiveBayes: smoothing={self.smoothing!r} must be a number >= 0")
        blocks = feature_blocks(ds, self.features_col, self.label_col)
        try:
            parts = partition_values(blocks, _class_moments, runner)
        finally:
            blocks.unpersist()
        return self._from_moments(parts, model_type)

    def _from_moments(self, parts: list, model_type: str) -> "NaiveBayesModel":
        import numpy as np

        by_class: dict = {}
        for part in parts:
            for label, moments in part.items():
                by_class.setdefault(label, []).append(moments)
        if not by_class:
            raise ValueError("NaiveBayes: cannot fit on an empty Dataset")
        bad = [label for label in by_class if label < 0 or label != int(label)]
        if bad:
            raise ValueError(f"NaiveBayes: labels must be 0, 1, 2, ...; got {sorted(bad)[:5]}")
        num_classes = int(max(by_class)) + 1
        d = len(next(iter(by_class.values()))[0][1])
        counts, sums = np.zeros(num_classes), np.zeros((num_classes, d))
        means, squares = np.zeros((num_classes, d)), np.zeros((num_classes, d))
        for label, moments in by_class.items():
            c = int(label)
            n, mean, m2 = merge_moments((m[0], m[2], m[3]) for m in moments)
            counts[c], means[c], squares[c] = n, mean, m2
            for m in moments:
                sums[c] += m[1]
        lam = float(self.smoothing)
        total = counts.sum()
        if model_type == "gaussian":
            present = counts > 0
            pi = np.where(present, np.log(np.maximum(counts, 1)) - np.log(total), -np.inf)
            _, _, all_m2 = merge_moments((counts[c], means[c], squares[c]) for c in range(num_classes) if present[c])
            epsilon = 1e-9 * float((all_m2 / total).max())
            sigma = squares / np.maximum(counts, 1)[:, None] + epsilon
            theta = means
        else:
            if (sums < 0).any() or any((m[2] < 0).any() for ms in by_class.values() for m in ms):
                raise ValueError(f"NaiveBayes: model_type={model_type!r} needs features >= 0 (counts); "
                                 "use model_type='gaussian' for other values")
            pi = np.log(counts + lam) - np.log(total + num_classes * lam)
            if model_type == "multinomial":
                theta = np.log(sums + lam) - np.log(sums.sum(axis=1, keepdims=True) + d * lam)
            else:
                theta = np.log(sums + lam) - np.log(counts[:, None] + 2 * lam)
            sigma = None
        return NaiveBayesModel(pi=pi.tolist(), theta=theta.tolist(), sigma=None if sigma is None else sigma.tolist(),
                               num_classes=num_classes, **self.get_params())


def _bayes_predictor(model: "NaiveBayesModel"):
    import numpy as np

    pi, theta = np.asarray(model.pi, dtype=np.float64), np.asarray(model.theta, dtype=np.float64)
    kind = model.model_type
    if kind == "gaussian":
        sigma = np.asarray(model.sigma, dtype=np.float64)
        constant = pi - 0.5 * np.log(2 * np.pi * sigma).sum(axis=1)
    elif kind == "bernoulli":
        negative = np.log1p(-np.exp(theta))  # log(1 - p) per class and feature
        weights, constant = theta - negative, pi + negative.sum(axis=1)
    out_raw, out_prob, out_pred = model.raw_prediction_col, model.probability_col, model.prediction_col

    def compute(x):
        if kind == "gaussian":
            raw = constant - 0.5 * (((x[:, None, :] - theta) ** 2) / sigma).sum(axis=2)
        elif kind == "bernoulli":
            raw = x @ weights.T + constant
        else:
            raw = x @ theta.T + pi
        shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
        probability = shifted / shifted.sum(axis=1, keepdims=True)
        return {out_raw: list(raw), out_prob: list(probability),
                out_pred: np.argmax(raw, axis=1).astype(np.float64).tolist()}

    return batch_transform(model.features_col, compute)


class NaiveBayesModel(Model):
    """A fitted ``NaiveBayes``: ``pi`` (log class priors), ``theta`` (classes x features;
    log probabilities, or means for Gaussian), ``sigma`` (Gaussian variances), as PySpark's."""

    _defaults = {**NaiveBayes._defaults, "pi": [], "theta": [], "sigma": None, "num_classes": 2}

    def transform(self, ds):
        return ds.map_partitions(_bayes_predictor(self))
