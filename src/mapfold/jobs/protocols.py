"""mrjob 0.7's protocols: how a job's keys and values become lines of bytes.

A protocol has ``read(line) -> (key, value)`` and ``write(key, value) ->
bytes`` (one line, without its newline). The names and the bytes are
mrjob's, so a ported job reads and writes the same files. One difference on
purpose: ``JSONProtocol`` is always the standard library's ``json`` (mrjob
switches to ujson, rapidjson or simplejson when one is installed, which
changes the output's spacing); pick a faster protocol explicitly if wanted.

>>> JSONProtocol().write(["a", 1], {"b": None})
b'["a", 1]\\t{"b": null}'
>>> JSONProtocol().read(b'"word"\\t3')
('word', 3)
"""
from __future__ import annotations

import json
import pickle
from json.encoder import encode_basestring_ascii
from typing import Any

__all__ = [
    "JSONProtocol", "JSONValueProtocol", "StandardJSONProtocol", "StandardJSONValueProtocol",
    "RawProtocol", "RawValueProtocol", "TextProtocol", "TextValueProtocol",
    "BytesProtocol", "BytesValueProtocol", "PickleProtocol", "PickleValueProtocol",
    "ReprProtocol", "ReprValueProtocol",
]


def _text(line: bytes) -> str:
    """UTF-8, else latin-1: mrjob's rule for text input (logs with stray bytes)."""
    try:
        return line.decode("utf_8")
    except UnicodeDecodeError:
        return line.decode("latin_1")


def _split_pair(line):
    """``key<TAB>value`` split at the first tab; a line without one is ``(line, None)``."""
    parts = line.split(b"\t" if isinstance(line, bytes) else "\t", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], None)


class _KeyValueCodec:
    """Both halves of ``key<TAB>value`` through one codec (``_loads``/``_dumps``).

    A line without a tab is an error, as in mrjob (``ValueError``). The last
    decoded key is remembered: a reducer's input repeats the same key bytes
    line after line, and decoding it once per group is what makes reading fast.
    """

    def __init__(self) -> None:
        self._last_raw: bytes | None = None
        self._last_key: Any = None

    def _loads(self, data: bytes) -> Any:
        raise NotImplementedError

    def _dumps(self, value: Any) -> bytes:
        raise NotImplementedError

    def read(self, line: bytes) -> tuple:
        raw_key, raw_value = line.split(b"\t", 1)
        if raw_key != self._last_raw:
            self._last_key, self._last_raw = self._loads(raw_key), raw_key
        return self._last_key, self._loads(raw_value)

    def write(self, key: Any, value: Any) -> bytes:
        return self._dumps(key) + b"\t" + self._dumps(value)


class StandardJSONProtocol(_KeyValueCodec):
    """Key and value as JSON (standard library ``json``), joined by a tab.

    >>> StandardJSONProtocol().write(("é", None), 1.5)
    b'["\\\\u00e9", null]\\t1.5'
    """

    def _loads(self, data: bytes) -> Any:
        return json.loads(data.decode("utf_8"))

    def _dumps(self, value: Any) -> bytes:
        # an exact str or int straight through what json.dumps calls for it (the same bytes)
        kind = type(value)
        if kind is str:
            return encode_basestring_ascii(value).encode("ascii")
        if kind is int:
            return int.__repr__(value).encode("ascii")
        return json.dumps(value).encode("utf_8")


class StandardJSONValueProtocol:
    """The value as JSON; the key is ignored on write and ``None`` on read.

    >>> StandardJSONValueProtocol().read(b'[1, 2]')
    (None, [1, 2])
    """

    def read(self, line: bytes) -> tuple:
        return None, json.loads(line.decode("utf_8"))

    def write(self, key: Any, value: Any) -> bytes:
        return json.dumps(value).encode("utf_8")


class JSONProtocol(StandardJSONProtocol):
    """mrjob's default internal and output protocol; the standard library's JSON here, always.

    >>> JSONProtocol().write("a", [1, 2])
    b'"a"\\t[1, 2]'
    """


class JSONValueProtocol(StandardJSONValueProtocol):
    """The value as JSON, always the standard library's.

    >>> JSONValueProtocol().write("ignored", {"n": 1})
    b'{"n": 1}'
    """


class TextProtocol:
    """``key<TAB>value`` as text (UTF-8, read falling back to latin-1); ``None`` halves leave no tab.

    >>> TextProtocol().read(b"k\\tv\\tw"), TextProtocol().read(b"alone")
    (('k', 'v\\tw'), ('alone', None))
    """

    def read(self, line: bytes) -> tuple:
        return _split_pair(_text(line))

    def write(self, key: Any, value: Any) -> bytes:
        return b"\t".join(part.encode("utf_8") for part in (key, value) if part is not None)


class TextValueProtocol:
    """Each line as one text value (mrjob's default input protocol on Python 3).

    >>> TextValueProtocol().read(b"caf\\xe9")
    (None, 'café')
    """

    def read(self, line: bytes) -> tuple:
        return None, _text(line)

    def write(self, key: Any, value: Any) -> bytes:
        return value.encode("utf_8")


class RawProtocol(TextProtocol):
    """mrjob's ``RawProtocol`` on Python 3: :class:`TextProtocol`.

    >>> RawProtocol().write("k", "v")
    b'k\\tv'
    """


class RawValueProtocol(TextValueProtocol):
    """mrjob's default input protocol on Python 3: :class:`TextValueProtocol`.

    >>> RawValueProtocol().read(b"a line")
    (None, 'a line')
    """


class BytesProtocol:
    """``key<TAB>value`` as bytes, untouched; ``None`` halves leave no tab.

    >>> BytesProtocol().read(b"k\\tv")
    (b'k', b'v')
    """

    def read(self, line: bytes) -> tuple:
        return _split_pair(line)

    def write(self, key: Any, value: Any) -> bytes:
        return b"\t".join(part for part in (key, value) if part is not None)


class BytesValueProtocol:
    """Each line as one bytes value.

    >>> BytesValueProtocol().write(None, b"raw")
    b'raw'
    """

    def read(self, line: bytes) -> tuple:
        return None, line

    def write(self, key: Any, value: Any) -> bytes:
        return value


def _unpickle(data: bytes) -> Any:
    # the pickle was escaped into printable bytes so tabs and newlines cannot break the line
    return pickle.loads(data.decode("unicode_escape").encode("latin_1"))


def _pickle(value: Any) -> bytes:
    return pickle.dumps(value).decode("latin_1").encode("unicode_escape")


class PickleProtocol(_KeyValueCodec):
    """Key and value pickled and escaped to printable bytes, joined by a tab.

    >>> p = PickleProtocol(); p.read(p.write((1, "a"), {2}))
    ((1, 'a'), {2})
    """

    def _loads(self, data: bytes) -> Any:
        return _unpickle(data)

    def _dumps(self, value: Any) -> bytes:
        return _pickle(value)


class PickleValueProtocol:
    """The value pickled and escaped; the key is ``None`` on read.

    >>> p = PickleValueProtocol(); p.read(p.write(None, [1]))
    (None, [1])
    """

    def read(self, line: bytes) -> tuple:
        return None, _unpickle(line)

    def write(self, key: Any, value: Any) -> bytes:
        return _pickle(value)


def _no_open(*args: Any, **kwargs: Any) -> None:
    raise NameError("name 'open' is not defined")


def _literal(data: bytes) -> Any:
    """A repr read back, as mrjob reads it: evaluated with the builtins taken
    away (only ``True``, ``False``, ``None``, ``set`` and ``range`` are known),
    so the same lines are accepted and the same errors raised. Like mrjob's,
    this evaluates its input: read repr lines only from sources you trust.
    """
    names = {"__builtins__": None, "True": True, "False": False, "None": None, "set": set, "range": range,
             "open": _no_open}
    return eval(data, names, {})  # noqa: S307 -- mrjob's ReprProtocol semantics, see the docstring


class ReprProtocol(_KeyValueCodec):
    """Key and value as ``repr()``, read back as Python literals.

    >>> ReprProtocol().write(("a", 1), None)
    b"('a', 1)\\tNone"
    """

    def _loads(self, data: bytes) -> Any:
        return _literal(data)

    def _dumps(self, value: Any) -> bytes:
        return repr(value).encode("utf_8")


class ReprValueProtocol:
    """The value as ``repr()``; the key is ``None`` on read.

    >>> ReprValueProtocol().read(b"[1, 'b']")
    (None, [1, 'b'])
    """

    def read(self, line: bytes) -> tuple:
        return None, _literal(line)

    def write(self, key: Any, value: Any) -> bytes:
        return repr(value).encode("utf_8")
