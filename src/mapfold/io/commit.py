"""Atomic output: all partitions appear at once, or nothing changes.

The commit protocol (Hadoop's FileOutputCommitter, simplified, with a
claim against concurrent writers and a manifest for object stores):

1. ``begin`` (driver): remove what dead jobs left beside the target
   (``leftovers.py``); take the target's claim (``claims.py``: created
   atomically, holding job id, host, pid, start time) or fail with
   :class:`~mapfold.core.errors.OutputBusyError` naming the live job that
   holds it; refuse an existing target in ``mode="error"``; make a hidden
   staging folder beside the target (``.NAME.mapfold-tmp-JOB``: hidden
   names are skipped by readers) and put a ``_WRITING`` marker in it.
2. Tasks write one ``part-NNNNN`` file each into the staging folder. After
   closing its file a task checks that the marker is still there; if the
   job was aborted meanwhile, it deletes its own file. (A task still
   running when another task failed can thus never leave a file behind,
   even on an object store where writing a key re-creates its "folder".)
3. ``commit`` (driver, after every task succeeded) checks that the claim is
   still this job's, then publishes. ``_SUCCESS`` holds a JSON manifest
   ``{"files": [...], "records": N, "job": ...}``; mapfold's readers read
   only the files it lists.

   * Local disk: ``_SUCCESS`` is written into the staging folder, which
     then becomes the target in one system call: ``error`` renames it
     without replacing (``RENAME_NOREPLACE``: another job's committed
     output is never replaced), ``overwrite`` swaps it with the old target
     (``RENAME_EXCHANGE``: the target is never absent) and deletes the old
     one. Where the swap is not available, the old target is moved aside
     first; a kill in between leaves a state the next run repairs.
     ``append`` renames each new file into the target (names carry the job
     id, so they never collide) and then replaces ``_SUCCESS`` (written
     beside and renamed).
   * Object stores (s3://, gs://, memory://...: no atomic rename): new files
     are copied from the staging prefix into the target under names that
     carry the job id, then ``_SUCCESS`` (one PUT: readers see the old
     manifest or the new one; on S3 a conditional one, which the store
     refuses if another writer published meanwhile), and only then are
     replaced files deleted
     (``overwrite``) and the staging prefix removed.

   The claim is released last.
4. ``abort`` (any failure, Ctrl-C): delete the marker, then the staging
   folder, then release the claim. The target is as it was.

``MAPFOLD_COMMIT_PAUSE="before-publish=5,after-publish=1"`` sleeps at those
points of ``commit`` (and ``claimed=S`` after the claim is taken,
``copied=S`` on object stores between copying the parts in and writing
``_SUCCESS``): fault injection for the drills in ``tests/drills``.

What a reader sees mid-write, and what each store guarantees, is spelled
out in ``docs/io.md``.
"""
from __future__ import annotations

import errno
import json
import os
import posixpath
import time
import uuid

from ..core.errors import OutputBusyError, OutputExistsError
from . import claims, leftovers
from .paths import filesystem, is_local, read_manifest
from .renames import exchange, rename_noreplace
from .secrets import protect_filesystem, scrubbed

__all__ = ["AtomicOutput", "MODES", "MARKER", "pause"]

MODES = ("error", "overwrite", "append")
MARKER = "_WRITING"


def pause(point: str) -> None:
    """Sleep as ``MAPFOLD_COMMIT_PAUSE`` asks at ``point`` (fault injection for the drills).

    >>> os.environ["MAPFOLD_COMMIT_PAUSE"] = "before-publish=0.01"
    >>> pause("before-publish"); pause("after-publish")
    >>> del os.environ["MAPFOLD_COMMIT_PAUSE"]
    """
    spec = os.environ.get("MAPFOLD_COMMIT_PAUSE", "")
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, seconds = item.partition("=")
        if name.strip() == point:
            import sys

            print(f"mapfold: commit paused at {point} for {seconds} s (MAPFOLD_COMMIT_PAUSE)", file=sys.stderr,
                  flush=True)
            time.sleep(float(seconds or 0))


class AtomicOutput:
    """One output folder being written by one job (picklable: shipped to tasks).

    >>> import tempfile
    >>> out = AtomicOutput(tempfile.mkdtemp() + "/out")
    >>> out.begin()
    >>> with open(out.part_path(0), "w") as f:
    ...     _ = f.write("a\\n")
    >>> out.commit([out.part_name(0)], records=1)
    >>> sorted(os.listdir(out.root))
    ['_SUCCESS', 'part-00000']
    >>> AtomicOutput(out.path).begin()
    Traceback (most recent call last):
    mapfold.core.errors.OutputExistsError: output ... already exists; ...
    """

    def __init__(self, path: str, mode: str = "error", storage_options: dict | None = None,
                 stale_after=None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
        self.path = str(path)
        self.mode = mode
        self.storage_options = storage_options
        self.stale_after = claims.stale_after(stale_after)
        self.fs, root = filesystem(self.path, storage_options)
        self.root = root.rstrip("/")
        parent, name = posixpath.split(self.root)
        if not name or not parent:
            raise ValueError(f"cannot write to {self.path}: give a folder (inside a bucket, for object stores)")
        self.local = is_local(self.fs)
        self.job = uuid.uuid4().hex[:12]
        self.temporary = posixpath.join(parent, f".{name}.mapfold-tmp-{self.job}")
        self.marker = f"{self.temporary}/{MARKER}"
        self.claim_file = claims.claim_path(self.root)
        self.claim: claims.Claim | None = None
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
        """Clean up after dead jobs, claim the target, make the staging folder."""
        with scrubbed(self.storage_options):
            if not self.local:
                self.fs.invalidate_cache(self.root)  # another process may have written since we last listed
            try:
                leftovers.remove(self.fs, leftovers.find(self.fs, self.root, self.stale_after, inside=False))
            except OSError as exc:  # cleaning up is a courtesy: never a reason not to run
                import warnings

                warnings.warn(f"mapfold: could not remove what dead jobs left beside {self.path} "
                              f"({type(exc).__name__}: {exc}); `mapfold clean` lists it", stacklevel=3)
            self._take_claim()
            try:
                pause("claimed")
                if self.mode == "error" and self.fs.exists(self.root):
                    raise OutputExistsError(
                        f"output {self.path} already exists; pass mode='overwrite' to replace it or mode='append'")
                if self.local:  # object stores have no folders (and s3fs would try to create a bucket)
                    self.fs.makedirs(self.temporary, exist_ok=True)
                self.fs.pipe_file(self.marker, self.claim.to_json())
            except BaseException:
                self._remove(self.temporary, recursive=True)
                self._release()
                raise

    def _take_claim(self) -> None:
        mine = claims.Claim.mine(self.job, self.mode, self.path)
        if self.local:
            self.fs.makedirs(posixpath.dirname(self.root), exist_ok=True)
        for _ in range(3):
            if claims.take(self.fs, self.claim_file, mine):
                self.claim = mine
                return
            held = claims.read(self.fs, self.claim_file)
            if held is None:
                continue  # released meanwhile: try again
            reason = claims.is_stale(held, self.stale_after)
            if reason is None:
                raise self._busy(held, "is being written by")
            claims.break_stale(self.fs, self.claim_file, held)
        raise self._busy(claims.read(self.fs, self.claim_file), "is being written by")

    def _busy(self, held, verb: str) -> OutputBusyError:
        who = held.describe() if held is not None else "another job"
        advice = ("; wait for it to finish (a job on another host that died is taken for dead after "
                  "MAPFOLD_STALE_AFTER, or at once by `mapfold clean --older-than AGE` on the target)"
                  if held is not None and held.host != claims.socket.gethostname() else
                  "; wait for it to finish" if held is not None else "")
        return OutputBusyError(f"output {self.path} {verb} {who}{advice}", target=self.path, holder=held)

    def _check_claim(self) -> None:
        held = claims.read(self.fs, self.claim_file)
        if held is None or held.job != self.job:
            raise self._busy(held, "was claimed while this job ran by" if held else "lost its claim to")

    def _release(self) -> None:
        if self.claim is not None:
            claims.release(self.fs, self.claim_file, self.job)
            self.claim = None

    def commit(self, files: list[str], records: int = 0) -> None:
        """Publish the task files (names relative to the staging folder)."""
        with scrubbed(self.storage_options):
            try:
                self._remove(self.marker)
                self._check_claim()
                pause("before-publish")
                if self.local:
                    self._commit_local(files, records)
                else:
                    self._commit_object_store(files, records)
                pause("after-publish")
            except BaseException:
                self._remove(self.temporary, recursive=True)
                self._release()
                raise
            self._release()

    def abort(self) -> None:
        with scrubbed(self.storage_options):
            self._remove(self.marker)
            self._remove(self.temporary, recursive=True)
            self._release()

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

    def _exists_error(self) -> OutputExistsError:
        return OutputExistsError(f"output {self.path} was created by another writer while this job ran; "
                                 "nothing was published (pass mode='overwrite' to replace it)")

    def _commit_local(self, files: list[str], records: int) -> None:
        fs = self.fs
        if self.mode == "append" and fs.exists(self.root):
            old = self._existing_files()
            for name in files:
                rename_noreplace(f"{self.temporary}/{name}", f"{self.root}/{name}")
            self._remove(self.temporary, recursive=True)
            old_records = _records_of(fs, self.root)
            staged = f"{self.root}/._SUCCESS.{self.job}"
            fs.pipe_file(staged, self._manifest(old + files, old_records + records))
            os.replace(staged, f"{self.root}/_SUCCESS")
            return
        # the manifest goes in first: the target never appears without it
        fs.pipe_file(f"{self.temporary}/_SUCCESS", self._manifest(files, records))
        try:
            rename_noreplace(self.temporary, self.root)
            return
        except FileExistsError:
            if self.mode == "error":
                raise self._exists_error() from None
            if self.mode == "append":  # created meanwhile (by a writer that takes no claim): add to it
                return self._commit_local(files, records)
        try:
            exchange(self.temporary, self.root)  # the old target is now in the staging folder
        except NotImplementedError:
            aside = f"{self.temporary}-old"  # a kill between these renames is repaired by the next run
            os.rename(self.root, aside)
            os.rename(self.temporary, self.root)
            self._remove(aside, recursive=True)
            return
        self._remove(self.temporary, recursive=True)

    def _commit_object_store(self, files: list[str], records: int) -> None:
        fs = self.fs
        fs.invalidate_cache(self.root)
        exists = fs.exists(self.root)
        if exists and self.mode == "error":
            raise self._exists_error()
        replaced = self._manifest_version() if exists else None  # read before the manifest it versions
        old = self._existing_files() if exists else []
        copied = []
        try:
            for name in files:
                fs.copy(f"{self.temporary}/{name}", f"{self.root}/{name}")
                copied.append(f"{self.root}/{name}")
            pause("copied")
            if self.mode == "append":
                listed = old + files
                records += _records_of(fs, self.root) if exists else 0
            else:
                listed = files
            self._publish_manifest(self._manifest(listed, records), replaced)
        except BaseException:  # not published: take back what was copied (names carry this job's id)
            if copied:
                try:
                    fs.rm(copied)
                except OSError:
                    pass  # a killed or failing job's copies are removed by the next run
            raise
        if self.mode == "overwrite" and exists:
            keep = set(files) | {"_SUCCESS"}
            stale = [p for p in fs.find(self.root) if p[len(self.root):].lstrip("/") not in keep]
            if stale:
                fs.rm(stale)
        self._remove(self.temporary, recursive=True)

    def _manifest_version(self) -> str | None:
        """The ETag of the target's ``_SUCCESS`` (S3), ``""`` where versions are unknown, None without one."""
        try:
            info = self.fs.info(f"{self.root}/_SUCCESS")
        except FileNotFoundError:
            return None
        return str(info.get("ETag") or "") if _conditional_puts(self.fs) else ""

    def _publish_manifest(self, data: bytes, replaced: str | None) -> None:
        """Write ``_SUCCESS`` only over the manifest this job read (none, in mode error).

        On S3 the store enforces it (``If-None-Match: *``, ``If-Match: ETAG``): output another
        writer published meanwhile is never replaced, claim or no claim. Elsewhere a new
        manifest is created exclusively where the store can, and replaced unconditionally.
        """
        fs, success = self.fs, f"{self.root}/_SUCCESS"
        try:
            if replaced is None:
                try:
                    fs.pipe_file(success, data, mode="create")
                except TypeError:  # a store whose pipe_file has no mode
                    fs.pipe_file(success, data)
            elif replaced and _conditional_puts(fs):
                fs.pipe_file(success, data, IfMatch=replaced)
            else:
                fs.pipe_file(success, data)
        except FileExistsError:
            raise self._exists_error() from None
        except OSError as exc:
            if replaced and exc.errno == errno.EINVAL:  # s3fs' PreconditionFailed (If-Match)
                raise OutputBusyError(f"output {self.path} was published by another writer while this job ran; "
                                      "nothing of this job's was published", target=self.path) from None
            raise
        finally:
            fs.invalidate_cache(success)

    def _remove(self, path: str, recursive: bool = False) -> None:
        try:
            if self.fs.exists(path):
                self.fs.rm(path, recursive=recursive)
        except FileNotFoundError:
            pass


def _conditional_puts(fs) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("s3", "s3a")


def _records_of(fs, root: str) -> int:
    try:
        with fs.open(f"{root}/_SUCCESS", "rb") as f:
            return int(json.loads(f.read() or b"{}").get("records", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0
