"""The commit protocol: modes, the _SUCCESS manifest, and failed jobs that
leave neither a target nor a temporary folder behind (local disk and
memory://, the in-process object store; S3 is in test_io_s3.py)."""
from __future__ import annotations

import json
import os

import fsspec
import pytest

import mapfold as mf


def fail_last_partition(index, iterator):
    for n, record in enumerate(iterator):
        if index == 7 and n == 2:
            raise RuntimeError("boom in the last partition")
        yield record


def leftovers(fs, parent: str) -> list[str]:
    return [p for p in fs.find(parent, withdirs=True) if "mapfold-tmp" in p]


@pytest.mark.parametrize("fmt", ["text", "jsonl", "csv", "parquet"])
def test_failed_job_leaves_nothing_local(runner, tmp_path, fmt):
    out = tmp_path / "out"
    ds = mf.from_sequence([{"i": i} for i in range(80)], partitions=8).map_partitions_with_index(fail_last_partition)
    with pytest.raises(RuntimeError, match="boom in the last partition"):
        getattr(ds, f"save_{fmt}")(str(out), runner=runner)
    assert os.listdir(tmp_path) == []  # no target, no temporary folder


def test_failed_overwrite_keeps_old_target(runner, tmp_path):
    out = str(tmp_path / "out")
    mf.from_sequence(["old"]).save_text(out, runner=runner)
    ds = mf.from_sequence([str(i) for i in range(80)], partitions=8).map_partitions_with_index(fail_last_partition)
    with pytest.raises(RuntimeError):
        ds.save_text(out, mode="overwrite", runner=runner)
    assert mf.read_text(out).collect(runner=runner) == ["old"]
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_failed_job_leaves_nothing_in_memory_store(serial, memory_root):
    fs = fsspec.filesystem("memory")
    out = f"{memory_root}/out"
    ds = mf.from_sequence([{"i": i} for i in range(80)], partitions=8).map_partitions_with_index(fail_last_partition)
    with pytest.raises(RuntimeError):
        ds.save_jsonl(out, runner=serial)
    assert not fs.exists(out[len("memory://"):])
    assert leftovers(fs, memory_root[len("memory://"):]) == []


def test_memory_store_modes_and_manifest(serial, memory_root):
    fs = fsspec.filesystem("memory")
    out = f"{memory_root}/out"
    mf.from_sequence([{"a": 1}, {"a": 2}], partitions=2).save_jsonl(out, runner=serial)
    root = out[len("memory://"):]
    manifest = json.loads(fs.cat_file(f"{root}/_SUCCESS"))
    assert manifest["records"] == 2 and len(manifest["files"]) == 2
    assert all(name.startswith("part-0000") and name.count("-") == 2 for name in manifest["files"])  # job-tagged
    with pytest.raises(mf.OutputExistsError):
        mf.from_sequence([{"a": 9}]).save_jsonl(out, runner=serial)
    mf.from_sequence([{"a": 3}]).save_jsonl(out, mode="append", runner=serial)
    assert sorted(r["a"] for r in mf.read_jsonl(out).collect(runner=serial)) == [1, 2, 3]
    mf.from_sequence([{"a": 4}]).save_jsonl(out, mode="overwrite", runner=serial)
    assert mf.read_jsonl(out).collect(runner=serial) == [{"a": 4}]
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.find(root))
    assert len(names) == 2 and "_SUCCESS" in names  # old files deleted after the new manifest
    assert leftovers(fs, memory_root[len("memory://"):]) == []


def test_readers_follow_the_manifest(serial, tmp_path):
    out = tmp_path / "out"
    mf.from_sequence(["a", "b"], partitions=2).save_text(str(out), runner=serial)
    (out / "part-99999-straggler").write_text("not published\n")  # e.g. an append still copying in
    assert mf.read_text(str(out)).collect(runner=serial) == ["a", "b"]
    (out / "_SUCCESS").write_text("")  # a plain (Hadoop/Spark) marker: no manifest, read every file
    assert mf.read_text(str(out)).collect(runner=serial) == ["a", "b", "not published"]


def test_aborted_task_removes_its_late_file(tmp_path):
    from mapfold.io.commit import AtomicOutput
    from mapfold.io.sinks import TextPartWriter

    output = AtomicOutput(str(tmp_path / "out"))
    output.begin()
    writer = TextPartWriter(output)

    def records():
        yield "a"
        output.abort()  # another task failed while this one was writing
        yield "b"

    result = writer(0, records())
    assert result.file is None
    assert os.listdir(tmp_path) == []


def test_object_store_abort_race(serial, memory_root):
    """A task finishing after abort() must not re-create the temporary prefix."""
    from mapfold.io.commit import AtomicOutput
    from mapfold.io.sinks import TextPartWriter

    fs = fsspec.filesystem("memory")
    output = AtomicOutput(f"{memory_root}/out")
    output.begin()
    writer = TextPartWriter(output)

    def records():
        yield "a"
        output.abort()
        yield "b"

    assert writer(3, records()).file is None
    assert leftovers(fs, memory_root[len("memory://"):]) == []


def test_write_to_bucket_root_refused(serial):
    with pytest.raises(ValueError, match="give a folder"):
        mf.from_sequence([1]).save_text("memory://", runner=serial)
