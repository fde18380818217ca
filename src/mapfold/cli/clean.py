"""``mapfold clean PATH``: list, and remove, what dead jobs left beside their outputs.
``mapfold clean --scratch [FOLDER]``: the scratch folders of killed drivers.

PATH is an output target (its claim and staging folders, beside it) or a
folder of outputs (those of every target inside it). Stale entries (their
job's pid gone on this host, or older than ``--older-than`` when claimed
from another host) are removed, after repairing a target a killed commit
left half-published; ``--dry-run`` only lists. Entries of live jobs are
listed and kept.

With ``--scratch``, FOLDER (default ``MAPFOLD_SCRATCH``, else the system's
temp folder) is swept of runner scratch folders whose driver is gone
(``runners/scratch.py``: their owner lock is free); the next runner made
there does the same by itself.
"""
from __future__ import annotations

import os
import tempfile

import click

__all__ = ["clean"]


@click.command()
@click.argument("path", required=False)
@click.option("--dry-run", is_flag=True, help="List only; remove nothing.")
@click.option("--older-than", default=None, metavar="AGE",
              help="Claims from other hosts older than this are stale (e.g. 30m, 2h; "
                   "default MAPFOLD_STALE_AFTER or 1d).")
@click.option("--scratch", is_flag=True,
              help="Sweep the scratch folders of dead drivers in PATH (default MAPFOLD_SCRATCH or the temp folder).")
def clean(path: str | None, dry_run: bool, older_than: str | None, scratch: bool) -> None:
    """Remove stale claims and staging folders of dead jobs at PATH (a target or a folder of them)."""
    from ..io.leftovers import clean as clean_path
    from ..runners.scratch import sweep_stale

    if scratch:
        folder = path or os.environ.get("MAPFOLD_SCRATCH") or tempfile.gettempdir()
        swept = sweep_stale(folder, dry_run=dry_run)
        for item in swept:
            click.echo(f"{'would remove' if dry_run else 'removed':<12} {item} (its driver is gone)")
        if not swept:
            click.echo(f"no scratch folder of a dead driver in {folder}")
        return
    if path is None:
        raise click.UsageError("give PATH (an output target or a folder of them), or --scratch")
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
