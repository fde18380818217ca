"""Object storage with user metadata: put files in a bucket, find them again.

As in chapter 11 of *Mastering Large Datasets with Python*: upload local
files (or a Dataset's output) into an S3 bucket with metadata tags, list
the bucket by key prefix, filter by metadata, and hand the selected URLs
to a reader, so a job picks its inputs by what they are rather than by
where they are::

    store = mf.storage.Store("s3://bucket/raw", storage_options=creds)
    store.put("day1.csv", metadata={"source": "sensor", "day": "2024-01-01"})
    urls = store.urls(metadata={"source": "sensor"})
    mf.read_csv(urls, storage_options=creds).count()

On S3 (s3fs) metadata is the object's own user metadata (``x-amz-meta-*``
headers, set with the upload, read back with one HEAD request per object).
Other filesystems (local folders, ``memory://``) have no object metadata,
so it is kept in a hidden sidecar ``.NAME.mapfold-meta.json`` beside each
object; readers skip hidden files. Keys are lower-cased (S3 does so) and
values are strings.
"""
from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .paths import filesystem
from .secrets import scrubbed

__all__ = ["Store", "StoredObject"]

_KEY = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
SIDECAR = ".{name}.mapfold-meta.json"


@dataclass(frozen=True)
class StoredObject:
    """One object in a store: its URL, key (relative to the store), size and metadata."""

    url: str
    key: str
    size: int
    metadata: dict = field(default_factory=dict, compare=False)


def _clean_metadata(metadata: dict | None) -> dict[str, str]:
    out = {}
    for key, value in (metadata or {}).items():
        name = str(key).lower()
        if not _KEY.match(name):
            raise ValueError(f"metadata key {key!r}: use letters, digits, '.', '_' or '-'")
        out[name] = str(value)
    return out


def _matches(metadata: dict, wanted: dict) -> bool:
    for key, value in wanted.items():
        have = metadata.get(key)
        if isinstance(value, (set, frozenset, list, tuple)):
            if have not in {str(v) for v in value}:
                return False
        elif have != str(value):
            return False
    return True


class Store:
    """A bucket, or a folder in one, whose objects carry user metadata.

    >>> import mapfold as mf, tempfile, os
    >>> local = tempfile.mkdtemp()
    >>> for day in ("01", "02"):
    ...     _ = open(os.path.join(local, f"day{day}.txt"), "w").write(f"data of day {day}\\n")
    >>> store = mf.storage.Store("memory://doctest-bucket/raw")
    >>> _ = store.put(os.path.join(local, "day01.txt"), metadata={"Source": "sensor", "day": "01"})
    >>> _ = store.put(os.path.join(local, "day02.txt"), metadata={"source": "manual", "day": "02"})
    >>> [(o.key, o.metadata["day"]) for o in store.list(metadata={"source": "sensor"})]
    [('day01.txt', '01')]
    >>> mf.read_text(store.urls(metadata={"day": ["01", "02"]})).collect(runner="serial")
    ['data of day 01', 'data of day 02']
    """

    def __init__(self, url: str, storage_options: dict | None = None):
        self.url = str(url).rstrip("/")
        self._options = storage_options
        self.fs, root = filesystem(self.url, storage_options)
        self.root = root.rstrip("/")
        self.native = type(self.fs).__name__ == "S3FileSystem"  # S3 keeps user metadata itself

    def __repr__(self) -> str:
        return f"<Store {self.url}>"

    def __getstate__(self):
        raise TypeError("a Store holds credentials and is not shipped to workers; pass its urls() instead")

    # -- writing ---------------------------------------------------------------
    def put(self, local_path: str | os.PathLike, key: str | None = None, metadata: dict | None = None) -> list[StoredObject]:
        """Upload a local file, or a folder recursively, under ``key`` (default: its name).

        Every object uploaded gets ``metadata``. Returns what was stored.
        """
        local_path = os.fspath(local_path)
        meta = _clean_metadata(metadata)
        key = (key if key is not None else os.path.basename(local_path.rstrip("/"))).strip("/")
        if os.path.isdir(local_path):
            pairs = []
            for folder, _, names in os.walk(local_path):
                for name in sorted(names):
                    full = os.path.join(folder, name)
                    rel = os.path.relpath(full, local_path).replace(os.sep, "/")
                    pairs.append((full, f"{key}/{rel}" if key else rel))
        elif os.path.isfile(local_path):
            pairs = [(local_path, key)]
        else:
            raise FileNotFoundError(f"no such local file or folder: {local_path}")
        out = []
        with scrubbed(self._options):
            for full, rel in sorted(pairs):
                target = self._path(rel)
                if self.native:
                    self.fs.put_file(full, target, Metadata=meta)
                else:
                    self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
                    self.fs.put_file(full, target)
                    self._write_sidecar(target, meta)
                out.append(StoredObject(self._url(target), rel, os.path.getsize(full), dict(meta)))
        return out

    def tag(self, key: str, metadata: dict, replace: bool = False) -> dict:
        """Add (or with ``replace``, set) the metadata of a stored object; returns it.

        >>> import tempfile, os
        >>> local = os.path.join(tempfile.mkdtemp(), "f.txt"); _ = open(local, "w").write("x\\n")
        >>> store = Store("memory://doctest-tag")
        >>> _ = store.put(local, metadata={"a": 1})
        >>> store.tag("f.txt", {"b": "2"})
        {'a': '1', 'b': '2'}
        >>> store.tag("f.txt", {"c": "3"}, replace=True) == store.metadata("f.txt") == {"c": "3"}
        True
        >>> store.delete("f.txt"); store.list()
        []
        """
        target = self._path(key)
        with scrubbed(self._options):
            current = {} if replace else self._read_metadata(target)
            meta = {**current, **_clean_metadata(metadata)}
            if self.native:
                # S3 metadata cannot change in place: copy the object onto itself
                bucket, name, _ = self.fs.split_path(target)
                self.fs.call_s3("copy_object", CopySource={"Bucket": bucket, "Key": name}, Bucket=bucket, Key=name,
                                Metadata=meta, MetadataDirective="REPLACE")
                self.fs.invalidate_cache(target)
            else:
                self._write_sidecar(target, meta)
        return meta

    def put_dataset(self, dataset, key: str, format: str = "jsonl", metadata: dict | None = None,
                    **save_options) -> list[StoredObject]:
        """Save a Dataset under ``key`` (``save_<format>``, atomic) and tag its data files.

        >>> import mapfold as mf
        >>> store = Store("memory://doctest-put-dataset")
        >>> objects = store.put_dataset(mf.from_sequence([{"n": 1}]), "nums", metadata={"kind": "n"}, runner="serial")
        >>> [(o.key.split("-")[0], o.metadata) for o in objects]
        [('nums/part', {'kind': 'n'})]
        """
        saver = getattr(dataset, f"save_{format}", None)
        if saver is None:
            raise ValueError(f"unknown format {format!r}; choose one of text, jsonl, csv, parquet")
        saver(f"{self.url}/{key.strip('/')}", storage_options=self._options, **save_options)
        stored = self.list(prefix=key.strip("/") + "/")
        if metadata:
            for obj in stored:
                obj.metadata.update(self.tag(obj.key, metadata))
        return stored

    # -- reading ---------------------------------------------------------------
    def metadata(self, key: str) -> dict:
        """The metadata of one object (see :meth:`tag` for an example)."""
        with scrubbed(self._options):
            return self._read_metadata(self._path(key))

    def list(self, prefix: str = "", metadata: dict | None = None, where: Callable[[dict], bool] | None = None,
             hidden: bool = False) -> list[StoredObject]:
        """Objects whose key starts with ``prefix``, filtered by metadata.

        ``metadata={"k": "v"}`` keeps objects whose metadata has every pair
        (a list or set as value: any of them); ``where(metadata) -> bool``
        filters further. Hidden names (``_SUCCESS``, dot files) are left
        out unless ``hidden=True``. Filtering reads each object's metadata
        (one HEAD request per object on S3): narrow with ``prefix``.
        """
        wanted = {str(k).lower(): v for k, v in (metadata or {}).items()}
        with scrubbed(self._options):
            found = self._find(prefix)
            out = []
            for path, size in found:
                rel = path[len(self.root):].lstrip("/")
                if not hidden and any(part.startswith(("_", ".")) for part in rel.split("/")):
                    continue
                meta = self._read_metadata(path)
                if wanted and not _matches(meta, wanted):
                    continue
                if where is not None and not where(meta):
                    continue
                out.append(StoredObject(self._url(path), rel, size, meta))
        return out

    def urls(self, prefix: str = "", metadata: dict | None = None,
             where: Callable[[dict], bool] | None = None) -> list[str]:
        """The URLs of :meth:`list`, ready for ``read_*`` (see the class example)."""
        return [obj.url for obj in self.list(prefix, metadata, where)]

    def delete(self, keys: str | Iterable[str]) -> None:
        """Delete objects (and their sidecars; see :meth:`tag` for an example)."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        with scrubbed(self._options):
            for key in keys:
                path = self._path(key)
                self.fs.rm(path)
                if not self.native and self.fs.exists(self._sidecar(path)):
                    self.fs.rm(self._sidecar(path))

    # -- helpers ---------------------------------------------------------------
    def _path(self, key: str) -> str:
        key = key.strip("/")
        if not key or ".." in key.split("/"):
            raise ValueError(f"bad object key {key!r}")
        return f"{self.root}/{key}"

    def _url(self, path: str) -> str:
        return self.fs.unstrip_protocol(path)

    def _find(self, prefix: str) -> list[tuple[str, int]]:
        base = f"{self.root}/{prefix.lstrip('/')}" if prefix else self.root
        folder = base if base.endswith("/") or not prefix else posixpath.dirname(base)
        if not self.fs.exists(folder.rstrip("/") or self.root):
            return []
        details = self.fs.find(folder.rstrip("/"), detail=True)
        return sorted((p, int(info.get("size") or 0)) for p, info in details.items()
                      if p.startswith(base.rstrip("/") if not prefix else base) and info.get("type") != "directory")

    def _sidecar(self, path: str) -> str:
        folder, name = posixpath.split(path)
        return f"{folder}/{SIDECAR.format(name=name)}"

    def _write_sidecar(self, path: str, meta: dict) -> None:
        self.fs.pipe_file(self._sidecar(path), json.dumps(meta, sort_keys=True).encode())

    def _read_metadata(self, path: str) -> dict:
        if self.native:
            return {k.lower(): v for k, v in (self.fs.metadata(path) or {}).items()}
        try:
            with self.fs.open(self._sidecar(path), "rb") as f:
                return json.loads(f.read())
        except FileNotFoundError:
            return {}
