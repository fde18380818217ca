"""What a job's steps do inside mapfold tasks: picklable callables over lines of bytes.

Every record between substeps is one protocol-encoded line, as between
mrjob's tasks; a task decodes with the protocol the substep reads, runs the
user's functions through :class:`~mapfold.jobs.job.MRJob`'s own
``map_pairs``/``combine_pairs``/``reduce_pairs``, and encodes with the one
it writes. Each task works on its own shallow copy of the job, as each of
mrjob's tasks has its own job instance: what ``mapper_init`` sets on
``self`` is that task's, even on the serial runner, where the tasks of
consecutive steps interleave in one thread.

>>> from mapfold.jobs import MRJob
>>> class Up(MRJob):
...     def mapper(self, _, line):
...         yield line.upper(), 1
>>> list(MapTask(Up(args=[]), 0)([b"a", b"b"]))
[b'"A"\\t1', b'"B"\\t1']
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Iterator

__all__ = ["MapTask", "RawMapTask", "ReduceTask", "key_and_line", "line_key", "latin1_bytes"]


def _task_job(job: Any, step_num: int) -> Any:
    """A copy of ``job`` for one task, whose counters go to step ``step_num``."""
    mine = copy.copy(job)
    mine._mapfold_step = step_num
    return mine


def line_key(line: bytes) -> bytes:
    """The key part of an encoded line: the bytes before the first tab (how mrjob sorts).

    >>> line_key(b'"k"\\t1'), line_key(b"no tab")
    (b'"k"', b'no tab')
    """
    return line.split(b"\t", 1)[0]


def key_and_line(line: bytes) -> tuple:
    """``(key bytes, line)``: what the shuffle groups on.

    >>> key_and_line(b'"k"\\t1')
    (b'"k"', b'"k"\\t1')
    """
    return line.split(b"\t", 1)[0], line


def latin1_bytes(text: str) -> bytes:
    """A line read as latin-1 back to its exact bytes (latin-1 maps bytes to code points one to one).

    >>> latin1_bytes("caf\\xc3\\xa9")
    b'caf\\xc3\\xa9'
    """
    return text.encode("latin_1")


class MapTask:
    """One map task of a step: mapper (with init and final), then the combiner if the step has one.

    The combiner runs over the task's own output sorted by key, as in mrjob
    (where one map task's output is sorted before its combiner); that sort
    holds one task's map output in memory.
    """

    def __init__(self, job: Any, step_num: int) -> None:
        self.job, self.step_num = job, step_num

    def __call__(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        num = self.step_num
        job = _task_job(self.job, num)
        read, write = job.pick_protocols(num, "mapper")
        out: Iterable[bytes] = (write(k, v) for k, v in job.map_pairs(map(read, lines), num))
        if job._get_step(num).has_explicit_combiner:
            combiner = _task_job(self.job, num)
            cread, cwrite = combiner.pick_protocols(num, "combiner")
            ordered = sorted(out, key=line_key)
            out = (cwrite(k, v) for k, v in combiner.combine_pairs(map(cread, ordered), num))
        return out


class RawMapTask(MapTask):
    """The map task of a ``mapper_raw`` step: one input file, ``(path, uri)``, per task."""

    def __call__(self, files: Iterable[tuple]) -> Iterator[bytes]:
        num = self.step_num
        for path, uri in files:
            job = _task_job(self.job, num)
            _, write = job.pick_protocols(num, "mapper")
            out = (write(k, v) for k, v in job.map_pairs((), num, raw_input=(path, uri)))
            if job._get_step(num).has_explicit_combiner:
                combiner = _task_job(self.job, num)
                cread, cwrite = combiner.pick_protocols(num, "combiner")
                ordered = sorted(out, key=line_key)
                out = (cwrite(k, v) for k, v in combiner.combine_pairs(map(cread, ordered), num))
            yield from out


class ReduceTask:
    """One reduce task of a step over ``(key bytes, lines)`` groups.

    The values reach the reducer as a generator over the group, which the
    shuffle streams from disk when the group is larger than the memory
    budget. With ``SORT_VALUES`` a group's lines are sorted whole (key, then
    value bytes, as mrjob's sort does), which holds that group in memory.
    """

    def __init__(self, job: Any, step_num: int, sort_values: bool) -> None:
        self.job, self.step_num, self.sort_values = job, step_num, sort_values

    def __call__(self, groups: Iterable[tuple]) -> Iterator[bytes]:
        num = self.step_num
        job = _task_job(self.job, num)
        read, write = job.pick_protocols(num, "reducer")
        sort_values = self.sort_values

        def pairs() -> Iterator[tuple]:
            for _, lines in groups:
                yield from map(read, sorted(lines) if sort_values else lines)

        return (write(k, v) for k, v in job.reduce_pairs(pairs(), num))
