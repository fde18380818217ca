"""``mapfold``: run the demo, explain nothing by hand."""
from __future__ import annotations

import click

from ..runners import RUNNERS

__all__ = ["main"]


@click.group()
@click.version_option(package_name="mapfold")
def main() -> None:
    """mapfold: map and reduce on one core, all cores or a cluster."""


@main.command()
@click.option("--path", default=None, help="Folder of .py files (default: the standard library).")
@click.option("--top", default=20, show_default=True, help="How many words to show.")
@click.option("-r", "--runner", type=click.Choice(sorted(RUNNERS)), default=None,
              help="Where to run (default: MAPFOLD_RUNNER or processes).")
def demo(path, top, runner) -> None:
    """Word frequencies over the Python standard library installed here."""
    from .demo import run_demo

    run_demo(path, top, runner, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
