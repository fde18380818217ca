"""scikit-learn's ``n_jobs`` on every runner through ``mapfold.ml.joblib_backend`` (ml/backend.py).

Each result is compared with scikit-learn's default joblib backend on the
same bundled data (no downloads); each test also checks that the work ran
as mapfold tasks of the runner: its listener saw the tasks, and off the
serial runner the calls ran in other processes than the driver's.
"""
from __future__ import annotations

import os

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mapfold.ml import MapfoldBackend, joblib_backend, register_joblib_backend
from mapfold.ml.base import ParamError

GRID = {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}


def _search() -> GridSearchCV:
    return GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), GRID, cv=3, n_jobs=-1)


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer()
    return data.data, data.target


@pytest.fixture(scope="module")
def reference_search(cancer):
    """The grid search on scikit-learn's default backend (loky)."""
    return _search().fit(*cancer)


class TaskCounter:
    """A runner listener: the tasks it saw finish, and the workers they ran on."""

    def __init__(self, runner):
        self.runner, self.tasks, self.workers = runner, 0, set()

    def __call__(self, event):
        if event.kind == "task_finished":
            self.tasks += 1
            self.workers.add(event.data.get("worker"))

    def __enter__(self):
        self.runner.add_listener(self)
        return self

    def __exit__(self, *exc):
        self.runner.remove_listener(self)


def test_grid_search_gives_the_default_backends_scores_on_every_runner(runner, cancer, reference_search):
    with TaskCounter(runner) as seen, joblib_backend(runner):
        search = _search().fit(*cancer)
    assert search.best_params_ == reference_search.best_params_
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], reference_search.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(search.cv_results_["std_test_score"], reference_search.cv_results_["std_test_score"])
    assert seen.tasks >= 1  # the 12 fits ran as mapfold tasks (joblib batches several into one)


def test_calls_run_in_the_runners_workers(runner):
    with TaskCounter(runner) as seen, joblib_backend(runner):
        pids = joblib.Parallel(n_jobs=-1, batch_size=1)(joblib.delayed(os.getpid)() for _ in range(6))
    assert seen.tasks == 6  # one task per batch of one call
    if runner.name == "serial":
        assert set(pids) == {os.getpid()}  # the calling thread, as every serial task
    else:
        assert os.getpid() not in pids


def test_effective_n_jobs_is_the_runners_parallelism(runner):
    backend = MapfoldBackend(runner=runner)
    if runner.name == "serial":  # joblib runs a count of 1 itself: it gets joblib's own count
        assert backend.effective_n_jobs(-1) == joblib.cpu_count()
    else:
        assert backend.effective_n_jobs(-1) == runner.parallelism() >= 2
        assert backend.effective_n_jobs(-2) == max(runner.parallelism() - 1, 1)
    assert backend.effective_n_jobs(3) == 3
    with pytest.raises(ParamError, match="n_jobs=0"):
        backend.effective_n_jobs(0)


def _fails_on_five(x: int) -> int:
    if x == 5:
        raise KeyError(f"no value for {x}")
    return x


def test_an_error_keeps_its_type_and_names_the_call_and_the_runner(runner):
    with joblib_backend(runner), pytest.raises(KeyError) as caught:
        joblib.Parallel(n_jobs=-1, batch_size=1)(joblib.delayed(_fails_on_five)(x) for x in range(8))
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "joblib batch 5 (call 5 of the Parallel call)" in notes
    assert f"on the {runner.describe()} runner" in notes


def test_forest_n_jobs_cross_val_score_and_nested_calls(processes):
    data = load_iris()
    X, y = data.data, data.target
    forest = RandomForestClassifier(n_estimators=12, random_state=0, n_jobs=-1)
    default_forest = forest.fit(X, y)
    default_scores = cross_val_score(RandomForestClassifier(n_estimators=12, random_state=0, n_jobs=-1), X, y,
                                     cv=3, n_jobs=-1)
    nested = GridSearchCV(RandomForestClassifier(n_estimators=8, random_state=0, n_jobs=-1),
                          {"max_depth": [2, None]}, cv=3, n_jobs=-1)
    default_nested = nested.fit(X, y)
    with TaskCounter(processes) as seen, joblib_backend(processes):
        ours = RandomForestClassifier(n_estimators=12, random_state=0, n_jobs=-1).fit(X, y)
        scores = cross_val_score(RandomForestClassifier(n_estimators=12, random_state=0, n_jobs=-1), X, y,
                                 cv=3, n_jobs=-1)
        ours_nested = GridSearchCV(RandomForestClassifier(n_estimators=8, random_state=0, n_jobs=-1),
                                   {"max_depth": [2, None]}, cv=3, n_jobs=-1).fit(X, y)
    np.testing.assert_array_equal(ours.predict_proba(X), default_forest.predict_proba(X))
    np.testing.assert_array_equal(ours.feature_importances_, default_forest.feature_importances_)
    np.testing.assert_array_equal(scores, default_scores)
    np.testing.assert_array_equal(ours_nested.cv_results_["mean_test_score"],
                                  default_nested.cv_results_["mean_test_score"])
    assert ours_nested.best_params_ == default_nested.best_params_
    assert seen.tasks >= 3 and len(seen.workers) >= 1


def test_registered_by_name(processes):
    register_joblib_backend()
    with TaskCounter(processes) as seen, joblib.parallel_config("mapfold", runner=processes):
        squares = joblib.Parallel(n_jobs=-1)(joblib.delayed(pow)(x, 2) for x in range(10))
    assert squares == [x * x for x in range(10)]
    assert seen.tasks >= 1


def test_inner_max_num_threads_is_refused():
    with pytest.raises(ParamError, match="inner_max_num_threads"):
        MapfoldBackend(runner="serial", inner_max_num_threads=2)
