"""``mapfold cluster``: Amazon EMR through boto3, against moto's EMR and S3 server on 127.0.0.1.

The server is moto's, in this process (``ThreadedMotoServer``, bound to
127.0.0.1), so a real boto3 client talks to it over HTTP and the test can
also reach into its backend: moto keeps a step RUNNING (or PENDING) for
ever, so the terminal states (COMPLETED, FAILED, CANCELLED) are set there,
from a given DescribeStep on, the way the service would report them.

The commands run for real (click's runner, the same ``main`` as
``python -m mapfold``); what they sent is read back from moto with
describe_cluster, list_instance_groups, list_bootstrap_actions and
describe_step. Credentials are canaries in the environment, never in the
file, and never in anything printed.
"""
from __future__ import annotations

import re
import sys
import textwrap
import uuid

import pytest
from click.testing import CliRunner

from mapfold.cli.main import main

from ..conftest import IN_CI

if IN_CI:  # in CI a missing server is a failure, never a skip
    import boto3  # noqa: F401
    import moto.server  # noqa: F401
else:
    pytest.importorskip("boto3", reason="the EMR tests need boto3 (the dev extra)")
    pytest.importorskip("moto.server", reason="the EMR tests need moto[server] (the dev extra)")

ACCESS_KEY = "AKIAMAPFOLDEMRCANARY"
SECRET_KEY = "mapfold-EMR-canary-secret-7d2a"
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"

CONFIG = textwrap.dedent("""\
    name = "{name}"
    release_label = "emr-7.1.0"
    region = "us-east-1"
    subnet = "subnet-0abc1234"
    log_uri = "s3://my-logs/emr/"
    applications = ["Spark"]
    idle_timeout = 3600
    code_uri = "s3://{bucket}/mapfold/"
    {endpoint}

    [instances.master]
    type = "m5.xlarge"

    [instances.core]
    type = "m5.xlarge"
    count = 2

    [instances.task]
    type = "m5.2xlarge"
    count = 3
    market = "SPOT"
    bid = "0.20"

    [tags]
    project = "mapfold"
    owner = "data-team"

    [[bootstrap_actions]]
    name = "deps"
    path = "s3://my-code/bootstrap/install.sh"
    args = ["--with", "pyarrow"]
""")
SCRIPT = "import sys\n\nfrom helper import greet\n\nprint(greet(sys.argv[1]))\n"
HELPER = "def greet(name):\n    return 'hello ' + name\n"


@pytest.fixture(scope="module")
def moto_endpoint():
    """``http://127.0.0.1:PORT`` of moto's server, running in this process for the module."""
    from moto.server import ThreadedMotoServer

    from ..conftest import _free_port

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(monkeypatch, moto_endpoint):
    """Canary credentials in the environment, as a user's would be; no instance metadata service."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "MAPFOLD_EMR_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    import boto3

    return {service: boto3.client(service, endpoint_url=moto_endpoint, region_name=REGION)
            for service in ("emr", "s3")}


@pytest.fixture
def project(tmp_path, aws, moto_endpoint, monkeypatch):
    """A folder with cluster.toml (pointing at moto), a script and its local module; a fresh code bucket."""
    bucket = f"code-{uuid.uuid4().hex[:8]}"
    aws["s3"].create_bucket(Bucket=bucket)
    name = f"wc-{uuid.uuid4().hex[:6]}"
    (tmp_path / "cluster.toml").write_text(CONFIG.format(name=name, bucket=bucket,
                                                         endpoint=f'endpoint_url = "{moto_endpoint}"'))
    (tmp_path / "job.py").write_text(SCRIPT)
    (tmp_path / "helper.py").write_text(HELPER)
    monkeypatch.chdir(tmp_path)
    return {"dir": tmp_path, "bucket": bucket, "name": name}


def cli(*args: str, ok: bool = True):
    result = CliRunner().invoke(main, ["cluster", *args], catch_exceptions=False)
    for text in (result.output, getattr(result, "stderr", "") or ""):
        assert SECRET_KEY not in text and ACCESS_KEY not in text
    if ok:
        assert result.exit_code == 0, result.output
    return result


def create(project) -> str:
    cluster_id = cli("create").output.strip()
    assert cluster_id.startswith("j-")
    return cluster_id


def backend_step(cluster_id: str, step_id: str):
    from moto.emr.models import emr_backends

    cluster = emr_backends[ACCOUNT][REGION].clusters[cluster_id]
    return next(step for step in cluster.steps if step.id == step_id)


def end_step_at_poll(monkeypatch, state: str, poll: int = 3) -> list:
    """The service's side: the step reports ``state`` from DescribeStep number ``poll`` on (RUNNING before).

    moto never moves a step on; its backend's ``describe_step`` is wrapped to do it, counting the polls.
    """
    from moto.emr.models import emr_backends

    backend = emr_backends[ACCOUNT][REGION]
    original = backend.describe_step
    calls: list = []

    def describe_step(cluster_id, step_id):
        step = original(cluster_id, step_id)
        calls.append(step_id)
        if len(calls) >= poll:
            step.state = state
        return step

    monkeypatch.setattr(backend, "describe_step", describe_step)
    return calls


# -- the requests, as moto received them ---------------------------------------------
def test_create_sends_the_configured_cluster(project, aws):
    cluster_id = create(project)
    emr = aws["emr"]
    info = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert info["Name"] == project["name"]
    assert info["ReleaseLabel"] == "emr-7.1.0"
    assert info["Status"]["State"] == "WAITING"  # kept alive for steps
    assert [a["Name"] for a in info["Applications"]] == ["Spark"]
    assert info["Ec2InstanceAttributes"]["Ec2SubnetId"] == "subnet-0abc1234"
    assert info["LogUri"] == "s3://my-logs/emr/"
    assert info["ServiceRole"] == "EMR_DefaultRole"
    assert info["Ec2InstanceAttributes"]["IamInstanceProfile"] == "EMR_EC2_DefaultRole"
    assert {t["Key"]: t["Value"] for t in info["Tags"]} == {"project": "mapfold", "owner": "data-team"}
    groups = {g["InstanceGroupType"]: g for g in emr.list_instance_groups(ClusterId=cluster_id)["InstanceGroups"]}
    assert {role: (g["InstanceType"], g["RequestedInstanceCount"], g["Market"]) for role, g in groups.items()} == {
        "MASTER": ("m5.xlarge", 1, "ON_DEMAND"), "CORE": ("m5.xlarge", 2, "ON_DEMAND"),
        "TASK": ("m5.2xlarge", 3, "SPOT")}
    assert groups["TASK"]["BidPrice"] == "0.20"
    actions = emr.list_bootstrap_actions(ClusterId=cluster_id)["BootstrapActions"]
    assert [(a["Name"], a["ScriptPath"], a["Args"]) for a in actions] == [
        ("deps", "s3://my-code/bootstrap/install.sh", ["--with", "pyarrow"])]


def test_add_step_uploads_the_package_and_follows_the_step_until_the_timeout(project, aws):
    """moto keeps a step RUNNING for ever: polling stops at --timeout, exit 124, with what to do next."""
    cluster_id = create(project)
    result = cli("add-step", "--cluster-id", cluster_id, "--poll-interval", "0.1", "--timeout", "0.5",
                 "job.py", "world", ok=False)
    assert result.exit_code == 124, result.output
    assert f"is still RUNNING after 0.5 s (--timeout); it keeps running on cluster {cluster_id}" in result.output
    assert re.search(r"RUNNING \(0\.\d s\)", result.output)  # the first poll, at once (0.1 s under load)
    # the code package and the script, in the code bucket under the package's hash
    s3 = aws["s3"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=project["bucket"])["Contents"])
    assert len(keys) == 2 and all(k.startswith("mapfold/job-") for k in keys)
    zip_key, script_key = [k for k in keys if k.endswith(".zip")][0], [k for k in keys if k.endswith(".py")][0]
    assert s3.get_object(Bucket=project["bucket"], Key=script_key)["Body"].read().decode() == SCRIPT
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(s3.get_object(Bucket=project["bucket"], Key=zip_key)["Body"].read()))
    assert archive.namelist() == ["helper.py", "job.py"]
    assert archive.read("helper.py").decode() == HELPER
    # the step, as AddJobFlowSteps gave it
    steps = aws["emr"].list_steps(ClusterId=cluster_id)["Steps"]
    assert len(steps) == 1
    step = aws["emr"].describe_step(ClusterId=cluster_id, StepId=steps[0]["Id"])["Step"]
    assert step["Name"] == "job" and step["ActionOnFailure"] == "CONTINUE"
    assert step["Config"]["Jar"] == "command-runner.jar"
    bucket = project["bucket"]
    assert step["Config"]["Args"] == ["spark-submit", "--deploy-mode", "cluster", "--name", "job", "--py-files",
                                      f"s3://{bucket}/{zip_key}", f"s3://{bucket}/{script_key}", "world"]
    assert f"step {step['Id']} added to {cluster_id}" in result.output


def test_add_step_streams_the_state_to_completed(project, aws, monkeypatch):
    cluster_id = create(project)
    polls = end_step_at_poll(monkeypatch, "COMPLETED")
    result = cli("add-step", "--cluster-id", cluster_id, "--poll-interval", "0.1", "--timeout", "30", "job.py", "x")
    lines = [line for line in result.output.splitlines() if line.startswith("step s-") and ": " in line]
    assert [line.split(": ")[1].split(" (")[0] for line in lines] == ["RUNNING", "COMPLETED"]
    assert len(polls) == 3  # polling stopped once the step ended


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_failed_step_exits_non_zero(project, aws, monkeypatch, state):
    cluster_id = create(project)
    end_step_at_poll(monkeypatch, state, poll=2)
    result = cli("add-step", "--cluster-id", cluster_id, "--poll-interval", "0.1", "--timeout", "30", "job.py",
                 ok=False)
    assert result.exit_code == 1
    assert f": {state} (" in result.output and "Error: step s-" in result.output
    assert result.output.rstrip().endswith(state)


def test_describe_finds_the_cluster_by_name_and_terminate_ends_it(project, aws):
    cluster_id = create(project)
    cli("add-step", "--cluster-id", cluster_id, "--no-wait", "job.py", "x")
    shown = cli("describe").output  # no --cluster-id: the active cluster of the configured name
    assert shown.splitlines()[0] == f"{cluster_id} {project['name']}: RUNNING"
    assert "release emr-7.1.0, applications Spark" in shown
    assert "task: 3 x m5.2xlarge SPOT" in shown and "core: 2 x m5.xlarge ON_DEMAND" in shown
    assert ": RUNNING" in shown.splitlines()[-1] and "step s-" in shown.splitlines()[-1]
    assert cli("terminate", "--cluster-id", cluster_id).output == f"terminating {cluster_id}\n"
    assert aws["emr"].describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"] == "TERMINATED"
    missing = cli("describe", ok=False)  # terminated: no active cluster of that name is left
    assert missing.exit_code == 1 and f"no active cluster named {project['name']!r}" in missing.output


def test_the_endpoint_may_come_from_the_environment(project, aws, moto_endpoint, monkeypatch):
    text = (project["dir"] / "cluster.toml").read_text().replace(f'endpoint_url = "{moto_endpoint}"', "")
    (project["dir"] / "cluster.toml").write_text(text)
    monkeypatch.setenv("MAPFOLD_EMR_ENDPOINT_URL", moto_endpoint)
    cluster_id = create(project)
    assert aws["emr"].describe_cluster(ClusterId=cluster_id)["Cluster"]["Name"] == project["name"]


# -- no AWS: the file's checks, --dry-run, a missing boto3 ---------------------------
DRY_CREATE = """\
RunJobFlow {
  "Applications": [
    {
      "Name": "Spark"
    }
  ],
  "AutoTerminationPolicy": {
    "IdleTimeout": 3600
  },
  "BootstrapActions": [
    {
      "Name": "deps",
      "ScriptBootstrapAction": {
        "Args": [
          "--with",
          "pyarrow"
        ],
        "Path": "s3://my-code/bootstrap/install.sh"
      }
    }
  ],
  "Instances": {
    "Ec2SubnetId": "subnet-0abc1234",
    "InstanceGroups": [
      {
        "InstanceCount": 1,
        "InstanceRole": "MASTER",
        "InstanceType": "m5.xlarge",
        "Market": "ON_DEMAND",
        "Name": "master"
      },
      {
        "InstanceCount": 2,
        "InstanceRole": "CORE",
        "InstanceType": "m5.xlarge",
        "Market": "ON_DEMAND",
        "Name": "core"
      },
      {
        "BidPrice": "0.20",
        "InstanceCount": 3,
        "InstanceRole": "TASK",
        "InstanceType": "m5.2xlarge",
        "Market": "SPOT",
        "Name": "task"
      }
    ],
    "KeepJobFlowAliveWhenNoSteps": true,
    "TerminationProtected": false
  },
  "JobFlowRole": "EMR_EC2_DefaultRole",
  "LogUri": "s3://my-logs/emr/",
  "Name": "wordcount",
  "ReleaseLabel": "emr-7.1.0",
  "ServiceRole": "EMR_DefaultRole",
  "Tags": [
    {
      "Key": "owner",
      "Value": "data-team"
    },
    {
      "Key": "project",
      "Value": "mapfold"
    }
  ],
  "VisibleToAllUsers": true
}
"""
DRY_STEP = """\
package: 2 files, 303 B, sha256 {hash}
PutObject s3://code/mapfold/job-{hash}/job.zip
PutObject s3://code/mapfold/job-{hash}/job.py
AddJobFlowSteps {{
  "JobFlowId": "j-2AXXXXXXGAPLF",
  "Steps": [
    {{
      "ActionOnFailure": "CONTINUE",
      "HadoopJarStep": {{
        "Args": [
          "spark-submit",
          "--deploy-mode",
          "cluster",
          "--name",
          "job",
          "--py-files",
          "s3://code/mapfold/job-{hash}/job.zip",
          "s3://code/mapfold/job-{hash}/job.py",
          "in.txt",
          "--top"
        ],
        "Jar": "command-runner.jar"
      }},
      "Name": "job"
    }}
  ]
}}
"""


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """cluster.toml and the script, no server: --dry-run sends nothing (an unreachable endpoint proves it)."""
    (tmp_path / "cluster.toml").write_text(CONFIG.format(name="wordcount", bucket="code",
                                                         endpoint='endpoint_url = "http://127.0.0.1:9"'))
    (tmp_path / "job.py").write_text(SCRIPT)
    (tmp_path / "helper.py").write_text(HELPER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    return tmp_path


def test_dry_run_create_is_golden(offline):
    assert cli("create", "--dry-run").output == DRY_CREATE


def test_dry_run_add_step_is_golden(offline):
    """The package is reproducible, so its hash (and the keys named by it) is golden too."""
    expected = DRY_STEP.format(hash="da22ae00ffe8")
    result = cli("add-step", "--dry-run", "--cluster-id", "j-2AXXXXXXGAPLF", "job.py", "--", "in.txt", "--top")
    assert result.output == expected


def test_dry_run_terminate_is_golden(offline):
    assert cli("terminate", "--dry-run", "--cluster-id", "j-2AXXXXXXGAPLF").output == (
        'TerminateJobFlows {\n  "JobFlowIds": [\n    "j-2AXXXXXXGAPLF"\n  ]\n}\n')


def test_a_secret_in_the_file_is_refused(offline):
    path = offline / "cluster.toml"
    path.write_text(path.read_text().replace('name = "wordcount"',
                                             f'name = "wordcount"\naws_secret_access_key = "{SECRET_KEY}"'))
    result = cli("create", "--dry-run", ok=False)
    assert result.exit_code == 1 and "a secret written in the configuration file" in result.output


@pytest.mark.parametrize("edit, message", [
    (("[instances.master]\ntype = \"m5.xlarge\"\n", ""), "a cluster needs its master instance group"),
    (('market = "SPOT"\n', ""), 'a bid needs market = "SPOT"'),
    (("idle_timeout = 3600", "idle_timeout = 5"), "idle_timeout is in seconds"),
    (('region = "us-east-1"', 'region = "us-east-1"\nregoin = "x"'), "unknown keys ['regoin']"),
])
def test_a_wrong_file_names_the_key(offline, edit, message):
    path = offline / "cluster.toml"
    path.write_text(path.read_text().replace(*edit))
    result = cli("create", "--dry-run", ok=False)
    assert result.exit_code == 1 and message in result.output and "cluster.toml" in result.output


def test_a_missing_boto3_says_what_to_install(offline, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 raises ImportError
    result = cli("create", ok=False)
    assert result.exit_code == 1
    assert "boto3, which is not installed: pip install 'mapfold[emr]'" in result.output


def test_python_m_mapfold_cluster_runs_as_a_user_would(project, aws):
    """The installed command's path: a subprocess, its credentials only in the environment."""
    from .helpers import environment, mapfold_cli

    env = environment(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_EC2_METADATA_DISABLED="true")
    done = mapfold_cli("cluster", "create", cwd=project["dir"], env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    cluster_id = done.stdout.strip()
    assert aws["emr"].describe_cluster(ClusterId=cluster_id)["Cluster"]["ReleaseLabel"] == "emr-7.1.0"
    done = mapfold_cli("cluster", "terminate", "--cluster-id", cluster_id, cwd=project["dir"], env=env, timeout=120)
    assert done.returncode == 0 and done.stdout == f"terminating {cluster_id}\n", done.stderr
    for text in (done.stdout, done.stderr):
        assert SECRET_KEY not in text and ACCESS_KEY not in text


def test_an_error_of_the_service_is_one_clear_line(project, aws):
    result = cli("describe", "--cluster-id", "j-NOSUCHCLUSTER", ok=False)
    assert result.exit_code == 1
    assert result.output == ("Error: An error occurred (InvalidRequestException) when calling the DescribeCluster "
                             "operation: Cluster id 'j-NOSUCHCLUSTER' is not valid.\n")


def test_no_credentials_is_one_clear_line(project, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = cli("create", ok=False)
    assert result.exit_code == 1 and result.output == "Error: NoCredentialsError: Unable to locate credentials\n"


# -- mapfold submit --to emr: the same step, on a cluster found or created from the file -------
def submit_cli(*args: str, ok: bool = True):
    result = CliRunner().invoke(main, ["submit", "--to", "emr", *args], catch_exceptions=False)
    assert SECRET_KEY not in result.output and ACCESS_KEY not in result.output
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_submit_to_emr_creates_the_cluster_uploads_and_follows_the_step(project, aws, monkeypatch):
    """No active cluster of the configured name: submit creates it from cluster.toml (RunJobFlow), uploads the
    package and the script, adds the spark-submit step and follows it to COMPLETED."""
    polls = end_step_at_poll(monkeypatch, "COMPLETED", poll=2)
    result = submit_cli("--config", "cluster.toml", "--poll-interval", "0.1", "--timeout", "30", "job.py", "--",
                        "s3://data/in.txt")
    created = re.search(r"created cluster (j-\w+) \(" + project["name"] + r"\) from cluster.toml", result.output)
    assert created, result.output
    cluster_id = created.group(1)
    emr, s3, bucket = aws["emr"], aws["s3"], project["bucket"]
    info = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert (info["Name"], info["ReleaseLabel"]) == (project["name"], "emr-7.1.0")
    assert {t["Key"]: t["Value"] for t in info["Tags"]} == {"project": "mapfold", "owner": "data-team"}
    groups = {g["InstanceGroupType"]: (g["InstanceType"], g["RequestedInstanceCount"])
              for g in emr.list_instance_groups(ClusterId=cluster_id)["InstanceGroups"]}
    assert groups == {"MASTER": ("m5.xlarge", 1), "CORE": ("m5.xlarge", 2), "TASK": ("m5.2xlarge", 3)}
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    zip_key, script_key = [k for k in keys if k.endswith(".zip")][0], [k for k in keys if k.endswith(".py")][0]
    assert len(keys) == 2 and script_key.startswith("mapfold/job-")
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(s3.get_object(Bucket=bucket, Key=zip_key)["Body"].read()))
    assert archive.namelist() == ["helper.py", "job.py"]
    assert s3.get_object(Bucket=bucket, Key=script_key)["Body"].read().decode() == SCRIPT
    (step,) = emr.list_steps(ClusterId=cluster_id)["Steps"]
    step = emr.describe_step(ClusterId=cluster_id, StepId=step["Id"])["Step"]
    assert step["Name"] == "job" and step["ActionOnFailure"] == "CONTINUE"
    assert step["Config"]["Jar"] == "command-runner.jar"
    assert step["Config"]["Args"] == ["spark-submit", "--deploy-mode", "cluster", "--name", "job", "--py-files",
                                      f"s3://{bucket}/{zip_key}", f"s3://{bucket}/{script_key}", "s3://data/in.txt"]
    assert f"command: {' '.join(step['Config']['Args'])}" in result.output
    states = [line.split(": ")[1].split(" (")[0] for line in result.output.splitlines()
              if line.startswith(f"step {step['Id']}: ")]
    assert states == ["RUNNING", "COMPLETED"] and polls
    # a second submit finds the cluster by its name: no new cluster, a second step on it
    end_step_at_poll(monkeypatch, "FAILED", poll=1)
    again = submit_cli("--poll-interval", "0.1", "job.py", "--", "x", ok=False)
    assert again.exit_code == 1 and "created cluster" not in again.output
    assert f"added to {cluster_id}" in again.output and again.output.rstrip().endswith("FAILED")
    assert len(emr.list_steps(ClusterId=cluster_id)["Steps"]) == 2
    cli("terminate", "--cluster-id", cluster_id)


def test_dry_run_submit_to_emr_is_golden(offline):
    expected = DRY_STEP.format(hash="da22ae00ffe8")
    head, _, rest = expected.partition("\n")  # the package line; submit lists the files and the command first
    result = submit_cli("--dry-run", "--cluster-id", "j-2AXXXXXXGAPLF", "job.py", "--", "in.txt", "--top")
    assert result.output == (
        "package: s3://code/mapfold/job-da22ae00ffe8/job.zip (2 files, 303 B, sha256 da22ae00ffe8)\n"
        "  helper.py\n  job.py\n"
        "command: spark-submit --deploy-mode cluster --name job --py-files "
        "s3://code/mapfold/job-da22ae00ffe8/job.zip s3://code/mapfold/job-da22ae00ffe8/job.py in.txt --top\n"
        + rest)
    # without --cluster-id: the RunJobFlow it would send when no cluster of that name is active, then the step
    result = submit_cli("--dry-run", "job.py", "--", "in.txt", "--top")
    assert DRY_CREATE.rstrip("\n") + "\n(when no active cluster is named 'wordcount')\n" + rest.replace(
        "j-2AXXXXXXGAPLF", "<cluster id>") in result.output
