"""pyiceberg's own RestCatalog on a table ailake writes through the same REST server.

Usage: URI TOKEN TABLE COMMAND [ARG]
  read               print {"ids": [...], "snapshots": k} as JSON
  append ROWS.json   append rows [{"id", "text", "embedding"}] (vectors as lists), in
                     chunks of 10, each retried on a lost commit race as a pyiceberg user would
"""
import json
import os
import sys

import pyarrow as pa
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.exceptions import CommitFailedException

uri, token, name, command = sys.argv[1:5]
arg = sys.argv[5] if len(sys.argv) > 5 else None
props = {}
if os.environ.get("AILAKE_TEST_S3_ENDPOINT"):  # the warehouse on a local S3 server (tests/s3.rs)
    props = {"s3.endpoint": os.environ["AILAKE_TEST_S3_ENDPOINT"], "s3.access-key-id": "test",
             "s3.secret-access-key": "test", "s3.region": "us-east-1"}
catalog = RestCatalog("rest", uri=uri, token=token, **props)
table = catalog.load_table(name)
if command == "read":
    rows = table.scan().to_arrow()
    print(json.dumps({"ids": sorted(rows.column("id").to_pylist()), "snapshots": len(table.snapshots())}))
elif command == "append":
    with open(arg) as f:
        rows = json.load(f)
    for start in range(0, len(rows), 10):
        for attempt in range(50):
            try:
                table.append(pa.Table.from_pylist(rows[start:start + 10], schema=table.schema().as_arrow()))
                break
            except CommitFailedException:
                table = catalog.load_table(name)
        else:
            sys.exit("50 lost commit races in a row")
else:
    sys.exit(f"unknown command {command}")
