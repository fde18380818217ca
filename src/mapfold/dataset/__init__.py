"""Dataset: the lazy, partitioned collection users hold; its sources, actions and writers."""
