"""``cluster.toml``: an Amazon EMR cluster described in a file (``mapfold cluster``).

Read and checked here, with no AWS library: the name, release label,
region, instance groups (master, core, optional task; spot by ``market =
"SPOT"`` and ``bid``), subnet, tags, bootstrap actions, idle timeout, log
URI, roles, applications, and where ``add-step`` uploads code
(``code_uri``). ``endpoint_url`` (or ``MAPFOLD_EMR_ENDPOINT_URL``) points
the client elsewhere than AWS (tests: moto on 127.0.0.1).

A value ``"${NAME}"`` is read from the environment; a literal value under a
secret-named key is refused (as in ``mapfold.toml``): credentials come from
boto3's own chain (environment, ``~/.aws``, instance roles), never the file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..core.profiles import ConfigError, check_no_secrets, expand_references, read_toml

__all__ = ["ClusterConfig", "InstanceGroup", "BootstrapAction", "load_cluster_config", "ENDPOINT_ENV"]

ENDPOINT_ENV = "MAPFOLD_EMR_ENDPOINT_URL"
ROLES = ("master", "core", "task")
_KEYS = {"name", "release_label", "region", "subnet", "tags", "bootstrap_actions", "idle_timeout", "log_uri",
         "service_role", "job_flow_role", "applications", "instances", "code_uri", "endpoint_url",
         "keep_alive", "action_on_failure"}
_GROUP_KEYS = {"type", "count", "market", "bid", "name"}


@dataclass(frozen=True)
class InstanceGroup:
    role: str  # master, core, task
    instance_type: str
    count: int
    market: str = "ON_DEMAND"
    bid: str | None = None


@dataclass(frozen=True)
class BootstrapAction:
    name: str
    path: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterConfig:
    path: str
    name: str
    release_label: str
    region: str
    groups: tuple[InstanceGroup, ...]
    subnet: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    bootstrap_actions: tuple[BootstrapAction, ...] = ()
    idle_timeout: int | None = None
    log_uri: str | None = None
    service_role: str = "EMR_DefaultRole"
    job_flow_role: str = "EMR_EC2_DefaultRole"
    applications: tuple[str, ...] = ("Spark",)
    code_uri: str | None = None
    endpoint_url: str | None = None
    keep_alive: bool = True
    action_on_failure: str = "CONTINUE"

    def code_location(self) -> tuple[str, str]:
        """``(bucket, prefix)`` of ``code_uri``; the prefix ends with ``/`` (or is empty)."""
        if not self.code_uri or not self.code_uri.startswith("s3://"):
            raise ConfigError("add-step uploads the code to S3: set code_uri = \"s3://BUCKET/PREFIX/\"",
                              self.path, "code_uri")
        bucket, _, prefix = self.code_uri[len("s3://"):].partition("/")
        prefix = prefix.strip("/")
        return bucket, prefix + "/" if prefix else ""


def _group(role: str, table: Any, path: str) -> InstanceGroup:
    where = f"instances.{role}"
    if not isinstance(table, dict):
        raise ConfigError("an instance group is a table with type and count", path, where)
    unknown = set(table) - _GROUP_KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)} (known: {sorted(_GROUP_KEYS)})", path, where)
    if "type" not in table:
        raise ConfigError("an instance group needs its instance type", path, f"{where}.type")
    count = table.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ConfigError("count is a whole number, at least 1", path, f"{where}.count")
    market = str(table.get("market", "ON_DEMAND")).upper()
    if market not in ("ON_DEMAND", "SPOT"):
        raise ConfigError('market is "ON_DEMAND" or "SPOT"', path, f"{where}.market")
    bid = table.get("bid")
    if bid is not None and market != "SPOT":
        raise ConfigError('a bid needs market = "SPOT"', path, f"{where}.bid")
    return InstanceGroup(role, str(table["type"]), count, market, None if bid is None else str(bid))


def load_cluster_config(path: str | os.PathLike, environ: Mapping[str, str] | None = None) -> ClusterConfig:
    """The checked configuration in ``path`` (a :class:`ConfigError` names the file and the key).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "cluster.toml")
    >>> _ = open(p, "w").write('name = "wc"\\nrelease_label = "emr-7.1.0"\\nregion = "eu-west-1"\\n'
    ...                        '[instances.master]\\ntype = "m5.xlarge"\\n')
    >>> c = load_cluster_config(p, {})
    >>> c.name, [(g.role, g.instance_type, g.count) for g in c.groups]
    ('wc', [('master', 'm5.xlarge', 1)])
    """
    environ = os.environ if environ is None else environ
    path = os.fspath(path)
    data = read_toml(path, missing="no such cluster configuration file")
    check_no_secrets(data, path)
    unknown = set(data) - _KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)} (known: {sorted(_KEYS)})", path)
    data = expand_references(data, environ, path=path)
    for key in ("name", "release_label", "region"):
        if not data.get(key):
            raise ConfigError("a cluster needs its name, release_label and region", path, key)
    instances = data.get("instances") or {}
    if "master" not in instances:
        raise ConfigError("a cluster needs its master instance group ([instances.master])", path, "instances")
    extra = set(instances) - set(ROLES)
    if extra:
        raise ConfigError(f"instance groups are master, core and task, not {sorted(extra)}", path, "instances")
    groups = tuple(_group(role, instances[role], path) for role in ROLES if role in instances)
    actions = []
    for i, action in enumerate(data.get("bootstrap_actions") or []):
        if not isinstance(action, dict) or "path" not in action:
            raise ConfigError("a bootstrap action is a table with path (and args)", path, f"bootstrap_actions[{i}]")
        actions.append(BootstrapAction(str(action.get("name", f"bootstrap-{i + 1}")), str(action["path"]),
                                       tuple(str(a) for a in action.get("args", ()))))
    idle = data.get("idle_timeout")
    if idle is not None and (not isinstance(idle, int) or not 60 <= idle <= 7 * 24 * 3600):
        raise ConfigError("idle_timeout is in seconds, from 60 to 604800 (EMR's limits)", path, "idle_timeout")
    tags = data.get("tags") or {}
    if not isinstance(tags, dict):
        raise ConfigError("tags is a table of names and values", path, "tags")
    return ClusterConfig(
        path=path, name=str(data["name"]), release_label=str(data["release_label"]), region=str(data["region"]),
        groups=groups, subnet=data.get("subnet"), tags={str(k): str(v) for k, v in tags.items()},
        bootstrap_actions=tuple(actions), idle_timeout=idle, log_uri=data.get("log_uri"),
        service_role=str(data.get("service_role", "EMR_DefaultRole")),
        job_flow_role=str(data.get("job_flow_role", "EMR_EC2_DefaultRole")),
        applications=tuple(str(a) for a in data.get("applications", ("Spark",))),
        code_uri=data.get("code_uri"),
        endpoint_url=data.get("endpoint_url") or environ.get(ENDPOINT_ENV) or None,
        keep_alive=bool(data.get("keep_alive", True)),
        action_on_failure=str(data.get("action_on_failure", "CONTINUE")),
    )
