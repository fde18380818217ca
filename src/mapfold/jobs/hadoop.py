"""``-r hadoop``: a job's steps as ``hadoop jar <streaming jar> ...`` commands, in mrjob's argument order.

For each step, as mrjob's Hadoop runner builds it: ``-files`` (the job's
script and its file arguments, each ``path#name``), ``-D
mapreduce.job.reduces=0`` for a step without a reducer, the step's
``-D KEY=VALUE`` (``SORT_VALUES``'s properties, ``JOBCONF``, ``-D``, the
step's ``jobconf``; sorted), ``-partitioner`` for ``SORT_VALUES``,
``-cmdenv KEY=VALUE`` (sorted), ``-input`` (the job's inputs, then the previous step's output),
``-output``, and ``-mapper``/``-combiner``/``-reducer``: the job file's
own tasks (``python3 job.py --step-num=N --mapper`` with the job's
passthrough and file arguments), its commands, or its pre-filters piped
into them. A step without a mapper gets ``cat``. A ``mapper_raw`` step
is refused: mrjob runs it with a setup script and input manifest of its
own, which mapfold does not ship.

The nodes run the job file with their ``python3`` (``--python-bin``), so
mapfold must be installed there, as mrjob had to be.

>>> hadoop_escape("--step-num=0"), hadoop_escape("grep -v 'x'")
('--step-num=0', "'grep -v '\\\\''x'\\\\'''")
"""
from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import sys
from typing import Any, Iterator

from ..core.errors import MapfoldError
from .commands import substep_args
from .taskenv import java_str

__all__ = ["HadoopError", "HadoopJob", "hadoop_escape", "task_extra_args", "SORT_VALUES_PARTITIONER"]

SORT_VALUES_PARTITIONER = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"
SORT_VALUES_JOBCONF = {"mapreduce.partition.keypartitioner.options": "-k1,1", "stream.num.map.output.key.fields": "2"}
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=-")
_JAR_GLOBS = ("share/hadoop/tools/lib/hadoop-streaming*.jar", "contrib/streaming/hadoop-streaming*.jar",
              "hadoop-streaming*.jar")


_SETTINGS = ("hadoop_bin", "hadoop_streaming_jar", "hadoop_tmp_dir", "python_bin")


def _argv(value: str | list) -> list[str]:
    """A command as argv: a string split as a shell would, a list (mrjob.conf's form) as given."""
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


class HadoopError(MapfoldError):
    """``-r hadoop`` cannot run: no ``hadoop`` binary, no streaming jar, a step that failed."""


def hadoop_escape(arg: str) -> str:
    """One argument of a streaming command, quoted as Hadoop Streaming splits it (only when needed)."""
    if arg and set(arg) <= _SAFE:
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def task_extra_args(job: Any) -> list[str]:
    """The job's passthrough and file arguments as given on its command line (files by their name
    in the task's working folder, where ``-files`` puts them), for every task's command line.

    >>> from mapfold.jobs import MRJob
    >>> class J(MRJob):
    ...     def configure_args(self):
    ...         super().configure_args()
    ...         self.add_passthru_arg("--min", type=int)
    ...         self.add_file_arg("--stop")
    >>> task_extra_args(J(args=["in.txt", "--min", "3", "--stop=/x/stop.txt", "-r", "local"]))
    ['--min', '3', '--stop', 'stop.txt']
    """
    parser = job.arg_parser
    wanted = {}
    for action in parser._actions:  # argparse keeps its actions here; mrjob reads them the same way
        if action.dest in job._passthru_arg_dests or action.dest in job._file_arg_dests:
            for option in action.option_strings:
                wanted[option] = action
    out: list[str] = []
    args = list(job._cl_args)
    i = 0
    while i < len(args):
        token = args[i]
        option, eq, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        action = wanted.get(option)
        i += 1
        if action is None:
            continue
        values: list[str] = []
        if eq:
            values = [inline]
        elif action.nargs != 0:
            values = args[i:i + 1]
            i += 1
        if action.dest in job._file_arg_dests:
            values = [os.path.basename(v) for v in values]
        out.append(option)
        out.extend(values)
    return out


class HadoopJob:
    """The streaming commands of one job and their run; ``commands()`` builds them without running.

    ``hadoop_bin`` (``--hadoop-bin``, else ``hadoop`` on ``PATH``) and the
    streaming jar (``--hadoop-streaming-jar``, else found under
    ``$HADOOP_HOME``/``$HADOOP_PREFIX``) are looked up only by ``run``.

    >>> from mapfold.jobs import MRJob
    >>> class MRCount(MRJob):
    ...     def mapper(self, _, line):
    ...         yield line, 1
    >>> hadoop = HadoopJob(MRCount(args=[]), ["hdfs:///in"], "hdfs:///out", {}, {"TZ": "UTC"}, "/jobs/count.py", "j1")
    >>> print(" ".join(hadoop.commands(["hadoop"], "streaming.jar")[0]))  # doctest: +NORMALIZE_WHITESPACE
    hadoop jar streaming.jar -files /jobs/count.py#count.py -D mapreduce.job.reduces=0 -cmdenv TZ=UTC
    -input hdfs:///in -output hdfs:///out -mapper python3 count.py --step-num=0 --mapper
    """

    def __init__(self, job: Any, inputs: list[str], output_dir: str, jobconf: dict, cmdenv: dict,
                 script: str | None, job_id: str, settings: dict | None = None) -> None:
        self.job, self.inputs, self.output_dir = job, inputs, output_dir
        self.jobconf, self.cmdenv, self.script, self.job_id = jobconf, cmdenv, script, job_id
        # hadoop_bin, hadoop_streaming_jar, hadoop_tmp_dir, python_bin: the command line's, else mrjob.conf's
        self.settings = {name: getattr(job.options, name, None) for name in _SETTINGS}
        for name, value in (settings or {}).items():
            if name in _SETTINGS and self.settings[name] is None:
                self.settings[name] = value
        self.python_bin = _argv(self.settings["python_bin"] or "python3")
        self.tmp_dir = f"{self.settings['hadoop_tmp_dir'] or 'tmp/mapfold'}/{job_id}"

    # -- building -----------------------------------------------------------------
    def _files(self) -> list[str]:
        files = [self.script] if self.script else []
        for dest in sorted(self.job._file_arg_dests):
            value = getattr(self.job.options, dest, None)
            files.extend(value if isinstance(value, list) else [] if value is None else [value])
        return [f"{os.path.abspath(f)}#{os.path.basename(f)}" for f in files]

    def _step_output(self, num: int, steps: int) -> str:
        return self.output_dir if num == steps - 1 else f"{self.tmp_dir}/step-output/{num:04d}"

    def _substep(self, desc: dict, num: int, kind: str) -> str:
        name = os.path.basename(self.script) if self.script else "job.py"
        script = [*self.python_bin, name, f"--step-num={num}", f"--{kind}", *task_extra_args(self.job)]
        return " ".join(hadoop_escape(arg) for arg in substep_args(desc[kind], script))

    def step_args(self, num: int) -> list[str]:
        """What follows ``hadoop jar <jar>`` for step ``num``, in mrjob's order."""
        steps = self.job._checked_steps()
        step = steps[num]
        desc = step.description(num)
        if self.script is None:
            raise HadoopError("-r hadoop runs the job file's tasks on the nodes: the job must be defined in a file")
        if step["mapper_raw"]:
            raise HadoopError(f"step {num} uses mapper_raw, which -r hadoop does not run (mrjob's input manifest "
                              "and its setup script are not shipped); use -r local, or a mapper over lines")
        args: list[str] = []
        files = self._files()
        if files:
            args += ["-files", ",".join(files)]
        if "reducer" not in desc:
            args += ["-D", "mapreduce.job.reduces=0"]
        conf = {**(SORT_VALUES_JOBCONF if self.job.sort_values() else {}), **self.jobconf, **(step["jobconf"] or {})}
        for key, value in sorted(conf.items()):
            if value is not None:
                args += ["-D", f"{key}={java_str(value)}"]
        if self.job.sort_values():
            args += ["-partitioner", SORT_VALUES_PARTITIONER]
        for key, value in sorted(self.cmdenv.items()):
            args += ["-cmdenv", f"{key}={value}"]
        inputs = self.inputs if num == 0 else [self._step_output(num - 1, len(steps))]
        for uri in inputs:
            args += ["-input", uri]
        args += ["-output", self._step_output(num, len(steps))]
        args += ["-mapper", self._substep(desc, num, "mapper") if "mapper" in desc else "cat"]
        if "combiner" in desc:
            args += ["-combiner", self._substep(desc, num, "combiner")]
        if "reducer" in desc:
            args += ["-reducer", self._substep(desc, num, "reducer")]
        return args

    def commands(self, hadoop_bin: list[str] | None = None, jar: str = "<streaming jar>") -> list[list[str]]:
        """Every step's whole command: ``hadoop jar <jar> ...``."""
        hadoop_bin = hadoop_bin or ["hadoop"]
        return [[*hadoop_bin, "jar", jar, *self.step_args(num)] for num in range(len(self.job._checked_steps()))]

    # -- running ------------------------------------------------------------------
    def hadoop_bin(self) -> list[str]:
        """``--hadoop-bin``, else ``hadoop`` on ``PATH``, else ``$HADOOP_HOME/bin/hadoop``; an error if none."""
        given = self.settings["hadoop_bin"]
        if given:
            return _argv(given)
        found = shutil.which("hadoop")
        for home in (os.environ.get("HADOOP_HOME"), os.environ.get("HADOOP_PREFIX")):
            if not found and home and os.access(os.path.join(home, "bin", "hadoop"), os.X_OK):
                found = os.path.join(home, "bin", "hadoop")
        if not found:
            raise HadoopError("-r hadoop: no hadoop binary: none on PATH and no $HADOOP_HOME/bin/hadoop; "
                              "install Hadoop, or name it with --hadoop-bin")
        return [found]

    def streaming_jar(self, hadoop_bin: list[str]) -> str:
        """``--hadoop-streaming-jar``, else the first ``hadoop-streaming*.jar`` under Hadoop's home."""
        given = self.settings["hadoop_streaming_jar"]
        if given:
            return given
        homes = [os.environ.get(name) for name in ("HADOOP_HOME", "HADOOP_PREFIX", "HADOOP_INSTALL")]
        homes.append(os.path.dirname(os.path.dirname(os.path.realpath(hadoop_bin[0]))))
        for home in filter(None, homes):
            for pattern in _JAR_GLOBS:
                jars = sorted(glob.glob(os.path.join(home, pattern)))
                if jars:
                    return jars[0]
        raise HadoopError("-r hadoop: no Hadoop Streaming jar found under "
                          f"{', '.join(filter(None, homes))}; name it with --hadoop-streaming-jar")

    def run(self) -> None:
        """Run each step's command (printed on stderr first, as ``> hadoop jar ...``); a failed step raises."""
        hadoop_bin = self.hadoop_bin()
        jar = self.streaming_jar(hadoop_bin)
        commands = self.commands(hadoop_bin, jar)
        for num, command in enumerate(commands):
            sys.stderr.write(f"Running step {num + 1} of {len(commands)}...\n> {shlex.join(command)}\n")
            sys.stderr.flush()
            status = subprocess.run(command).returncode
            if status != 0:
                raise HadoopError(f"step {num + 1} of {len(commands)} failed: {command[0]} exited with status "
                                  f"{status}")

    def cat_output(self) -> Iterator[bytes]:
        """The output's lines, read with ``hadoop fs -cat OUTPUT/part-*``."""
        command = [*self.hadoop_bin(), "fs", "-cat", f"{self.output_dir}/part-*"]
        with subprocess.Popen(command, stdout=subprocess.PIPE) as proc:
            yield from proc.stdout
        if proc.returncode != 0:
            raise HadoopError(f"{shlex.join(command)} exited with status {proc.returncode}")
