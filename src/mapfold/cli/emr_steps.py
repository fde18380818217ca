"""A ``spark-submit`` step on EMR, shared by ``mapfold cluster add-step`` and ``mapfold submit --to emr``.

1. :func:`plan_step`: the checked, reproducible code package of the script
   and its local modules (``cli/package.py``), and where it goes in S3
   (``code_uri``, a folder named by the package's hash);
2. :func:`dry_run_lines`: what ``--dry-run`` prints (the two uploads and
   the AddJobFlowSteps request, and RunJobFlow when a cluster would be
   created), sending nothing;
3. :func:`send_step`: uploads the zip and the script, finds the cluster
   (``--cluster-id``, else the active cluster of the configured name, else
   with ``create=True`` a new one from the configuration) and adds the step;
4. :func:`finish_step`: follows the step's state until it ends and turns
   it into the exit status (0 COMPLETED; 1 FAILED, CANCELLED, INTERRUPTED;
   124 ``--timeout``; 130 Ctrl-C, the step keeps running).

boto3 is imported by ``cli/emr_client.py`` only, and only when a request
is sent. Every printed line goes through :func:`~mapfold.cli.redact.redact`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable, Iterable

import click

from ..core.errors import MapfoldError
from .emr_client import FAILED_STEP_STATES, StepTimeout, client, find_cluster, follow_step, upload
from .emr_config import ClusterConfig
from .emr_requests import CodeUpload, code_upload, run_job_flow_request, show_request, spark_step_request
from .package import DEFAULT_MAX_SIZE, Package, build_package
from .redact import redact

__all__ = ["StepPlan", "plan_step", "dry_run_lines", "send_step", "finish_step", "aws", "echo", "TIMEOUT_EXIT"]

TIMEOUT_EXIT = 124  # as timeout(1)


def echo(text: str) -> None:
    """Print ``text`` with secrets of the environment masked."""
    click.echo(redact(text, os.environ))


@dataclass(frozen=True)
class StepPlan:
    """The package of a step and where it goes: everything a step needs before AWS is asked."""

    config: ClusterConfig
    script: str
    package: Package
    place: CodeUpload
    args: tuple[str, ...] = ()

    def request(self, cluster_id: str) -> dict:
        """The AddJobFlowSteps request for ``cluster_id``."""
        return spark_step_request(self.config, cluster_id, self.place, self.args)


def plan_step(config: ClusterConfig, script: str, script_args: Iterable[str] = (), include: Iterable[str] = (),
              max_size: int | str = DEFAULT_MAX_SIZE) -> StepPlan:
    """Package ``script`` (the checks of ``mapfold submit``) and place it under ``code_uri``.

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> _ = open(os.path.join(root, "wc.py"), "w").write("print('hi')\\n")
    >>> c = ClusterConfig("c.toml", "wc", "emr-7.1.0", "eu-west-1", (), code_uri="s3://code/mf/")
    >>> plan = plan_step(c, os.path.join(root, "wc.py"), ["in.txt"])
    >>> plan.request("j-1")["Steps"][0]["HadoopJarStep"]["Args"][-2:]  # doctest: +ELLIPSIS
    ['s3://code/mf/wc-.../wc.py', 'in.txt']
    """
    script = os.path.abspath(script)
    package = build_package(script, include, list(dict.fromkeys([os.path.dirname(script), os.getcwd()])), max_size)
    return StepPlan(config, script, package, code_upload(config, script, package.sha256), tuple(script_args))


def dry_run_lines(plan: StepPlan, cluster_id: str | None, create: bool = False) -> list[str]:
    """What ``--dry-run`` prints: RunJobFlow (``create`` without a cluster id), the uploads, AddJobFlowSteps."""
    lines = []
    if create and cluster_id is None:
        lines.append(show_request("RunJobFlow", run_job_flow_request(plan.config)) +
                     "\n(when no active cluster is named " + repr(plan.config.name) + ")")
    lines += [f"PutObject {plan.place.package_uri}", f"PutObject {plan.place.script_uri}",
              show_request("AddJobFlowSteps", plan.request(cluster_id or "<cluster id>"))]
    return lines


def aws(action: Callable):
    """Run ``action()``, turning boto3's and mapfold's errors into one clear line."""
    try:
        return action()
    except MapfoldError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # botocore's ClientError, NoCredentialsError, EndpointConnectionError...
        if type(exc).__module__.startswith(("botocore", "boto3")):
            text = str(exc) if type(exc).__name__ in str(exc) else f"{type(exc).__name__}: {exc}"
            raise click.ClickException(redact(text, os.environ)) from None
        raise


def _cluster(emr, config: ClusterConfig, cluster_id: str | None, create: bool) -> str:
    if cluster_id:
        return cluster_id
    try:
        return find_cluster(emr, config.name)
    except MapfoldError:
        if not create:
            raise
    cluster_id = emr.run_job_flow(**run_job_flow_request(config))["JobFlowId"]
    echo(f"created cluster {cluster_id} ({config.name}) from {config.path}")
    return cluster_id


def send_step(plan: StepPlan, cluster_id: str | None = None, create: bool = False):
    """Upload the package and the script, add the step: ``(emr client, cluster id, step id)``."""

    def run():
        emr, s3 = client(plan.config, "emr"), client(plan.config, "s3")
        cid = _cluster(emr, plan.config, cluster_id, create)
        upload(s3, plan.place.bucket, plan.place.package_key, plan.package.data)
        with open(plan.script, "rb") as f:
            upload(s3, plan.place.bucket, plan.place.script_key, f.read())
        echo(f"uploaded: {plan.place.package_uri}, {plan.place.script_uri}")
        step_id = emr.add_job_flow_steps(**plan.request(cid))["StepIds"][0]
        echo(f"step {step_id} added to {cid}")
        return emr, cid, step_id

    return aws(run)


def finish_step(emr, cluster_id: str, step_id: str, poll_interval: float, timeout: float | None) -> None:
    """Follow the step until it ends; exit as its state says (returns when it COMPLETED)."""

    def follow():
        try:
            return follow_step(emr, cluster_id, step_id, echo, poll_interval, timeout)
        except StepTimeout as exc:
            return exc
        except KeyboardInterrupt:  # only the following stops: the step is the cluster's
            click.echo(f"\nstopped following step {step_id}; it keeps running on cluster {cluster_id}", err=True)
            sys.exit(130)

    step = aws(follow)
    if isinstance(step, StepTimeout):
        click.echo(f"Error: {step}", err=True)
        sys.exit(TIMEOUT_EXIT)
    state = step["Status"]["State"]
    if state in FAILED_STEP_STATES:
        details = step["Status"].get("FailureDetails") or {}
        why = "; ".join(str(details[k]) for k in ("Reason", "Message", "LogFile") if details.get(k))
        raise click.ClickException(f"step {step_id} {state}" + (f": {why}" if why else ""))
