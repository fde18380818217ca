"""``mapfold run SCRIPT.py [-r RUNNER] [--runner-option K=V ...] [-- ARGS]``.

The script runs as ``python SCRIPT.py ARGS`` would, and its Datasets that
name no runner (no ``runner=``, no ``mf.runner()`` block: the code's own
choice still wins) run on the runner the command line, the environment or
the config file chose, held for the run with ``default_runner``. A job file
(an ``MRJob`` subclass) runs through its own command line the same way.
The tqdm progress bar shows on a terminal (``--no-progress`` hides it);
at the end a summary of each action's run record goes to stderr.

Exit status: the script's own (``sys.exit``), 1 when it failed (the
error's type, message and where: the stage, partition and the script's
line), 130 on Ctrl-C, after the runner's workers are stopped.
"""
from __future__ import annotations

import contextlib
import os
import sys
import traceback
from typing import Iterator

import click

from ..core.errors import MapfoldError
from ..plan.events import EventLog
from ..runners import attach_dashboard, default_runner
from .options import script_arguments, settings_options
from .script import ScriptError, run_file, script_frame_line
from .settings import build_runner, command_settings, storage_defaults
from .summary import RunSummary

__all__ = ["run", "run_script", "progress_setting"]


@contextlib.contextmanager
def progress_setting(progress: bool | None) -> Iterator[None]:
    """``MAPFOLD_PROGRESS`` for the duration of the block when ``progress`` says (None: leave it).

    >>> with progress_setting(False):
    ...     os.environ["MAPFOLD_PROGRESS"]
    '0'
    """
    if progress is None:
        yield
        return
    saved = os.environ.get("MAPFOLD_PROGRESS")
    os.environ["MAPFOLD_PROGRESS"] = "always" if progress else "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MAPFOLD_PROGRESS", None)
        else:
            os.environ["MAPFOLD_PROGRESS"] = saved


def _failure(exc: BaseException, script: str) -> str:
    """The last line of a failed run: the error, its notes (stage, partition, file) and the script's line."""
    line = script_frame_line(exc, script)
    where = f" at {os.path.basename(script)} line {line}" if line else ""
    notes = "".join(f"\n  {note}" for note in getattr(exc, "__notes__", ()))
    return f"mapfold run: {os.path.basename(script)} failed{where}: {type(exc).__name__}: {exc}{notes}"


def run_script(script: str, script_args=(), runner=None, runner_options=(), config=None, profile=None,
               progress: bool | None = None, summary: bool = True, echo=None, dashboard: bool = False,
               event_log: str | None = None) -> int:
    """Run ``script`` on the chosen runner; the exit status (0, the script's, 1, 130).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "job.py")
    >>> _ = open(path, "w").write("import mapfold as mf\\nprint(mf.from_sequence(range(4)).sum())\\n")
    >>> run_script(path, runner="serial", summary=False)
    6
    0
    """
    echo = echo or (lambda text: click.echo(text, err=True))
    try:
        settings = command_settings(runner, runner_options, config, profile)
        instance, chosen = build_runner(settings)
    except MapfoldError as exc:  # a bad setting, a missing engine (with what to install)
        echo(f"mapfold run: {exc}")
        return 1
    listener = RunSummary(instance.name, chosen.source)
    instance.add_listener(listener)
    if event_log:  # --event-log: every event of the run, for `mapfold report`
        log = EventLog(event_log)
        instance.add_listener(log)
        instance.on_close(log.close)
    if dashboard and instance.dashboard is None:  # --dashboard: served until the run ends
        try:
            attach_dashboard(instance, True)
        except MapfoldError as exc:
            echo(f"mapfold run: {exc}")
            instance.close()
            return 1
    status = 0
    try:
        with default_runner(instance, chosen.source), progress_setting(progress), storage_defaults(settings):
            run_file(script, script_args)
    except KeyboardInterrupt:
        echo("mapfold run: interrupted (Ctrl-C); stopping the workers")
        status = 130
    except SystemExit as exc:  # the script's (or the job's) own exit
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if code is not None and not isinstance(code, int):
            echo(str(code))
    except ScriptError as exc:
        echo(f"mapfold run: {exc}")
        status = 1
    except MapfoldError as exc:  # mapfold's own errors say what to do: no traceback
        echo(_failure(exc, script))
        status = 1
    except Exception as exc:  # the script's code failed: its traceback, then one line saying where
        echo("".join(traceback.format_exception(exc)).rstrip())
        echo(_failure(exc, script))
        status = 1
    finally:
        described = instance.describe()
        try:
            instance.close()
        except KeyboardInterrupt:  # a second Ctrl-C while stopping: stop harder
            instance.close()
            status = 130
        if summary and listener.records:
            listener.runner = described
            echo("\n".join(listener.lines()))
    return status


@click.command(context_settings={"allow_interspersed_args": True})
@settings_options
@click.option("--progress/--no-progress", default=None,
              help="The progress bar on stderr (default: when stderr is a terminal; --progress: always).")
@click.option("--summary/--no-summary", default=True, show_default=True, help="Each action's run record at the end.")
@click.option("--dashboard", is_flag=True, help="Serve a live dashboard of the run on 127.0.0.1 (its URL is printed).")
@click.option("--event-log", default=None, metavar="FILE",
              help="Append every job, stage and task event to FILE (JSON lines; `mapfold report FILE`).")
@script_arguments
def run(script, script_args, runner, runner_options, config, profile, progress, summary, dashboard,
        event_log) -> None:
    """Run SCRIPT.py (a Dataset script or an MRJob file) on any runner.

    Arguments after -- go to the script: mapfold run wc.py -r dask -- input.txt
    """
    sys.exit(run_script(script, script_args, runner, runner_options, config, profile, progress, summary,
                        dashboard=dashboard, event_log=event_log))
