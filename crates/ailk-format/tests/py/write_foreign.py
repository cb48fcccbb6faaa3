"""Writes Parquet files with other writers (pyarrow with page index and statistics, DuckDB)
so the Rust tests can check that our footer guard accepts real-world footers."""
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq


def main(out_dir: str) -> None:
    table = pa.table({
        "id": pa.array(range(1000), pa.int64()),
        "name": pa.array([f"n{i}" if i % 5 else None for i in range(1000)]),
        "score": pa.array([i / 7 for i in range(1000)], pa.float64()),
        "emb": pa.array([[float(i), float(-i), 0.5] for i in range(1000)], pa.list_(pa.float32(), 3)),
        "tags": pa.array([[str(i)] * (i % 3) for i in range(1000)], pa.list_(pa.string())),
    })
    pq.write_table(table, f"{out_dir}/pyarrow.parquet", row_group_size=300, write_page_index=True,
                   write_statistics=True, compression="zstd")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS id, range::VARCHAR AS s, [range::FLOAT, 1.0] AS v FROM range(5000)) "
                f"TO '{out_dir}/duckdb.parquet' (FORMAT PARQUET, ROW_GROUP_SIZE 1000)")


if __name__ == "__main__":
    main(sys.argv[1])
