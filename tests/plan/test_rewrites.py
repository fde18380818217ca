"""Plan-time rewrites are declared, chosen by the planner, and shown by explain() (issue 9)."""
from __future__ import annotations

import inspect
import operator

import mapfold as mf
from mapfold.plan.stages import CACHE, RESULT, SHUFFLE_MAP, compile_stage
from mapfold.plan import finishers
from mapfold.runners import tasks as task_code


def _text(tmp_path, lines=("a b c", "b c", "c")):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_word_path_is_chosen_by_the_planner_and_explained(tmp_path, serial):
    words = mf.read_text(_text(tmp_path)).flat_map(str.split)
    stage = compile_stage(words.node, finishers.to_list, "collect")
    assert [task.rewrite.view for task in stage.tasks] == ["words"]
    assert stage.rewrites == ["flat_map(str.split) → word path (text split once per block)"]
    assert "rewrite: flat_map(str.split) → word path" in words.explain_string()
    assert words.collect(runner=serial) == ["a", "b", "c", "b", "c", "c"]
    assert "[rewrite: flat_map(str.split) → word path" in words.explain_string()  # the last run's stages


def test_no_rewrite_where_the_input_has_no_such_view(serial):
    words = mf.from_sequence(["a b", "c"]).flat_map(str.split)
    assert compile_stage(words.node, finishers.to_list, "collect").tasks[0].rewrite is None
    assert "rewrite" not in words.explain_string()
    other = mf.from_sequence(["a b"]).flat_map(lambda s: s.split())
    assert other.node.reads_as is None


def test_column_sums_are_a_declared_rewrite(tmp_path, serial):
    path = tmp_path / "pairs.tsv"
    path.write_text("a\t1\nb\t2\na\t3\n")
    sums = mf.read_key_value(str(path)).map_values(int).reduce_by_key(operator.add)
    assert "rewrite" not in sums.explain_string()  # a step between the source and the sum: records
    direct = mf.read_key_value(str(path)).reduce_by_key(operator.add)
    assert "rewrite: reduce_by_key(operator.add) → Arrow column sums" in direct.explain_string()
    assert sorted(sums.collect(runner=serial)) == [("a", 4), ("b", 2)]


def test_stages_declare_their_role(serial):
    kept = mf.from_sequence([("a", 1), ("b", 2)], partitions=2).persist()
    summed = kept.reduce_by_key(operator.add, partitions=3)
    from mapfold.plan.execute import Job

    job = Job(serial)
    plan = job.prepare(summed.node, finishers.to_list, "collect")
    job.cleanup()
    roles = [stage.role for stage, _ in plan]
    assert roles == [CACHE, SHUFFLE_MAP, RESULT]
    assert plan[1][0].shuffle_of is summed.node and plan[0][0].cache_of is kept.node


def test_the_task_runner_knows_no_operation():
    source = inspect.getsource(task_code)
    for word in ("split", "words", "columns", "splits_words", "takes_columns"):
        assert word not in source.replace("view", ""), word
