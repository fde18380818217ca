"""Parquet: row-group partitions, column projection, predicate push-down."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import mapfold as mf

ROWS = [{"day": i // 100, "key": f"k{i % 7}", "value": float(i)} for i in range(1000)]


@pytest.fixture
def table_folder(tmp_path):
    """Two files, 5 row groups of 100 rows each, sorted by day (so statistics prune)."""
    folder = tmp_path / "t"
    folder.mkdir()
    table = pa.Table.from_pylist(ROWS)
    pq.write_table(table.slice(0, 500), folder / "a.parquet", row_group_size=100)
    pq.write_table(table.slice(500), folder / "b.parquet", row_group_size=100)
    return str(folder)


def test_one_partition_per_row_group(runner, table_folder):
    ds = mf.read_parquet(table_folder)
    assert ds.num_partitions == 10
    assert ds.collect(runner=runner) == ROWS


def test_projection(runner, table_folder):
    assert mf.read_parquet(table_folder, columns=["value"]).collect(runner=runner) == [{"value": r["value"]} for r in ROWS]


def test_filter_prunes_row_groups_and_filters_rows(runner, table_folder):
    ds = mf.read_parquet(table_folder, columns=["value"], filters=[("day", "in", [3, 7]), ("key", "==", "k1")])
    assert ds.num_partitions == 2  # the other 8 row groups are never read
    expected = [{"value": r["value"]} for r in ROWS if r["day"] in (3, 7) and r["key"] == "k1"]
    assert ds.collect(runner=runner) == expected
    assert "filter kept 2 of 10 row groups" in ds.explain_string()


def test_filter_or_of_ands_and_expressions(runner, table_folder):
    dnf = [[("day", "==", 0), ("value", "<", 3)], [("day", "==", 9), ("value", ">=", 998)]]
    ds = mf.read_parquet(table_folder, filters=dnf)
    assert ds.num_partitions == 2
    assert [r["value"] for r in ds.collect(runner=runner)] == [0.0, 1.0, 2.0, 998.0, 999.0]
    expression = (pc.field("day") >= 8) & (pc.field("key") == "k0")
    ds = mf.read_parquet(table_folder, columns=["day"], filters=expression)
    assert ds.num_partitions == 2
    assert ds.count(runner=runner) == sum(1 for r in ROWS if r["day"] >= 8 and r["key"] == "k0")


def test_filter_matching_nothing(runner, table_folder):
    ds = mf.read_parquet(table_folder, filters=[("day", ">", 100)])
    assert ds.collect(runner=runner) == [] and ds.count(runner=runner) == 0


def test_never_reads_pruned_row_groups(serial, table_folder, tmp_path):
    """A row group corrupted on disk is not touched when the filter prunes it."""
    import pyarrow.parquet as pq

    path = f"{table_folder}/a.parquet"
    meta = pq.ParquetFile(path).metadata
    group = meta.row_group(0)
    columns = [group.column(i) for i in range(group.num_columns)]
    starts = [c.dictionary_page_offset if c.has_dictionary_page else c.data_page_offset for c in columns]
    start, end = min(starts), max(s + c.total_compressed_size for s, c in zip(starts, columns))
    data = bytearray(open(path, "rb").read())
    data[start:end] = b"\xff" * (end - start)
    open(path, "wb").write(bytes(data))
    assert mf.read_parquet(table_folder, filters=[("day", ">=", 1)]).count(runner=serial) == 900
    with pytest.raises(mf.InputError, match="a.parquet: cannot read row group 0"):
        mf.read_parquet(table_folder).count(runner=serial)


def test_bad_filters_explained(table_folder):
    with pytest.raises(ValueError, match="filters must be"):
        mf.read_parquet(table_folder, filters="day > 3")


def test_not_parquet_names_the_file(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    with pytest.raises(mf.InputError, match="x.parquet: cannot read the Parquet footer"):
        mf.read_parquet(str(tmp_path))


def test_save_parquet_schema_mismatch_is_explained(serial, tmp_path):
    ds = mf.from_sequence([{"a": 1}, {"a": "text"}], partitions=1)
    with pytest.raises(ValueError, match="pass schema="):
        ds.save_parquet(str(tmp_path / "o"), row_group_size=1, runner=serial)


def test_save_parquet_row_groups(serial, tmp_path):
    out = str(tmp_path / "o")
    mf.from_sequence(ROWS, partitions=2).save_parquet(out, row_group_size=100, runner=serial)
    assert mf.read_parquet(out).num_partitions == 10
    assert mf.read_parquet(out, filters=[("day", "==", 4)]).num_partitions == 1


# -- tuple records (issue 15: put_dataset(totals, format="parquet") failed with
# "'tuple' object has no attribute 'keys'") -------------------------------------
def test_save_parquet_pairs_with_column_names(runner, tmp_path):
    out = str(tmp_path / "o")
    totals = mf.from_sequence([("a", 1), ("b", 2), ("a", 3)], partitions=2).reduce_by_key(lambda x, y: x + y)
    totals.save_parquet(out, columns=["user", "bytes"], runner=runner)
    assert sorted(mf.read_parquet(out).collect(runner=runner), key=lambda r: r["user"]) == [
        {"user": "a", "bytes": 4}, {"user": "b", "bytes": 2}]


def test_save_parquet_tuple_names_default_like_pyspark_todf(serial, tmp_path):
    import collections

    out = str(tmp_path / "o")
    mf.from_sequence([("a", 1.5, True)], partitions=1).save_parquet(out, runner=serial)
    assert mf.read_parquet(out).collect(runner=serial) == [{"_1": "a", "_2": 1.5, "_3": True}]
    Row = collections.namedtuple("Row", "word n")
    mf.from_sequence([Row("w", 2)], partitions=1).save_parquet(out + "-named", runner=serial)
    assert mf.read_parquet(out + "-named").collect(runner=serial) == [{"word": "w", "n": 2}]
    schema = pa.schema([("word", pa.string()), ("n", pa.int32())])
    mf.from_sequence([("w", 2)], partitions=1).save_parquet(out + "-schema", schema=schema, runner=serial)
    assert pq.read_table(out + "-schema").schema.field("n").type == pa.int32()


def test_save_parquet_tuple_mistakes_are_explained(serial, tmp_path):
    with pytest.raises(ValueError, match=r"tuple of 2 values for the columns \['k', 'v'\]; found \('y',\)"):
        mf.from_sequence([("x", 1), ("y",)], partitions=1).save_parquet(str(tmp_path / "a"), columns=["k", "v"],
                                                                         runner=serial)
    with pytest.raises(ValueError, match="column names must differ"):
        mf.from_sequence([("x", 1)]).save_parquet(str(tmp_path / "b"), columns=["k", "k"], runner=serial)
    with pytest.raises(ValueError, match="differ from the schema's names"):
        mf.from_sequence([("x", 1)]).save_parquet(str(tmp_path / "c"), columns=["k", "v"],
                                                  schema=pa.schema([("a", pa.string()), ("b", pa.int64())]))
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


def test_store_put_dataset_of_pairs_as_parquet(serial, memory_root):
    store = mf.storage.Store(memory_root)
    totals = mf.from_sequence([("ann", 10), ("bob", 5)], partitions=1)
    stored = store.put_dataset(totals, "totals", format="parquet", columns=["user", "bytes"],
                               metadata={"kind": "report"}, runner=serial)
    assert [o.metadata for o in stored] == [{"kind": "report"}]
    assert mf.read_parquet(store.urls(metadata={"kind": "report"})).collect(runner=serial) == [
        {"user": "ann", "bytes": 10}, {"user": "bob", "bytes": 5}]
