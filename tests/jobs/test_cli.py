"""``python job.py ...``: output on stdout in the output protocol, counters on stderr, exit status."""
from __future__ import annotations

import subprocess
import sys

import pytest


def run(corpus, script, *args, cwd, stdin=None, mapfold=True):
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, cwd=cwd, input=stdin,
                          env=corpus.environment(with_mapfold=mapfold), timeout=300)


@pytest.mark.parametrize("choice", ["inline", "local", "serial", "processes"])
def test_stdout_equals_mrjobs_command_line(choice, corpus, tmp_path):
    pytest.importorskip("mrjob", reason="compared with real mrjob: pip install 'mrjob>=0.7.4'")
    inputs, _ = corpus.write_inputs("mr_most_used_word", tmp_path / "input")
    twin = corpus.mrjob_twin("mr_most_used_word", tmp_path)
    theirs = run(corpus, twin, "-r", "inline", "--no-conf", *inputs, cwd=tmp_path, mapfold=False)
    ours = run(corpus, corpus.path / "mr_most_used_word.py", "-r", choice, *inputs, cwd=tmp_path)
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr.decode()
    assert ours.stdout == theirs.stdout == b'5\t"fox"\n'  # one reducer key: the order is fixed too


def test_stdin_output_dir_and_counters(corpus, tmp_path):
    inputs, args = corpus.write_inputs("mr_passthru", tmp_path / "input")
    script = corpus.path / "mr_passthru.py"
    text = open(inputs[0], "rb").read()
    piped = run(corpus, script, "-", "-r", "serial", *args, cwd=tmp_path, stdin=text)
    named = run(corpus, script, inputs[0], "-r", "serial", *args, cwd=tmp_path)
    assert piped.returncode == named.returncode == 0, piped.stderr.decode()
    assert sorted(piped.stdout.splitlines()) == sorted(named.stdout.splitlines())
    assert b'"dog"\t2' in piped.stdout.splitlines()
    assert "skipped" in piped.stderr.decode() and "stop word=" in piped.stderr.decode()

    written = run(corpus, script, inputs[0], "-r", "local", "--num-cores", "2", "-o", str(tmp_path / "out"),
                  *args, cwd=tmp_path)
    assert written.returncode == 0 and written.stdout == b"", written.stderr.decode()
    parts = sorted((tmp_path / "out").glob("part-*"))
    assert sorted(b"".join(p.read_bytes() for p in parts).splitlines()) == sorted(named.stdout.splitlines())
    assert (tmp_path / "out" / "_SUCCESS").exists()

    quiet = run(corpus, script, inputs[0], "-r", "serial", "--no-cat-output", "-q", *args, cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == b"" and quiet.stderr == b""


def test_failures_exit_non_zero_with_a_message(corpus, tmp_path):
    bad = tmp_path / "mr_bad.py"
    bad.write_text("from mapfold.jobs import MRJob\n\n"
                   "class MRBad(MRJob):\n"
                   "    def mapper(self, _, line):\n"
                   "        raise ValueError('no good: ' + line)\n\n"
                   "if __name__ == '__main__':\n"
                   "    MRBad.run()\n")
    (tmp_path / "in.txt").write_text("x\n")
    failed = run(corpus, bad, "in.txt", "-r", "serial", cwd=tmp_path)
    assert failed.returncode == 1
    assert "MRBad failed: ValueError: no good: x" in failed.stderr.decode()
    missing = run(corpus, bad, "in.txt", "-r", "nowhere", cwd=tmp_path)
    assert missing.returncode == 1 and "invalid choice: 'nowhere'" in missing.stderr.decode()
    exists = run(corpus, corpus.path / "mr_word_count.py", "in.txt", "-r", "serial", "-o", str(tmp_path),
                 cwd=tmp_path)
    assert exists.returncode == 1 and "already exists" in exists.stderr.decode()


def test_python_api_parse_output_and_counters(corpus, tmp_path):
    inputs, args = corpus.write_inputs("mr_passthru", tmp_path / "input")
    job = corpus.job_class(corpus.path / "mr_passthru.py")(args=[*inputs, "-r", "inline", *args])
    with job.make_runner() as runner:
        runner.run()
        pairs = dict(job.parse_output(runner.cat_output()))
        counters = runner.counters()
    assert pairs["dog"] == 2 and "the" not in pairs
    assert counters == [{"skipped": {"stop word": 7, "too short": 8}}]
