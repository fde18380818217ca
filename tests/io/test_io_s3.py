"""Object storage for real: an S3-compatible server (moto) on 127.0.0.1.

Reading, writing with the manifest publish, failed jobs, the storage API
(put with metadata, list, filter, select a job's inputs), and credential
hygiene: the key and secret never appear in an error, a log line, explain()
or a repr.
"""
from __future__ import annotations

import json
import logging
import os
import time

import pytest

import mapfold as mf



def s3fs_of(options):
    import s3fs

    return s3fs.S3FileSystem(**options)


def test_write_then_read_every_format(runner, bucket, s3_options):
    records = [{"w": w, "n": i} for i, w in enumerate(["é", "日本", "z", "🎉", "q"])]
    ds = mf.from_sequence(records, partitions=3)
    for fmt, compression in [("jsonl", "gzip"), ("csv", "zstd"), ("parquet", "snappy"), ("text", None)]:
        url = f"s3://{bucket}/out-{fmt}"
        save = getattr(ds if fmt != "text" else ds.map(json.dumps), f"save_{fmt}")
        save(url, compression=compression, runner=runner, storage_options=s3_options)
        read = getattr(mf, f"read_{fmt}")
        got = read(url, storage_options=s3_options).collect(runner=runner)
        assert (got if fmt != "text" else [json.loads(x) for x in got]) == records, fmt


def test_publish_layout_and_modes(runner, bucket, s3_options):
    fs = s3fs_of(s3_options)
    url = f"s3://{bucket}/counts"
    mf.from_sequence(["a", "b", "c"], partitions=3).save_text(url, runner=runner, storage_options=s3_options)
    keys = sorted(p.rsplit("/", 1)[-1] for p in fs.find(bucket))
    assert keys[0] == "_SUCCESS" and len(keys) == 4
    assert not [k for k in fs.find(bucket) if "mapfold-tmp" in k]  # the temporary prefix is gone
    manifest = json.loads(fs.cat_file(f"{bucket}/counts/_SUCCESS"))
    assert manifest["records"] == 3 and sorted(manifest["files"]) == keys[1:]
    with pytest.raises(mf.OutputExistsError):
        mf.from_sequence(["x"]).save_text(url, runner=runner, storage_options=s3_options)
    mf.from_sequence(["d"]).save_text(url, mode="append", runner=runner, storage_options=s3_options)
    assert sorted(mf.read_text(url, storage_options=s3_options).collect(runner=runner)) == ["a", "b", "c", "d"]
    mf.from_sequence(["new"]).save_text(url, mode="overwrite", runner=runner, storage_options=s3_options)
    fs.invalidate_cache()
    assert mf.read_text(url, storage_options=s3_options).collect(runner=runner) == ["new"]
    assert len(fs.find(f"{bucket}/counts")) == 2  # one part + _SUCCESS: replaced files deleted


def fail_last_partition(index, iterator):
    for n, record in enumerate(iterator):
        if index == 5 and n == 1:
            raise RuntimeError("boom in the last partition")
        yield record


def test_failed_job_leaves_nothing(runner, bucket, s3_options):
    fs = s3fs_of(s3_options)
    ds = mf.from_sequence([{"i": i} for i in range(60)], partitions=6).map_partitions_with_index(fail_last_partition)
    with pytest.raises(RuntimeError, match="boom"):
        ds.save_jsonl(f"s3://{bucket}/out", runner=runner, storage_options=s3_options)
    fs.invalidate_cache()
    assert fs.find(bucket) == []  # no target, no temporary prefix


def _failing_then_writing(marker: str, wait_for: str):
    def task(index, iterator):
        records = list(iterator)
        if index == 0:
            raise RuntimeError("first partition fails")
        yield from records
        if index == 1:  # still writing when partition 0 has failed
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not os.path.exists(wait_for):
                time.sleep(0.05)
            open(marker, "w").close()
    return task


def test_task_still_writing_when_a_save_fails_is_stopped_with_it(processes, bucket, s3_options, tmp_path):
    """Partition 0 fails at once while partition 1 is still writing: the
    processes runner stops the job's other tasks with it, so nothing writes
    after the save's abort and nothing of it survives."""
    fs = s3fs_of(s3_options)
    go, finished = str(tmp_path / "go"), str(tmp_path / "finished")
    ds = mf.from_sequence(range(20), partitions=2).map_partitions_with_index(
        _failing_then_writing(finished, go))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="first partition fails"):
        ds.save_text(f"s3://{bucket}/out", runner=processes, storage_options=s3_options)
    assert time.monotonic() - start < 30  # (partition 1 would wait a minute for the go-ahead)
    open(go, "w").close()
    time.sleep(1.0)  # a straggler would see the go-ahead by now and finish its object
    fs.invalidate_cache()
    assert fs.find(bucket) == [] and not os.path.exists(finished)
    assert mf.from_sequence(range(5), partitions=2).count(runner=processes) == 5  # on a new pool


def test_storage_put_list_filter_and_select_inputs(runner, bucket, s3_options, tmp_path):
    for day, source in [("01", "sensor"), ("02", "manual"), ("03", "sensor")]:
        (tmp_path / f"day{day}.csv").write_text(f"day,value\n{day},{int(day) * 10}\n")
    store = mf.storage.Store(f"s3://{bucket}/raw", storage_options=s3_options)
    for day, source in [("01", "sensor"), ("02", "manual"), ("03", "sensor")]:
        (stored,) = store.put(tmp_path / f"day{day}.csv", metadata={"Source": source, "day": day})
        assert stored.url == f"s3://{bucket}/raw/day{day}.csv" and stored.metadata["source"] == source
    # metadata lives on the S3 objects themselves
    assert s3fs_of(s3_options).metadata(f"{bucket}/raw/day02.csv") == {"source": "manual", "day": "02"}
    sensor = store.list(metadata={"source": "sensor"})
    assert [o.key for o in sensor] == ["day01.csv", "day03.csv"]
    assert [o.key for o in store.list(prefix="day0", where=lambda m: int(m["day"]) >= 2)] == ["day02.csv", "day03.csv"]
    assert store.list(prefix="nothing-here/") == []
    total = mf.read_csv(store.urls(metadata={"source": "sensor"}), storage_options=s3_options) \
        .map(lambda r: r["value"]).sum(runner=runner)
    assert total == 40
    assert store.tag("day02.csv", {"checked": "yes"}) == {"source": "manual", "day": "02", "checked": "yes"}
    assert [o.key for o in store.list(metadata={"checked": "yes"})] == ["day02.csv"]


def test_storage_put_folder_and_dataset(serial, bucket, s3_options, tmp_path):
    store = mf.storage.Store(f"s3://{bucket}", storage_options=s3_options)
    local = tmp_path / "local-out"
    mf.from_sequence(["a", "b"], partitions=2).save_text(str(local), runner=serial)
    stored = store.put(local, key="copied", metadata={"kind": "words"})
    assert "copied/_SUCCESS" in {o.key for o in stored} and len(stored) == 3
    assert mf.read_text(f"s3://{bucket}/copied", storage_options=s3_options).collect(runner=serial) == ["a", "b"]
    objects = store.put_dataset(mf.from_sequence([{"x": 1}, {"x": 2}], partitions=2), "tagged", format="jsonl",
                                metadata={"kind": "numbers"}, runner=serial)
    assert len(objects) == 2 and all(o.metadata == {"kind": "numbers"} for o in objects)
    urls = store.urls(metadata={"kind": "numbers"})
    assert mf.read_jsonl(urls, storage_options=s3_options).collect(runner=serial) == [{"x": 1}, {"x": 2}]


def _all_text(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(exc))


def test_credentials_never_shown(serial, processes, bucket, s3_options, caplog, tmp_path):
    ACCESS_KEY, SECRET_KEY = s3_options["key"], s3_options["secret"]
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    # ordinary work, with the AWS clients logging every request at DEBUG
    mf.from_sequence([{"a": 1}], partitions=1).save_jsonl(f"s3://{bucket}/in", runner=serial,
                                                         storage_options=s3_options)
    ds = mf.read_jsonl(f"s3://{bucket}/in", storage_options=s3_options)
    assert ds.collect(runner=processes) == [{"a": 1}]
    shown += [ds.explain_string(), repr(ds), str(ds.node.input_partitions[0].describe())]
    store = mf.storage.Store(f"s3://{bucket}/store", storage_options=s3_options)
    store.put(__file__, metadata={"k": "v"})
    shown += [repr(store), repr(store.list()), repr(s3fs_of(s3_options))]
    # errors: missing input, existing output, wrong secret, a bad endpoint option, a failing task
    attempts = [
        lambda: mf.read_text(f"s3://{bucket}/missing", storage_options=s3_options),
        lambda: mf.from_sequence([1]).save_text(f"s3://{bucket}/in", runner=serial, storage_options=s3_options),
        lambda: mf.read_text(f"s3://{bucket}-nope/in", storage_options=s3_options),
        lambda: mf.from_sequence([1]).save_text(f"s3://{bucket}-nope/out", runner=serial, storage_options=s3_options),
        lambda: mf.read_text(f"s3://{bucket}/in", storage_options={**s3_options, "bogus_option": ACCESS_KEY}),
        lambda: mf.read_jsonl(f"s3://{bucket}/in", storage_options=s3_options).map(lambda r: r["missing"])
        .collect(runner=processes),
        lambda: mf.storage.Store(f"s3://{bucket}/x", storage_options=s3_options).metadata("missing.txt"),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as info:
            attempt()
        shown.append(_all_text(info.value))
    shown += [record.getMessage() for record in caplog.records] + [caplog.text]
    assert any("Sending http request" in line for line in shown)  # the debug logs were really captured
    for text in shown:
        assert ACCESS_KEY not in text
        assert SECRET_KEY not in text


def test_parquet_filters_prune_on_s3(serial, bucket, s3_options):
    url = f"s3://{bucket}/pq"
    mf.from_sequence([{"k": i, "v": i * 2} for i in range(1000)], partitions=1) \
        .save_parquet(url, row_group_size=100, runner=serial, storage_options=s3_options)
    ds = mf.read_parquet(url, columns=["v"], filters=[("k", ">=", 950)], storage_options=s3_options)
    assert ds.num_partitions == 1
    assert ds.collect(runner=serial) == [{"v": i * 2} for i in range(950, 1000)]
