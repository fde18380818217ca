"""The book's chapter 8 jobs (examples/jobs/) give real mrjob 0.7.4's output, on mapfold's local runners."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "jobs"
JOBS = {
    "mr_log_errors": ("access.log", []),
    "mr_court_dominance": ("matches.csv", ["--player", "Serena Williams"]),
    "mr_sibling_rivalry": ("matches.csv", []),
    "mr_player_elo": ("matches.csv", []),
}


def test_every_job_is_tested():
    assert sorted(JOBS) == sorted(p.stem for p in EXAMPLES.glob("mr_*.py"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("make_data", EXAMPLES / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = tmp_path_factory.mktemp("book-data")
    module.main(str(folder), 600, 2000)
    return folder


@pytest.mark.parametrize("name", sorted(JOBS))
def test_book_job_equals_mrjob(name, data, corpus, tmp_path):
    pytest.importorskip("mrjob", reason="compared with real mrjob: pip install 'mrjob>=0.7.4'")
    file, args = JOBS[name]
    twin = corpus.mrjob_twin(name, tmp_path, EXAMPLES / f"{name}.py")
    expected = corpus.run_mrjob_file(twin, [str(data / file), *args], tmp_path)
    for runner in ("inline", "local"):
        done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), str(data / file), "-r", runner,
                               "--no-conf", *args], capture_output=True, env=corpus.environment(), timeout=300)
        assert done.returncode == 0, done.stderr.decode()
        assert sorted(done.stdout.splitlines()) == expected[0]
        assert expected[0]
