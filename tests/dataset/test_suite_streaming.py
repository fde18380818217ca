"""Streaming actions interleaved on one runner lose nothing (issue 17's audit):
two ``iterate()`` generators read in turns, other actions run while one is
half read, and a stream that feeds another Dataset, each compared with the
serial runner."""
from __future__ import annotations

import itertools
import operator

import pytest

import mapfold as mf


@pytest.fixture(scope="module")
def datasets():
    words = mf.from_sequence([f"w{i % 37}" for i in range(3000)], partitions=6)
    counts = words.map(lambda w: (w, 1)).reduce_by_key(operator.add, partitions=4)
    numbers = mf.from_sequence(range(5000), partitions=7).map(lambda x: x * 3)
    return counts, numbers


def test_two_streams_read_in_turns(runner, serial, datasets):
    counts, numbers = datasets
    first, second = counts.iterate(runner=runner), numbers.iterate(runner=runner)
    got_first, got_second = [], []
    for turn in itertools.count():
        a = list(itertools.islice(first, 5))
        b = list(itertools.islice(second, 11))
        got_first += a
        got_second += b
        if not a and not b:
            break
    assert sorted(got_first) == sorted(counts.collect(runner=serial))
    assert got_second == numbers.collect(runner=serial)


def test_actions_while_a_stream_is_half_read(runner, serial, datasets):
    counts, numbers = datasets
    stream = numbers.iterate(runner=runner)
    head = list(itertools.islice(stream, 100))
    assert counts.count(runner=runner) == 37
    assert numbers.take(3, runner=runner) == [0, 3, 6]
    assert dict(counts.collect(runner=runner)) == dict(counts.collect(runner=serial))
    assert head + list(stream) == numbers.collect(runner=serial)


def test_a_stream_feeding_another_dataset(runner, serial, datasets):
    _, numbers = datasets
    again = mf.from_sequence(numbers.iterate(runner=runner), partitions=3).map(lambda x: x + 1)
    assert again.collect(runner=runner) == [x + 1 for x in numbers.collect(runner=serial)]


def test_an_abandoned_stream_leaves_the_runner_usable(runner, serial, datasets):
    counts, numbers = datasets
    stream = numbers.iterate(runner=runner)
    next(stream)
    stream.close()
    assert numbers.count(runner=runner) == 5000
    assert sorted(counts.collect(runner=runner)) == sorted(counts.collect(runner=serial))
