"""Every code block of ``README.md`` and ``docs/**/*.md`` runs as a test, with Sybil.

Sybil (https://sybil.readthedocs.io) parses the Markdown and runs the
blocks; nothing here parses Markdown:

* ```` ```python ```` blocks of ``README.md`` and ``docs/*.md`` run in one
  namespace per document, in order, as one script would
  (``__name__ == "__main__"``); a block of ``>>>`` lines is a doctest
  (its output is checked, with ``...`` matching anything);
* ```` ```python ```` blocks of ``docs/runners/*.md`` and ``docs/pool.md`` run
  each as a script of its own (``python script.py``), since that is how a
  reader pastes them and how an engine sees them (Dask's worker processes
  re-import the script; ``multiprocessing`` pickles functions by their name
  in ``__main__``);
* ```` ```bash ````/```` ```sh ```` blocks run in bash; a block of ``make``
  commands is dry-run (``make -n``) in the repository: ``make test`` is this
  suite and ``make demo`` has its own tests, so only that each target exists
  and its recipe expands is checked here;
* a block that needs what no test machine has (a real cluster address) is
  preceded by ``<!-- skip: next "why" -->``, Sybil's own skip directive: the
  test is reported as skipped with that reason.

``tests/docs/test_every_block.py`` checks that no fenced block is left out.

Where the documents are: pytest walks only the testpaths (``tests/``,
``src/mapfold``), so this folder's ``documents.txt`` stands for them:
collecting it hands each document it names to Sybil's pytest hook, and the
tests are named by the document (``README.md::line:26,column:1``).

What the blocks assume (``doc_world``, one per document): a fresh temporary
folder as the working directory, holding the files a block reads
(``logs/``, ``day-01.csv``, ...); for a document that reads ``s3://``, the
session's S3 server (moto on 127.0.0.1, ``tests/conftest.py``) with its
buckets and data, its credentials in the environment as a reader's would be.
"""
from __future__ import annotations

import doctest
import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

import mapfold

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCRIPT_TIMEOUT = 600  # seconds: a cold Spark or Ray start on a busy 2-core machine


def documents() -> list[Path]:
    """The documents named by ``documents.txt``, in order, each once."""
    found: list[Path] = []
    for line in (HERE / "documents.txt").read_text().splitlines():
        pattern = line.split("#", 1)[0].strip()
        if pattern:
            found.extend(p for p in sorted(ROOT.glob(pattern)) if p not in found)
    return found


def _environment() -> dict:
    """The environment of a block's subprocess: this checkout's mapfold first, and ``python`` in a
    shell block is this Python (docs/jobs.md runs job files as ``python job.py``)."""
    source = str(Path(mapfold.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PYTHONPATH": source + (os.pathsep + path if path else ""), "MAPFOLD_PROGRESS": "0",
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def run_as_script(example) -> str | None:
    """Sybil evaluator: the block, saved as a file in the working folder, run by this Python."""
    script = Path.cwd() / f"script_line_{example.line}.py"
    script.write_text(example.parsed)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=_environment(),
                          timeout=SCRIPT_TIMEOUT)
    if done.returncode != 0:
        return f"python {script.name} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return None


def run_shell(example) -> str | None:
    """Sybil evaluator: the block in bash, or ``make -n`` for a block of make commands."""
    commands = [line.split("#", 1)[0].strip() for line in example.parsed.splitlines()]
    commands = [command for command in commands if command]
    if commands and all(command.split()[0] == "make" for command in commands):
        runs = [["make", "-n", "-C", str(ROOT), *command.split()[1:]] for command in commands]
    else:
        runs = [["bash", "-euo", "pipefail", "-c", example.parsed]]
    for run in runs:
        done = subprocess.run(run, capture_output=True, text=True, env=_environment(), timeout=SCRIPT_TIMEOUT)
        if done.returncode != 0:
            return f"{' '.join(run)} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return None


def _as_main(namespace: dict) -> None:
    namespace["__name__"] = "__main__"  # as a script: `if __name__ == "__main__":` blocks run


def _shell_parsers() -> list:
    return [CodeBlockParser(language, evaluator=run_shell) for language in ("bash", "sh")]


SCRIPT_DOCS = ["docs/pool.md", "docs/jobs.md"]  # besides docs/runners/: blocks that only work as real scripts
IN_ONE_NAMESPACE = Sybil(
    parsers=[PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE),
             *_shell_parsers(), SkipParser()],
    path=str(ROOT), patterns=["README.md", "docs/*.md"], excludes=SCRIPT_DOCS, setup=_as_main, fixtures=["doc_world"],
    name="namespace",
)
AS_SCRIPTS = Sybil(
    parsers=[CodeBlockParser("python", evaluator=run_as_script), *_shell_parsers(), SkipParser()],
    path=str(ROOT), patterns=["docs/runners/*.md", *SCRIPT_DOCS], fixtures=["doc_world"], name="scripts",
)
SYBILS = IN_ONE_NAMESPACE + AS_SCRIPTS
_collect_document = SYBILS.pytest()


class Documents(pytest.File):
    """``documents.txt``: collects the documents it names through Sybil's hook."""

    def collect(self):
        for document in documents():
            collector = _collect_document(file_path=document, parent=self)
            if collector is None:
                raise pytest.UsageError(f"{document} is named in documents.txt but no Sybil here parses it")
            yield collector


def pytest_collect_file(file_path: Path, parent):
    if file_path == HERE / "documents.txt":
        return Documents.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def docs_config():
    """``(repository root, documents, sybils)`` for tests of this very setup."""
    return ROOT, documents(), SYBILS


# -- the files and services each document's blocks assume ---------------------------
def _logs(folder: Path) -> None:
    logs = folder / "logs"
    logs.mkdir()
    (logs / "access-1.txt").write_text("GET /index\nGET /about\nPOST /index\n")
    (logs / "access-2.txt.gz").write_bytes(gzip.compress(b"GET /index\nGET /contact\nGET /index\n"))
    (logs / "access-3.txt.gz").write_bytes(gzip.compress(b"POST /contact\n"))


def _object_store(folder: Path, request, monkeypatch) -> None:
    """docs/io.md: buckets, the events it reads (two lines are not JSON), local files to put."""
    import boto3

    endpoint = request.getfixturevalue("s3_endpoint")
    options = request.getfixturevalue("s3_options")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", options["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", options["secret"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=options["key"], aws_secret_access_key=options["secret"])
    for name in ("logs", "reports", "bucket"):
        s3.create_bucket(Bucket=name)
    day1 = b'{"user": "ann", "bytes": 120}\n{"user": "bob", "bytes": 80}\n{"user": "ann", "bytes": 30\n'
    day2 = b'{"user": "bob", "bytes": 20}\nGET /index HTTP/1.1\n{"user": "cid", "bytes": 5}\n'
    s3.put_object(Bucket="logs", Key="2024/01-01.jsonl.gz", Body=gzip.compress(day1))
    s3.put_object(Bucket="logs", Key="2024/01-02.jsonl.gz", Body=gzip.compress(day2))
    (folder / "day-01.csv").write_text("sensor,celsius\nroof,21.5\ncellar,12.0\n")
    (folder / "exports").mkdir()
    (folder / "exports" / "january.csv").write_text("sensor,celsius\nhand,19.0\n")


WORLDS = {"docs/io.md": [_object_store]}  # every document also gets logs/


@pytest.fixture(scope="module")
def doc_world(request, tmp_path_factory):
    """A working folder (and services) for one document's blocks; see the module docstring."""
    document = Path(request.node.path).resolve().relative_to(ROOT).as_posix()
    folder = tmp_path_factory.mktemp(document.replace("/", "-").replace(".md", ""))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(folder)
        _logs(folder)
        for make in WORLDS.get(document, []):
            make(folder, request, monkeypatch)
        yield folder
