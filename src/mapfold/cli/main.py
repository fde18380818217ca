"""``mapfold``: ``demo``, ``run``, ``explain``, ``submit``, ``config show``, ``cluster`` (one module per command)."""
from __future__ import annotations

import click

from ..runners import RUNNERS

__all__ = ["main"]


def _graph_path(ctx, param, value):
    """Refuse a --graph name the demo could not write before any job runs."""
    from .demo import check_graph_path

    if value is not None:
        try:
            check_graph_path(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


@click.group()
@click.version_option(package_name="mapfold")
def main() -> None:
    """mapfold: map and reduce on one core, all cores or a cluster."""


@main.command()
@click.option("--path", default=None, type=click.Path(exists=True, file_okay=False),
              help="Folder of .py files (default: the standard library).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1),
              help="How many rows each table shows.")
@click.option("--graph", default=None, metavar="FILE.gexf|FILE.graphml", callback=_graph_path,
              help="Also write the import graph with its ranks, for Gephi.")
@click.option("-r", "--runner", type=click.Choice(sorted(RUNNERS)), default=None,
              help="Where to run (default: MAPFOLD_RUNNER or processes).")
def demo(path, top, graph, runner) -> None:
    """Word count and PageRank of the import graph of the Python standard library."""
    from ..core.errors import InputError, RunnerUnavailableError
    from .demo import run_demo

    try:
        run_demo(path, top, runner, echo=click.echo, graph=graph)
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    except RunnerUnavailableError as exc:
        raise click.ClickException(str(exc)) from None


def _register() -> None:
    from .clean import clean
    from .cluster import cluster
    from .config import config
    from .explain import explain
    from .report import report
    from .run import run
    from .submit import submit

    for command in (run, explain, report, submit, config, clean, cluster):
        main.add_command(command)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
