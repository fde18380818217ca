"""Decision trees and random forests against real PySpark (recorded by
``reference/record_pyspark.py``) and scikit-learn, on bundled datasets.

Every dataset here is under Spark's sample size (10000 records), so Spark
finds its thresholds from all the data, as mapfold does: a decision tree's
structure (features, thresholds, predictions, node by node) must equal
PySpark's, its importances to 1e-9. Forests draw their bootstrap weights
and feature subsets from another generator than Spark's, so they are
compared by what they predict (boosted trees: see their test):
test accuracy within 0.04 of PySpark's
(RMSE within 10%), predictions agreeing on 90% of the test rows, and
importances alike (averaged over four seeds: the most important feature
among PySpark's top five, three of the top five shared, correlation above
0.8). Against
scikit-learn: test accuracy within 0.05 (or 3 test rows).
"""
import re

import numpy as np
import pytest

import mapfold as mf
from mapfold.ml import (DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier,
                        RandomForestClassificationModel, RandomForestRegressor, load)

SNAKE = {"maxDepth": "max_depth", "maxBins": "max_bins", "minInstancesPerNode": "min_instances_per_node",
         "minInfoGain": "min_info_gain", "impurity": "impurity", "numTrees": "num_trees", "seed": "seed",
         "featureSubsetStrategy": "feature_subset_strategy", "subsamplingRate": "subsampling_rate"}
ESTIMATORS = {"DecisionTreeClassifier": DecisionTreeClassifier, "DecisionTreeRegressor": DecisionTreeRegressor,
              "RandomForestClassifier": RandomForestClassifier, "RandomForestRegressor": RandomForestRegressor}


def _split(name):
    from sklearn import datasets

    data = datasets.load_diabetes(scaled=False) if name == "diabetes" else getattr(datasets, f"load_{name}")()
    rows = [{"features": x, "label": float(y)} for x, y in zip(data.data, data.target)]
    return [r for i, r in enumerate(rows) if i % 4], [r for i, r in enumerate(rows) if not i % 4]


def _fit(case, runner="serial", partitions=3):
    train, test = _split(case["data"])
    estimator = ESTIMATORS[case["kind"]](**{SNAKE[k]: v for k, v in case["params"].items()})
    model = estimator.fit(mf.from_sequence(train, partitions=partitions), runner=runner)
    predicted = [r["prediction"] for r in model.transform(mf.from_sequence(test, partitions=2)).collect(runner="serial")]
    return model, predicted, [r["label"] for r in test]


def _structure(debug: str) -> list:
    """The nodes of a toDebugString, depth first: ("if", depth, feature, threshold) or ("leaf", depth, value)."""
    nodes = []
    for line in debug.splitlines()[1:]:
        depth = len(line) - len(line.lstrip())
        if m := re.match(r"\s*If \(feature (\d+) <= (\S+)\)", line):
            nodes.append(("if", depth, int(m[1]), float(m[2])))
        elif m := re.match(r"\s*Predict: (\S+)", line):
            nodes.append(("leaf", depth, float(m[1])))
    return nodes


def _cases(pyspark_expected, prefix):
    return [c for c in pyspark_expected["trees"] if c["kind"].startswith(prefix)]


def test_decision_trees_equal_the_recorded_ones_node_by_node(pyspark_expected):
    for case in _cases(pyspark_expected, "DecisionTree"):
        model, predicted, _ = _fit(case)
        label = f"{case['kind']} on {case['data']} {case['params']}"
        ours, theirs = _structure(model.to_debug_string()), _structure(case["debug"])
        assert [n[:3] for n in ours] == [n[:3] for n in theirs], label
        np.testing.assert_allclose([n[-1] for n in ours], [n[-1] for n in theirs], rtol=1e-12, err_msg=label)
        assert (model.depth, model.num_nodes) == (case["depth"], case["num_nodes"]), label
        np.testing.assert_allclose(model.feature_importances, case["feature_importances"], atol=1e-9, err_msg=label)
        np.testing.assert_allclose(predicted, case["predictions"], rtol=1e-12, err_msg=label)


def test_forests_predict_as_well_as_the_recorded_ones(pyspark_expected):
    for case in _cases(pyspark_expected, "RandomForest"):
        model, predicted, labels = _fit(case)
        label = f"{case['kind']} on {case['data']} {case['params']}"
        assert model.get_num_trees == case["params"]["numTrees"]
        if case["kind"].endswith("Classifier"):
            accuracy = np.mean(np.equal(predicted, labels))
            assert accuracy >= case["accuracy"] - 0.04, (label, accuracy, case["accuracy"])
            agreement = np.mean(np.equal(predicted, case["predictions"]))
            assert agreement >= 0.9, (label, agreement)
        else:
            rmse = float(np.sqrt(np.mean((np.asarray(predicted) - labels) ** 2)))
            assert rmse <= case["rmse"] * 1.1, (label, rmse, case["rmse"])
        assert model.feature_importances.sum() == pytest.approx(1.0)


def test_forest_importances_alike_the_recorded_ones(pyspark_expected):
    """One forest's importances vary with its seed (between two of ours on breast cancer, whose
    size features are correlated, the correlation is 0.4 to 0.8): compare the mean over four seeds."""
    for case in _cases(pyspark_expected, "RandomForest"):
        seeds = [case["params"]["seed"] + i for i in range(4)]
        ours = np.mean([_fit({**case, "params": {**case["params"], "seed": s}})[0].feature_importances
                        for s in seeds], axis=0)
        theirs = np.asarray(case["feature_importances"])
        label = f"{case['kind']} on {case['data']}"
        assert int(np.argmax(ours)) in set(np.argsort(theirs)[-5:]), label
        assert len(set(np.argsort(theirs)[-5:]) & set(np.argsort(ours)[-5:])) >= 3, label
        assert np.corrcoef(ours, theirs)[0, 1] > 0.8, label


@pytest.mark.parametrize("name", ["iris", "breast_cancer", "wine", "digits"])
def test_tree_accuracy_within_005_or_3_rows_of_sklearn(name):
    from sklearn.ensemble import RandomForestClassifier as SkForest
    from sklearn.tree import DecisionTreeClassifier as SkTree

    train, test = _split(name)
    x, y = np.vstack([r["features"] for r in train]), [r["label"] for r in train]
    xt, yt = np.vstack([r["features"] for r in test]), [r["label"] for r in test]
    ds = mf.from_sequence(train, partitions=3)
    tolerance = max(0.05, 3 / len(yt))  # iris has 38 test rows: 3 rows are 0.079
    for ours, theirs in ((DecisionTreeClassifier(max_depth=5), SkTree(max_depth=5, random_state=0)),
                         (RandomForestClassifier(num_trees=20, seed=1),
                          SkForest(n_estimators=20, max_depth=5, max_features="sqrt", random_state=0))):
        model = ours.fit(ds, runner="serial")
        predicted = [r["prediction"] for r in model.transform(mf.from_sequence(test)).collect(runner="serial")]
        assert np.mean(np.equal(predicted, yt)) >= theirs.fit(x, y).score(xt, yt) - tolerance, (name, ours)


def test_the_same_trees_on_every_runner(runner):
    train, _ = _split("wine")
    forest = RandomForestClassifier(num_trees=4, max_depth=3, seed=5)
    expected = forest.fit(mf.from_sequence(train, partitions=3), runner="serial")
    got = forest.fit(mf.from_sequence(train, partitions=3), runner=runner)
    assert got.forest == expected.forest  # bit for bit


def test_regression_tree_against_sklearn_on_the_same_thresholds():
    """Without a depth limit on few distinct values, both grow until the leaves are pure."""
    from sklearn.tree import DecisionTreeRegressor as SkTree

    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, size=(300, 3)).astype(float)
    y = x[:, 0] * 2 + (x[:, 1] > 2) * 5.0
    ds = mf.from_sequence([{"features": a, "label": b} for a, b in zip(x, y)], partitions=2)
    model = DecisionTreeRegressor(max_depth=10).fit(ds, runner="serial")
    predicted = [r["prediction"] for r in model.transform(ds).collect(runner="serial")]
    np.testing.assert_allclose(predicted, SkTree().fit(x, y).predict(x), atol=1e-9)
    np.testing.assert_allclose(model.feature_importances[2], 0.0, atol=1e-12)


def test_forest_models_save_and_load(tmp_path):
    train, test = _split("iris")
    model = RandomForestClassifier(num_trees=3, seed=2).fit(mf.from_sequence(train), runner="serial")
    model.save(str(tmp_path / "rf"))
    loaded = RandomForestClassificationModel.load(str(tmp_path / "rf"))
    out = lambda m: [r["probability"].tolist() for r in m.transform(mf.from_sequence(test)).collect(runner="serial")]  # noqa: E731
    assert out(loaded) == out(model)
    assert [t.num_nodes for t in loaded.trees] == [t.num_nodes for t in model.trees]
    assert load(str(tmp_path / "rf")).total_num_nodes == model.total_num_nodes
    from mapfold.ml import GBTClassificationModel, GBTClassifier

    binary = [{**r, "label": float(r["label"] == 1)} for r in train]
    boosted = GBTClassifier(max_iter=3, max_depth=2).fit(mf.from_sequence(binary), runner="serial")
    boosted.save(str(tmp_path / "gbt"))
    assert out(GBTClassificationModel.load(str(tmp_path / "gbt"))) == out(boosted)


def test_parameters_are_checked():
    ds = mf.from_sequence([{"features": [1.0], "label": 0.0}])
    with pytest.raises(mf.MapfoldError, match="max_depth=-1 must be an int >= 0"):
        DecisionTreeClassifier(max_depth=-1).fit(ds, runner="serial")
    with pytest.raises(mf.MapfoldError, match="impurity='variance' is not one of"):
        DecisionTreeClassifier(impurity="variance").fit(ds, runner="serial")
    with pytest.raises(mf.MapfoldError, match="feature_subset_strategy='most'"):
        RandomForestClassifier(feature_subset_strategy="most").fit(ds, runner="serial")
    with pytest.raises(mf.MapfoldError, match="class indices"):
        DecisionTreeClassifier().fit(mf.from_sequence([{"features": [1.0], "label": 0.5}]), runner="serial")


def test_past_the_sample_size_thresholds_come_from_a_sample():
    """12000 records > max(32**2, 10000): thresholds are quantiles of a Bernoulli sample (seeded by
    seed and partition), still at most max_bins - 1 per feature, the same on every partitioning's rerun."""
    from mapfold.ml.tree import find_thresholds

    rng = np.random.default_rng(9)
    x = rng.normal(size=(12000, 2))
    ds = mf.from_sequence([{"features": a, "label": float(a[0] > 0.3)} for a in x], partitions=4)
    n, thresholds = find_thresholds(ds, "features", 32, 7, "serial")
    assert n == 12000 and [len(t) for t in thresholds] == [31, 31]
    assert thresholds == find_thresholds(ds, "features", 32, 7, "serial")[1]
    quantiles = np.quantile(x[:, 0], np.arange(1, 32) / 32)
    np.testing.assert_allclose(thresholds[0], quantiles, atol=0.05)
    model = DecisionTreeClassifier(max_depth=2, seed=7).fit(ds, runner="serial")
    assert model.tree["feature"][0] == 0 and abs(model.tree["threshold"][0] - 0.3) < 0.1


def test_a_tree_tuned_by_cross_validation_in_a_pipeline():
    from mapfold.ml import CrossValidator, MulticlassClassificationEvaluator, ParamGridBuilder, Pipeline, VectorAssembler

    train, _ = _split("wine")
    records = [{"a": r["features"][0], "b": r["features"][6], "c": r["features"][9], "label": r["label"]}
               for r in train]
    tree = DecisionTreeClassifier()
    pipeline = Pipeline(stages=[VectorAssembler(input_cols=["a", "b", "c"], output_col="features"), tree])
    cv = CrossValidator(estimator=pipeline, evaluator=MulticlassClassificationEvaluator(metric_name="accuracy"),
                        estimator_param_maps=ParamGridBuilder().add_grid((tree, "max_depth"), [0, 3]).build())
    model = cv.fit(mf.from_sequence(records, partitions=2), runner="serial")
    assert model.best_index == 1 and model.avg_metrics[1] > model.avg_metrics[0] + 0.3
    assert model.best_model.stages[1].depth <= 3


def _gbt(case, runner="serial"):
    from mapfold.ml import GBTClassifier

    train, test = _split(case["data"])
    names = {**SNAKE, "maxIter": "max_iter", "stepSize": "step_size"}
    model = GBTClassifier(**{names[k]: v for k, v in case["params"].items()}).fit(
        mf.from_sequence(train, partitions=3), runner=runner)
    return model, model.transform(mf.from_sequence(test, partitions=2)).collect(runner="serial"), test


def test_boosted_trees_predict_what_the_recorded_ones_predict(pyspark_expected):
    """Probabilities equal PySpark's to 1e-9 (3e-16 here). The first tree (on labels of +-1, exact
    sums) is PySpark's node for node; later trees are grown on float residuals whose sums differ
    from Spark's in the last bits, so where two features split a node's training rows alike (their
    gains equal but for that noise: breast cancer's correlated size features) either may be
    chosen; the rows each leaf gets, and so the predictions, are the same."""
    cases = _cases(pyspark_expected, "GBT")
    assert cases
    for case in cases:
        model, out, _ = _gbt(case)
        label = f"GBTClassifier {case['params']}"
        assert model.tree_weights == case["tree_weights"], label
        ours, theirs = _structure(model.trees[0].to_debug_string()), _structure(case["debug"][0])
        assert [n[:-1] for n in ours] == [n[:-1] for n in theirs], label
        np.testing.assert_allclose([n[-1] for n in ours], [n[-1] for n in theirs], rtol=1e-12, err_msg=label)
        for tree, debug in zip(model.trees, case["debug"]):
            ours, theirs = _structure(tree.to_debug_string()), _structure(debug)
            assert [n[:2] for n in ours] == [n[:2] for n in theirs], label  # the same shape
            np.testing.assert_allclose([n[-1] for n in ours if n[0] == "leaf"],
                                       [n[-1] for n in theirs if n[0] == "leaf"], rtol=1e-9, err_msg=label)
        np.testing.assert_allclose([r["probability"] for r in out], case["probabilities"], rtol=1e-9, atol=1e-12,
                                   err_msg=label)
        assert [r["prediction"] for r in out] == case["predictions"], label
        assert model.total_num_nodes == case["total_num_nodes"], label
        assert np.abs(model.feature_importances - case["feature_importances"]).sum() < 0.05, label


def test_boosted_trees_against_sklearn_and_on_every_runner(runner):
    from sklearn.ensemble import GradientBoostingClassifier

    case = {"data": "breast_cancer", "params": {"maxIter": 10, "maxDepth": 3}}
    model, out, test = _gbt(case, runner=runner)
    expected, _, _ = _gbt(case)
    assert model.forest == expected.forest  # bit for bit on every runner
    train, _ = _split("breast_cancer")
    sk = GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0).fit(
        np.vstack([r["features"] for r in train]), [r["label"] for r in train])
    theirs = sk.score(np.vstack([r["features"] for r in test]), [r["label"] for r in test])
    assert np.mean([r["prediction"] == t["label"] for r, t in zip(out, test)]) >= theirs - 0.03


def test_boosting_takes_binary_labels_and_subsamples_per_tree():
    from mapfold.ml import GBTClassifier

    train, test = _split("iris")
    with pytest.raises(mf.MapfoldError, match="labels must be 0 and 1"):
        GBTClassifier(max_iter=2).fit(mf.from_sequence(train), runner="serial")
    binary = [{**r, "label": float(r["label"] == 2)} for r in train]
    model = GBTClassifier(max_iter=5, subsampling_rate=0.5, seed=3).fit(mf.from_sequence(binary, partitions=2),
                                                                       runner="serial")
    roots = {tuple(t["stats"][0]) for t in model.forest}
    assert len(roots) == 5  # each tree its own sample (and its own residuals)
    assert [t["stats"][0][0] for t in model.forest] != [len(binary)] * 5
