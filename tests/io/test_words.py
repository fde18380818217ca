"""The word path: read_text(...).flat_map(str.split) reads words by block;
it must give exactly what splitting line by line gives."""
from __future__ import annotations

import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mapfold as mf
from mapfold.io import lines as line_module

text_lines = st.lists(st.text(alphabet=st.sampled_from(list("ab ü\t\x1c\u2028\u00a0\r")), max_size=30), max_size=40)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=text_lines, split_size=st.integers(min_value=1, max_value=200), block=st.integers(min_value=1, max_value=64))
def test_words_equal_line_by_line_split(tmp_path_factory, monkeypatch, lines, split_size, block):
    folder = tmp_path_factory.mktemp("words")
    (folder / "t.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(line_module, "WORD_BLOCK", block)
    import mapfold.io.text as text_module

    monkeypatch.setattr(text_module, "WORD_BLOCK", block)
    ds = mf.read_text(str(folder), split_size=split_size)
    by_line = [w for line in ds.collect(runner="serial") for w in line.split()]
    assert ds.flat_map(str.split).collect(runner="serial") == by_line


def test_words_on_runners_and_compressed(runner, tmp_path):
    text = "".join(f"w{i % 13} x{i % 7}\r\n" for i in range(3000))
    (tmp_path / "a.txt").write_text(text)
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(text.encode()))
    ds = mf.read_text(str(tmp_path), split_size=5000)
    assert ds.flat_map(str.split).count_by_value(runner=runner) == ds.flat_map(lambda s: s.split()).count_by_value(runner=runner)


def test_word_path_errors_say_near_which_line(runner, tmp_path):
    (tmp_path / "a.txt").write_text("ok ok\n" * 50 + "poison\n" + "ok\n" * 5)

    def check(word):
        if word == "poison":
            raise ValueError("bad word")
        return word

    with pytest.raises(ValueError) as info:
        mf.read_text(str(tmp_path)).flat_map(str.split).map(check).collect(runner=runner)
    assert "a.txt near line" in "\n".join(info.value.__notes__)


def test_undecodable_block_falls_back_to_lines(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"one two\nbad \xff\nthree\n")
    ds = mf.read_text(str(tmp_path), errors="skip")
    assert ds.flat_map(str.split).collect(runner="serial") == ["one", "two", "three"]
    with pytest.raises(mf.InputError, match="a.txt line 2"):
        mf.read_text(str(tmp_path)).flat_map(str.split).collect(runner="serial")
