"""Compatibility layers over the Dataset API (PySpark's RDD names)."""
