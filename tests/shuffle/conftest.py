"""Runners with a tiny shuffle memory budget, so spills and merges really run."""
from __future__ import annotations

import pytest

from mapfold.runners import make_runner

TINY = "32kB"
SMALL = 1_000_000  # test_big_spill.py: ~100x smaller than its data
TIGHT = "256KB"  # test_sort_spill.py: ~20x smaller than its data
LOCAL = ["serial", "processes"]


def budget_runner(name: str, budget):
    """A local runner (2 workers for processes) with shuffle budget ``budget``."""
    options = {"workers": 2} if name == "processes" else {}
    return make_runner(name, memory_limit=budget, **options)


@pytest.fixture(params=LOCAL, scope="module")
def tiny_runner(request):
    """A runner whose shuffles spill after a few hundred records."""
    with budget_runner(request.param, TINY) as instance:
        yield instance


@pytest.fixture(scope="session")
def small_budget() -> int:
    return SMALL


@pytest.fixture(params=LOCAL, scope="module")
def small_runner(request):
    with budget_runner(request.param, SMALL) as instance:
        yield instance


@pytest.fixture(params=LOCAL, scope="module")
def tight_runner(request):
    with budget_runner(request.param, TIGHT) as instance:
        yield instance
