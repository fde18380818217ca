"""Runners and how one is chosen.

Choice, strongest first: the ``runner=`` argument of an action, the
innermost ``with mf.runner(...)`` block, the caller's default (a
``with default_runner(...)`` block: ``mapfold run -r`` holds one for the
script it runs), the ``MAPFOLD_RUNNER`` environment variable, ``spark``
in a program ``spark-submit`` started, then ``"processes"``. Engines are imported only when chosen.
"""
from __future__ import annotations

import atexit
import contextlib
import importlib
import os
from contextvars import ContextVar
from typing import Iterator

from ..core.config import Setting
from ..core.errors import MapfoldError, RunnerUnavailableError
from ..plan.events import EventLog
from .base import Runner

__all__ = ["Runner", "runner", "default_runner", "get_runner", "current_runner", "make_runner", "runner_class", "RUNNERS",
           "dashboard", "attach_dashboard", "attach_report", "dashboard_choice", "dashboard_from_environment"]

RUNNERS = {
    "serial": ("mapfold.runners.serial", "SerialRunner", None),
    "processes": ("mapfold.runners.processes", "ProcessRunner", None),
    "dask": ("mapfold.runners.dask", "DaskRunner", "pip install 'mapfold[dask]'"),
    "spark": ("mapfold.runners.spark", "SparkRunner", "pip install 'mapfold[spark]' (and Java 17)"),
    "ray": ("mapfold.runners.ray", "RayRunner", "pip install 'mapfold[ray]'"),
}

_active: ContextVar[Runner | None] = ContextVar("mapfold_runner", default=None)
# the caller's default (``mapfold run``): weaker than the code's own choice, stronger than the environment
_fallback: ContextVar[tuple[Runner, str] | None] = ContextVar("mapfold_default_runner", default=None)
_defaults: dict[str, Runner] = {}


def make_runner(name: str, **options) -> Runner:
    """A new runner instance of the named kind.

    Options every runner takes: ``memory_limit`` (the shuffle's memory
    budget per worker, bytes or a string such as ``"512MB"``),
    ``event_log`` (a file that gets every job, stage and task event as a
    JSON line; ``MAPFOLD_EVENT_LOG`` does it for every runner) and
    ``dashboard`` (``True`` or a port: a live dashboard of this runner's
    jobs on 127.0.0.1, ``runner.dashboard.url``; ``MAPFOLD_DASHBOARD``
    does it for every runner; off by default) and ``report`` (an HTML file
    that gets the offline report of this runner's jobs when it closes).
    """
    memory_limit = options.pop("memory_limit", None)
    event_log = options.pop("event_log", None)
    dashboard = dashboard_choice(options.pop("dashboard", None))
    report = options.pop("report", None)
    if dashboard is None:
        dashboard = dashboard_from_environment()
    if memory_limit is not None:
        from ..core.config import parse_size

        memory_limit = parse_size(memory_limit)
    instance = runner_class(name)(**options)
    if memory_limit is not None:
        instance.memory_limit = memory_limit
    if event_log is not None:  # every event of this runner's jobs, as JSON lines
        log = EventLog(os.fspath(event_log))
        instance.add_listener(log)
        instance.on_close(log.close)
    if dashboard not in (None, False):
        attach_dashboard(instance, dashboard)
    if report is not None:
        attach_report(instance, report)
    return instance


def attach_report(instance: Runner, path) -> None:
    """Write the offline report of every job of ``instance`` to ``path`` when it closes
    (``mf.runner(..., report="run.html")``).

    >>> import os, tempfile, mapfold as mf
    >>> path = os.path.join(tempfile.mkdtemp(), "run.html")
    >>> with mf.runner("serial", report=path):
    ...     mf.from_sequence(range(4), partitions=2).count()
    4
    >>> '"action":"count"' in open(path).read()
    True
    """
    from ..web import RunView, write_report

    view = RunView()
    instance.add_listener(view)
    instance.on_close(lambda: write_report(view, path, title=f"mapfold report · {instance.name}"))


def dashboard_from_environment() -> bool | int | None:
    """What ``MAPFOLD_DASHBOARD`` asks for: None (unset, ``0``, ``off``), True (``1``, ``on``: a free port) or a port.

    >>> os.environ["MAPFOLD_DASHBOARD"] = "8765"; dashboard_from_environment()
    8765
    >>> os.environ["MAPFOLD_DASHBOARD"] = "on"; dashboard_from_environment()
    True
    >>> del os.environ["MAPFOLD_DASHBOARD"]; dashboard_from_environment() is None
    True
    """
    return dashboard_choice(os.environ.get("MAPFOLD_DASHBOARD", ""), "MAPFOLD_DASHBOARD")


def dashboard_choice(value, source: str = "dashboard") -> bool | int | None:
    """A dashboard setting as text (the environment, ``--runner-option dashboard=1``) read:
    None (off), True (a free port) or a port; anything else passes through.

    >>> dashboard_choice("off"), dashboard_choice("yes"), dashboard_choice("8000"), dashboard_choice(True)
    (None, True, 8000, True)
    """
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return None
    if text in ("1", "true", "yes", "on"):
        return True
    if text.isdigit() and int(text) <= 65535:
        return int(text)
    raise MapfoldError(f"{source}={value!r}: use 1 (a free port), a port number, or 0 (off)")


def attach_dashboard(instance: Runner, dashboard=True):
    """Attach a live dashboard to ``instance`` and start it; it stops when the runner closes.

    ``dashboard``: True (a free port), a port, or a ``mapfold.web.Dashboard``
    (which the caller started and closes). Returns the dashboard.

    >>> from mapfold.web import Dashboard
    >>> serial = make_runner("serial")
    >>> board = attach_dashboard(serial, Dashboard(announce=False).start())
    >>> serial.dashboard is board and board in serial.listeners
    True
    >>> serial.close(); board.close()
    """
    from ..web import Dashboard  # http.server: imported only when a dashboard is asked for

    if isinstance(dashboard, Dashboard):
        board, owned = dashboard, False
    else:
        port = 0 if dashboard is True else dashboard
        board, owned = Dashboard(port, title=f"mapfold · {instance.name}").start(), True
    instance.add_listener(board)
    instance.dashboard = board
    if owned:
        instance.on_close(board.close)
    return board


@contextlib.contextmanager
def dashboard(runner: str | Runner | None = None, port: int = 0, **options) -> Iterator:
    """Serve a live dashboard of ``runner``'s jobs (default: the runner actions
    here would use) while the block runs; yields it (``.url`` has the token).

    ``options`` go to ``mapfold.web.Dashboard`` (``host``, ``allow_remote``,
    ``announce``). The jobs stay on the page until the block ends.

    >>> import mapfold as mf, urllib.request
    >>> with mf.runner("serial"), mf.dashboard(announce=False) as board:
    ...     mf.from_sequence(range(3)).count()
    ...     b'"action":"count"' in urllib.request.urlopen(board.url.replace("/?", "/api/state?")).read()
    3
    True
    """
    from ..web import Dashboard

    instance = runner if isinstance(runner, Runner) else get_runner(runner)[0]
    board = Dashboard(port, **options).start()
    instance.add_listener(board)
    try:
        yield board
    finally:
        if board in instance.listeners:
            instance.remove_listener(board)
        board.close()


def runner_class(name: str) -> type[Runner]:
    """The class of the named runner, its engine imported; a missing engine
    raises :class:`RunnerUnavailableError` saying what to install.

    >>> runner_class("serial").__name__
    'SerialRunner'
    """
    if name not in RUNNERS:
        raise RunnerUnavailableError(f"unknown runner {name!r}; choose one of: {', '.join(RUNNERS)}")
    module_name, class_name, install = RUNNERS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"; install it with: {install}" if install else ""
        raise RunnerUnavailableError(f"the {name!r} runner is not available ({exc}){hint}") from exc
    return getattr(module, class_name)


def _shared(name: str) -> Runner:
    instance = _defaults.get(name)
    if instance is None:
        instance = _defaults[name] = make_runner(name)
    return instance


@atexit.register
def _close_shared() -> None:
    for instance in list(_defaults.values()):
        with contextlib.suppress(Exception):
            instance.close()
    _defaults.clear()


def get_runner(choice: str | Runner | None = None) -> tuple[Runner, Setting]:
    """Resolve which runner an action uses, and say which source decided."""
    if isinstance(choice, Runner):
        return choice, Setting(choice.name, "argument")
    if isinstance(choice, str):
        return _shared(choice), Setting(choice, "argument")
    active = _active.get()
    if active is not None:
        return active, Setting(active.name, "mf.runner() block")
    fallback = _fallback.get()
    if fallback is not None:
        return fallback[0], Setting(fallback[0].name, fallback[1])
    env = os.environ.get("MAPFOLD_RUNNER")
    if env:
        return _shared(env), Setting(env, "environment MAPFOLD_RUNNER")
    if os.environ.get("PYSPARK_GATEWAY_PORT"):  # started by spark-submit: its master, name and conf
        return _shared("spark"), Setting("spark", "spark-submit")
    return _shared("processes"), Setting("processes", "default")


def current_runner() -> Runner:
    return get_runner()[0]


@contextlib.contextmanager
def runner(name: str | Runner = "processes", **options) -> Iterator[Runner]:
    """Run the actions inside the block on the chosen runner.

    A runner made here is closed (its pool or cluster stopped) at the end of
    the block; a :class:`Runner` instance passed in is left open.
    ``options`` go to the runner (``workers=4`` for processes), and every
    runner takes ``memory_limit``: the shuffle's memory budget per worker
    (``"512MB"``, or bytes), which wins over ``MAPFOLD_MEMORY_LIMIT``.

    >>> import mapfold as mf
    >>> with mf.runner("serial"):
    ...     mf.from_sequence([1, 2, 3]).map(lambda x: x * 10).collect()
    [10, 20, 30]
    """
    owned = not isinstance(name, Runner)
    instance = make_runner(name, **options) if owned else name
    token = _active.set(instance)
    try:
        yield instance
    finally:
        _active.reset(token)
        if owned:
            instance.close()


@contextlib.contextmanager
def default_runner(instance: Runner, source: str = "caller's default") -> Iterator[Runner]:
    """Make ``instance`` the runner of the actions inside the block that name
    none themselves (no ``runner=``, no ``mf.runner()`` block); ``source`` is
    what ``explain()`` and the run record say chose it.

    The code's own choice still wins: this is how ``mapfold run -r dask``
    hands its runner to a script without overriding what the script says.
    The runner is left open (the caller made it and closes it).

    >>> serial = make_runner("serial")
    >>> with default_runner(serial, "command line -r"):
    ...     get_runner()[1].source
    'command line -r'
    >>> with default_runner(serial, "command line -r"), runner(serial):
    ...     get_runner()[1].source
    'mf.runner() block'
    >>> serial.close()
    """
    token = _fallback.set((instance, source))
    try:
        yield instance
    finally:
        _fallback.reset(token)
