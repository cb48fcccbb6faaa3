"""Reads an ailake table with pyiceberg: prints its ids, texts and snapshot count as JSON. Usage: DB WAREHOUSE TABLE [SNAPSHOT_ID]"""
import json
import sys

from pyiceberg.catalog.sql import SqlCatalog

db, warehouse, name = sys.argv[1:4]
table = SqlCatalog("default", uri=f"sqlite:///{db}", warehouse=warehouse).load_table(name)
snapshot = int(sys.argv[4]) if len(sys.argv) > 4 else None
rows = table.scan(selected_fields=("id", "text"), snapshot_id=snapshot).to_arrow().sort_by("id")
print(json.dumps({"ids": rows.column("id").to_pylist(), "text": rows.column("text").to_pylist(),
                  "snapshots": len(table.snapshots())}))
