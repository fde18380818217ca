"""Configuration: explicit arguments win over the environment, the
environment over defaults, and each value remembers which source decided."""
from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Setting", "resolve", "default_workers", "default_memory_limit", "parse_size", "format_size",
           "memory_limit_setting", "parse_duration"]


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


_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}


def parse_size(value) -> int:
    """Bytes from an int or a string such as ``"64MB"``, ``"1.5 GiB"``, ``"512k"``
    (kB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024, as in Dask).

    >>> parse_size("64MB"), parse_size("1 KiB"), parse_size(4096)
    (64000000, 1024, 4096)
    """
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, (int, float)):
        size = int(value)
    else:
        import re

        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(value))
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _UNITS:
            raise ValueError(f"not a size: {value!r}; write bytes or e.g. '64MB', '1.5GiB' "
                             f"(units: {', '.join(u for u in _UNITS if u)})")
        size = int(float(match.group(1)) * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"a size must be positive, not {value!r}")
    return size


def format_size(size: int) -> str:
    """``format_size(3 << 30) == '3.0 GiB'``.

    >>> format_size(1536)
    '1.5 KiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


def memory_limit_setting(runner_value=None, workers: int = 1) -> Setting:
    """The shuffle memory budget per worker: the runner's ``memory_limit``
    option, else ``MAPFOLD_MEMORY_LIMIT``, else :func:`default_memory_limit`.
    The value of the returned setting is in bytes.

    >>> memory_limit_setting("8MB").value
    8000000
    """
    setting = resolve(None, "MAPFOLD_MEMORY_LIMIT", None, context=runner_value)
    if setting.value is None:
        return Setting(default_memory_limit(workers), "default (a quarter of RAM shared by the workers)")
    source = "runner option memory_limit" if setting.source == "context" else setting.source
    return Setting(parse_size(setting.value), source)


_SECONDS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value) -> float:
    """Seconds from a number or a string such as ``"90"``, ``"30m"``, ``"2h"``, ``"1d"``.

    >>> parse_duration("30m"), parse_duration("1.5h"), parse_duration(10)
    (1800.0, 5400.0, 10.0)
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        import re

        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(value))
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _SECONDS:
            raise ValueError(f"not a duration: {value!r}; write seconds or e.g. '30m', '2h', '1d'")
        seconds = float(match.group(1)) * _SECONDS[unit]
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, not {value!r}")
    return seconds
