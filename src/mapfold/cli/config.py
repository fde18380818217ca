"""``mapfold config show``: every setting in force and the source that decided it."""
from __future__ import annotations

import click

from ..core.errors import MapfoldError
from .options import settings_options
from .settings import command_settings

__all__ = ["config", "show_config"]


def show_config(runner=None, runner_options=(), config=None, profile=None, environ=None, start=None) -> str:
    """The settings, one a line, with their sources; the file and profile used.

    >>> import tempfile
    >>> print(show_config("dask", ["workers=2"], environ={}, start=tempfile.mkdtemp()))
    config file: none
    profile: none
    runner = dask  (from command line)
    workers = 2  (from command line)
    """
    settings = command_settings(runner, runner_options, config, profile, environ, start)
    file = settings.config
    out = [f"config file: {file.path} (found by {file.found_by})" if file.path else "config file: none"]
    if file.profiles():
        out.append(f"profiles: {', '.join(file.profiles())}")
    chosen = settings.profile
    out.append(f"profile: {chosen.value} (from {chosen.source})" if chosen.value else "profile: none")
    out += settings.lines()
    return "\n".join(out)


@click.group()
def config() -> None:
    """The configuration: mapfold.toml, [tool.mapfold] in pyproject.toml, MAPFOLD_CONFIG."""


@config.command()
@settings_options
def show(runner, runner_options, config, profile) -> None:
    """Print each setting and where it came from (command line, environment, file, profile)."""
    try:
        click.echo(show_config(runner, runner_options, config, profile))
    except MapfoldError as exc:
        raise click.ClickException(str(exc)) from None
