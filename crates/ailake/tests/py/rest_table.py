"""pyiceberg's own RestCatalog on a table ailake writes through the same REST server.

Usage: URI TOKEN TABLE COMMAND [ARG]
  read               print {"ids": [...], "snapshots": k} as JSON
  append ROWS.json   append rows [{"id", "text", "embedding"}] (vectors as lists)
"""
import json
import sys

import pyarrow as pa
from pyiceberg.catalog.rest import RestCatalog

uri, token, name, command = sys.argv[1:5]
arg = sys.argv[5] if len(sys.argv) > 5 else None
table = RestCatalog("rest", uri=uri, token=token).load_table(name)
if command == "read":
    rows = table.scan().to_arrow()
    print(json.dumps({"ids": sorted(rows.column("id").to_pylist()), "snapshots": len(table.snapshots())}))
elif command == "append":
    with open(arg) as f:
        rows = json.load(f)
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
else:
    sys.exit(f"unknown command {command}")
