"""Each job of the corpus gives, on every runner, the serial runner's output and real mrjob 0.7.4's.

mrjob runs for real (``-r inline``, in a subprocess, its imports rewritten
from the same file); output lines are compared sorted, since a shuffle's
output has no order on mapfold (mrjob's inline runner sorts by key), and
the bytes of each line must be equal. The streaming tasks, piped through
``sort`` as Hadoop Streaming would run them, must give the same lines.
"""
from __future__ import annotations

import pytest

NAMES = sorted([
    "mr_bytes", "mr_init_final", "mr_json_values", "mr_map_only", "mr_most_used_word", "mr_passthru",
    "mr_pickle_repr", "mr_raw_lines", "mr_raw_protocol", "mr_sort_values", "mr_text_values", "mr_tuple_keys",
    "mr_word_count", "mr_shell_substeps", "mr_kitty_pre_filter", "mr_task_env", "mr_components"])


SPARK_NAMES = ["mr_spark_word_count"]  # spark() steps, which mrjob runs on -r spark only: test_spark_steps.py


def test_names_cover_the_corpus(corpus):
    assert sorted(NAMES + SPARK_NAMES) == sorted(corpus.jobs) == sorted(p.stem for p in corpus.path.glob("mr_*.py"))


@pytest.mark.parametrize("name", NAMES)
def test_job_equals_mrjob_and_serial(name, runner, corpus, mrjob_result, serial_runner, tmp_path):
    expected_lines, expected_counters = mrjob_result(name)
    lines, counters = corpus.run_mapfold(name, tmp_path / "run", runner)
    assert lines  # the input was read: an empty output would equal a broken mrjob run's too
    assert lines == expected_lines
    assert counters == expected_counters
    if runner.name != "serial":
        assert (lines, counters) == corpus.run_mapfold(name, tmp_path / "serial", serial_runner)


@pytest.mark.parametrize("name", NAMES)
def test_streaming_pipeline_equals_mrjob(name, corpus, mrjob_result, tmp_path):
    if name in corpus.needs_runner:
        pytest.skip(f"{name} reads the variables a runner sets for its tasks; a shell pipeline sets none")
    assert corpus.run_streaming(name, tmp_path) == mrjob_result(name)[0]
