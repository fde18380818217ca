"""``StorageLevel``: PySpark's named storage levels.

mapfold's runner decides where persisted partitions live (memory on the
serial runner, pickle files on processes, the engine's store on dask, Spark
and Ray: ``Dataset.persist``); a level changes where data is kept, never
results, so ``RDD.persist(level)`` keeps the level for ``getStorageLevel()``
and the runner keeps the partitions its way.

>>> StorageLevel.MEMORY_AND_DISK
StorageLevel(True, True, False, False, 1)
>>> str(StorageLevel.DISK_ONLY_2)
'Disk Serialized 2x Replicated'
"""
from __future__ import annotations

__all__ = ["StorageLevel"]


class StorageLevel:
    """Flags for where an RDD's partitions are kept, as PySpark's."""

    NONE: "StorageLevel"
    DISK_ONLY: "StorageLevel"
    DISK_ONLY_2: "StorageLevel"
    DISK_ONLY_3: "StorageLevel"
    MEMORY_ONLY: "StorageLevel"
    MEMORY_ONLY_2: "StorageLevel"
    MEMORY_AND_DISK: "StorageLevel"
    MEMORY_AND_DISK_2: "StorageLevel"
    MEMORY_AND_DISK_DESER: "StorageLevel"
    OFF_HEAP: "StorageLevel"

    def __init__(self, useDisk: bool, useMemory: bool, useOffHeap: bool, deserialized: bool, replication: int = 1):
        self.useDisk, self.useMemory, self.useOffHeap = useDisk, useMemory, useOffHeap
        self.deserialized, self.replication = deserialized, replication

    def _key(self) -> tuple:
        return (self.useDisk, self.useMemory, self.useOffHeap, self.deserialized, self.replication)

    def __eq__(self, other) -> bool:
        return isinstance(other, StorageLevel) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "StorageLevel(%s, %s, %s, %s, %s)" % self._key()

    def __str__(self) -> str:
        result = ""
        result += "Disk " if self.useDisk else ""
        result += "Memory " if self.useMemory else ""
        result += "OffHeap " if self.useOffHeap else ""
        result += "Deserialized " if self.deserialized else "Serialized "
        result += "%sx Replicated" % self.replication
        return result


StorageLevel.NONE = StorageLevel(False, False, False, False)
StorageLevel.DISK_ONLY = StorageLevel(True, False, False, False)
StorageLevel.DISK_ONLY_2 = StorageLevel(True, False, False, False, 2)
StorageLevel.DISK_ONLY_3 = StorageLevel(True, False, False, False, 3)
StorageLevel.MEMORY_ONLY = StorageLevel(False, True, False, False)
StorageLevel.MEMORY_ONLY_2 = StorageLevel(False, True, False, False, 2)
StorageLevel.MEMORY_AND_DISK = StorageLevel(True, True, False, False)
StorageLevel.MEMORY_AND_DISK_2 = StorageLevel(True, True, False, False, 2)
StorageLevel.OFF_HEAP = StorageLevel(True, True, True, False, 1)
StorageLevel.MEMORY_AND_DISK_DESER = StorageLevel(True, True, False, True)
