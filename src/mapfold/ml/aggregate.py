"""The one way ``mapfold.ml`` computes over data: one value per partition,
combined on the driver in partition order.

``partition_values(ds, summarize, runner)`` runs ``summarize(iterator)`` on
every partition as a task of the runner and returns the per-partition
values in partition order; callers add them up themselves. Combining in
partition order (rather than in the order tasks finish) is what makes a
sum of floats, and so a fitted model or a metric, bit-for-bit the same on
every runner for the same partitioning. The values are small (counts,
sums, a gradient), never records: nothing is collected to "aggregate" it.

``feature_blocks`` turns each partition's records into one ``(X, y)`` pair
of numpy arrays, persisted by the runner so that an iterative fit converts
the records once, not once per iteration.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..core.errors import MapfoldError

__all__ = ["LabelTypeError", "as_label", "stack_vectors", "stack_labels", "partition_values", "merge_in_order", "merge_moments", "feature_blocks", "as_vector", "batch_transform",
           "BATCH_SIZE"]

# Records per batch of a model's transform: big enough that numpy's per-call cost is
# spread thin (~1 us a row instead of ~10 us for one row at a time), small enough to
# stay a few MB of features.
BATCH_SIZE = 1024


class LabelTypeError(MapfoldError, ValueError):
    """A label that is not a number (PySpark: "Column label must be of type numeric")."""


def as_label(value, field: str) -> float:
    """A record's label as a float; a boolean (or a string) is refused, as PySpark refuses a
    boolean label column ("must be of type numeric but was actually of type boolean").

    >>> as_label(1, "label")
    1.0
    >>> as_label(True, "label")
    Traceback (most recent call last):
    ...
    mapfold.ml.aggregate.LabelTypeError: field 'label' must hold numbers, as PySpark's numeric label column; it holds a bool (True): ...
    """
    if isinstance(value, (bool, str, bytes)) or type(value).__name__ == "bool_":
        raise LabelTypeError(f"field {field!r} must hold numbers, as PySpark's numeric label column; it holds a "
                             f"{type(value).__name__} ({value!r}): map it to 1.0/0.0 (or index it with "
                             "StringIndexer) first")
    return float(value)


def _single(summarize: Callable[[Iterable], Any]) -> Callable[[Iterable], list]:
    def one_value(iterator: Iterable) -> list:
        return [summarize(iterator)]

    return one_value


def partition_values(ds, summarize: Callable[[Iterable], Any], runner=None) -> list:
    """``summarize(records)`` of each partition, in partition order.

    >>> import mapfold as mf
    >>> partition_values(mf.from_sequence(range(6), partitions=3), sum, runner="serial")
    [1, 5, 9]
    """
    return ds.map_partitions(_single(summarize)).collect(runner=runner)


def merge_in_order(parts: Iterable, merge_two: Callable[[Any, Any], Any], empty: str):
    """Merge the non-None per-partition ``parts`` left to right with ``merge_two``
    (partition order: the same floats on every runner); ``ValueError(empty)`` when
    every part is None.

    >>> merge_in_order([None, 2, None, 3], lambda a, b: a * 10 + b, "nothing")
    23
    """
    total = None
    for part in parts:
        if part is None:
            continue
        total = part if total is None else merge_two(total, part)
    if total is None:
        raise ValueError(empty)
    return total


def _merge_two_moments(total, part):
    n1, mean1, m1 = total
    n2, mean2, m2 = part
    n = n1 + n2
    delta = mean2 - mean1
    return n, mean1 + delta * (n2 / n), m1 + m2 + delta ** 2 * (n1 * n2 / n)


def merge_moments(parts: Iterable):
    """``(n, mean, sum of squared deviations)`` of the union of parts (Chan et al.), in order.

    >>> merge_moments([(2, 1.0, 2.0), None, (2, 3.0, 2.0)])  # [0, 2] and [2, 4]
    (4, 2.0, 8.0)
    """
    return merge_in_order(parts, _merge_two_moments, "cannot fit on an empty Dataset")


def as_vector(value, field: str):
    """A record's feature value as a 1-d float64 numpy array."""
    import numpy as np

    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"field {field!r} holds {type(value).__name__} of shape {array.shape}; "
                         "mapfold.ml wants a 1-d vector (VectorAssembler builds one)")
    return array


def stack_vectors(values: list):
    """The 2-d float64 block of ``values`` (vectors of one length: lists, tuples or 1-d arrays) in one
    numpy call, or None when they are not that (the caller then converts them one by one with
    :func:`as_vector`, for its error); equal to ``np.vstack`` of their ``as_vector``.

    >>> stack_vectors([[1, 2], (3.0, 4.0)]).tolist(), stack_vectors([1.0, 2.0])
    ([[1.0, 2.0], [3.0, 4.0]], None)
    """
    import numpy as np

    block = np.array(values, dtype=np.float64)
    return block if block.ndim == 2 and block.shape[0] == len(values) else None


def stack_labels(values: list):
    """The float64 array of ``values`` when they are all plain ints and floats (what :func:`as_label`
    accepts without a word), else None.

    >>> stack_labels([1, 0.0]).tolist(), stack_labels([True, 1.0])
    ([1.0, 0.0], None)
    """
    import numpy as np

    if all(type(v) is float or type(v) is int for v in values):
        return np.array(values, dtype=np.float64)
    return None


def _column_block(records, features_col: str, label_col: str | None):
    """``(X, y)`` straight from the columns of a persisted partition (``core.partition_files``), or None
    when its records are not kept in columns (or not as vectors and numbers): the rows of a stacked
    block are the records' vectors, so the block equals ``np.vstack`` of them."""
    import numpy as np

    column = getattr(records, "column", None)
    if column is None:
        return None
    x = column(features_col)
    y = column(label_col) if label_col is not None else None
    if x is None or x.ndim != 2 or (label_col is not None and (y is None or y.ndim != 1)):
        return None
    if x.dtype.kind not in "fiu" or (y is not None and y.dtype.kind not in "fi"):
        return None
    return (np.asarray(x, dtype=np.float64), None if y is None else np.asarray(y, dtype=np.float64))


def _blocks(features_col: str, label_col: str | None):
    def to_block(records: Iterable) -> list:
        import numpy as np

        block = _column_block(records, features_col, label_col)
        if block is not None:
            return [block]
        records = list(records)
        if not records:
            return []
        try:  # the common case in two numpy calls; anything unusual takes the loop below, and its errors
            x = stack_vectors([record[features_col] for record in records])
            y = None if label_col is None else stack_labels([record[label_col] for record in records])
            if x is not None and (label_col is None or y is not None):
                return [(x, y)]
        except (ValueError, TypeError, KeyError):
            pass
        rows, labels = [], []
        for record in records:
            rows.append(as_vector(record[features_col], features_col))
            if label_col is not None:
                labels.append(as_label(record[label_col], label_col))
        if not rows:
            return []
        return [(np.vstack(rows), np.asarray(labels, dtype=np.float64) if label_col is not None else None)]

    return to_block


def feature_blocks(ds, features_col: str, label_col: str | None = None):
    """A persisted Dataset of one ``(X, y)`` block per non-empty partition; ``unpersist()`` it after use.

    >>> import mapfold as mf
    >>> ds = mf.from_sequence([{"f": [1.0, 2.0], "y": 1}, {"f": [3.0, 4.0], "y": 0}], partitions=1)
    >>> blocks = feature_blocks(ds, "f", "y")
    >>> [(x.shape, y.tolist()) for x, y in blocks.collect(runner="serial")]
    [((2, 2), [1.0, 0.0])]
    >>> _ = blocks.unpersist()
    """
    return ds.map_partitions(_blocks(features_col, label_col)).persist()


def batch_transform(features_col: str, compute: Callable, batch_size: int = BATCH_SIZE):
    """A ``map_partitions`` function: ``compute(X)`` on stacked batches of the records' features.

    ``compute`` returns ``{field: values}``, one value per row; each record
    comes out with those fields added, in order.

    >>> import mapfold as mf
    >>> double = batch_transform("f", lambda x: {"g": (2 * x).tolist()})
    >>> mf.from_sequence([{"f": [1.0]}, {"f": [2.0]}]).map_partitions(double).collect(runner="serial")
    [{'f': [1.0], 'g': [2.0]}, {'f': [2.0], 'g': [4.0]}]
    """

    def transform(records: Iterable):
        import itertools

        import numpy as np

        iterator = iter(records)
        while True:
            batch = list(itertools.islice(iterator, batch_size))
            if not batch:
                return
            values = [record[features_col] for record in batch]
            try:
                x = stack_vectors(values)
            except (ValueError, TypeError):
                x = None
            if x is None:  # one by one, for as_vector's error
                x = np.vstack([as_vector(value, features_col) for value in values])
            outputs = compute(x)
            fields = tuple(outputs)
            if not fields:
                yield from ({**record} for record in batch)
                continue
            for record, added in zip(batch, zip(*outputs.values())):
                yield {**record, **dict(zip(fields, added))}

    return transform
