"""Atomic output: all partitions appear at once, or nothing changes.

The commit protocol (Hadoop's FileOutputCommitter, simplified, with a
manifest for object stores):

1. ``begin`` (driver): refuse an existing target in ``mode="error"``;
   make a hidden temporary folder beside the target
   (``.NAME.mapfold-tmp-JOB``: hidden names are skipped by readers) and put
   a ``_WRITING`` marker in it.
2. Tasks write one ``part-NNNNN`` file each into the temporary folder. After
   closing its file a task checks that the marker is still there; if the
   job was aborted meanwhile, it deletes its own file. (A task still
   running when another task failed can thus never leave a file behind,
   even on an object store where writing a key re-creates its "folder".)
3. ``commit`` (driver, after every task succeeded) writes ``_SUCCESS`` last;
   it holds a JSON manifest ``{"files": [...], "records": N, "job": ...}``
   and mapfold's readers read only the files it lists.

   * Local disk (rename is atomic): ``error``/``overwrite`` rename the
     temporary folder onto the target (an old target is renamed aside first
     and deleted after); ``append`` renames each new file into the target
     (names carry the job id, so they never collide) and then replaces
     ``_SUCCESS`` (written beside and renamed).
   * Object stores (s3://, gs://, memory://...: no atomic rename): new files
     are copied from the temporary prefix into the target under names that
     carry the job id, then ``_SUCCESS`` (one PUT: readers see the old
     manifest or the new one), and only then are replaced files deleted
     (``overwrite``) and the temporary prefix removed.

4. ``abort`` (any failure, Ctrl-C): delete the marker, then the temporary
   folder. The target is as it was.

What a reader sees mid-write is spelled out in ``docs/io.md``.
"""
from __future__ import annotations

import json
import posixpath
import uuid

from ..core.errors import OutputExistsError
from .paths import filesystem, is_local, read_manifest
from .secrets import protect_filesystem, scrubbed

__all__ = ["AtomicOutput", "MODES", "MARKER"]

MODES = ("error", "overwrite", "append")
MARKER = "_WRITING"


class AtomicOutput:
    """One output folder being written by one job (picklable: shipped to tasks)."""

    def __init__(self, path: str, mode: str = "error", storage_options: dict | None = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
        self.path = str(path)
        self.mode = mode
        self.storage_options = storage_options
        self.fs, root = filesystem(self.path, storage_options)
        self.root = root.rstrip("/")
        parent, name = posixpath.split(self.root)
        if not name or not parent:
            raise ValueError(f"cannot write to {self.path}: give a folder (inside a bucket, for object stores)")
        self.local = is_local(self.fs)
        self.job = uuid.uuid4().hex[:12]
        self.temporary = posixpath.join(parent, f".{name}.mapfold-tmp-{self.job}")
        self.marker = f"{self.temporary}/{MARKER}"
        # names carry the job id where files from two jobs may meet
        self.unique_names = mode == "append" or not self.local

    def __getstate__(self):
        state = dict(self.__dict__)
        state["storage_options"] = None  # the filesystem carries what tasks need
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if not self.local:
            protect_filesystem(self.fs)

    def __repr__(self) -> str:
        return f"<AtomicOutput {self.path} mode={self.mode}>"

    # -- driver ---------------------------------------------------------------
    def begin(self) -> None:
        with scrubbed(self.storage_options):
            if self.mode == "error" and self.fs.exists(self.root):
                raise OutputExistsError(
                    f"output {self.path} already exists; pass mode='overwrite' to replace it or mode='append'")
            if self.local:  # object stores have no folders (and s3fs would try to create a bucket)
                self.fs.makedirs(self.temporary, exist_ok=True)
            self.fs.pipe_file(self.marker, b"")

    def commit(self, files: list[str], records: int = 0) -> None:
        """Publish the task files (names relative to the temporary folder)."""
        with scrubbed(self.storage_options):
            self._remove(self.marker)
            if self.local:
                self._commit_local(files, records)
            else:
                self._commit_object_store(files, records)

    def abort(self) -> None:
        with scrubbed(self.storage_options):
            self._remove(self.marker)
            self._remove(self.temporary, recursive=True)

    # -- tasks ----------------------------------------------------------------
    def part_name(self, partition: int, suffix: str = "") -> str:
        tag = f"-{self.job[:8]}" if self.unique_names else ""
        return f"part-{partition:05d}{tag}{suffix}"

    def part_path(self, partition: int, suffix: str = "") -> str:
        return f"{self.temporary}/{self.part_name(partition, suffix)}"

    def still_writing(self) -> bool:
        return self.fs.exists(self.marker)

    # -- commit strategies ----------------------------------------------------
    def _existing_files(self) -> list[str]:
        if not self.fs.exists(self.root):
            return []
        listed = read_manifest(self.fs, self.root)
        if listed is not None:
            return sorted(listed)
        found = self.fs.find(self.root)
        names = [p[len(self.root):].lstrip("/") for p in found]
        return [n for n in names if not any(part.startswith(("_", ".")) for part in n.split("/"))]

    def _manifest(self, files: list[str], records: int) -> bytes:
        return json.dumps({"files": sorted(files), "records": records, "job": self.job}, indent=1).encode()

    def _commit_local(self, files: list[str], records: int) -> None:
        fs = self.fs
        if self.mode == "append" and fs.exists(self.root):
            old = self._existing_files()
            for name in files:
                fs.mv(f"{self.temporary}/{name}", f"{self.root}/{name}")
            self._remove(self.temporary, recursive=True)
            old_records = _records_of(fs, self.root)
            staged = f"{self.root}/._SUCCESS.{self.job}"
            fs.pipe_file(staged, self._manifest(old + files, old_records + records))
            fs.mv(staged, f"{self.root}/_SUCCESS")
            return
        aside = None
        if fs.exists(self.root):
            aside = f"{self.temporary}-old"
            fs.mv(self.root, aside, recursive=True)
        fs.mv(self.temporary, self.root, recursive=True)
        if aside is not None:
            self._remove(aside, recursive=True)
        fs.pipe_file(f"{self.root}/_SUCCESS", self._manifest(files, records))

    def _commit_object_store(self, files: list[str], records: int) -> None:
        fs = self.fs
        exists = fs.exists(self.root)
        old = self._existing_files() if exists else []
        for name in files:
            fs.copy(f"{self.temporary}/{name}", f"{self.root}/{name}")
        if self.mode == "append":
            listed = old + files
            records += _records_of(fs, self.root) if exists else 0
        else:
            listed = files
        fs.pipe_file(f"{self.root}/_SUCCESS", self._manifest(listed, records))
        if self.mode == "overwrite" and exists:
            keep = set(files) | {"_SUCCESS"}
            stale = [p for p in fs.find(self.root) if p[len(self.root):].lstrip("/") not in keep]
            if stale:
                fs.rm(stale)
        self._remove(self.temporary, recursive=True)

    def _remove(self, path: str, recursive: bool = False) -> None:
        try:
            if self.fs.exists(path):
                self.fs.rm(path, recursive=recursive)
        except FileNotFoundError:
            pass


def _records_of(fs, root: str) -> int:
    try:
        with fs.open(f"{root}/_SUCCESS", "rb") as f:
            return int(json.loads(f.read() or b"{}").get("records", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0
