"""save/load: JSON metadata that loads without unpickling, the same predictions in a fresh process."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mapfold as mf
from mapfold.ml import (LogisticRegression, NaiveBayes, Pipeline, PipelineModel, StandardScaler, StringIndexer,
                        VectorAssembler, load, save)

LOAD_AND_PREDICT = """
import json, sys
import mapfold as mf
from mapfold.ml import PipelineModel
records = json.loads(open(sys.argv[2]).read())
model = PipelineModel.load(sys.argv[1])
out = model.transform(mf.from_sequence(records)).collect(runner="serial")
print(json.dumps([[float.hex(float(v)) for v in r["probability"]] + [r["prediction"]] for r in out]))
"""


def _iris_records():
    from sklearn.datasets import load_iris

    iris = load_iris()
    return [{"species": str(iris.target_names[t]), "a": float(r[0]), "b": float(r[1]), "c": float(r[2]),
             "d": float(r[3])} for r, t in zip(iris.data, iris.target)]


def _fitted_pipeline(records):
    return Pipeline(stages=[
        StringIndexer(input_col="species", output_col="label"),
        VectorAssembler(input_cols=["a", "b", "c", "d"], output_col="raw"),
        StandardScaler(input_col="raw", output_col="features", with_mean=True),
        LogisticRegression(reg_param=0.05),
    ]).fit(mf.from_sequence(records, partitions=2), runner="serial")


def test_pipeline_model_predicts_the_same_in_a_fresh_process(tmp_path):
    records = _iris_records()
    model = _fitted_pipeline(records)
    model.save(str(tmp_path / "model"))
    meta = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert meta["class"] == "PipelineModel" and meta["params"]["stages"][0] == {"$stage": "stages/000-StringIndexerModel"}
    (tmp_path / "records.json").write_text(json.dumps(records))
    (tmp_path / "predict.py").write_text(LOAD_AND_PREDICT)
    source = str(Path(mf.__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, str(tmp_path / "predict.py"), str(tmp_path / "model"),
                           str(tmp_path / "records.json")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": source, "MAPFOLD_PROGRESS": "0"})
    assert done.returncode == 0, done.stderr
    here = [[float.hex(float(v)) for v in r["probability"]] + [r["prediction"]]
            for r in model.transform(mf.from_sequence(records)).collect(runner="serial")]
    assert json.loads(done.stdout) == here  # bit for bit


def test_estimators_and_infinite_values_round_trip(tmp_path):
    pipeline = Pipeline(stages=[StringIndexer(input_col="c", string_order_type="alphabetAsc"), LogisticRegression()])
    save(pipeline, str(tmp_path / "pipeline"))
    loaded = load(str(tmp_path / "pipeline"))
    assert [s.get_params() for s in loaded.stages] == [s.get_params() for s in pipeline.stages]
    ds = mf.from_sequence([{"features": [0.0, 1.0], "label": 0.0}, {"features": [1.0, 0.0], "label": 2.0}])
    bayes = NaiveBayes(model_type="gaussian").fit(ds, runner="serial")
    assert bayes.pi[1] == -np.inf  # class 1 never seen
    bayes.save(str(tmp_path / "bayes"))
    assert NaiveBayes.load is not None and load(str(tmp_path / "bayes")).pi == bayes.pi


def test_save_refuses_to_replace_and_load_builds_only_mapfold_classes(tmp_path):
    model = StringIndexer(input_col="c").fit(mf.from_sequence([{"c": "a"}]), runner="serial")
    folder = str(tmp_path / "m")
    model.save(folder)
    with pytest.raises(mf.OutputExistsError, match="overwrite=True"):
        model.save(folder)
    model.save(folder, overwrite=True)
    with pytest.raises(TypeError, match="holds a StringIndexerModel"):
        PipelineModel.load(folder)
    meta = json.loads((tmp_path / "m" / "metadata.json").read_text())
    (tmp_path / "m" / "metadata.json").write_text(json.dumps({**meta, "class": "os.system"}))
    with pytest.raises(mf.MapfoldError, match="not a class mapfold.ml exports"):
        load(folder)


def test_save_and_load_through_an_fsspec_url():
    """Any fsspec file system (s3://... with storage_options); fsspec's in-memory one here."""
    model = StringIndexer(input_col="c").fit(mf.from_sequence([{"c": "x"}, {"c": "y"}, {"c": "y"}]), runner="serial")
    model.save("memory://mapfold-ml-test/indexer", overwrite=True)
    assert load("memory://mapfold-ml-test/indexer").labels == ["y", "x"]


def _tuned(tmp_path, tuner_class, **params):
    from mapfold.ml import BinaryClassificationEvaluator, ParamGridBuilder

    lr = LogisticRegression(max_iter=10, features_col="scaled")
    pipeline = Pipeline(stages=[StandardScaler(input_col="features", output_col="scaled"), lr])
    grid = ParamGridBuilder().add_grid((lr, "reg_param"), [0.01, 1.0]).base_on(
        {(pipeline.stages[0], "with_mean"): True}).build()
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    ds = mf.from_sequence([{"features": x, "label": float(y)} for x, y in zip(data.data[:200], data.target[:200])],
                          partitions=2)
    tuner = tuner_class(estimator=pipeline, estimator_param_maps=grid, evaluator=BinaryClassificationEvaluator(),
                        collect_sub_models=True, seed=5, **params)
    return tuner, tuner.fit(ds, runner="serial"), ds


@pytest.mark.parametrize("tuner_name, parallelism", [("CrossValidator", 1), ("TrainValidationSplit", 1),
                                                     ("CrossValidator", 2)])
def test_tuning_models_round_trip_with_sub_models(tmp_path, tuner_name, parallelism):
    import mapfold.ml as ml

    tuner, model, ds = _tuned(tmp_path, getattr(ml, tuner_name), parallelism=parallelism)
    model_class = getattr(ml, tuner_name + "Model")
    folder = str(tmp_path / "tuned")
    model.save(folder)
    loaded = model_class.load(folder)
    metric_names = ["avg_metrics", "std_metrics"] if tuner_name == "CrossValidator" else ["validation_metrics"]
    for name in metric_names + ["best_index", "num_folds" if tuner_name == "CrossValidator" else "train_ratio"]:
        assert loaded.get_params()[name] == model.get_params()[name]
    out = lambda m: [r["probability"].tolist() for r in m.transform(ds).collect(runner="serial")]  # noqa: E731
    assert out(loaded) == out(model)
    subs = model.sub_models if tuner_name == "TrainValidationSplit" else model.sub_models[-1]
    loaded_subs = loaded.sub_models if tuner_name == "TrainValidationSplit" else loaded.sub_models[-1]
    assert [type(s).__name__ for s in loaded_subs] == ["PipelineModel", "PipelineModel"]
    assert [s.stages[1].coefficient_matrix for s in loaded_subs] == [s.stages[1].coefficient_matrix for s in subs]
    # the loaded parameter maps name the loaded estimator's own stage
    [((lr, name), value), ((scaler, with_mean), true)] = loaded.estimator_param_maps[1].items()
    assert lr is loaded.estimator.stages[1] and (name, value) == ("reg_param", 1.0)
    assert scaler is loaded.estimator.stages[0] and (with_mean, true) == ("with_mean", True)
    again = loaded_tuner = ml.load(_saved(tuner, tmp_path / "tuner"))
    assert type(loaded_tuner) is type(tuner)
    refit = again.fit(ds, runner="serial")
    for name in metric_names:
        assert refit.get_params()[name] == model.get_params()[name]


def _saved(obj, path):
    obj.save(str(path))
    return str(path)


def test_cross_validator_without_sub_models_saves_none(tmp_path):
    from mapfold.ml import CrossValidator, CrossValidatorModel

    _, model, _ = _tuned(tmp_path, CrossValidator)
    model = model.copy(sub_models=None)
    model.save(str(tmp_path / "m"))
    assert CrossValidatorModel.load(str(tmp_path / "m")).sub_models is None
    assert not (tmp_path / "m" / "sub_models").exists()
