"""ailake: vector search on Apache Iceberg tables.

Every Parquet data file of an ailake table carries its own vector index (HNSW or IVF-PQ) in
bytes ordinary Parquet readers skip, so pyiceberg, DuckDB and Spark read the table while
ailake searches it.

>>> import ailake, numpy as np, pyarrow as pa
>>> lake = ailake.connect("./warehouse")
>>> table = lake.create_table(
...     "docs.chunks",
...     pa.schema([("id", pa.int64()), ("text", pa.string())]),
...     vector_columns={"embedding": (384, "cosine")},
...     text_columns=["text"],                                       # a BM25 index per file
... )
>>> table.write({"id": ids, "text": texts}, vectors=embeddings)   # staged
>>> table.commit()                                                 # one Iceberg snapshot
>>> table.search(query, k=10, filter="id >= 100")                  # a pyarrow.Table
>>> table.search(text="disk usage", k=10)                          # BM25
>>> table.search(query, text="disk usage", k=10)                   # hybrid (RRF)
"""

from ailake._native import HAS_S3, Catalog, Table, WriteLease, WrittenFile, __version__, analyze, connect
from ailake.errors import (
    AilakeError,
    AlreadyExistsError,
    ConflictError,
    CorruptDataError,
    InternalError,
    InvalidInputError,
    NotFoundError,
    StorageError,
    AuthError,
    UnsupportedError,
)

__all__ = [
    "connect",
    "analyze",
    "Catalog",
    "Table",
    "WrittenFile",
    "WriteLease",
    "HAS_S3",
    "__version__",
    "AilakeError",
    "AlreadyExistsError",
    "ConflictError",
    "CorruptDataError",
    "InternalError",
    "InvalidInputError",
    "NotFoundError",
    "StorageError",
    "AuthError",
    "UnsupportedError",
]
