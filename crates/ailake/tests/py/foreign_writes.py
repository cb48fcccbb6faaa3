"""pyiceberg as another engine writing to an ailake table.

Usage: DB WAREHOUSE TABLE COMMAND [ARG]
  append ROWS.json   append rows [{"id", "text", "embedding"}] (vectors as lists)
  add-column NAME    add an optional string column
  rename OLD:NEW     rename a column
  drop NAME          drop a column
  delete EXPR        pyiceberg's delete (copy-on-write), e.g. "id < 10"
  read               print {"ids": [...], "count": n, "snapshots": k} as JSON
"""
import json
import sys

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.types import StringType

db, warehouse, name, command = sys.argv[1:5]
arg = sys.argv[5] if len(sys.argv) > 5 else None
table = SqlCatalog("default", uri=f"sqlite:///{db}", warehouse=warehouse).load_table(name)
if command == "append":
    with open(arg) as f:
        rows = json.load(f)
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
elif command == "add-column":
    with table.update_schema() as update:
        update.add_column(arg, StringType())
elif command == "rename":
    old, new = arg.split(":")
    with table.update_schema() as update:
        update.rename_column(old, new)
elif command == "drop":
    with table.update_schema() as update:
        update.delete_column(arg)
elif command == "delete":
    table.delete(arg)
elif command == "read":
    rows = table.scan().to_arrow()
    ids = sorted(rows.column("id").to_pylist())
    print(json.dumps({"ids": ids, "count": rows.num_rows, "snapshots": len(table.snapshots())}))
else:
    sys.exit(f"unknown command {command}")
