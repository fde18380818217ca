"""CrossValidator: the same avg_metrics on every runner and in fresh processes,
the same winner as scikit-learn on the same folds."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mapfold as mf
from mapfold.core.hashing import stable_hash
from mapfold.ml import (BinaryClassificationEvaluator, CrossValidator, LogisticRegression, ParamGridBuilder,
                        Pipeline, StandardScaler)

REG_PARAMS = [0.01, 1.0]
MAX_ITER = 20  # enough to tell the two apart; each iteration is one job on the runner
SCRIPT = """
import json, sys
import mapfold as mf
from sklearn.datasets import load_breast_cancer
from mapfold.ml import BinaryClassificationEvaluator, CrossValidator, LogisticRegression, ParamGridBuilder
data = load_breast_cancer()
ds = mf.from_sequence([{"features": x, "label": float(y)} for x, y in zip(data.data[:300], data.target[:300])],
                      partitions=4)
cv = CrossValidator(estimator=LogisticRegression(max_iter=%d),
                    estimator_param_maps=ParamGridBuilder().add_grid("reg_param", %r).build(),
                    evaluator=BinaryClassificationEvaluator(), seed=7)
print(json.dumps([float.hex(m) for m in cv.fit(ds, runner=sys.argv[1]).avg_metrics]))
""" % (MAX_ITER, REG_PARAMS)


def _data():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return data.data[:300], data.target[:300].astype(float)


def _cross_validator(**overrides):
    params = dict(estimator=LogisticRegression(max_iter=MAX_ITER),
                  estimator_param_maps=ParamGridBuilder().add_grid("reg_param", REG_PARAMS).build(),
                  evaluator=BinaryClassificationEvaluator(), seed=7)
    return CrossValidator(**{**params, **overrides})


def _dataset(partitions=4):
    x, y = _data()
    return mf.from_sequence([{"features": row, "label": label} for row, label in zip(x, y)], partitions=partitions)


@pytest.fixture(scope="module")
def serial_result():
    return _cross_validator().fit(_dataset(), runner="serial")


def test_param_grid_is_the_cross_product():
    grid = ParamGridBuilder().add_grid("a", [1, 2]).add_grid("b", ["x", "y"]).base_on({"c": 0}).build()
    assert grid == [{"a": 1, "b": "x", "c": 0}, {"a": 1, "b": "y", "c": 0},
                    {"a": 2, "b": "x", "c": 0}, {"a": 2, "b": "y", "c": 0}]


def test_avg_metrics_identical_on_every_runner(runner):
    # fewer iterations than elsewhere: each is one job, and a Spark job costs ~0.25 s here
    small = _cross_validator(estimator=LogisticRegression(max_iter=8))
    expected = small.fit(_dataset(), runner="serial")
    got = small.fit(_dataset(), runner=runner)
    assert got.avg_metrics == expected.avg_metrics  # bit for bit, not approximately
    assert got.best_index == expected.best_index


def test_avg_metrics_identical_in_two_fresh_processes(serial_result, tmp_path):
    script = tmp_path / "cv.py"
    script.write_text(SCRIPT)
    source = str(Path(mf.__file__).resolve().parents[1])
    outputs = []
    for hash_seed, runner in (("1", "serial"), ("2", "processes")):
        env = {**os.environ, "PYTHONPATH": source, "PYTHONHASHSEED": hash_seed, "MAPFOLD_PROGRESS": "0"}
        done = subprocess.run([sys.executable, str(script), runner], capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        outputs.append([float.fromhex(m) for m in json.loads(done.stdout)])
    assert outputs[0] == outputs[1] == serial_result.avg_metrics


def test_same_winner_and_metrics_as_sklearn_on_the_same_folds(serial_result):
    """Each row's fold is stable_hash((seed, position)) % num_folds; scikit-learn fits the
    same folds with Spark's objective (standardized features, C = 1 / (n reg))."""
    from sklearn.linear_model import LogisticRegression as SkLogistic
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler as SkScaler

    x, y = _data()
    folds = np.array([stable_hash((7, i)) % 3 for i in range(len(y))])
    expected = []
    for reg in REG_PARAMS:
        scores = []
        for fold in range(3):
            train, valid = folds != fold, folds == fold
            # Spark's standardization scales by the sample std: scikit-learn's by the population one
            scaler = SkScaler().fit(x[train])
            scaler.scale_ = x[train].std(axis=0, ddof=1)
            model = SkLogistic(C=1 / (train.sum() * reg), max_iter=10000).fit(scaler.transform(x[train]), y[train])
            scores.append(roc_auc_score(y[valid], model.decision_function(scaler.transform(x[valid]))))
        expected.append(float(np.mean(scores)))
    assert int(np.argmax(expected)) == serial_result.best_index
    np.testing.assert_allclose(serial_result.avg_metrics, expected, atol=0.02)


def test_best_model_is_refitted_on_all_the_data(serial_result):
    direct = LogisticRegression(max_iter=MAX_ITER, reg_param=REG_PARAMS[serial_result.best_index]).fit(
        _dataset(), runner="serial")
    np.testing.assert_array_equal(serial_result.best_model.coefficients, direct.coefficients)


def test_grid_reaches_a_pipeline_stage():
    lr = LogisticRegression(max_iter=30)
    pipeline = Pipeline(stages=[StandardScaler(input_col="features", output_col="scaled"),
                                lr.copy(features_col="scaled")])
    stage = pipeline.stages[1]
    grid = ParamGridBuilder().add_grid((stage, "reg_param"), [0.01, 10.0]).build()
    model = CrossValidator(estimator=pipeline, estimator_param_maps=grid,
                           evaluator=BinaryClassificationEvaluator()).fit(_dataset(2), runner="serial")
    assert model.avg_metrics[0] > model.avg_metrics[1]
    assert model.best_model.stages[1].reg_param == 0.01
    assert stage.reg_param == 0.0  # the grid changed copies, never the stage itself


def test_folds_do_not_depend_on_the_partitioning(serial_result):
    assert _cross_validator().fit(_dataset(7), runner="serial").avg_metrics == pytest.approx(
        serial_result.avg_metrics, abs=1e-9)


def _train_validation_split(max_iter):
    from mapfold.ml import TrainValidationSplit

    return TrainValidationSplit(estimator=LogisticRegression(max_iter=max_iter),
                                estimator_param_maps=ParamGridBuilder().add_grid("reg_param", REG_PARAMS).build(),
                                evaluator=BinaryClassificationEvaluator(), seed=3)


def test_train_validation_split_identical_on_every_runner(runner):
    tvs = _train_validation_split(8)
    assert tvs.fit(_dataset(), runner=runner).validation_metrics == tvs.fit(_dataset(), runner="serial").validation_metrics


def test_train_validation_split_as_sklearn_on_the_same_split():
    from sklearn.linear_model import LogisticRegression as SkLogistic
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler as SkScaler

    got = _train_validation_split(MAX_ITER).fit(_dataset(), runner="serial")
    x, y = _data()
    train = np.array([(stable_hash((3, i)) >> 11) * 2.0 ** -53 < 0.75 for i in range(len(y))])
    assert 0.65 < train.mean() < 0.85
    expected = []
    for reg in REG_PARAMS:
        scaler = SkScaler().fit(x[train])
        scaler.scale_ = x[train].std(axis=0, ddof=1)
        model = SkLogistic(C=1 / (train.sum() * reg), max_iter=10000).fit(scaler.transform(x[train]), y[train])
        expected.append(roc_auc_score(y[~train], model.decision_function(scaler.transform(x[~train]))))
    assert got.best_index == int(np.argmax(expected))
    np.testing.assert_allclose(got.validation_metrics, expected, atol=0.02)


def test_parallel_fits_give_the_same_metrics_as_one_at_a_time(runner):
    """parallelism=2: the grid's (fold, parameter map) fits as tasks of the runner (a pool of
    two processes on the serial runner), each on the serial runner inside its task."""
    small = _cross_validator(estimator=LogisticRegression(max_iter=8))
    one = small.fit(_dataset(), runner="serial")
    parallel = small.copy(parallelism=2).fit(_dataset(), runner=runner)
    assert parallel.avg_metrics == one.avg_metrics  # bit for bit
    assert parallel.best_index == one.best_index
    # the refit runs on the runner's workers: Dask's nanny starts them with OPENBLAS/OMP_NUM_THREADS=1,
    # so a matmul there may add in another order than in the driver (seen once in a full run: 2e-13)
    np.testing.assert_allclose(parallel.best_model.coefficients, one.best_model.coefficients, rtol=1e-12, atol=1e-12)
    tvs = _train_validation_split(8)
    assert (tvs.copy(parallelism=3).fit(_dataset(), runner=runner).validation_metrics
            == tvs.fit(_dataset(), runner="serial").validation_metrics)


def test_parallelism_must_be_a_positive_int():
    with pytest.raises(mf.MapfoldError, match="parallelism=0 must be an int >= 1"):
        _cross_validator(parallelism=0).fit(_dataset(), runner="serial")


def _note_reads(folder: str):
    def note(index: int, records):
        with open(os.path.join(folder, f"read-{index}-{os.getpid()}-{os.urandom(4).hex()}"), "w"):
            pass
        return records

    return note


def test_parallel_fits_read_the_input_no_more_than_one_at_a_time(processes, tmp_path):
    """On a runner whose tasks share the driver's disk, the folds are computed once into files
    of its scratch that the fit tasks read (the input is not read again per task), and removed."""
    reads = {}
    for parallelism in (1, 2):
        folder = tmp_path / f"p{parallelism}"
        folder.mkdir()
        ds = _dataset().map_partitions_with_index(_note_reads(str(folder)))
        small = _cross_validator(estimator=LogisticRegression(max_iter=8), parallelism=parallelism)
        reads[parallelism] = (small.fit(ds, runner=processes).avg_metrics, len(os.listdir(folder)))
    assert reads[2] == reads[1]
    assert not [name for name in os.listdir(processes.scratch()) if name.startswith("tuning-")]
