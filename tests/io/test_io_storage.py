"""mapfold.storage on filesystems without object metadata (sidecar files)."""
from __future__ import annotations

import os

import pytest

import mapfold as mf


def test_local_store_put_list_filter_delete(serial, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name, text in [("a.txt", "alpha\n"), ("b.txt", "beta\n")]:
        (src / name).write_text(text)
    store = mf.storage.Store(str(tmp_path / "bucket"))
    store.put(src / "a.txt", key="in/a.txt", metadata={"lang": "greek", "n": 1})
    store.put(src / "b.txt", key="in/b.txt", metadata={"lang": "greek", "n": 2})
    store.put(src, key="copy", metadata={"lang": "copy"})
    assert [o.key for o in store.list()] == ["copy/a.txt", "copy/b.txt", "in/a.txt", "in/b.txt"]
    assert [o.key for o in store.list(prefix="in/", metadata={"n": 2})] == ["in/b.txt"]
    assert store.metadata("in/a.txt") == {"lang": "greek", "n": "1"}
    # sidecars are hidden: a reader of the folder sees only the data
    assert sorted(mf.read_text(str(tmp_path / "bucket" / "in")).collect(runner=serial)) == ["alpha", "beta"]
    assert mf.read_text(store.urls(metadata={"lang": "greek", "n": "1"})).collect(runner=serial) == ["alpha"]
    store.delete("in/a.txt")
    assert [o.key for o in store.list(prefix="in")] == ["in/b.txt"]
    assert not [f for f in os.listdir(tmp_path / "bucket" / "in") if f.startswith(".a.txt")]


def test_put_dataset_into_memory_store(serial, memory_root):
    store = mf.storage.Store(memory_root)
    stored = store.put_dataset(mf.from_sequence(["x", "y"], partitions=2), "words", format="text",
                               metadata={"kind": "words"}, runner=serial)
    assert len(stored) == 2 and all(o.metadata == {"kind": "words"} for o in stored)
    assert store.list(prefix="words/", metadata={"kind": "other"}) == []
    assert mf.read_text(store.urls(metadata={"kind": "words"})).collect(runner=serial) == ["x", "y"]


def test_metadata_keys_checked(tmp_path):
    (tmp_path / "f").write_text("x")
    store = mf.storage.Store(str(tmp_path / "bucket"))
    with pytest.raises(ValueError, match="metadata key"):
        store.put(tmp_path / "f", metadata={"bad key!": 1})
    with pytest.raises(ValueError, match="bad object key"):
        store.metadata("../escape")


def test_store_is_not_shipped(tmp_path):
    import pickle

    with pytest.raises(TypeError, match="not shipped"):
        pickle.dumps(mf.storage.Store(str(tmp_path)))
