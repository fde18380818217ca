"""From the command line, the environment and the configuration file to a runner.

``--runner-option K=V`` values are read as TOML values when they parse as
one (``workers=2`` is an int, ``ship_mapfold=false`` a bool), else kept as
text; ``conf.spark.executor.memory=2g`` sets one key of the ``conf`` table.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import tomllib
from typing import Any, Iterable, Iterator

from ..core.config import Setting
from ..core.profiles import ConfigError, Settings, find_config, resolve_settings
from ..runners import RUNNERS, Runner, make_runner, runner_class

__all__ = ["parse_runner_options", "command_settings", "runner_options", "build_runner", "storage_defaults",
           "NOT_RUNNER_OPTIONS"]

# settings that configure mapfold itself, not a runner's constructor
NOT_RUNNER_OPTIONS = frozenset({"runner", "storage_options", "max_package_size", "submit", "deploy_mode"})
_ALIASES = {"spark": {"address": "master"}, "dask": {"master": "address"}, "ray": {"master": "address"}}


def parse_runner_options(pairs: Iterable[str]) -> dict[str, Any]:
    """``["workers=2", "conf.spark.ui.enabled=false", "address=tcp://h:8786"]`` as settings.

    >>> parse_runner_options(["workers=2", "conf.spark.ui.enabled=false", "address=tcp://h:8786"])
    {'workers': 2, 'conf': {'spark.ui.enabled': False}, 'address': 'tcp://h:8786'}
    >>> parse_runner_options(["oops"])
    Traceback (most recent call last):
    mapfold.core.profiles.ConfigError: --runner-option wants KEY=VALUE, not 'oops'
    """
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--runner-option wants KEY=VALUE, not {pair!r}")
        value = _value(text)
        table, dot, sub = key.partition(".")
        if dot and table in ("conf", "storage_options"):
            options.setdefault(table, {})[sub] = value
        else:
            options[key] = value
    return options


def _value(text: str) -> Any:
    """A TOML value if ``text`` is one, else the text itself.

    >>> _value("3"), _value("1.5"), _value("true"), _value("512MB"), _value('"x"')
    (3, 1.5, True, '512MB', 'x')
    """
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def command_settings(runner: str | None = None, options: Iterable[str] = (), config: str | None = None,
                     profile: str | None = None, environ=None, start: str | None = None) -> Settings:
    """The settings of one command: ``-r``, ``--runner-option``s, ``-c``, ``--profile``.

    >>> import tempfile
    >>> command_settings("serial", ["workers=2"], environ={}, start=tempfile.mkdtemp()).lines()
    ['runner = serial  (from command line)', 'workers = 2  (from command line)']
    """
    file = find_config(config, start, environ)
    given = {**parse_runner_options(options), "runner": runner}
    settings = resolve_settings(given, profile, file, environ)
    settings.settings.setdefault("runner", Setting("processes", "default"))
    return settings


def runner_options(name: str, settings: Settings) -> dict[str, Setting]:
    """The settings that go to the ``name`` runner's constructor, by the
    name it takes them under. One it does not take is an error naming its
    source, except a file's option when a stronger source (the command line,
    the environment) chose another runner than the file did: a profile's
    ``workers = 2`` for processes does not stop ``-r spark``.

    >>> from mapfold.core.profiles import Settings
    >>> s = Settings({"runner": Setting("serial", "command line"), "memory_limit": Setting("8MB", "file m.toml"),
    ...               "workers": Setting(2, "file m.toml")})
    >>> runner_options("serial", s)
    {'memory_limit': Setting(value='8MB', source='file m.toml')}
    """
    cls = runner_class(name)
    signature = inspect.signature(cls.__init__)
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    accepted = set(signature.parameters) - {"self"} | {"memory_limit", "event_log", "dashboard", "report"}
    aliases = _ALIASES.get(name, {})
    chosen_by_file = (settings.source("runner") or "").startswith("file ")
    out: dict[str, Setting] = {}
    for key, setting in settings.items():
        if key in NOT_RUNNER_OPTIONS:
            continue
        target = aliases.get(key, key)
        if target == "conf" and "conf" not in accepted:
            if setting.value:
                raise ConfigError(f"the {name} runner takes no engine 'conf' (from {setting.source})", key="conf")
            continue
        if target not in accepted and not takes_any:
            if setting.source.startswith("file ") and not chosen_by_file:
                continue  # the file's option for the file's runner, not the one chosen over it
            takes = ", ".join(sorted(accepted - {"context", "client", "security"}))
            raise ConfigError(f"the {name} runner takes no option {key!r} (from {setting.source}); "
                              f"it takes: {takes}", key=key)
        out[target] = setting
    return out


def build_runner(settings: Settings) -> tuple[Runner, Setting]:
    """A new runner from resolved settings, and the setting that chose its kind.

    >>> from mapfold.core.profiles import Settings
    >>> runner, chosen = build_runner(Settings({"runner": Setting("serial", "command line")}))
    >>> runner.name, chosen.source
    ('serial', 'command line')
    >>> runner.close()
    """
    chosen = settings.settings.get("runner") or Setting("processes", "default")
    name = str(chosen.value)
    if name not in RUNNERS:
        raise ConfigError(f"unknown runner {name!r} (from {chosen.source}); choose one of: {', '.join(RUNNERS)}",
                          key="runner")
    options = {key: setting.value for key, setting in runner_options(name, settings).items()}
    return make_runner(name, **options), chosen


@contextlib.contextmanager
def storage_defaults(settings: Settings) -> Iterator[dict]:
    """The ``storage_options`` setting, a table per protocol (``[...storage_options.s3]``), as
    fsspec's defaults for that protocol while the block runs (``fsspec.config.conf``), then put back:
    the script's ``read_text("s3://...")`` gets them without naming them; an explicit
    ``storage_options=`` argument still wins (code over configuration).

    >>> from mapfold.core.profiles import Settings
    >>> import fsspec.config
    >>> s = Settings({"storage_options": Setting({"memory": {"skip_instance_cache": True}}, "file m.toml")})
    >>> with storage_defaults(s) as applied:
    ...     fsspec.config.conf["memory"]
    {'skip_instance_cache': True}
    >>> "memory" in fsspec.config.conf
    False
    """
    options = settings.value("storage_options") or {}
    if not options:
        yield {}
        return
    for protocol, table in options.items():
        if not isinstance(table, dict):
            raise ConfigError(f"storage_options wants a table per protocol ([storage_options.s3]), "
                              f"not {protocol} = ... (from {settings.source('storage_options')})",
                              key=f"storage_options.{protocol}")
    import fsspec.config

    saved = copy.deepcopy(fsspec.config.conf)
    for protocol, table in options.items():
        fsspec.config.conf.setdefault(protocol, {}).update(table)
    try:
        yield options
    finally:
        fsspec.config.conf.clear()
        fsspec.config.conf.update(saved)
