"""The README's tour runs as written (on a small logs/ folder)."""
from __future__ import annotations

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_tour_runs(tmp_path, monkeypatch):
    blocks = python_blocks(README.read_text())
    assert blocks, "the README has a python tour"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.txt").write_text("GET /index\nGET /about\nPOST /index\n")
    namespace: dict = {}
    for block in blocks:
        exec(compile(block.replace("10**6", "10**4"), str(README), "exec"), namespace)
    assert os.path.exists("out/counts/_SUCCESS")
    assert namespace["total"] == sum(range(10**4))
