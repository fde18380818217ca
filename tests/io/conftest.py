"""Fixtures for the io tests: an S3-compatible server on 127.0.0.1.

moto's standalone server runs as a subprocess on a free port for the whole
session; each test that wants a bucket gets a fresh one. Credentials are
fake but distinctive, so tests can grep every message and log line for them.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

ACCESS_KEY = "AKIAMAPFOLDTESTKEY42"
SECRET_KEY = "mapfold-TEST-secret-value-9f3c1e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """``http://127.0.0.1:PORT`` of a moto server started for this session."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        import moto.server  # noqa: F401  in CI a missing server is a failure, never a skip
        import s3fs  # noqa: F401
    else:
        pytest.importorskip("moto.server", reason="the S3 tests need moto[server] (in the dev extra)")
        pytest.importorskip("s3fs", reason="the S3 tests need s3fs (in the dev extra)")
    port = _free_port()
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto server did not start on port {port}")
            time.sleep(0.1)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # never ask an instance metadata service
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def s3_options(s3_endpoint):
    return {"key": ACCESS_KEY, "secret": SECRET_KEY,
            "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}


@pytest.fixture
def bucket(s3_endpoint):
    """A new, empty bucket name."""
    import boto3

    name = f"mapfold-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def memory_root():
    """A fresh ``memory://`` folder (an in-process object store), removed afterwards."""
    import fsspec

    root = f"memory://mapfold-test-{uuid.uuid4().hex[:10]}"
    yield root
    fs = fsspec.filesystem("memory")
    path = root[len("memory://"):]
    if fs.exists(path):
        fs.rm(path, recursive=True)
