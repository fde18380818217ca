"""Every format x compression, written and read back, on every runner.

The data has unicode (accents, CJK, emoji, a tab) and empty partitions
(more partitions than records, and a filter that empties some).
"""
from __future__ import annotations

import os

import pytest

import mapfold as mf

WORDS = ["héllo", "日本語", "emoji 🎉", "tab\tinside", "plain", "ünïcödé", "x" * 300, "quote \" and , comma"]
RECORDS = [{"word": w, "n": i, "score": i / 4} for i, w in enumerate(WORDS)]

TEXT_COMPRESSIONS = [None, "gzip", "bz2", "zstd", "xz"]
PARQUET_COMPRESSIONS = [None, "snappy", "zstd", "gzip"]


def dataset(records):
    # 11 partitions for 8 records: 3 are empty; the filter empties one more
    return mf.from_sequence(records, partitions=11).filter(lambda r: (r["n"] if isinstance(r, dict) else 1) != 3)


def expected(records):
    return [r for r in records if (r["n"] if isinstance(r, dict) else 1) != 3]


def files_in(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("compression", TEXT_COMPRESSIONS)
def test_text_roundtrip(runner, tmp_path, compression):
    out = str(tmp_path / "out")
    lines = [w.replace("\t", " ") for w in WORDS]  # lines: no newlines inside
    mf.from_sequence(lines, partitions=11).save_text(out, compression=compression, runner=runner)
    assert "_SUCCESS" in files_in(out)
    assert len([f for f in files_in(out) if f.startswith("part-")]) == 11
    assert mf.read_text(out).collect(runner=runner) == lines


@pytest.mark.parametrize("compression", TEXT_COMPRESSIONS)
def test_jsonl_roundtrip(runner, tmp_path, compression):
    out = str(tmp_path / "out")
    dataset(RECORDS).save_jsonl(out, compression=compression, runner=runner)
    suffix = ".jsonl" + {None: "", "gzip": ".gz", "bz2": ".bz2", "zstd": ".zst", "xz": ".xz"}[compression]
    assert all(f.endswith(suffix) for f in files_in(out) if f.startswith("part-"))
    assert mf.read_jsonl(out).collect(runner=runner) == expected(RECORDS)


@pytest.mark.parametrize("compression", TEXT_COMPRESSIONS)
def test_csv_roundtrip(runner, tmp_path, compression):
    out = str(tmp_path / "out")
    dataset(RECORDS).save_csv(out, columns=["word", "n", "score"], compression=compression, runner=runner)
    got = mf.read_csv(out).collect(runner=runner)
    assert got == expected(RECORDS)
    assert [type(r["n"]) for r in got] == [int] * len(got)  # types inferred back


@pytest.mark.parametrize("compression", PARQUET_COMPRESSIONS)
def test_parquet_roundtrip(runner, tmp_path, compression):
    out = str(tmp_path / "out")
    dataset(RECORDS).save_parquet(out, compression=compression, runner=runner)
    assert mf.read_parquet(out).collect(runner=runner) == expected(RECORDS)


def test_parquet_schema_given_writes_empty_partitions(serial, tmp_path):
    import pyarrow as pa

    schema = pa.schema([("word", pa.string()), ("n", pa.int32()), ("score", pa.float64())])
    out = str(tmp_path / "out")
    dataset(RECORDS).save_parquet(out, schema=schema, runner=serial)
    parts = [f for f in files_in(out) if f.startswith("part-")]
    assert len(parts) == 11  # empty partitions too, since the schema is known
    assert mf.read_parquet(out).collect(runner=serial) == expected(RECORDS)
    import pyarrow.parquet as pq

    assert pq.read_schema(os.path.join(out, parts[0])).field("n").type == pa.int32()


def test_parquet_inferred_schema_skips_empty_partitions(serial, tmp_path):
    out = str(tmp_path / "out")
    dataset(RECORDS).save_parquet(out, runner=serial)
    assert len([f for f in files_in(out) if f.startswith("part-")]) == len(expected(RECORDS))


def test_csv_sequences_without_header(runner, tmp_path):
    out = str(tmp_path / "out")
    rows = [[w, i] for i, w in enumerate(WORDS)]
    mf.from_sequence(rows, partitions=3).save_csv(out, header=False, runner=runner)
    got = mf.read_csv(out, header=False).collect(runner=runner)
    assert got == rows


def test_csv_empty_partition_has_header_when_columns_given(serial, tmp_path):
    out = str(tmp_path / "out")
    mf.from_sequence([], partitions=2).save_csv(out, columns=["a", "b"], runner=serial)
    for name in files_in(out):
        if name.startswith("part-"):
            assert open(os.path.join(out, name)).read() == "a,b\n"
    assert mf.read_csv(out).collect(runner=serial) == []


def test_jsonl_nested_values_and_nonstring_keys(serial, tmp_path):
    out = str(tmp_path / "out")
    records = [{"a": [1, {"b": None}], "c": True}, {1: "int key"}]
    mf.from_sequence(records).save_jsonl(out, runner=serial)
    assert mf.read_jsonl(out).collect(runner=serial) == [records[0], {"1": "int key"}]


@pytest.mark.parametrize("suffix,compression", [(".zst", "zstd"), (".xz", "xz"), (".gz", "gzip"), (".bz2", "bz2")])
def test_read_text_compressed_files(runner, tmp_path, suffix, compression):
    from mapfold.io.sinks import open_for_write
    import fsspec

    fs = fsspec.filesystem("file")
    lines = [f"line {i} é" for i in range(2000)]
    for k in range(2):
        with open_for_write(fs, str(tmp_path / f"f{k}.txt{suffix}"), compression) as f:
            f.write(("\n".join(lines) + "\n").encode())
    ds = mf.read_text(str(tmp_path), split_size=100)
    assert ds.num_partitions == 2  # compressed files: one partition each, never split
    assert ds.collect(runner=runner) == lines + lines


def test_mode_error_overwrite_append(serial, tmp_path):
    out = str(tmp_path / "out")
    mf.from_sequence([{"a": 1}]).save_jsonl(out, runner=serial)
    with pytest.raises(mf.OutputExistsError):
        mf.from_sequence([{"a": 2}]).save_jsonl(out, runner=serial)
    mf.from_sequence([{"a": 2}]).save_jsonl(out, mode="overwrite", runner=serial)
    assert mf.read_jsonl(out).collect(runner=serial) == [{"a": 2}]
    mf.from_sequence([{"a": 3}, {"a": 4}], partitions=2).save_jsonl(out, mode="append", runner=serial)
    assert sorted(r["a"] for r in mf.read_jsonl(out).collect(runner=serial)) == [2, 3, 4]
    import json

    manifest = json.load(open(os.path.join(out, "_SUCCESS")))
    assert manifest["records"] == 3 and len(manifest["files"]) == 3
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".")]  # no temporary folders left


def test_append_creates_missing_target(serial, tmp_path):
    out = str(tmp_path / "new")
    mf.from_sequence(["a"]).save_text(out, mode="append", runner=serial)
    assert mf.read_text(out).collect(runner=serial) == ["a"]


def test_bad_mode_lists_choices(tmp_path):
    with pytest.raises(ValueError, match="'error', 'overwrite', 'append'"):
        mf.from_sequence([1]).save_text(str(tmp_path / "x"), mode="replace")


def test_bad_compression_lists_choices(serial, tmp_path):
    with pytest.raises(ValueError, match="gzip"):
        mf.from_sequence([1]).save_text(str(tmp_path / "x"), compression="lz77", runner=serial)
    assert not os.path.exists(tmp_path / "x")
