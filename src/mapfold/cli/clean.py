"""``mapfold clean PATH``: list, and remove, what dead jobs left beside their outputs.

PATH is an output target (its claim and staging folders, beside it) or a
folder of outputs (those of every target inside it). Stale entries (their
job's pid gone on this host, or older than ``--older-than`` when claimed
from another host) are removed, after repairing a target a killed commit
left half-published; ``--dry-run`` only lists. Entries of live jobs are
listed and kept.
"""
from __future__ import annotations

import click

__all__ = ["clean"]


@click.command()
@click.argument("path")
@click.option("--dry-run", is_flag=True, help="List only; remove nothing.")
@click.option("--older-than", default=None, metavar="AGE",
              help="Claims from other hosts older than this are stale (e.g. 30m, 2h; "
                   "default MAPFOLD_STALE_AFTER or 1d).")
def clean(path: str, dry_run: bool, older_than: str | None) -> None:
    """Remove stale claims and staging folders of dead jobs at PATH (a target or a folder of them)."""
    from ..io.leftovers import clean as clean_path

    try:
        found = clean_path(path, max_age=older_than, dry_run=dry_run)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    if not found:
        click.echo(f"nothing to clean at {path}")
        return
    for item in found:
        verb = ("would remove" if dry_run else "removed") if item.stale else "kept"
        click.echo(f"{verb:<12} {item.describe()}")
