"""Parameters as data: the scikit-learn estimator rules."""
import pytest

from mapfold.ml import LogisticRegression, Pipeline, StringIndexer


def test_init_stores_params_and_does_no_work():
    lr = LogisticRegression(reg_param=0.5)
    assert lr.get_params()["reg_param"] == 0.5
    assert lr.get_params()["max_iter"] == 100  # the default, PySpark's
    lr.get_params()["reg_param"] = 9  # a copy: the estimator is unchanged
    assert lr.reg_param == 0.5


def test_copy_overrides_and_leaves_the_original():
    lr = LogisticRegression(reg_param=0.5)
    other = lr.copy(elastic_net_param=1.0)
    assert other.get_params() == {**lr.get_params(), "elastic_net_param": 1.0}
    assert lr.elastic_net_param == 0.0 and other is not lr


def test_unknown_parameter_names_the_valid_ones():
    with pytest.raises(TypeError, match="regParam.*valid: .*reg_param"):
        LogisticRegression(regParam=0.1)


def test_bad_choice_lists_the_choices():
    import mapfold as mf

    with pytest.raises(ValueError, match="'frequencyDesc'"):
        StringIndexer(input_col="c", string_order_type="byCount").fit(mf.from_sequence([{"c": "a"}]), runner="serial")


def test_pipeline_copy_copies_its_stages():
    indexer = StringIndexer(input_col="c")
    pipeline = Pipeline(stages=[indexer])
    assert pipeline.copy().stages[0] is not indexer
    assert pipeline.copy().stages[0].get_params() == indexer.get_params()
