"""Daft: write an ailake table from a Daft DataFrame, exactly once (``df.write_sink``).

Daft reads ailake tables as the Iceberg tables they are, through pyiceberg
(``daft.read_iceberg(pyiceberg_table)``). Writing through Daft's own ``write_iceberg`` would
add plain Parquet files (searched by exact scan, counted as foreign files); this sink writes
each micropartition as one indexed file on the worker and commits them all in one snapshot
when the write finishes, under the job id (a rerun of a committed job is a no-op).

>>> import daft, ailake, ailake.daft
>>> table = ailake.connect("./warehouse").load_table("docs.chunks")
>>> df = daft.read_parquet("embedded/")          # id, text, embedding columns
>>> df.write_sink(ailake.daft.Sink(table, job_id="embed-2026-12-06")).to_pydict()
{'snapshot_id': [...], 'committed': [True], 'files': [8], 'rows': [100000]}
"""

from __future__ import annotations

import logging
from typing import Any, Iterator, List, Optional

import pyarrow as pa

from ailake._native import Table, WrittenFile
from ailake._vectors import split_vectors
from ailake.errors import InvalidInputError

try:
    from daft.io import DataSink
    from daft.io.sink import WriteResult
    from daft.recordbatch import MicroPartition
    from daft.schema import Schema
except ImportError as e:  # pragma: no cover - exercised only without daft
    raise ImportError("ailake.daft needs Daft: pip install daft") from e

__all__ = ["Sink"]

log = logging.getLogger("ailake.daft")

_RESULT = pa.schema(
    [("snapshot_id", pa.int64()), ("committed", pa.bool_()), ("files", pa.int64()), ("rows", pa.int64())]
)


class Sink(DataSink[List[WrittenFile]]):
    """A Daft sink into an ailake table: ``df.write_sink(Sink(table, job_id=...))``.

    Each micropartition becomes one indexed data file (``index``: ``hnsw``, ``ivf_pq``,
    ``auto``, ``none``); ``finalize`` commits them all in one snapshot, exactly once under
    ``job_id`` (default: a fresh id). The result is one row: ``snapshot_id``, ``committed``,
    ``files``, ``rows``. Bad rows fail the write naming the micropartition; nothing is
    committed then.
    """

    def __init__(self, table: Table, job_id: Optional[str] = None, index: str = "hnsw") -> None:
        import uuid

        if job_id is not None and ("," in job_id or not job_id):
            raise InvalidInputError(f"job_id {job_id!r} is empty or contains a comma")
        self.table = table
        self.job_id = job_id or f"daft-{uuid.uuid4()}"
        self.index = index
        self.vector_columns = list(table.vector_columns)
        self._lease = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_lease"] = None
        return state

    def name(self) -> str:
        return f"ailake sink ({self.table.name})"

    def schema(self) -> Schema:
        return Schema.from_pyarrow_schema(_RESULT)

    def start(self) -> None:
        self._lease = self.table.write_lease()

    def write(self, micropartitions: Iterator[MicroPartition]) -> Iterator[WriteResult[List[WrittenFile]]]:
        for n, part in enumerate(micropartitions):
            data = part.to_arrow()
            if data.num_rows == 0:
                continue
            try:
                attributes, vectors = split_vectors(data, self.vector_columns)
                files = self.table.write_files(attributes, vectors=vectors, index=self.index)
            except InvalidInputError as e:
                raise InvalidInputError(f"micropartition {n} ({data.num_rows} rows): {e}") from e
            yield WriteResult(result=files, bytes_written=data.nbytes, rows_written=data.num_rows)

    def finalize(self, write_results: List[WriteResult[List[WrittenFile]]]) -> MicroPartition:
        files = [f for r in write_results for f in r.result]
        try:
            out = self.table.commit_files(files, batch_id=self.job_id)
        finally:
            if self._lease is not None:
                self._lease.release()
                self._lease = None
        log.info("ailake daft sink: job %s: %s", self.job_id, out)
        row = {k: [out[k]] for k in ("snapshot_id", "committed", "files", "rows")}
        return MicroPartition.from_arrow(pa.table(row, schema=_RESULT))
