"""Optional packages: a missing one says which mapfold extra installs it."""
from __future__ import annotations

import sys

import pytest

import mapfold as mf


def test_count_approx_distinct_without_datasketches_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasketches", None)  # makes `import datasketches` fail
    with pytest.raises(ImportError, match=r"need datasketches: pip install 'mapfold\[sketch\]'"):
        mf.from_sequence([1, 2]).count_approx_distinct(runner="serial")


def test_zst_files_without_zstandard_name_the_extra(monkeypatch, tmp_path):
    (tmp_path / "a.txt.zst").write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(ImportError, match=r"\.zst files need zstandard: pip install 'mapfold\[formats\]'"):
        mf.read_text(str(tmp_path)).collect(runner="serial")


def test_missing_engine_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.delitem(sys.modules, "mapfold.runners.ray", raising=False)
    with pytest.raises(mf.RunnerUnavailableError, match=r"pip install 'mapfold\[ray\]'"):
        mf.runners.make_runner("ray")
