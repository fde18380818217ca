"""Text files in and out on every runner (local files)."""
from __future__ import annotations

import gzip
import operator
import os

import pytest

import mapfold as mf

TEXT = "".join(f"line {i} word{i % 7} word{i % 3}\n" for i in range(300))


def _read_parts(folder):
    lines = []
    for name in sorted(os.listdir(folder)):
        if name.startswith("part-"):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(os.path.join(folder, name), "rt") as f:
                lines.extend(f.read().splitlines())
    return lines


def test_read_text_split_into_byte_ranges(runner, serial, text_files):
    folder = text_files({"a.txt": TEXT, "b.txt.gz": TEXT[:500]})
    ds = mf.read_text(folder, split_size=1000)
    assert ds.num_partitions > 3
    assert ds.collect(runner=runner) == ds.collect(runner=serial)


def test_word_count_round_trip(runner, serial, text_files, tmp_path):
    folder = text_files({"in/a.txt": TEXT, "in/b.txt": TEXT})
    counts = (mf.read_text(os.path.join(folder, "in"), split_size=2000).flat_map(str.split)
              .map(lambda w: (w, 1)).reduce_by_key(operator.add, partitions=3))
    out = str(tmp_path / "out")
    counts.map(lambda kv: f"{kv[0]}\t{kv[1]}").save_text(out, runner=runner)
    assert os.path.exists(os.path.join(out, "_SUCCESS"))
    got = dict(line.split("\t") for line in _read_parts(out))
    want = {k: str(v) for k, v in counts.collect(runner=serial)}
    assert got == want
    back = mf.read_text(out).map(lambda line: line.split("\t")).collect(runner=runner)
    assert sorted(map(tuple, back)) == sorted(want.items())


def test_save_text_compressed_and_overwrite(runner, tmp_path):
    out = str(tmp_path / "nums")
    mf.from_sequence(range(10), partitions=2).save_text(out, compression="gzip", runner=runner)
    assert _read_parts(out) == [str(i) for i in range(10)]
    with pytest.raises(mf.OutputExistsError):
        mf.from_sequence([1]).save_text(out, runner=runner)
    mf.from_sequence(["x"], partitions=1).save_text(out, mode="overwrite", runner=runner)
    assert _read_parts(out) == ["x"]


def test_failed_save_leaves_no_target(runner, tmp_path):
    out = str(tmp_path / "never")
    with pytest.raises(KeyError):
        mf.from_sequence(range(5), partitions=2).map(lambda x: {}[x] if x == 4 else x).save_text(out, runner=runner)
    assert not os.path.exists(out)
    assert [n for n in os.listdir(tmp_path) if "mapfold-tmp" in n] == []
