"""Record shapes for by-key operations: what a shuffle needs, and the fix.

Import rule: runs in workers; imports only ``core``.

Every by-key operation (``reduce_by_key``, ``group_by_key``, joins,
``cogroup``, ``partition_by``...) reads records as ``(key, value)`` pairs
with hashable keys. Checking every record would cost the shuffle's hot loop
a Python call per record, so the checks are placed where they are free:

* the **first record of every map task** is checked (:func:`checked_pairs`):
  records of one Dataset almost always share one shape, so a Dataset of
  dicts, strings or 3-tuples fails at its first record, with the fix. This
  also catches what would fail *silently*: a dict of two fields unpacks as
  its two key names;
* a later record of another shape fails in the loop itself; the error gets
  a note saying what the operation needs (:func:`add_pairs_note`);
* a join or cogroup tags each record with its side anyway (one Python call
  per record): that call checks the shape (:func:`pair_error`).

The runners add the stage and partition (``core.errors.attach_context``).
"""
from __future__ import annotations

from itertools import chain
from typing import Any, Iterator

from ..core.errors import RecordShapeError

__all__ = ["pair_error", "checked_pairs", "add_pairs_note", "raised_by_shuffle"]

_SHUFFLE_FILES = ("combine.py", "writer.py", "hashing.py", "partitioner.py", "engine_tasks.py", "records.py")


def _shown(record: Any) -> str:
    text = repr(record)
    return text if len(text) <= 60 else text[:57] + "..."


def _a(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _fix(record: Any) -> str:
    """How to make ``(key, value)`` pairs out of records like ``record``."""
    if isinstance(record, dict) and record:
        field = next(iter(record))
        return f".key_by(lambda r: r[{field!r}]) or .map(lambda r: (r[{field!r}], r))"
    if isinstance(record, (tuple, list)) and len(record) > 2:
        return ".map(lambda r: (r[0], r[1:])) or .key_by(lambda r: r[0])"
    return ".key_by(func) (gives (func(r), r)) or .map(lambda r: (r, 1))"


def pair_error(record: Any, operation: str, where: str = "") -> RecordShapeError | None:
    """The error for a record that is not a ``(key, value)`` pair with a
    hashable key, or ``None`` when it is one.

    >>> print(pair_error({"city": "Oslo", "n": 3}, "join"))
    join needs (key, value) records (2-tuples), but found a dict: {'city': 'Oslo', 'n': 3}; make pairs first: .key_by(lambda r: r['city']) or .map(lambda r: (r['city'], r))
    >>> pair_error(("Oslo", 3), "join") is None
    True
    """
    where = f" {where}" if where else ""
    if type(record) is not tuple and not (isinstance(record, (tuple, list)) and len(record) == 2):
        kind = type(record).__name__
        if isinstance(record, (tuple, list)):
            kind = f"{kind} of {len(record)}"
        return RecordShapeError(f"{operation} needs (key, value) records (2-tuples){where}, but found "
                                f"{_a(kind)} {kind}: {_shown(record)}; make pairs first: {_fix(record)}")
    if len(record) != 2:
        return RecordShapeError(f"{operation} needs (key, value) records (2-tuples){where}, but found a tuple of "
                                f"{len(record)}: {_shown(record)}; make pairs first: {_fix(record)}")
    try:
        hash(record[0])
    except TypeError:
        key = record[0]
        suggestion = "tuple(key)" if isinstance(key, list) else "a str, int or tuple key"
        kind = type(key).__name__
        return RecordShapeError(f"{operation} needs hashable keys{where}, but found {_a(kind)} {kind} key "
                                f"in {_shown(record)}; use {suggestion}")
    return None


def checked_pairs(iterator: Iterator, operation: str) -> Iterator:
    """``iterator`` unchanged, its first record's shape checked when it is read.

    Lazy: nothing is read until the first ``next()``, so a pipeline is built
    without running any of it (a by-key step upstream then runs inside its
    consumer, under the consumer's paused garbage collection, not before it).
    After the first record the records come straight from ``iterator``
    (``itertools.chain``: no Python frame per record).

    >>> list(checked_pairs(iter([("a", 1)]), "reduce_by_key"))
    [('a', 1)]
    >>> records = checked_pairs(iter(["a b"]), "reduce_by_key")  # nothing read yet
    >>> next(records)
    Traceback (most recent call last):
    mapfold.core.errors.RecordShapeError: reduce_by_key needs (key, value) records (2-tuples), but found a str: 'a b'; make pairs first: .key_by(func) (gives (func(r), r)) or .map(lambda r: (r, 1))
    """
    iterator = iter(iterator)
    return chain(_checked_first(iterator, operation), iterator)


def _checked_first(iterator: Iterator, operation: str) -> Iterator:
    for first in iterator:
        error = pair_error(first, operation)
        if error is not None:
            raise error
        yield first
        return


def raised_by_shuffle(exc: BaseException) -> bool:
    """Did the error come from the shuffle's own loops (unpacking a record,
    hashing a key) rather than from a user function further up?"""
    if isinstance(exc, RecordShapeError):
        return False  # says it all already
    text = str(exc)
    if not any(sign in text for sign in ("unpack", "unhashable", "not subscriptable")):
        return False  # e.g. int("a") in a C function of the pipeline also ends in our frame
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    return tb.tb_frame.f_code.co_filename.endswith(_SHUFFLE_FILES)


def add_pairs_note(exc: BaseException, operation: str) -> None:
    """Note on an unpacking or hashing error of the shuffle's loops what the
    operation needs and how to get it."""
    if raised_by_shuffle(exc) and hasattr(exc, "add_note"):
        exc.add_note(f"mapfold: {operation} needs (key, value) records (2-tuples) with hashable keys; some record "
                     "is not one: make pairs with .key_by(func) or .map(lambda r: (key, value))")
