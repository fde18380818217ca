"""The shuffle memory budget: one setting per runner, then the environment, then a default."""
from __future__ import annotations

import operator

import pytest

import mapfold as mf
from mapfold.core.config import default_memory_limit, memory_limit_setting, parse_size
from mapfold.runners import make_runner


@pytest.mark.parametrize("text, size", [("64MB", 64_000_000), ("1.5GiB", 3 << 29), ("512k", 512_000),
                                        ("100", 100), (4096, 4096), (" 2 kib ", 2048)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "lots", "-1MB", "0", "12 parsecs", True])
def test_parse_size_rejects(bad):
    with pytest.raises(ValueError):
        parse_size(bad)


def test_resolution_order(monkeypatch):
    monkeypatch.delenv("MAPFOLD_MEMORY_LIMIT", raising=False)
    default = memory_limit_setting(None, workers=2)
    assert default.value == default_memory_limit(2) and default.source.startswith("default")
    monkeypatch.setenv("MAPFOLD_MEMORY_LIMIT", "300MB")
    assert memory_limit_setting(None, 2).value == 300_000_000
    assert memory_limit_setting(None, 2).source == "environment MAPFOLD_MEMORY_LIMIT"
    assert memory_limit_setting(123_456, 2).value == 123_456  # the runner's option wins


def test_runner_option_reaches_the_shuffle_and_explain(monkeypatch):
    monkeypatch.setenv("MAPFOLD_MEMORY_LIMIT", "300MB")
    ds = mf.from_sequence([(i % 10, i) for i in range(100)]).reduce_by_key(operator.add)
    with mf.runner("serial", memory_limit="20kB") as runner:
        assert runner.memory_limit == 20_000
        ds.collect()
    assert ds._last_job.stats["memory_limit"].value == 20_000
    with make_runner("serial") as runner:
        ds.collect(runner=runner)
    text = ds.explain_string()
    assert "286.1 MiB per worker (from environment MAPFOLD_MEMORY_LIMIT)" in text


def test_bad_runner_option():
    with pytest.raises(ValueError, match="not a size"):
        make_runner("serial", memory_limit="plenty")
