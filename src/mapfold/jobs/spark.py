"""Running a job's ``spark()`` steps on a mapfold runner.

mrjob's jobs import PySpark inside ``spark()`` (``from pyspark import
SparkContext``) and make their own context (``SparkContext(appName=...)``).
While mapfold runs such a step, the name ``pyspark`` is
:mod:`mapfold.compat.pyspark` (put in ``sys.modules`` for the step, the
module that was there put back after it), and the job's runner is the
active one (an ``mf.runner()`` block), which a ``SparkContext`` made
without a master runs on. So the step runs unchanged on every mapfold
runner, real PySpark installed or not. A job module that imports
``pyspark`` at its top keeps what it imported then.

Under ``spark-submit`` (``python job.py --spark``, mrjob's task mode) nothing
is swapped: the job's code gets the real PySpark.

>>> import sys
>>> with compat_pyspark():
...     from pyspark import SparkContext
>>> SparkContext.__module__
'mapfold.compat.pyspark.context'
>>> sys.modules.get("pyspark") is not compat
True
"""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from ..compat import pyspark as compat

__all__ = ["compat_pyspark"]

_ABSENT = object()


@contextlib.contextmanager
def compat_pyspark() -> Iterator[None]:
    """``import pyspark`` gives :mod:`mapfold.compat.pyspark` inside the block."""
    before = sys.modules.get("pyspark", _ABSENT)
    sys.modules["pyspark"] = compat
    try:
        yield
    finally:
        if before is _ABSENT:
            sys.modules.pop("pyspark", None)
        else:
            sys.modules["pyspark"] = before
