"""Running ``python -m mapfold ...`` as a user would: a subprocess on this worktree's source."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mapfold

SRC = str(Path(mapfold.__file__).resolve().parents[1])


def environment(**extra: str) -> dict:
    """This process's environment with this checkout's mapfold first, no progress bar, no config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPFOLD_")}
    path = os.environ.get("PYTHONPATH")
    env.update(PYTHONPATH=SRC + (os.pathsep + path if path else ""), MAPFOLD_PROGRESS="0")
    env.update(extra)
    return env


def mapfold_cli(*args: str, cwd, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mapfold", *args], cwd=str(cwd), capture_output=True, text=True,
                          env=env or environment(), timeout=timeout)
