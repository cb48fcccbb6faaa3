"""Reads an ailake table with pyiceberg: prints its ids, texts and snapshot count as JSON. Usage: DB WAREHOUSE TABLE [SNAPSHOT_ID]"""
import json
import os
import sys

from pyiceberg.catalog.sql import SqlCatalog

db, warehouse, name = sys.argv[1:4]
props = {}
if os.environ.get("AILAKE_TEST_S3_ENDPOINT"):  # a local S3-compatible server (tests/s3.rs)
    props = {"s3.endpoint": os.environ["AILAKE_TEST_S3_ENDPOINT"], "s3.access-key-id": "test",
             "s3.secret-access-key": "test", "s3.region": "us-east-1"}
table = SqlCatalog("default", uri=f"sqlite:///{db}", warehouse=warehouse, **props).load_table(name)
snapshot = int(sys.argv[4]) if len(sys.argv) > 4 else None
rows = table.scan(selected_fields=("id", "text"), snapshot_id=snapshot).to_arrow().sort_by("id")
print(json.dumps({"ids": rows.column("id").to_pylist(), "text": rows.column("text").to_pylist(),
                  "snapshots": len(table.snapshots())}))
