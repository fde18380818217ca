"""Every protocol writes and reads the bytes mrjob 0.7.4's does, for awkward keys and values."""
from __future__ import annotations

import pytest

import mapfold.jobs as jobs

mrjob_protocol = pytest.importorskip("mrjob.protocol", reason="compared with real mrjob: pip install 'mrjob>=0.7.4'")

NAMES = ["JSONProtocol", "JSONValueProtocol", "StandardJSONProtocol", "StandardJSONValueProtocol",
         "RawProtocol", "RawValueProtocol", "TextProtocol", "TextValueProtocol", "BytesProtocol",
         "BytesValueProtocol", "PickleProtocol", "PickleValueProtocol", "ReprProtocol", "ReprValueProtocol"]

OBJECTS = [("word", 1), (None, None), (("t", 1), [1, {"n": None}]), ("caf\u00e9 \u6f22", "tab\there"),
           (1.5, True), ([], {"nested": [1, [2, "\n"]]})]
TEXTS = [("k", "v"), ("caf\u00e9", "\u6f22\u5b57"), ("k", None), (None, "v"), ("", "")]
BYTES = [(b"k", b"v"), (b"\xff\xfe", b"\x00"), (b"k", None)]
PYTHON = OBJECTS + [((1, "a"), {2, 3}), (frozenset([1]), b"bytes"), ("set", set())]
LINES = [b'"a"\t1', b"plain line", b"k\tv\tw", b"caf\xc3\xa9\t\xe6\xbc\xa2", b"latin \xe9", b"", b"\t"]


def test_every_mrjob_protocol_is_exported():
    assert set(NAMES) <= set(jobs.__all__)
    for name in NAMES:
        assert hasattr(mrjob_protocol, name)


def _cases(name: str) -> list:
    if name.startswith(("Raw", "Text")):
        return TEXTS
    if name.startswith("Bytes"):
        return BYTES
    if name.startswith(("Pickle", "Repr")):
        return PYTHON
    return OBJECTS


@pytest.mark.parametrize("name", NAMES)
def test_write_equals_mrjob(name):
    ours, theirs = getattr(jobs, name)(), getattr(mrjob_protocol, name)()
    for key, value in _cases(name):
        if "Value" in name and value is None:
            continue
        assert ours.write(key, value) == theirs.write(key, value), (key, value)


@pytest.mark.parametrize("name", NAMES)
def test_read_equals_mrjob(name):
    ours, theirs = getattr(jobs, name)(), getattr(mrjob_protocol, name)()
    lines = [theirs.write(k, v) for k, v in _cases(name) if not ("Value" in name and v is None)] + LINES
    for line in lines:
        try:
            expected = theirs.read(line)
        except Exception as exc:  # a line the protocol cannot read: ours refuses it too, with the same type
            with pytest.raises(type(exc)):
                ours.read(line)
            continue
        assert ours.read(line) == expected, line


def test_json_is_the_standard_library_whatever_is_installed():
    assert jobs.JSONProtocol().write({"a": 1}, [1, 2]) == b'{"a": 1}\t[1, 2]'
    assert jobs.JSONValueProtocol().write(None, "\u00e9") == b'"\\u00e9"'
