"""Record what real mrjob 0.7.4 gives for the corpus's spark-step jobs, into ``reference/``.

mrjob's ``-r local`` and ``-r inline`` cannot run a spark step; its spark
runner (``-r spark``) can: it runs the job file under the installed
PySpark's ``spark-submit`` on ``local[*]``. That takes about a minute per
job here, too slow for every test run, so the output is recorded once and
stored with the tests (``tests/jobs/test_spark_steps.py`` compares with
it). Rerun to refresh, never edit the files by hand::

    PYTHONPATH=src python tests/jobs/record_mrjob_spark.py
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import conftest  # noqa: E402  the corpus's inputs and mrjob twins, as the live mrjob tests use them

SPARK_JOBS = ["mr_spark_word_count"]
REFERENCE = HERE / "reference"


def reference_path(name: str) -> Path:
    return REFERENCE / f"{name}.json"


def record(name: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="mapfold-record-") as tmp:
        folder = Path(tmp)
        inputs, args = conftest.write_inputs(name, folder / "input")
        twin = conftest.mrjob_twin(name, folder)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # Spark's driver binds to loopback only
        lines, counters = conftest.run_mrjob_file(twin, [*inputs, *args], folder, "spark")
    return {"recorded_with": {"mrjob": version("mrjob"), "pyspark": version("pyspark"), "runner": "-r spark"},
            "lines": [line.decode("utf-8") for line in lines], "counters": counters}


def main() -> None:
    REFERENCE.mkdir(exist_ok=True)
    for name in SPARK_JOBS:
        result = record(name)
        reference_path(name).write_text(json.dumps(result, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
        print(f"{name}: {len(result['lines'])} lines from mrjob {result['recorded_with']['mrjob']}")


if __name__ == "__main__":
    main()
