"""Stable hashing: the same value for a key in every process and machine.

Python's ``hash()`` is salted per process for str and bytes, so it must never
decide a shuffle bucket. Integers hash by value, str/bytes with xxh64,
tuples and frozensets by combining their parts; other keys fall back to
xxh64 of their pickle (documented: such keys must pickle deterministically).
"""
from __future__ import annotations

import pickle
import struct

import xxhash

__all__ = ["stable_hash"]

_MASK = (1 << 64) - 1
_xxh64 = xxhash.xxh64_intdigest
_pack_double = struct.Struct("<d").pack


def stable_hash(key) -> int:
    """A 64-bit hash of ``key`` that does not depend on PYTHONHASHSEED.

    >>> stable_hash("word") == stable_hash("word")
    True
    >>> stable_hash(1) == stable_hash(1.0) == stable_hash(True)
    True
    """
    kind = type(key)
    if kind is str:
        return _xxh64(key.encode("utf-8", "surrogatepass"))
    if kind is int or kind is bool:
        return _mix(key & _MASK)
    if kind is bytes:
        return _xxh64(key, seed=1)
    if kind is float:
        if key.is_integer():
            return _mix(int(key) & _MASK)  # 1.0 == 1 must share a bucket
        return _xxh64(_pack_double(key), seed=2)
    if key is None:
        return 0x9E3779B97F4A7C15
    if kind is tuple:
        h = 0x345678
        for item in key:
            h = ((h ^ stable_hash(item)) * 1000003) & _MASK
        return h ^ len(key)
    if kind is frozenset:
        h = 0
        for item in key:
            h ^= _mix(stable_hash(item))
        return h ^ 0xF00D
    # subclasses (IntEnum, namedtuple, str enums) hash as their base value
    if isinstance(key, str):
        return _xxh64(key.encode("utf-8", "surrogatepass"))
    if isinstance(key, int):
        return _mix(int(key) & _MASK)
    if isinstance(key, float):
        return stable_hash(float(key))
    if isinstance(key, bytes):
        return stable_hash(bytes(key))
    if isinstance(key, tuple):
        return stable_hash(tuple(key))
    if isinstance(key, frozenset):
        return stable_hash(frozenset(key))
    return _xxh64(pickle.dumps(key, protocol=4), seed=3)


def _mix(x: int) -> int:
    # splitmix64 finalizer: spreads consecutive integers over the buckets
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
    return x ^ (x >> 31)
