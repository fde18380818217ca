"""Parquet as the fast path: one sum-by-key over the same data stored as CSV,
JSON lines and Parquet, with and without a selective filter.

    python benchmarks/formats.py --size-mb 1024        # ~1 GB of CSV
    python benchmarks/formats.py --size-mb 200 --repeat 1

Data (seeded, generated once into benchmarks/data/, reused when present):
rows of ``key`` (one of 10,000 user ids), ``day`` (0..364, ascending
through the file, as in a log), ``value`` (float) and ``note`` (a word).
The job: ``sum(value) by key``. It shuffles into ``REDUCERS`` buckets whatever the input partitioning, so
the formats differ only in reading. The filtered job keeps the last ~5% of days:
CSV and JSON lines must parse every row to test it; Parquet is read with
``columns=["key", "value"]`` and ``filters=[("day", ">=", cutoff)]``, so
row groups whose ``day`` statistics cannot match are never read.

Prints a table: wall seconds and CPU seconds (driver plus worker
processes, from psutil), best of ``--repeat``, and the ratios CSV / format.
CPU seconds are the steadier measure on a shared machine: wall time moves
with whatever else runs, CPU time much less.
"""
from __future__ import annotations

import argparse
import io
import operator
import os
import sys
import time

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import mapfold as mf

KEYS = 10_000
DAYS = 365
CHUNK = 500_000  # rows generated per step
REDUCERS = 8
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
         "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango"]


def generate(folder: str, size_mb: int, seed: int, row_group: int) -> dict:
    """Write data.csv, data.jsonl and data.parquet (the same rows) into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    paths = {fmt: os.path.join(folder, f"data.{fmt}") for fmt in ("csv", "jsonl", "parquet")}
    done = os.path.join(folder, "_COMPLETE")
    if os.path.exists(done):
        return paths
    rng = np.random.default_rng(seed)
    names = pa.array([f"user{k:05d}" for k in range(KEYS)])
    words = pa.array(WORDS)
    schema = pa.schema([("key", pa.string()), ("day", pa.int64()), ("value", pa.float64()), ("note", pa.string())])

    def chunk(first: int, n: int, total: int) -> pa.Table:
        rows = np.arange(first, first + n)
        return pa.table({
            "key": pc.take(names, pa.array(rng.integers(0, KEYS, n))),
            "day": pa.array(rows * DAYS // total),  # ascending through the file, as in a log
            "value": pa.array(np.round(rng.random(n) * 100, 2)),
            "note": pc.take(words, pa.array(rng.integers(0, len(WORDS), n))),
        }, schema=schema)

    # rows needed for the CSV to reach the size, measured on a sample
    sample = io.BytesIO()
    pacsv.write_csv(chunk(0, 100_000, 100_000), sample)
    total = max(1, int((size_mb << 20) / (len(sample.getvalue()) / 100_000)))
    rng = np.random.default_rng(seed)
    parquet = pq.ParquetWriter(paths["parquet"], schema, compression="snappy")
    written = 0
    with open(paths["csv"], "wb") as csv_file, open(paths["jsonl"], "wb") as jsonl_file:
        csv_writer = pacsv.CSVWriter(csv_file, schema)
        while written < total:
            n = min(CHUNK, total - written)
            table = chunk(written, n, total)
            csv_writer.write_table(table)
            parquet.write_table(table, row_group_size=row_group)
            jsonl_file.write(b"\n".join(orjson.dumps(r) for r in table.to_pylist()) + b"\n")
            written += n
            print(f"\r  generating: {csv_file.tell() >> 20} MB of CSV, {written:,} of {total:,} rows", end="",
                  file=sys.stderr)
        csv_writer.close()
    parquet.close()
    print(file=sys.stderr)
    open(done, "w").close()
    return paths


def pair(record):
    return record["key"], record["value"]


def job(fmt: str, path: str, cutoff: int | None, runner) -> dict:
    if fmt == "parquet":
        filters = [("day", ">=", cutoff)] if cutoff is not None else None
        ds = mf.read_parquet(path, columns=["key", "value"], filters=filters)
    else:
        ds = mf.read_csv(path) if fmt == "csv" else mf.read_jsonl(path)
        if cutoff is not None:
            ds = ds.filter(lambda r: r["day"] >= cutoff)
    # a fixed reduce side: the default (one bucket per input partition) would make the
    # shuffle's file count grow with the square of Parquet's many row-group partitions
    return dict(ds.map(pair).reduce_by_key(operator.add, partitions=REDUCERS).collect(runner=runner))


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its live children (the workers)."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def timed(fmt, path, cutoff, runner, repeat):
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), cpu_seconds()
        result = job(fmt, path, cutoff, runner)
        best_wall = min(best_wall, time.perf_counter() - start)
        best_cpu = min(best_cpu, cpu_seconds() - cpu)
    return best_wall, best_cpu, result


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-6 * max(1.0, abs(a[k])) for k in a)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the CSV file (default 1024)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "data", "formats"))
    parser.add_argument("--row-group", type=int, default=128 * 1024, help="Parquet rows per row group")
    parser.add_argument("--runner", default="processes")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    folder = os.path.join(args.data, f"{args.size_mb}mb-seed{args.seed}-rg{args.row_group}")
    paths = generate(folder, args.size_mb, args.seed, args.row_group)
    cutoff = int(DAYS * 0.95)
    groups = pq.ParquetFile(paths["parquet"]).metadata.num_row_groups
    kept = mf.read_parquet(paths["parquet"], filters=[("day", ">=", cutoff)]).num_partitions
    options = {"workers": args.workers} if args.workers and args.runner == "processes" else {}
    print(f"data: {folder}; filter day >= {cutoff} keeps {kept} of {groups} Parquet row groups")
    rows = []
    with mf.runner(args.runner, **options) as runner:
        mf.from_sequence(range(8), partitions=8).count(runner=runner)  # start the workers before measuring
        for label, cut in (("sum by key", None), (f"sum by key, day >= {cutoff}", cutoff)):
            results = {}
            for fmt in ("csv", "jsonl", "parquet"):
                wall, cpu, results[fmt] = timed(fmt, paths[fmt], cut, runner, args.repeat)
                rows.append((label, fmt, os.path.getsize(paths[fmt]) >> 20, wall, cpu))
                print(f"  {label:<28} {fmt:<8} {wall:8.2f} s wall {cpu:8.2f} s CPU", file=sys.stderr)
            if not (same(results["csv"], results["jsonl"]) and same(results["csv"], results["parquet"])):
                raise SystemExit(f"results differ between formats for {label!r}")
    print()
    print("| job | format | size on disk | wall s | CPU s | CSV / format (wall) | CSV / format (CPU) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    base = {label: (wall, cpu) for label, fmt, _, wall, cpu in rows if fmt == "csv"}
    for label, fmt, mb, wall, cpu in rows:
        print(f"| {label} | {fmt} | {mb} MB | {wall:.1f} | {cpu:.1f} | {base[label][0] / wall:.1f}x "
              f"| {base[label][1] / cpu:.1f}x |")


if __name__ == "__main__":
    main()
