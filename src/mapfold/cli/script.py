"""Running a user's file as ``python FILE.py ARGS`` would, inside ``mapfold``.

The file runs as ``__main__`` (its ``if __name__ == "__main__":`` block
runs; its functions pickle by value, as cloudpickle does for a script),
with ``sys.argv`` set to the file and its arguments and its folder first
on ``sys.path``; all three are put back afterwards. A job file (an
``MRJob`` subclass, ``mapfold.jobs`` or ``mrjob``) runs through the job's
own command line: its ``MyJob.run()`` when the file calls it, else
``mapfold.jobs.cli.main(MyJob, args)`` for the one job it defines.
"""
from __future__ import annotations

import ast
import contextlib
import os
import runpy
import sys
from typing import Any, Iterator

from ..core.errors import MapfoldError

__all__ = ["ScriptError", "run_file", "job_classes_named", "script_frame_line"]


class ScriptError(MapfoldError):
    """The file cannot be run: missing, not Python, or more than one job in it."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(f"{message} ({path})" if path else message)
        self.path = path


def job_classes_named(source: str) -> list[str]:
    """The classes a file defines on a base named ``MRJob`` (or a ``*.MRJob``).

    >>> job_classes_named("from mapfold.jobs import MRJob\\nclass WordCount(MRJob):\\n    pass\\n")
    ['WordCount']
    >>> job_classes_named("import mapfold as mf\\nprint(1)\\n")
    []
    """
    tree = ast.parse(source)
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                if name == "MRJob":
                    found.append(node.name)
    return found


def _calls_run_in_main(source: str) -> bool:
    """Whether the file has an ``if __name__ == "__main__":`` block (a job file's ``MyJob.run()``).

    >>> _calls_run_in_main('if __name__ == "__main__":\\n    J.run()\\n'), _calls_run_in_main("x = 1\\n")
    (True, False)
    """
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) and "__name__" in ast.unparse(node.test):
            return True
    return False


@contextlib.contextmanager
def _as_script(path: str, args: list[str]) -> Iterator[None]:
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(path))
    try:
        yield
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path


def read_source(path: str) -> str:
    """The file's text, checked to be Python that parses.

    >>> read_source("/no/such/file.py")
    Traceback (most recent call last):
    mapfold.cli.script.ScriptError: no such file (/no/such/file.py)
    """
    if not os.path.isfile(path):
        raise ScriptError("no such file", path)
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        ast.parse(source, path)
    except SyntaxError as exc:
        raise ScriptError(f"not a Python file: {exc.msg} at line {exc.lineno}", path) from None
    return source


def run_file(path: str, args: list[str] | tuple = ()) -> dict[str, Any]:
    """Run ``path`` with ``args`` as a script (or a job file through its command
    line); returns the script's globals.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "hello.py")
    >>> _ = open(path, "w").write("import sys\\nanswer = sys.argv[1:]\\n")
    >>> run_file(path, ["a", "b"])["answer"]
    ['a', 'b']
    """
    path = os.path.abspath(path)
    source = read_source(path)
    jobs = job_classes_named(source)
    with _as_script(path, list(args)):
        namespace = runpy.run_path(path, run_name="__main__")
        if jobs and not _calls_run_in_main(source):
            from ..jobs.cli import main as job_main
            from ..jobs.job import MRJob

            found = [namespace[name] for name in jobs
                     if isinstance(namespace.get(name), type) and issubclass(namespace[name], MRJob)]
            leaves = [cls for cls in found if not any(other is not cls and issubclass(other, cls) for other in found)]
            if len(leaves) > 1:
                raise ScriptError(f"more than one job in the file ({', '.join(c.__name__ for c in leaves)}): "
                                  "call the one to run under if __name__ == '__main__':", path)
            if leaves:
                job_main(leaves[0], list(args))
    return namespace


def script_frame_line(exc: BaseException, path: str) -> int | None:
    """The line of ``path`` that was running when ``exc`` was raised: the
    outermost frame in that file (the script's statement that ran the action).

    >>> try:
    ...     raise ValueError
    ... except ValueError as exc:
    ...     script_frame_line(exc, "elsewhere.py") is None
    True
    """
    path = os.path.abspath(path)
    tb = exc.__traceback__
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == path:
            return tb.tb_lineno
        tb = tb.tb_next
    return None
