"""``SparkConf``: key-value settings, as PySpark's (without the JVM).

The keys a SparkContext reads are ``spark.master`` and ``spark.app.name``;
``docs/pyspark.md`` says which others it honours. Every setting is kept
and returned by ``get``/``getAll``/``toDebugString``.

>>> conf = SparkConf().setMaster("local[2]").setAppName("wc").set("spark.executor.memory", "1g")
>>> conf.get("spark.master"), conf.get("spark.missing", "default"), conf.contains("spark.app.name")
('local[2]', 'default', True)
>>> print(conf.toDebugString())
spark.master=local[2]
spark.app.name=wc
spark.executor.memory=1g
"""
from __future__ import annotations

from typing import Any

__all__ = ["SparkConf"]


class SparkConf:
    """Settings for a :class:`~mapfold.compat.pyspark.SparkContext`, by key.

    ``loadDefaults`` loads PySpark's ``spark.*`` Java system properties: without
    a JVM there are none, so either value starts empty.
    """

    def __init__(self, loadDefaults: bool = True, _jvm: Any = None, _jconf: Any = None):
        if _jvm is not None or _jconf is not None:
            from .unsupported import refuse_argument

            raise refuse_argument("SparkConf", "_jvm/_jconf", "there is no JVM behind mapfold's SparkConf")
        self._settings: dict[str, str] = {}

    def set(self, key: str, value: str) -> "SparkConf":
        self._settings[key] = str(value)
        return self

    def setIfMissing(self, key: str, value: str) -> "SparkConf":
        if key not in self._settings:
            self.set(key, value)
        return self

    def setMaster(self, value: str) -> "SparkConf":
        return self.set("spark.master", value)

    def setAppName(self, value: str) -> "SparkConf":
        return self.set("spark.app.name", value)

    def setSparkHome(self, value: str) -> "SparkConf":
        return self.set("spark.home", value)

    def setExecutorEnv(self, key: str | None = None, value: str | None = None,
                       pairs: list[tuple[str, str]] | None = None) -> "SparkConf":
        if (key is not None and pairs is not None) or (key is None and pairs is None):
            raise ValueError("SparkConf.setExecutorEnv(): give either key and value or pairs")
        for k, v in ([(key, value)] if key is not None else pairs):
            self.set("spark.executorEnv." + k, v)
        return self

    def setAll(self, pairs: list[tuple[str, str]]) -> "SparkConf":
        for key, value in pairs:
            self.set(key, value)
        return self

    def get(self, key: str, defaultValue: str | None = None) -> str | None:
        return self._settings.get(key, defaultValue)

    def getAll(self) -> list[tuple[str, str]]:
        return list(self._settings.items())

    def contains(self, key: str) -> bool:
        return key in self._settings

    def toDebugString(self) -> str:
        return "\n".join(f"{k}={v}" for k, v in self._settings.items())
