"""Sources and sinks: file listing, splits, formats, compression, atomic commit."""
