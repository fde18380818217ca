"""Feature transformers: ``StringIndexer``, ``VectorAssembler``, ``StandardScaler``.

``StringIndexer`` orders labels as PySpark 3+ does: values are cast to
``str`` (PySpark casts a numeric column to string; a boolean one it
refuses, and so does this), nulls are not labels;
``frequencyDesc`` (the default) sorts by count, most frequent first, and
``frequencyAsc`` least frequent first, both breaking ties by the label in
ascending alphabetical order (PySpark 3.0 made ties deterministic this
way); ``alphabetDesc``/``alphabetAsc`` sort the labels alone. Python
compares strings by code point and Java by UTF-16 unit: the same order
except between characters outside the Basic Multilingual Plane and
U+E000..U+FFFF. Indices are floats, as PySpark's. ``handle_invalid``:
``error`` (the default) raises on an unseen label or a null, ``skip`` drops
the record, ``keep`` gives both the index ``len(labels)``.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable

from ..core.errors import MapfoldError
from .aggregate import as_vector, merge_moments, partition_values
from .base import Estimator, Model, Transformer, check_choice

__all__ = ["InvalidValueError", "InvalidParamsError", "StringIndexer", "StringIndexerModel", "IndexToString", "OneHotEncoder",
           "OneHotEncoderModel", "VectorAssembler",
           "StandardScaler", "StandardScalerModel"]

ORDERS = ("frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc")
HANDLE_INVALID = ("error", "skip", "keep")


class InvalidValueError(MapfoldError, ValueError):
    """A record holds a value a transformer cannot handle (``handle_invalid="error"``)."""


class InvalidParamsError(MapfoldError, ValueError):
    """Parameters that contradict each other (``input_col`` and ``input_cols`` both set)."""


def _label(value: Any, column: str = "") -> str:
    """A value as the string Spark casts it to; a boolean is refused, as PySpark refuses a
    boolean column ("must be either string type or numeric type, but got BooleanType").

    >>> _label(1.5), _label("x")
    ('1.5', 'x')
    >>> _label(True, "b")
    Traceback (most recent call last):
    ...
    mapfold.ml.feature.InvalidValueError: StringIndexer: field 'b' holds a boolean (True); ...
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # Python's or numpy's
        raise InvalidValueError(f"StringIndexer: field {column!r} holds a boolean ({value!r}); as PySpark's, it "
                                "indexes strings and numbers only: map the field to a string (or to 0.0/1.0 "
                                "for a label) first")
    return str(value)


def _counter(columns: list[str]):
    def count(records: Iterable) -> list[Counter]:
        counts: list[Counter] = [Counter() for _ in columns]
        for record in records:
            for column, counter in zip(columns, counts):
                value = record.get(column)
                if value is not None:
                    counter[_label(value, column)] += 1
        return counts

    return count


def _indexer_columns(owner) -> list[tuple[str, str]]:
    """``(input, output)`` fields of a ``StringIndexer``: ``input_col`` or ``input_cols``, as PySpark's."""
    name = type(owner).__name__
    single, many = owner.input_col, owner.input_cols
    if (single is None) == (many is None):
        raise InvalidParamsError(f"{name} needs either input_col (a field name) or input_cols (a list of them), "
                                 f"not {'both' if single is not None else 'neither'}")
    if single is not None:
        if not isinstance(single, str):
            raise TypeError(f"{name} needs input_col, a field name; got {single!r}")
        return [(single, owner.output_col or f"{single}_index")]
    if isinstance(many, str) or not many or not all(isinstance(c, str) for c in many):
        raise TypeError(f"{name} needs input_cols, a list of field names; got {many!r}")
    outputs = owner.output_cols
    if outputs is None or isinstance(outputs, str) or len(outputs) != len(many):
        raise InvalidParamsError(f"{name}: output_cols must name one field per input column "
                                 f"({len(many)}); got {outputs!r}")
    return list(zip(many, outputs))


def order_labels(counts: dict[str, int], order: str) -> list[str]:
    """Labels in ``order`` (one of ``ORDERS``), ties by ascending label.

    >>> order_labels({"b": 2, "a": 2, "c": 3}, "frequencyDesc")
    ['c', 'a', 'b']
    >>> order_labels({"b": 2, "a": 2, "c": 3}, "frequencyAsc")
    ['a', 'b', 'c']
    """
    if order == "frequencyDesc":
        return sorted(counts, key=lambda label: (-counts[label], label))
    if order == "frequencyAsc":
        return sorted(counts, key=lambda label: (counts[label], label))
    return sorted(counts, reverse=order == "alphabetDesc")


class StringIndexer(Estimator):
    """Index a field's values by frequency (or alphabet), as PySpark's ``StringIndexer``.

    ``input_col``/``output_col`` index one field; ``input_cols``/``output_cols``
    several, each with labels of its own (``labels_array``), in one pass.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"c": x, "d": float(x < "b")} for x in "bcab"])
    >>> model = StringIndexer(input_col="c", output_col="i").fit(ds, runner="serial")
    >>> model.labels
    ['b', 'a', 'c']
    >>> [r["i"] for r in model.transform(ds).collect(runner="serial")]
    [0.0, 2.0, 1.0, 0.0]
    >>> both = StringIndexer(input_cols=["c", "d"], output_cols=["ci", "di"]).fit(ds, runner="serial")
    >>> both.labels_array
    [['b', 'a', 'c'], ['0.0', '1.0']]
    """

    _defaults = {"input_col": None, "output_col": None, "input_cols": None, "output_cols": None,
                 "string_order_type": "frequencyDesc", "handle_invalid": "error"}

    def fit(self, ds, runner=None) -> "StringIndexerModel":
        order = check_choice(self, "string_order_type", ORDERS)
        check_choice(self, "handle_invalid", HANDLE_INVALID)
        columns = _indexer_columns(self)
        counts: list[Counter] = [Counter() for _ in columns]
        for part in partition_values(ds, _counter([c for c, _ in columns]), runner):
            for total, counter in zip(counts, part):
                total.update(counter)
        labels_array = [order_labels(c, order) for c in counts]
        if self.input_col is not None:
            return StringIndexerModel(labels=labels_array[0], labels_array=labels_array, input_col=self.input_col,
                                      output_col=columns[0][1], handle_invalid=self.handle_invalid)
        return StringIndexerModel(labels_array=labels_array, input_cols=list(self.input_cols),
                                  output_cols=list(self.output_cols), handle_invalid=self.handle_invalid)


def _indexer(columns: list[tuple[str, str, dict[str, int]]], handle: str):
    def transform(records: Iterable):
        for record in records:
            added = {}
            for column, output, index in columns:
                value = record.get(column)
                position = None if value is None else index.get(_label(value, column))
                if position is None:
                    if handle == "skip":
                        break
                    if handle == "error":
                        what = "a null" if value is None else f"the unseen label {_label(value, column)!r}"
                        raise InvalidValueError(f"StringIndexer: field {column!r} holds {what}; "
                                                "handle_invalid='skip' drops such records, 'keep' indexes them "
                                                f"as {len(index)}")
                    position = len(index)
                added[output] = float(position)
            else:
                yield {**record, **added}

    return transform


class StringIndexerModel(Model):
    """A fitted ``StringIndexer``: ``labels`` in index order (one field), ``labels_array``
    (a list of labels per field, PySpark's ``labelsArray``).

    >>> import mapfold as mf
    >>> model = StringIndexerModel(labels=["x", "y"], input_col="c", output_col="i", handle_invalid="keep")
    >>> [r["i"] for r in model.transform(mf.from_sequence([{"c": "y"}, {"c": "z"}])).collect(runner="serial")]
    [1.0, 2.0]
    """

    _defaults = {"labels": [], "labels_array": [], "input_col": None, "output_col": None, "input_cols": None,
                 "output_cols": None, "handle_invalid": "error"}

    def transform(self, ds):
        handle = check_choice(self, "handle_invalid", HANDLE_INVALID)
        if self.input_cols is not None:
            fields = list(zip(self.input_cols, self.output_cols, self.labels_array))
        else:
            fields = [(self.input_col, self.output_col, self.labels)]
        columns = [(c, out, {label: i for i, label in enumerate(labels)}) for c, out, labels in fields]
        return ds.map_partitions(_indexer(columns, handle))


def _invalid(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import numpy as np

        return bool(np.isnan(np.asarray(value, dtype=np.float64)).any())
    except (TypeError, ValueError):
        return False


_PLAIN_NUMBERS = frozenset((float, int))


def _assembler(columns: list[str], output: str, handle: str):
    def transform(records: Iterable):
        import numpy as np

        for record in records:
            values = list(map(record.get, columns))
            # the common case in one numpy call: plain numbers, none of them NaN (a NaN anywhere makes the
            # sum unequal to itself; so may inf - inf, which then takes the full check below)
            if _PLAIN_NUMBERS.issuperset(map(type, values)):
                total = sum(values)
                if total == total:
                    yield {**record, output: np.array(values, dtype=np.float64)}
                    continue
            parts = []
            bad = None
            for column in columns:
                value = record.get(column)
                if _invalid(value):
                    bad = column
                    if value is None:
                        if handle == "keep":
                            value = math.nan  # a scalar field: PySpark keeps it as NaN
                        else:
                            parts.append(None)
                            continue
                parts.append(np.atleast_1d(np.asarray(value, dtype=np.float64)))
            if bad is not None:
                if handle == "skip":
                    continue
                if handle == "error":
                    raise InvalidValueError(f"VectorAssembler: field {bad!r} is null or NaN in a record; "
                                            "handle_invalid='skip' drops such records, 'keep' keeps NaN")
            yield {**record, output: np.concatenate(parts) if parts else np.zeros(0)}

    return transform


class VectorAssembler(Transformer):
    """Concatenate numeric fields (numbers or vectors) into one numpy vector.

    ``handle_invalid``: ``error`` (default) raises on None or NaN, ``skip``
    drops the record, ``keep`` keeps NaN (a None number becomes NaN).

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"a": 1, "b": [2.0, 3.0]}, {"a": None, "b": [4.0, 5.0]}])
    >>> va = VectorAssembler(input_cols=["a", "b"], output_col="f", handle_invalid="skip")
    >>> [r["f"].tolist() for r in va.transform(ds).collect(runner="serial")]
    [[1.0, 2.0, 3.0]]
    """

    _defaults = {"input_cols": [], "output_col": "features", "handle_invalid": "error"}

    def transform(self, ds):
        handle = check_choice(self, "handle_invalid", HANDLE_INVALID)
        if isinstance(self.input_cols, str) or not self.input_cols:
            raise TypeError(f"VectorAssembler needs input_cols, a list of field names; got {self.input_cols!r}")
        return ds.map_partitions(_assembler(list(self.input_cols), self.output_col, handle))


def _moments(column: str):
    def moments(records: Iterable):
        import numpy as np

        rows = [as_vector(record[column], column) for record in records]
        if not rows:
            return None
        block = np.vstack(rows)
        mean = block.mean(axis=0)
        return len(rows), mean, ((block - mean) ** 2).sum(axis=0)

    return moments


class StandardScaler(Estimator):
    """Scale vectors to unit sample standard deviation (and zero mean if ``with_mean``), as PySpark's.

    A feature with zero variance scales to 0.0. Defaults are PySpark's:
    ``with_std=True``, ``with_mean=False``.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"f": [1.0, 5.0]}, {"f": [3.0, 5.0]}])
    >>> model = StandardScaler(input_col="f", output_col="s", with_mean=True).fit(ds, runner="serial")
    >>> [r["s"].round(4).tolist() for r in model.transform(ds).collect(runner="serial")]
    [[-0.7071, 0.0], [0.7071, 0.0]]
    """

    _defaults = {"input_col": "features", "output_col": "scaled", "with_mean": False, "with_std": True}

    def fit(self, ds, runner=None) -> "StandardScalerModel":
        import numpy as np

        n, mean, m2 = merge_moments(partition_values(ds, _moments(self.input_col), runner))
        std = np.sqrt(m2 / (n - 1)) if n > 1 else np.zeros_like(mean)
        return StandardScalerModel(mean=mean.tolist(), std=std.tolist(), **self.get_params())


def _scaler(column: str, output: str, shift, scale):
    def transform(records: Iterable):
        for record in records:
            yield {**record, output: (as_vector(record[column], column) - shift) * scale}

    return transform


class StandardScalerModel(Model):
    """A fitted ``StandardScaler``: ``mean`` and ``std`` per feature (lists, so they save as JSON)."""

    _defaults = {**StandardScaler._defaults, "mean": [], "std": []}

    def transform(self, ds):
        import numpy as np

        mean, std = np.asarray(self.mean, dtype=np.float64), np.asarray(self.std, dtype=np.float64)
        shift = mean if self.with_mean else np.zeros_like(mean)
        if self.with_std:
            scale = np.divide(1.0, std, out=np.zeros_like(std), where=std > 0)
        else:
            scale = np.ones_like(std)
        return ds.map_partitions(_scaler(self.input_col, self.output_col, shift, scale))


def _to_strings(column: str, output: str, labels: list[str]):
    def transform(records: Iterable):
        for record in records:
            value = record.get(column)
            position = int(value) if value is not None and float(value).is_integer() else -1
            if not 0 <= position < len(labels):
                raise InvalidValueError(f"IndexToString: field {column!r} holds {value!r}, not an index of "
                                        f"the {len(labels)} labels")
            yield {**record, output: labels[position]}

    return transform


class IndexToString(Transformer):
    """Indices back to labels (``StringIndexerModel.labels``), as PySpark's ``IndexToString``.

    >>> import mapfold as mf
    >>> its = IndexToString(input_col="i", output_col="c", labels=["b", "a"])
    >>> [r["c"] for r in its.transform(mf.from_sequence([{"i": 1.0}, {"i": 0.0}])).collect(runner="serial")]
    ['a', 'b']
    """

    _defaults = {"input_col": None, "output_col": None, "labels": []}

    def transform(self, ds):
        if not isinstance(self.input_col, str) or not isinstance(self.output_col, str):
            raise TypeError(f"IndexToString needs input_col and output_col, field names; "
                            f"got {self.input_col!r} and {self.output_col!r}")
        return ds.map_partitions(_to_strings(self.input_col, self.output_col, list(self.labels)))


def _max_index(columns: list[str]):
    def highest(records: Iterable) -> list:
        top = [-1.0] * len(columns)
        for record in records:
            for i, column in enumerate(columns):
                value = record.get(column)
                if value is None or not float(value).is_integer() or value < 0:
                    raise InvalidValueError(f"OneHotEncoder: field {column!r} holds {value!r}, "
                                            "not a category index (0, 1, 2, ...)")
                top[i] = max(top[i], float(value))
        return top

    return highest


class OneHotEncoder(Estimator):
    """Category indices to one-hot vectors, as PySpark's ``OneHotEncoder``.

    ``fit`` learns each field's number of categories (its largest index plus
    one); ``drop_last=True`` (PySpark's default) drops the last category's
    slot, so that the vectors are not linearly dependent. ``handle_invalid``
    ``error`` (default) raises on an index past the categories seen;
    ``keep`` gives such indices one extra slot (the last, so with
    ``drop_last`` they become all zeros, as in PySpark). Vectors are dense
    numpy arrays, where PySpark's are sparse.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"i": 0.0}, {"i": 2.0}, {"i": 1.0}])
    >>> model = OneHotEncoder(input_cols=["i"], output_cols=["v"]).fit(ds, runner="serial")
    >>> [r["v"].tolist() for r in model.transform(ds).collect(runner="serial")]
    [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    """

    _defaults = {"input_cols": [], "output_cols": [], "drop_last": True, "handle_invalid": "error"}

    def fit(self, ds, runner=None) -> "OneHotEncoderModel":
        check_choice(self, "handle_invalid", ("error", "keep"))
        columns = list(self.input_cols)
        if isinstance(self.input_cols, str) or not columns or len(columns) != len(list(self.output_cols)):
            raise TypeError(f"OneHotEncoder needs input_cols and output_cols, lists of field names of one length; "
                            f"got {self.input_cols!r} and {self.output_cols!r}")
        top = [-1.0] * len(columns)
        for part in partition_values(ds, _max_index(columns), runner):
            top = [max(a, b) for a, b in zip(top, part)]
        return OneHotEncoderModel(category_sizes=[int(t) + 1 for t in top], **self.get_params())


def _one_hot(columns: list[str], outputs: list[str], sizes: list[int], drop_last: bool, keep: bool):
    def transform(records: Iterable):
        import numpy as np

        for record in records:
            out = dict(record)
            for column, output, size in zip(columns, outputs, sizes):
                value = record.get(column)
                slots = size + (1 if keep else 0)
                position = int(value) if value is not None and float(value).is_integer() else -1
                if not 0 <= position < size:
                    if not keep:
                        raise InvalidValueError(f"OneHotEncoder: field {column!r} holds {value!r}, not one of the "
                                                f"{size} categories seen; handle_invalid='keep' gives it a slot")
                    position = size
                vector = np.zeros(slots - 1 if drop_last else slots)
                if position < len(vector):
                    vector[position] = 1.0
                out[output] = vector
            yield out

    return transform


class OneHotEncoderModel(Model):
    """A fitted ``OneHotEncoder``: ``category_sizes`` per input field."""

    _defaults = {**OneHotEncoder._defaults, "category_sizes": []}

    def transform(self, ds):
        keep = check_choice(self, "handle_invalid", ("error", "keep")) == "keep"
        return ds.map_partitions(_one_hot(list(self.input_cols), list(self.output_cols), list(self.category_sizes),
                                          bool(self.drop_last), keep))
