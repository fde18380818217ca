"""``mapfold report EVENTS.jsonl -o run.html``: the offline report of a run.

The event log (``event_log=``, ``MAPFOLD_EVENT_LOG``) becomes one
self-contained HTML file with the live dashboard's views (``mapfold.web``):
readable offline, with no server. A log holding several jobs gives a
report of all of them (the page picks one).
"""
from __future__ import annotations

import click

from ..web import DashboardError, write_report

__all__ = ["report"]


@click.command()
@click.argument("events", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="mapfold-report.html", show_default=True, metavar="FILE",
              help="The HTML file to write.")
@click.option("--title", default="mapfold report", show_default=True, help="The page's title.")
def report(events: str, output: str, title: str) -> None:
    """Write the offline HTML report of the runs in EVENTS (a JSON-lines event log)."""
    try:
        path = write_report(events, output, title=title)
    except DashboardError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}")
