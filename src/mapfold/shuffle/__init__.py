"""The shuffle: partitioners, map-side writer, reduce-side reader."""
from .partitioner import HashPartitioner

__all__ = ["HashPartitioner"]
