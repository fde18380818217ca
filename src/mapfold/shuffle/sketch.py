"""count_approx_distinct through Apache DataSketches' HyperLogLog."""
from __future__ import annotations

import math
from typing import Iterator

from ..core.hashing import stable_hash

__all__ = ["HllFinisher", "merge_sketches"]


class HllFinisher:
    def __init__(self, lg_k: int):
        self.lg_k = lg_k

    @classmethod
    def for_error(cls, relative_error: float) -> "HllFinisher":
        if not 0 < relative_error < 1:
            raise ValueError(f"relative_error must be in (0, 1), not {relative_error}")
        # HLL standard error is about 1.04 / sqrt(2**lg_k)
        lg_k = math.ceil(2 * math.log2(1.04 / relative_error))
        return cls(min(21, max(4, lg_k)))

    def __call__(self, partition: int, iterator: Iterator) -> bytes:
        import datasketches

        sketch = datasketches.hll_sketch(self.lg_k)
        update = sketch.update
        for x in iterator:
            update(stable_hash(x))
        return sketch.serialize_compact()


def merge_sketches(parts: list[bytes], finisher: HllFinisher) -> int:
    import datasketches

    union = datasketches.hll_union(finisher.lg_k)
    for blob in parts:
        union.update(datasketches.hll_sketch.deserialize(blob))
    return int(round(union.get_estimate()))
