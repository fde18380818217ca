"""Seeded synthetic text: a Zipf-like corpus of made-up words.

``python benchmarks/corpus.py --size-mb 256`` writes benchmarks/data/corpus-256mb.txt
(cached: the same arguments give the same bytes).
"""
from __future__ import annotations

import argparse
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def vocabulary(size: int, rng) -> list[str]:
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    lengths = rng.integers(2, 11, size=size)
    words, seen = [], set()
    for n in lengths:
        word = "".join(letters[rng.zipf(1.6, size=n) % 26])
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def corpus_path(size_mb: int, seed: int = 1, vocab: int = 200_000) -> str:
    os.makedirs(DATA, exist_ok=True)
    path = os.path.join(DATA, f"corpus-{size_mb}mb-s{seed}-v{vocab}.txt")
    if os.path.exists(path) and os.path.getsize(path) >= size_mb * 1_000_000:
        return path
    rng = np.random.default_rng(seed)
    words = np.array(vocabulary(vocab, rng))
    target = size_mb * 1_000_000
    tmp = path + ".tmp"
    written = 0
    with open(tmp, "w") as f:
        while written < target:
            ranks = rng.zipf(1.1, size=200_000)
            ranks = ranks[ranks <= len(words)] - 1
            chosen = words[ranks]
            lengths = rng.integers(3, 18, size=len(chosen) // 3)
            out, i = [], 0
            for n in lengths:
                out.append(" ".join(chosen[i : i + n]))
                i += n
                if i >= len(chosen):
                    break
            block = "\n".join(out) + "\n"
            f.write(block)
            written += len(block)
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(corpus_path(args.size_mb, args.seed))
