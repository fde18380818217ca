"""Core services every layer uses: errors, serialization, hashing, config, progress."""
