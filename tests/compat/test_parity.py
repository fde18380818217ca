"""The parity programs (``programs.py``) on ``mapfold.compat.pyspark`` give what
real PySpark gave: the references in ``reference/`` were recorded by
``record_pyspark.py`` on PySpark (its version is stored with them); rerun it
to refresh them, never edit them by hand.

``local`` runs on the serial runner, ``local[2]`` on the processes runner
with two workers; each has its own reference, since PySpark's defaults
(``defaultParallelism``, the partitions of ``parallelize``) follow the master.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from mapfold.compat.pyspark import SparkContext

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # `programs` is imported by name, as record_pyspark.py imports it
import programs  # noqa: E402
from record_pyspark import MASTERS, reference_path  # noqa: E402

RUNNERS = {"local": "serial", "local[2]": "processes"}


def reference(master: str) -> dict:
    return json.loads(reference_path(master).read_text())["results"]


@pytest.fixture(scope="module", params=MASTERS, ids=lambda m: RUNNERS[m])
def sc(request):
    context = SparkContext(request.param, "parity")
    yield context
    context.stop()


@pytest.fixture(params=sorted(programs.PROGRAMS))
def name(request):
    return request.param


def test_program_gives_what_pyspark_gave(sc, name, tmp_path):
    expected = reference(sc.master)[name]
    data = programs.make_inputs(str(tmp_path))
    if isinstance(expected, dict) and set(expected) == {"error"}:
        with pytest.raises(Exception) as raised:
            programs.PROGRAMS[name](sc, data)
        assert type(raised.value).__name__ == expected["error"]
        return
    got = programs.canonical(programs.PROGRAMS[name](sc, data))
    assert_same(got, expected, name)


def test_every_program_has_a_reference():
    for master in MASTERS:
        assert set(reference(master)) == set(programs.PROGRAMS), f"rerun record_pyspark.py for {master}"


def assert_same(got, expected, where: str) -> None:
    """Equal, floats to 1e-9 relative (sums in another order may differ in the last bits)."""
    if isinstance(expected, float) or isinstance(got, float):
        assert isinstance(got, (int, float)) and isinstance(expected, (int, float)), f"{where}: {got!r} != {expected!r}"
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {got!r} != {expected!r}"
        return
    if isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), f"{where}: keys {sorted(got)} != {sorted(expected)}"
        for key in expected:
            assert_same(got[key], expected[key], f"{where}.{key}")
        return
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), f"{where}: {got!r} != {expected!r}"
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f"{where}[{i}]")
        return
    assert got == expected and type(got) is type(expected), f"{where}: {got!r} != {expected!r}"
