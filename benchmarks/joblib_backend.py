"""scikit-learn's GridSearchCV on joblib's own backends and on mapfold runners (ml/backend.py).

    python benchmarks/joblib_backend.py [--runners processes,dask,spark,ray] [--trees 50]

One grid search (a random forest over 4 depths x 5 folds on the bundled
breast-cancer data) timed with n_jobs=1 (joblib's loop), loky with 2 workers
(scikit-learn's default backend) and each mapfold runner of 2 workers under
``mapfold.ml.joblib_backend``; engines are started before the clock runs.
Prints the wall time, the ratio to loky and to n_jobs=1, and checks the
scores are loky's. Speed only here; the tests check the results.
"""
from __future__ import annotations

import argparse
import os
import time

import joblib
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV

from mapfold.ml import joblib_backend
from mapfold.runners import make_runner

OPTIONS = {"processes": {"workers": 2}, "dask": {"workers": 2}, "spark": {"master": "local[2]"},
           "ray": {"num_cpus": 2}, "serial": {}}


def search(trees: int, n_jobs: int) -> GridSearchCV:
    return GridSearchCV(RandomForestClassifier(n_estimators=trees, random_state=0), {"max_depth": [2, 4, 6, None]},
                        cv=5, n_jobs=n_jobs)


def timed(fit) -> tuple[float, GridSearchCV]:
    start = time.perf_counter()
    result = fit()
    return time.perf_counter() - start, result


def main(runners: list[str], trees: int) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    print(f"load average {os.getloadavg()[0]:.2f}; GridSearchCV: random forest of {trees} trees, 4 depths x 5 folds")
    one, reference = timed(lambda: search(trees, 1).fit(X, y))
    with joblib.parallel_config(backend="loky"):
        search(trees, 2).fit(X, y)  # start loky's workers before the clock
        loky, loky_result = timed(lambda: search(trees, 2).fit(X, y))
    print(f"  n_jobs=1 (joblib's loop)   {one:7.2f} s")
    print(f"  loky, 2 workers            {loky:7.2f} s  ({one / loky:.2f}x n_jobs=1)")
    for name in runners:
        runner = make_runner(name, **OPTIONS.get(name, {}))
        try:
            getattr(runner, "start", lambda: None)()
            with joblib_backend(runner):
                search(trees, -1).fit(X, y)  # warm: pools forked, code imported on the workers
                took, result = timed(lambda: search(trees, -1).fit(X, y))
        finally:
            runner.close()
        same = np.array_equal(result.cv_results_["mean_test_score"], loky_result.cv_results_["mean_test_score"])
        print(f"  mapfold {name:<10}         {took:7.2f} s  ({loky / took:.2f}x loky, {one / took:.2f}x n_jobs=1); same scores: {same}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", default="serial,processes,dask,spark,ray")
    parser.add_argument("--trees", type=int, default=50)
    args = parser.parse_args()
    main(args.runners.split(","), args.trees)
