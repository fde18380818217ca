"""Each task's Hadoop-style variables: in place whenever its code runs, gone after; equal to mrjob -r local's."""
from __future__ import annotations

import os

import pytest

from mapfold.jobs import MRJob, MRStep


class MRInterleaved(MRJob):
    """Step 0's reducer and step 1's mapper take turns in one thread on the serial runner."""

    def steps(self):
        return [MRStep(mapper=self.first, reducer=self.reduce_first),
                MRStep(mapper=self.second, reducer=self.reduce_second)]

    def first(self, _, line):
        yield line, os.environ["mapreduce_task_ismap"]

    def reduce_first(self, key, values):
        for value in values:
            yield key, [value, os.environ["mapreduce_task_ismap"], os.environ["mapreduce_task_id"]]

    def second(self, key, value):
        yield key, value + [os.environ["mapreduce_task_ismap"], os.environ["mapreduce_task_id"]]

    def reduce_second(self, key, values):
        for value in values:
            yield key, value


@pytest.mark.parametrize("name", ["serial", "processes"])
def test_interleaved_tasks_each_see_their_own(name, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("a\nb\nc\n")
    before = {k: v for k, v in os.environ.items() if k.startswith(("mapreduce_", "mapred_", "map_"))}
    with MRInterleaved(args=[str(path), "-r", name]).make_runner() as runner:
        runner.run()
        records = list(MRInterleaved(args=[]).parse_output(runner.cat_output()))
    assert sorted(key for key, _ in records) == ["a", "b", "c"]
    for _, (map0, reduce0, reduce0_id, map1, map1_id) in records:
        assert (map0, reduce0, map1) == ("true", "false", "true")
        assert "_reducer_0000" in reduce0_id and "_mapper_0001" in map1_id
    after = {k: v for k, v in os.environ.items() if k.startswith(("mapreduce_", "mapred_", "map_"))}
    assert after == before  # put back when the tasks ended


def test_task_env_equals_mrjob_local(corpus, processes, tmp_path):
    pytest.importorskip("mrjob", reason="compared with real mrjob: pip install 'mrjob>=0.7.4'")
    inputs, args = corpus.write_inputs("mr_task_env", tmp_path / "input")
    twin = corpus.mrjob_twin("mr_task_env", tmp_path)
    expected, _ = corpus.run_mrjob_file(twin, [*inputs, *args], tmp_path, runner="local")
    assert corpus.run_mapfold("mr_task_env", tmp_path / "ours", processes)[0] == expected
