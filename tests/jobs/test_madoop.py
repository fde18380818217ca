"""The streaming contract under madoop (a Hadoop Streaming emulator from the package index): every job of
the corpus gives, run by madoop step by step, what ``-r local`` and the ``cat | --mapper | sort |
--reducer`` pipeline give."""
from __future__ import annotations

from pathlib import Path

import pytest

# the streaming jobs (a spark() step is no Hadoop Streaming task)
NAMES = sorted(p.stem for p in (Path(__file__).parent / "corpus").glob("mr_*.py") if "def spark(" not in p.read_text())

# what madoop cannot run, and why
UNSUPPORTED = {
    "mr_raw_lines": "mapper_raw: its tasks take a file's path as arguments, which Hadoop Streaming hands out "
                    "through mrjob's input manifest, not a plain streaming command",
}


@pytest.mark.parametrize("name", NAMES)
def test_madoop_equals_local_and_pipeline(name, corpus, processes, tmp_path):
    pytest.importorskip("madoop", reason="the streaming contract is tested under madoop: pip install 'madoop>=1.3'")
    if name in UNSUPPORTED:
        pytest.skip(f"madoop cannot run {name}: {UNSUPPORTED[name]}")
    if name in corpus.needs_runner:
        pytest.skip(f"{name} reads the variables a runner sets for its tasks; madoop sets none")
    lines = corpus.run_madoop(name, tmp_path / "madoop")
    assert lines
    assert lines == corpus.run_mapfold(name, tmp_path / "local", processes)[0]
    assert lines == corpus.run_streaming(name, tmp_path / "pipeline")
