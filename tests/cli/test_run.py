"""``mapfold run`` and ``mapfold explain``: every runner, job files, failures, Ctrl-C, a missing engine."""
from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from .helpers import environment, mapfold_cli

WORD_COUNT = textwrap.dedent("""\
    import operator, sys
    import mapfold as mf

    lines = mf.from_sequence(["a b", "b c", "c c"] * 20, partitions=4)
    counts = lines.flat_map(str.split).map(lambda w: (w, 1)).reduce_by_key(operator.add)
    print(sorted(counts.collect()), sys.argv[1:])
""")
EXPECTED = "[('a', 20), ('b', 40), ('c', 60)]"
ENGINES = {"dask": "distributed", "spark": "pyspark", "ray": "ray"}


def _needs(runner: str) -> None:
    module = ENGINES.get(runner)
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "wc.py"
    path.write_text(WORD_COUNT)
    return path


@pytest.mark.parametrize("runner", ["serial", "processes", "dask", "spark", "ray"])
def test_run_gives_the_serial_result_on_every_runner(script, runner):
    _needs(runner)
    options = {"processes": ["--runner-option", "workers=2"], "dask": ["--runner-option", "workers=2"],
               "ray": ["--runner-option", "num_cpus=2"], "spark": ["--runner-option", "master=local[2]"]}
    done = mapfold_cli("run", str(script), "-r", runner, *options.get(runner, []), "--", "in.txt", "--flag",
                       cwd=script.parent, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"{EXPECTED} ['in.txt', '--flag']"
    # the run record summary: the script's one action, on the runner the command line chose
    assert f"1 action on {runner}" in done.stderr and "chosen by command line" in done.stderr
    assert "collect: succeeded, 2 stages, 8 tasks" in done.stderr


def test_the_codes_own_runner_wins_over_the_command_line(tmp_path):
    path = tmp_path / "own.py"
    path.write_text("import mapfold as mf\nwith mf.runner('serial'):\n"
                    "    ds = mf.from_sequence([1, 2])\n    print(ds.count(), ds.last_run.runner_source)\n"
                    "ds = mf.from_sequence([3])\nprint(ds.count(), ds.last_run.runner, ds.last_run.runner_source)\n")
    done = mapfold_cli("run", str(path), "-r", "processes", "--runner-option", "workers=1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["2 mf.runner() block", "1 processes command line"]


def test_runner_from_environment_and_config_file(tmp_path, script):
    (tmp_path / "mapfold.toml").write_text('runner = "processes"\nworkers = 1\n')
    done = mapfold_cli("run", str(script), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"on processes (1 workers), chosen by file {tmp_path / 'mapfold.toml'}," in done.stderr
    done = mapfold_cli("run", str(script), "--runner-option", "workers=1", cwd=tmp_path,
                       env=environment(MAPFOLD_RUNNER="serial"))
    assert done.returncode != 0 and "serial runner takes no option 'workers'" in done.stderr
    (tmp_path / "mapfold.toml").write_text('runner = "processes"\n')
    done = mapfold_cli("run", str(script), cwd=tmp_path, env=environment(MAPFOLD_RUNNER="serial"))
    assert done.returncode == 0 and "on serial, chosen by environment MAPFOLD_RUNNER" in done.stderr


JOB = textwrap.dedent("""\
    from mapfold.jobs import MRJob

    class MRWordCount(MRJob):
        def mapper(self, _, line):
            for word in line.split():
                yield word, 1

        def reducer(self, word, counts):
            yield word, sum(counts)
""")


@pytest.mark.parametrize("main_guard", [True, False])
def test_a_job_file_runs_through_its_own_command_line(tmp_path, main_guard):
    (tmp_path / "in.txt").write_text("a b\nb c c\n")
    path = tmp_path / "job.py"
    path.write_text(JOB + ("\nif __name__ == '__main__':\n    MRWordCount.run()\n" if main_guard else ""))
    done = mapfold_cli("run", str(path), "-r", "serial", "--", "in.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == ['"a"\t1', '"b"\t2', '"c"\t2']
    assert "on serial, chosen by command line" in done.stderr


def test_a_failing_script_exits_nonzero_with_the_errors_context(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("import mapfold as mf\n\ndef parse(x):\n    return int(x)\n\n"
                    "print(mf.from_sequence(['1', 'x', '3'], partitions=3).map(parse).collect())\n")
    done = mapfold_cli("run", str(path), "-r", "serial", cwd=tmp_path)
    assert done.returncode == 1
    last = done.stderr[done.stderr.index("mapfold run: bad.py failed"):]
    assert "at bad.py line 6: ValueError: invalid literal for int() with base 10: 'x'" in last
    assert "partition 1" in last  # mapfold's note: where in the plan it failed
    assert "collect: failed" in done.stderr


def test_a_missing_engine_says_what_to_install(tmp_path, script):
    shim = tmp_path / "shim"
    for module in ("distributed", "ray"):
        (shim / module).mkdir(parents=True)
        (shim / module / "__init__.py").write_text(f"raise ImportError('No module named {module}')\n")
    env = environment()
    env["PYTHONPATH"] = f"{shim}{os.pathsep}{env['PYTHONPATH']}"
    for runner, hint in (("dask", "pip install 'mapfold[dask]'"), ("ray", "pip install 'mapfold[ray]'")):
        done = mapfold_cli("run", str(script), "-r", runner, cwd=tmp_path, env=env)
        assert done.returncode == 1
        assert f"the {runner!r} runner is not available" in done.stderr and hint in done.stderr
        assert "Traceback" not in done.stderr


def test_ctrl_c_exits_130_and_leaves_no_worker(tmp_path):
    path = tmp_path / "slow.py"
    path.write_text("import time\nimport mapfold as mf\n\ndef slow(x):\n    time.sleep(60)\n    return x\n\n"
                    "print('started', flush=True)\nmf.from_sequence(range(4), partitions=4).map(slow).collect()\n")
    process = subprocess.Popen([sys.executable, "-m", "mapfold", "run", str(path), "-r", "processes",
                                "--runner-option", "workers=2"], cwd=tmp_path, env=environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout.readline().strip() == "started"
        parent = psutil.Process(process.pid)
        deadline = time.monotonic() + 60
        while len(parent.children(recursive=True)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = parent.children(recursive=True)
        assert len(workers) >= 2
        time.sleep(1)  # the tasks are sleeping in the workers
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "interrupted (Ctrl-C)" in err
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive


def test_explain_shows_settings_and_plan_without_running(tmp_path):
    (tmp_path / "mapfold.toml").write_text('profile = "small"\n[profiles.small]\nrunner = "processes"\nworkers = 2\n')
    path = tmp_path / "plan.py"
    path.write_text("import operator\nimport mapfold as mf\n\ndef mark(x):\n    open('ran', 'w').close()\n    return x\n\n"
                    "ds = mf.from_sequence(range(10), partitions=2).map(mark).map(lambda x: (x % 2, x))\n"
                    "print(ds.reduce_by_key(operator.add).collect())\n")
    done = mapfold_cli("explain", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    toml = tmp_path / "mapfold.toml"
    assert f"runner = processes  (from file {toml}, profile small)" in out
    assert f"workers = 2  (from file {toml}, profile small)" in out
    assert "profile: small (from file" in out
    assert "plan of the first action, collect (plan.py line 9), not run:" in out
    assert "reads reduce_by_key shuffle into 2 buckets" in out and "stage: map -> map  (2 partitions)" in out
    assert not (tmp_path / "ran").exists()


def test_explain_a_job_file_and_the_scripts_own_exit_status(tmp_path):
    (tmp_path / "in.txt").write_text("a b\n")
    job = tmp_path / "job.py"
    job.write_text(JOB + "\nif __name__ == '__main__':\n    MRWordCount.run()\n")
    done = mapfold_cli("explain", str(job), "-r", "serial", "--", "in.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "plan of the first action, job output (job.py line " in done.stdout
    assert "reads group_by_key shuffle into" in done.stdout
    exits = tmp_path / "exits.py"
    exits.write_text("import sys\nsys.exit(3)\n")
    assert mapfold_cli("run", str(exits), "-r", "serial", cwd=tmp_path).returncode == 3


def test_progress_bar_on_request(script):
    done = mapfold_cli("run", str(script), "-r", "serial", "--progress", cwd=script.parent)
    assert done.returncode == 0, done.stderr
    assert "reduce_by_key (map side):" in done.stderr and "0/4" in done.stderr  # tqdm's bar of a 4-task stage
    quiet = mapfold_cli("run", str(script), "-r", "serial", "--no-progress", "--no-summary", cwd=script.parent)
    assert quiet.returncode == 0 and quiet.stderr == ""
