"""boto3 for ``mapfold cluster``: clients, finding a cluster, uploading code, following a step.

boto3 is imported here, lazily, and only when a command talks to AWS
(``--dry-run`` never does); when missing, :class:`EmrUnavailableError`
says to ``pip install 'mapfold[emr]'``. Credentials come from boto3's own
chain; nothing here reads, passes or prints them.
"""
from __future__ import annotations

import time
from typing import Callable

from ..core.errors import MapfoldError
from .emr_config import ClusterConfig

__all__ = ["EmrUnavailableError", "StepTimeout", "client", "find_cluster", "upload", "follow_step",
           "ACTIVE_STATES", "FAILED_STEP_STATES"]

INSTALL_HINT = "pip install 'mapfold[emr]'"
ACTIVE_STATES = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]
DONE_STEP_STATES = ("COMPLETED", "FAILED", "CANCELLED", "INTERRUPTED")
FAILED_STEP_STATES = ("FAILED", "CANCELLED", "INTERRUPTED")


class EmrUnavailableError(MapfoldError):
    """boto3 is not installed."""


class StepTimeout(MapfoldError):
    """The step had not ended when ``--timeout`` ran out (it keeps running on the cluster)."""


def client(config: ClusterConfig, service: str):
    """A boto3 client of ``service`` ("emr", "s3") in the configured region and endpoint."""
    try:
        import boto3
    except ImportError:
        raise EmrUnavailableError(f"mapfold cluster talks to EMR through boto3, which is not installed: "
                                  f"{INSTALL_HINT}") from None
    kwargs = {"region_name": config.region}
    if config.endpoint_url:
        kwargs["endpoint_url"] = config.endpoint_url
    return boto3.session.Session().client(service, **kwargs)  # a session of its own: credentials found now


def find_cluster(emr, name: str) -> str:
    """The id of the one active cluster called ``name``."""
    found = []
    for page in emr.get_paginator("list_clusters").paginate(ClusterStates=ACTIVE_STATES):
        found += [c["Id"] for c in page["Clusters"] if c["Name"] == name]
    if not found:
        raise MapfoldError(f"no active cluster named {name!r}: give --cluster-id, or mapfold cluster create")
    if len(found) > 1:
        raise MapfoldError(f"{len(found)} active clusters named {name!r} ({', '.join(found)}): give --cluster-id")
    return found[0]


def upload(s3, bucket: str, key: str, data: bytes) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=data)


def follow_step(emr, cluster_id: str, step_id: str, echo: Callable[[str], None], interval: float = 10.0,
                timeout: float | None = None, clock=time.monotonic, sleep=time.sleep) -> dict:
    """Poll DescribeStep every ``interval`` seconds, echo each new state, return the step once it ends.

    The last poll is at ``timeout`` seconds; if the step has not ended then, :class:`StepTimeout`.

    >>> class Fake:  # a step that runs for 25 s; the clock is the fake's
    ...     now = 0.0
    ...     def describe_step(self, ClusterId, StepId):
    ...         return {"Step": {"Status": {"State": "RUNNING" if self.now < 25 else "COMPLETED"}}}
    ...     def sleep(self, seconds):
    ...         self.now += seconds
    >>> f = Fake()
    >>> follow_step(f, "j-1", "s-1", print, 10, None, lambda: f.now, f.sleep)["Status"]["State"]
    step s-1: RUNNING (0.0 s)
    step s-1: COMPLETED (30.0 s)
    'COMPLETED'
    >>> f = Fake()
    >>> follow_step(f, "j-1", "s-1", print, 10, 15, lambda: f.now, f.sleep)
    Traceback (most recent call last):
    mapfold.cli.emr_client.StepTimeout: step s-1 is still RUNNING after 15 s (--timeout); ...
    >>> f.now
    15.0
    """
    start = clock()
    last = None
    while True:
        step = emr.describe_step(ClusterId=cluster_id, StepId=step_id)["Step"]
        state = step["Status"]["State"]
        if state != last:
            echo(f"step {step_id}: {state} ({clock() - start:.1f} s)")
            last = state
        if state in DONE_STEP_STATES:
            return step
        wait = interval
        if timeout is not None:
            left = timeout - (clock() - start)
            if left <= 0:
                raise StepTimeout(f"step {step_id} is still {state} after {timeout:g} s (--timeout); it keeps "
                                  f"running on cluster {cluster_id}: follow it with the EMR console or "
                                  f"`aws emr describe-step --cluster-id {cluster_id} --step-id {step_id}`")
            wait = min(interval, left)
        sleep(wait)
