"""``spark()`` steps: the job's own PySpark code, run with mapfold's compat layer on every runner.

The reference is real mrjob 0.7.4's output on its spark runner (``-r spark``,
the installed PySpark's spark-submit), recorded by ``record_mrjob_spark.py``
(mrjob's inline and local runners cannot run spark steps, and its spark
runner takes a minute per job). Under ``spark-submit`` the same job file
runs its step with the real PySpark (``--spark``, mrjob's task mode).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mapfold.core.errors import MapfoldError
from mapfold.jobs import JobDefinitionError, MRJob, MRStep, SparkStep

HERE = Path(__file__).resolve().parent
NAME = "mr_spark_word_count"


def reference(name: str) -> tuple[list[bytes], list]:
    recorded = json.loads((HERE / "reference" / f"{name}.json").read_text(encoding="utf-8"))
    assert recorded["recorded_with"]["runner"] == "-r spark"
    return sorted(line.encode("utf-8") for line in recorded["lines"]), recorded["counters"]


def test_spark_step_equals_mrjob_spark_and_serial(runner, serial_runner, corpus, tmp_path):
    expected_lines, expected_counters = reference(NAME)
    before = sys.modules.get("pyspark")
    lines, counters = corpus.run_mapfold(NAME, tmp_path / "run", runner)
    assert sys.modules.get("pyspark") is before  # the compat layer stood in for pyspark during the step only
    assert lines and lines == expected_lines and counters == expected_counters
    if runner.name != "serial":
        assert (lines, counters) == corpus.run_mapfold(NAME, tmp_path / "serial", serial_runner)


def test_spark_step_from_the_command_line(corpus, tmp_path):
    inputs, _ = corpus.write_inputs(NAME, tmp_path / "input")
    done = subprocess.run([sys.executable, str(corpus.path / f"{NAME}.py"), "-r", "local", *inputs],
                          capture_output=True, env=corpus.environment(), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert sorted(done.stdout.splitlines()) == reference(NAME)[0]


def test_spark_submit_runs_the_step_with_real_pyspark(corpus, tmp_path):
    """``spark-submit job.py --spark --step-num 0 INPUT OUTPUT``: mrjob's task mode, the real PySpark."""
    submit = Path(sys.executable).parent / "spark-submit"
    assert submit.exists(), "PySpark's spark-submit is missing (pip install 'mapfold[spark]')"
    inputs, _ = corpus.write_inputs(NAME, tmp_path / "input")
    out = tmp_path / "out"
    env = {**corpus.environment(), "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    done = subprocess.run([str(submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                           str(corpus.path / f"{NAME}.py"), "--spark", "--step-num", "0", ",".join(inputs), str(out)],
                          capture_output=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    lines = sorted(line for part in sorted(out.glob("part-*")) for line in part.read_bytes().splitlines())
    assert lines == reference(NAME)[0]


class TwoSparkSteps(MRJob):
    """Two spark steps: the second reads the first's output folder."""

    def steps(self):
        return [SparkStep(self.lengths), SparkStep(self.total, spark_args=["--executor-memory", "1G"])]

    def lengths(self, input_path, output_path):
        from pyspark import SparkContext

        sc = SparkContext(appName="lengths")
        sc.textFile(input_path).map(len).saveAsTextFile(output_path)

    def total(self, input_path, output_path):
        from pyspark import SparkContext

        sc = SparkContext(appName="total")
        total = sc.accumulator(0)

        def add(line):
            nonlocal total
            total += int(line)

        sc.textFile(input_path).foreach(add)
        sc.parallelize([f"total\t{total.value}"], 1).saveAsTextFile(output_path)


def test_spark_steps_chain_on_every_runner(runner, tmp_path):
    (tmp_path / "in.txt").write_text("ab\ncde\n\nfghi\n")
    job = TwoSparkSteps(args=[str(tmp_path / "in.txt")])
    assert [step.description(n)["type"] for n, step in enumerate(job.steps())] == ["spark", "spark"]
    import mapfold

    with mapfold.runner(runner), job.make_runner() as job_runner:
        job_runner.run()
        assert b"".join(job_runner.cat_output()) == b"total\t9\n"
        assert job_runner.counters() == [{}, {}]


class SparkOnly(MRJob):
    def spark(self, input_path, output_path):
        pass


class SparkAndMapper(SparkOnly):
    def mapper(self, key, value):
        yield key, value


class Mixed(MRJob):
    def steps(self):
        return [MRStep(mapper=self.mapper), SparkStep(self.spark)]

    def spark(self, input_path, output_path):
        pass

    def mapper(self, key, value):
        yield key, value


def test_default_steps_and_refusals(tmp_path):
    (tmp_path / "in.txt").write_text("x\n")
    step, = SparkOnly(args=[]).steps()
    assert isinstance(step, SparkStep) and step.description(0) == {"type": "spark", "spark_args": []}
    with pytest.raises(JobDefinitionError, match="spark"):
        SparkAndMapper(args=[]).steps()
    with pytest.raises(JobDefinitionError, match="streaming task"):
        SparkOnly(args=["--mapper"]).run_mapper(0)
    with pytest.raises(MapfoldError, match="mixes spark steps and MRStep"):
        Mixed(args=[str(tmp_path / "in.txt"), "-r", "inline"]).make_runner().run()
    with pytest.raises(MapfoldError, match="by path"):
        SparkOnly(args=["-r", "inline"]).make_runner().run()
    with pytest.raises(TypeError, match="unexpected keyword argument 'reducer'"):
        SparkStep(len, reducer=len)
