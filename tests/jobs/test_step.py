"""MRStep accepts what mrjob's accepts and refuses the rest with the same error type and message."""
from __future__ import annotations

import pytest

from mapfold import MapfoldError
from mapfold.jobs import MRJob, MRStep
from mapfold.jobs.step import COMBINER_FUNCS, MAPPER_FUNCS, REDUCER_FUNCS

mrjob_step = pytest.importorskip("mrjob.step", reason="compared with real mrjob: pip install 'mrjob>=0.7.4'")


def f(*args):
    return ()


BAD = [
    {},
    {"jobconf": {"a": "b"}},
    {"mapper": f, "mapepr": f},
    {"mapper": f, "spark": f},
    {"mapper_cmd": "cat", "mapper": f},
    {"mapper_cmd": "cat", "mapper_init": f},
    {"mapper_raw": f, "mapper": f},
    {"mapper_raw": f, "mapper_pre_filter": "grep x"},
    {"combiner_cmd": "cat", "combiner": f},
    {"reducer_cmd": "cat", "reducer_final": f},
]
GOOD = [
    {"mapper": f}, {"reducer": f}, {"combiner": f}, {"mapper_init": f}, {"reducer_final": f},
    {"combiner_init": f, "reducer": f}, {"mapper_raw": f, "mapper_final": f}, {"mapper": None},
    {"mapper": f, "jobconf": {"k": "v"}}, {"mapper_cmd": "cat"}, {"reducer_pre_filter": "grep x", "reducer": f},
    {name: f for name in MAPPER_FUNCS if name not in ("mapper_cmd", "mapper_raw", "mapper_pre_filter")}
    | {name: f for name in COMBINER_FUNCS + REDUCER_FUNCS if not name.endswith(("_cmd", "_pre_filter"))},
]


@pytest.mark.parametrize("kwargs", BAD, ids=lambda kw: ",".join(kw) or "nothing")
def test_same_errors_as_mrjob(kwargs):
    with pytest.raises(Exception) as theirs:
        mrjob_step.MRStep(**kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        MRStep(**kwargs)
    assert str(ours.value) == str(theirs.value)
    assert isinstance(ours.value, MapfoldError)


@pytest.mark.parametrize("kwargs", GOOD, ids=lambda kw: ",".join(kw))
def test_same_description_and_implicit_substeps_as_mrjob(kwargs):
    ours, theirs = MRStep(**kwargs), mrjob_step.MRStep(**kwargs)
    for num in (0, 1):
        assert ours.description(num) == theirs.description(num)
    for name in ("mapper", "combiner", "reducer"):
        assert (ours[name] is None) == (theirs[name] is None)
        assert (ours[name] is kwargs.get(name)) == (theirs[name] is kwargs.get(name))
    assert (ours.has_explicit_mapper, ours.has_explicit_combiner, ours.has_explicit_reducer) == \
           (theirs.has_explicit_mapper, theirs.has_explicit_combiner, theirs.has_explicit_reducer)


def test_default_steps_come_from_the_overridden_methods():
    class Job(MRJob):
        def mapper(self, key, value):
            yield key, value

        def reducer_final(self):
            return ()

    (step,) = Job(args=[]).steps()
    assert step.has_explicit_mapper and step.has_explicit_reducer and not step.has_explicit_combiner
    assert MRJob(args=[]).steps() == []


def test_shell_substeps_have_no_python_to_call():
    class Shell(MRJob):
        def mapper_cmd(self):
            return "cat"

    with pytest.raises(MapfoldError, match="step 0's mapper is a shell command \\(mapper_cmd\\)"):
        list(Shell(args=[]).map_pairs([(None, "x")]))
