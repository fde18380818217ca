"""save_text: one file per partition, atomic commit, _SUCCESS last."""
from __future__ import annotations

import os

import pytest

import mapfold as mf


def listing(folder):
    return sorted(os.listdir(folder))


def test_save_and_read_back(runner, tmp_path):
    target = tmp_path / "out"
    ds = mf.from_sequence([f"row {i} ü" for i in range(100)], partitions=3)
    ds.save_text(str(target), runner=runner)
    assert listing(target) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    assert mf.read_text(str(target)).collect(runner=runner) == ds.collect(runner=runner)


def test_compressed_output_and_empty_partitions(runner, tmp_path):
    target = tmp_path / "gz"
    mf.from_sequence([1, 2], partitions=4).save_text(str(target), compression="gzip", runner=runner)
    assert "part-00003.gz" in listing(target)
    assert mf.read_text(str(target)).collect(runner=runner) == ["1", "2"]


def test_existing_target_is_refused_and_untouched(runner, tmp_path):
    target = tmp_path / "exists"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(mf.OutputExistsError, match="mode='overwrite'"):
        mf.from_sequence([1]).save_text(str(target), runner=runner)
    assert listing(target) == ["precious.txt"]
    assert listing(tmp_path) == ["exists"]


def test_overwrite_replaces(runner, tmp_path):
    target = tmp_path / "out"
    mf.from_sequence(["old"] * 5, partitions=5).save_text(str(target), runner=runner)
    mf.from_sequence(["new"], partitions=1).save_text(str(target), mode="overwrite", runner=runner)
    assert listing(target) == ["_SUCCESS", "part-00000"]
    assert mf.read_text(str(target)).collect(runner=runner) == ["new"]
    assert listing(tmp_path) == ["out"]


def test_failure_mid_write_leaves_nothing(runner, tmp_path):
    target = tmp_path / "out"

    def fail_in_last_partition(x):
        if x == 99:
            raise RuntimeError("disk on fire")
        return x

    ds = mf.from_sequence(range(100), partitions=4).map(fail_in_last_partition)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ds.save_text(str(target), runner=runner)
    assert listing(tmp_path) == []


def test_bad_mode(tmp_path):
    with pytest.raises(ValueError, match="mode must be one of"):
        mf.from_sequence([1]).save_text(str(tmp_path / "x"), mode="sometimes", runner="serial")
