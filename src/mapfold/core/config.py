"""Configuration: explicit arguments win over the environment, the
environment over defaults, and each value remembers which source decided."""
from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Setting", "resolve", "default_workers", "default_memory_limit"]


@dataclass(frozen=True)
class Setting:
    value: object
    source: str  # "argument", "context", "environment MAPFOLD_X", "default"

    def __str__(self) -> str:
        return f"{self.value} (from {self.source})"


def resolve(argument, env_name: str, default, context=None) -> Setting:
    if argument is not None:
        return Setting(argument, "argument")
    if context is not None:
        return Setting(context, "context")
    env = os.environ.get(env_name)
    if env not in (None, ""):
        return Setting(env, f"environment {env_name}")
    return Setting(default, "default")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_memory_limit(workers: int) -> int:
    """Per-worker memory budget for shuffles: a quarter of RAM shared out."""
    try:
        import psutil

        total = psutil.virtual_memory().total
    except Exception:
        total = 4 << 30
    return max(64 << 20, total // 4 // max(1, workers))
