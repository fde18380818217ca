"""PySpark's ``SparkContext`` and ``RDD`` names over mapfold Datasets.

RDD code runs unchanged, without a JVM, on any mapfold runner::

    from mapfold.compat.pyspark import SparkConf, SparkContext
    sc = SparkContext(conf=SparkConf().setMaster("local[2]").setAppName("wc"))   # -> the processes runner
    counts = sc.textFile("logs/").flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(add)

One module per PySpark module: ``context`` (``SparkContext``), ``conf``,
``rdd``, ``broadcast``, ``accumulators``, ``statcounter``, ``storagelevel``,
``taskcontext``, ``files`` (``SparkFiles``); ``unsupported`` declares the
refused names. ``docs/pyspark.md`` lists the supported surface.
"""
from __future__ import annotations

from .accumulators import Accumulator, AccumulatorParam
from .broadcast import Broadcast
from .conf import SparkConf
from .context import SparkContext
from .files import SparkFiles
from .rdd import RDD, portable_hash
from .statcounter import StatCounter
from .storagelevel import StorageLevel
from .taskcontext import TaskContext
from .unsupported import UnsupportedError

__all__ = ["SparkContext", "SparkConf", "RDD", "Broadcast", "Accumulator", "AccumulatorParam", "StatCounter",
           "StorageLevel", "TaskContext", "SparkFiles", "UnsupportedError", "portable_hash"]
