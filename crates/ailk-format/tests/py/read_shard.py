"""Reads a shard file with pyarrow and with DuckDB and prints every row of both as JSON.

Used by tests/python_readers.rs: the Rust side compares the rows with what it wrote.
"""
import json
import sys

import duckdb
import pyarrow.parquet as pq


def main(path: str) -> None:
    table = pq.read_table(path)
    pa_rows = {
        "id": table.column("id").to_pylist(),
        "text": table.column("text").to_pylist(),
        "embedding": table.column("embedding").to_pylist(),
        "embedding_type": str(table.schema.field("embedding").type),
    }
    con = duckdb.connect()
    rows = con.execute(f"SELECT id, text, embedding FROM read_parquet('{path}') ORDER BY id").fetchall()
    described = con.execute(f"DESCRIBE SELECT embedding FROM read_parquet('{path}')").fetchall()
    duck_rows = {
        "id": [r[0] for r in rows],
        "text": [r[1] for r in rows],
        "embedding": [list(r[2]) for r in rows],
        "embedding_type": described[0][1],
    }
    json.dump({"pyarrow": pa_rows, "duckdb": duck_rows}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
