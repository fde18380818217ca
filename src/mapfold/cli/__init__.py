"""The ``mapfold`` command line."""
