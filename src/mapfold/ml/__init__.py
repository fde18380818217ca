"""mapfold.ml: PySpark-ML-shaped pipelines over Datasets of dict records.

A layer above ``dataset/``: estimators fit with aggregations on the active
runner (or the ``runner=`` given to ``fit``), models add fields to each
record. numpy and scipy (the ``ml`` extra) are imported only when this
package is; joblib only when its backend (``joblib_backend``) is asked for.

>>> import mapfold as mf
>>> from mapfold.ml import StringIndexer
>>> ds = mf.from_sequence([{"c": "b"}, {"c": "a"}, {"c": "b"}])
>>> StringIndexer(input_col="c", output_col="i").fit(ds, runner="serial").labels
['b', 'a']
"""
from .base import Estimator, Model, Params, Transformer
from .boosting import GBTClassificationModel, GBTClassifier
from .classification import LogisticRegression, LogisticRegressionModel, NaiveBayes, NaiveBayesModel
from .evaluation import BinaryClassificationEvaluator, MulticlassClassificationEvaluator, RegressionEvaluator
from .feature import (IndexToString, OneHotEncoder, OneHotEncoderModel, StandardScaler, StandardScalerModel,
                      StringIndexer, StringIndexerModel, VectorAssembler)
from .pipeline import Pipeline, PipelineModel
from .regression import LinearRegression, LinearRegressionModel
from .persistence import load, save
from .trees import (DecisionTreeClassificationModel, DecisionTreeClassifier, DecisionTreeRegressionModel,
                    DecisionTreeRegressor, RandomForestClassificationModel, RandomForestClassifier,
                    RandomForestRegressionModel, RandomForestRegressor)
from .tuning import (CrossValidator, CrossValidatorModel, ParamGridBuilder, TrainValidationSplit,
                     TrainValidationSplitModel)

__all__ = [
    "Params",
    "Estimator",
    "Model",
    "Transformer",
    "StringIndexer",
    "StringIndexerModel",
    "IndexToString",
    "OneHotEncoder",
    "OneHotEncoderModel",
    "VectorAssembler",
    "StandardScaler",
    "StandardScalerModel",
    "Pipeline",
    "PipelineModel",
    "LogisticRegression",
    "LogisticRegressionModel",
    "NaiveBayes",
    "NaiveBayesModel",
    "LinearRegression",
    "LinearRegressionModel",
    "DecisionTreeClassifier",
    "DecisionTreeClassificationModel",
    "DecisionTreeRegressor",
    "DecisionTreeRegressionModel",
    "RandomForestClassifier",
    "RandomForestClassificationModel",
    "RandomForestRegressor",
    "RandomForestRegressionModel",
    "GBTClassifier",
    "GBTClassificationModel",
    "BinaryClassificationEvaluator",
    "MulticlassClassificationEvaluator",
    "RegressionEvaluator",
    "ParamGridBuilder",
    "CrossValidator",
    "CrossValidatorModel",
    "TrainValidationSplit",
    "TrainValidationSplitModel",
    "save",
    "load",
    "joblib_backend",
    "register_joblib_backend",
    "MapfoldBackend",
]

# the joblib backend (backend.py) imports joblib.parallel, 0.4 s: only when asked for
_BACKEND_NAMES = ("joblib_backend", "register_joblib_backend", "MapfoldBackend")


def __getattr__(name: str):
    if name in _BACKEND_NAMES:
        from . import backend

        return getattr(backend, name)
    raise AttributeError(f"module 'mapfold.ml' has no attribute {name!r}")
