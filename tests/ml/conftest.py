"""Data for the tests of mapfold.ml: scikit-learn's bundled datasets (no
downloads) as Datasets of dict records, and the PySpark reference values
recorded by ``reference/record_pyspark.py``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("sklearn", reason="mapfold.ml's tests need scikit-learn: pip install 'mapfold[ml]'")

REFERENCE = Path(__file__).resolve().parent / "reference" / "pyspark_expected.json"


@pytest.fixture(scope="session")
def pyspark_expected() -> dict:
    """What PySpark computed on the same inputs (the file holds the inputs too)."""
    return json.loads(REFERENCE.read_text())


def split_records(name: str, test_every: int = 4):
    """``(train, test)`` records ``{"features", "label"}`` of a bundled dataset; every
    ``test_every``-th row is a test row (a fixed split, the same for every contender)."""
    from sklearn import datasets

    data = getattr(datasets, f"load_{name}")()
    rows = [{"features": x, "label": float(y)} for x, y in zip(data.data, data.target)]
    train = [r for i, r in enumerate(rows) if i % test_every]
    test = [r for i, r in enumerate(rows) if not i % test_every]
    return train, test
