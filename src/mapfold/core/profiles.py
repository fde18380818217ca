"""One configuration: ``mapfold.toml`` (or ``[tool.mapfold]`` in
``pyproject.toml``, or the file ``MAPFOLD_CONFIG`` names), with named profiles.

A file holds base settings and ``[profiles.NAME]`` tables that overlay them;
``profile = "NAME"`` at the top picks the default one::

    profile = "laptop"
    memory_limit = "512MB"

    [profiles.laptop]
    runner = "processes"
    workers = 2

    [profiles.cluster]
    runner = "dask"
    address = "tcp://10.0.0.5:8786"

    [profiles.cluster.storage_options]
    profile = "${AWS_PROFILE}"        # a reference, never the secret itself

The settings are ``runner``, ``address`` (``master`` for Spark),
``workers``, ``memory_limit``, ``conf`` (engine settings, e.g. Spark's),
``storage_options``, ``max_package_size`` (``mapfold submit``); any other
key is an option of the runner. Strongest first: the code's own choice
(``mf.runner(...)``, ``runner=``), the command line, the environment
(``MAPFOLD_RUNNER``, ``MAPFOLD_ADDRESS``, ``MAPFOLD_MEMORY_LIMIT``,
``MAPFOLD_PROFILE``), the file's profile, the file's base settings, the
defaults. Every value is a :class:`~mapfold.core.config.Setting`: it says
which source decided it.

A value ``"${NAME}"`` is read from the environment when the settings are
resolved; a literal value under a key that names a secret (``secret``,
``password``, ``token``, ``key``) is refused, so a file can be committed.

This module reads files and the environment only; choosing a runner with
the result is the command line's job (``mapfold.cli.settings``).
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any, Mapping

from .config import Setting
from .errors import MapfoldError

__all__ = ["ConfigError", "ConfigFile", "Settings", "find_config", "load_config", "resolve_settings",
           "expand_references", "ENVIRONMENT", "FILE_NAME"]

FILE_NAME = "mapfold.toml"
# the settings the environment may give, and by which variable
ENVIRONMENT = {"runner": "MAPFOLD_RUNNER", "address": "MAPFOLD_ADDRESS", "memory_limit": "MAPFOLD_MEMORY_LIMIT"}
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_KEY = re.compile(r"secret|password|passwd|token|(^|[._-])key$|_key($|[._-])|credential", re.I)
_TABLES = ("conf", "storage_options")


class ConfigError(MapfoldError, ValueError):
    """A configuration file or setting that cannot be used; names the file and the key."""

    def __init__(self, message: str, path: str | None = None, key: str | None = None):
        where = ", ".join(part for part in (path, key and f"key {key}") if part)
        super().__init__(f"{message} ({where})" if where else message)
        self.path = path
        self.key = key


@dataclass(frozen=True)
class ConfigFile:
    """A configuration file's mapfold table, where it was found and why."""

    path: str | None
    data: dict = field(default_factory=dict)
    found_by: str = "none"  # "-c", "environment MAPFOLD_CONFIG", "mapfold.toml in ...", ...

    @property
    def label(self) -> str:
        """How a setting from this file names its source.

        >>> ConfigFile("/p/mapfold.toml").label
        'file /p/mapfold.toml'
        """
        return f"file {self.path}"

    def profiles(self) -> list[str]:
        """The names of the file's profiles, sorted.

        >>> ConfigFile(None, {"profiles": {"b": {}, "a": {}}}).profiles()
        ['a', 'b']
        """
        return sorted(self.data.get("profiles", {}))


def read_toml(path: str, missing: str = "configuration file not found") -> dict:
    """The TOML document at ``path``; a missing or malformed file is a :class:`ConfigError` naming it.

    >>> read_toml("/nonexistent/mapfold.toml")
    Traceback (most recent call last):
    ...
    mapfold.core.profiles.ConfigError: configuration file not found (/nonexistent/mapfold.toml)
    """
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(missing, path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path) from None


def load_config(path: str | os.PathLike, found_by: str = "-c") -> ConfigFile:
    """Read ``path``: a ``mapfold.toml``, or a ``pyproject.toml``'s ``[tool.mapfold]``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "mapfold.toml")
    >>> _ = open(path, "w").write('runner = "serial"\\n')
    >>> load_config(path).data
    {'runner': 'serial'}
    """
    path = os.fspath(path)
    data = read_toml(path)
    if os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("mapfold", {})
    if not isinstance(data.get("profiles", {}), dict):
        raise ConfigError("'profiles' must be a table of [profiles.NAME] tables", path, "profiles")
    return ConfigFile(os.path.abspath(path), data, found_by)


def find_config(explicit: str | None = None, start: str | None = None,
                environ: Mapping[str, str] | None = None) -> ConfigFile:
    """The configuration in force: ``explicit`` (``-c``), else the file
    ``MAPFOLD_CONFIG`` names, else the nearest ``mapfold.toml`` or
    ``pyproject.toml`` with a ``[tool.mapfold]`` table in ``start`` (the
    working directory) or a folder above it; else an empty one.

    >>> import tempfile
    >>> find_config(start=tempfile.mkdtemp(), environ={}).path is None
    True
    """
    environ = os.environ if environ is None else environ
    if explicit:
        return load_config(explicit, "-c/--config")
    if environ.get("MAPFOLD_CONFIG"):
        return load_config(environ["MAPFOLD_CONFIG"], "environment MAPFOLD_CONFIG")
    folder = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(folder, FILE_NAME)
        if os.path.isfile(candidate):
            return load_config(candidate, f"{FILE_NAME} in {folder}")
        pyproject = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(pyproject):
            found = load_config(pyproject, f"[tool.mapfold] of {pyproject}")
            if found.data:
                return found
        parent = os.path.dirname(folder)
        if parent == folder:
            return ConfigFile(None)
        folder = parent


def expand_references(value: Any, environ: Mapping[str, str], where: str = "", path: str | None = None) -> Any:
    """``"${NAME}"`` (anywhere in a string, in nested tables too) from the environment.

    >>> expand_references({"profile": "${P}", "n": 2}, {"P": "dev"})
    {'profile': 'dev', 'n': 2}
    >>> expand_references("${NOPE}", {}, "storage_options.token")
    Traceback (most recent call last):
    mapfold.core.profiles.ConfigError: environment variable NOPE is not set (key storage_options.token)
    """
    if isinstance(value, dict):
        return {k: expand_references(v, environ, f"{where}.{k}" if where else k, path) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_references(v, environ, where, path) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"environment variable {name} is not set", path, where or None)
        return environ[name]

    return _REFERENCE.sub(replace, value)


def check_no_secrets(table: dict, path: str | None, where: str = "") -> None:
    """Refuse a literal value under a key that names a secret: write ``"${VAR}"``.

    >>> check_no_secrets({"profile": "dev", "secret": "${AWS_SECRET_ACCESS_KEY}"}, "m.toml")
    >>> check_no_secrets({"storage_options": {"secret": "abc"}}, "m.toml")
    Traceback (most recent call last):
    mapfold.core.profiles.ConfigError: a secret written in the configuration file: write "${SOME_VARIABLE}" and set it in the environment (m.toml, key storage_options.secret)
    """
    for key, value in table.items():
        name = f"{where}.{key}" if where else str(key)
        if isinstance(value, dict):
            check_no_secrets(value, path, name)
        elif isinstance(value, str) and _SECRET_KEY.search(str(key)) and not _REFERENCE.fullmatch(value):
            raise ConfigError('a secret written in the configuration file: write "${SOME_VARIABLE}" and set it '
                              'in the environment', path, name)


class Settings:
    """Resolved settings: each a :class:`Setting` with the source that decided it.

    >>> s = Settings({"runner": Setting("serial", "command line -r")}, "default")
    >>> s.value("runner"), s.value("workers", 4)
    ('serial', 4)
    """

    def __init__(self, settings: dict[str, Setting], profile: Setting | None = None,
                 config: ConfigFile | None = None, shown: dict[str, Any] | None = None):
        self.settings = dict(settings)
        self.profile = profile if isinstance(profile, Setting) else Setting(profile, "default")
        self.config = config or ConfigFile(None)
        self._shown = dict(shown or {})  # values as the file wrote them (references unexpanded)

    def value(self, key: str, default: Any = None) -> Any:
        setting = self.settings.get(key)
        return default if setting is None else setting.value

    def source(self, key: str) -> str | None:
        setting = self.settings.get(key)
        return None if setting is None else setting.source

    def __contains__(self, key: str) -> bool:
        return key in self.settings

    def items(self):
        return sorted(self.settings.items())

    def shown(self, key: str) -> Any:
        """The value as it may be printed: references (``${AWS_PROFILE}``) left as written."""
        return self._shown.get(key, self.value(key))

    def lines(self) -> list[str]:
        """``key = value  (from source)``, one per setting: what ``mapfold config show`` prints.

        >>> Settings({"runner": Setting("dask", "environment MAPFOLD_RUNNER")}).lines()
        ['runner = dask  (from environment MAPFOLD_RUNNER)']
        """
        out = []
        for key, setting in self.items():
            out.append(f"{key} = {_show(self.shown(key))}  (from {setting.source})")
        return out


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


def resolve_settings(command_line: Mapping[str, Any] | None = None, profile: str | None = None,
                     config: ConfigFile | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge the command line, the environment and the file's profile and base
    settings, strongest first (the defaults are the runners' own).

    >>> file = ConfigFile("/p/mapfold.toml", {"runner": "processes", "workers": 2,
    ...                                       "profiles": {"big": {"runner": "dask", "workers": 8}}})
    >>> s = resolve_settings({"workers": 3}, "big", file, environ={})
    >>> s.settings["runner"], s.settings["workers"]
    (Setting(value='dask', source='file /p/mapfold.toml, profile big'), Setting(value=3, source='command line'))
    >>> resolve_settings({}, None, file, environ={"MAPFOLD_RUNNER": "serial"}).settings["runner"].source
    'environment MAPFOLD_RUNNER'
    """
    environ = os.environ if environ is None else environ
    config = config or ConfigFile(None)
    data = config.data
    chosen = _profile_setting(profile, config, environ)
    layers: list[tuple[str, dict]] = [(config.label, {k: v for k, v in data.items() if k not in ("profiles", "profile")})]
    if chosen.value is not None:
        table = data.get("profiles", {}).get(chosen.value)
        if table is None:
            known = ", ".join(config.profiles()) or "none"
            raise ConfigError(f"no profile {chosen.value!r} (chosen by {chosen.source}); profiles: {known}",
                              config.path, "profiles")
        layers.append((f"{config.label}, profile {chosen.value}", table))
    settings: dict[str, Setting] = {}
    shown: dict[str, Any] = {}
    for label, table in layers:
        check_no_secrets(table, config.path)
        for key, value in table.items():
            if key in _TABLES and isinstance(value, dict) and key in settings:  # tables merge, key by key
                merged = {**settings[key].value, **expand_references(value, environ, key, config.path)}
                settings[key] = Setting(merged, label)
                shown[key] = {**shown.get(key, {}), **value}
            else:
                settings[key] = Setting(expand_references(value, environ, key, config.path), label)
                shown[key] = value
    for key, variable in ENVIRONMENT.items():
        if environ.get(variable):
            settings[key] = Setting(environ[variable], f"environment {variable}")
            shown.pop(key, None)
    for key, value in (command_line or {}).items():
        if value is None:
            continue
        if key in _TABLES and key in settings and isinstance(value, dict):
            value = {**settings[key].value, **value}
        settings[key] = Setting(value, "command line")
        shown.pop(key, None)
    return Settings(settings, chosen, config, shown)


def _profile_setting(profile: str | None, config: ConfigFile, environ: Mapping[str, str]) -> Setting:
    if profile:
        return Setting(profile, "command line --profile")
    if environ.get("MAPFOLD_PROFILE"):
        return Setting(environ["MAPFOLD_PROFILE"], "environment MAPFOLD_PROFILE")
    if config.data.get("profile"):
        return Setting(config.data["profile"], config.label)
    return Setting(None, "default")
