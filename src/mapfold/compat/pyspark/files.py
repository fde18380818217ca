"""``SparkFiles``: files added with ``sc.addFile``, found by name in tasks and on the driver.

A SparkContext makes its own folder when it starts and names it in the
process environment (``MAPFOLD_SPARK_FILES``) before its runner starts any
worker, so local workers (forked or spawned later) inherit it, as PySpark's
workers find ``SparkFiles.getRootDirectory()`` in theirs; ``sc.addFile``
copies files there. A runner passed in already running, or engine workers
on other machines, do not see the driver's folder: ship the file with the
engine. The last SparkContext started in a process names the folder.
"""
from __future__ import annotations

import os

from ...core.errors import MapfoldError

__all__ = ["SparkFiles", "ENVIRONMENT"]

ENVIRONMENT = "MAPFOLD_SPARK_FILES"


class SparkFiles:
    """Where added files are; never instantiated, as PySpark's."""

    def __init__(self):
        raise NotImplementedError("SparkFiles is not meant to be instantiated; use SparkFiles.get(name)")

    @classmethod
    def getRootDirectory(cls) -> str:
        root = os.environ.get(ENVIRONMENT)
        if not root:
            raise MapfoldError("SparkFiles: no SparkContext runs here; start one, and sc.addFile(path), before "
                               "SparkFiles.get(name)")
        return root

    @classmethod
    def get(cls, filename: str) -> str:
        """The path of the added file ``filename`` (its base name)."""
        return os.path.join(cls.getRootDirectory(), filename)
