"""Hadoop Streaming task mode writes what mrjob's does, stdout and the ``reporter:`` lines on stderr."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mapfold.jobs import MRJob, UsageError


def task(corpus, script, *args, stdin: bytes, mapfold=True):
    done = subprocess.run([sys.executable, str(script), *args], input=stdin, capture_output=True,
                          env=corpus.environment(with_mapfold=mapfold), timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout, done.stderr


@pytest.mark.parametrize("substep", ["--mapper", "--reducer"])
def test_task_streams_and_counters_equal_mrjobs(substep, corpus, tmp_path):
    pytest.importorskip("mrjob", reason="compared with real mrjob: pip install 'mrjob>=0.7.4'")
    inputs, args = corpus.write_inputs("mr_passthru", tmp_path / "input")
    twin = corpus.mrjob_twin("mr_passthru", tmp_path)
    ours_script = corpus.path / "mr_passthru.py"
    data = open(inputs[0], "rb").read()
    if substep == "--reducer":  # the reducer's input: the mapper's output, sorted
        data = b"".join(sorted(task(corpus, ours_script, "--mapper", *args, stdin=data)[0].splitlines(True)))
    ours = task(corpus, ours_script, substep, *args, stdin=data)
    theirs = task(corpus, twin, substep, *args, stdin=data, mapfold=False)
    assert ours[0] == theirs[0]
    reporter = [line for line in theirs[1].splitlines() if line.startswith(b"reporter:")]
    assert reporter  # counters (mapper) or status lines (reducer) were written
    assert [line for line in ours[1].splitlines() if line.startswith(b"reporter:")] == reporter


def test_reduce_tasks_from_jobconf(corpus, tmp_path):
    inputs, _ = corpus.write_inputs("mr_word_count", tmp_path / "input")
    job = corpus.job_class(corpus.path / "mr_word_count.py")(
        args=[*inputs, "-r", "serial", "-D", "mapreduce.job.reduces=3", "-o", str(tmp_path / "out")])
    with job.make_runner() as runner:
        runner.run()
    assert len(list((tmp_path / "out").glob("part-*"))) == 3


def test_argument_errors_are_raised_not_exited():
    with pytest.raises(UsageError, match="unrecognized arguments: --nope"):
        MRJob(args=["--nope"])
    with pytest.raises(UsageError, match="KEY=VALUE"):
        MRJob(args=["-D", "novalue"]).jobconf()


def test_counter_amounts_must_be_integers():
    job = MRJob(args=[])
    job._mapfold_step = 0
    with pytest.raises(TypeError, match="amount must be an integer"):
        job.increment_counter("g", "c", 1.5)


def test_a_streaming_task_starts_without_the_engine(tmp_path):
    """A job file run as a Hadoop Streaming task (``--mapper``) imports the jobs
    layer's task code, not the Dataset engine, the io layer or fsspec (madoop and
    shell pipelines start one per task); the engine still loads at first use."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import runpy, sys\n"
        "sys.argv = [sys.argv[1], '--mapper']\n"
        "try:\n"
        "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('mapfold.dataset.dataset', 'mapfold.io.paths', 'mapfold.jobs.runner', 'fsspec')\n"
        "               if m in sys.modules)\n"
        "import mapfold\n"
        "print(heavy, mapfold.from_sequence([1, 2]).count(runner='serial'), file=sys.stderr)\n")
    script = Path(__file__).parent / "corpus" / "mr_word_count.py"
    done = subprocess.run([sys.executable, str(probe), str(script)], input=b"a b a\n", capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.splitlines() == [b'"a"\t1', b'"b"\t1', b'"a"\t1']
    assert done.stderr.decode().splitlines()[-1] == "[] 2"


def test_the_public_api_resolves_every_name_it_exports():
    import mapfold
    import mapfold.jobs

    for package in (mapfold, mapfold.jobs):
        assert all(getattr(package, name) is not None for name in package.__all__)
        assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        mapfold.nothing  # noqa: B018
