"""Shell substeps (``*_cmd``, ``*_pre_filter``) beyond the corpus: failures, counters, task mode."""
from __future__ import annotations

import subprocess
import sys

import pytest

from mapfold.jobs import MRJob, MRStep
from mapfold.jobs.commands import SubstepCommandError


class Failing(MRJob):
    def steps(self):
        return [MRStep(mapper_cmd="grep nothing-matches", reducer=self.reducer)]

    def reducer(self, key, values):
        yield key, len(list(values))


class Counting(MRJob):
    def steps(self):
        # a command reports counters on stderr, as Hadoop Streaming reads them
        return [MRStep(mapper_cmd=["sh", "-c", "cat; echo reporter:counter:lines,seen,2 >&2"])]


class MissingFilter(MRJob):
    def steps(self):
        return [MRStep(mapper_pre_filter="no-such-command-here", mapper=self.mapper)]

    def mapper(self, _, line):
        yield line, 1


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("a\tb\nc\td\n")
    return str(path)


@pytest.mark.parametrize("name", ["serial", "processes"])
def test_a_failing_command_names_step_and_option(name, text):
    with pytest.raises(SubstepCommandError, match=r"step 0 mapper_cmd 'grep nothing-matches' exited with status 1"):
        with Failing(args=[text, "-r", name]).make_runner() as runner:
            runner.run()


@pytest.mark.parametrize("name", ["serial", "processes"])
def test_commands_report_counters(name, text):
    with Counting(args=[text, "-r", name]).make_runner() as runner:
        runner.run()
        assert b"".join(runner.cat_output()) == b"a\tb\nc\td\n"
        assert runner.counters() == [{"lines": {"seen": 2}}]


def test_a_pre_filter_that_cannot_run_fails(text):
    with pytest.raises(SubstepCommandError, match="step 0 mapper_pre_filter 'no-such-command-here' exited with "
                                                  "status 127"):
        with MissingFilter(args=[text, "-r", "serial"]).make_runner() as runner:
            runner.run()


def test_task_mode_runs_the_command(corpus, tmp_path):
    script = corpus.path / "mr_shell_substeps.py"
    done = subprocess.run([sys.executable, str(script), "--mapper"], input=b"k\tv\nalone\n", capture_output=True,
                          env=corpus.environment(), timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b"k\nalone\n"  # the step's mapper_cmd, cut -f 1
