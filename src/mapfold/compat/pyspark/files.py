"""``SparkFiles``: files added with ``sc.addFile``, found by name in tasks and on the driver.

``sc.addFile`` copies a file into the SparkContext's own folder and names
that folder in the process environment (``MAPFOLD_SPARK_FILES``), which
forked and spawned local workers inherit, as PySpark's workers find
``SparkFiles.getRootDirectory()`` in theirs. Engine workers on other
machines do not see the driver's folder: ship the file with the engine.
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
            raise MapfoldError("SparkFiles: no file was added; call sc.addFile(path) before SparkFiles.get(name)")
        return root

    @classmethod
    def get(cls, filename: str) -> str:
        """The path of the added file ``filename`` (its base name)."""
        return os.path.join(cls.getRootDirectory(), filename)
