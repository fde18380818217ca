"""The logical plan (nodes) and its compilation into stages of tasks."""
