"""``MRJob``: an mrjob job class, run by mapfold.

A job file written for mrjob 0.7 runs here after its imports are changed to
``from mapfold.jobs import MRJob, MRStep, ...``. The class keeps mrjob's
names and semantics: the substep methods, ``steps()``, the three protocols
and their defaults, ``SORT_VALUES``, counters, status, and the arguments
(``configure_args``, ``add_passthru_arg``, ``add_file_arg``, ``load_args``).

Two ways to run a job, as in mrjob:

* the whole job: ``python job.py input.txt`` or ``job.make_runner()``; each
  step becomes Dataset operations on a mapfold runner (``runner.py``);
* one task of one step, Hadoop Streaming style: ``python job.py --mapper
  --step-num 0`` reads stdin and writes stdout (``run_mapper`` and friends).

Between substeps records travel as protocol-encoded lines, exactly as they
do between mrjob's tasks, so a tuple key reaches the reducer as a list
under JSON, and the output bytes are mrjob's.

>>> class MRCount(MRJob):
...     def mapper(self, _, line):
...         for word in line.split():
...             yield word, 1
...     def reducer(self, word, counts):
...         yield word, sum(counts)
>>> job = MRCount(args=[])
>>> sorted(job.reduce_pairs(sorted(job.map_pairs([(None, "b a b")]))))
[('a', 1), ('b', 2)]
"""
from __future__ import annotations

import argparse
import itertools
import sys
from typing import Any, Iterable, Iterator

from ..core.task_context import TaskRuntime
from ..core.task_context import increment_counter as task_increment_counter
from ..core.errors import MapfoldError
from .protocols import JSONProtocol, RawValueProtocol
from .step import COMBINER_FUNCS, MAPPER_FUNCS, REDUCER_FUNCS, MRStep, SparkStep

__all__ = ["MRJob", "JobDefinitionError", "UsageError"]

_SUBSTEP_METHODS = MAPPER_FUNCS + COMBINER_FUNCS + REDUCER_FUNCS
RUNNER_CHOICES = ("inline", "local", "serial", "processes", "dask", "spark", "ray", "hadoop")


class JobDefinitionError(MapfoldError, ValueError):
    """A job whose steps cannot run: out-of-range step, a substep it lacks, a ``spark`` step."""


class UsageError(MapfoldError, ValueError):
    """Command-line arguments the job cannot use (a ``ValueError``)."""


class _ArgumentParser(argparse.ArgumentParser):
    # argparse exits the process on a bad argument; a job built in Python
    # (MyJob(args=[...])) must raise instead, so the caller can catch it
    def error(self, message: str):
        raise UsageError(message)


class MRJob:
    """Base class of a job; override ``mapper``, ``reducer``... or ``steps()``.

    >>> MRJob(args=["in.txt", "-r", "inline"]).options.args
    ['in.txt']
    """

    INPUT_PROTOCOL = RawValueProtocol
    INTERNAL_PROTOCOL = JSONProtocol
    OUTPUT_PROTOCOL = JSONProtocol
    SORT_VALUES: bool | None = None
    JOBCONF: dict = {}

    def __init__(self, args: list[str] | None = None) -> None:
        self._passthru_arg_dests: set[str] = set()
        self._file_arg_dests: set[str] = set()
        # which step a mapfold task runs, for counters; None in streaming task mode
        self._mapfold_step: int | None = None
        self.arg_parser = _ArgumentParser(usage="%(prog)s [options] [input files]", add_help=False)
        self.configure_args()
        self._cl_args = sys.argv[1:] if args is None else list(args)
        self.load_args(self._cl_args)

    def __getstate__(self) -> dict:
        # a job travels to the workers inside each task's code; its argument
        # parser stays behind (the parsed options go along)
        state = dict(self.__dict__)
        state.pop("arg_parser", None)
        return state

    # -- substeps: mrjob's signatures; a subclass overrides the ones it uses -------
    def mapper(self, key: Any, value: Any) -> Iterable:
        """Yield ``(key, value)`` pairs for one input pair."""
        raise NotImplementedError

    def reducer(self, key: Any, values: Iterable) -> Iterable:
        """Yield pairs for one key and the stream of its values."""
        raise NotImplementedError

    def combiner(self, key: Any, values: Iterable) -> Iterable:
        """Like ``reducer``, on one map task's output, zero or more times."""
        raise NotImplementedError

    def mapper_init(self) -> Iterable | None:
        """Run before a map task's first record."""

    def mapper_final(self) -> Iterable | None:
        """Run after a map task's last record; may yield pairs."""

    def mapper_cmd(self) -> str:
        """A shell command as the mapper: return it (a string, or a list of arguments)."""
        raise NotImplementedError

    def mapper_pre_filter(self) -> str:
        """A shell pipeline the mapper's input goes through first: return it."""
        raise NotImplementedError

    def mapper_raw(self, input_path: str, input_uri: str) -> Iterable:
        """Map a whole input file (one map task per file) instead of its lines."""
        raise NotImplementedError

    def reducer_init(self) -> Iterable | None:
        """Run before a reduce task's first key."""

    def reducer_final(self) -> Iterable | None:
        """Run after a reduce task's last key; may yield pairs."""

    def reducer_cmd(self) -> str:
        """A shell command as the reducer: return it."""
        raise NotImplementedError

    def reducer_pre_filter(self) -> str:
        """A shell pipeline the reducer's input goes through first: return it."""
        raise NotImplementedError

    def combiner_init(self) -> Iterable | None:
        """Run before a combine task's first key."""

    def combiner_final(self) -> Iterable | None:
        """Run after a combine task's last key."""

    def combiner_cmd(self) -> str:
        """A shell command as the combiner: return it."""
        raise NotImplementedError

    def combiner_pre_filter(self) -> str:
        """A shell pipeline the combiner's input goes through first: return it."""
        raise NotImplementedError

    def spark(self, input_path: str, output_path: str) -> None:
        """A job's own PySpark code: read ``input_path`` (paths, comma-separated), write the folder
        ``output_path``. Override it to make the job one spark step (docs/jobs.md, "Spark steps")."""
        raise NotImplementedError

    def spark_args(self) -> list[str]:
        """spark-submit arguments of the default spark step (kept in its description)."""
        return []

    def steps(self) -> list:
        """The job's steps: by default one ``MRStep`` of the substep methods this class overrides
        (or one ``SparkStep`` of ``spark()``).

        >>> class OnlyMap(MRJob):
        ...     def mapper(self, key, value):
        ...         yield key, value
        >>> OnlyMap(args=[]).steps()[0].has_explicit_reducer
        False
        """
        kwargs = {name: getattr(self, name) for name in _SUBSTEP_METHODS
                  if getattr(type(self), name) is not getattr(MRJob, name)}
        if type(self).spark is not MRJob.spark:
            if kwargs:
                raise JobDefinitionError(f"{type(self).__name__} defines spark() and {', '.join(sorted(kwargs))}: "
                                         "a job's default steps are one spark step or one MRStep; define steps()")
            return [SparkStep(spark=self.spark, spark_args=self.spark_args())]
        for name in list(kwargs):
            if name.endswith(("_cmd", "_pre_filter")):
                kwargs[name] = kwargs[name]()  # mrjob: these methods return the command
        return [MRStep(**kwargs)] if kwargs else []

    # -- counters and status ------------------------------------------------
    def increment_counter(self, group: str, counter: str, amount: int = 1) -> None:
        """Add ``amount`` to a counter; commas become semicolons, as in mrjob.

        >>> job = MRJob(args=[]); job._mapfold_step = 0
        >>> task = TaskRuntime()
        >>> with task.active():
        ...     job.increment_counter("words", "a,b")
        >>> task.counters_table()
        {(0, 'words'): {'a;b': 1}}
        """
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError(f"amount must be an integer, not {amount!r}")
        group = str(group).replace(",", ";")
        counter = str(counter).replace(",", ";")
        if self._mapfold_step is None:  # a Hadoop Streaming task: Hadoop reads counters from stderr
            self._write_stderr(f"reporter:counter:{group},{counter},{amount}\n")
        else:  # a mapfold task: counters travel back with the task's result, by step
            task_increment_counter((self._mapfold_step, group), counter, amount)

    def set_status(self, msg: str) -> None:
        """Report a status (a keep-alive for Hadoop); written to stderr in a streaming task."""
        if self._mapfold_step is None:
            self._write_stderr(f"reporter:status:{msg}\n")

    @staticmethod
    def _write_stderr(text: str) -> None:
        stream = getattr(sys.stderr, "buffer", None)
        if stream is not None:
            stream.write(text.encode("utf_8"))
        else:
            sys.stderr.write(text)
        sys.stderr.flush()

    # -- arguments ----------------------------------------------------------
    def configure_args(self) -> None:
        """Define the job's arguments; override, call ``super()``, then ``add_passthru_arg``..."""
        add = self.arg_parser.add_argument
        add(dest="args", nargs="*", help="input paths (stdin if none, or '-')")
        add("-h", "--help", action="store_true", help="show this help and exit")
        add("-r", "--runner", choices=RUNNER_CHOICES, default=None,
            help="inline/serial, local/processes, dask, spark, ray, hadoop (default: mapfold's choice)")
        add("-o", "--output-dir", default=None, help="write the output here (part-NNNNN files)")
        add("--cat-output", dest="cat_output", action="store_true", default=None, help="print the output")
        add("--no-cat-output", dest="cat_output", action="store_false", help="do not print the output")
        add("--num-cores", type=int, default=None, help="worker processes of the local/processes runner")
        add("-D", "--jobconf", action="append", default=[], metavar="KEY=VALUE", help="a job configuration property")
        add("--cmdenv", action="append", default=[], metavar="KEY=VALUE",
            help="an environment variable of every task")
        add("--memory-limit", default=None, help="the shuffle's memory budget per worker (mapfold)")
        add("-c", "--conf-path", action="append", default=[], help="an mrjob.conf file (default: mrjob's search path)")
        add("--no-conf", action="store_true", help="read no mrjob.conf file")
        add("--hadoop-bin", default=None, help="-r hadoop: the hadoop command (default: hadoop on PATH)")
        add("--hadoop-streaming-jar", default=None, help="-r hadoop: the streaming jar (default: found in Hadoop's home)")
        add("--hadoop-tmp-dir", default=None, help="-r hadoop: where steps' intermediate output goes")
        add("--python-bin", default=None, help="-r hadoop: the Python that runs the tasks on the nodes (python3)")
        add("-q", "--quiet", action="store_true", help="no counters on stderr")
        add("-v", "--verbose", action="store_true", help="more output on stderr")
        add("--mapper", dest="run_mapper", action="store_true", help="run a mapper task (Hadoop Streaming)")
        add("--combiner", dest="run_combiner", action="store_true", help="run a combiner task")
        add("--reducer", dest="run_reducer", action="store_true", help="run a reducer task")
        add("--step-num", type=int, default=0, help="the step of the task (0-based)")
        add("--spark", dest="run_spark", action="store_true",
            help="run spark step --step-num over INPUT OUTPUT with this process's pyspark (spark-submit)")

    def add_passthru_arg(self, *args: Any, **kwargs: Any) -> None:
        """An argument the job's own code reads from ``self.options``."""
        action = self.arg_parser.add_argument(*args, **kwargs)
        self._passthru_arg_dests.add(action.dest)

    def add_file_arg(self, *args: Any, **kwargs: Any) -> None:
        """An argument naming a file the tasks read (here: the same path, shared by the workers)."""
        if kwargs.get("type") not in (None, str):
            raise argparse.ArgumentTypeError("file options must take strings")
        if kwargs.get("action") not in (None, "append", "store"):
            raise argparse.ArgumentTypeError("file options must use the actions 'store' or 'append'")
        action = self.arg_parser.add_argument(*args, **kwargs)
        self._file_arg_dests.add(action.dest)

    def load_args(self, args: list[str]) -> None:
        """Parse ``args`` into ``self.options``; override to post-process (call ``super()`` first)."""
        self.options = self.arg_parser.parse_intermixed_args(args)
        if self.options.help:
            self.arg_parser.print_help()
            sys.exit(0)

    def jobconf(self) -> dict:
        """``JOBCONF`` updated with the ``-D KEY=VALUE`` arguments.

        >>> MRJob(args=["-D", "mapreduce.job.reduces=1"]).jobconf()
        {'mapreduce.job.reduces': '1'}
        """
        conf = dict(self.JOBCONF)
        for item in self.options.jobconf:
            key, sep, value = item.partition("=")
            if not sep:
                raise UsageError(f"-D takes KEY=VALUE, got {item!r}")
            conf[key] = value
        return conf

    def sort_values(self) -> bool:
        """Whether each reducer sees its values sorted (``SORT_VALUES``)."""
        return bool(self.SORT_VALUES)

    # -- protocols ------------------------------------------------------------
    def input_protocol(self):
        """An instance of ``INPUT_PROTOCOL``."""
        return self.INPUT_PROTOCOL()

    def internal_protocol(self):
        """An instance of ``INTERNAL_PROTOCOL``."""
        return self.INTERNAL_PROTOCOL()

    def output_protocol(self):
        """An instance of ``OUTPUT_PROTOCOL``."""
        return self.OUTPUT_PROTOCOL()

    def _script_substeps(self) -> list[tuple[int, str]]:
        """``(step, 'mapper'|'reducer')`` of the substeps this script runs, in order.

        Protocols follow this order, as in mrjob: the first reads the input
        protocol, the last writes the output protocol, the rest the internal one.
        """
        order = []
        for num, step in enumerate(self._checked_steps()):
            desc = step.description(num)
            for kind in ("mapper", "reducer"):
                if kind in desc and desc[kind]["type"] == "script":
                    order.append((num, kind))
        return order

    def pick_protocols(self, step_num: int, step_type: str) -> tuple:
        """``(read, write)`` functions of the protocols a substep uses.

        >>> class Up(MRJob):
        ...     def mapper(self, _, line):
        ...         yield line.upper(), None
        >>> read, write = Up(args=[]).pick_protocols(0, "mapper")
        >>> write(*read(b"ab")[::-1])
        b'"ab"\\tnull'
        """
        order = self._script_substeps()
        if step_type == "combiner":
            # a combiner may run any number of times, so it reads and writes what its mapper writes
            if (step_num, "mapper") in order:
                protocol = self.output_protocol() if order.index((step_num, "mapper")) == len(order) - 1 \
                    else self.internal_protocol()
            else:
                protocol = RawValueProtocol()
            return protocol.read, protocol.write
        if (step_num, step_type) not in order:
            raise JobDefinitionError(f"step {step_num} has no {step_type} run by this script")
        place = order.index((step_num, step_type))
        read = self.input_protocol() if place == 0 else self.internal_protocol()
        write = self.output_protocol() if place == len(order) - 1 else self.internal_protocol()
        return read.read, write.write

    # -- running one task of a step -----------------------------------------------
    def _checked_steps(self, spark: bool = False) -> list:
        """The steps, each an ``MRStep`` (or, with ``spark``, a ``SparkStep``)."""
        steps = self.steps()
        for num, step in enumerate(steps):
            if isinstance(step, SparkStep) and not spark:
                raise JobDefinitionError(
                    f"step {num} is a spark step: it runs as a whole job (python job.py, -r any mapfold runner), "
                    "or under spark-submit with --spark; not as a streaming task or on -r hadoop")
            if not isinstance(step, (MRStep, SparkStep)):
                raise JobDefinitionError(
                    f"step {num} is a {type(step).__name__}; mapfold runs MRStep and SparkStep steps")
        return steps

    def run_spark(self, step_num: int = 0) -> None:
        """``python job.py --spark --step-num N INPUT OUTPUT``: spark step ``step_num``'s function over the two
        paths, with whatever ``pyspark`` this process has (real PySpark under ``spark-submit``), as mrjob."""
        steps = self._checked_steps(spark=True)
        if not 0 <= step_num < len(steps) or not isinstance(steps[step_num], SparkStep):
            raise JobDefinitionError(f"step {step_num} is not a spark step of {type(self).__name__}")
        if len(self.options.args) != 2:
            raise UsageError(f"--spark takes two paths, the input and the output, not {self.options.args!r}")
        steps[step_num].spark(*self.options.args)

    def _get_step(self, step_num: int) -> MRStep:
        steps = self._checked_steps()
        if not 0 <= step_num < len(steps):
            raise JobDefinitionError(f"Out-of-range step: {step_num} (the job has {len(steps)})")
        return steps[step_num]

    def map_pairs(self, pairs: Iterable, step_num: int = 0, raw_input: tuple | None = None) -> Iterator:
        """The mapper of ``step_num`` over ``pairs``, with its init and final.

        ``raw_input`` is ``(input_path, input_uri)`` for a ``mapper_raw``
        step (in a streaming task: the two positional arguments).
        """
        step = self._python_substep(step_num, "mapper")
        init, final, raw = step["mapper_init"], step["mapper_final"], step["mapper_raw"]
        if init:
            yield from init() or ()
        if raw:
            if raw_input is None:
                if len(self.options.args) != 2:
                    raise UsageError("a mapper_raw task takes two arguments: input_path input_uri")
                raw_input = tuple(self.options.args)
            yield from raw(*raw_input) or ()
        else:
            mapper = step["mapper"]
            for key, value in pairs:
                yield from mapper(key, value) or ()
        if final:
            yield from final() or ()

    def combine_pairs(self, pairs: Iterable, step_num: int = 0) -> Iterator:
        """The combiner of ``step_num`` over key-sorted ``pairs``, with its init and final."""
        return self._combine_or_reduce(pairs, "combiner", step_num)

    def reduce_pairs(self, pairs: Iterable, step_num: int = 0) -> Iterator:
        """The reducer of ``step_num`` over key-sorted ``pairs``, with its init and final."""
        return self._combine_or_reduce(pairs, "reducer", step_num)

    def _python_substep(self, step_num: int, kind: str) -> MRStep:
        step = self._get_step(step_num)
        if step[f"{kind}_cmd"]:
            raise JobDefinitionError(f"step {step_num}'s {kind} is a shell command ({kind}_cmd): it has no Python "
                                     f"{kind} to call; run the job, or the task (--{kind} --step-num {step_num})")
        return step

    def _combine_or_reduce(self, pairs: Iterable, kind: str, step_num: int) -> Iterator:
        step = self._python_substep(step_num, kind)
        task = step[kind]
        if task is None:
            raise JobDefinitionError(f"No {kind} in step {step_num}")
        if step[f"{kind}_init"]:
            yield from step[f"{kind}_init"]() or ()
        for key, group in itertools.groupby(pairs, key=lambda pair: pair[0]):
            # a generator, never a list: a key may have more values than memory holds
            yield from task(key, (value for _, value in group)) or ()
        if step[f"{kind}_final"]:
            yield from step[f"{kind}_final"]() or ()

    # -- streaming task mode (stdin to stdout) -------------------------------------
    def _task_lines(self) -> Iterator[bytes]:
        from .streaming import read_input_lines

        return read_input_lines([] if self.options.run_mapper and self._is_raw(self.options.step_num)
                                else self.options.args, sys.stdin.buffer)

    def _is_raw(self, step_num: int) -> bool:
        return bool(self._get_step(step_num)["mapper_raw"])

    def _run_task(self, kind: str, step_num: int) -> None:
        command = self._get_step(step_num)[f"{kind}_cmd"]
        if command:  # the substep is the command: it reads this task's stdin and writes its stdout
            from .commands import run_command

            run_command(command, f"step {step_num} {kind}_cmd")
            return
        # a *_pre_filter is not applied here: whoever runs the task pipes its input through it
        # (`sh -c 'filter | python job.py --mapper'`), as mrjob's runners and Hadoop do
        read, write = self.pick_protocols(step_num, kind)
        out = sys.stdout.buffer
        if kind == "mapper" and self._is_raw(step_num):
            pairs: Iterable = ()
        else:
            pairs = (read(line) for line in self._task_lines())
        run = {"mapper": self.map_pairs, "combiner": self.combine_pairs, "reducer": self.reduce_pairs}[kind]
        for key, value in run(pairs, step_num):
            out.write(write(key, value))
            out.write(b"\n")
        out.flush()

    def run_mapper(self, step_num: int = 0) -> None:
        """One map task of ``step_num``: protocol-decoded stdin to encoded stdout."""
        self._run_task("mapper", step_num)

    def run_combiner(self, step_num: int = 0) -> None:
        """One combine task of ``step_num`` (input sorted by key)."""
        self._run_task("combiner", step_num)

    def run_reducer(self, step_num: int = 0) -> None:
        """One reduce task of ``step_num`` (input sorted by key)."""
        self._run_task("reducer", step_num)

    # -- running the whole job --------------------------------------------------
    def make_runner(self):
        """A :class:`~mapfold.jobs.runner.JobRunner` for this job and its arguments."""
        from .runner import JobRunner

        return JobRunner(self)

    def parse_output(self, chunks: Iterable[bytes]) -> Iterator[tuple]:
        """``(key, value)`` pairs from the output's bytes, read with the output protocol.

        >>> list(MRJob(args=[]).parse_output([b'"a"\\t1\\n"b"', b'\\t2\\n']))
        [('a', 1), ('b', 2)]
        """
        from .streaming import to_lines

        read = self.output_protocol().read
        for line in to_lines(chunks):
            yield read(line)

    def execute(self) -> None:
        """What ``python job.py ...`` does: one streaming task, or the whole job."""
        from .cli import execute

        execute(self)

    @classmethod
    def run(cls) -> None:
        """The job file's entry point: ``if __name__ == '__main__': MyJob.run()``."""
        from .cli import main

        main(cls)
