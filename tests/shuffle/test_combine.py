"""The combine loops' feeder: budgeted batches (``shuffle/combine.py``)."""
from __future__ import annotations

import operator
from itertools import chain

from hypothesis import given, settings
from hypothesis import strategies as st

from mapfold.shuffle.combine import BudgetedBatches, combine_loop
from mapfold.shuffle.memory import FIRST_BATCH


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-50, 50), st.integers()), max_size=5000),
       st.sampled_from([1 << 10, 64 << 10, 1 << 30]))
def test_batches_hand_out_every_record_once_in_order(records, limit):
    batches = BudgetedBatches(iter(records), limit)
    seen = []
    for batch in batches:
        seen.extend(batch)
    assert seen == records


def test_the_table_is_weighed_after_each_round_and_batches_follow_the_budget():
    records = [(i % 100, i) for i in range(20_000)]
    batches = BudgetedBatches(iter(records), 64 << 10)  # a sixteenth of it: a few hundred small records
    sizes, looks, held = [], 0, []
    for batch in batches:
        batch = list(batch)
        sizes.append(len(batch))
        if batches.due:
            looks += 1
            held.append(batches.held)
            assert len(batch) == 1  # the peeked record, on its own
    assert sizes[0] == FIRST_BATCH
    assert 16 <= sizes[2] < FIRST_BATCH  # the model shrank the batches to the budget
    assert looks == len(held) > 1 and held == sorted(held)
    assert batches.records == held[-1] <= len(records)


def test_a_consumer_that_stops_leaves_the_input_right_after_the_last_record():
    records = iter([(i, 1) for i in range(5000)])
    batches = BudgetedBatches(records, 1 << 30)
    table: dict = {}
    loop = combine_loop(None, operator.add)
    for batch in batches:
        loop(table, batch)
        if batches.due:
            break  # as LocalCogroup does past the budget
    assert len(table) == FIRST_BATCH + 1
    assert next(records) == (FIRST_BATCH + 1, 1)


def test_a_consumer_that_spills_resets_held():
    batches = BudgetedBatches(iter(chain.from_iterable([(k, 1)] for k in range(10_000))), 16 << 10)
    resets = 0
    for batch in batches:
        list(batch)
        if batches.due and batches.held > 1000:
            batches.held = 0
            resets += 1
    assert resets > 1 and batches.held <= 1000 + batches.model.batch_size(16 << 10) + 1
