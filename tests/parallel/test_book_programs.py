"""Programs in the shape of *Mastering Large Datasets with Python*, chapters
2-6, run twice: with ``multiprocessing.Pool`` and with only the pool swapped
for ``mf.Pool``. They must give the same answers (issues 15 and 17)."""
from __future__ import annotations

import functools
import glob
import itertools
import multiprocessing
import os
import re
import time
from collections import Counter

import pytest
from toolz import compose, pipe
from toolz.sandbox.parallel import fold

import mapfold as mf

POOLS = {"multiprocessing": multiprocessing.Pool, "mapfold": mf.Pool}


def both(program, *args):
    """Run ``program(Pool, *args)`` with each pool; return both answers."""
    return [program(Pool, *args) for Pool in POOLS.values()]


# -- chapter 2: parallel map, chunk sizes, timing ------------------------------
def is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n**0.5) + 1))


def ch2_primes(Pool):
    with Pool(processes=2) as P:
        return P.map(is_prime, range(20_000))


def ch2_timing_chunk_sizes(Pool):
    answers, timings = [], {}
    with Pool(2) as P:
        for size in (1, 10, 500, None):
            start = time.perf_counter()
            result = P.map(is_prime, range(5_000), chunksize=size) if size else P.map(is_prime, range(5_000))
            timings[size] = time.perf_counter() - start
            answers.append((type(result).__name__, sum(result)))  # a list, computed by the time map returns
    return answers


def ch2_imap_and_starmap(Pool):
    with Pool(2) as P:
        ordered = list(P.imap(is_prime, range(3_000), chunksize=50))
        unordered = sorted(P.imap_unordered(is_prime, range(3_000)))
        powers = P.starmap(pow, [(b, e) for b in range(20) for e in range(5)])
    return ordered, unordered, powers


def ch2_apply_async(Pool):
    with Pool(2) as P:
        pending = [P.apply_async(is_prime, (n,)) for n in range(500)]
        mapped = P.map_async(is_prime, range(500), chunksize=25)
        starred = P.starmap_async(divmod, [(n, 7) for n in range(100)])
        return [r.get(timeout=60) for r in pending], mapped.get(timeout=60), starred.get(timeout=60)


# -- chapter 3: function pipelines, nested maps --------------------------------
def clean(text: str) -> str:
    return re.sub(r"[^a-z ]", "", text.lower())


def word_lengths(text: str) -> list[int]:
    return [len(w) for w in text.split()]


def mean(xs: list) -> float:
    return sum(xs) / max(len(xs), 1)


mean_length = compose(mean, word_lengths, clean)  # multiprocessing's pickle takes no lambda here


def total_length(text: str) -> int:
    return pipe(text, clean, word_lengths, sum)


def inc(x):
    return x + 1


def ch3_pipelines_and_nested_maps(Pool, texts):
    with Pool(2) as P:
        means = P.map(mean_length, texts)
        piped = P.map(total_length, texts)
        nested = P.map(inc, P.map(inc, range(1000)))
        lazy_nested = list(P.imap(inc, P.imap(inc, range(1000))))
    return means, piped, nested, lazy_nested


# -- chapter 4: lazy workflows: iglob, filter, zip -----------------------------
def line_count(path: str) -> int:
    with open(path, encoding="latin-1") as f:
        return sum(1 for _ in f)


def has_def(path: str) -> bool:
    with open(path, encoding="latin-1") as f:
        return "def " in f.read()


def ch4_lazy_files(Pool, pattern):
    with Pool(2) as P:
        paths = filter(lambda p: not os.path.basename(p).startswith("_"), glob.iglob(pattern))
        paths_a, paths_b = itertools.tee(paths)
        pairs = list(zip(P.imap(line_count, paths_a), P.imap(has_def, paths_b)))  # two lazy maps, interleaved
    return pairs


# -- chapters 5 and 6: reduce, parallel fold with toolz, n-grams --------------
def add_word(acc: dict, word: str) -> dict:
    acc[word] = acc.get(word, 0) + 1
    return acc


def merge_counts(left: dict, right: dict) -> dict:
    out = dict(left)
    for word, n in right.items():
        out[word] = out.get(word, 0) + n
    return out


def ch5_toolz_fold(Pool, words):
    with Pool(2) as P:
        return fold(add_word, words, {}, map=P.imap, chunksize=64, combine=merge_counts)


def ngrams(text: str, n: int = 2) -> Counter:
    words = clean(text).split()
    return Counter(zip(*(words[i:] for i in range(n))))


def ch6_ngram_count(Pool, texts):
    with Pool(2) as P:
        per_text = P.map(ngrams, texts, chunksize=8)
        total = functools.reduce(lambda a, b: a + b, per_text, Counter())
        unordered = functools.reduce(lambda a, b: a + b, P.imap_unordered(ngrams, texts), Counter())
    return total.most_common(25), unordered == total


# -- fixtures and tests -----------------------------------------------------------
@pytest.fixture(scope="module")
def stdlib_texts() -> list[str]:
    paths = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "json", "*.py")))
    paths += sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "email", "*.py")))[:3]  # ch6 sums Counters pairwise: quadratic
    texts = []
    for path in paths:
        with open(path, encoding="latin-1") as f:
            texts.extend(chunk for chunk in f.read().split("\n\n") if chunk.strip())
    return texts


def test_ch2_parallel_map():
    ours_mp, ours_mf = both(ch2_primes)
    assert ours_mf == ours_mp and sum(ours_mf) == 2262


def test_ch2_timing_a_map_with_chunk_sizes_measures_the_work():
    theirs, ours = both(ch2_timing_chunk_sizes)
    assert ours == theirs and all(kind == "list" for kind, _ in ours)


def test_ch2_imap_imap_unordered_starmap():
    theirs, ours = both(ch2_imap_and_starmap)
    assert ours == theirs


def test_ch2_apply_async_map_async_starmap_async():
    theirs, ours = both(ch2_apply_async)
    assert ours == theirs


def test_ch3_pipelines_and_nested_maps(stdlib_texts):
    theirs, ours = both(ch3_pipelines_and_nested_maps, stdlib_texts)
    assert ours == theirs
    assert ours[2] == list(range(2, 1002)) and ours[3] == list(range(2, 1002))


def test_ch4_lazy_iglob_filter_zip():
    pattern = os.path.join(os.path.dirname(os.__file__), "json", "*.py")
    theirs, ours = both(ch4_lazy_files, pattern)
    assert ours == theirs and len(ours) >= 3


def test_ch5_parallel_fold_with_toolz(stdlib_texts):
    words = [w for text in stdlib_texts for w in clean(text).split()]
    theirs, ours = both(ch5_toolz_fold, words)
    assert ours == theirs == dict(Counter(words))


def test_ch6_ngram_count(stdlib_texts):
    theirs, ours = both(ch6_ngram_count, stdlib_texts)
    assert ours == theirs and ours[1] is True
