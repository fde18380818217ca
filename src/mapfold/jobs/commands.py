"""Shell commands as substeps: ``*_cmd`` and ``*_pre_filter``, run as mrjob's local runner runs them.

A ``mapper_cmd`` (``combiner_cmd``, ``reducer_cmd``) *is* the substep: the
task's input lines go to its stdin and its stdout lines are the task's
output. A string is split with :func:`shlex.split` and run without a shell,
as mrjob does ("never wrap custom commands in bash"); a list is run as it
is. A ``*_pre_filter`` is a shell pipeline in front of the script's own
substep: ``sh -ex -c '<pre_filter> | python job.py --mapper --step-num N'``,
which mapfold runs in the task as two parts, the filter in a subprocess and
the Python substep in the task itself.

A command that exits non-zero fails its task (Hadoop and mrjob do the
same: ``grep`` finding nothing fails the job). ``reporter:counter:G,C,N``
lines the command writes on stderr count, as Hadoop reads them.

>>> substep_args({"type": "command", "command": "grep -v 'x y'"}, ["python", "job.py", "--mapper"])
['grep', '-v', 'x y']
>>> substep_args({"type": "script", "pre_filter": "grep a"}, ["python", "job.py", "--mapper"])
['/bin/sh', '-ex', '-c', 'grep a | python job.py --mapper']
>>> list(pipe_lines(["tr", "a-z", "A-Z"], [b"ab", b"c"], what="step 0 mapper_cmd"))
[b'AB', b'C']
"""
from __future__ import annotations

import contextvars
import shlex
import subprocess
import threading
from typing import Callable, Iterable, Iterator

from ..core.errors import MapfoldError

__all__ = ["SubstepCommandError", "run_command", "command_args", "substep_args", "pre_filter_args", "pipe_lines", "SH_BIN"]

SH_BIN = ["/bin/sh", "-ex"]  # mrjob's default sh_bin
_STDERR_TAIL = 2000  # characters of a failed command's stderr kept for its error message
_BATCH = 1 << 16  # bytes written to a command's stdin at a time


class SubstepCommandError(MapfoldError):
    """A ``*_cmd`` or ``*_pre_filter`` that cannot run, or that exited non-zero (names step and option)."""


def pre_filter_args(pre_filter: str, script_args: list[str]) -> list[str]:
    """The ``sh -c`` command line of a pre-filter piped into the script's task.

    >>> pre_filter_args("grep -v '^#'", ["python3", "job.py", "--reducer"])
    ['/bin/sh', '-ex', '-c', "grep -v '^#' | python3 job.py --reducer"]
    """
    return [*SH_BIN, "-c", f"{pre_filter} | {shlex.join(script_args)}"]


def command_args(command: str | list) -> list[str]:
    """A ``*_cmd`` as argv: a string split as a shell would (no shell runs it), a list as given.

    >>> command_args("cut -f 1"), command_args(["wc", "-l"])
    (['cut', '-f', '1'], ['wc', '-l'])
    """
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def substep_args(desc: dict, script_args: list[str]) -> list[str]:
    """What runs for one substep (its ``step.description()`` entry), given the script's own task command."""
    if desc["type"] == "command":
        return command_args(desc["command"])
    if desc.get("pre_filter"):
        return pre_filter_args(desc["pre_filter"], script_args)
    return list(script_args)


def _counter_line(line: bytes, count: Callable | None) -> bool:
    if count is None or not line.startswith(b"reporter:counter:"):
        return False
    try:
        group, name, amount = line[len(b"reporter:counter:"):].decode("utf_8").rstrip("\r\n").rsplit(",", 2)
        count(group, name, int(amount))
    except ValueError:
        return False
    return True


def pipe_lines(argv: list[str], lines: Iterable[bytes], what: str, env: dict | None = None,
               count: Callable | None = None, pre_filter: bool = False) -> Iterator[bytes]:
    """``lines`` (bytes without ``\\n``) through the command ``argv``: its stdout's lines, ``\\n`` removed.

    ``what`` names the substep in errors (``"step 0 mapper_cmd"``);
    ``count(group, name, amount)`` receives the counters the command
    reports on stderr. The input is written from a thread, so a command
    that prints before it has read everything never blocks; a consumer
    that stops early ends the command.

    A ``pre_filter`` is the first half of mrjob's ``sh -c 'filter | task'``,
    whose exit status the shell ignores (``grep`` that matches nothing is
    fine), so only "cannot run" (126, 127: a command not found) fails it.

    >>> list(pipe_lines(SH_BIN + ["-c", "grep nothing"], [b"a"], "step 0 mapper_pre_filter", pre_filter=True))
    []
    """
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)
    except OSError as exc:
        raise SubstepCommandError(f"{what} {shlex.join(argv)!r} cannot start: {exc}") from exc
    failure: list[BaseException] = []
    stderr_tail: list[bytes] = []

    def feed() -> None:
        try:
            batch: list[bytes] = []
            size = 0
            for line in lines:
                batch.append(line)
                size += len(line) + 1
                if size >= _BATCH:
                    proc.stdin.write(b"\n".join(batch) + b"\n")
                    batch, size = [], 0
            if batch:
                proc.stdin.write(b"\n".join(batch) + b"\n")
        except (BrokenPipeError, ValueError):  # the command stopped reading (head, a failure): fine here
            pass
        except BaseException as exc:  # the input's own failure (a mapper upstream): re-raised by the reader
            failure.append(exc)
        finally:
            try:
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass

    def drain() -> None:
        kept = 0
        for line in proc.stderr:
            if not _counter_line(line, count) and kept < _STDERR_TAIL:
                stderr_tail.append(line)
                kept += len(line)

    # the input may be the user's code of an earlier substep, and counters come on stderr: both threads
    # run in the task's context, so their counts are the task's
    writer = threading.Thread(target=contextvars.copy_context().run, args=(feed,), daemon=True, name="mapfold-cmd-stdin")
    reader = threading.Thread(target=contextvars.copy_context().run, args=(drain,), daemon=True, name="mapfold-cmd-stderr")
    writer.start()
    reader.start()
    finished = False
    try:
        for line in proc.stdout:
            yield line[:-1] if line.endswith(b"\n") else line
        finished = True
    finally:
        if not finished:
            proc.kill()
        proc.stdout.close()
        status = proc.wait()
        writer.join()
        reader.join()
        proc.stderr.close()
    if failure:
        raise failure[0]
    if status != 0 and (not pre_filter or status in (126, 127)):
        message = b"".join(stderr_tail).decode("utf_8", "replace").strip()
        shown = argv[-1] if pre_filter else shlex.join(argv)
        raise SubstepCommandError(f"{what} {shown!r} exited with status {status}"
                                  + (f": {message}" if message else ""))



def run_command(command: str | list, what: str) -> None:
    """A ``*_cmd`` as a whole streaming task: this process's stdin and stdout are the command's."""
    argv = command_args(command)
    try:
        status = subprocess.run(argv).returncode
    except OSError as exc:
        raise SubstepCommandError(f"{what} {shlex.join(argv)!r} cannot start: {exc}") from exc
    if status != 0:
        raise SubstepCommandError(f"{what} {shlex.join(argv)!r} exited with status {status}")
