"""Every public method of the installed PySpark's ``RDD`` and ``SparkContext``
is either implemented here or refused with ``UnsupportedError`` (a
``NotImplementedError``) naming the method and an alternative; never an
``AttributeError``. PySpark is only introspected by name (no JVM starts)."""
from __future__ import annotations

import inspect

import pytest

from mapfold.compat.pyspark import RDD, SparkContext
from mapfold.compat.pyspark.unsupported import UNSUPPORTED, UnsupportedError
from mapfold.core.errors import MapfoldError

pyspark = pytest.importorskip("pyspark")

PAIRS = [(pyspark.RDD, RDD), (pyspark.SparkContext, SparkContext)]


def public_names(cls) -> list[str]:
    return sorted(name for name in dir(cls) if not name.startswith("_"))


@pytest.mark.parametrize("theirs,ours", PAIRS, ids=["rdd", "context"])
def test_every_public_name_exists(theirs, ours):
    missing = [name for name in public_names(theirs) if not hasattr(ours, name)]
    assert not missing, f"{ours.__name__} lacks {missing}: implement them or declare them in UNSUPPORTED"


@pytest.mark.parametrize("theirs,ours", PAIRS, ids=["rdd", "context"])
def test_refused_names_raise_a_clear_not_implemented_error(theirs, ours):
    sc = SparkContext("local")
    instance = sc if ours is SparkContext else sc.parallelize([1, 2])
    for name, alternative in UNSUPPORTED[ours.__name__].items():
        assert name in public_names(theirs), f"{name} is declared unsupported but PySpark has no such method"
        with pytest.raises(UnsupportedError) as raised:
            getattr(instance, name)("any", argument=1)
        error = raised.value
        assert isinstance(error, NotImplementedError) and isinstance(error, MapfoldError)
        assert f"{ours.__name__}.{name}()" in str(error) and alternative in str(error)


@pytest.mark.parametrize("theirs,ours", PAIRS, ids=["rdd", "context"])
def test_implemented_methods_take_pysparks_arguments(theirs, ours):
    """An implemented method accepts PySpark's parameter names, in PySpark's order, with its defaults."""
    refused = UNSUPPORTED[ours.__name__]
    for name in public_names(theirs):
        their, our = inspect.getattr_static(theirs, name), inspect.getattr_static(ours, name)
        if name in refused or not callable(their) or isinstance(their, type):
            continue
        their_params = _parameters(their)
        our_params = _parameters(our)
        assert our_params[:len(their_params)] == their_params, f"{ours.__name__}.{name}"


def _parameters(function) -> list:
    function = function.__func__ if isinstance(function, (staticmethod, classmethod)) else function
    params = [p for p in inspect.signature(function).parameters.values()
              if p.name != "self" and p.kind not in (p.VAR_KEYWORD,)]
    # defaults compared by value only for plain constants (PySpark's lambdas and serializers are its own)
    return [(p.name, p.default if isinstance(p.default, (int, float, str, bool, type(None))) else "<object>")
            for p in params]


def test_docs_table_is_the_generated_one():
    from pathlib import Path

    from mapfold.compat.pyspark.surface import BEGIN, END, surface_table

    page = (Path(__file__).resolve().parents[2] / "docs" / "pyspark.md").read_text()
    assert BEGIN in page and END in page, "docs/pyspark.md lost its surface table markers"
    table = page.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == surface_table(), "docs/pyspark.md's table is stale: paste surface_table()'s output"
