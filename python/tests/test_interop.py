"""Tables written from Python read back by pyiceberg and DuckDB in the same process, and
search results handed to DuckDB and pandas as Arrow."""

import duckdb
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog


def test_pyiceberg_and_duckdb_read_the_table(lake, table, sample):
    table.write(sample.rows(0, 500))
    first = table.commit()
    table.write(sample.rows(500, 800), index="ivf_pq")
    table.commit()
    table.delete("id < 50")

    catalog = SqlCatalog("default", uri=f"sqlite:///{lake.catalog_path}", warehouse=f"file://{lake.warehouse}")
    iceberg = catalog.load_table("docs.chunks")
    assert iceberg.metadata_location == table.metadata_location
    rows = iceberg.scan().to_arrow().sort_by("id")
    assert rows.column("id").to_pylist() == list(range(50, 800))
    assert rows.column("text").to_pylist() == sample.texts[50:800]
    stored = rows.column("embedding").combine_chunks().flatten().to_numpy().reshape(-1, sample.dim)
    assert (stored == sample.base[50:800]).all()
    assert iceberg.scan(snapshot_id=first).to_arrow().num_rows == 500
    assert [s.snapshot_id for s in iceberg.history()] == [s["snapshot_id"] for s in table.history()]

    files = [t.file.file_path.removeprefix("file://") for t in iceberg.scan().plan_files()]
    con = duckdb.connect()
    # DuckDB reads the data files (position deletes are pyiceberg's to apply: the raw files
    # still hold the 50 deleted rows).
    count, texts = con.execute("SELECT count(*), count(DISTINCT text) FROM read_parquet(?)", [files]).fetchone()
    assert count == 800 and texts == len(set(sample.texts[:800]))

    # A search result is an Arrow table: DuckDB and pandas take it as it is.
    hits = table.search(sample.queries[0], k=20)
    top = con.execute("SELECT id FROM hits WHERE bucket < 5 ORDER BY _distance LIMIT 3").fetchall()
    expected = [i for i, b in zip(hits.column("id").to_pylist(), hits.column("bucket").to_pylist()) if b < 5][:3]
    assert [r[0] for r in top] == expected
    df = hits.to_pandas()
    assert list(df.columns) == ["id", "text", "bucket", "_distance"] and len(df) == 20
    assert isinstance(hits, pa.Table)
