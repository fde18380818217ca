"""Turning user paths (files, folders, globs, fsspec URLs) into file lists.

A folder written by mapfold ends with a ``_SUCCESS`` file holding a JSON
manifest of its data files (see ``commit.py``). When a folder has one, only
the files it lists are read: files an unfinished append or overwrite is
still copying in are not picked up half-way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

import fsspec
from fsspec.core import url_to_fs

from ..core.errors import InputError

__all__ = ["FileInfo", "expand_paths", "is_local", "filesystem", "read_manifest", "compression_of"]

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".xz": "xz"}


@dataclass(frozen=True)
class FileInfo:
    path: str  # as the filesystem names it (no protocol for local files)
    size: int
    compression: str | None
    protocol: str = "file"


def is_local(fs) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def filesystem(path: str, storage_options: dict | None = None):
    """``(fs, path_in_fs)`` for a URL; credentials never show in errors."""
    from .secrets import protect_logs, scrubbed

    with scrubbed(storage_options):
        fs, root = url_to_fs(path, **(storage_options or {}))
    if not is_local(fs):
        protect_logs(storage_options)
    return fs, root


def _hidden(name: str) -> bool:
    # Hadoop's convention: _SUCCESS, _temporary and dot files are not data
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return base.startswith(("_", "."))


def compression_of(path: str) -> str | None:
    for suffix, name in COMPRESSIONS.items():
        if path.endswith(suffix):
            return name
    return None


def expand_paths(paths: str | os.PathLike | Iterable, storage_options: dict | None = None, suffixes=None):
    """List the files behind ``paths``, sorted, with sizes. Returns ``(fs, files)``.

    Folders are read recursively (hidden ``_``/``.`` files skipped), globs
    are expanded; a path that matches nothing is an error naming it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise InputError("no input paths were given")
    from .secrets import scrubbed

    with scrubbed(storage_options):
        return _expand(paths, storage_options, suffixes)


def _expand(paths: list[str], storage_options: dict | None, suffixes):
    fs = None
    files: list[FileInfo] = []
    for path in paths:
        this_fs, root = filesystem(path, storage_options)
        fs = fs or this_fs
        if not is_local(this_fs):  # listings are cached per filesystem object: another process may have written
            this_fs.invalidate_cache(root.split("*", 1)[0].rstrip("/") or root)
        protocol = this_fs.protocol if isinstance(this_fs.protocol, str) else this_fs.protocol[0]
        if any(ch in root for ch in "*?["):
            found = sorted(this_fs.glob(root))
            found = [p for p in found if not _hidden(p)]
            expanded = []
            for p in found:
                expanded.extend(_walk(this_fs, p) if this_fs.isdir(p) else [p])
        elif this_fs.isdir(root):
            expanded = _walk(this_fs, root)
        elif this_fs.exists(root):
            expanded = [root]
        else:
            raise InputError(f"input path does not exist: {path}", path=path)
        if suffixes:
            expanded = [p for p in expanded if p.endswith(tuple(suffixes))]
        if not expanded:
            raise InputError(f"input path matches no files: {path}", path=path)
        for p in expanded:
            info = this_fs.info(p)
            files.append(FileInfo(p, int(info.get("size") or 0), compression_of(p), protocol))
    return fs, files


def _walk(fs, root: str) -> list[str]:
    found = fs.find(root)
    base = root.rstrip("/")
    out = []
    for p in sorted(found):
        rel = p[len(base):].lstrip("/")
        if any(_hidden(part) for part in rel.split("/")):
            continue
        out.append(p)
    if f"{base}/_SUCCESS" not in found:
        _refuse_unpublished(fs, base)
    listed = read_manifest(fs, base) if f"{base}/_SUCCESS" in found else None
    if listed is not None:
        out = [p for p in out if p[len(base):].lstrip("/") in listed]
    return out


def _refuse_unpublished(fs, folder: str) -> None:
    """A folder without ``_SUCCESS`` that a mapfold job has claimed is being published
    (on object stores the parts arrive one by one) or was left half-published by a
    killed job: never read it as if it were whole."""
    from . import claims

    path = claims.claim_path(folder)
    try:
        held = claims.read(fs, path) if fs.exists(path) else None
    except OSError:
        return
    if held is not None and held.job != "unknown":
        raise InputError(f"input folder {folder} has no _SUCCESS yet: it is claimed by {held.describe()}, "
                         "which is writing it (or was killed doing so: `mapfold clean` removes what it left)",
                         path=folder)


def read_manifest(fs, folder: str) -> set[str] | None:
    """The data files a mapfold ``_SUCCESS`` lists (relative names), or None."""
    import json

    try:
        with fs.open(f"{folder}/_SUCCESS", "rb") as f:
            data = f.read(64 << 20)
        manifest = json.loads(data) if data.strip() else None
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        return None
    return set(manifest["files"])
