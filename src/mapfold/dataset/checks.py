"""Argument checks run when a transformation is *built*, not when it runs.

A Dataset is lazy: a wrong argument that is only stored would surface
later, inside a worker, as a raw error far from the line that made it
(``group_by("city")`` used to end in ``'str' object is not callable`` at
the next action). These checks raise at the call instead, with Python's own
exception types (``TypeError`` for a wrong type, ``ValueError`` for a wrong
value, as the built-ins do), naming the method, the argument and what was
given.
"""
from __future__ import annotations

import numbers
from typing import Any

__all__ = ["check_callable", "check_bool", "check_count", "check_fraction", "check_datasets"]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_callable(value: Any, name: str, method: str, optional: bool = False) -> None:
    """``TypeError`` unless ``value`` is callable (or ``None`` when ``optional``).

    A string or an int is most likely a field name or index meant as a key:
    the message shows the function that does that.

    >>> check_callable("city", "key_func", "group_by")
    Traceback (most recent call last):
    TypeError: group_by(): key_func must be callable, not str 'city'; to use a field of dict records, pass a function: group_by(lambda r: r['city']) or operator.itemgetter('city')
    """
    if callable(value) or (optional and value is None):
        return
    hint = ""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        what = "a field of dict records" if isinstance(value, str) else "an item of tuple records"
        hint = (f"; to use {what}, pass a function: {method}(lambda r: r[{value!r}]) "
                f"or operator.itemgetter({value!r})")
    raise TypeError(f"{method}(): {name} must be callable, not {type(value).__name__} {_shown(value)}{hint}")


def check_bool(value: Any, name: str, method: str) -> None:
    """``TypeError`` unless ``value`` is ``True`` or ``False`` (a string
    such as ``"desc"`` would otherwise count as true).

    >>> check_bool("desc", "ascending", "sort_by")
    Traceback (most recent call last):
    TypeError: sort_by(): ascending must be True or False, not str 'desc'
    """
    if not isinstance(value, bool):
        raise TypeError(f"{method}(): {name} must be True or False, not {type(value).__name__} {_shown(value)}")


def check_count(value: Any, name: str, method: str, minimum: int | None = 1, optional: bool = False) -> None:
    """``TypeError`` unless ``value`` is an int (not a bool; ``None`` when
    ``optional``), ``ValueError`` when it is below ``minimum`` (``None``: any int).

    >>> check_count(0, "partitions", "repartition")
    Traceback (most recent call last):
    ValueError: repartition(): partitions must be a positive int, not 0
    >>> check_count(2.0, "n", "take", minimum=0)
    Traceback (most recent call last):
    TypeError: take(): n must be an int, not float 2.0
    """
    if optional and value is None:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{method}(): {name} must be an int, not {type(value).__name__} {_shown(value)}")
    if minimum is not None and value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{method}(): {name} must be {kind}, not {value!r}")


def check_fraction(value: Any, name: str, method: str, upper: float | None = 1.0, hint: str = "") -> None:
    """``TypeError`` unless ``value`` is a real number, ``ValueError``
    outside ``[0, upper]`` (``upper=None``: no upper bound).

    >>> check_fraction(1.5, "fraction", "sample")
    Traceback (most recent call last):
    ValueError: sample(): fraction must be in [0, 1], not 1.5
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{method}(): {name} must be a number, not {type(value).__name__} {_shown(value)}")
    if value < 0 or (upper is not None and value > upper):
        bounds = f"be in [0, {upper:g}]" if upper is not None else "not be negative"
        raise ValueError(f"{method}(): {name} must {bounds}, not {value!r}{hint}")


def check_datasets(others: tuple, method: str, name: str = "other") -> None:
    """``TypeError`` unless every item of ``others`` is a Dataset.

    >>> check_datasets(([("k", 1)],), "join")
    Traceback (most recent call last):
    TypeError: join(): other must be a Dataset, not list [('k', 1)]; make one with mf.from_sequence(...)
    """
    from .dataset import Dataset

    for other in others:
        if not isinstance(other, Dataset):
            raise TypeError(f"{method}(): {name} must be a Dataset, not {type(other).__name__} {_shown(other)}; "
                            "make one with mf.from_sequence(...)")
