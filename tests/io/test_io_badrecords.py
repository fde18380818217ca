"""Bad input, in both modes: errors="raise" names the file and line;
errors="skip" skips, counts, and keeps a sample (Dataset.bad_records)."""
from __future__ import annotations

import gzip
import os

import pytest

import mapfold as mf


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def good_jsonl(n: int, start: int = 0) -> bytes:
    return b"".join(b'{"i": %d}\n' % i for i in range(start, start + n))


# -- malformed JSON -------------------------------------------------------------
def test_malformed_json_raise_names_file_and_line(runner, tmp_path):
    path = write(tmp_path, "a.jsonl", good_jsonl(2) + b'{"i": 2,\n' + good_jsonl(2, 3))
    with pytest.raises(mf.InputError) as info:
        mf.read_jsonl(path).collect(runner=runner)
    message = str(info.value)
    assert "a.jsonl line 3" in message and "malformed JSON" in message and "errors='skip'" in message
    assert info.value.line == 3 and info.value.path.endswith("a.jsonl")


def test_malformed_json_skip_counts_and_samples(runner, tmp_path):
    write(tmp_path, "a.jsonl", good_jsonl(2) + b"not json\n" + good_jsonl(2, 3) + b"{]\n")
    write(tmp_path, "b.jsonl", b'{"i": 10}\n\n   \n[1,\n')  # blank lines are not bad records
    ds = mf.read_jsonl(str(tmp_path), errors="skip", split_size=1)
    assert ds.collect(runner=runner) == [{"i": 0}, {"i": 1}, {"i": 3}, {"i": 4}, {"i": 10}]
    report = ds.bad_records
    assert report.total == 3 and report.counts == {"malformed JSON": 3}
    where = sorted((os.path.basename(r.path), r.line) for r in report.sample)
    assert where == [("a.jsonl", 3), ("a.jsonl", 6), ("b.jsonl", 4)]
    assert {r.text for r in report.sample} == {"not json", "{]", "[1,"}
    assert "3 bad records skipped" in str(report)
    assert ds.counters["bad records"] == {"malformed JSON": 3}


def test_line_numbers_are_absolute_in_later_splits(runner, tmp_path):
    data = good_jsonl(5000) + b"{broken\n" + good_jsonl(10)
    path = write(tmp_path, "big.jsonl", data)
    ds = mf.read_jsonl(path, split_size=4096)
    assert ds.num_partitions > 5
    with pytest.raises(mf.InputError, match=r"big.jsonl line 5001 byte %d" % len(good_jsonl(5000))):
        ds.collect(runner=runner)
    skipping = mf.read_jsonl(path, split_size=4096, errors="skip")
    assert skipping.count(runner=runner) == 5010
    (record,) = skipping.bad_records.sample
    assert (record.line, record.offset) == (5001, len(good_jsonl(5000)))


def test_sample_is_bounded(serial, tmp_path):
    write(tmp_path, "a.jsonl", b"x\n" * 500)
    ds = mf.read_jsonl(str(tmp_path), errors="skip")
    assert ds.count(runner=serial) == 0
    assert ds.bad_records.total == 500 and len(ds.bad_records.sample) == 20


# -- CSV ----------------------------------------------------------------------
def test_csv_wrong_field_count(runner, tmp_path):
    path = write(tmp_path, "a.csv", b"k,v\na,1\nb,2,extra\nc\nd,4\n")
    with pytest.raises(mf.InputError, match=r"a.csv line 3.*wrong field count.*expected 2 fields, got 3"):
        mf.read_csv(path).collect(runner=runner)
    ds = mf.read_csv(path, errors="skip")
    assert ds.collect(runner=runner) == [{"k": "a", "v": 1}, {"k": "d", "v": 4}]
    assert ds.bad_records.counts == {"wrong field count": 2}
    assert [(r.line, r.text) for r in ds.bad_records.sample] == [(3, "b,2,extra"), (4, "c")]


def test_csv_bad_value(runner, tmp_path):
    path = write(tmp_path, "a.csv", b"k,v\na,1\nb,2\nc,three\n")
    assert mf.read_csv(path).collect(runner=runner)[-1] == {"k": "c", "v": "three"}  # inferred: str
    with pytest.raises(mf.InputError, match=r"a.csv line 4.*column 'v': 'three' is not int"):
        mf.read_csv(path, types={"v": int}).collect(runner=runner)
    ds = mf.read_csv(path, types={"v": "int"}, errors="skip")
    assert ds.count(runner=runner) == 2 and ds.bad_records.counts == {"bad value": 1}
    assert mf.read_csv(path, types=None).collect(runner=runner)[-1] == {"k": "c", "v": "three"}
    assert mf.read_csv(path, types={"v": str}).count(runner=runner) == 3


def test_csv_quoted_newlines_need_split_false(runner, tmp_path):
    rows = b"".join(b'%d,"line one\nline two",x\n' % i for i in range(400))
    path = write(tmp_path, "q.csv", b"id,text,tag\n" + rows)
    whole = mf.read_csv(path, split=False).collect(runner=runner)
    assert len(whole) == 400 and whole[7] == {"id": 7, "text": "line one\nline two", "tag": "x"}
    with pytest.raises(mf.InputError, match="split=False"):
        mf.read_csv(path, split_size=1024, errors="skip").collect(runner=runner)


def test_csv_quoted_newlines_in_one_small_file_are_fine(serial, tmp_path):
    path = write(tmp_path, "q.csv", b'a,b\n1,"x\ny"\n')
    assert mf.read_csv(path).collect(runner=serial) == [{"a": 1, "b": "x\ny"}]


def test_csv_header_mismatch_between_files(serial, tmp_path):
    write(tmp_path, "a.csv", b"k,v\na,1\n")
    write(tmp_path, "b.csv", b"k,v,w\nb,2,3\n")
    with pytest.raises(mf.InputError, match=r"b.csv: header \['k', 'v', 'w'\] differs from the first file's"):
        mf.read_csv(str(tmp_path)).collect(runner=serial)
    write(tmp_path, "b.csv", b"k,value\nb,2\n")  # same width, other names
    with pytest.raises(mf.InputError, match="b.csv: header"):
        mf.read_csv(str(tmp_path)).collect(runner=serial)


# -- undecodable bytes ---------------------------------------------------------
@pytest.mark.parametrize("reader", ["text", "jsonl", "csv"])
def test_undecodable_bytes(runner, tmp_path, reader):
    lines = {"text": [b"alpha", b"be\xfft", b"gamma"],
             "jsonl": [b'{"w": "alpha"}', b'{"w": "be\xff"}', b'{"w": "gamma"}'],
             "csv": [b"w", b"alpha", b"be\xff", b"gamma"]}[reader]
    path = write(tmp_path, f"u.{reader}", b"\n".join(lines) + b"\n")
    read = getattr(mf, f"read_{reader}")
    bad_line = 2 if reader != "csv" else 3
    with pytest.raises(mf.InputError, match=rf"u.{reader} line {bad_line}.*undecodable bytes"):
        read(path).collect(runner=runner)
    ds = read(path, errors="skip")
    got = ds.collect(runner=runner)
    assert len(got) == 2 and "gamma" in str(got[-1])
    assert ds.bad_records.counts == {"undecodable bytes": 1}
    assert ds.bad_records.sample[0].line == bad_line


def test_undecodable_line_keeps_later_line_numbers(serial, tmp_path):
    path = write(tmp_path, "u.jsonl", b'{"a": 1}\n\xff\n{"a": 2}\nbad\n')
    ds = mf.read_jsonl(path, errors="skip")
    assert ds.collect(runner=serial) == [{"a": 1}, {"a": 2}]
    assert [(r.kind, r.line) for r in ds.bad_records.sample] == [("undecodable bytes", 2), ("malformed JSON", 4)]


# -- truncated compressed files -------------------------------------------------
@pytest.mark.parametrize("reader", ["text", "jsonl"])
def test_truncated_gzip(runner, tmp_path, reader):
    data = gzip.compress(good_jsonl(20000))
    write(tmp_path, f"t.{reader}.gz", data[: len(data) // 2])
    write(tmp_path, f"z.{reader}.gz", gzip.compress(good_jsonl(3)))
    read = getattr(mf, f"read_{reader}")
    with pytest.raises(mf.InputError, match=rf"t.{reader}.gz line \d+ byte \d+: truncated or corrupt file"):
        read(str(tmp_path)).collect(runner=runner)
    ds = read(str(tmp_path), errors="skip")
    got = ds.collect(runner=runner)
    assert 3 < len(got) < 20003  # lines before the break were read, the other file whole
    assert ds.bad_records.counts == {"truncated or corrupt file": 1}
    (record,) = ds.bad_records.sample
    assert record.path.endswith(f"t.{reader}.gz") and record.line == len(got) - 3 + 1


def test_corrupt_gzip_header(serial, tmp_path):
    path = write(tmp_path, "c.txt.gz", b"this is not gzip at all\n")
    with pytest.raises(mf.InputError, match="c.txt.gz line 1 byte 0: truncated or corrupt"):
        mf.read_text(path).collect(runner=serial)
    assert mf.read_text(path, errors="skip").collect(runner=serial) == []


def test_errors_argument_checked(tmp_path):
    write(tmp_path, "a.txt", b"x\n")
    with pytest.raises(ValueError, match="'raise', 'skip'"):
        mf.read_text(str(tmp_path), errors="ignore")


def test_user_errors_still_name_file_and_line(serial, tmp_path):
    path = write(tmp_path, "a.jsonl", good_jsonl(5))

    def boom(record):
        if record["i"] == 3:
            raise KeyError("boom")
        return record

    with pytest.raises(KeyError) as info:
        mf.read_jsonl(path).map(boom).collect(runner=serial)
    assert "a.jsonl line 4" in "".join(info.value.__notes__)


# -- where the report is read (issue 15: docs/io.md printed "no bad records" on the
# Dataset that read the input, after an action on one derived from it) -------------
def test_bad_records_reach_the_dataset_upstream_of_the_action(runner, tmp_path):
    write(tmp_path, "a.jsonl", b'{"user": "a", "bytes": 1}\n{oops\n{"user": "b", "bytes": 2}\nnope\n')
    events = mf.read_jsonl(str(tmp_path), errors="skip")
    totals = events.map(lambda e: (e["user"], e["bytes"])).reduce_by_key(lambda a, b: a + b)
    assert sorted(totals.map(lambda kv: kv).collect(runner=runner)) == [("a", 1), ("b", 2)]
    assert events.bad_records.total == 2 and totals.bad_records.total == 2
    assert "2 bad records skipped" in str(events.bad_records)
    assert events.counters["bad records"] == {"malformed JSON": 2}


def test_a_persisted_dataset_keeps_the_run_that_read_it(serial, tmp_path):
    write(tmp_path, "a.jsonl", b'{"i": 1}\n{oops\n')
    events = mf.read_jsonl(str(tmp_path), errors="skip").persist()
    try:
        assert events.count(runner=serial) == 1  # reads the file: one bad record
        assert events.map(str).collect(runner=serial) == ["{'i': 1}"]  # from the cache: reads nothing
        assert events.bad_records.total == 1
    finally:
        events.unpersist()


def test_a_closure_over_a_dataset_that_ran_still_pickles(processes, tmp_path):
    write(tmp_path, "a.jsonl", b'{"i": 1}\n')
    events = mf.read_jsonl(str(tmp_path))
    assert events.count(runner=processes) == 1  # its plan now remembers a run (which holds a runner)
    sizes = mf.from_sequence([1, 2]).map(lambda x: x + events.num_partitions)
    assert sizes.collect(runner=processes) == [2, 3]
