"""Keeping credentials out of messages and logs.

``storage_options`` (keys, secrets, tokens, endpoints) are handed to fsspec
and shipped to the workers inside pickled filesystems, but they must never
be *shown*: not in an error, not in ``explain()``, not in a log line.

* :func:`scrub` replaces every string in ``storage_options`` (nested dicts
  included) by ``***`` in a text; :func:`scrubbed` re-raises an exception
  whose message contains one of them as a plain error with a scrubbed
  message and no chained cause (the cause would print the secret again).
* :func:`protect_logs` adds a filter to the loggers of the AWS clients that
  print request headers at DEBUG level (``botocore.endpoint`` logs the
  ``Authorization`` header, whose ``Credential=`` part is the access key
  id, and any ``X-Amz-Security-Token``). It rewrites those parts to
  ``<redacted>``; it is idempotent and changes nothing else.

fsspec filesystems do not print their options in ``repr`` (checked for
s3fs, memory and local: ``<s3fs.core.S3FileSystem object at 0x...>``), and
mapfold's sources describe themselves by paths only.
"""
from __future__ import annotations

import contextlib
import logging
import re
from typing import Iterator

__all__ = ["scrub", "scrubbed", "secret_values", "protect_logs"]

_MIN_SECRET = 4  # shorter strings ("us", "s3") are not worth hiding and would mangle text
_LOGGERS = ("botocore.endpoint", "aiobotocore.endpoint", "botocore.auth", "aiobotocore.auth")
_PATTERNS = [
    (re.compile(r"(Credential=)[^/\s'\",]+"), r"\1<redacted>"),
    (re.compile(r"((?:X-Amz-Security-Token|x-amz-security-token)'?\"?\s*[:=]\s*b?['\"]?)[^'\"\s,}&]+"),
     r"\1<redacted>"),
    (re.compile(r"((?:X-Amz-Credential|X-Amz-Signature)=)[^&\s'\"]+"), r"\1<redacted>"),
]


def secret_values(storage_options: dict | None) -> list[str]:
    """Every string (of 4+ characters) inside ``storage_options``, longest first."""
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            if len(value) >= _MIN_SECRET:
                found.append(value)
        elif isinstance(value, bytes):
            walk(value.decode("utf-8", "ignore"))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                walk(item)

    walk(storage_options or {})
    return sorted(set(found), key=len, reverse=True)


def scrub(text: str, storage_options: dict | None) -> str:
    """``text`` with every value of ``storage_options`` replaced by ``***``.

    >>> scrub("denied for key AKID1234", {"key": "AKID1234", "secret": "s3cr3t!"})
    'denied for key ***'
    """
    for value in secret_values(storage_options):
        text = text.replace(value, "***")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@contextlib.contextmanager
def scrubbed(storage_options: dict | None) -> Iterator[None]:
    """Re-raise errors that would show a value of ``storage_options``, scrubbed.

    The replacement keeps the exception's type when it can be built from a
    message (OSError, ValueError, mapfold's errors) and drops the chained
    cause, which would print the secret again.
    """
    secrets = secret_values(storage_options)
    try:
        yield
    except Exception as exc:
        if not secrets or not _shows(exc, secrets):
            raise
        message = scrub(str(exc), storage_options)
        try:
            clean = type(exc)(message)
        except Exception:
            clean = RuntimeError(f"{type(exc).__name__}: {message}")
        raise clean from None


def _shows(exc: BaseException, secrets: list[str]) -> bool:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        text = f"{current!s} {current!r} {getattr(current, '__notes__', '')}"
        if any(value in text for value in secrets):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        clean = message
        for pattern, replacement in _PATTERNS:
            clean = pattern.sub(replacement, clean)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_FILTER = _Redact("mapfold-redact")


def protect_logs() -> None:
    """Redact credentials from the AWS clients' debug logs (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
