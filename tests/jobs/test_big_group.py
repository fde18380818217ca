"""A reducer over one key with more values than the memory budget holds: its values stream from disk."""
from __future__ import annotations

import os

import pytest

import mapfold as mf
from mapfold.jobs import MRJob


class MROneKey(MRJob):
    """Every map task writes ``--values`` values for one key; the reducer counts and sums them."""

    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--values", type=int, default=1000)

    def mapper(self, _, line):
        return ()

    def mapper_final(self):
        for i in range(self.options.values):
            yield "only key", i

    def reducer(self, key, values):
        count = total = 0
        for value in values:
            count += 1
            total += value
        yield key, [count, total]


def run(values: int, memory_limit: str, runner_name: str, tmp_path) -> tuple[bytes, dict]:
    path = tmp_path / "in.txt"
    path.write_text("one map task\n")
    job = MROneKey(args=[str(path), "--values", str(values), "--memory-limit", memory_limit, "-r", runner_name])
    with job.make_runner() as runner:
        runner.run()
        return b"".join(runner.cat_output()), runner.stats()


@pytest.mark.parametrize("runner_name", ["serial", "processes"])
def test_one_key_with_more_values_than_memory(runner_name, tmp_path):
    values = 300_000
    output, stats = run(values, "4MB", runner_name, tmp_path)
    assert output == b'"only key"\t[%d, %d]\n' % (values, values * (values - 1) // 2)
    assert stats.get("spilled_records", 0) > 0 or stats.get("spilled_bytes", 0) > 0, stats


@pytest.mark.skipif(not os.environ.get("MAPFOLD_BIG_TESTS"), reason="10 M values, minutes: set MAPFOLD_BIG_TESTS=1")
def test_ten_million_values_under_64mb(tmp_path):
    values = 10_000_000
    output, stats = run(values, "64MB", "processes", tmp_path)
    assert output == b'"only key"\t[%d, %d]\n' % (values, values * (values - 1) // 2)
