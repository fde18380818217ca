"""Fixtures for the io tests: buckets on the session's S3 server, memory:// folders.

The S3-compatible server (moto, on 127.0.0.1) and its fake but distinctive
credentials live in ``tests/conftest.py``: the docs' tests use them too.
Each test that wants a bucket gets a fresh one.
"""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def bucket(s3_endpoint, s3_options):
    """A new, empty bucket name."""
    import boto3

    name = f"mapfold-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=s3_options["key"], aws_secret_access_key=s3_options["secret"])
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
