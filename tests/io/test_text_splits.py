"""Text splits: every line exactly once, in order, whatever the split size."""
from __future__ import annotations

import bz2
import gzip
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mapfold as mf
from mapfold.io.paths import expand_paths
from mapfold.io.text import TextPartition, plan_segments

line_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=40)


def reference_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(line_text, max_size=60),
    trailing_newline=st.booleans(),
    crlf=st.booleans(),
    split_size=st.integers(min_value=1, max_value=300),
)
def test_random_files_random_splits_yield_every_line_once(tmp_path_factory, lines, trailing_newline, crlf, split_size):
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if trailing_newline and lines else "")
    folder = tmp_path_factory.mktemp("splits")
    path = folder / "data.txt"
    path.write_bytes(text.encode("utf-8"))
    _, files = expand_paths(str(path))
    got = []
    for segments in plan_segments(files, split_size):
        got.extend(TextPartition(None, segments).read())
    assert got == reference_lines(text.encode("utf-8"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(st.lists(line_text, max_size=20), min_size=1, max_size=5),
    split_size=st.integers(min_value=1, max_value=200),
)
def test_many_files_keep_file_order(tmp_path_factory, files, split_size):
    folder = tmp_path_factory.mktemp("many")
    expected = []
    for i, lines in enumerate(files):
        data = "".join(line + "\n" for line in lines)
        (folder / f"f{i:02d}.txt").write_text(data, encoding="utf-8")
        expected.extend(lines)
    ds = mf.read_text(str(folder), split_size=split_size)
    assert ds.collect(runner="serial") == expected


def test_read_text_on_runners(runner, text_files):
    lines = [f"line {i} ünïcödé" for i in range(500)]
    folder = text_files({"part1.txt": "\n".join(lines[:300]) + "\n", "part2.txt": "\n".join(lines[300:])})
    ds = mf.read_text(folder, split_size=1000)
    assert ds.num_partitions > 4
    assert ds.collect(runner=runner) == lines
    assert ds.count(runner=runner) == 500


def test_compressed_files_are_one_partition_each(runner, tmp_path):
    lines = [f"compressed {i}" for i in range(1000)]
    data = ("\n".join(lines) + "\n").encode()
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(data))
    (tmp_path / "b.txt.bz2").write_bytes(bz2.compress(data))
    ds = mf.read_text(str(tmp_path), split_size=100)
    assert ds.num_partitions == 2
    assert ds.collect(runner=runner) == lines + lines


def test_small_compressed_files_are_not_packed_together(tmp_path):
    # issue 15: four small .gz files became one partition (packed by size on disk)
    for i in range(4):
        (tmp_path / f"part{i}.txt.gz").write_bytes(gzip.compress(f"file {i}\n".encode()))
    (tmp_path / "plain1.txt").write_text("plain 1\n")
    (tmp_path / "plain2.txt").write_text("plain 2\n")
    ds = mf.read_text(str(tmp_path))
    assert ds.num_partitions == 5  # one per .gz; the small plain files share one
    assert sorted(ds.glom().collect(runner="serial")) == [
        ["file 0"], ["file 1"], ["file 2"], ["file 3"], ["plain 1", "plain 2"]]


def test_globs_folders_and_hidden_files(text_files):
    folder = text_files({"x/a.txt": "a\n", "x/b.log": "b\n", "x/_SUCCESS": "", "x/.hidden": "h\n", "y/c.txt": "c\n"})
    assert mf.read_text(os.path.join(folder, "*", "*.txt")).collect(runner="serial") == ["a", "c"]
    assert mf.read_text(os.path.join(folder, "x")).collect(runner="serial") == ["a", "b"]
    assert mf.read_text([os.path.join(folder, "y"), os.path.join(folder, "x", "a.txt")]).collect(runner="serial") == ["c", "a"]


def test_missing_input_names_the_path(tmp_path):
    with pytest.raises(mf.InputError, match="does not exist: .*nothing-here"):
        mf.read_text(str(tmp_path / "nothing-here"))
    with pytest.raises(mf.InputError, match="matches no files"):
        mf.read_text(str(tmp_path / "*.txt"))


def test_undecodable_bytes_name_file_and_line(runner, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"good\nalso good\nbad \xff\xfe here\n")
    with pytest.raises(mf.InputError, match=r"bad.txt line 3 byte 19: undecodable"):
        mf.read_text(str(tmp_path)).collect(runner=runner)


def test_no_data_is_read_on_the_driver(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_text("x\n" * 10000)
    import builtins

    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    ds = mf.read_text(str(path), split_size=1000)
    assert ds.num_partitions == 20
    assert str(path) not in [str(p) for p in opened]
