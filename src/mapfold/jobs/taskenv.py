"""The Hadoop-style environment of a task, as mrjob's local runners set it.

Inside a task, ``os.environ`` holds, in increasing priority: the job's
configuration (``JOBCONF``, the step's ``jobconf``, ``-D``, and mrjob's
``SORT_VALUES`` properties) with dots turned into underscores
(``mapreduce.job.reduces`` is ``mapreduce_job_reduces``); the properties
Hadoop sets for a task (``mapreduce_job_id``, ``mapreduce_task_id``,
``mapreduce_task_attempt_id``, ``mapreduce_task_ismap``,
``mapreduce_task_partition``, ``mapreduce_task_output_dir``,
``mapreduce_job_local_dir``, the cache files, and for the first step's map
tasks ``mapreduce_map_input_file``/``_start``/``_length``), each under its
Hadoop 1 name too (``mapred_task_partition``, ``map_input_file``...), as
mrjob does when it simulates no particular Hadoop version; then
``cmdenv``.

The variables are there while the task's code runs and are put back after;
on the serial runner, where the tasks of consecutive steps take turns in
one thread, each task's are in place whenever its code runs.

>>> env = task_env(TaskIds("job1", "mapper", 0, 3), jobconf={"my.key": 1}, cmdenv={"LANG": "C"})
>>> env["mapreduce_task_partition"], env["mapred_task_is_map"], env["my_key"], env["LANG"]
('3', 'true', '1', 'C')
>>> env["mapreduce_task_attempt_id"]
'attempt_job1_mapper_00003_0'
"""
from __future__ import annotations

import getpass
import os
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

__all__ = ["JobEnvironment", "SORT_VALUES_JOBCONF", "TaskIds", "task_env", "jobconf_env", "java_str", "EnvironmentSwitch", "make_job_id", "HADOOP1_NAMES"]

# Hadoop 2 name -> Hadoop 1 name, for the properties a local task gets
HADOOP1_NAMES = {
    "mapreduce.job.id": "mapred.job.id",
    "mapreduce.task.id": "mapred.tip.id",
    "mapreduce.task.attempt.id": "mapred.task.id",
    "mapreduce.task.ismap": "mapred.task.is.map",
    "mapreduce.task.partition": "mapred.task.partition",
    "mapreduce.task.output.dir": "mapred.work.output.dir",
    "mapreduce.job.local.dir": "job.local.dir",
    "mapreduce.job.cache.archives": "mapred.cache.archives",
    "mapreduce.job.cache.files": "mapred.cache.files",
    "mapreduce.job.cache.local.archives": "mapred.cache.localArchives",
    "mapreduce.job.cache.local.files": "mapred.cache.localFiles",
    "mapreduce.map.input.file": "map.input.file",
    "mapreduce.map.input.length": "map.input.length",
    "mapreduce.map.input.start": "map.input.start",
    "mapreduce.partition.keypartitioner.options": "mapred.text.key.partitioner.options",
}


@dataclass(frozen=True)
class TaskIds:
    """Which task: the job's id, the substep (``mapper``, ``combiner``, ``reducer``), step and task number."""

    job_id: str
    kind: str
    step_num: int
    task_num: int


def make_job_id(script: str) -> str:
    """A job id shaped like mrjob's: ``<script>.<user>.<date>.<time>.<microseconds>``.

    >>> make_job_id("/x/mr_wc.py").startswith("mr_wc.")
    True
    """
    now = time.time()
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        user = "no_user"
    stamp = time.strftime("%Y%m%d.%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"
    return f"{os.path.splitext(os.path.basename(script))[0]}.{user}.{stamp}"


def java_str(value: object) -> str:
    """A configuration value as Hadoop reads it (``True`` is ``'true'``), as mrjob writes them.

    >>> java_str(True), java_str(2), java_str("x")
    ('true', '2', 'x')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def jobconf_env(conf: dict) -> dict:
    """Configuration properties as environment variables: dots become underscores.

    >>> jobconf_env({"mapreduce.job.reduces": 2})
    {'mapreduce_job_reduces': '2'}
    """
    return {str(key).replace(".", "_"): java_str(value) for key, value in conf.items()}


def task_env(ids: TaskIds, jobconf: dict | None = None, cmdenv: dict | None = None, output_dir: str = "",
             files: Iterable[str] = (), split: tuple | None = None) -> dict:
    """The variables of one task; ``split`` is ``(input file, start, length)`` for a first-step map task."""
    task = f"{ids.job_id}_{ids.kind}_{ids.step_num:04d}{ids.task_num}"
    working_dir = os.getcwd()  # mapfold's tasks run where the job runs: no working folder of their own
    files = [os.path.abspath(f) for f in files]
    simulated = {
        "mapreduce.job.id": ids.job_id,
        "mapreduce.task.id": f"task_{task}",
        "mapreduce.task.attempt.id": f"attempt_{task}_0",
        "mapreduce.task.ismap": "true" if ids.kind == "mapper" else "false",
        "mapreduce.task.partition": str(ids.task_num),
        "mapreduce.task.output.dir": output_dir,
        "mapreduce.job.local.dir": working_dir,
        "mapreduce.job.cache.archives": "",
        "mapreduce.job.cache.files": ",".join(f"{f}#{os.path.basename(f)}" for f in files),
        "mapreduce.job.cache.local.archives": "",
        "mapreduce.job.cache.local.files": ",".join(files),
    }
    if split is not None:
        path, start, length = split
        simulated["mapreduce.map.input.file"] = "file://" + path
        simulated["mapreduce.map.input.start"] = str(start)
        simulated["mapreduce.map.input.length"] = str(length)
    both = {}
    for key, value in simulated.items():
        both[key] = value
        both[HADOOP1_NAMES[key]] = value
    return {**jobconf_env(jobconf or {}), **jobconf_env(both), **{str(k): str(v) for k, v in (cmdenv or {}).items()}}


class EnvironmentSwitch:
    """Whose task variables are in ``os.environ`` in this process; the tasks of one job share one.

    A task's stream calls :meth:`ensure` whenever its code is about to run
    (cheap: an identity check when the variables are already its own) and
    :meth:`release` at its end, which puts back what was there before any
    task's variables. Pickled, it starts empty: each worker process has its own.

    >>> switch = EnvironmentSwitch()
    >>> def probe():
    ...     yield os.environ.get("mapfold_probe")
    >>> list(switch.output(probe(), {"mapfold_probe": "1"})), os.environ.get("mapfold_probe")
    (['1'], None)
    """

    def __init__(self) -> None:
        self.current: dict | None = None
        self.saved: dict = {}  # key -> its value before any task's variables (None: unset)

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()

    def ensure(self, env: dict) -> None:
        """Make ``env`` the variables in place (those of the task that had them are taken out)."""
        if self.current is env:
            return
        old = self.current or {}
        for key in env:
            if key not in self.saved:
                self.saved[key] = os.environ.get(key)
        for key in old:
            if key not in env:
                self._put_back(key)
        os.environ.update(env)
        self.current = env

    def release(self, env: dict) -> None:
        """``env``'s task has ended: if its variables are in place, put back what they replaced."""
        if self.current is env:
            for key in env:
                self._put_back(key)
            self.current = None

    def _put_back(self, key: str) -> None:
        value = self.saved.get(key)
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

    def command_env(self, env: dict) -> dict:
        """The whole environment of a command the task runs: ``env`` over what the process had."""
        self.ensure(env)
        return dict(os.environ)

    def output(self, records: Iterable, env: dict) -> Iterator:
        """``records`` computed with ``env`` in place; released when the stream ends or is closed."""
        iterator = iter(records)
        ensure = self.ensure
        try:
            while True:
                if self.current is not env:
                    ensure(env)
                try:
                    record = next(iterator)
                except StopIteration:
                    return
                yield record
        finally:
            self.release(env)

    def input(self, records: Iterable, env: dict) -> Iterator:
        """``records`` pulled from an earlier task's stream: ``env`` back in place after each one."""
        ensure = self.ensure
        for record in records:
            ensure(env)
            yield record


# mrjob's properties for SORT_VALUES (its local runners simulate no Hadoop version, so both names)
SORT_VALUES_JOBCONF = {
    "mapreduce.partition.keypartitioner.options": "-k1,1",
    "mapred.text.key.partitioner.options": "-k1,1",
    "stream.num.map.output.key.fields": "2",
}


@dataclass
class JobEnvironment:
    """What the tasks of one run need to build their variables; travels inside each task's code.

    ``jobconf`` is the job's (``SORT_VALUES``'s properties, ``JOBCONF``,
    ``-D``), ``step_jobconf`` each step's own ``jobconf``, ``splits`` the
    first step's map tasks' ``(file, start, length)`` by partition.

    >>> job_env = JobEnvironment("j", {"a.b": "1"}, ({"c": 2},), {}, "/out")
    >>> env = job_env.env("reducer", 0, 1)
    >>> env["a_b"], env["c"], env["mapreduce_task_ismap"], "map_input_file" in env
    ('1', '2', 'false', False)
    """

    job_id: str
    jobconf: dict
    step_jobconf: tuple
    cmdenv: dict
    output_dir: str
    files: tuple = ()
    splits: tuple | None = None
    switch: EnvironmentSwitch = field(default_factory=EnvironmentSwitch)

    def env(self, kind: str, step_num: int, task_num: int) -> dict:
        """The variables of one task of ``kind`` (``mapper``, ``reducer``) in step ``step_num``."""
        conf = dict(self.jobconf)
        if step_num < len(self.step_jobconf):
            conf.update(self.step_jobconf[step_num] or {})
        conf = {key: value for key, value in conf.items() if value is not None}
        split = None
        if kind == "mapper" and step_num == 0 and self.splits is not None and task_num < len(self.splits):
            split = self.splits[task_num]
        return task_env(TaskIds(self.job_id, kind, step_num, task_num), conf, self.cmdenv, self.output_dir,
                        self.files, split)
