"""Stable hashing: the same value for a key in every process and machine.

Python's ``hash()`` is salted per process for str and bytes
(``PYTHONHASHSEED``), so it must never decide a shuffle bucket: two map
tasks in two processes would send one key to two reducers. ``stable_hash``
depends only on the key's value:

* ``str``: xxh64 of its UTF-8 bytes (lone surrogates allowed); ``bytes``:
  xxh64 with another seed, so ``"a"`` and ``b"a"`` differ.
* numbers hash by value, so keys that compare equal meet in one bucket, as
  with ``hash()``: ``1 == 1.0 == True == Fraction(1) == Decimal(1) ==
  1+0j``. Integers within 64 bits go through the splitmix64 finalizer
  (consecutive ints spread over the buckets); larger ones hash their bytes;
  non-integral floats, ``Fraction`` and ``Decimal`` hash their exact ratio
  ``as_integer_ratio()``.
* ``None``, ``bool``: constants / as ints.
* ``tuple``: its parts combined in order; ``frozenset``: its parts combined
  without order (xor of mixed hashes), so the iteration order (which does
  depend on the salt) does not matter.
* subclasses of these (``IntEnum``, namedtuples, str enums) hash as their
  base value, as they compare equal to it.

**Fallback** for any other hashable key (dates, ``Enum`` members, frozen
dataclasses, ...): xxh64 of the key's pickle (protocol 4). This is stable as
long as the key pickles deterministically and equal keys pickle to the same
bytes: true for the standard library's value types and for objects whose
state is made of the types above. It is *not* true for an object whose
state holds a ``set`` or ``dict`` of str built in different orders; give
such keys a tuple or frozenset form (``key_by(lambda r: (r.a, r.b))``).
"""
from __future__ import annotations

import pickle
import struct
from decimal import Decimal
from fractions import Fraction

import xxhash

__all__ = ["stable_hash", "int_buckets", "int_bucket_positions", "int64_array_buckets"]

_MASK = (1 << 64) - 1
_xxh64 = xxhash.xxh64_intdigest
_pack_double = struct.Struct("<d").pack
_NONE_HASH = 0x9E3779B97F4A7C15


def stable_hash(key) -> int:
    """A 64-bit hash of ``key`` that does not depend on PYTHONHASHSEED.

    >>> stable_hash("word") == stable_hash("word")
    True
    >>> stable_hash(1) == stable_hash(1.0) == stable_hash(True)
    True
    >>> stable_hash(("a", 1)) == stable_hash(("a", 1.0))
    True
    """
    kind = type(key)
    if kind is str:
        return _xxh64(key.encode("utf-8", "surrogatepass"))
    if kind is int or kind is bool:
        return _int_hash(key)
    if kind is bytes:
        return _xxh64(key, seed=1)
    if kind is tuple:
        return _tuple_hash(key)
    if kind is float:
        return _float_hash(key)
    if key is None:
        return _NONE_HASH
    if kind is frozenset:
        return _frozenset_hash(key)
    # subclasses (IntEnum, namedtuple, str enums) hash as their base value
    if isinstance(key, str):
        return _xxh64(str.encode(key, "utf-8", "surrogatepass"))
    if isinstance(key, int):
        return _int_hash(int(key))
    if isinstance(key, float):
        return _float_hash(float(key))
    if isinstance(key, bytes):
        return _xxh64(bytes(key), seed=1)
    if isinstance(key, tuple):
        return _tuple_hash(key)
    if isinstance(key, frozenset):
        return _frozenset_hash(key)
    if isinstance(key, complex):
        if key.imag == 0:
            return _float_hash(key.real)
        return ((_float_hash(key.real) * 1000003) ^ _float_hash(key.imag)) & _MASK
    if isinstance(key, (Fraction, Decimal)):
        try:
            numerator, denominator = key.as_integer_ratio()
        except (OverflowError, ValueError):  # Decimal infinity / NaN: as the float
            return _float_hash(float(key))
        return _ratio_hash(numerator, denominator)
    return _xxh64(pickle.dumps(key, protocol=4), seed=3)


_ARROW_FROM = 512  # keys: below this, Arrow's fixed cost outweighs the Python loop


def int_buckets(keys: list, buckets: int) -> list[int] | None:
    """``[stable_hash(key) % buckets for key in keys]`` when every key is a
    plain ``int`` within int64, computed in Arrow (the splitmix64 finalizer
    over a column: about 10x faster than key by key); ``None`` when it does
    not apply (other key types, big ints, short lists, no pyarrow), so the
    caller hashes key by key.

    >>> keys = list(range(-300, 700))
    >>> buckets = int_buckets(keys, 4)
    >>> buckets is None or buckets == [stable_hash(key) % 4 for key in keys]
    True
    >>> int_buckets(["a"] * 1000, 4) is None
    True
    """
    column = _int_bucket_column(keys, buckets)
    return None if column is None else column.to_pylist()


def int_bucket_positions(keys: list, buckets: int) -> list[list[int]] | None:
    """Per bucket, the positions in ``keys`` of the keys that go there (in
    their order in ``keys``), when :func:`int_buckets` applies; else ``None``.

    Both the hashing and the grouping by bucket run in Arrow (a stable sort
    of the bucket column), so a caller can gather each bucket's keys and
    values at C speed (``operator.itemgetter(*positions)``) instead of
    appending key by key.

    >>> keys = list(range(1000))
    >>> positions = int_bucket_positions(keys, 3)
    >>> positions is None or positions == [[i for i in keys if stable_hash(i) % 3 == b] for b in range(3)]
    True
    """
    column = _int_bucket_column(keys, buckets)
    if column is None:
        return None
    import pyarrow.compute as pc

    order = pc.array_sort_indices(column).to_pylist()  # stable: each bucket keeps the keys' order
    counts = [0] * buckets
    tally = pc.value_counts(column)
    for bucket, count in zip(tally.field("values").to_pylist(), tally.field("counts").to_pylist()):
        counts[bucket] = count
    positions, start = [], 0
    for count in counts:
        positions.append(order[start:start + count])
        start += count
    return positions


def int64_array_buckets(keys, buckets: int):
    """``stable_hash(key) % buckets`` for every key of a numpy int64 array, as
    a numpy array: the splitmix64 finalizer in numpy (uint64 multiplies wrap),
    bit for bit :func:`stable_hash`. For keys that are already a column
    (``shuffle/float_sums.py``): no Python ints to convert.

    >>> import numpy as np
    >>> keys = np.array([-(1 << 63), -1, 0, 1, 12345, (1 << 63) - 1], dtype=np.int64)
    >>> int64_array_buckets(keys, 7).tolist() == [stable_hash(int(k)) % 7 for k in keys]
    True
    """
    import numpy as np  # only callers that hold numpy arrays come here

    x = keys.view(np.uint64)  # two's complement, as ``key & _MASK`` in _int_hash
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):  # = _mix
        x = (x ^ (x >> np.uint64(shift))) * np.uint64(factor)
    x = x ^ (x >> np.uint64(31))
    return x % np.uint64(buckets)


def _int_bucket_column(keys: list, buckets: int):
    """The Arrow column of ``stable_hash(key) % buckets`` (uint64), or ``None``."""
    if len(keys) < _ARROW_FROM or type(keys[0]) is not int or set(map(type, keys)) != {int}:
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    u64 = pa.uint64()
    try:  # two's complement, as ``key & _MASK`` in _int_hash
        x = pa.array(keys, type=pa.int64()).cast(u64, safe=False)
    except (OverflowError, pa.ArrowException):  # an int past int64
        return None
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):  # = _mix; multiply wraps
        x = pc.multiply(pc.bit_wise_xor(x, pc.shift_right(x, pa.scalar(shift, u64))), pa.scalar(factor, u64))
    x = pc.bit_wise_xor(x, pc.shift_right(x, pa.scalar(31, u64)))
    n = pa.scalar(buckets, u64)
    return pc.subtract(x, pc.multiply(pc.divide(x, n), n))


def _int_hash(key: int) -> int:
    if -(1 << 63) <= key <= _MASK:
        return _mix(key & _MASK)
    return _xxh64(key.to_bytes(key.bit_length() // 8 + 1, "little", signed=True), seed=4)


def _float_hash(key: float) -> int:
    if key.is_integer():
        return _int_hash(int(key))  # 1.0 == 1 must share a bucket
    try:
        numerator, denominator = key.as_integer_ratio()
    except (OverflowError, ValueError):  # inf, nan
        return _xxh64(_pack_double(key), seed=2)
    return _ratio_hash(numerator, denominator)


def _ratio_hash(numerator: int, denominator: int) -> int:
    if denominator == 1:
        return _int_hash(numerator)
    return _mix((_int_hash(numerator) * 1000003 ^ _int_hash(denominator)) & _MASK)


def _tuple_hash(key: tuple) -> int:
    h = 0x345678
    for item in key:
        h = ((h ^ stable_hash(item)) * 1000003) & _MASK
    return h ^ len(key)


def _frozenset_hash(key: frozenset) -> int:
    h = 0
    for item in key:
        h ^= _mix(stable_hash(item))
    return h ^ 0xF00D


def _mix(x: int) -> int:
    # splitmix64 finalizer: spreads consecutive integers over the buckets
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
    return x ^ (x >> 31)
