"""Byte-range splits of JSON lines and CSV: every record read exactly once,
whatever the split size (property tests), on every runner."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mapfold as mf

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), max_size=12)
records = st.lists(st.fixed_dictionaries({"s": texts, "n": st.integers(-10**6, 10**6)}), max_size=60)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=records, split_size=st.integers(1, 300))
def test_jsonl_splits_read_each_record_once(serial, tmp_path_factory, rows, split_size):
    folder = tmp_path_factory.mktemp("j")
    (folder / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert mf.read_jsonl(str(folder), split_size=split_size).collect(runner=serial) == rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=records, split_size=st.integers(1, 300), crlf=st.booleans())
def test_csv_splits_read_each_row_once(serial, tmp_path_factory, rows, split_size, crlf):
    import csv
    import io

    folder = tmp_path_factory.mktemp("c")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["s", "n"])
    writer.writerows([[r["s"], r["n"]] for r in rows])
    (folder / "a.csv").write_bytes(buf.getvalue().encode("utf-8"))
    got = mf.read_csv(str(folder), split_size=split_size, types={"n": int}).collect(runner=serial)
    assert got == rows


def test_jsonl_splits_on_processes(runner, tmp_path):
    rows = [{"i": i, "s": "é" * (i % 5)} for i in range(3000)]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = mf.read_jsonl(str(tmp_path), split_size=2000)
    assert ds.num_partitions > 10
    assert ds.collect(runner=runner) == rows
