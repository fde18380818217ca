"""mrjob.conf files: ``-c``, mrjob's search path, ``include``, the options mapfold maps, warnings for the rest."""
from __future__ import annotations

import json
import os
import sys
import warnings

import pytest

from mapfold.jobs import MRJob
from mapfold.jobs.conf import ConfError, ConfWarning, runner_options


class MREnv(MRJob):
    def mapper(self, _, line):
        yield "conf", [os.environ.get("my_key"), os.environ.get("GREETING"), os.environ.get("mapreduce_job_reduces")]

    def reducer(self, key, values):
        yield key, sorted(set(map(tuple, values)))


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("a\nb\nc\nd\n")
    return str(path)


@pytest.fixture(autouse=True)
def _no_user_conf(monkeypatch, tmp_path):
    # the machine's own ~/.mrjob.conf must not leak into these tests
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MRJOB_CONF", raising=False)


CONF = """
runners:
  local:
    num_cores: 1
    jobconf:
      my.key: from-conf
      mapreduce.job.reduces: 3
    cmdenv:
      GREETING: hello
  inline:
    jobconf:
      my.key: inline-conf
"""


def run(args):
    with MREnv(args=args).make_runner() as runner:
        runner.run()
        return b"".join(runner.cat_output()), runner


def test_options_of_the_runners_section_apply(text, tmp_path):
    conf = tmp_path / "mrjob.conf"
    conf.write_text(CONF)
    out = tmp_path / "out"
    output, runner = run([text, "-r", "local", "-c", str(conf), "-o", str(out)])
    assert output == b'"conf"\t[["from-conf", "hello", "3"]]\n'
    assert len(list(out.glob("part-*"))) == 3  # mapreduce.job.reduces from the file
    assert runner.conf_options()["num_cores"] == 1
    assert run([text, "-r", "inline", "-c", str(conf)])[0] == b'"conf"\t[["inline-conf", null, null]]\n'


def test_the_command_line_wins(text, tmp_path):
    conf = tmp_path / "mrjob.conf"
    conf.write_text(CONF)
    output, _ = run([text, "-r", "local", "-c", str(conf), "-D", "my.key=cli", "--cmdenv", "GREETING=hi"])
    assert output == b'"conf"\t[["cli", "hi", "3"]]\n'


def test_search_path_and_no_conf(text, tmp_path, monkeypatch):
    conf = tmp_path / "found.conf"
    conf.write_text(CONF)
    monkeypatch.setenv("MRJOB_CONF", str(conf))
    assert run([text, "-r", "local"])[0] == b'"conf"\t[["from-conf", "hello", "3"]]\n'
    assert run([text, "-r", "local", "--no-conf"])[0] == b'"conf"\t[[null, null, null]]\n'
    monkeypatch.delenv("MRJOB_CONF")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".mrjob.conf").write_text(CONF)
    assert run([text, "-r", "local"])[0] == b'"conf"\t[["from-conf", "hello", "3"]]\n'


def test_unknown_options_warn_naming_option_and_file_and_change_nothing(text, tmp_path):
    conf = tmp_path / "mrjob.conf"
    conf.write_text("runners:\n  local:\n    setup: ['export X=1']\n    sort_bin: [sort]\n")
    with pytest.warns(ConfWarning) as caught:
        output, _ = run([text, "-r", "local", "-c", str(conf)])
    messages = sorted(str(w.message) for w in caught)
    assert messages == [f"mrjob.conf option 'setup' (runners.local in {conf}) is not used by mapfold: ignored",
                        f"mrjob.conf option 'sort_bin' (runners.local in {conf}) is not used by mapfold: ignored"]
    assert output == b'"conf"\t[[null, null, null]]\n'


def test_includes_are_read_first_relative_to_the_file(tmp_path):
    (tmp_path / "base.conf").write_text("runners:\n  local:\n    num_cores: 4\n    cmdenv: {A: base, B: base}\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "mrjob.conf").write_text("include: ../base.conf\nrunners:\n  local:\n    cmdenv: {B: mine}\n")
    assert runner_options([str(sub / "mrjob.conf")], ["local"]) == {"num_cores": 4, "cmdenv": {"A": "base", "B": "mine"}}


def test_json_without_pyyaml_and_a_hint_for_yaml(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml fails
    as_json = tmp_path / "mrjob.json"
    as_json.write_text(json.dumps({"runners": {"local": {"num_cores": 2}}}))
    assert runner_options([str(as_json)], ["local"]) == {"num_cores": 2}
    as_yaml = tmp_path / "mrjob.conf"
    as_yaml.write_text(CONF)
    with pytest.raises(ConfError, match=r"needs PyYAML: pip install 'mapfold\[jobs\]'"):
        runner_options([str(as_yaml)], ["local"])


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfError, match="nope.conf: cannot be read"):
        runner_options([str(tmp_path / "nope.conf")], ["local"])


def test_hadoop_options_from_the_file(tmp_path, corpus):
    conf = tmp_path / "mrjob.conf"
    conf.write_text("runners:\n  hadoop:\n    hadoop_bin: [/opt/hadoop/bin/hadoop, --config, /etc/h]\n"
                    "    task_python_bin: python3.12\n    hadoop_tmp_dir: tmp/me\n")
    job = corpus.job_class(corpus.path / "mr_word_count.py")(args=["hdfs:///in", "-r", "hadoop", "-c", str(conf)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with job.make_runner() as runner:
            hadoop = runner.hadoop_job()
    assert hadoop.hadoop_bin() == ["/opt/hadoop/bin/hadoop", "--config", "/etc/h"]
    command = hadoop.commands(hadoop.hadoop_bin(), "/s.jar")[0]
    assert command[command.index("-mapper") + 1].startswith("python3.12 mr_word_count.py --step-num=0 --mapper")
    assert command[command.index("-output") + 1].startswith("tmp/me/")
