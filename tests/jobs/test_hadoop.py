"""``-r hadoop``: the streaming commands, golden and compared with real mrjob 0.7.4's; running them."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mapfold.jobs.hadoop import HadoopError

JOBFILE = Path(__file__).parent / "jobfiles" / "mr_golden.py"
ARGS = ["-r", "hadoop", "hdfs:///in/a.txt", "-o", "hdfs:///out", "--min-length", "3", "--stop-words=/etc/stop.txt",
        "-D", "x.y=1", "--cmdenv", "TZ=UTC", "--cmdenv", "A=b", "--hadoop-tmp-dir", "tmp/x"]
COMMON = ["-D", "mapreduce.job.maps=4", "-D", "mapreduce.partition.keypartitioner.options=-k1,1",
          "-D", "my.flag=true", "-D", "stream.num.map.output.key.fields=2", "-D", "x.y=1",
          "-partitioner", "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner",
          "-cmdenv", "A=b", "-cmdenv", "TZ=UTC"]
TASK = "python3 mr_golden.py --step-num=0 --{} --min-length 3 --stop-words stop.txt"
GOLDEN = [
    ["hadoop", "jar", "/s.jar", "-files", "FILES", "-D", "mapreduce.job.maps=4", "-D", "mapreduce.job.reduces=2",
     *COMMON[2:], "-input", "hdfs:///in/a.txt", "-output", "TMP/step-output/0000",
     "-mapper", "/bin/sh -ex -c 'grep -v '\\''^#'\\'' | " + TASK.format("mapper") + "'",
     "-combiner", TASK.format("combiner"), "-reducer", TASK.format("reducer")],
    ["hadoop", "jar", "/s.jar", "-files", "FILES", *COMMON, "-input", "TMP/step-output/0000",
     "-output", "hdfs:///out", "-mapper", "cat", "-reducer", "cut -f 2"],
]


def normalized(commands: list[list[str]], job_file: str) -> list[list[str]]:
    """Commands with what differs by run and by runner replaced: the uploaded files' URIs, the job's tmp dir."""
    text = "\x00".join("\x01".join(command) for command in commands)
    text = re.sub(r"-files\x01[^\x01]*", "-files\x01FILES", text)
    text = re.sub(r"(hdfs:///user/[^/]+/)?tmp/x/[^/\x01]+", "TMP", text)
    text = text.replace(Path(job_file).stem, "mr_golden")
    return [command.split("\x01") for command in text.split("\x00")]


def our_commands(corpus):
    job = corpus.job_class(JOBFILE)(args=ARGS)
    with job.make_runner() as runner:
        hadoop = runner.hadoop_job()
        assert hadoop._files() == [f"{JOBFILE}#mr_golden.py", "/etc/stop.txt#stop.txt"]
        return hadoop.commands(["hadoop"], "/s.jar")


def test_commands_are_golden(corpus):
    assert normalized(our_commands(corpus), str(JOBFILE)) == GOLDEN


_MRJOB_COMMANDS = """
import importlib, json, os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
from mrjob.hadoop import HadoopJobRunner
HadoopJobRunner.get_hadoop_version = lambda self: "3.3.6"  # no cluster to ask
module = importlib.import_module(os.path.basename(sys.argv[1])[:-3])
job = module.MRGolden(args=["--no-conf", "--hadoop-bin", "hadoop", "--hadoop-streaming-jar", "/s.jar", *sys.argv[2:]])
runner = job.make_runner()
print(json.dumps([runner._args_for_streaming_step(n) for n in range(2)]))
"""


def test_commands_equal_mrjobs(corpus, tmp_path):
    pytest.importorskip("mrjob", reason="compared with real mrjob: pip install 'mrjob>=0.7.4'")
    twin = tmp_path / "mrj_golden.py"
    twin.write_text(JOBFILE.read_text().replace("from mapfold.jobs import MRJob, MRStep",
                                                "from mrjob.job import MRJob\nfrom mrjob.step import MRStep"))
    done = subprocess.run([sys.executable, "-c", _MRJOB_COMMANDS, str(twin), *ARGS], capture_output=True,
                          env=corpus.environment(with_mapfold=False), timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    import json

    theirs = normalized(json.loads(done.stdout), str(twin))
    assert theirs == GOLDEN == normalized(our_commands(corpus), str(JOBFILE))


def test_no_hadoop_is_a_clear_error(corpus, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    for name in ("HADOOP_HOME", "HADOOP_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    job = corpus.job_class(JOBFILE)(args=ARGS)
    with pytest.raises(HadoopError, match="no hadoop binary.*--hadoop-bin"), job.make_runner() as runner:
        runner.run()


def test_runs_and_prints_each_step_with_a_hadoop_binary(corpus, tmp_path, capfd):
    # a stand-in for hadoop: records its arguments, and cats an "output" for hadoop fs -cat
    log = tmp_path / "calls.txt"
    fake = tmp_path / "bin" / "hadoop"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\nif [ "$1" = fs ]; then printf \'"a"\\t1\\n\'; fi\n')
    fake.chmod(0o755)
    jar = tmp_path / "share" / "hadoop" / "tools" / "lib" / "hadoop-streaming-3.3.6.jar"
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"")
    job = corpus.job_class(JOBFILE)(args=[*ARGS, "--hadoop-bin", str(fake)])
    with job.make_runner() as runner:
        runner.run()
        assert b"".join(runner.cat_output()) == b'"a"\t1\n'
        assert runner.counters() == [{}, {}]
    calls = log.read_text().splitlines()
    assert [call.split()[:2] for call in calls] == [["jar", str(jar)], ["jar", str(jar)], ["fs", "-cat"]]
    assert calls[2].endswith("hdfs:///out/part-*")
    printed = capfd.readouterr().err
    assert "Running step 1 of 2...\n> " in printed and "Running step 2 of 2...\n> " in printed
    assert f"{fake} jar {jar} -files" in printed


def test_the_command_line_says_what_is_missing(corpus, tmp_path):
    env = {**corpus.environment(), "PATH": "/usr/bin:/bin"}
    env.pop("HADOOP_HOME", None)
    env.pop("HADOOP_PREFIX", None)
    done = subprocess.run([sys.executable, str(JOBFILE), "-r", "hadoop", "hdfs:///in", "--no-conf"],
                          capture_output=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == ("MRGolden: -r hadoop: no hadoop binary: none on PATH and no "
                                            "$HADOOP_HOME/bin/hadoop; install Hadoop, or name it with --hadoop-bin")
