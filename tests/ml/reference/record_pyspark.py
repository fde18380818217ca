"""Record what real PySpark ML computes, for tests/ml to compare with.

Run by hand (it needs pyspark and Java, and takes about a minute):

    /work/main/.venv/bin/python tests/ml/reference/record_pyspark.py

It writes ``pyspark_expected.json`` next to itself, holding both the inputs
(generated here with a fixed seed) and PySpark's outputs, so the tests read
the inputs from the file and never need PySpark:

* ``string_indexer``: categorical training values with frequency ties,
  nulls, an empty string and mixed case; for each ``stringOrderType`` the
  model's ``labels``, and the indices of test values (unseen labels and a
  null included) under ``handleInvalid`` ``keep`` and ``skip``;
* ``binary_evaluator``: scores with ties and labels; ``areaUnderROC`` and
  ``areaUnderPR`` of ``BinaryClassificationEvaluator``;
* ``logistic_regression``: coefficients and intercepts on the first 400
  rows of scikit-learn's breast cancer data (binary) and on iris
  (multinomial) for a few regularisations;
* ``naive_bayes``: ``pi``, ``theta`` (and ``sigma``) of multinomial naive
  Bayes on the first 300 rows of wine and Gaussian on the first 300 of
  digits;
* ``linear_regression``: coefficients and intercept on scikit-learn's
  diabetes data (unscaled) for a few regularisations;
* ``trees``: decision trees (classification on iris, breast cancer, wine
  and digits, regression on diabetes) and random forests, trained on the
  rows ``i % 4 != 0`` and applied to the rows ``i % 4 == 0`` (conftest's
  ``split_records``): ``toDebugString``, depth, node count,
  ``featureImportances``, test predictions (and, for forests, accuracy or
  RMSE); gradient-boosted trees on breast cancer (each tree's
  ``toDebugString``, the tree weights, test probabilities).

* ``string_indexer_columns``: ``StringIndexer(inputCols, outputCols)`` over
  two columns, one of them boolean (``labelsArray``, indices of test rows
  under ``keep``);
* ``boolean_label``: what PySpark's estimators do with a boolean label
  column (the error's message, or the fitted model's predictions).

``--only NAME`` records just that part (trees, extras), leaving the rest of the file as it
is.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent


def categorical() -> tuple[list, list]:
    rng = random.Random(11)
    # counts chosen for ties: b, a and "B" 5 times; c and d 3; "" and e once
    counts = {"b": 5, "a": 5, "B": 5, "c": 3, "d": 3, "": 1, "e": 1, "ab": 3}
    train = [value for value, n in counts.items() for _ in range(n)] + [None, None]
    rng.shuffle(train)
    test = ["a", "zz", None, "B", "", "e", "unseen", "d", "ab"]
    return train, test


def scores() -> tuple[list, list]:
    rng = random.Random(12)
    rows = []
    for _ in range(300):
        label = rng.random() < 0.4
        score = round(rng.gauss(0.6 if label else 0.4, 0.2), 2)  # rounded: many tied scores
        rows.append((score, float(label)))
    return [s for s, _ in rows], [y for _, y in rows]


TREE_CASES = [
    # (kind, data, parameters)
    ("DecisionTreeClassifier", "iris", {"maxDepth": 5}),
    ("DecisionTreeClassifier", "breast_cancer", {"maxDepth": 4, "impurity": "entropy", "minInstancesPerNode": 5}),
    ("DecisionTreeClassifier", "breast_cancer", {"maxDepth": 5, "maxBins": 8}),
    ("DecisionTreeClassifier", "wine", {"maxDepth": 3, "minInfoGain": 0.05}),
    ("DecisionTreeClassifier", "digits", {"maxDepth": 6}),
    ("DecisionTreeRegressor", "diabetes", {"maxDepth": 4}),
    ("RandomForestClassifier", "breast_cancer", {"numTrees": 20, "seed": 1}),
    ("RandomForestClassifier", "wine", {"numTrees": 10, "featureSubsetStrategy": "sqrt", "seed": 2}),
    ("RandomForestClassifier", "digits", {"numTrees": 20, "maxDepth": 8, "subsamplingRate": 0.7, "seed": 3}),
    ("RandomForestRegressor", "diabetes", {"numTrees": 20, "maxDepth": 5, "seed": 4}),
    ("GBTClassifier", "breast_cancer", {"maxIter": 10, "maxDepth": 3}),
    ("GBTClassifier", "breast_cancer", {"maxIter": 20, "stepSize": 0.3, "maxDepth": 2, "maxBins": 16}),
]


def record_trees(spark) -> list:
    from pyspark.ml import classification, regression
    from pyspark.ml.linalg import Vectors
    from sklearn import datasets

    out = []
    for kind, name, params in TREE_CASES:
        data = datasets.load_diabetes(scaled=False) if name == "diabetes" else getattr(datasets, f"load_{name}")()
        rows = [(Vectors.dense(x.tolist()), float(t)) for x, t in zip(data.data, data.target)]
        train = spark.createDataFrame([r for i, r in enumerate(rows) if i % 4], ["features", "label"])
        test = spark.createDataFrame([r for i, r in enumerate(rows) if not i % 4], ["features", "label"])
        module = classification if kind.endswith("Classifier") else regression
        model = getattr(module, kind)(**params).fit(train)
        predicted = [r.prediction for r in model.transform(test).select("prediction").collect()]
        labels = [r[1] for i, r in enumerate(rows) if not i % 4]
        case = {"kind": kind, "data": name, "params": params, "predictions": predicted,
                "feature_importances": model.featureImportances.toArray().tolist()}
        if kind.startswith("DecisionTree"):
            case.update(debug=model.toDebugString, depth=model.depth, num_nodes=model.numNodes)
        elif kind.startswith("GBT"):
            case.update(debug=[tree.toDebugString for tree in model.trees], tree_weights=list(model.treeWeights),
                        probabilities=[r.probability.toArray().tolist()
                                       for r in model.transform(test).select("probability").collect()])
        if not kind.startswith("DecisionTree"):
            case["total_num_nodes"] = model.totalNumNodes
        if kind.endswith("Classifier"):
            case["accuracy"] = sum(p == y for p, y in zip(predicted, labels)) / len(labels)
        else:
            case["rmse"] = (sum((p - y) ** 2 for p, y in zip(predicted, labels)) / len(labels)) ** 0.5
        out.append(case)
    return out


def _outcome(fit_and_apply) -> dict:
    """What PySpark did: its output, or its error's class and first line."""
    try:
        return {"output": fit_and_apply()}
    except Exception as error:  # the message is what the tests compare with
        return {"error": type(error).__name__, "message": str(error).splitlines()[0][:300]}


def record_extras(spark, out: dict) -> None:
    from pyspark.ml.classification import DecisionTreeClassifier, LogisticRegression
    from pyspark.ml.feature import StringIndexer
    from pyspark.ml.linalg import Vectors

    train, test = categorical()
    numbers = [float(i % 4) for i in range(len(train))]  # a numeric column: indexed as its string form
    test_numbers = [0.0, 3.0, None, 1.0, 9.0, 2.0, 0.0, 1.0, 3.0]
    train_df = spark.createDataFrame(list(zip(train, numbers)), "c string, n double")
    test_df = spark.createDataFrame([(i, v, f) for i, (v, f) in enumerate(zip(test, test_numbers))],
                                    "id int, c string, n double")
    orders = {}
    for order in ("frequencyDesc", "alphabetAsc"):
        model = StringIndexer(inputCols=["c", "n"], outputCols=["ci", "ni"], stringOrderType=order,
                              handleInvalid="keep").fit(train_df)
        rows = {r.id: (r.ci, r.ni) for r in model.transform(test_df).collect()}
        orders[order] = {"labels_array": [list(labels) for labels in model.labelsArray],
                         "keep": [list(rows[i]) for i in range(len(test))]}
    out["string_indexer_columns"] = {"train": train, "train_numbers": numbers, "test": test,
                                     "test_numbers": test_numbers, "orders": orders}

    rows = [(Vectors.dense([float(i % 7), float(i % 3)]), i % 7 > 3) for i in range(60)]
    df = spark.createDataFrame(rows, ["features", "label"])
    result = {"features": [list(r[0]) for r in rows], "labels": [r[1] for r in rows],
              "label_type": df.schema["label"].dataType.simpleString()}
    for name, estimator in (("LogisticRegression", LogisticRegression(maxIter=20)),
                            ("DecisionTreeClassifier", DecisionTreeClassifier())):
        result[name] = _outcome(lambda: [r.prediction for r in estimator.fit(df).transform(df).collect()])
    result["StringIndexer"] = _outcome(
        lambda: list(StringIndexer(inputCol="label", outputCol="i").fit(df).labels))
    out["boolean_label"] = result


def main() -> None:
    import sys

    from pyspark.sql import SparkSession

    if sys.argv[1:2] == ["--only"]:
        spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
                 .config("spark.sql.shuffle.partitions", "2").getOrCreate())
        path = HERE / "pyspark_expected.json"
        out = json.loads(path.read_text())
        if sys.argv[2] == "trees":
            out["trees"] = record_trees(spark)
        else:
            record_extras(spark, out)
        spark.stop()
        path.write_text(json.dumps(out, indent=1) + "\n")
        return

    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.feature import StringIndexer
    from pyspark.ml.linalg import Vectors
    from sklearn.datasets import load_breast_cancer, load_iris

    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    out: dict = {"pyspark_version": spark.version}

    train, test = categorical()
    train_df = spark.createDataFrame([(v,) for v in train], "c string")
    test_df = spark.createDataFrame([(i, v) for i, v in enumerate(test)], "id int, c string")
    indexer_out = {"train": train, "test": test, "orders": {}}
    for order in ("frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc"):
        model = StringIndexer(inputCol="c", outputCol="i", stringOrderType=order,
                              handleInvalid="keep").fit(train_df)
        keep = {r.id: r.i for r in model.transform(test_df).collect()}
        model.setHandleInvalid("skip")
        skip = {r.id: r.i for r in model.transform(test_df).collect()}
        indexer_out["orders"][order] = {
            "labels": list(model.labels),
            "keep": [keep[i] for i in range(len(test))],
            "skip": [[i, skip[i]] for i in sorted(skip)],
        }
    out["string_indexer"] = indexer_out

    s, y = scores()
    df = spark.createDataFrame([(Vectors.dense([-v, v]), t) for v, t in zip(s, y)], ["raw", "label"])
    evaluator = BinaryClassificationEvaluator(rawPredictionCol="raw", labelCol="label")
    out["binary_evaluator"] = {
        "scores": s, "labels": y,
        "areaUnderROC": evaluator.evaluate(df, {evaluator.metricName: "areaUnderROC"}),
        "areaUnderPR": evaluator.evaluate(df, {evaluator.metricName: "areaUnderPR"}),
    }

    cancer = load_breast_cancer()
    iris = load_iris()
    fits = []
    for name, data, rows in (("breast_cancer", cancer, 400), ("iris", iris, 150)):
        df = spark.createDataFrame([(Vectors.dense(x.tolist()), float(t))
                                    for x, t in zip(data.data[:rows], data.target[:rows])], ["features", "label"])
        for reg, alpha, std in ((0.1, 0.0, True), (0.05, 0.5, True), (0.1, 0.0, False), (0.02, 1.0, True)):
            model = LogisticRegression(regParam=reg, elasticNetParam=alpha, standardization=std,
                                       maxIter=500, tol=1e-9).fit(df)
            fits.append({"data": name, "rows": rows, "reg_param": reg, "elastic_net_param": alpha,
                         "standardization": std,
                         "coefficients": model.coefficientMatrix.toArray().tolist(),
                         "intercepts": model.interceptVector.toArray().tolist()})
    out["logistic_regression"] = fits

    from pyspark.ml.classification import NaiveBayes
    from sklearn.datasets import load_digits, load_wine

    bayes = []
    for name, data, model_type in (("wine", load_wine(), "multinomial"), ("digits", load_digits(), "gaussian")):
        rows = 300
        df = spark.createDataFrame([(Vectors.dense(x.tolist()), float(t))
                                    for x, t in zip(data.data[:rows], data.target[:rows])], ["features", "label"])
        model = NaiveBayes(modelType=model_type, smoothing=1.0).fit(df)
        bayes.append({"data": name, "rows": rows, "model_type": model_type,
                      "pi": model.pi.toArray().tolist(), "theta": model.theta.toArray().tolist(),
                      "sigma": model.sigma.toArray().tolist() if model_type == "gaussian" else None})
    out["naive_bayes"] = bayes

    from pyspark.ml.regression import LinearRegression
    from sklearn.datasets import load_diabetes

    diabetes = load_diabetes(scaled=False)
    df = spark.createDataFrame([(Vectors.dense(x.tolist()), float(t)) for x, t in zip(diabetes.data, diabetes.target)],
                               ["features", "label"])
    linear = []
    for reg, alpha, std in ((0.0, 0.0, True), (1.0, 0.0, True), (1.0, 0.0, False), (0.5, 0.5, True),
                            (2.0, 1.0, False)):
        model = LinearRegression(regParam=reg, elasticNetParam=alpha, standardization=std, maxIter=1000,
                                 tol=1e-10).fit(df)
        linear.append({"reg_param": reg, "elastic_net_param": alpha, "standardization": std,
                       "coefficients": model.coefficients.toArray().tolist(), "intercept": model.intercept})
    out["linear_regression"] = linear
    out["trees"] = record_trees(spark)
    record_extras(spark, out)
    spark.stop()
    (HERE / "pyspark_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
