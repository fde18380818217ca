"""``mapfold clean PATH``: lists what dead and live jobs left beside their outputs,
removes the dead ones' (claims, staging folders), keeps the live ones'."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from click.testing import CliRunner

from mapfold.io import claims
from mapfold.io.commit import AtomicOutput


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def fake_claim(folder, name: str) -> claims.Claim:
    claim = claims.Claim("deadbeef0000", claims.socket.gethostname(), dead_pid(), time.time(), "error", name)
    with open(os.path.join(folder, f".{name}.mapfold-claim"), "wb") as f:
        f.write(claim.to_json())
    return claim


def test_mapfold_clean_lists_and_removes(tmp_path):
    from mapfold.cli.main import main

    dead = fake_claim(tmp_path, "out")
    (tmp_path / f".out.mapfold-tmp-{dead.job}").mkdir()
    live = AtomicOutput(str(tmp_path / "other"))
    live.begin()
    result = CliRunner().invoke(main, ["clean", "--dry-run", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "would remove claim" in result.output and "would remove staging" in result.output
    assert "kept" in result.output and live.job in result.output
    assert len(os.listdir(tmp_path)) == 4
    result = CliRunner().invoke(main, ["clean", str(tmp_path)])
    assert result.exit_code == 0 and result.output.count("removed") == 2, result.output
    assert sorted(os.listdir(tmp_path)) == sorted([".other.mapfold-claim", f".other.mapfold-tmp-{live.job}"])
    live.abort()
    assert CliRunner().invoke(main, ["clean", str(tmp_path)]).output.startswith("nothing to clean")
    assert CliRunner().invoke(main, ["clean", "--older-than", "soon", str(tmp_path)]).exit_code == 2


def test_mapfold_clean_scratch_sweeps_dead_drivers_folders_only(tmp_path):
    from mapfold.cli.main import main
    from mapfold.runners.scratch import OWNER, Scratch

    dead = tmp_path / "mapfold-processes-dead"
    dead.mkdir()
    (dead / OWNER).touch()  # its driver is gone: nobody holds the lock
    live = Scratch.make("mapfold-serial-", str(tmp_path / "other"))  # made elsewhere, so no sweep yet
    os.rename(live.path, tmp_path / "mapfold-serial-live")
    live.path = str(tmp_path / "mapfold-serial-live")
    try:
        result = CliRunner().invoke(main, ["clean", "--scratch", "--dry-run", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert f"would remove {dead}" in result.output and "live" not in result.output
        assert dead.is_dir()
        result = CliRunner().invoke(main, ["clean", "--scratch", str(tmp_path)])
        assert f"removed      {dead}" in result.output and not dead.exists()
        assert live.exists()
        result = CliRunner().invoke(main, ["clean", "--scratch", str(tmp_path)])
        assert "no scratch folder of a dead driver" in result.output
    finally:
        live.remove()


def test_mapfold_clean_needs_a_path_or_scratch():
    from mapfold.cli.main import main

    result = CliRunner().invoke(main, ["clean"])
    assert result.exit_code == 2 and "--scratch" in result.output
