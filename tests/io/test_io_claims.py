"""The claim on an output target: exclusive while a job writes, checked at
commit, broken when its job is dead; publishing that never replaces another
job's output nor leaves an overwritten target absent; `mapfold clean`.
(Real racing driver processes and SIGKILLs are in tests/drills.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import fsspec
import pytest

import mapfold as mf
from mapfold.io import claims
from mapfold.io.commit import AtomicOutput


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def fake_claim(folder, name: str, **fields) -> claims.Claim:
    claim = claims.Claim(**{"job": "deadbeef0000", "host": claims.socket.gethostname(), "pid": dead_pid(),
                            "started": time.time(), "mode": "error", "target": name, **fields})
    with open(os.path.join(folder, f".{name}.mapfold-claim"), "wb") as f:
        f.write(claim.to_json())
    return claim


def test_claim_is_held_while_the_job_runs_and_released_after(serial, tmp_path):
    out = str(tmp_path / "out")
    seen = []

    def look(x):
        with open(tmp_path / ".out.mapfold-claim", "rb") as f:
            seen.append(claims.Claim.from_json(f.read()))
        return x

    mf.from_sequence([1, 2]).map(look).save_text(out, runner=serial)
    assert seen and all(c.pid == os.getpid() and c.host == claims.socket.gethostname() for c in seen)
    assert {"job", "host", "pid", "started"} <= set(json.loads(seen[0].to_json()))
    assert sorted(os.listdir(tmp_path)) == ["out"]  # claim released, no staging folder


@pytest.mark.parametrize("mode", ["error", "overwrite", "append"])
def test_a_live_claim_refuses_a_second_writer(serial, tmp_path, mode):
    out = str(tmp_path / "out")
    mf.from_sequence(["old"]).save_text(out, runner=serial)
    holder = AtomicOutput(out, mode="overwrite")
    holder.begin()  # this process is alive: the claim is live
    with pytest.raises(mf.OutputBusyError, match=f"is being written by job {holder.job}.*pid {os.getpid()}") as info:
        mf.from_sequence(["new"]).save_text(out, mode=mode, runner=serial)
    assert isinstance(info.value, mf.OutputExistsError) and info.value.holder.job == holder.job
    holder.abort()
    assert mf.read_text(out).collect(runner=serial) == ["old"]
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_dead_jobs_claim_and_staging_are_removed_by_the_next_run(serial, tmp_path):
    out = str(tmp_path / "out")
    dead = fake_claim(tmp_path, "out")
    staging = tmp_path / f".out.mapfold-tmp-{dead.job}"
    staging.mkdir()
    (staging / "part-00000").write_text("half\n")
    mf.from_sequence(["a"]).save_text(out, runner=serial)
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert mf.read_text(out).collect(runner=serial) == ["a"]


def test_a_claim_from_another_host_is_stale_only_past_the_age(serial, tmp_path, monkeypatch):
    out = str(tmp_path / "out")
    fake_claim(tmp_path, "out", host="elsewhere", pid=1, started=time.time() - 600)
    with pytest.raises(mf.OutputBusyError, match="host elsewhere"):
        mf.from_sequence(["a"]).save_text(out, runner=serial)
    monkeypatch.setenv("MAPFOLD_STALE_AFTER", "5m")
    mf.from_sequence(["a"]).save_text(out, runner=serial)
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_commit_refuses_when_the_claim_was_taken_over(serial, tmp_path):
    out = str(tmp_path / "out")
    output = AtomicOutput(out)
    output.begin()
    intruder = claims.Claim("0000intruder", "elsewhere", 1, time.time())
    with open(output.claim_file, "wb") as f:
        f.write(intruder.to_json())
    with pytest.raises(mf.OutputBusyError, match="0000intruder"):
        output.commit([], 0)
    assert not os.path.exists(out) and not os.path.exists(output.temporary)
    assert claims.read(output.fs, output.claim_file) == intruder  # not ours: left alone


def test_error_mode_never_replaces_output_published_meanwhile(serial, tmp_path):
    out = tmp_path / "out"
    output = AtomicOutput(str(out))
    output.begin()
    out.mkdir()  # another writer (not mapfold, so no claim) published meanwhile
    (out / "theirs").write_text("theirs\n")
    with pytest.raises(mf.OutputExistsError, match="created by another writer"):
        output.commit([], 0)
    assert os.listdir(out) == ["theirs"] and not os.path.exists(output.temporary)


def test_overwrite_never_leaves_the_target_absent(serial, tmp_path):
    out = str(tmp_path / "out")
    mf.from_sequence(["0"]).save_text(out, runner=serial)
    stop, missing, checks = threading.Event(), [], [0]

    def watch():
        while not stop.is_set():
            checks[0] += 1
            if not os.path.exists(os.path.join(out, "_SUCCESS")):
                missing.append(time.monotonic())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(30):
            mf.from_sequence([str(i)] * 3, partitions=3).save_text(out, mode="overwrite", runner=serial)
    finally:
        stop.set()
        watcher.join()
    assert checks[0] > 100 and missing == []
    assert mf.read_text(out).collect(runner=serial) == ["29"] * 3


def test_a_target_left_absent_by_a_killed_fallback_overwrite_is_restored(serial, tmp_path):
    # where folders cannot be swapped, a kill between the two renames leaves old data aside
    dead = fake_claim(tmp_path, "out")
    old = tmp_path / f".out.mapfold-tmp-{dead.job}-old"
    old.mkdir()
    (old / "part-00000").write_text("old\n")
    staging = tmp_path / f".out.mapfold-tmp-{dead.job}"
    staging.mkdir()
    (staging / "part-00000").write_text("half-writt")  # no _SUCCESS: the job had not decided to publish
    from mapfold.io.leftovers import clean

    found = clean(str(tmp_path / "out"))
    assert {i.kind for i in found} == {"claim", "staging", "old target"}
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert mf.read_text(str(tmp_path / "out")).collect(runner=serial) == ["old"]


def test_killed_append_leaves_unlisted_files_that_the_next_run_removes(serial, tmp_path):
    out = str(tmp_path / "out")
    mf.from_sequence(["a"]).save_text(out, runner=serial)
    dead = fake_claim(tmp_path, "out", mode="append")
    (tmp_path / "out" / f"part-00000-{dead.job[:8]}").write_text("never listed\n")
    mf.from_sequence(["b"]).save_text(out, mode="append", runner=serial)
    assert sorted(mf.read_text(out).collect(runner=serial)) == ["a", "b"]
    assert not any(dead.job[:8] in name for name in os.listdir(out))


def test_memory_store_claim(serial, memory_root):
    fs = fsspec.filesystem("memory")
    out = f"{memory_root}/out"
    holder = AtomicOutput(out)
    holder.begin()
    assert fs.exists(holder.claim_file)
    with pytest.raises(mf.OutputBusyError):
        mf.from_sequence([1]).save_text(out, runner=serial)
    holder.abort()
    mf.from_sequence([1]).save_text(out, runner=serial)
    assert not fs.exists(holder.claim_file)
    assert [p.rsplit("/", 1)[-1] for p in fs.ls(memory_root[len("memory://"):], detail=False)] == ["out"]


def test_s3_claim_is_a_conditional_put_and_stale_ones_are_broken(serial, bucket, s3_options):
    out = f"s3://{bucket}/out"
    holder = AtomicOutput(out, storage_options=s3_options)
    holder.begin()
    other = claims.Claim.mine("0000other000", "error", out)
    assert not claims.take(holder.fs, holder.claim_file, other)  # If-None-Match: * refused it
    with pytest.raises(mf.OutputBusyError, match=holder.job):
        mf.from_sequence([1]).save_text(out, runner=serial, storage_options=s3_options)
    holder.fs.pipe_file(holder.claim_file, claims.Claim(holder.job, holder.claim.host, dead_pid(),
                                                        time.time()).to_json())  # as if killed
    holder.fs.pipe_file(f"{holder.temporary}/part-00000-{holder.job[:8]}", b"half\n")
    mf.from_sequence([1, 2], partitions=2).save_text(out, runner=serial, storage_options=s3_options)
    assert mf.read_text(out, storage_options=s3_options).collect(runner=serial) == ["1", "2"]
    holder.fs.invalidate_cache()
    names = [p.rsplit("/", 1)[-1] for p in holder.fs.find(bucket, withdirs=True)]
    assert not any("mapfold-" in n for n in names), names


def test_half_published_object_store_target_is_refused_then_repaired(serial, memory_root):
    """A job killed while copying parts into a new target on an object store: readers refuse the
    folder (claimed, no _SUCCESS), and the next run removes the dead job's parts."""
    fs = fsspec.filesystem("memory")
    root = memory_root[len("memory://"):]
    dead = claims.Claim("deadbeef0000", claims.socket.gethostname(), dead_pid(), time.time(), "error")
    fs.pipe_file(f"{root}/.out.mapfold-claim", dead.to_json())
    fs.pipe_file(f"{root}/out/part-00000-{dead.job[:8]}", b"copied before the kill\n")
    with pytest.raises(mf.InputError, match="has no _SUCCESS yet: it is claimed by job deadbeef0000"):
        mf.read_text(f"{memory_root}/out").collect(runner=serial)
    mf.from_sequence(["new"]).save_text(f"{memory_root}/out", runner=serial)
    assert mf.read_text(f"{memory_root}/out").collect(runner=serial) == ["new"]
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.find(root, withdirs=True))
    assert not any(dead.job[:8] in n or ".mapfold-" in n for n in names), names


def test_a_damaged_claim_is_stale_only_when_old(serial, tmp_path, monkeypatch):
    """Claims appear whole (written aside, then linked in); one that does not parse belongs to
    nobody known, so only its age (the file's) can make it stale."""
    claim = tmp_path / ".out.mapfold-claim"
    claim.write_bytes(b"")
    with pytest.raises(mf.OutputBusyError, match="job unknown"):
        mf.from_sequence(["a"]).save_text(str(tmp_path / "out"), runner=serial)
    old = time.time() - 7200
    os.utime(claim, (old, old))
    leftover = tmp_path / ".out.mapfold-claim.new-0123456789ab-abcdef"  # left by a job killed while claiming
    leftover.write_bytes(b"{}")
    os.utime(leftover, (old, old))
    monkeypatch.setenv("MAPFOLD_STALE_AFTER", "1h")
    mf.from_sequence(["a"]).save_text(str(tmp_path / "out"), runner=serial)
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_append_to_a_target_created_meanwhile_adds_to_it(serial, tmp_path):
    out = tmp_path / "out"
    output = AtomicOutput(str(out), mode="append")
    output.begin()
    name = output.part_name(0)
    (tmp_path / f".out.mapfold-tmp-{output.job}" / name).write_text("mine\n")
    out.mkdir()
    (out / "theirs").write_text("theirs\n")  # a writer that takes no claim
    output.commit([name], 1)
    assert sorted(os.listdir(out)) == sorted(["_SUCCESS", name, "theirs"])
    assert sorted(os.listdir(tmp_path)) == ["out"]


@pytest.mark.parametrize("mode", ["error", "overwrite"])
def test_s3_manifest_is_a_conditional_put(serial, bucket, s3_options, mode):
    """On S3 the store itself refuses to replace a _SUCCESS another writer (taking no claim)
    published while the job ran; the job's copied parts are taken back."""
    out = f"s3://{bucket}/out"
    if mode == "overwrite":
        mf.from_sequence(["old"]).save_text(out, runner=serial, storage_options=s3_options)
    output = AtomicOutput(out, mode=mode, storage_options=s3_options)
    output.begin()
    name = output.part_name(0)
    output.fs.pipe_file(f"{output.temporary}/{name}", b"mine\n")
    real_copy = output.fs.copy

    def copy_then_intrude(src, dst, **kw):  # another writer publishes while this job copies its parts
        real_copy(src, dst, **kw)
        output.fs.pipe_file(f"{output.root}/_SUCCESS", b'{"files": ["theirs"], "records": 1}')
        output.fs.pipe_file(f"{output.root}/theirs", b"theirs\n")

    output.fs.copy = copy_then_intrude
    expected = mf.OutputBusyError if mode == "overwrite" else mf.OutputExistsError
    with pytest.raises(expected, match="another writer"):
        output.commit([name], 1)
    output.fs.invalidate_cache()
    assert mf.read_text(out, storage_options=s3_options).collect(runner=serial) == ["theirs"]
    names = sorted(p.rsplit("/", 1)[-1] for p in output.fs.find(bucket, withdirs=True))
    assert name not in names and not any(".mapfold-" in n for n in names), names
