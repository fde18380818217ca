"""``mapfold cluster create|describe|add-step|terminate --config cluster.toml``: Amazon EMR.

* ``create``: RunJobFlow from ``cluster.toml`` (``cli/emr_config.py``,
  ``cli/emr_requests.py``); prints the cluster id;
* ``describe``: the cluster's state, instance groups and steps;
* ``add-step SCRIPT.py [-- ARGS]``: packages the script and its local
  modules (``cli/package.py``), uploads the zip and the script under
  ``code_uri``, adds a ``spark-submit`` step (``command-runner.jar``) and
  follows its state until it ends (``--poll-interval``, ``--timeout``);
  exits 1 when the step FAILED, was CANCELLED or INTERRUPTED, 124 when
  ``--timeout`` ran out first, 130 on Ctrl-C (the step keeps running);
* ``terminate``: TerminateJobFlows.

A cluster is named by ``--cluster-id``, else found by the configured name
among the active clusters. ``--dry-run`` prints the requests and sends
none (boto3 not needed). AWS calls go through ``cli/emr_client.py``.
"""
from __future__ import annotations

import click

from ..core.config import format_size
from ..core.errors import MapfoldError
from .emr_client import client, find_cluster
from .emr_config import load_cluster_config
from .emr_requests import run_job_flow_request, show_request
from .emr_steps import TIMEOUT_EXIT, aws, dry_run_lines, echo, finish_step, plan_step, send_step
from .package import DEFAULT_MAX_SIZE

__all__ = ["cluster", "TIMEOUT_EXIT"]

def _config(path):
    try:
        return load_cluster_config(path)
    except MapfoldError as exc:
        raise click.ClickException(str(exc)) from None


def _cluster_id(emr, config, cluster_id):
    return cluster_id or find_cluster(emr, config.name)


config_option = click.option("-c", "--config", "config_path", default="cluster.toml", show_default=True,
                             type=click.Path(dir_okay=False), help="The cluster's configuration file.")
id_option = click.option("--cluster-id", default=None, help="The cluster (default: the active one of that name).")
dry_run_option = click.option("--dry-run", is_flag=True, help="Print the requests; send none.")


@click.group()
def cluster() -> None:
    """Amazon EMR clusters from a cluster.toml: create, describe, add-step, terminate."""


@cluster.command()
@config_option
@dry_run_option
def create(config_path, dry_run) -> None:
    """Start the cluster (RunJobFlow); print its id."""
    config = _config(config_path)
    request = run_job_flow_request(config)
    if dry_run:
        echo(show_request("RunJobFlow", request))
        return

    def run():
        return client(config, "emr").run_job_flow(**request)["JobFlowId"]

    click.echo(aws(run))


@cluster.command()
@config_option
@id_option
def describe(config_path, cluster_id) -> None:
    """The cluster's state, instance groups and steps."""
    config = _config(config_path)

    def run():
        emr = client(config, "emr")
        cid = _cluster_id(emr, config, cluster_id)
        info = emr.describe_cluster(ClusterId=cid)["Cluster"]
        status = info["Status"]
        reason = (status.get("StateChangeReason") or {}).get("Message")
        lines = [f"{cid} {info['Name']}: {status['State']}" + (f" ({reason})" if reason else ""),
                 f"  release {info.get('ReleaseLabel', '?')}, "
                 f"applications {', '.join(a['Name'] for a in info.get('Applications', []))}"]
        for group in emr.list_instance_groups(ClusterId=cid)["InstanceGroups"]:
            lines.append(f"  {group['InstanceGroupType'].lower()}: {group['RequestedInstanceCount']} x "
                         f"{group['InstanceType']} {group.get('Market', 'ON_DEMAND')}")
        for step in emr.list_steps(ClusterId=cid)["Steps"]:
            lines.append(f"  step {step['Id']} {step['Name']}: {step['Status']['State']}")
        return lines

    for line in aws(run):
        echo(line)


@cluster.command("add-step")
@config_option
@id_option
@dry_run_option
@click.option("--poll-interval", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds between two DescribeStep calls.")
@click.option("--timeout", default=None, type=click.FloatRange(min=0),
              help="Stop following after this many seconds (exit 124; the step keeps running).")
@click.option("--no-wait", is_flag=True, help="Add the step and return; do not follow it.")
@click.option("--include", multiple=True, type=click.Path(exists=True), help="Also package this file or folder.")
@click.option("--max-size", default=DEFAULT_MAX_SIZE, show_default=True, help="Refuse a larger package.")
@click.argument("script", type=click.Path(exists=True, dir_okay=False))
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
def add_step(config_path, cluster_id, dry_run, poll_interval, timeout, no_wait, include, max_size, script,
             script_args) -> None:
    """Upload SCRIPT.py and its local modules to S3, add a spark-submit step, follow it until it ends."""
    config = _config(config_path)
    try:
        plan = plan_step(config, script, script_args, include, max_size)
    except MapfoldError as exc:
        raise click.ClickException(str(exc)) from None
    package = plan.package
    echo(f"package: {len(package.files)} files, {format_size(package.size)}, sha256 {package.sha256[:12]}")
    if dry_run:
        for line in dry_run_lines(plan, cluster_id):
            echo(line)
        return
    emr, cid, step_id = send_step(plan, cluster_id)
    if not no_wait:
        finish_step(emr, cid, step_id, poll_interval, timeout)


@cluster.command()
@config_option
@id_option
@dry_run_option
def terminate(config_path, cluster_id, dry_run) -> None:
    """Terminate the cluster (TerminateJobFlows)."""
    config = _config(config_path)
    if dry_run:
        echo(show_request("TerminateJobFlows", {"JobFlowIds": [cluster_id or "<cluster id>"]}))
        return

    def run():
        emr = client(config, "emr")
        cid = _cluster_id(emr, config, cluster_id)
        emr.terminate_job_flows(JobFlowIds=[cid])
        return cid

    echo(f"terminating {aws(run)}")
