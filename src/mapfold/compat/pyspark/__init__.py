"""PySpark's ``SparkContext`` and ``RDD`` names over mapfold Datasets.

RDD code runs unchanged, without a JVM, on any mapfold runner::

    from mapfold.compat.pyspark import SparkContext
    sc = SparkContext("local[2]", "wordcount")        # -> the processes runner
    counts = sc.textFile("logs/").flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(add)

One module per PySpark module: ``context`` (``SparkContext``), ``rdd``
(``RDD``). ``docs/pyspark.md`` lists the supported surface.
"""
from __future__ import annotations

from .context import SparkContext
from .rdd import RDD

__all__ = ["SparkContext", "RDD"]
