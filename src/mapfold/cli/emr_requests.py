"""The EMR API requests ``mapfold cluster`` sends, built from a :class:`ClusterConfig` (no AWS library).

``run_job_flow_request`` is RunJobFlow's parameters (instance groups, tags,
bootstrap actions, ``AutoTerminationPolicy`` for the idle timeout);
``spark_step_request`` is AddJobFlowSteps' (a ``spark-submit --deploy-mode
cluster --py-files s3://.../PKG.zip s3://.../SCRIPT.py ARGS`` run by
``command-runner.jar``). Both are plain dicts, printed as JSON by
``--dry-run`` and passed as they are to boto3.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .emr_config import ClusterConfig

__all__ = ["run_job_flow_request", "spark_step_request", "CodeUpload", "code_upload", "show_request"]


def run_job_flow_request(config: ClusterConfig) -> dict:
    groups = []
    for group in config.groups:
        entry = {"Name": group.role, "InstanceRole": group.role.upper(), "InstanceType": group.instance_type,
                 "InstanceCount": group.count, "Market": group.market}
        if group.bid is not None:
            entry["BidPrice"] = group.bid
        groups.append(entry)
    instances: dict = {"InstanceGroups": groups, "KeepJobFlowAliveWhenNoSteps": config.keep_alive,
                       "TerminationProtected": False}
    if config.subnet:
        instances["Ec2SubnetId"] = config.subnet
    request: dict = {
        "Name": config.name,
        "ReleaseLabel": config.release_label,
        "Instances": instances,
        "Applications": [{"Name": name} for name in config.applications],
        "ServiceRole": config.service_role,
        "JobFlowRole": config.job_flow_role,
        "VisibleToAllUsers": True,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(config.tags.items())],
    }
    if config.log_uri:
        request["LogUri"] = config.log_uri
    if config.bootstrap_actions:
        request["BootstrapActions"] = [
            {"Name": a.name, "ScriptBootstrapAction": {"Path": a.path, "Args": list(a.args)}}
            for a in config.bootstrap_actions]
    if config.idle_timeout is not None:
        request["AutoTerminationPolicy"] = {"IdleTimeout": config.idle_timeout}
    return request


@dataclass(frozen=True)
class CodeUpload:
    """Where ``add-step`` puts the package and the script: ``s3://bucket/key`` each."""

    bucket: str
    package_key: str
    script_key: str

    @property
    def package_uri(self) -> str:
        return f"s3://{self.bucket}/{self.package_key}"

    @property
    def script_uri(self) -> str:
        return f"s3://{self.bucket}/{self.script_key}"


def code_upload(config: ClusterConfig, script: str, sha256: str) -> CodeUpload:
    """Keys named by the package's hash: the same code goes to the same place.

    >>> from mapfold.cli.emr_config import ClusterConfig
    >>> c = ClusterConfig("c.toml", "wc", "emr-7.1.0", "eu-west-1", (), code_uri="s3://code/mapfold/")
    >>> code_upload(c, "/tmp/wc.py", "ab" * 32).script_uri
    's3://code/mapfold/wc-abababababab/wc.py'
    """
    bucket, prefix = config.code_location()
    stem = os.path.splitext(os.path.basename(script))[0]
    folder = f"{prefix}{stem}-{sha256[:12]}/"
    return CodeUpload(bucket, folder + f"{stem}.zip", folder + os.path.basename(script))


def spark_step_request(config: ClusterConfig, cluster_id: str, upload: CodeUpload, script_args=(),
                       name: str | None = None) -> dict:
    stem = os.path.splitext(os.path.basename(upload.script_key))[0]
    args = ["spark-submit", "--deploy-mode", "cluster", "--name", name or stem, "--py-files", upload.package_uri,
            upload.script_uri, *script_args]
    return {"JobFlowId": cluster_id,
            "Steps": [{"Name": name or stem, "ActionOnFailure": config.action_on_failure,
                       "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args}}]}


def show_request(operation: str, request: dict) -> str:
    """How ``--dry-run`` prints a request: its operation, then its JSON."""
    return f"{operation} " + json.dumps(request, indent=2, sort_keys=True)
