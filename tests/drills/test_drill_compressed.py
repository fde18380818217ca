"""Drills of damaged compressed input, for every codec mapfold reads (gzip,
bz2, xz, zstd) and every line reader: a file cut short, or a byte flipped
in it, raises ``InputError`` naming the file; with ``errors="skip"`` the
lines before the break are read, the damage counted as one bad record, and
the other files read whole. mapfold's own compressed output carries a
checksum, so damage to it is detected too."""
from __future__ import annotations

import bz2
import gzip
import lzma
import os

import pytest

import mapfold as mf

zstandard = pytest.importorskip("zstandard")

CODECS = {
    "gzip": (".gz", gzip.compress),
    "bz2": (".bz2", bz2.compress),
    "xz": (".xz", lzma.compress),
    "zstd": (".zst", lambda data: zstandard.ZstdCompressor(write_checksum=True).compress(data)),
}
LINES = 20000
READERS = {
    "text": (lambda i: f"line {i}", lambda paths, **kw: mf.read_text(paths, **kw)),
    "jsonl": (lambda i: f'{{"i": {i}}}', lambda paths, **kw: mf.read_jsonl(paths, **kw)),
    "csv": (lambda i: f"{i},x{i}", lambda paths, **kw: mf.read_csv(paths, header=False, **kw)),
    "key_value": (lambda i: f"k{i}\t{i}", lambda paths, **kw: mf.read_key_value(paths, value=int, **kw)),
}
KIND = "truncated or corrupt file"


def content(reader: str, n: int) -> bytes:
    make = READERS[reader][0]
    return "".join(f"{make(i)}\n" for i in range(n)).encode()


def damage(data: bytes, how: str) -> bytes:
    if how == "truncated":
        return data[: len(data) * 2 // 3]
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x55  # mid-stream: a checksum (or the decoder) must catch it
    return bytes(flipped)


@pytest.mark.parametrize("how", ["truncated", "corrupt"])
@pytest.mark.parametrize("codec", sorted(CODECS))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_damaged_compressed_input_is_never_a_silent_prefix(runner, tmp_path, codec, reader, how):
    suffix, compress = CODECS[codec]
    damaged = tmp_path / f"damaged{suffix}"
    damaged.write_bytes(damage(compress(content(reader, LINES)), how))
    (tmp_path / f"whole{suffix}").write_bytes(compress(content(reader, 3)))
    read = READERS[reader][1]
    # a flipped byte may first decode to a garbled line, which is then the first error named
    expected = KIND if how == "truncated" else ""
    with pytest.raises(mf.InputError, match=rf"damaged{suffix}\b.*{expected}") as info:
        read(str(tmp_path)).collect(runner=runner)
    assert info.value.path.endswith(f"damaged{suffix}")
    ds = read(str(tmp_path), errors="skip")
    got = ds.collect(runner=runner)
    assert 3 <= len(got) < LINES + 3
    counts = ds.bad_records.counts
    assert counts[KIND] == 1 and (how == "corrupt" or counts == {KIND: 1}), counts
    assert all(record.path.endswith(f"damaged{suffix}") for record in ds.bad_records.sample)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_mapfolds_own_compressed_output_detects_damage(serial, tmp_path, codec):
    out = tmp_path / "out"
    mf.from_sequence([f"line {i}" for i in range(LINES)], partitions=1).save_text(str(out), compression=codec, runner=serial)
    (part,) = [p for p in os.listdir(out) if p.startswith("part-")]
    data = (out / part).read_bytes()
    if codec == "zstd":  # the frame carries a content checksum (frame header descriptor bit 2)
        assert data[4] & 0x04
    (out / part).write_bytes(damage(data, "corrupt"))
    with pytest.raises(mf.InputError, match=KIND):
        mf.read_text(str(out)).collect(runner=serial)
