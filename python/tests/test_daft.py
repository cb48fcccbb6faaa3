"""Daft reads an ailake table through pyiceberg and writes one through ``ailake.daft.Sink``:
indexed files committed once under the job id, searched with recall against exact truth."""

import numpy as np
import pyarrow as pa
import pytest

daft = pytest.importorskip("daft")

import ailake  # noqa: E402
import ailake.daft  # noqa: E402
from conftest import recall  # noqa: E402


def test_daft_writes_through_the_sink_and_reads_through_pyiceberg(lake, table, sample):
    df = daft.from_arrow(sample.rows(0, 3000)).into_partitions(3)
    out = df.write_sink(ailake.daft.Sink(table, job_id="daft-1")).to_pydict()
    assert out["committed"] == [True] and out["rows"] == [3000] and out["files"][0] >= 1
    table = table.refresh()
    assert table.count_rows() == 3000
    total = sum(recall(table.search(q, k=10).column("id").to_pylist(), sample.exact(q, 10, range(3000)))
                for q in sample.queries[:30])
    assert total / 30 >= 0.95

    # The same job again commits nothing.
    again = df.write_sink(ailake.daft.Sink(table, job_id="daft-1")).to_pydict()
    assert again["committed"] == [False] and table.refresh().count_rows() == 3000

    # Daft reads the table as Iceberg, through pyiceberg.
    from pyiceberg.catalog.sql import SqlCatalog

    cat = SqlCatalog("default", uri=f"sqlite:///{lake.catalog_path}", warehouse=f"file://{lake.warehouse}")
    read = daft.read_iceberg(cat.load_table("docs.chunks")).select("id", "bucket").to_arrow()
    assert sorted(read.column("id").to_pylist()) == list(range(3000))


def test_a_bad_micropartition_fails_the_write_and_commits_nothing(table, sample):
    good = sample.rows(0, 100)
    bad = good.set_column(3, "embedding", pa.FixedSizeListArray.from_arrays(
        pa.array(np.full(100 * sample.dim, np.nan, np.float32)), sample.dim))
    df = daft.from_arrow(pa.concat_tables([good, bad])).into_partitions(2)
    with pytest.raises(Exception, match="NaN"):
        df.write_sink(ailake.daft.Sink(table, job_id="bad")).to_pydict()
    assert table.refresh().snapshot_id is None
