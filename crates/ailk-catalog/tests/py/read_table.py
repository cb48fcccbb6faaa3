"""Reads an ailake table with pyiceberg's own SqlCatalog and the data files with DuckDB.

Usage: read_table.py CATALOG_DB WAREHOUSE_URI TABLE  ->  JSON on stdout.
"""
import json
import sys

import duckdb
from pyiceberg.catalog.sql import SqlCatalog

db, warehouse, name = sys.argv[1:4]
catalog = SqlCatalog("default", uri=f"sqlite:///{db}", warehouse=warehouse)
table = catalog.load_table(name)
rows = table.scan().to_arrow().sort_by("id")
snapshots = [
    {
        "id": s.snapshot_id,
        "parent": s.parent_snapshot_id,
        "operation": s.summary.operation.value,
        "summary": {k: v for k, v in s.summary.additional_properties.items()},
    }
    for s in table.snapshots()
]
history = [h.snapshot_id for h in table.history()]
files = [t.file.file_path for t in table.scan().plan_files()]
local = [f.removeprefix("file://") for f in files]
con = duckdb.connect()
duck_ids = sorted(r[0] for r in con.execute("SELECT id FROM read_parquet(?)", [local]).fetchall())
first_snapshot = history[0]
old_rows = table.scan(snapshot_id=first_snapshot).to_arrow().num_rows
print(
    json.dumps(
        {
            "namespaces": [".".join(n) for n in catalog.list_namespaces()],
            "ids": rows.column("id").to_pylist(),
            "text": rows.column("text").to_pylist(),
            "embedding": [list(v) for v in rows.column("embedding").to_pylist()[:3]],
            "current": table.current_snapshot().snapshot_id,
            "snapshots": snapshots,
            "history": history,
            "files": files,
            "duckdb_ids": duck_ids,
            "first_snapshot_rows": old_rows,
        }
    )
)
