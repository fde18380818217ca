"""Map side of a shuffle: route records to buckets, combine, write files.

Each map task writes one file per non-empty bucket under the job's private
shuffle folder and returns a :class:`MapOutput` listing them.
"""
from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from typing import Iterator

__all__ = ["ShuffleWriter", "MapOutput"]


@dataclass
class MapOutput:
    files: dict = field(default_factory=dict)  # bucket -> path
    records: int = 0
    spilled_bytes: int = 0
    spilled_records: int = 0

    def bucket(self, index: int) -> list:
        path = self.files.get(index)
        return [path] if path else []


class ShuffleWriter:
    def __init__(self, shuffle, directory: str):
        self.buckets = shuffle.num_partitions
        self.partitioner = shuffle.partitioner
        self.aggregator = shuffle.aggregator
        self.directory = directory

    def __call__(self, partition: int, iterator: Iterator) -> MapOutput:
        partitioner, buckets = self.partitioner, self.buckets
        out = MapOutput()
        if self.aggregator is not None:
            create, merge = self.aggregator.create, self.aggregator.merge_value
            tables = [dict() for _ in range(buckets)]
            for key, value in iterator:
                table = tables[partitioner(key)]
                if key in table:
                    table[key] = merge(table[key], value)
                else:
                    table[key] = create(value)
                out.records += 1
            contents = [list(t.items()) for t in tables]
        else:
            contents = [[] for _ in range(buckets)]
            for record in iterator:
                contents[partitioner(record[0])].append(record)
                out.records += 1
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        for bucket, records in enumerate(contents):
            if records:
                path = os.path.join(self.directory, f"map-{partition:05d}-bucket-{bucket:05d}.pkl")
                with open(path, "wb") as f:
                    pickle.dump(records, f, protocol=pickle.HIGHEST_PROTOCOL)
                out.files[bucket] = path
        return out
