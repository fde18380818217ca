"""The options ``mapfold run``, ``explain``, ``submit`` and ``config show`` share."""
from __future__ import annotations

from typing import Callable

import click

from ..runners import RUNNERS

__all__ = ["settings_options", "script_arguments"]


def settings_options(command: Callable | None = None, runner: bool = True) -> Callable:
    """``-r`` (unless ``runner=False``), ``--runner-option K=V`` (repeatable), ``-c/--config``, ``--profile``."""
    if command is None:
        return lambda function: settings_options(function, runner)
    options = [
        click.option("-r", "--runner", type=click.Choice(sorted(RUNNERS)), default=None,
                     help="Where the script's Datasets run when they name no runner "
                          "(default: MAPFOLD_RUNNER, the config file, then processes)."),
        click.option("--runner-option", "runner_options", multiple=True, metavar="KEY=VALUE",
                     help="A runner setting: address=tcp://host:8786, workers=4, memory_limit=512MB, "
                          "conf.spark.executor.memory=2g ... (repeatable)."),
        click.option("-c", "--config", default=None, type=click.Path(dir_okay=False),
                     help="A mapfold.toml (default: MAPFOLD_CONFIG, else mapfold.toml or pyproject.toml's "
                          "[tool.mapfold] here or above)."),
        click.option("--profile", default=None, help="A [profiles.NAME] of the config file (default: MAPFOLD_PROFILE)."),
    ]
    for option in reversed(options if runner else options[1:]):
        command = option(command)
    return command


def script_arguments(command: Callable) -> Callable:
    """``SCRIPT.py [-- ARGS ...]``: the file and what its ``sys.argv[1:]`` gets."""
    command = click.argument("script_args", nargs=-1, type=click.UNPROCESSED)(command)
    return click.argument("script", type=click.Path(dir_okay=False))(command)
