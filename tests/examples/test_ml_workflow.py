"""examples/ml_workflow.py (chapter 12) on the serial and processes runners: its saved models load in a
fresh process and predict what the script's own models predicted."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mapfold

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml_workflow.py"
SOURCE = str(Path(mapfold.__file__).resolve().parents[1])
TIMEOUT = 600  # seconds, on a busy 2-core machine

# run in a process that never saw the models: load each, predict the records the script kept
LOAD_AND_PREDICT = """
import json, sys
import numpy as np
import mapfold as mf
from mapfold.ml import PipelineModel

folder = sys.argv[1]
checks = [json.loads(line) for line in open(folder + "/check.jsonl")]
model = PipelineModel.load(folder)
got = model.transform(mf.from_sequence([c["record"] for c in checks], partitions=2)).collect(runner="serial")
assert len(got) == len(checks) == 50
for mine, theirs in zip(got, checks):
    assert mine["prediction"] == theirs["prediction"], (mine["prediction"], theirs["prediction"])
    np.testing.assert_allclose(mine["probability"], theirs["probability"], rtol=0, atol=1e-12)
print("same predictions:", len(got))
"""


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SOURCE, os.environ.get("PYTHONPATH")])),
            "MAPFOLD_PROGRESS": "0"}


@pytest.mark.parametrize("runner_name", ["serial", "processes"])
def test_saved_models_predict_the_same_in_a_fresh_process(runner_name, tmp_path):
    out = tmp_path / "models"
    done = subprocess.run([sys.executable, str(EXAMPLE), "6000", "--sample", "0.25", "--runner", runner_name,
                           "--out", str(out)], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, f"exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert f"on {runner_name}: sampled" in done.stdout
    assert done.stdout.count("loaded again predicts the same: True") == 2, done.stdout
    chosen = [line.split(":", 1)[1].split("(")[0] for line in done.stdout.splitlines() if line.startswith("chosen:")]
    names = [name.strip() for name in chosen[0].split(",")]
    assert len(names) == 2 and "logistic_regression" in names  # the best on this data, on every runner
    for name in names:
        folder = out / name
        assert (folder / "metadata.json").is_file()
        loaded = subprocess.run([sys.executable, "-c", LOAD_AND_PREDICT, str(folder)], cwd=tmp_path, env=_env(),
                                capture_output=True, text=True, timeout=TIMEOUT)
        assert loaded.returncode == 0, f"{name}: {loaded.stdout}\n{loaded.stderr}"
        assert "same predictions: 50" in loaded.stdout


def test_the_sample_is_the_same_on_both_runners(tmp_path):
    """What the script compares models on does not depend on the runner (Dataset.sample by seed)."""
    spec = importlib.util.spec_from_file_location("ml_workflow_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)  # defines, does not run main
    path = str(tmp_path / "t.csv")
    example.write_csv(path, 1500)
    samples = []
    for name in ("serial", "processes"):
        data, _ = mapfold.read_csv(path).random_split([0.8, 0.2], seed=3)
        samples.append([r["mean_radius"] for r in data.sample(0.25, seed=5).collect(runner=name)])
    assert samples[0] == samples[1] and 0 < len(samples[0]) < 1500
