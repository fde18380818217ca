"""Masking secrets in what the commands print: the value of a secret-named environment variable as ``${NAME}``."""
from __future__ import annotations

import re
from typing import Mapping

__all__ = ["redact", "SECRET_ENV"]

SECRET_ENV = re.compile(r"SECRET|TOKEN|PASSW|CREDENTIAL|PRIVATE|_KEY$|^KEY$|ACCESS_KEY", re.I)


def redact(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with the value of every secret-named environment variable replaced by ``${NAME}``.

    >>> redact("--conf k=abcd1234 --conf r=eu", {"AWS_SECRET_ACCESS_KEY": "abcd1234", "REGION": "eu"})
    '--conf k=${AWS_SECRET_ACCESS_KEY} --conf r=eu'
    """
    for name, value in sorted(environ.items(), key=lambda item: -len(item[1] or "")):
        if value and len(value) >= 4 and SECRET_ENV.search(name):
            text = text.replace(value, "${" + name + "}")
    return text
