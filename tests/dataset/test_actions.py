"""Actions on every runner, against plain Python."""
from __future__ import annotations

import heapq
import operator
import statistics
from collections import Counter

import pytest

import mapfold as mf

NUMBERS = [((i * 37) % 101) - 20 for i in range(300)]


@pytest.fixture
def numbers():
    return mf.from_sequence(NUMBERS, partitions=5)


def test_collect_count_take_first(runner, numbers):
    assert numbers.collect(runner=runner) == NUMBERS
    assert numbers.count(runner=runner) == len(NUMBERS)
    assert numbers.take(7, runner=runner) == NUMBERS[:7]
    assert numbers.take(250, runner=runner) == NUMBERS[:250]
    assert numbers.take(1000, runner=runner) == NUMBERS
    assert numbers.first(runner=runner) == NUMBERS[0]
    with pytest.raises(ValueError):
        mf.from_sequence([]).first(runner=runner)


def test_reduce_fold_aggregate(runner, numbers):
    assert numbers.reduce(operator.add, runner=runner) == sum(NUMBERS)
    assert numbers.reduce(max, runner=runner) == max(NUMBERS)
    assert numbers.fold(0, operator.add, runner=runner) == sum(NUMBERS)
    got = numbers.aggregate((0, 0), lambda acc, x: (acc[0] + x, acc[1] + 1),
                            lambda a, b: (a[0] + b[0], a[1] + b[1]), runner=runner)
    assert got == (sum(NUMBERS), len(NUMBERS))
    with pytest.raises(ValueError):
        mf.from_sequence([], partitions=2).reduce(operator.add, runner=runner)
    # empty partitions are skipped, not folded in
    assert mf.from_sequence([4], partitions=3).reduce(operator.mul, runner=runner) == 4


def test_statistics(runner, numbers):
    assert numbers.sum(runner=runner) == sum(NUMBERS)
    assert numbers.min(runner=runner) == min(NUMBERS)
    assert numbers.max(runner=runner) == max(NUMBERS)
    assert numbers.mean(runner=runner) == pytest.approx(statistics.mean(NUMBERS))
    assert numbers.max(key=abs, runner=runner) == max(NUMBERS, key=abs)


def test_top_and_take_ordered(runner, numbers):
    assert numbers.top(5, runner=runner) == heapq.nlargest(5, NUMBERS)
    assert numbers.top(3, key=lambda x: -abs(x), runner=runner) == heapq.nlargest(3, NUMBERS, key=lambda x: -abs(x))
    assert numbers.take_ordered(4, runner=runner) == sorted(NUMBERS)[:4]


def test_count_by_value(runner):
    words = "the cat and the hat and the bat".split() * 10
    ds = mf.from_sequence(words, partitions=4)
    assert ds.count_by_value(runner=runner) == Counter(words)
    assert ds.frequencies(runner=runner) == Counter(words)


def test_counters_are_summed_over_tasks(runner):
    def check(x):
        mf.increment_counter("parity", "odd" if x % 2 else "even")
        return x

    ds = mf.from_sequence(range(25), partitions=4).map(check)
    assert ds.count(runner=runner) == 25
    assert ds.counters == {"parity": {"odd": 12, "even": 13}}


def test_explain_names_stages_and_runner(runner):
    ds = mf.from_sequence(range(10), partitions=2).map(str).filter(bool)
    text = ds.explain_string()
    assert "map -> filter" in text and "2 partitions" in text
    ds.count(runner=runner)
    text = ds.explain_string()
    assert f"runner {runner.describe()}" in text


def test_explain_prints_once_and_returns_none(capsys):
    # issue 15: explain() printed and returned its text, so a REPL showed it twice
    ds = mf.from_sequence(range(4), partitions=2).map(str)
    assert ds.explain() is None
    printed = capsys.readouterr().out
    assert printed == ds.explain_string() + "\n"
    assert printed.count("stage: map") == 1


def test_runner_choice_order(monkeypatch):
    from mapfold.runners import get_runner

    monkeypatch.delenv("MAPFOLD_RUNNER", raising=False)
    assert get_runner()[1].source == "default"
    monkeypatch.setenv("MAPFOLD_RUNNER", "serial")
    chosen, setting = get_runner()
    assert chosen.name == "serial" and setting.source == "environment MAPFOLD_RUNNER"
    with mf.runner("processes", workers=1) as block:
        assert get_runner()[0] is block
        assert get_runner("serial")[0].name == "serial"
    with pytest.raises(mf.RunnerUnavailableError, match="choose one of: serial, processes"):
        get_runner("hadoopish")
