"""What a reader does with a record it cannot read: raise, or skip and count.

``errors="raise"`` (the default) stops the job with an
:class:`~mapfold.core.errors.InputError` naming the file, the line and the
byte offset. ``errors="skip"`` drops the record, adds one to the counter
``"bad records"/<kind>`` and keeps a short sample of what was dropped
(path, line, offset, reason and the first :data:`TEXT_LIMIT` characters of
the line). Counts and samples travel back with the task results (see
``core/task_context.py``); after the run, ``Dataset.bad_records`` reads them.

Runs in the workers: imports only ``core``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.counters import SAMPLE_LIMIT, Counters
from ..core.task_context import current_task
from ..core.errors import InputError

__all__ = ["ERRORS", "GROUP", "BadRecord", "BadRecordPolicy", "BadRecordsReport", "check_errors"]

ERRORS = ("raise", "skip")
GROUP = "bad records"  # counter group; names are the kinds below
TEXT_LIMIT = 200

# the kinds of bad input, as counted
MALFORMED_JSON = "malformed JSON"
MALFORMED_CSV = "malformed CSV"
WRONG_FIELD_COUNT = "wrong field count"
BAD_VALUE = "bad value"
UNDECODABLE = "undecodable bytes"
TRUNCATED = "truncated or corrupt file"


def check_errors(errors: str) -> str:
    if errors not in ERRORS:
        raise ValueError(f"errors must be one of {', '.join(map(repr, ERRORS))}, not {errors!r}")
    return errors


@dataclass(frozen=True)
class BadRecord:
    """One record that could not be read."""

    kind: str
    path: str
    line: int | None
    offset: int | None  # byte offset of the line in the (decompressed) file, when known
    reason: str
    text: str  # the start of the offending line

    def where(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        return " ".join(parts)

    def __str__(self) -> str:
        text = f": {self.text!r}" if self.text else ""
        return f"{self.where()}: {self.kind} ({self.reason}){text}"


class BadRecordPolicy:
    """Raise or count a bad record; one per partition reader."""

    __slots__ = ("mode",)

    def __init__(self, mode: str = "raise"):
        self.mode = check_errors(mode)

    def __call__(self, kind: str, path: str, line: int | None, offset: int | None, reason: str,
                 text: str | bytes = "") -> None:
        if isinstance(text, bytes):
            text = text[: TEXT_LIMIT * 4].decode("utf-8", "backslashreplace")
        record = BadRecord(kind, path, line, offset, reason, text[:TEXT_LIMIT])
        if self.mode == "raise":
            hint = " (pass errors='skip' to skip such records and count them)"
            raise InputError(f"{record}{hint}", path=path, line=line)
        task = current_task()
        if task is not None:  # read outside any job (a partition opened by hand): nobody to report to
            task.increment(GROUP, kind)
            task.keep_sample(GROUP, record, SAMPLE_LIMIT)


@dataclass(frozen=True)
class BadRecordsReport:
    """Bad records skipped by the last run: counts by kind and a sample.

    >>> report = BadRecordsReport.from_counters(Counters())
    >>> report.total, report.counts, report.sample
    (0, {}, [])
    """

    counts: dict
    sample: list

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def from_counters(cls, counters: Counters) -> "BadRecordsReport":
        counts = dict(counters.get(GROUP, {}))
        return cls(counts, list(counters.samples.get(GROUP, [])))

    def __bool__(self) -> bool:
        return self.total > 0

    def __str__(self) -> str:
        if not self.total:
            return "no bad records"
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
        lines = [f"{self.total} bad records skipped ({kinds}); first {len(self.sample)}:"]
        lines.extend(f"  {record}" for record in self.sample)
        return "\n".join(lines)
