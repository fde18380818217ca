"""Every script in examples/ runs as a reader would run it, small, and says what it should.

Each runs as ``python examples/NAME.py ARGS`` in a fresh folder, with this
checkout's mapfold first on the path. ``CASES`` gives each script its small
arguments and the lines its output must have (each script checks its
answer against plain Python and prints the comparison). A new script
without a case, or without its line in examples/README.md, fails here.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mapfold

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIMEOUT = 300  # seconds; each takes a few on the 2-core machine

CASES = {
    "parallel_map.py": (["3000"], [r"same as map\(\): True", r"chunksize=1: .* same: True",
                                   r"chunksize='auto': .* same: True",
                                   r"imap over itertools.count\(\), first 10: \[0, 1, 7, 2, 5, 8, 16, 3, 19, 6\]",
                                   r"imap_unordered: 3000 results, same once sorted: True",
                                   r"same as itertools.starmap: True"]),
    "pipelines.py": (["12"], [r"pipe on \S+\.py: \[", r"pool.map\(compose\(...\)\) same as map\(\): True"]),
    "lazy_workflows.py": (["5"], [r"files opened so far: 0", r"took 5 definitions, opening 1 of \d+ files",
                                  r"take\(5\) on the serial runner: 5 definitions"]),
    "fold.py": (["10"], [r"same as sum\(\): True", r"combine=merge_counts\): same as reduce: True",
                         r"mean word length: \d+\.\d+", r"then reduce\(merge_counts\): same as reduce: True"]),
    "word_count.py": (["10", "--runner", "processes"],
                      [r"10 files, \d+ partitions, on processes",
                       r"reduce_by_key, count_by_value and plain Python agree: True"]),
    "by_key.py": (["120"], [r"largest packages by lines: ", r"lines per module",
                            r"reduce_by_key agrees with plain Python: True; join covers every package: True"]),
    "ml_workflow.py": (["6000", "--sample", "0.25", "--runner", "serial"],
                       [r"wrote 6,000 rows", r"on serial: sampled \d[\d,]* of \d[\d,]* rows \(25%\)",
                        r"logistic_regression: best areaUnderROC 0\.9\d+", r"chosen: ",
                        r"retrained on .* loaded again predicts the same: True"]),
    "pagerank.py": (["--edges", "2000", "--iterations", "3"], [r"largest difference from scipy: \d\.\d+e-(1[0-9]|0[7-9])"]),
}


def scripts() -> list[str]:
    return sorted(path.name for path in EXAMPLES.glob("*.py"))


def test_every_script_has_a_case_and_a_line_in_the_readme():
    readme = (EXAMPLES / "README.md").read_text()
    assert sorted(CASES) == scripts(), "give each script in examples/ a case here (and only those)"
    missing = [name for name in scripts() if f"]({name})" not in readme]
    assert not missing, f"examples/README.md has no line for {missing}"


@pytest.mark.parametrize("name", scripts())
def test_example_runs_and_checks_out(name, tmp_path):
    args, expected = CASES[name]
    source = str(Path(mapfold.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
           "MAPFOLD_PROGRESS": "0"}
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    missing = [pattern for pattern in expected if not re.search(pattern, done.stdout)]
    assert not missing, f"{name} printed no line matching {missing}:\n{done.stdout}"
