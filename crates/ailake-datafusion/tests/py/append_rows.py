"""pyiceberg appends rows to an ailake table, in row groups of ROW_GROUP rows.

Usage: DB WAREHOUSE TABLE ROWS.json ROW_GROUP
Prints {"count": n} (the rows pyiceberg reads after the append) as JSON.
"""
import json
import sys

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog

db, warehouse, name, rows_file, row_group = sys.argv[1:6]
table = SqlCatalog("default", uri=f"sqlite:///{db}", warehouse=warehouse).load_table(name)
with table.transaction() as tx:
    tx.set_properties({"write.parquet.row-group-limit": row_group})
with open(rows_file) as f:
    rows = json.load(f)
table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
print(json.dumps({"count": table.scan().to_arrow().num_rows}))
