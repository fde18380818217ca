"""``mapfold.storage``: put files into a bucket with metadata; list and filter them.

The code lives in ``mapfold/io/storage.py`` (the io layer); this module is
its public name.
"""
from .io.storage import Store, StoredObject

__all__ = ["Store", "StoredObject"]
