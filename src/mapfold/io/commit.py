"""Atomic output: all partitions appear at once, or nothing changes.

The commit protocol (as Hadoop's FileOutputCommitter, simplified):

1. ``begin``: refuse an existing target unless ``mode="overwrite"``;
   create a hidden temporary folder beside the target
   (``.NAME.mapfold-tmp-XXXX``; hidden names are skipped by readers).
2. Tasks write ``part-NNNNN`` files into the temporary folder.
3. ``commit`` (driver, after every task succeeded): move an old target
   aside, rename the temporary folder to the target, delete the old one,
   write ``_SUCCESS`` last. On a local disk the rename is atomic.
4. ``abort`` (any failure, Ctrl-C): delete the temporary folder. The target
   is as it was.
"""
from __future__ import annotations

import os
import uuid

from ..core.errors import OutputExistsError
from .paths import filesystem

__all__ = ["AtomicOutput", "MODES"]

MODES = ("error", "overwrite")


class AtomicOutput:
    def __init__(self, path: str, mode: str = "error", storage_options: dict | None = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
        self.path = os.fspath(path)
        self.mode = mode
        self.fs, self.root = filesystem(self.path, storage_options)
        self.root = self.root.rstrip("/")
        parent, name = os.path.split(self.root)
        self.temporary = os.path.join(parent, f".{name}.mapfold-tmp-{uuid.uuid4().hex[:12]}")

    def begin(self) -> None:
        if self.fs.exists(self.root) and self.mode == "error":
            raise OutputExistsError(f"output {self.path} already exists; pass mode='overwrite' to replace it")
        self.fs.makedirs(self.temporary, exist_ok=False)

    def part_path(self, partition: int, suffix: str = "") -> str:
        return f"{self.temporary}/part-{partition:05d}{suffix}"

    def commit(self) -> None:
        old = None
        if self.fs.exists(self.root):
            old = f"{self.temporary}-old"
            self.fs.mv(self.root, old, recursive=True)
        self.fs.mv(self.temporary, self.root, recursive=True)
        if old is not None:
            self.fs.rm(old, recursive=True)
        with self.fs.open(f"{self.root}/_SUCCESS", "wb"):
            pass

    def abort(self) -> None:
        try:
            if self.fs.exists(self.temporary):
                self.fs.rm(self.temporary, recursive=True)
        except FileNotFoundError:
            pass
