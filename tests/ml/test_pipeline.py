"""Pipeline: indexer, assembler, scaler and classifier fitted in order."""
import numpy as np

import mapfold as mf
from mapfold.ml import (LogisticRegression, MulticlassClassificationEvaluator, Pipeline, PipelineModel,
                        StandardScaler, StringIndexer, VectorAssembler)


def test_pipeline_fits_stages_in_order(runner):
    from sklearn.datasets import load_iris

    iris = load_iris()
    records = [{"species": str(iris.target_names[t]), **{f"x{j}": float(v) for j, v in enumerate(row)}}
               for row, t in zip(iris.data, iris.target)]
    ds = mf.from_sequence(records, partitions=3)
    pipeline = Pipeline(stages=[
        StringIndexer(input_col="species", output_col="label"),
        VectorAssembler(input_cols=["x0", "x1", "x2", "x3"], output_col="raw"),
        StandardScaler(input_col="raw", output_col="features"),
        LogisticRegression(reg_param=0.01, max_iter=100),
    ])
    model = pipeline.fit(ds, runner=runner)
    assert isinstance(model, PipelineModel) and len(model.stages) == 4
    assert model.stages[0].labels == ["setosa", "versicolor", "virginica"]  # ties of 50: alphabetical
    out = model.transform(ds)
    accuracy = MulticlassClassificationEvaluator(metric_name="accuracy").evaluate(out, runner=runner)
    assert accuracy > 0.95
    first = out.take(1, runner=runner)[0]
    np.testing.assert_allclose(first["features"], first["raw"] / np.asarray(model.stages[2].std))
