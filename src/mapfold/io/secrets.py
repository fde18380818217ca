"""Keeping credentials out of messages and logs.

``storage_options`` (keys, secrets, tokens, endpoints) are handed to fsspec
and shipped to the workers inside pickled filesystems, but they must never
be *shown*: not in an error, not in ``explain()``, not in a log line.

* Which values are secret: those of options whose name says so (``key``,
  ``secret``, ``token``, ``password``, ``credential``... at any depth, e.g.
  ``client_kwargs.aws_secret_access_key``) and the user:password part of
  any URL. Endpoint URLs and region names are not secret and stay visible:
  they are what a user needs to debug a connection.
* :func:`scrub` replaces them by ``***`` in a text; :func:`scrubbed`
  re-raises an exception whose message (or chained cause) shows one as an
  exception of the same type with a scrubbed message and no chained cause
  (the cause would print the secret again).
* :func:`protect_logs` remembers the secret values and adds a filter to the
  loggers of the storage clients (botocore, aiobotocore, s3fs, fsspec,
  urllib3, aiohttp, gcsfs, adlfs). The filter rewrites a record's message
  and formatted traceback with the values replaced, and redacts the
  ``Credential=`` part of AWS ``Authorization`` headers and any security
  token, which ``botocore.endpoint`` logs at DEBUG level for every request.
  Logging is process-wide, so this is too: it is idempotent, and workers
  re-arm it when they unpickle a partition or an output.

fsspec filesystems do not print their options in ``repr`` (checked for
s3fs, memory and local: ``<s3fs.core.S3FileSystem object at 0x...>``), and
mapfold's sources describe themselves by paths only.
"""
from __future__ import annotations

import contextlib
import logging
import re
from typing import Iterator

__all__ = ["scrub", "scrubbed", "secret_values", "protect_logs", "protect_filesystem"]

_MIN_SECRET = 4  # shorter strings are not worth hiding and would mangle text
_SECRET_NAME = re.compile(r"key|secret|token|passw|credential|auth|signature|sas|private", re.IGNORECASE)
_LOGGER_PREFIXES = ("botocore", "aiobotocore", "boto3", "s3fs", "fsspec", "urllib3", "aiohttp", "gcsfs", "adlfs")
_PATTERNS = [
    (re.compile(r"(://)[^/@\s:'\"]+:[^/@\s'\"]+@"), r"\1***@"),
    (re.compile(r"(Credential=)[^/\s'\",]+"), r"\1<redacted>"),
    (re.compile(r"((?:X-Amz-Security-Token|x-amz-security-token)'?\"?\s*[:=]\s*b?['\"]?)[^'\"\s,}&]+"),
     r"\1<redacted>"),
    (re.compile(r"((?:X-Amz-Credential|X-Amz-Signature)=)[^&\s'\"]+"), r"\1<redacted>"),
]


def secret_values(storage_options: dict | None) -> list[str]:
    """The secret strings inside ``storage_options``, longest first.

    >>> secret_values({"key": "AKID1234", "client_kwargs": {"endpoint_url": "http://u:pw12@host", "region_name": "eu-1"}})
    ['AKID1234', 'pw12']
    """
    found: list[str] = []

    def walk(value, secret: bool) -> None:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "ignore")
        if isinstance(value, str):
            if secret and len(value) >= _MIN_SECRET:
                found.append(value)
            for match in re.finditer(r"://[^/@\s:]+:([^/@\s]+)@", value):  # user:password@ in a URL
                if len(match.group(1)) >= _MIN_SECRET:
                    found.append(match.group(1))
        elif isinstance(value, dict):
            for name, item in value.items():
                walk(item, secret or bool(_SECRET_NAME.search(str(name))))
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                walk(item, secret)

    walk(storage_options or {}, False)
    return sorted(set(found), key=len, reverse=True)


def scrub(text: str, storage_options: dict | None) -> str:
    """``text`` with the secrets of ``storage_options`` replaced by ``***``.

    >>> scrub("denied for key AKID1234 at http://host", {"key": "AKID1234", "endpoint_url": "http://host"})
    'denied for key *** at http://host'
    """
    return _scrub_values(text, secret_values(storage_options))


def _scrub_values(text: str, values) -> str:
    for value in values:
        if value in text:
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
    """Rewrites records of the storage clients' loggers with secrets replaced."""

    def __init__(self):
        super().__init__("mapfold-redact")
        self.values: list[str] = []  # longest first

    def remember(self, values: list[str]) -> None:
        new = set(values) - set(self.values)
        if new:
            self.values = sorted(set(self.values) | new, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        clean = _scrub_values(message, self.values)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _scrub_values(record.exc_text, self.values)
        if record.stack_info:
            record.stack_info = _scrub_values(record.stack_info, self.values)
        return True


_FILTER = _Redact()


def protect_logs(storage_options: dict | None = None) -> None:
    """Redact credentials from the storage clients' logs (idempotent).

    >>> protect_logs({"secret": "hunter2-secret"})
    >>> record = logging.LogRecord("botocore.endpoint", 10, "", 0, "using %s", ("hunter2-secret",), None)
    >>> _ = logging.getLogger("botocore.endpoint").filter(record); record.getMessage()
    'using ***'
    """
    _FILTER.remember(secret_values(storage_options))
    names = [name for name in list(logging.root.manager.loggerDict)
             if name.split(".", 1)[0] in _LOGGER_PREFIXES]
    for name in set(names) | set(_LOGGER_PREFIXES) | {"botocore.endpoint", "aiobotocore.endpoint"}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def protect_filesystem(fs) -> None:
    """In a worker: re-arm :func:`protect_logs` for an unpickled filesystem."""
    if fs is not None:
        protect_logs(getattr(fs, "storage_options", None))
