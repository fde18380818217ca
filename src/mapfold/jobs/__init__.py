"""mrjob-compatible jobs on mapfold's runners: ``MRJob``, ``MRStep`` and mrjob 0.7's protocols.

Port an mrjob job file by changing its imports to ``from mapfold.jobs import
...``; see ``docs/jobs.md``.

>>> from mapfold.jobs import MRJob, MRStep, JSONProtocol
>>> MRJob.INPUT_PROTOCOL.__name__, MRJob.INTERNAL_PROTOCOL is JSONProtocol
('RawValueProtocol', True)
"""
from .commands import SubstepCommandError
from .conf import ConfError, ConfWarning
from .hadoop import HadoopError
from .job import JobDefinitionError, MRJob, UsageError
from .protocols import (
    BytesProtocol,
    BytesValueProtocol,
    JSONProtocol,
    JSONValueProtocol,
    PickleProtocol,
    PickleValueProtocol,
    RawProtocol,
    RawValueProtocol,
    ReprProtocol,
    ReprValueProtocol,
    StandardJSONProtocol,
    StandardJSONValueProtocol,
    TextProtocol,
    TextValueProtocol,
)
from .step import MRStep, SparkStep, StepArgumentError, StepConflictError

__all__ = [
    "MRJob", "MRStep", "SparkStep", "JobRunner",
    "JSONProtocol", "JSONValueProtocol", "StandardJSONProtocol", "StandardJSONValueProtocol",
    "RawProtocol", "RawValueProtocol", "TextProtocol", "TextValueProtocol",
    "BytesProtocol", "BytesValueProtocol", "PickleProtocol", "PickleValueProtocol",
    "ReprProtocol", "ReprValueProtocol",
    "JobDefinitionError", "StepArgumentError", "StepConflictError", "UsageError",
    "SubstepCommandError", "HadoopError", "ConfError", "ConfWarning",
]


def __getattr__(name: str):
    # the runner brings the engine (Dataset, io, fsspec): imported when a job runs, not when a job
    # file starts as a Hadoop Streaming task (``--mapper``), which needs the task code only
    if name == "JobRunner":
        from .runner import JobRunner

        globals()["JobRunner"] = JobRunner
        return JobRunner
    raise AttributeError(f"module 'mapfold.jobs' has no attribute {name!r}")
