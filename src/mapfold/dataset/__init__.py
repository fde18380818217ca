"""The Dataset: lazy, partitioned collections and their operations."""
