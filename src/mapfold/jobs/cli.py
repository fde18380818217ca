"""The command line of a job file: ``python job.py [INPUT ...] [-r RUNNER] [-o DIR] ...``.

With ``--mapper``, ``--combiner`` or ``--reducer`` (and ``--step-num N``)
the file is one Hadoop Streaming task: stdin to stdout. Otherwise it runs
the whole job; the output goes to stdout in the output protocol unless
``-o`` is given (or ``--no-cat-output``); counters go to stderr; a failure
exits non-zero with one line saying what failed.

>>> format_counters([{"words": {"long": 2}}])
'Counters for step 1: 1\\n\\twords\\n\\t\\tlong=2\\n'
"""
from __future__ import annotations

import sys
from typing import Any

from ..core.errors import MapfoldError

__all__ = ["main", "execute", "format_counters"]


def format_counters(per_step: list[dict]) -> str:
    """Counters as mrjob prints them: a count, then groups and ``name=amount``, sorted.

    >>> format_counters([{}])
    ''
    """
    text = []
    for num, groups in enumerate(per_step, 1):
        if not groups:
            continue
        text.append(f"Counters for step {num}: {sum(len(names) for names in groups.values())}\n")
        for group in sorted(groups):
            text.append(f"\t{group}\n")
            text.extend(f"\t\t{name}={amount}\n" for name, amount in sorted(groups[group].items()))
    return "".join(text)


def _run_job(job: Any) -> None:
    options = job.options
    cat = options.cat_output if options.cat_output is not None else not options.output_dir
    with job.make_runner() as runner:
        runner.run()
        if cat:
            out = sys.stdout.buffer
            for line in runner.cat_output():
                out.write(line)
            out.flush()
        if not options.quiet:
            sys.stderr.write(format_counters(runner.counters()))


def execute(job: Any) -> None:
    """One streaming task if asked for, else the whole job."""
    options = job.options
    if options.run_mapper:
        job.run_mapper(options.step_num)
    elif options.run_combiner:
        job.run_combiner(options.step_num)
    elif options.run_reducer:
        job.run_reducer(options.step_num)
    elif options.run_spark:
        job.run_spark(options.step_num)
    else:
        _run_job(job)


def main(job_class: type, args: list[str] | None = None) -> None:
    """``MyJob.run()``: parse ``sys.argv`` (or ``args``), execute, exit 1 with a message on failure."""
    try:
        job = job_class(args=args)
        execute(job)
    except MapfoldError as exc:  # mapfold's own errors say what to do: one line is enough
        sys.stderr.write(f"{job_class.__name__}: {exc}\n")
        sys.exit(1)
    except Exception as exc:  # the job's own code failed: its traceback (with mapfold's note) helps
        import traceback

        traceback.print_exception(exc)
        sys.stderr.write(f"{job_class.__name__} failed: {type(exc).__name__}: {exc}\n")
        sys.exit(1)
