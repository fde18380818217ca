"""``mapfold explain SCRIPT.py``: the settings and the plan, nothing run.

The script runs with its actions intercepted (``intercept_actions``): the
first action prints its plan (``Dataset.explain_string``) and stops the
script there, since what follows may need its result. Code before it runs
(reading a small file's header, say); no task does. Each setting says
where it came from.
"""
from __future__ import annotations

import os
import sys

import click

from ..core.errors import MapfoldError
from ..dataset.actions import ActionIntercepted, intercept_actions
from .options import script_arguments, settings_options
from .script import ScriptError, run_file, script_frame_line
from .settings import command_settings, runner_options as check_runner_options

__all__ = ["explain", "explain_script"]


def explain_script(script: str, script_args=(), runner=None, runner_options=(), config=None, profile=None,
                   environ=None) -> str:
    """What ``mapfold explain`` prints.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "job.py")
    >>> _ = open(path, "w").write("import mapfold as mf\\nprint(mf.from_sequence([1, 2], partitions=2).map(str).count())\\n")
    >>> print(explain_script(path, runner="serial", environ={}))  # doctest: +ELLIPSIS
    settings (strongest first: code, command line, environment, file, defaults):
      runner = serial  (from command line)
      config file: none
    plan of the first action, count (job.py line 2), not run:
      stage: map  (2 partitions)
        reads sequence of 2 items
    """
    settings = command_settings(runner, runner_options, config, profile, environ)
    out = ["settings (strongest first: code, command line, environment, file, defaults):"]
    out += [f"  {line}" for line in settings.lines()] or ["  (all defaults)"]
    file = settings.config
    out.append(f"  config file: {file.path} (found by {file.found_by})" if file.path else "  config file: none")
    if settings.profile.value is not None:
        out.append(f"  profile: {settings.profile.value} (from {settings.profile.source})")
    name = str(settings.value("runner", "processes"))
    try:
        check_runner_options(name, settings)
    except MapfoldError as exc:
        out.append(f"  note: {exc}")
    try:
        with intercept_actions():
            run_file(script, script_args)
    except ActionIntercepted as stop:
        line = script_frame_line(stop, script)
        where = f" ({os.path.basename(script)} line {line})" if line else ""
        out.append(f"plan of the first action, {stop.action or 'action'}{where}, not run:")
        out += ["  " + text for text in stop.dataset.explain_string().splitlines()]
    except SystemExit:
        out.append("the script exited before any action")
    else:
        out.append("the script ran no action")
    return "\n".join(out)


@click.command()
@settings_options
@script_arguments
def explain(script, script_args, runner, runner_options, config, profile) -> None:
    """Show SCRIPT.py's settings and the plan of its first action, without running it."""
    try:
        click.echo(explain_script(script, script_args, runner, runner_options, config, profile))
    except ScriptError as exc:
        raise click.ClickException(str(exc)) from None
    except MapfoldError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # the script failed before its first action
        click.echo(f"mapfold explain: {os.path.basename(script)} failed before its first action: "
                   f"{type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
