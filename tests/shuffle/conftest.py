"""Runners with a tiny shuffle memory budget, so spills and merges really run."""
from __future__ import annotations

import pytest

from mapfold.runners import make_runner

TINY = "32kB"


@pytest.fixture(params=["serial", "processes"], scope="module")
def tiny_runner(request):
    """A runner whose shuffles spill after a few hundred records."""
    options = {"workers": 2} if request.param == "processes" else {}
    instance = make_runner(request.param, memory_limit=TINY, **options)
    yield instance
    instance.close()
