"""Write, commit and search through the Python API: recall against numpy brute force, every
input form, time travel, history, deferred builds and batch ids."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import ailake
from conftest import SCHEMA, recall


def ids(result):
    return result.column("id").to_pylist()


def test_write_commit_search_recall(table, sample):
    assert table.snapshot_id is None
    assert table.write(sample.rows(0, 2000))["rows"] == 2000
    assert table.write(sample.rows(2000, 4000), index="ivf_pq")["index"] == "ivf_pq"
    assert table.snapshot_id is None, "staged writes are not visible before commit"
    snapshot = table.commit()
    assert table.snapshot_id == snapshot
    assert table.count_rows() == 4000

    total = 0.0
    for q in sample.queries[:50]:
        hits = table.search(q, k=10)
        assert hits.column_names == ["id", "text", "bucket", "_distance"]
        assert hits.num_rows == 10
        d = hits.column("_distance").to_pylist()
        assert d == sorted(d)
        total += recall(ids(hits), sample.exact(q, 10))
    assert total / 50 >= 0.95, total / 50

    # A row's own vector finds it first, with its text.
    hit = table.search(sample.base[1234], k=1, columns=["id", "text"])
    assert ids(hit) == [1234] and hit.column("text")[0].as_py() == sample.texts[1234]

    # search_batch: the same answers, in query order, with query_index.
    batch = table.search_batch(sample.queries[:20], k=5, columns=["id"])
    assert batch.column_names == ["query_index", "id", "_distance"]
    for i, q in enumerate(sample.queries[:20]):
        mine = batch.filter(pa.compute.equal(batch.column("query_index"), i))
        assert ids(mine) == ids(table.search(q, k=5, columns=["id"]))


def test_input_forms(table, sample):
    rows = sample.rows(0, 600)
    # A pyarrow Table in several chunks, a RecordBatch, a pandas DataFrame with arrays in a
    # column, a dict of columns with the vectors apart (also as a Fortran-ordered float64
    # array), and {column: array}.
    chunked = pa.concat_tables([rows.slice(0, 50), rows.slice(50, 50)])
    assert chunked.column("id").num_chunks == 2
    table.write(chunked)
    table.write(rows.slice(100, 100).to_batches()[0])
    df = rows.slice(200, 100).to_pandas()
    df["embedding"] = [np.asarray(v, dtype=np.float32) for v in df["embedding"]]
    table.write(df)
    attrs = rows.slice(300, 100).drop_columns(["embedding"])
    table.write(attrs.to_pydict(), vectors=sample.base[300:400])
    table.write(rows.slice(400, 100).drop_columns(["embedding"]).to_pydict(),
                vectors=np.asfortranarray(sample.base[400:500].astype(np.float64)))
    table.write(rows.slice(500, 100).drop_columns(["embedding"]), vectors={"embedding": sample.base[500:600]})
    table.commit()
    assert table.count_rows() == 600
    for i in [0, 75, 150, 250, 350, 450, 550]:
        assert ids(table.search(sample.base[i], k=1)) == [i]


def test_filters(table, sample):
    table.write(sample.rows(0, 3000))
    table.commit()
    for q in sample.queries[:10]:
        hits = table.search(q, k=10, filter="bucket = 3 AND id < 2000")
        assert hits.num_rows == 10
        assert all(b == 3 for b in hits.column("bucket").to_pylist())
        assert all(i < 2000 for i in ids(hits))
        allowed = [i for i in range(2000) if i % 10 == 3]
        assert recall(ids(hits), sample.exact(q, 10, allowed)) >= 0.9
    # Fewer matches than k: all of them.
    few = table.search(sample.queries[0], k=10, filter="id = 5 OR id = 17 OR id = 2999")
    assert sorted(ids(few)) == [5, 17, 2999]
    assert sorted(ids(table.search(sample.queries[0], k=10, filter="id IN (5, 17, 2999)"))) == [5, 17, 2999]
    rest = table.search(sample.queries[0], k=50, filter="bucket NOT IN (0, 1, 2, 3, 4, 5, 6, 7, 8)")
    assert rest.num_rows == 50 and set(rest.column("bucket").to_pylist()) == {9}


def test_time_travel_and_history(table, sample):
    first = table.write(sample.rows(0, 500)) and table.commit()
    table.write(sample.rows(500, 1000))
    second = table.commit()
    assert [s["snapshot_id"] for s in table.history()] == [first, second]
    assert table.history()[-1]["current"] and table.history()[0]["parent_id"] is None
    assert table.history()[1]["summary"]["added-records"] == "500"
    assert table.count_rows() == 1000 and table.count_rows(snapshot=first) == 500
    q = sample.base[700]
    assert ids(table.search(q, k=1)) == [700]
    assert all(i < 500 for i in ids(table.search(q, k=10, snapshot=first)))
    with pytest.raises(ailake.NotFoundError):
        table.search(q, snapshot=12345)


def test_deferred_writes_and_batch_ids(table, sample, lake):
    out = table.write(sample.rows(0, 1000), deferred=True, batch_id="day-1")
    assert out["indexed"] is False
    table.commit()
    assert table.write(sample.rows(0, 1000), batch_id="day-1") is None, "a committed batch id is a no-op"
    # Searchable (exactly) before the build lands, and after.
    assert ids(table.search(sample.base[10], k=1)) == [10]
    table.wait_indexed()
    assert table.history()[-1]["operation"] == "replace"
    assert ids(table.search(sample.base[10], k=1)) == [10]
    assert table.count_rows() == 1000
    # Another handle sees it after refresh; a second handle's retry is a no-op too.
    other = lake.load_table("docs.chunks")
    assert other.write(sample.rows(0, 1000), batch_id="day-1") is None
    assert other.commit() == table.snapshot_id


def test_delete_and_compact(table, sample):
    for start in range(0, 2000, 400):
        table.write(sample.rows(start, start + 400))
    table.commit()
    out = table.delete("bucket = 7 OR id >= 1900")
    expected_gone = {i for i in range(2000) if i % 10 == 7 or i >= 1900}
    assert out["rows_deleted"] == len(expected_gone) and out["snapshot_id"] == table.snapshot_id
    assert table.count_rows() == 2000 - len(expected_gone)
    for q in sample.queries[:10]:
        assert not set(ids(table.search(q, k=20))) & expected_gone
    assert table.delete("id = -1")["snapshot_id"] is None
    c = table.compact(target_rows=1000)
    assert c["files_removed"] == 5 and c["deleted_rows_purged"] == len(expected_gone)
    assert table.count_rows() == 2000 - len(expected_gone)
    assert ids(table.search(sample.base[42], k=1)) == [42]


def test_compact_in_little_memory_spills(table, sample, tmp_path):
    for start in range(0, 2000, 250):
        table.write(sample.rows(start, start + 250))
    table.commit()
    table.delete("id < 20")
    with pytest.raises(ailake.InvalidInputError, match="memory_bytes"):
        table.compact(memory_bytes=0)
    spill = tmp_path / "spill"
    spill.mkdir()
    c = table.compact(target_rows=500, memory_bytes=64 * 1024, spill_dir=str(spill))
    assert c["files_removed"] == 8 and c["rows"] == 1980 and c["deleted_rows_purged"] == 20
    assert list(spill.iterdir()) == [], "the spill directory is cleaned up"
    assert table.count_rows() == 1980
    assert ids(table.search(sample.base[42], k=1)) == [42]
    # The compacted files' partition blocks, and the whole-file path beside them.
    for q in sample.queries[:5]:
        by_blocks, whole = ids(table.search(q, k=10, probes=400)), ids(table.search(q, k=10, blocks=False, ef=400))
        assert by_blocks[0] == whole[0] and len(set(by_blocks) & set(whole)) >= 8, (by_blocks, whole)
    assert ids(table.search(sample.base[42], k=1, probes=8, blocks=True)) == [42]
    got = table.search_batch(sample.base[40:43], k=1, probes=8)
    assert got.column("id").to_pylist() == [40, 41, 42]
    with pytest.raises(ailake.InvalidInputError, match="probes"):
        table.search(sample.base[42], k=1, probes=0)


def test_catalog(lake, sample):
    t = lake.create_table("a.one", sample.rows(0, 1), vector_columns={"embedding": sample.dim})
    assert t.vector_columns == {"embedding": (sample.dim, "cosine")}
    lake.create_table("a.two", SCHEMA, vector_columns={"v": (sample.dim, "l2"), "w": (4, "ip")})
    assert sorted(lake.list_tables("a")) == ["a.one", "a.two"]
    again = lake.create_table("a.one", SCHEMA, vector_columns={"embedding": sample.dim}, exist_ok=True)
    assert again.vector_columns == {"embedding": (sample.dim, "cosine")}
    with pytest.raises(ailake.InvalidInputError, match="vector columns"):
        lake.create_table("a.one", SCHEMA, vector_columns={"x": 3}, exist_ok=True)
    with pytest.raises(ailake.AlreadyExistsError):
        lake.create_table("a.one", SCHEMA, vector_columns={"embedding": sample.dim})
    lake.drop_table("a.two")
    assert lake.list_tables("a") == ["a.one"]
    assert "a.one" in repr(lake.load_table("a.one"))
