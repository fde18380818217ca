"""mrjob.conf files: ``runners: {RUNNER: {option: value}}``, found as mrjob finds them.

The files are ``-c PATH`` (any number; ``--no-conf`` for none), else the
first that exists of ``$MRJOB_CONF``, ``~/.mrjob.conf``, ``/etc/mrjob.conf``.
A file may ``include:`` others (paths relative to it), read first, so the
including file wins. The section read is the runner's: ``-r local`` reads
``runners.local`` (and ``runners.processes``, its mapfold name), ``-r
inline`` ``runners.inline`` (and ``serial``); later files override earlier
ones, ``jobconf`` and ``cmdenv`` merge key by key.

Options with a meaning here are used (:data:`OPTIONS`); every other one
is named in a :class:`ConfWarning`, with its file, and changes nothing:
mapfold never guesses what an option it does not run should do. Values
given on the command line win over the files'.

YAML needs PyYAML (``pip install 'mapfold[jobs]'``); without it a file
written as JSON still reads, as in mrjob.

>>> import tempfile, os, warnings
>>> path = os.path.join(tempfile.mkdtemp(), "mrjob.conf")
>>> _ = open(path, "w").write("runners:\\n  local:\\n    num_cores: 3\\n    jobconf: {a.b: 1}\\n    setup: [x]\\n")
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     opts = runner_options([path], ["local", "processes"])
>>> opts
{'num_cores': 3, 'jobconf': {'a.b': 1}}
>>> print(caught[0].message)
mrjob.conf option 'setup' (runners.local in ...mrjob.conf) is not used by mapfold: ignored
"""
from __future__ import annotations

import json
import os
import warnings
from typing import Any

from ..core.errors import MapfoldError

__all__ = ["ConfError", "ConfWarning", "OPTIONS", "find_conf", "conf_paths", "runner_options", "RUNNER_SECTIONS"]

# the options mapfold reads, and what they mean here
OPTIONS = {
    "num_cores": "worker processes of the local/processes runner (--num-cores)",
    "jobconf": "job configuration, under JOBCONF and -D (a mapping)",
    "cmdenv": "environment variables of every task, under --cmdenv (a mapping)",
    "hadoop_bin": "-r hadoop: the hadoop command (--hadoop-bin)",
    "hadoop_streaming_jar": "-r hadoop: the streaming jar (--hadoop-streaming-jar)",
    "hadoop_tmp_dir": "-r hadoop: where intermediate output goes (--hadoop-tmp-dir)",
    "python_bin": "-r hadoop: the Python of the tasks on the nodes (--python-bin)",
    "task_python_bin": "-r hadoop: the same as python_bin (mrjob's finer name)",
    "memory_limit": "mapfold: the shuffle's memory budget per worker (--memory-limit)",
}
_MAPPINGS = ("jobconf", "cmdenv")
# which runners.* sections a runner reads: its mrjob name and its mapfold name
RUNNER_SECTIONS = {"inline": ("inline", "serial"), "serial": ("inline", "serial"),
                   "local": ("local", "processes"), "processes": ("local", "processes")}


class ConfError(MapfoldError):
    """An mrjob.conf file that cannot be read (names the file)."""


class ConfWarning(UserWarning):
    """An mrjob.conf option mapfold does not use (names the option and the file)."""


def find_conf(environ: dict | None = None) -> str | None:
    """The first of ``$MRJOB_CONF``, ``~/.mrjob.conf``, ``/etc/mrjob.conf`` that exists (mrjob's order).

    >>> find_conf({"MRJOB_CONF": "/nonexistent"}) in (None, os.path.expanduser("~/.mrjob.conf"), "/etc/mrjob.conf")
    True
    """
    environ = os.environ if environ is None else environ
    candidates = []
    if "MRJOB_CONF" in environ:
        candidates.append(os.path.expandvars(os.path.expanduser(environ["MRJOB_CONF"])))
    candidates += [os.path.expanduser(os.path.join("~", ".mrjob.conf")), "/etc/mrjob.conf"]
    return next((path for path in candidates if os.path.exists(path)), None)


def conf_paths(given: list[str], no_conf: bool) -> list[str]:
    """The files a job reads: ``-c`` paths, none with ``--no-conf``, else the one :func:`find_conf` finds."""
    if no_conf:
        return []
    if given:
        return [os.path.expandvars(os.path.expanduser(path)) for path in given]
    found = find_conf()
    return [found] if found else []


def _parse(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ConfError(f"mrjob.conf {path}: cannot be read: {exc}") from exc
    try:
        import yaml  # optional: mapfold[jobs]
    except ImportError:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfError(f"mrjob.conf {path} is YAML, which needs PyYAML: pip install 'mapfold[jobs]' "
                            "(or write it as JSON)") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfError(f"mrjob.conf {path}: not valid YAML: {exc}") from exc


def _sections(path: str, sections: list[str], seen: set) -> list[tuple[str, str, dict]]:
    """``(file, section, options)`` of ``path`` and its includes, includes first."""
    real = os.path.realpath(path)
    if real in seen:
        return []
    seen.add(real)
    conf = _parse(path)
    if conf is None:
        return []
    if not isinstance(conf, dict):
        raise ConfError(f"mrjob.conf {path}: expected a mapping with 'runners:', got {type(conf).__name__}")
    found: list[tuple[str, str, dict]] = []
    includes = conf.get("include") or []
    for include in [includes] if isinstance(includes, str) else includes:
        include = os.path.join(os.path.dirname(real), os.path.expanduser(include))
        found += _sections(include, sections, seen)
    runners = conf.get("runners") or {}
    for section in sections:
        values = runners.get(section) if isinstance(runners, dict) else None
        if values:
            if not isinstance(values, dict):
                raise ConfError(f"mrjob.conf {path}: runners.{section} must be a mapping of options")
            found.append((path, section, values))
    return found


def runner_options(paths: list[str], sections: list[str]) -> dict:
    """The options of ``sections`` (e.g. ``["local", "processes"]``) in ``paths``, later ones winning.

    Options mapfold does not use are left out, each with a :class:`ConfWarning`.
    """
    merged: dict = {}
    seen: set = set()
    for path in paths:
        for file, section, values in _sections(path, sections, seen):
            for option, value in values.items():
                if option not in OPTIONS:
                    warnings.warn(ConfWarning(f"mrjob.conf option {option!r} (runners.{section} in {file}) is not "
                                              "used by mapfold: ignored"), stacklevel=2)
                    continue
                if option in _MAPPINGS:
                    if not isinstance(value, dict):
                        raise ConfError(f"mrjob.conf {file}: runners.{section}.{option} must be a mapping")
                    merged[option] = {**merged.get(option, {}), **value}
                elif value is not None:
                    merged[option] = value
    if "task_python_bin" in merged:
        merged["python_bin"] = merged.pop("task_python_bin")
    return merged
