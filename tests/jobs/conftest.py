"""Running the corpus of job files three ways: on mapfold, on real mrjob 0.7.4, as streaming tasks.

The corpus (``corpus/*.py``) is written against ``mapfold.jobs``; its
mrjob twin is the same file with the imports rewritten to mrjob's modules,
which is exactly the port a user makes in the other direction.
"""
from __future__ import annotations

import gzip
import importlib.util
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import mapfold
import pytest
from mapfold.jobs.commands import substep_args

CORPUS = Path(__file__).resolve().parent / "corpus"
SOURCE = str(Path(mapfold.__file__).resolve().parents[1])

TEXT = ("The quick brown fox\njumps over the lazy dog\n\nthe Dog's caf\u00e9 na\u00efve \u6f22\u5b57\ttab\n"
        "a b c d e f g\r\nfox fox FOX dog\nend without newline")
MORE = "second file\nthe fox again\n"
# not UTF-8 throughout: mrjob decodes such a line as latin-1 (a block of it, on mapfold, line by line)
STRAY = b"caf\xe9 na\xefve\r\nfine line\n\xff\xfe stray bytes\nthe end \xe9"
KEYED = "k1\tv1\nk2\tv2\tv3\nalone\nk1\tv0\n\u00e9\tcaf\u00e9\n"
# two chains and a cycle, numbered so that the smallest label needs several rounds to reach the far end
EDGES = "n5 n4\nn4 n3\nn3 n2\nn2 n1\nn1 n0\nm1 m2\nm2 m3\nc1 c2\nc2 c3\nc3 c1\n"
KITTIES = "a kitty\nkitty meow purr\n\ncat dog\nno cats\nmeow kitty kitty\n"
EVENTS = '{"user": "ann", "bytes": 120}\n{"user": "bob", "bytes": 80}\n{"user": "ann", "bytes": 30}\n'

# job file -> (input files as {name: text}, extra arguments)
JOBS = {
    "mr_word_count": ({"a.txt": TEXT, "b.txt.gz": MORE, "c.txt": STRAY}, []),
    "mr_most_used_word": ({"a.txt": TEXT, "b.txt": MORE}, []),
    "mr_sort_values": ({"a.txt": TEXT}, []),
    "mr_raw_lines": ({"a.txt": TEXT, "b.txt.gz": MORE}, []),
    "mr_passthru": ({"a.txt": TEXT}, ["--min-length", "3", "--stop-words", "{stop}"]),
    "mr_init_final": ({"a.txt": TEXT}, []),
    "mr_map_only": ({"a.txt": TEXT}, []),
    "mr_tuple_keys": ({"a.txt": TEXT}, []),
    "mr_pickle_repr": ({"a.txt": TEXT}, []),
    "mr_json_values": ({"events.jsonl": EVENTS}, []),
    "mr_raw_protocol": ({"keyed.txt": KEYED}, []),
    "mr_bytes": ({"a.txt": TEXT}, []),
    "mr_text_values": ({"a.txt": TEXT, "c.txt": STRAY}, []),
    "mr_shell_substeps": ({"keyed.txt": KEYED, "b.txt.gz": MORE}, []),
    "mr_kitty_pre_filter": ({"kitties.txt": KITTIES}, []),
    "mr_components": ({"edges.txt": EDGES}, ["--iterations", "3"]),
    "mr_task_env": ({"a.txt": TEXT, "b.txt.gz": MORE}, ["-D", "cli.key=from -D", "--cmdenv", "FOO=bar"]),
    "mr_spark_word_count": ({"a.txt": TEXT, "b.txt.gz": MORE}, []),  # a spark() step: test_spark_steps.py
}
# jobs that only run where a runner sets their environment: not as plain shell pipelines
NEEDS_RUNNER = {"mr_task_env"}
# jobs whose shell substeps mrjob's inline runner refuses run on its local runner
MRJOB_RUNNER = {"mr_shell_substeps": "local", "mr_kitty_pre_filter": "local"}

_MRJOB_HOME = {"MRJob": "mrjob.job", "MRStep": "mrjob.step"}


def write_inputs(name: str, folder: Path) -> tuple[list[str], list[str]]:
    """The job's input files in ``folder`` and its arguments (``{stop}``: a stop-word file)."""
    files, args = JOBS[name]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file, text in files.items():
        path = folder / file
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        path.write_bytes(gzip.compress(data, mtime=0) if file.endswith(".gz") else data)
        paths.append(str(path))
    stop = folder / "stop.txt"
    stop.write_text("the\nfox\n", encoding="utf-8")
    return paths, [arg.format(stop=stop) for arg in args]


def mrjob_twin(name: str, folder: Path, source: Path | None = None) -> Path:
    """The job file (``source``, else the corpus's ``name``) with ``from mapfold.jobs import ...``
    rewritten to mrjob's modules."""
    text = (source or CORPUS / f"{name}.py").read_text()

    def rewrite(match: re.Match) -> str:
        names = [n.strip() for n in match.group(1).split("#")[0].split(",")]
        return "\n".join(f"from {_MRJOB_HOME.get(n, 'mrjob.protocol')} import {n}" for n in names)

    twin = folder / f"{name}.py"
    twin.write_text(re.sub(r"^from mapfold\.jobs import (.+)$", rewrite, text, flags=re.M))
    return twin


def job_class(path: Path):
    """The MRJob subclass a job file defines, loaded without registering the module
    (so cloudpickle ships the class by value to worker processes)."""
    spec = importlib.util.spec_from_file_location(f"corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(obj for obj in vars(module).values()
                if inspect.isclass(obj) and obj.__module__ == module.__name__ and hasattr(obj, "steps"))


def environment(with_mapfold: bool = True) -> dict:
    env = {**os.environ, "MAPFOLD_PROGRESS": "0", "LC_ALL": "C"}
    if with_mapfold:
        env["PYTHONPATH"] = SOURCE + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


_MRJOB_DRIVER = """
import importlib, inspect, json, os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))  # mrjob finds the job's file from its module
module = importlib.import_module(os.path.basename(sys.argv[1])[:-3])
cls = next(o for o in vars(module).values()
           if inspect.isclass(o) and o.__module__ == module.__name__ and hasattr(o, "steps"))
with cls(args=["--no-conf", *sys.argv[2:]]).make_runner() as runner:
    runner.run()
    sys.stdout.buffer.write(b"".join(runner.cat_output()))
    sys.stderr.write("\\nCOUNTERS " + json.dumps(runner.counters()) + "\\n")
"""


def run_mrjob_file(twin: Path, args: list[str], folder: Path, runner: str = "inline") -> tuple[list[bytes], list]:
    """Real mrjob 0.7.4 on a job file written for it: the output lines (sorted) and ``runner.counters()``."""
    done = subprocess.run([sys.executable, "-c", _MRJOB_DRIVER, str(twin), "-r", runner, *args],
                          capture_output=True, env=environment(with_mapfold=False), cwd=folder, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    counters = json.loads(done.stderr.decode().rsplit("COUNTERS ", 1)[1])
    return sorted(done.stdout.splitlines()), counters


def run_mrjob(name: str, folder: Path) -> tuple[list[bytes], list[dict]]:
    """Real mrjob 0.7.4, ``-r inline`` (or ``MRJOB_RUNNER``'s): the output lines (sorted) and ``runner.counters()``."""
    inputs, args = write_inputs(name, folder / "input")
    twin = mrjob_twin(name, folder)
    return run_mrjob_file(twin, [*inputs, *args], folder, MRJOB_RUNNER.get(name, "inline"))


def run_mapfold(name: str, folder: Path, runner) -> tuple[list[bytes], list[dict]]:
    """The job on a mapfold runner instance: output lines (sorted) and counters per step."""
    inputs, args = write_inputs(name, folder / "input")
    job = job_class(CORPUS / f"{name}.py")(args=[*inputs, *args])
    with mapfold.runner(runner), job.make_runner() as job_runner:
        job_runner.run()
        lines = b"".join(job_runner.cat_output()).splitlines()
        return sorted(lines), job_runner.counters()


def run_streaming(name: str, folder: Path) -> list[bytes]:
    """The job as Hadoop Streaming tasks in shell pipelines: ``cat | --mapper | sort | --reducer`` per step."""
    inputs, args = write_inputs(name, folder / "input")
    script = CORPUS / f"{name}.py"
    job = job_class(script)(args=args)
    env = environment()
    task = f"{sys.executable} {script} {' '.join(args)}"
    data = b"".join(gzip.decompress(Path(p).read_bytes()) if p.endswith(".gz") else
                    Path(p).read_bytes() + (b"" if Path(p).read_bytes().endswith(b"\n") else b"\n")
                    for p in inputs)
    for num, step in enumerate(job.steps()):
        desc = step.description(num)
        parts = []

        def substep(kind: str) -> str:  # what Hadoop runs for it: the script's task, a command, a pre-filter
            return shlex.join(substep_args(desc[kind], [*shlex.split(task), f"--{kind}", "--step-num", str(num)]))

        if step["mapper_raw"]:  # a raw map task per file: Hadoop hands it the path and the URI
            data = b"".join(subprocess.run(f"{task} --mapper --step-num {num} {p} {p}", shell=True, env=env,
                                           capture_output=True, check=True).stdout for p in inputs)
        elif "mapper" in desc:
            parts.append(substep("mapper"))
        if "combiner" in desc:
            parts += ["sort", substep("combiner")]
        if "reducer" in desc:
            parts += ["sort", substep("reducer")]
        if not parts:
            continue
        done = subprocess.run(["bash", "-o", "pipefail", "-c", " | ".join(parts)], input=data,
                              capture_output=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr.decode()
        data = done.stdout
    return sorted(data.splitlines())


def _executable(path: Path, body: str) -> str:
    path.write_text("#!/bin/bash\nset -eo pipefail\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def run_madoop(name: str, folder: Path) -> list[bytes]:
    """The job under madoop, a Hadoop Streaming emulator from the package index, one madoop run per step.

    madoop takes executables without arguments, so each substep is a small
    script running what Hadoop would (the job's task, its command, its
    pre-filter); it has no combiner, so a combiner runs inside the mapper's
    script (``mapper | sort | combiner``), which Hadoop may also do. Like
    Hadoop, it reads the input uncompressed, so ``.gz`` inputs are
    decompressed first.
    """
    madoop = shutil.which("madoop") or str(Path(sys.executable).parent / "madoop")
    inputs, args = write_inputs(name, folder / "input")
    data = folder / "madoop-input"
    data.mkdir()
    for path in inputs:
        raw = Path(path).read_bytes()
        target = data / Path(path).name.removesuffix(".gz")
        target.write_bytes(gzip.decompress(raw) if path.endswith(".gz") else raw)
    script = CORPUS / f"{name}.py"
    job = job_class(script)(args=args)
    env = environment()
    task = [sys.executable, str(script), *args]
    source = data
    for num, step in enumerate(job.steps()):
        desc = step.description(num)

        def substep(kind: str) -> str:
            return shlex.join(substep_args(desc[kind], [*task, f"--{kind}", "--step-num", str(num)]))

        mapper = substep("mapper") if "mapper" in desc else "cat"
        if "combiner" in desc:
            mapper = f"{mapper} | LC_ALL=C sort | {substep('combiner')}"
        reducer = substep("reducer") if "reducer" in desc else "cat"
        out = folder / f"madoop-output-{num}"
        done = subprocess.run([madoop, "-input", str(source), "-output", str(out),
                               "-mapper", _executable(folder / f"mapper-{num}.sh", mapper),
                               "-reducer", _executable(folder / f"reducer-{num}.sh", reducer)],
                              capture_output=True, env=env, cwd=folder, timeout=300)
        assert done.returncode == 0, done.stderr.decode()
        source = out
    return sorted(line for part in sorted(source.glob("part-*")) for line in part.read_bytes().splitlines())


class Corpus:
    """The helpers above, handed to tests by the ``corpus`` fixture (test modules cannot import a conftest)."""

    jobs = JOBS
    needs_runner = NEEDS_RUNNER
    write_inputs = staticmethod(write_inputs)
    job_class = staticmethod(job_class)
    run_mrjob = staticmethod(run_mrjob)
    run_mrjob_file = staticmethod(run_mrjob_file)
    run_mapfold = staticmethod(run_mapfold)
    run_streaming = staticmethod(run_streaming)
    run_madoop = staticmethod(run_madoop)
    mrjob_twin = staticmethod(mrjob_twin)
    environment = staticmethod(environment)
    path = CORPUS


@pytest.fixture(scope="session")
def corpus():
    return Corpus


@pytest.fixture(scope="session")
def mrjob_result(tmp_path_factory):
    """Real mrjob's ``(sorted output lines, counters)`` for a corpus job, computed once per session."""
    pytest.importorskip("mrjob", reason="the corpus is compared with real mrjob: pip install 'mrjob>=0.7.4'")
    results: dict = {}

    def result(name: str):
        if name not in results:
            results[name] = run_mrjob(name, tmp_path_factory.mktemp(f"mrjob-{name}"))
        return results[name]

    return result


@pytest.fixture(scope="session")
def serial_runner():
    from mapfold.runners import make_runner

    instance = make_runner("serial")
    yield instance
    instance.close()
