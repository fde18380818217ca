"""StringIndexer against PySpark 4's labels and indices; VectorAssembler and StandardScaler.

The expected StringIndexer values were recorded by running real PySpark ML
(``tests/ml/reference/record_pyspark.py``, PySpark's version in the JSON) on
the inputs stored in ``reference/pyspark_expected.json``: categorical data
with frequency ties (three labels 5 times, three 3 times, two once), mixed
case, an empty string and nulls; test values with unseen labels and a null.
"""
import math

import numpy as np
import pytest

import mapfold as mf
from mapfold.ml import StandardScaler, StringIndexer, VectorAssembler
from mapfold.ml.feature import InvalidValueError

ORDERS = ["frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc"]


@pytest.mark.parametrize("order", ORDERS)
def test_string_indexer_matches_pyspark(pyspark_expected, order, runner):
    data = pyspark_expected["string_indexer"]
    expected = data["orders"][order]
    train = mf.from_sequence([{"c": v} for v in data["train"]], partitions=3)
    test = mf.from_sequence([{"id": i, "c": v} for i, v in enumerate(data["test"])], partitions=2)
    model = StringIndexer(input_col="c", output_col="i", string_order_type=order,
                          handle_invalid="keep").fit(train, runner=runner)
    assert model.labels == expected["labels"]
    assert [r["i"] for r in model.transform(test).collect(runner=runner)] == expected["keep"]
    skipped = model.copy(handle_invalid="skip").transform(test).collect(runner=runner)
    assert [[r["id"], r["i"]] for r in skipped] == expected["skip"]


def test_string_indexer_default_order_is_frequency_desc(pyspark_expected):
    data = pyspark_expected["string_indexer"]
    model = StringIndexer(input_col="c").fit(mf.from_sequence([{"c": v} for v in data["train"]]), runner="serial")
    assert model.labels == data["orders"]["frequencyDesc"]["labels"]
    assert model.output_col == "c_index"


@pytest.mark.parametrize("value, what", [("zz", "unseen label 'zz'"), (None, "a null")])
def test_string_indexer_error_names_the_value(value, what):
    model = StringIndexer(input_col="c", output_col="i").fit(mf.from_sequence([{"c": "a"}]), runner="serial")
    with pytest.raises(InvalidValueError, match=what):
        model.transform(mf.from_sequence([{"c": value}])).collect(runner="serial")


def test_string_indexer_casts_numbers_to_strings_as_pyspark():
    model = StringIndexer(input_col="n", output_col="i").fit(mf.from_sequence([{"n": 1}, {"n": 2}, {"n": 2}]),
                                                              runner="serial")
    assert model.labels == ["2", "1"]


def test_vector_assembler_handle_invalid():
    records = [{"a": 1.0, "v": [2.0, 3.0]}, {"a": None, "v": [4.0, 5.0]},
               {"a": math.nan, "v": [6.0, 7.0]}, {"a": 8, "v": [9.0, math.nan]}]
    ds = mf.from_sequence(records, partitions=2)
    assembler = VectorAssembler(input_cols=["a", "v"], output_col="f")
    skipped = assembler.copy(handle_invalid="skip").transform(ds).collect(runner="serial")
    assert [r["f"].tolist() for r in skipped] == [[1.0, 2.0, 3.0]]
    kept = [r["f"] for r in assembler.copy(handle_invalid="keep").transform(ds).collect(runner="serial")]
    np.testing.assert_array_equal(np.vstack(kept), [[1, 2, 3], [np.nan, 4, 5], [np.nan, 6, 7], [8, 9, np.nan]])
    with pytest.raises(InvalidValueError, match="'a' is null or NaN"):
        assembler.transform(ds).collect(runner="serial")


def test_standard_scaler_equals_numpy_sample_std(runner):
    from sklearn.datasets import load_wine

    x = load_wine().data
    ds = mf.from_sequence([{"features": row} for row in x], partitions=4)
    model = StandardScaler(with_mean=True).fit(ds, runner=runner)
    np.testing.assert_allclose(model.std, x.std(axis=0, ddof=1), rtol=1e-12)
    scaled = np.vstack([r["scaled"] for r in model.transform(ds).collect(runner=runner)])
    np.testing.assert_allclose(scaled, (x - x.mean(axis=0)) / x.std(axis=0, ddof=1), atol=1e-10)


def test_index_to_string_inverts_the_indexer(pyspark_expected):
    from mapfold.ml import IndexToString

    data = pyspark_expected["string_indexer"]
    ds = mf.from_sequence([{"c": v} for v in data["train"] if v is not None], partitions=2)
    model = StringIndexer(input_col="c", output_col="i").fit(ds, runner="serial")
    back = IndexToString(input_col="i", output_col="c2", labels=model.labels).transform(model.transform(ds))
    assert all(r["c"] == r["c2"] for r in back.collect(runner="serial"))
    with pytest.raises(InvalidValueError, match="not an index of the 8 labels"):
        IndexToString(input_col="i", output_col="c2", labels=model.labels).transform(
            mf.from_sequence([{"i": 8.0}])).collect(runner="serial")


def test_one_hot_encoder_drop_last_and_keep(runner):
    from mapfold.ml import OneHotEncoder

    ds = mf.from_sequence([{"a": float(i % 3), "b": float(i % 2)} for i in range(6)], partitions=3)
    model = OneHotEncoder(input_cols=["a", "b"], output_cols=["va", "vb"]).fit(ds, runner=runner)
    assert model.category_sizes == [3, 2]
    first = model.transform(ds).collect(runner=runner)[:3]
    assert [r["va"].tolist() for r in first] == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]  # the last slot dropped
    assert [r["vb"].tolist() for r in first] == [[1.0], [0.0], [1.0]]
    unseen = mf.from_sequence([{"a": 5.0, "b": 1.0}])
    with pytest.raises(InvalidValueError, match="'a' holds 5.0"):
        model.transform(unseen).collect(runner="serial")
    # keep: an extra, last slot for invalid indices; with drop_last that is the one dropped (PySpark's doc)
    kept = model.copy(handle_invalid="keep").transform(unseen).collect(runner="serial")[0]
    assert kept["va"].tolist() == [0.0, 0.0, 0.0] and kept["vb"].tolist() == [0.0, 1.0]
    full = model.copy(handle_invalid="keep", drop_last=False).transform(unseen).collect(runner="serial")[0]
    assert full["va"].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_string_indexer_over_several_columns_as_recorded(pyspark_expected):
    from mapfold.ml import StringIndexer

    expected = pyspark_expected["string_indexer_columns"]
    train = mf.from_sequence([{"c": c, "n": n} for c, n in zip(expected["train"], expected["train_numbers"])],
                             partitions=3)
    test = mf.from_sequence([{"c": c, "n": n} for c, n in zip(expected["test"], expected["test_numbers"])])
    for order, want in expected["orders"].items():
        model = StringIndexer(input_cols=["c", "n"], output_cols=["ci", "ni"], string_order_type=order,
                              handle_invalid="keep").fit(train, runner="serial")
        assert model.labels_array == want["labels_array"]
        assert [[r["ci"], r["ni"]] for r in model.transform(test).collect(runner="serial")] == want["keep"]
    skipped = model.copy(handle_invalid="skip").transform(test).collect(runner="serial")
    assert len(skipped) == sum(1 for row in want["keep"] if row[0] < 8 and row[1] < 4)


def test_string_indexer_takes_input_col_or_input_cols():
    from mapfold.ml import StringIndexer

    ds = mf.from_sequence([{"c": "a"}])
    with pytest.raises(mf.MapfoldError, match="not both"):
        StringIndexer(input_col="c", input_cols=["c"], output_cols=["i"]).fit(ds, runner="serial")
    with pytest.raises(mf.MapfoldError, match="not neither"):
        StringIndexer().fit(ds, runner="serial")
    with pytest.raises(mf.MapfoldError, match="one field per input column"):
        StringIndexer(input_cols=["c"], output_cols=["i", "j"]).fit(ds, runner="serial")


def test_a_boolean_label_is_refused_as_recorded(pyspark_expected):
    """PySpark: IllegalArgumentException "Column label must be of type numeric but was actually of
    type boolean" from LogisticRegression and DecisionTreeClassifier; StringIndexer "must be either
    string type or numeric type, but got BooleanType"."""
    from mapfold.ml import DecisionTreeClassifier, LogisticRegression, StringIndexer

    expected = pyspark_expected["boolean_label"]
    assert expected["label_type"] == "boolean"
    for name in ("LogisticRegression", "DecisionTreeClassifier", "StringIndexer"):
        assert expected[name]["error"] == "IllegalArgumentException"
    ds = mf.from_sequence([{"features": f, "label": y} for f, y in zip(expected["features"], expected["labels"])])
    for estimator in (LogisticRegression(max_iter=20), DecisionTreeClassifier()):
        with pytest.raises(mf.MapfoldError, match="must hold numbers, as PySpark's numeric label column; it holds a bool"):
            estimator.fit(ds, runner="serial")
    with pytest.raises(mf.MapfoldError, match="holds a boolean"):
        StringIndexer(input_col="label").fit(ds, runner="serial")
    numeric = ds.map(lambda r: {**r, "label": float(r["label"])})
    assert LogisticRegression(max_iter=20).fit(numeric, runner="serial").coefficients.shape == (2,)
