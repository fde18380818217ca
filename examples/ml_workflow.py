"""Chapter 12's workflow with mapfold.ml: sample a large CSV, compare models on the sample, retrain the best on all of it.

The data: scikit-learn's bundled breast-cancer table (569 tumours, 30
measurements, malignant or benign), replicated with noise into a CSV of
ROWS rows, so nothing is downloaded. Then, as the book's chapter 12 does
it on a cluster:

1. read the CSV lazily and hold a fifth of it out for the final check;
2. ``Dataset.sample`` the rest: models are compared on the sample, which is
   cheap, with ``CrossValidator`` over a ``ParamGridBuilder`` grid each;
3. retrain the best two kinds of model, with their best parameters, on all
   the data (not the sample), and score them on the held-out part;
4. save each as a ``PipelineModel`` (JSON, loads without unpickling), load
   it back and check that it predicts the same.

    python examples/ml_workflow.py [ROWS] [--runner serial|processes|dask|spark|ray] [--sample 0.1] [--out models]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import time

import numpy as np
from sklearn.datasets import load_breast_cancer

import mapfold as mf
from mapfold.ml import (BinaryClassificationEvaluator, CrossValidator, DecisionTreeClassifier, LogisticRegression,
                        ParamGridBuilder, Pipeline, PipelineModel, RandomForestClassifier, StandardScaler,
                        StringIndexer, VectorAssembler)

CANCER = load_breast_cancer()
FEATURES = [name.replace(" ", "_") for name in CANCER.feature_names]

# each kind of model with the grid it is tuned over on the sample
CANDIDATES = {
    "logistic_regression": (LogisticRegression(max_iter=50), ParamGridBuilder().add_grid("reg_param", [0.001, 0.01, 0.1])),
    "decision_tree": (DecisionTreeClassifier(seed=1), ParamGridBuilder().add_grid("max_depth", [3, 5])),
    "random_forest": (RandomForestClassifier(num_trees=10, seed=1), ParamGridBuilder().add_grid("max_depth", [3, 5])),
}


def write_csv(path: str, rows: int, seed: int = 12) -> None:
    """``rows`` noisy copies of the bundled tumours: each measurement plus 10% of its spread in noise."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(CANCER.data), size=rows)
    values = CANCER.data[picks] + rng.normal(0.0, 0.1, size=(rows, len(FEATURES))) * CANCER.data.std(axis=0)
    labels = CANCER.target_names[CANCER.target[picks]]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["diagnosis", *FEATURES])
        for label, row in zip(labels, values):
            out.writerow([label, *(f"{v:.6g}" for v in row)])


def preparation() -> list:
    """The stages before the model: the label indexed, the measurements assembled and scaled."""
    return [StringIndexer(input_col="diagnosis", output_col="label"),
            VectorAssembler(input_cols=FEATURES, output_col="raw"),
            StandardScaler(input_col="raw", output_col="features")]


def compare_on(sample, evaluator) -> dict:
    """Each kind's best parameters and cross-validated metric on the sample."""
    prepared_model = Pipeline(stages=preparation()).fit(sample)
    prepared = prepared_model.transform(sample).persist()  # the folds read it once per fit
    try:
        found = {}
        for name, (estimator, grid) in CANDIDATES.items():
            maps = grid.build()
            cv = CrossValidator(estimator=estimator, estimator_param_maps=maps, evaluator=evaluator,
                                num_folds=3, seed=7).fit(prepared)
            found[name] = (cv.avg_metrics[cv.best_index], maps[cv.best_index])
            print(f"  {name}: best {evaluator.metric_name} {found[name][0]:.4f} with {found[name][1]} "
                  f"(all: {', '.join(f'{m:.4f}' for m in cv.avg_metrics)})")
        return found
    finally:
        prepared.unpersist()


def main(rows: int, runner: str, fraction: float, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "tumours.csv")
    write_csv(path, rows)
    print(f"wrote {rows:,} rows to {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
    evaluator = BinaryClassificationEvaluator()  # areaUnderROC
    with mf.runner(runner):
        data, holdout = mf.read_csv(path).random_split([0.8, 0.2], seed=3)
        data = data.persist()  # read and parsed once, for the sample and the retraining
        start = time.perf_counter()
        sample = data.sample(fraction, seed=5).persist()
        print(f"on {runner}: sampled {sample.count():,} of {data.count():,} rows ({fraction:.0%})")
        print("cross-validated on the sample:")
        found = compare_on(sample, evaluator)
        sample.unpersist()
        chosen = sorted(found, key=lambda name: found[name][0], reverse=True)[:2]
        print(f"chosen: {', '.join(chosen)} ({time.perf_counter() - start:.1f} s so far)")

        for name in chosen:
            estimator, params = CANDIDATES[name][0], found[name][1]
            model = Pipeline(stages=[*preparation(), estimator.copy(**params)]).fit(data)  # all the data
            auc = evaluator.evaluate(model.transform(holdout))
            folder = os.path.join(out, name)
            model.save(folder)
            loaded = PipelineModel.load(folder)
            ours = model.transform(holdout).collect()
            again = loaded.transform(holdout).collect()
            same = [r["prediction"] for r in ours] == [r["prediction"] for r in again] and all(
                np.array_equal(a["probability"], b["probability"]) for a, b in zip(ours, again))
            print(f"  {name} retrained on {data.count():,} rows: held-out {evaluator.metric_name} {auc:.4f}; "
                  f"saved to {folder}, loaded again predicts the same: {same}")
            with open(os.path.join(folder, "check.jsonl"), "w") as f:  # a few predictions, for a later load
                for record in ours[:50]:
                    fields = {k: record[k] for k in ["diagnosis", *FEATURES]}
                    f.write(json.dumps({"record": fields, "prediction": record["prediction"],
                                        "probability": record["probability"].tolist()}) + "\n")
        data.unpersist()


if __name__ == "__main__":  # required: the runner's worker processes must not run this again
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=100_000, help="rows of the generated CSV")
    parser.add_argument("--runner", default="processes", help="serial, processes, dask, spark or ray")
    parser.add_argument("--sample", type=float, default=0.1, help="the fraction the models are compared on")
    parser.add_argument("--out", default="ml-workflow", help="folder for the CSV and the saved models")
    args = parser.parse_args()
    main(args.rows, args.runner, args.sample, args.out)
