"""read_key_value: the Arrow-parsed blocks give exactly the Python reader's pairs."""
from __future__ import annotations

import operator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mapfold as mf
from mapfold.io import keyvalue
from mapfold.io.keyvalue import KeyValuePartition, KeyValueSource
from mapfold.io.paths import expand_paths
from mapfold.io.text import plan_segments

text_piece = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=12)
int_text = st.one_of(
    st.integers(min_value=-(1 << 70), max_value=1 << 70).map(str),  # past int64 too
    st.sampled_from(["", "x", "1.5", " 7", "+3", "007", "1_000", "٣", "-0", "nan"]),
)
line = st.one_of(
    st.tuples(text_piece, int_text).map(lambda kv: f"{kv[0]}\t{kv[1]}"),
    text_piece,  # no separator (or a separator inside the text)
    st.tuples(text_piece, text_piece, text_piece).map("\t".join),  # two separators
    st.just(""),
)


def reference_pairs(data: bytes, value, skip_bad: bool = True) -> list:
    """What the format means (io/keyvalue.py), in plain Python."""
    text = data.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for raw in lines:
        raw = raw[:-1] if raw.endswith("\r") else raw
        if not raw:
            continue
        key, _, rest = raw.partition("\t")
        try:
            out.append((key, value(rest)))
        except ValueError:
            if not skip_bad:
                raise
    return out


def read_all(path: str, split_size: int, value, errors: str = "skip", columns: bool = False) -> list:
    _, files = expand_paths(path)
    source = KeyValueSource(path, value=value, errors=errors, split_size=split_size)
    got = []
    for segments in plan_segments(files, split_size):
        partition = KeyValuePartition(None, segments, errors=errors, options=source.options)
        if columns:
            for keys, values in partition.key_value_columns():
                keys = keys if isinstance(keys, list) else keys.to_pylist()
                values = values if isinstance(values, list) else values.to_pylist()
                got.extend(zip(keys, values))
        else:
            got.extend(partition.read())
    return got


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line, max_size=40), crlf=st.booleans(), split_size=st.integers(min_value=1, max_value=400),
       value=st.sampled_from([int, str, float]), columns=st.booleans())
def test_same_pairs_as_the_python_reference(tmp_path_factory, lines, crlf, split_size, value, columns):
    end = "\r\n" if crlf else "\n"
    data = (end.join(lines) + end).encode("utf-8") if lines else b""
    path = tmp_path_factory.mktemp("kv") / "data.tsv"
    path.write_bytes(data)
    got = read_all(str(path), split_size, value, columns=columns)
    want = reference_pairs(data, value)
    assert all(type(v) is value for _, v in got)
    if value is float:  # nan != nan: compare their text
        got, want = ([(k, repr(v)) for k, v in pairs] for pairs in (got, want))
    assert got == want


def test_arrow_reads_the_common_blocks_and_python_the_odd_ones(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("a\t1\nb\t2\n")
    (partition,) = KeyValueSource(str(path), value=int).partitions()
    (segment,) = partition.segments
    blocks = [partition._arrow_columns(block) for _, block, _ in partition.raw_blocks(segment)]
    assert [tuple(c.to_pylist() for c in columns) for columns in blocks] == [(["a", "b"], [1, 2])]
    assert partition._arrow_columns(b"a\t1\n\nb\t2\n") is None  # blank line: the Python reader skips it
    assert partition._arrow_columns(b"a\t99999999999999999999\n") is None  # past int64
    assert partition._arrow_columns(b"a\rb\t1\n") is None  # a lone \r is not a line end here


def test_bad_value_names_file_and_line(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("a\t1\nb\t2\nc\tthree\nd\t4\n")
    with pytest.raises(mf.InputError) as info:
        mf.read_key_value(str(path), value=int).collect(runner="serial")
    assert "data.tsv" in str(info.value) and "line 3" in str(info.value) and "three" in str(info.value)
    ds = mf.read_key_value(str(path), value=int, errors="skip")
    assert ds.collect(runner="serial") == [("a", 1), ("b", 2), ("d", 4)]
    assert ds.bad_records.total == 1


def test_no_separator_means_empty_value_as_in_hadoop(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("lonely\nk\tv\tw\n")
    assert mf.read_key_value(str(path)).collect(runner="serial") == [("lonely", ""), ("k", "v\tw")]


def test_without_arrow_the_python_reader_gives_the_same(tmp_path, monkeypatch):
    path = tmp_path / "data.tsv"
    path.write_text("".join(f"k{i % 7}\t{i}\n" for i in range(1000)))
    with_arrow = mf.read_key_value(str(path), value=int).reduce_by_key(operator.add).collect(runner="serial")
    monkeypatch.setattr(keyvalue, "_arrow", lambda: None)
    without = mf.read_key_value(str(path), value=int).reduce_by_key(operator.add).collect(runner="serial")
    assert sorted(with_arrow) == sorted(without)


def test_other_separators_and_converters(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,1\nb,2\na::3\n")
    assert mf.read_key_value(str(path), sep=",").collect(runner="serial") == [("a", "1"), ("b", "2"), ("a::3", "")]
    assert mf.read_key_value(str(path), sep="::").collect(runner="serial")[-1] == ("a", "3")
    assert mf.read_key_value(str(path), sep=",", value=lambda v: v * 2).take(1, runner="serial") == [("a", "11")]
    with pytest.raises(ValueError, match="sep"):
        mf.read_key_value(str(path), sep="")
