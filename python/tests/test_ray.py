"""Ray Data on a local cluster (``ray.init(num_cpus=2)``, loopback only): 100k rows derived
from the real sample written through ``ailake.ray.Sink`` in 40 blocks with tasks that fail on
their first try, read back once each (and by pyiceberg), recall against exact truth, a rerun
of the job is a no-op, bad blocks, and batch search on actors equal to one process."""

import os
import pathlib
import sys

import numpy as np
import pyarrow as pa
import pytest

# A single-node Ray on loopback: with this off, Ray takes 127.0.0.1 as the node's address
# (read when ray is imported) instead of the host's outside address.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")

import ailake  # noqa: E402
import ailake.ray  # noqa: E402

ROWS, BLOCKS, DIM = 100_000, 40, 384


@pytest.fixture(scope="module")
def cluster():
    # This module's classes (FlakySink) travel by value: workers do not have tests/ on their path.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # No dashboard.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=1 << 30)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield
    ray.shutdown()


def derived(sample, rows=ROWS):
    """``rows`` vectors: the sample's 4,000 repeated, each copy moved by seeded noise (then
    normalized, as MiniLM's are)."""
    rng = np.random.default_rng(7)
    base = np.tile(sample.base, (rows // len(sample.base) + 1, 1))[:rows]
    base = base + rng.normal(0, 0.02, base.shape).astype(np.float32)
    return (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)


def dataset(vectors, blocks=BLOCKS):
    n = len(vectors)
    per = n // blocks
    tables = []
    for b in range(blocks):
        lo, hi = b * per, (b + 1) * per if b < blocks - 1 else n
        ids = np.arange(lo, hi, dtype=np.int64)
        tables.append(pa.table({
            "id": ids,
            "text": [f"row {i}" for i in ids],
            "bucket": (ids % 10).astype(np.int32),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors[lo:hi].ravel()), DIM),
        }))
    return ray.data.from_arrow(tables)


class FlakySink(ailake.ray.Sink):
    """Each task raises after writing its file on its first try (Ray retries it)."""

    def __init__(self, table, marker_dir, **kw):
        super().__init__(table, **kw)
        self.marker_dir = marker_dir

    def write(self, blocks, ctx):
        out = super().write(blocks, ctx)
        marker = pathlib.Path(self.marker_dir) / f"task-{ctx.task_idx}"
        if not marker.exists():
            marker.touch()
            raise RuntimeError(f"injected failure of task {ctx.task_idx}")
        return out


def live_ids(table):
    hits = table.search(np.ones(DIM, np.float32), k=table.count_rows(), columns=["id"], filter="id >= 0")
    return np.sort(hits.column("id").to_numpy())


def test_sink_commits_every_row_once_through_failing_tasks(cluster, lake, table, sample, tmp_path):
    vectors = derived(sample)
    markers_dir = tmp_path / "markers"
    markers_dir.mkdir()
    sink = FlakySink(table, str(markers_dir), job_id="embed-1")
    dataset(vectors).write_datasink(sink, ray_remote_args={"max_retries": 3, "retry_exceptions": True})
    markers = len(os.listdir(markers_dir))
    assert sink.result["committed"] and sink.result["rows"] == ROWS
    assert sink.result["files"] == markers >= 2, "one file per write task; each task failed once"
    table = table.refresh()
    assert table.count_rows() == ROWS
    assert np.array_equal(live_ids(table), np.arange(ROWS)), "each row exactly once"
    assert len(table.history()) == 1, "one snapshot for the job"

    # Recall@10 against exact truth over the 100k rows.
    hit = 0
    for q in sample.queries[:40]:
        truth = np.argsort(-(vectors @ (q / np.linalg.norm(q))), kind="stable")[:10]
        got = table.search(q, k=10, ef=128).column("id").to_numpy()
        hit += len(set(got) & set(truth))
    assert hit / 400 >= 0.95, hit / 400

    # pyiceberg reads the job's rows.
    from pyiceberg.catalog.sql import SqlCatalog

    cat = SqlCatalog("default", uri=f"sqlite:///{lake.catalog_path}", warehouse=f"file://{lake.warehouse}")
    assert cat.load_table("docs.chunks").scan(selected_fields=("id",)).to_arrow().num_rows == ROWS

    # The driver restarts and reruns the job: nothing is written twice.
    rerun = ailake.ray.write(dataset(vectors[:5000], blocks=4), table, job_id="embed-1")
    assert not rerun["committed"]
    assert table.refresh().count_rows() == ROWS


def test_a_bad_block_fails_the_job_or_is_skipped(cluster, table, sample):
    good = dataset(derived(sample, 3000), blocks=3)
    bad = ray.data.from_arrow([pa.table({
        "id": pa.array([10_000, 10_001], pa.int64()),
        "text": ["x", "y"],
        "bucket": pa.array([0, 1], pa.int32()),
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array([np.nan] * (2 * DIM), pa.float32()), DIM),
    })])
    nulls = ray.data.from_arrow([pa.table({
        "id": pa.array([20_000], pa.int64()),
        "text": ["z"],
        "bucket": pa.array([0], pa.int32()),
        "embedding": pa.array([None], pa.list_(pa.float32())),
    })])
    mixed = good.union(bad)
    with pytest.raises(Exception, match="write task .*NaN"):
        mixed.write_datasink(ailake.ray.Sink(table, job_id="bad-1"))
    assert table.refresh().snapshot_id is None, "nothing of the failed job is committed"
    out = ailake.ray.write(mixed, table, job_id="bad-2", on_bad_block="skip")
    assert out["committed"] and out["rows"] == 3000
    assert len(out["skipped_tasks"]) == 1 and out["skipped_tasks"][0]["rows"] == 2
    # A null vector is a bad block too (the vector columns are checked before writing).
    with pytest.raises(Exception, match="write task .*null"):
        nulls.write_datasink(ailake.ray.Sink(table, job_id="bad-3"))
    assert table.refresh().count_rows() == 3000


def test_batch_search_on_actors_equals_one_process(cluster, table, sample):
    for i in range(4):
        table.write(sample.rows(i * 1000, (i + 1) * 1000))
    table.commit()
    queries = sample.queries[:64]
    qds = ray.data.from_arrow([
        pa.table({
            "qid": np.arange(lo, lo + 16, dtype=np.int64),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(queries[lo:lo + 16].ravel()), DIM),
        })
        for lo in range(0, len(queries), 16)
    ])
    hits = ailake.ray.search(qds, table, k=10, concurrency=2, batch_size=16, columns=["id"])
    got = pa.concat_tables(ray.get(hits.to_arrow_refs()))
    assert got.num_rows == 64 * 10
    expected = table.search_batch(queries, k=10, columns=["id"])
    for q in range(len(queries)):
        mine = got.filter(pa.compute.equal(got["query_qid"], q))
        one = expected.filter(pa.compute.equal(expected["query_index"], q))
        assert mine.column("id").to_pylist() == one.column("id").to_pylist(), q


def test_numpy_vector_columns(cluster, table, sample):
    """A NumPy column of a Ray dataset (Ray's tensor extension type) is a vector column."""
    items = [{"id": i, "text": sample.texts[i], "bucket": i % 10, "embedding": sample.base[i]} for i in range(600)]
    ds = ray.data.from_items(items, override_num_blocks=3)
    assert "Tensor" in str(ds.schema().types[-1]) or "tensor" in str(ds.schema().types[-1]).lower()
    out = ailake.ray.write(ds, table, job_id="np-1")
    assert out["committed"] and out["rows"] == 600
    hit = table.refresh().search(sample.base[123], k=1, columns=["id", "text"])
    assert hit.column("id").to_pylist() == [123] and hit.column("text")[0].as_py() == sample.texts[123]
