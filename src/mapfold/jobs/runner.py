"""``JobRunner``: a whole job as Dataset operations on a mapfold runner.

Each step becomes, on lines of protocol-encoded bytes:

* the map side: ``map_partitions`` of a :class:`~mapfold.jobs.tasks.MapTask`
  (mapper with init and final, then the combiner over that task's output);
  a later step without a mapper passes its lines on untouched, as Hadoop's
  identity mapper does;
* the reduce side, when the step has a reducer: ``(key bytes, line)``
  records, ``group_by_key`` (streaming groups, spilling past the memory
  budget), then ``map_partitions`` of a :class:`~mapfold.jobs.tasks.ReduceTask`.

The steps chain lazily into one plan; the output is written once, with
mapfold's atomic commit, as ``part-NNNNN`` files of bytes lines. Counters
come back tagged by step and are handed out per step, mrjob's shape.

>>> import tempfile, pathlib
>>> from mapfold.jobs import MRJob
>>> class MRLen(MRJob):
...     def mapper(self, _, line):
...         yield "chars", len(line)
...     def reducer(self, key, values):
...         yield key, sum(values)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "in.txt"
>>> _ = path.write_text("ab\\ncde\\n")
>>> with MRLen(args=[str(path), "-r", "inline"]).make_runner() as runner:
...     runner.run()
...     print(b"".join(runner.cat_output()))
b'"chars"\\t5\\n'
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any, BinaryIO, Iterator

from ..core.errors import MapfoldError
from ..dataset.sources import _dataset, from_sequence
from ..io.sinks import PartWriter, batches
from ..io.text import TextPartition, TextSource
from ..runners import get_runner, make_runner, runner as active_runner
from .conf import RUNNER_SECTIONS, conf_paths, runner_options
from .job import UsageError
from .spark import compat_pyspark
from .step import SparkStep
from .streaming import expand_inputs
from .taskenv import SORT_VALUES_JOBCONF, JobEnvironment, make_job_id
from .protocols import _text
from .tasks import MapTask, RawMapTask, ReduceTask, LATIN1_BYTES, key_and_value, object_shuffle, reads_text

__all__ = ["JobRunner", "RUNNER_NAMES"]

# mrjob's runner names and their mapfold meaning: inline runs in this
# process, local in local worker processes
RUNNER_NAMES = {"inline": "serial", "local": "processes"}
REDUCE_TASKS_KEYS = ("mapreduce.job.reduces", "mapred.reduce.tasks")


class _LineWriter(PartWriter):
    """Lines of bytes, each ended by ``\\n``, into one ``part-NNNNN`` per partition."""

    def write(self, f: BinaryIO, iterator: Iterator) -> int:
        written = 0
        for batch in batches(iterator):
            f.write(b"\n".join(batch) + b"\n")
            written += len(batch)
        return written


class _SplitSource(TextSource):
    """Text input cut as Hadoop and mrjob cut it: every split holds one file's byte range, never several
    small files packed together, so each map task has one ``mapreduce_map_input_file``."""

    def segments(self) -> list:
        cached = self.__dict__.get("_segments")
        if cached is None:
            cached = self.__dict__["_segments"] = [[segment] for part in super().segments() for segment in part]
        return cached

    def splits(self) -> tuple:
        """``(file, start, length)`` of each partition, in order."""
        out = []
        for (segment,) in self.segments():
            end = segment.size if segment.end < 0 else segment.end
            out.append((segment.path, segment.start, max(end - segment.start, 0)))
        return tuple(out)


class _TextLinePartition(TextPartition):
    """A split's lines decoded by mrjob's rule for text input, UTF-8 else latin-1 (``protocols._text``):
    a block that is all UTF-8 is decoded and split once; only a block with a stray byte goes line by line."""

    def _decode_lines(self, offset: int, block: bytes, cursor: Any) -> list:
        pieces = block.split(b"\n")
        if pieces and pieces[-1] == b"":
            pieces.pop()
        lines = list(map(_text, pieces))
        return [line[:-1] if line.endswith("\r") else line for line in lines]


class _TextSplitSource(_SplitSource):
    """:class:`_SplitSource` whose lines are text already (a first mapper that reads text, see ``tasks.reads_text``)."""

    partition_class = _TextLinePartition


def _script_path(job: Any) -> str | None:
    """The file the job's class is defined in (its module's, or its methods' when the module is not registered)."""
    cls = type(job)
    path = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if path is None:
        for value in vars(cls).values():
            code = getattr(value, "__code__", None)
            if code is not None and os.path.exists(code.co_filename):
                return code.co_filename
    return path


class JobRunner:
    """Runs one job; a context manager that removes its temporary output at the end.

    ``run()`` runs every step; ``cat_output()`` yields the output's lines
    (bytes, each with its ``\\n``); ``counters()`` is one
    ``{group: {counter: amount}}`` dict per step.
    """

    def __init__(self, job: Any) -> None:
        self.job = job
        self._owned_runner = None
        self._tmp: str | None = None
        self._output_dir: str | None = None
        self._counters: list[dict] = []
        self._stats: dict = {}
        self._ran = False
        self._job_id = make_job_id(_script_path(job) or type(job).__name__)
        self._splits: tuple | None = None
        self._hadoop = None
        self._conf: dict | None = None

    def __enter__(self) -> "JobRunner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the temporary output (when no ``-o`` was given) and close a runner made here."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self._owned_runner is not None:
            self._owned_runner.close()
            self._owned_runner = None

    # -- mrjob.conf ------------------------------------------------------------------
    def conf_options(self) -> dict:
        """The options of the mrjob.conf files for this job's runner (``-c``, else mrjob's search path)."""
        if self._conf is None:
            options = self.job.options
            name = options.runner or get_runner(None)[0].name
            self._conf = runner_options(conf_paths(options.conf_path, options.no_conf),
                                        list(RUNNER_SECTIONS.get(name, (name,))))
        return self._conf

    def _jobconf(self) -> dict:
        """mrjob.conf's ``jobconf`` under the job's own (``JOBCONF``, ``-D``)."""
        return {**self.conf_options().get("jobconf", {}), **self.job.jobconf()}

    # -- choosing where it runs ---------------------------------------------------
    def _mapfold_runner(self):
        """``-r`` (mrjob's names mapped), else mapfold's own choice (argument, block, environment)."""
        options = self.job.options
        conf = self.conf_options()
        name = RUNNER_NAMES.get(options.runner, options.runner)
        settings: dict = {}
        memory_limit = options.memory_limit if options.memory_limit is not None else conf.get("memory_limit")
        if memory_limit is not None:
            settings["memory_limit"] = memory_limit
        num_cores = options.num_cores
        if num_cores is not None and name not in (None, "processes"):
            raise MapfoldError(f"--num-cores applies to the local/processes runner, not {options.runner!r}")
        if num_cores is None and name in (None, "processes"):
            num_cores = conf.get("num_cores")
        if num_cores is not None:
            name = name or "processes"
            settings["workers"] = int(num_cores)
        if name is None and not settings:
            return get_runner(None)[0]
        self._owned_runner = make_runner(name or get_runner(None)[0].name, **settings)
        return self._owned_runner

    # -- the plan ---------------------------------------------------------------
    def _input(self, raw: bool, text: bool = False):
        paths = self.job.options.args
        if raw:
            files = [os.path.abspath(p) for p in expand_inputs(paths)]
            if not files or "-" in paths:
                raise MapfoldError("a mapper_raw step reads files: name them (stdin cannot be read raw)")
            return from_sequence([(f, f) for f in files], partitions=len(files))
        if not paths or paths == ["-"]:
            lines = [line.rstrip(b"\r\n") for line in sys.stdin.buffer]
            return from_sequence(lines)
        if "-" in paths:
            raise MapfoldError("read stdin ('-') alone, or files only")
        if text:  # the first mapper reads text: lines decoded once per block, never made bytes
            source = _TextSplitSource(paths, encoding="utf-8")
            self._splits = source.splits()
            return _dataset(source)
        # latin-1 turns every byte into one code point, so the lines come back as their exact bytes
        source = _SplitSource(paths, encoding="latin-1")
        self._splits = source.splits()
        return _dataset(source).map(LATIN1_BYTES)

    def _reduce_tasks(self) -> int | None:
        conf = self._jobconf()
        for key in REDUCE_TASKS_KEYS:
            if key in conf:
                return max(1, int(conf[key]))
        return None

    def _output_path(self) -> str:
        """``-o DIR``, else a temporary folder of this runner's (made once)."""
        out = self.job.options.output_dir
        if out is None:
            if self._tmp is None:
                self._tmp = tempfile.mkdtemp(prefix="mapfold-job-")
            out = os.path.join(self._tmp, "output")
        return out

    def _files(self) -> tuple:
        """The paths of the job's file arguments (``add_file_arg``)."""
        found: list[str] = []
        for dest in sorted(self.job._file_arg_dests):
            value = getattr(self.job.options, dest, None)
            found.extend(value if isinstance(value, list) else [] if value is None else [value])
        return tuple(found)

    def _cmdenv(self) -> dict:
        env = {str(k): str(v) for k, v in self.conf_options().get("cmdenv", {}).items()}
        for item in self.job.options.cmdenv:
            key, sep, value = item.partition("=")
            if not sep:
                raise UsageError(f"--cmdenv takes KEY=VALUE, got {item!r}")
            env[key] = value
        return env

    def _job_env(self, steps: list) -> JobEnvironment:
        job = self.job
        conf = {**(SORT_VALUES_JOBCONF if job.sort_values() else {}), **self._jobconf()}
        return JobEnvironment(self._job_id, conf, tuple(step["jobconf"] or {} for step in steps),
                              self._cmdenv(), os.path.abspath(self._output_path()), self._files(), self._splits)

    def dataset(self):
        """The job's steps as one lazy Dataset of output lines (bytes)."""
        job = self.job
        steps = job._checked_steps()
        if not steps:
            raise MapfoldError(f"{type(job).__name__} has no steps: define mapper/reducer methods or steps()")
        sort_values = job.sort_values()
        partitions = self._reduce_tasks()
        raw = bool(steps[0]["mapper_raw"])
        text = not raw and bool(self.job.options.args) and self.job.options.args != ["-"] and reads_text(job)
        ds = self._input(raw=raw, text=text)
        job_env = self._job_env(steps)  # after the input: it knows the first step's splits
        for num, step in enumerate(steps):
            desc = step.description(num)
            # Python from mapper to reducer with one codec: the shuffle moves pairs, not lines (tasks.ShufflePairs)
            objects = "mapper" in desc and "reducer" in desc and object_shuffle(job, num, sort_values)
            if num == 0 and raw:
                ds = ds.map_partitions(RawMapTask(job, num, job_env, objects))
            elif "mapper" in desc:
                ds = ds.map_partitions(MapTask(job, num, job_env, objects, text_input=text and num == 0))
            if "reducer" in desc:
                ds = ds if objects else ds.map(key_and_value)
                ds = ds.group_by_key(partitions).map_partitions(ReduceTask(job, num, sort_values, job_env, objects))
        return ds

    # -- -r hadoop ---------------------------------------------------------------
    def hadoop_job(self):
        """The job as Hadoop Streaming commands (``-r hadoop``): a :class:`~mapfold.jobs.hadoop.HadoopJob`."""
        from .hadoop import HadoopJob

        job = self.job
        script = _script_path(job)
        hadoop = HadoopJob(job, list(job.options.args), job.options.output_dir or "", self._jobconf(),
                           self._cmdenv(), script, self._job_id, self.conf_options())
        if not hadoop.output_dir:  # mrjob's default: under the temporary folder
            hadoop.output_dir = f"{hadoop.tmp_dir}/output"
        return hadoop

    def _run_hadoop(self) -> None:
        if not self.job.options.args or "-" in self.job.options.args:
            raise MapfoldError("-r hadoop reads its input where Hadoop reads it: name the input paths (not stdin)")
        self._hadoop = self.hadoop_job()
        self._hadoop.run()
        self._counters = [{} for _ in self.job.steps()]  # Hadoop prints its counters in its own log
        self._ran = True

    # -- running ----------------------------------------------------------------
    def run(self) -> None:
        """Run every step and write the output (``-o DIR``, else a temporary folder)."""
        job = self.job
        if job.options.runner == "hadoop":
            return self._run_hadoop()
        steps = job._checked_steps(spark=True)
        if any(isinstance(step, SparkStep) for step in steps):
            return self._run_spark(steps)
        ds = self.dataset()
        runner = self._mapfold_runner()
        out = self._output_path()
        # an exception in the job's code reaches the caller with its own type (and a note on where)
        ds._save(out, "error", _LineWriter, "job output", runner, None, None)
        self._output_dir = out
        self._counters = self._per_step(ds.counters, len(job.steps()))
        record = ds._computed_by
        self._stats = dict(record.stats) if record is not None else {}
        self._ran = True

    def _run_spark(self, steps: list) -> None:
        """Spark steps, one after the other: each step's function gets the input paths (comma-separated) and
        an output folder, the next step that folder as its input (``jobs/spark.py``)."""
        if not all(isinstance(step, SparkStep) for step in steps):
            raise MapfoldError(f"{type(self.job).__name__} mixes spark steps and MRStep steps: not supported yet; "
                               "run them as two jobs, the second reading the first's output")
        paths = self.job.options.args
        if not paths or "-" in paths:
            raise MapfoldError("a spark step reads its input by path: name the input paths (not stdin)")
        runner = self._mapfold_runner()
        start = getattr(runner, "start", None)
        if start is not None:  # an engine starts before the step, outside the pyspark swap
            start()
        out = self._output_path()
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        input_path = ",".join(paths)
        for num, step in enumerate(steps):
            if num == len(steps) - 1:
                output_path = out
            else:
                if self._tmp is None:
                    self._tmp = tempfile.mkdtemp(prefix="mapfold-job-")
                output_path = os.path.join(self._tmp, f"step-{num}")
            with active_runner(runner), compat_pyspark():
                step.spark(input_path, output_path)
            input_path = output_path
        self._output_dir = out
        self._counters = [{} for _ in steps]  # as mrjob's: a spark step reports no counters
        self._ran = True

    @staticmethod
    def _per_step(totals: dict, steps: int) -> list[dict]:
        per_step: list[dict] = [{} for _ in range(steps)]
        for group, names in totals.items():
            if isinstance(group, tuple) and len(group) == 2 and isinstance(group[0], int):
                per_step[group[0]][group[1]] = dict(names)
        return per_step

    def get_output_dir(self) -> str | None:
        """Where the output was written (mrjob's name)."""
        return self._output_dir

    def cat_output(self) -> Iterator[bytes]:
        """The output's lines, bytes each ending in ``\\n``, file by file in name order."""
        if not self._ran:
            raise MapfoldError("cat_output() before run(): call runner.run() first")
        if self._hadoop is not None:
            yield from self._hadoop.cat_output()
            return
        for name in sorted(os.listdir(self._output_dir)):
            if name.startswith(("_", ".")):
                continue
            with open(os.path.join(self._output_dir, name), "rb") as f:
                yield from f

    def stats(self) -> dict:
        """What mapfold measured on the last run: stages, and what the shuffle spilled (``spilled_bytes``...)."""
        return dict(self._stats)

    def counters(self) -> list[dict]:
        """One ``{group: {counter: amount}}`` per step, as mrjob's ``runner.counters()``."""
        return [dict(step) for step in self._counters]
