"""Shipping code and data to workers.

Code (lambdas, closures, bound methods) goes through cloudpickle, once per
stage or call; data uses the standard pickle at the highest protocol. When
something cannot be pickled we say *which* object, found by walking the
function's closure, globals and attributes.
"""
from __future__ import annotations

import functools
import io
import operator
import pickle
import sys
import types
from typing import Any

import cloudpickle

from .errors import SerializationError

__all__ = ["dumps_code", "loads_code", "loads_code_cached", "is_stateless", "dumps_data", "loads_data", "dumps_records"]


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

# Unpickled code, per worker process, by token. Only code that
# :func:`is_stateless` cleared is kept here, so nothing a task does to the
# objects it was given can reach a later task: this is a cache of immutable
# values, not a place where task state lives.
_CODE_CACHE: dict[str, Any] = {}
_CODE_CACHE_SIZE = 64


def loads_code_cached(token: str, payload: bytes) -> Any:
    """Unpickle code once per worker process: later tasks of the same call or
    stage (same ``token``) reuse it. Callers pass only stateless code (see
    :func:`is_stateless`); code with state is unpickled afresh with
    :func:`loads_code` for every chunk, as ``multiprocessing`` does."""
    code = _CODE_CACHE.get(token)
    if code is None:
        if len(_CODE_CACHE) >= _CODE_CACHE_SIZE:
            _CODE_CACHE.clear()
        code = _CODE_CACHE[token] = loads_code(payload)
    return code


_ATOMS = (type(None), bool, int, float, complex, str, bytes, range, slice, type(Ellipsis),
          type(NotImplemented), type, types.ModuleType, types.BuiltinFunctionType, types.CodeType,
          types.MethodDescriptorType, types.WrapperDescriptorType, types.MethodWrapperType,
          types.ClassMethodDescriptorType, types.GetSetDescriptorType, types.MemberDescriptorType,
          operator.itemgetter, operator.attrgetter, operator.methodcaller)


def is_stateless(obj: Any) -> bool:
    """True when no call of ``obj`` can change what a later call is given.

    ``multiprocessing`` pickles the function with every chunk, so a function
    that mutates what it holds (a closure over a list, a ``partial`` holding
    a dict, a callable object counting its calls) starts each chunk afresh.
    Unpickling once per worker is faster, and is only equivalent when the
    function holds nothing mutable: this walk says so, conservatively (an
    object it does not know is taken to have state). Functions pickled by
    reference (importable module-level functions) are stateless here: a
    fresh unpickle returns the very same object anyway.

    >>> import functools
    >>> is_stateless(len), is_stateless(lambda x: x + 1), is_stateless(functools.partial(pow, 2))
    (True, True, True)
    >>> seen = []
    >>> is_stateless(lambda x: seen.append(x)), is_stateless(functools.partial(dict.get, {}))
    (False, False)
    """
    return _stateless(obj, set(), 0)


def _stateless(obj: Any, seen: set, depth: int) -> bool:
    if isinstance(obj, _ATOMS) and not _bound_to_state(obj, seen, depth):
        return True
    if id(obj) in seen:
        return True  # already being checked further up (recursion, shared objects)
    if depth > 20:
        return False
    seen.add(id(obj))
    depth += 1
    if isinstance(obj, (tuple, frozenset)):
        return all(_stateless(item, seen, depth) for item in obj)
    if isinstance(obj, functools.partial):
        return (_stateless(obj.func, seen, depth) and _stateless(obj.args, seen, depth)
                and all(_stateless(v, seen, depth) for v in obj.keywords.values()))
    if isinstance(obj, types.MethodType):
        return _stateless(obj.__func__, seen, depth) and _stateless(obj.__self__, seen, depth)
    if isinstance(obj, (staticmethod, classmethod)):
        return _stateless(obj.__func__, seen, depth)
    if isinstance(obj, types.FunctionType):
        return _function_stateless(obj, seen, depth)
    return False


def _bound_to_state(obj: Any, seen: set, depth: int) -> bool:
    """A builtin method bound to a mutable object (``[].append``) has state."""
    if not isinstance(obj, (types.BuiltinFunctionType, types.MethodWrapperType)):
        return False
    owner = getattr(obj, "__self__", None)
    if owner is None or isinstance(owner, types.ModuleType):
        return False
    return not _stateless(owner, seen, depth + 1)


def _function_stateless(fn: types.FunctionType, seen: set, depth: int) -> bool:
    if _by_reference(fn):
        return True
    if fn.__dict__:
        return False  # attributes set on the function: mutable, and pickled by value
    values = list(fn.__defaults__ or ())
    values += list((fn.__kwdefaults__ or {}).values())
    for cell in fn.__closure__ or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:  # an empty cell: filled later, by the function itself
            return False
    for name in _global_names(fn.__code__):
        if name in fn.__globals__:
            values.append(fn.__globals__[name])
    return all(_stateless(value, seen, depth) for value in values)


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _by_reference(fn: types.FunctionType) -> bool:
    """Would cloudpickle pickle ``fn`` by reference (module and name)?"""
    module = sys.modules.get(fn.__module__ or "")
    if module is None or fn.__module__ == "__main__" or "<locals>" in fn.__qualname__:
        return False
    target = module
    for part in fn.__qualname__.split("."):
        target = getattr(target, part, None)
    if target is not fn:
        return False
    # modules registered with cloudpickle.register_pickle_by_value are shipped by value
    by_reference = getattr(cloudpickle.cloudpickle, "_should_pickle_by_reference", None)
    return by_reference is None or by_reference(fn)


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
