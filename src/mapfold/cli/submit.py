"""``mapfold submit --to spark|dask|ray|emr [--dry-run] SCRIPT.py [-- ARGS]``.

Packages the script and the local modules it imports (``cli/package.py``:
a reproducible zip, checked for ``.git``, virtualenvs, secrets files and
its size before anything is submitted), prints its size and the exact
command, and (without ``--dry-run``) runs it, through the engine's own
tooling:

* **spark**: ``spark-submit --master M [--deploy-mode D] [--conf K=V ...]
  --py-files PKG.zip SCRIPT.py ARGS``; with ``--env-archive env.tar.gz`` (a
  packed virtualenv or conda environment: ``venv-pack``, ``conda-pack``)
  also ``--archives env.tar.gz#environment`` and
  ``PYSPARK_PYTHON=./environment/bin/python`` for the executors (the
  environment, ``spark.executorEnv``, and in cluster mode
  ``spark.yarn.appMasterEnv``), so packages with compiled code travel too;
* **dask**: the script runs here, as ``mapfold run -r dask`` against the
  scheduler's address, and the package (its modules; the script, which
  a worker would import, stays out) is uploaded to every worker (a
  Dask ``UploadFile`` plugin: the zip goes on the workers' ``sys.path``, so
  packages import too, and workers that join later get it);
* **ray**: ``ray job submit --address A --runtime-env-json '{"working_dir":
  PKG.zip, ...}' -- python SCRIPT.py ARGS`` (``--requirements`` adds
  ``pip``);
* **emr**: ``--config`` names the ``cluster.toml`` (``cli/emr_config.py``);
  the package is uploaded under its ``code_uri``, a ``spark-submit
  --deploy-mode cluster --py-files s3://.../PKG.zip s3://.../SCRIPT.py
  ARGS`` step is added to ``--cluster-id`` (else the active cluster of the
  configured name, else one created from the file) and followed until it
  ends: the code of ``mapfold cluster add-step`` (``cli/emr_steps.py``).

The address (``master`` for Spark) comes from the settings: command line,
environment, profile, file. Engine settings given by reference
(``"${AWS_SECRET_ACCESS_KEY}"``) are printed as the reference, and any
value of a secret-named environment variable is masked as ``${NAME}`` in
what is printed.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Mapping

import click

from ..core.config import format_size
from ..core.errors import MapfoldError
from ..core.profiles import ConfigError, Settings
from .options import script_arguments, settings_options
from .package import DEFAULT_MAX_SIZE, Package, build_package
from .emr_config import load_cluster_config
from .emr_steps import dry_run_lines, echo, finish_step, plan_step, send_step
from .redact import redact
from .settings import command_settings

__all__ = ["submit", "plan_submission", "Submission", "TARGETS", "ENGINE_TARGETS", "redact"]

TARGETS = ("spark", "dask", "ray", "emr")
ENGINE_TARGETS = TARGETS[:3]  # plan_submission's: a local package and an engine's command


@dataclass
class Submission:
    """A package and the command that submits it: ``argv`` runs, ``shown`` is printed."""

    target: str
    package: Package
    package_path: str
    argv: list[str]
    shown: list[str]
    env: dict = field(default_factory=dict)  # set for the command (PYSPARK_PYTHON of a packed environment)

    def command(self) -> str:
        return shlex.join(self.shown)


def _address(settings: Settings, target: str, key: str = "address") -> str:
    value = settings.value(key) or settings.value("master" if key == "address" else "address")
    if not value:
        hint = {"dask": "tcp://scheduler:8786", "ray": "http://head:8265"}[target]
        raise ConfigError(f"mapfold submit --to {target} needs the cluster's address: --runner-option "
                          f"address={hint}, MAPFOLD_ADDRESS, or address in the profile", key="address")
    return str(value)


ENV_PYTHON = "./environment/bin/python"  # the packed environment, unpacked as ./environment by --archives


def _spark(settings: Settings, package: str, script: str, args: list[str],
           env_archive: str | None = None) -> tuple[list[str], list[str], dict]:
    """spark-submit's argv, what is shown, and the environment it needs (a packed environment's python)."""
    master = str(settings.value("master") or settings.value("address") or "local[*]")
    deploy_mode = settings.value("deploy_mode")
    head = ["spark-submit", "--master", master]
    if deploy_mode:
        head += ["--deploy-mode", str(deploy_mode)]
    head += ["--name", os.path.splitext(os.path.basename(script))[0]]
    conf, shown_conf = dict(settings.value("conf") or {}), dict(settings.shown("conf") or {})
    env: dict = {}
    if env_archive:  # executors (and a cluster-mode driver) run the archive's python
        head += ["--archives", f"{env_archive}#environment"]
        conf.setdefault("spark.executorEnv.PYSPARK_PYTHON", ENV_PYTHON)
        if deploy_mode == "cluster":
            conf.setdefault("spark.yarn.appMasterEnv.PYSPARK_PYTHON", ENV_PYTHON)
        env["PYSPARK_PYTHON"] = ENV_PYTHON
        if deploy_mode != "cluster":  # the driver runs here, with this python (Spark's docs: not in cluster mode)
            env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    argv, shown = list(head), list(head)
    for key in sorted(conf):
        argv += ["--conf", f"{key}={conf[key]}"]
        shown += ["--conf", f"{key}={shown_conf.get(key, conf[key])}"]
    tail = ["--py-files", package, script, *args]
    prefix = [f"{name}={value}" for name, value in sorted(env.items())]
    return argv + tail, prefix + shown + tail, env


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
                    out: str | None = None, environ: Mapping[str, str] | None = None,
                    env_archive: str | None = None) -> Submission:
    """Build and write the package, and the command for ``target``.

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> _ = open(os.path.join(root, "wc.py"), "w").write("import mapfold\\n")
    >>> s = plan_submission("spark", os.path.join(root, "wc.py"), settings=Settings({}), out=root, environ={})
    >>> s.command().replace(root, "ROOT")  # doctest: +ELLIPSIS
    "spark-submit --master 'local[*]' --name wc --py-files ROOT/wc-....zip ROOT/wc.py"
    """
    if target not in ENGINE_TARGETS:
        raise ConfigError(f"unknown target {target!r}; choose one of: {', '.join(ENGINE_TARGETS)} "
                          f"(emr: plan_step in cli/emr_steps.py)")
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
    env: dict = {}
    if env_archive and target != "spark":
        raise ConfigError("--env-archive is for spark (--archives); dask and ray workers need the packages "
                          "installed, or ray's --requirements", key="env_archive")
    if env_archive and not os.path.isfile(env_archive):
        raise ConfigError(f"no packed environment at {env_archive} (make one: venv-pack -o env.tar.gz, "
                          f"or conda pack -o env.tar.gz)", key="env_archive")
    if target == "spark":
        argv, shown, env = _spark(settings, path, script, args, env_archive and os.path.abspath(env_archive))
    elif target == "dask":
        argv, shown = _dask(settings, path, script, args)
    else:
        argv, shown = _ray(settings, path, script, args, _requirements(requirements))
    shown = [redact(part, environ) for part in shown]
    return Submission(target, package, path, argv, shown, env)


def _listing(name: str, package: Package) -> None:
    click.echo(f"package: {name} ({len(package.files)} files, {format_size(package.size)}, "
               f"sha256 {package.sha256[:12]})")
    for file in package.files:
        click.echo(f"  {file}")


def _submit_emr(dry_run, include, requirements, max_size, script, script_args, runner_options, config, profile,
                cluster_id, poll_interval, timeout) -> None:
    """``--to emr``: the step of ``mapfold cluster add-step``, on a cluster found or created from ``config``."""
    try:
        if requirements:
            raise ConfigError("--requirements is for ray; on EMR install packages with a bootstrap action "
                              "(bootstrap_actions in cluster.toml)", key="requirements")
        settings = command_settings(None, runner_options, None, profile)  # max_package_size, from mapfold.toml
        cluster_config = load_cluster_config(config or "cluster.toml")
        limit = max_size or settings.value("max_package_size") or DEFAULT_MAX_SIZE
        plan = plan_step(cluster_config, script, script_args, include, limit)
    except MapfoldError as exc:
        raise click.ClickException(str(exc)) from None
    _listing(plan.place.package_uri, plan.package)
    echo(f"command: {shlex.join(plan.request(cluster_id or '<cluster id>')['Steps'][0]['HadoopJarStep']['Args'])}")
    if dry_run:
        for line in dry_run_lines(plan, cluster_id, create=True):
            echo(line)
        return
    emr, cid, step_id = send_step(plan, cluster_id, create=True)
    finish_step(emr, cid, step_id, poll_interval, timeout)


@click.command()
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="The engine to submit to.")
@click.option("--dry-run", is_flag=True, help="Build and check the package, print the command; run nothing.")
@click.option("--include", multiple=True, type=click.Path(exists=True), help="Also package this file or folder.")
@click.option("--requirements", type=click.Path(exists=True, dir_okay=False),
              help="A requirements.txt the cluster installs (ray: runtime_env pip).")
@click.option("--max-size", default=None, help=f"Refuse a package larger than this (default: max_package_size, "
                                                f"else {DEFAULT_MAX_SIZE}).")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Where the zip goes (default: dist/mapfold).")
@click.option("--env-archive", default=None, type=click.Path(dir_okay=False),
              help="spark: a packed environment (venv-pack -o env.tar.gz, conda pack) the executors unpack and run.")
@click.option("--cluster-id", default=None, help="emr: the cluster (default: the active one of the configured name, "
                                                 "else one created from the file).")
@click.option("--poll-interval", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="emr: seconds between two DescribeStep calls.")
@click.option("--timeout", default=None, type=click.FloatRange(min=0),
              help="emr: stop following after this many seconds (exit 124; the step keeps running).")
@settings_options(runner=False)  # --to says where
@script_arguments
def submit(target, dry_run, include, requirements, max_size, out, env_archive, cluster_id, poll_interval, timeout,
           script, script_args, runner_options, config, profile) -> None:
    """Package SCRIPT.py with its local modules and submit it to a Spark, Dask or Ray cluster, or an EMR step
    (--to emr: -c/--config names the cluster.toml)."""
    if target == "emr":
        _submit_emr(dry_run, include, requirements, max_size, script, script_args, runner_options, config, profile,
                    cluster_id, poll_interval, timeout)
        return
    try:
        settings = command_settings(None, runner_options, config, profile)
        plan = plan_submission(target, script, script_args, settings, include, requirements, max_size, out,
                               env_archive=env_archive)
    except MapfoldError as exc:  # the offending path, the missing address: before anything is submitted
        raise click.ClickException(str(exc)) from None
    _listing(os.path.relpath(plan.package_path), plan.package)
    click.echo(f"command: {plan.command()}")
    if dry_run:
        return
    try:
        done = subprocess.run(plan.argv, env={**os.environ, **plan.env} if plan.env else None)
    except FileNotFoundError:
        raise click.ClickException(f"{plan.argv[0]} not found: install the {target} client "
                                   f"(pip install 'mapfold[{target}]')") from None
    sys.exit(done.returncode)
