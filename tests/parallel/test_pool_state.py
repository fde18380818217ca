"""Functions with state give exactly what ``multiprocessing.Pool`` gives on
the same inputs and chunk sizes (issue 17: a partial holding a dict kept
filling across chunks). The anchor is a real ``multiprocessing.Pool`` run in
the test; it ships each function with cloudpickle, once per task, which is
what it does with the standard pickle (and what lets it take closures)."""
from __future__ import annotations

import functools
import multiprocessing

import cloudpickle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mapfold as mf
from mapfold.core.serialize import is_stateless


class Shipped:
    """The function as multiprocessing ships it: pickled anew with every task."""

    def __init__(self, fn):
        self.fn = fn

    def __reduce__(self):
        return cloudpickle.loads, (cloudpickle.dumps(self.fn),)


def closure_over_list():
    seen = []

    def position(x, *rest):
        seen.append(x)
        return (x, len(seen))

    return position


def count_into(table: dict, x, *rest):
    table[x % 5] = table.get(x % 5, 0) + 1
    return (x, sum(table.values()))


class CountsCalls:
    def __init__(self):
        self.calls = 0

    def __call__(self, x, y=0):
        self.calls += 1
        return (x, y, self.calls)


def closure_over_dict_star():
    totals = {}

    def add(x, y):
        totals[y] = totals.get(y, 0) + x
        return totals[y]

    return add


STATEFUL = {
    "closure over a list": closure_over_list,
    "partial holding a dict": lambda: functools.partial(count_into, {}),
    "callable object counting calls": CountsCalls,
}


@pytest.fixture(scope="module")
def pools():
    with mf.Pool(2) as ours, multiprocessing.get_context("fork").Pool(2) as theirs:
        yield ours, theirs


def run(pool, method, fn, items, chunksize, shipped=False):
    fn = Shipped(fn) if shipped else fn
    kwargs = {} if chunksize is None else {"chunksize": chunksize}
    if method == "starmap":
        return pool.starmap(fn, [(x, x % 3) for x in items], **kwargs)
    if method == "map_async":
        return pool.map_async(fn, items, **kwargs).get(timeout=60)
    result = getattr(pool, method)(fn, items, **kwargs)
    return sorted(result) if method == "imap_unordered" else list(result)


@pytest.mark.parametrize("name", STATEFUL)
@pytest.mark.parametrize("method", ["map", "imap", "imap_unordered", "map_async"])
@pytest.mark.parametrize("chunksize", [None, 1, 7, 100])
def test_stateful_functions_match_multiprocessing(pools, name, method, chunksize):
    ours, theirs = pools
    items = list(range(1000))
    make = STATEFUL[name]
    assert not is_stateless(make())
    want = run(theirs, method, make(), items, chunksize, shipped=True)
    assert run(ours, method, make(), items, chunksize) == want


@pytest.mark.parametrize("make", [closure_over_dict_star, CountsCalls])
@pytest.mark.parametrize("chunksize", [None, 1, 13])
def test_starmap_with_state_matches_multiprocessing(pools, make, chunksize):
    ours, theirs = pools
    items = list(range(777))
    assert run(ours, "starmap", make(), items, chunksize) == run(theirs, "starmap", make(), items, chunksize, shipped=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 400), chunksize=st.one_of(st.none(), st.integers(1, 60)),
       method=st.sampled_from(["map", "imap", "starmap"]), name=st.sampled_from(sorted(STATEFUL)))
def test_any_length_and_chunk_size_matches_multiprocessing(pools, n, chunksize, method, name):
    ours, theirs = pools
    make = STATEFUL[name]
    items = range(n)
    assert run(ours, method, make(), items, chunksize) == run(theirs, method, make(), items, chunksize, shipped=True)


def test_a_generator_input_is_chunked_as_multiprocessing_chunks_it(pools):
    ours, theirs = pools
    want = theirs.map(Shipped(CountsCalls()), (x for x in range(999)))
    assert ours.map(CountsCalls(), (x for x in range(999))) == want


def test_the_callers_object_is_never_mutated(pools):
    ours, _ = pools
    counter = CountsCalls()
    ours.map(counter, range(100))
    assert counter.calls == 0  # as with multiprocessing: workers get copies


def test_stateless_functions_are_still_shared_per_worker():
    # the fast path stays: code without state is unpickled once per worker, not per chunk
    offset = 10
    assert is_stateless(lambda x: x + offset)
    assert is_stateless(functools.partial(divmod, 7))
    assert is_stateless(str.upper) and is_stateless(len) and is_stateless(abs)
    assert is_stateless(count_into)  # module-level: pickled by reference
    assert not is_stateless([].append)
    assert not is_stateless(functools.partial(count_into, {}))
    table = {"a": 1}
    assert not is_stateless(lambda x: table.get(x))  # a global/closure dict may be mutated
    frozen = frozenset({1, 2})
    assert is_stateless(lambda x: x in frozen)


def test_fold_with_a_stateful_accumulator_is_deterministic(pools):
    ours, _ = pools

    class Weighted:
        def __init__(self):
            self.calls = 0

        def __call__(self, acc, x):
            self.calls += 1
            return acc + x * self.calls

    # fresh every multiprocessing-sized chunk (1000 / 8 = 125), whatever size the chunks travel at
    want = sum(sum(x * (i + 1) for i, x in enumerate(range(start, start + 125))) for start in range(0, 1000, 125))
    assert ours.fold(Weighted(), range(1000), 0, combine=lambda a, b: a + b) == want
