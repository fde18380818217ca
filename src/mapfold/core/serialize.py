"""Shipping code and data to workers.

Code (lambdas, closures, bound methods) goes through cloudpickle, once per
stage or call; data uses the standard pickle at the highest protocol. When
something cannot be pickled we say *which* object, found by walking the
function's closure, globals and attributes.
"""
from __future__ import annotations

import io
import pickle
from typing import Any

import cloudpickle

from .errors import SerializationError

__all__ = ["dumps_code", "loads_code", "loads_code_cached", "dumps_data", "loads_data", "dumps_records"]


def dumps_data(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def dumps_records(obj: Any) -> bytes:
    """Pickle a batch of records without pickle's memo (same bytes format).

    The memo remembers every object written so that shared objects are
    written once; for batches of small records (str keys, int values) that
    bookkeeping is most of the cost: a list of 361,000 ``(str, int)`` pairs
    pickles 4x faster without it, and a dict 5x (benchmarks/reduce_by_key.py).
    The price is that an object referenced twice is written twice, so callers
    size their batches by *deep* size, which counts shared objects once per
    use (``shuffle/memory.py``): the output is then bounded by that size.
    Cycles need the memo: they are detected and pickled the usual way.

    >>> import pickle
    >>> pickle.loads(dumps_records([("a", 1), ("b", 2)]))
    [('a', 1), ('b', 2)]
    >>> loop = []; loop.append(loop)
    >>> pickle.loads(dumps_records(loop))
    [[...]]
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo
    try:
        pickler.dump(obj)
    except (ValueError, RecursionError):  # "can't pickle cyclic objects" in fast mode
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


loads_data = pickle.loads
loads_code = pickle.loads

_CODE_CACHE: dict[str, Any] = {}
_CODE_CACHE_SIZE = 64


def loads_code_cached(token: str, payload: bytes) -> Any:
    """Unpickle code once per worker process: later tasks of the same call or
    stage (same ``token``) reuse it."""
    code = _CODE_CACHE.get(token)
    if code is None:
        if len(_CODE_CACHE) >= _CODE_CACHE_SIZE:
            _CODE_CACHE.clear()
        code = _CODE_CACHE[token] = loads_code(payload)
    return code


def dumps_code(obj: Any, what: str = "function") -> bytes:
    """Pickle code with cloudpickle, naming the culprit on failure."""
    try:
        return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # cloudpickle raises TypeError, PicklingError, ...
        culprit = _find_unpicklable(obj)
        raise SerializationError(
            f"cannot ship the {what} to the workers: {culprit} cannot be pickled ({exc}). "
            "Create such objects inside the function, or use the serial runner."
        ) from exc




def _picklable(value: Any) -> bool:
    try:
        cloudpickle.dumps(value)
        return True
    except Exception:
        return False


def _find_unpicklable(obj: Any, path: str = "", depth: int = 0, seen: set | None = None) -> str:
    """Walk into an object to name the innermost part that cannot be pickled."""
    seen = set() if seen is None else seen
    label = path or _label(obj)
    if depth > 6 or id(obj) in seen:
        return label
    seen.add(id(obj))
    for name, child in _children(obj):
        if not _picklable(child):
            return _find_unpicklable(child, f"{label}{name}", depth + 1, seen)
    return f"{label} ({type(obj).__name__})" if not path else f"{path} ({type(obj).__name__})"


def _label(obj: Any) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__name__


def _children(obj: Any):
    import types

    if isinstance(obj, types.MethodType):
        yield ".__self__", obj.__self__
        yield ".__func__", obj.__func__
        return
    if isinstance(obj, types.FunctionType):
        code = obj.__code__
        for name, cell in zip(code.co_freevars, obj.__closure__ or ()):
            try:
                yield f" -> closure variable {name!r}", cell.cell_contents
            except ValueError:
                continue
        for name in code.co_names:
            if name in obj.__globals__:
                yield f" -> global {name!r}", obj.__globals__[name]
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        for i, item in enumerate(obj):
            yield f"[{i}]", item
        return
    if isinstance(obj, dict):
        for key, item in obj.items():
            yield f"[{key!r}]", item
        return
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict):
        for key, item in state.items():
            yield f".{key}", item
    for slot in getattr(type(obj), "__slots__", ()) or ():
        if hasattr(obj, slot):
            yield f".{slot}", getattr(obj, slot)
