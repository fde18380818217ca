"""Run the parity programs (``programs.py``) on real PySpark and store their
results as the references ``test_parity.py`` compares mapfold with.

    /work/main/.venv/bin/python tests/compat/record_pyspark.py            # every program, local and local[2]
    /work/main/.venv/bin/python tests/compat/record_pyspark.py page_rank  # some programs only (merged in)

Needs pyspark and a Java runtime. Writes ``reference/<master>.json``:
``{"pyspark": version, "results": {program: result}}``; a program that
raises records ``{"error": "ExceptionType"}``. Never edit those files by hand:
rerun this script.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MASTERS = ["local", "local[2]"]


def reference_path(master: str) -> Path:
    return HERE / "reference" / f"{master.replace('[', '-').replace(']', '')}.json"


def record(master: str, names: list[str]) -> dict:
    import pyspark

    import programs

    # PySpark's Python workers import `programs` (the functions are pickled by reference)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    conf = pyspark.SparkConf().setMaster(master).setAppName("mapfold-parity").set("spark.ui.enabled", "false")
    sc = pyspark.SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    results = {}
    try:
        for name in names:
            with tempfile.TemporaryDirectory() as folder:
                data = programs.make_inputs(folder)
                try:
                    results[name] = programs.canonical(programs.PROGRAMS[name](sc, data))
                except Exception as exc:  # recorded: the tests then expect the same kind of failure
                    results[name] = {"error": type(exc).__name__}
                print(f"{master} {name}: {json.dumps(results[name])[:100]}", file=sys.stderr)
    finally:
        sc.stop()
    return {"pyspark": pyspark.__version__, "results": results}


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    import programs

    names = argv or list(programs.PROGRAMS)
    for master in MASTERS:
        path = reference_path(master)
        recorded = record(master, names)
        if argv and path.exists():  # merge the programs asked for into the stored references
            stored = json.loads(path.read_text())
            stored["results"].update(recorded["results"])
            stored["pyspark"] = recorded["pyspark"]
            recorded = stored
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
