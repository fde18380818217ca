"""Drills of a spill that runs out of disk: ``SpillError`` (a MapfoldError and an
OSError) names the spill folder, the bytes written and the budget, on the
serial, processes, dask, spark and ray runners (the engines' workers spill
with the same shuffle, in the runner's folder), instead of a bare
``[Errno 28]``; and the runner's folder is gone afterwards.

Two ways to fill the disk for real: a 4 MiB tmpfs mounted in a private mount
namespace (``unshare -m``, root only: skipped with the reason elsewhere),
and a file-size limit (``RLIMIT_FSIZE``: EFBIG), which needs no privilege.
Ray is left out of the second: its own processes cannot start under a
2 MiB file-size limit (they write logs and a session folder), so the limit
would test Ray rather than the spill.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mapfold as mf

DRIVER = Path(__file__).with_name("spill_driver.py")
SRC = Path(mf.__file__).resolve().parents[1]
BUDGET = 8_000_000

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux (rlimits, tmpfs)")


def env(scratch: Path) -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
                MAPFOLD_PROGRESS="0", MAPFOLD_SCRATCH=str(scratch))


def check(done: subprocess.CompletedProcess, scratch: Path, errnos: tuple) -> dict:
    assert done.returncode == 3, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    error = json.loads(done.stdout.strip().splitlines()[-1])
    assert error["type"] == "SpillError" and error["oserror"] and error["errno"] in errnos
    assert error["folder"].startswith(str(scratch)) and error["folder"] in error["message"]
    assert error["written"] >= 0 and error["budget"] == BUDGET
    assert "written to it in folder" in error["message"] and "memory budget 7.6 MiB" in error["message"]
    assert not [name for name in os.listdir(scratch) if name.startswith("mapfold-")]  # the runner's folder went
    return error


def can_mount_tmpfs(probe: Path) -> str | None:
    if shutil.which("unshare") is None:
        return "no unshare(1) to make a private mount namespace"
    done = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {probe}"],
                          capture_output=True, text=True)
    return None if done.returncode == 0 else f"cannot mount a tmpfs here: {done.stderr.strip()}"


@pytest.mark.parametrize("runner_name", ["serial", "processes", "dask", "spark", "ray"])
def test_spill_on_a_full_tmpfs_names_folder_bytes_and_budget(tmp_path, runner_name):
    scratch = tmp_path / "small-disk"
    scratch.mkdir()
    reason = can_mount_tmpfs(scratch)
    if reason:
        pytest.skip(reason)
    script = f"mount -t tmpfs -o size=4m tmpfs {scratch} && exec {sys.executable} {DRIVER} {runner_name}"
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env(scratch), capture_output=True, text=True,
                          timeout=300)
    error = check(done, scratch, (28,))  # ENOSPC
    # two tasks fill one disk: the file that meets the full disk may have written nothing
    # itself, so the error names the disk: 4 MiB, (nearly) nothing free
    assert error["disk_size"] == 4 << 20 and error["disk_free"] < 1 << 20
    assert "(disk 4.0 MiB, " in error["message"]


@pytest.mark.parametrize("runner_name", ["serial", "processes", "dask", "spark"])
def test_spill_over_the_file_size_limit_names_folder_bytes_and_budget(tmp_path, runner_name):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run([sys.executable, str(DRIVER), runner_name, str(2 << 20)], env=env(scratch),
                          capture_output=True, text=True, timeout=300)
    error = check(done, scratch, (27,))  # EFBIG
    assert error["written"] > 0  # each file stops at the limit by itself
