"""The processes runner's own behaviour: ``from_sequence`` data shared with
the workers at fork (``parallel/executor.ProcessExecutor.share_at_fork``)."""
from __future__ import annotations

import os
import signal

import mapfold as mf
from mapfold.runners.processes import ProcessRunner

PICKLED: list[int] = []  # the driver's count of Item pickles (the pool's feeder thread runs in the driver)


class Item:
    """A record that counts how often the driver pickles it."""

    def __init__(self, value: int):
        self.value = value

    def __reduce__(self):
        PICKLED.append(self.value)
        return (Item, (self.value,))


def value_of(item: Item) -> int:
    return item.value


def test_a_fresh_pool_reads_sequence_partitions_from_its_fork_not_the_queue():
    items = [Item(i) for i in range(100)]
    ds = mf.from_sequence(items, partitions=4).map(value_of)
    with ProcessRunner(workers=2) as runner:
        PICKLED.clear()
        assert ds.collect(runner=runner) == list(range(100))
        assert PICKLED == []  # the workers were forked after the Dataset was built: they hold its items
        assert runner.executor._shared == {}  # the driver's hold ends with the job
        assert ds.collect(runner=runner) == list(range(100))  # the pool runs: the items travel pickled again
        assert sorted(PICKLED) == list(range(100))
    assert ds.collect(runner="serial") == list(range(100))


def kill_first_attempt(marker: str):
    def step(item: Item) -> int:
        try:  # exactly one task, of whichever worker comes first, makes the marker and dies
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return item.value
        os.kill(os.getpid(), signal.SIGKILL)

    return step


def test_a_replacement_worker_forked_mid_job_has_the_shared_partitions_too(tmp_path):
    marker = str(tmp_path / "attempts")
    ds = mf.from_sequence([Item(i) for i in range(6)], partitions=2).map(kill_first_attempt(marker))
    with ProcessRunner(workers=2) as runner:
        PICKLED.clear()
        assert ds.collect(runner=runner) == list(range(6))
        assert runner.executor.restarts == 1  # a new generation of workers, forked while the job ran
        assert PICKLED == []
