"""Credential hygiene without a server: scrubbing messages and log records."""
from __future__ import annotations

import logging

import pytest

from mapfold.io.secrets import protect_logs, scrub, scrubbed, secret_values

OPTIONS = {"key": "AKIAEXAMPLEKEY", "secret": "very-secret-value",
           "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000", "aws_session_token": "tok-123456"}}


def test_secret_values_by_option_name():
    assert secret_values(OPTIONS) == ["very-secret-value", "AKIAEXAMPLEKEY", "tok-123456"]


def test_scrubbed_reraises_same_type_without_cause():
    with pytest.raises(PermissionError) as info:
        with scrubbed(OPTIONS):
            try:
                raise ValueError("inner AKIAEXAMPLEKEY")
            except ValueError as inner:
                raise PermissionError("denied for very-secret-value") from inner
    assert str(info.value) == "denied for ***"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_scrubbed_leaves_clean_errors_alone():
    with pytest.raises(KeyError) as info:
        with scrubbed(OPTIONS):
            raise KeyError("nothing secret")
    assert info.value.args == ("nothing secret",)


def test_scrub_urls_with_passwords():
    assert scrub("GET http://user:pa55word@host/x", None) == "GET http://***@host/x"


def test_log_records_are_redacted(caplog):
    protect_logs(OPTIONS)
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("botocore.endpoint")
    log.debug("headers={'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIDOTHER/20240101/us-east-1/s3/aws4_request'}")
    log.debug("token %s", "tok-123456")
    try:
        raise OSError("failed with very-secret-value")
    except OSError:
        logging.getLogger("s3fs").debug("retrying", exc_info=True)
    text = caplog.text
    assert "AKIDOTHER" not in text and "tok-123456" not in text and "very-secret-value" not in text
    assert "Credential=<redacted>" in text and "failed with ***" in text
