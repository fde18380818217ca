"""An MRJob word count with a combiner: mapfold.jobs against mrjob 0.7.4 and the Dataset API.

    python benchmarks/jobs_wordcount.py --size-mb 256 [--workers 2] [--only a,b]

Contenders (each in a fresh process; see harness.py), all writing the same
``"word"<TAB>count`` lines into an output folder:
  mrjob-local       real mrjob 0.7.4, ``-r local --num-cores N`` (if mrjob is installed)
  jobs-local        the same job file on mapfold, ``-r local --num-cores N``
  dataset-api       read_text().flat_map(str.split) ... reduce_by_key, JSON lines, processes runner
Every contender's output is checked to hold the same number of distinct words.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from corpus import corpus_path  # noqa: E402
from harness import measure, print_table  # noqa: E402

JOB = '''
from {module} import MRJob


class MRWordCount(MRJob):
    def mapper(self, _, line):
        for word in line.split():
            yield word, 1

    def combiner(self, word, counts):
        yield word, sum(counts)

    def reducer(self, word, counts):
        yield word, sum(counts)


if __name__ == "__main__":
    MRWordCount.run()
'''

DATASET = '''
import json, operator, sys
import mapfold as mf
path, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
with mf.runner("processes", workers=workers):
    (mf.read_text(path).flat_map(str.split).map(lambda w: (w, 1)).reduce_by_key(operator.add)
       .map(lambda kv: json.dumps(kv[0]) + "\\t" + json.dumps(kv[1])).save_text(out))
'''


def distinct_words(folder: str) -> int:
    return sum(sum(1 for _ in open(os.path.join(folder, name), "rb"))
               for name in os.listdir(folder) if name.startswith("part-"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    path = corpus_path(args.size_mb)
    work = tempfile.mkdtemp(prefix="bench-jobs-")
    for name, module in (("mr_mrjob.py", "mrjob.job"), ("mr_mapfold.py", "mapfold.jobs")):
        with open(os.path.join(work, name), "w") as f:
            f.write(JOB.format(module=module))
    n = str(args.workers)
    contenders = {
        "mrjob-local": [sys.executable, os.path.join(work, "mr_mrjob.py"), "-r", "local", "--no-conf",
                        "--num-cores", n, "-o", os.path.join(work, "out-mrjob-local"), "--no-cat-output", path],
        "jobs-local": [sys.executable, os.path.join(work, "mr_mapfold.py"), "-r", "local", "--num-cores", n,
                       "-o", os.path.join(work, "out-jobs-local"), "--no-cat-output", "-q", path],
        "dataset-api": [sys.executable, "-c", DATASET, path, os.path.join(work, "out-dataset-api"), n],
    }
    only = set(filter(None, args.only.split(",")))
    rows = []
    try:
        for name, argv in contenders.items():
            if only and name not in only:
                continue
            result = measure(argv)
            out = os.path.join(work, f"out-{name}")
            result["distinct"] = distinct_words(out) if result["ok"] and os.path.isdir(out) else None
            rows.append((name, result))
        distinct = {r["distinct"] for _, r in rows if r["ok"]}
        if len(distinct) > 1:
            raise SystemExit(f"the contenders disagree on the number of distinct words: {distinct}")
        print_table(f"MRJob word count with a combiner, {args.size_mb} MB, {args.workers} workers", rows,
                    "dataset-api")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
