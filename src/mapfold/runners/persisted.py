"""The persisted partitions a runner holds.

``Dataset.persist()`` only builds a plan node (``plan.nodes.PersistNode``);
the partitions computed for it belong to the runner that computed them, in
one :class:`PersistedPartitions` per runner (``runner.persisted``). Keeping
them per runner object, not on the plan node keyed by ``id(runner)``, is
what makes a closed runner forget them: a new runner that happens to get a
freed runner's id starts empty and recomputes, where it used to read the
pickle files of a removed scratch folder (``FileNotFoundError``).

What a runner keeps for each partition is its own business: a list (serial),
the path of a pickle file in a folder of the runner's scratch (processes),
an engine reference (dask futures, Ray objects, a persisted Spark RDD). An
entry is released, its folder removed and its engine references dropped:

* by ``Dataset.unpersist()``, on every runner that holds it (the node keeps
  a weak set of the stores holding it);
* by ``runner.close()``, for all of them;
* when the persisted Dataset and everything built on it are gone (a
  finalizer on the node), so a dropped Dataset frees its files.

Driver-side only; entries may be released from a garbage-collection
finalizer, hence the re-entrant lock.
"""
from __future__ import annotations

import os
import shutil
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["PersistedPartitions"]


@dataclass
class _Entry:
    values: list  # one per partition, in partition order
    directory: str | None  # the folder of its pickle files, if any
    node: Any = field(default=None, repr=False)  # a weak reference to the persist node
    finalizer: Any = field(default=None, repr=False)  # releases the entry when the node is collected


class PersistedPartitions:
    """One runner's persisted partitions, by persist node.

    ``scratch`` gives the runner's private folder (it may create it), where
    the pickle files of persisted partitions go.

    >>> from mapfold.plan.nodes import PersistNode, SourceNode
    >>> node = PersistNode(SourceNode(None, [None, None]))
    >>> store = PersistedPartitions(lambda: "/nonexistent")
    >>> store.get(node) is None
    True
    >>> store.put(node, [[1, 2], [3]])
    >>> store.get(node), node.id in store, len(store)
    ([[1, 2], [3]], True, 1)
    >>> store.release(node)
    True
    >>> store.get(node) is None, len(store)
    (True, 0)
    """

    def __init__(self, scratch: Callable[[], str]):
        self._scratch = scratch
        self._entries: dict[int, _Entry] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, node_id: int) -> bool:
        return node_id in self._entries

    def get(self, node) -> list | None:
        """The kept partitions of ``node``, or ``None`` when this runner has not computed it."""
        entry = self._entries.get(node.id)
        return None if entry is None else entry.values

    def folder(self, node) -> str:
        """A new private folder in the runner's scratch for ``node``'s pickle files."""
        directory = os.path.join(self._scratch(), f"persist-{node.id}-{uuid.uuid4().hex[:8]}")
        os.makedirs(directory, mode=0o700)
        return directory

    def put(self, node, values: list, directory: str | None = None) -> None:
        """Keep ``values`` (one per partition) for ``node``, replacing what was kept."""
        with self._lock:
            self.release(node)
            # the finalizer holds the store weakly: a node outliving its runner keeps no runner alive
            finalizer = weakref.finalize(node, _release_dropped, weakref.ref(self), node.id)
            finalizer.atexit = False  # at exit, close() (or the process's end) cleans up
            self._entries[node.id] = _Entry(list(values), directory, weakref.ref(node), finalizer)
            node.holders.add(self)

    def release(self, node) -> bool:
        """Drop ``node``'s partitions: files removed, engine references released.
        True when there was something to drop."""
        return self._release_id(node.id)

    def clear(self) -> None:
        """Release every entry (``runner.close()``)."""
        with self._lock:
            for node_id in list(self._entries):
                self._release_id(node_id)

    def _release_id(self, node_id: int) -> bool:
        with self._lock:
            entry = self._entries.pop(node_id, None)
        if entry is None:
            return False
        if entry.finalizer is not None:
            entry.finalizer.detach()
        node = entry.node() if entry.node is not None else None
        if node is not None:
            node.holders.discard(self)
        for value in entry.values:
            release = getattr(value, "release", None)  # an engine reference (engine_tasks.RemoteValue)
            if release is not None:
                try:
                    release()
                except Exception:  # the engine is already gone: nothing is left to free
                    pass
        if entry.directory is not None:
            shutil.rmtree(entry.directory, ignore_errors=True)
        return True


def _release_dropped(store_ref: weakref.ref, node_id: int) -> None:
    # the persisted Dataset and every plan built on it are gone: nobody can read the entry again
    store = store_ref()
    if store is not None:
        store._release_id(node_id)
