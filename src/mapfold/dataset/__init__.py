"""The Dataset users hold: lazy, partitioned collections, their transformations and actions."""
