"""``mapfold submit --to spark|dask|ray [--dry-run] SCRIPT.py [-- ARGS]``.

Packages the script and the local modules it imports (``cli/package.py``:
a reproducible zip, checked for ``.git``, virtualenvs, secrets files and
its size before anything is submitted), prints its size and the exact
command, and (without ``--dry-run``) runs it, through the engine's own
tooling:

* **spark**: ``spark-submit --master M [--deploy-mode D] [--conf K=V ...]
  --py-files PKG.zip SCRIPT.py ARGS``;
* **dask**: the script runs here, as ``mapfold run -r dask`` against the
  scheduler's address, and the package (its modules; the script, which
  a worker would import, stays out) is uploaded to every worker (a
  Dask ``UploadFile`` plugin: the zip goes on the workers' ``sys.path``, so
  packages import too, and workers that join later get it);
* **ray**: ``ray job submit --address A --runtime-env-json '{"working_dir":
  PKG.zip, ...}' -- python SCRIPT.py ARGS`` (``--requirements`` adds
  ``pip``).

The address (``master`` for Spark) comes from the settings: command line,
environment, profile, file. Engine settings given by reference
(``"${AWS_SECRET_ACCESS_KEY}"``) are printed as the reference, and any
value of a secret-named environment variable is masked as ``${NAME}`` in
what is printed.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from typing import Mapping

import click

from ..core.config import format_size
from ..core.errors import MapfoldError
from ..core.profiles import ConfigError, Settings
from .options import script_arguments, settings_options
from .package import DEFAULT_MAX_SIZE, Package, build_package
from .redact import redact
from .settings import command_settings

__all__ = ["submit", "plan_submission", "Submission", "TARGETS", "redact"]

TARGETS = ("spark", "dask", "ray")


@dataclass
class Submission:
    """A package and the command that submits it: ``argv`` runs, ``shown`` is printed."""

    target: str
    package: Package
    package_path: str
    argv: list[str]
    shown: list[str]

    def command(self) -> str:
        return shlex.join(self.shown)


def _address(settings: Settings, target: str, key: str = "address") -> str:
    value = settings.value(key) or settings.value("master" if key == "address" else "address")
    if not value:
        hint = {"dask": "tcp://scheduler:8786", "ray": "http://head:8265"}[target]
        raise ConfigError(f"mapfold submit --to {target} needs the cluster's address: --runner-option "
                          f"address={hint}, MAPFOLD_ADDRESS, or address in the profile", key="address")
    return str(value)


def _spark(settings: Settings, package: str, script: str, args: list[str]) -> tuple[list[str], list[str]]:
    master = str(settings.value("master") or settings.value("address") or "local[*]")
    head = ["spark-submit", "--master", master]
    if settings.value("deploy_mode"):
        head += ["--deploy-mode", str(settings.value("deploy_mode"))]
    head += ["--name", os.path.splitext(os.path.basename(script))[0]]
    conf, shown_conf = settings.value("conf") or {}, settings.shown("conf") or {}
    argv, shown = list(head), list(head)
    for key in sorted(conf):
        argv += ["--conf", f"{key}={conf[key]}"]
        shown += ["--conf", f"{key}={shown_conf.get(key, conf[key])}"]
    tail = ["--py-files", package, script, *args]
    return argv + tail, shown + tail


def _dask(settings: Settings, package: str, script: str, args: list[str]) -> tuple[list[str], list[str]]:
    address = _address(settings, "dask")
    argv = [sys.executable, "-m", "mapfold", "run", "-r", "dask", "--runner-option", f"address={address}",
            "--runner-option", f"py_files={json.dumps([package])}", script]
    if args:
        argv += ["--", *args]
    return argv, list(argv)


def _ray(settings: Settings, package: str, script: str, args: list[str],
         requirements: list[str]) -> tuple[list[str], list[str]]:
    address = _address(settings, "ray")
    env = {"working_dir": package, "env_vars": {"MAPFOLD_RUNNER": "ray"}}
    if requirements:
        env["pip"] = requirements
    argv = ["ray", "job", "submit", "--address", address, "--runtime-env-json", json.dumps(env, sort_keys=True),
            "--", "python", os.path.basename(script), *args]
    return argv, list(argv)


def _requirements(path: str | None) -> list[str]:
    if not path:
        return []
    with open(path, encoding="utf-8") as f:
        return [line.split("#", 1)[0].strip() for line in f if line.split("#", 1)[0].strip()]


def plan_submission(target: str, script: str, script_args=(), settings: Settings | None = None,
                    include=(), requirements: str | None = None, max_size: str | None = None,
                    out: str | None = None, environ: Mapping[str, str] | None = None) -> Submission:
    """Build and write the package, and the command for ``target``.

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> _ = open(os.path.join(root, "wc.py"), "w").write("import mapfold\\n")
    >>> s = plan_submission("spark", os.path.join(root, "wc.py"), settings=Settings({}), out=root, environ={})
    >>> s.command().replace(root, "ROOT")  # doctest: +ELLIPSIS
    "spark-submit --master 'local[*]' --name wc --py-files ROOT/wc-....zip ROOT/wc.py"
    """
    if target not in TARGETS:
        raise ConfigError(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
    environ = os.environ if environ is None else environ
    settings = settings or Settings({})
    script = os.path.abspath(script)
    limit = max_size or settings.value("max_package_size") or DEFAULT_MAX_SIZE
    roots = list(dict.fromkeys([os.path.dirname(script), os.getcwd()]))
    # every check before anything is written or run; Dask workers import each module of the zip, and the
    # script runs on the driver there, so its zip holds the modules only
    package = build_package(script, include, roots, limit, with_script=target != "dask")
    folder = os.path.abspath(out or os.path.join(os.getcwd(), "dist", "mapfold"))
    os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(os.path.basename(script))[0]
    path = package.write(os.path.join(folder, f"{stem}-{package.sha256[:12]}.zip"))
    args = list(script_args)
    if target == "spark":
        argv, shown = _spark(settings, path, script, args)
    elif target == "dask":
        argv, shown = _dask(settings, path, script, args)
    else:
        argv, shown = _ray(settings, path, script, args, _requirements(requirements))
    shown = [redact(part, environ) for part in shown]
    return Submission(target, package, path, argv, shown)


@click.command()
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="The engine to submit to.")
@click.option("--dry-run", is_flag=True, help="Build and check the package, print the command; run nothing.")
@click.option("--include", multiple=True, type=click.Path(exists=True), help="Also package this file or folder.")
@click.option("--requirements", type=click.Path(exists=True, dir_okay=False),
              help="A requirements.txt the cluster installs (ray: runtime_env pip).")
@click.option("--max-size", default=None, help=f"Refuse a package larger than this (default: max_package_size, "
                                                f"else {DEFAULT_MAX_SIZE}).")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Where the zip goes (default: dist/mapfold).")
@settings_options(runner=False)  # --to says where
@script_arguments
def submit(target, dry_run, include, requirements, max_size, out, script, script_args, runner_options,
           config, profile) -> None:
    """Package SCRIPT.py with its local modules and submit it to a Spark, Dask or Ray cluster."""
    try:
        settings = command_settings(None, runner_options, config, profile)
        plan = plan_submission(target, script, script_args, settings, include, requirements, max_size, out)
    except MapfoldError as exc:  # the offending path, the missing address: before anything is submitted
        raise click.ClickException(str(exc)) from None
    package = plan.package
    click.echo(f"package: {os.path.relpath(plan.package_path)} ({len(package.files)} files, "
               f"{format_size(package.size)}, sha256 {package.sha256[:12]})")
    for name in package.files:
        click.echo(f"  {name}")
    click.echo(f"command: {plan.command()}")
    if dry_run:
        return
    try:
        done = subprocess.run(plan.argv)
    except FileNotFoundError:
        raise click.ClickException(f"{plan.argv[0]} not found: install the {target} client "
                                   f"(pip install 'mapfold[{target}]')") from None
    sys.exit(done.returncode)
