"""Ray Data: write an ailake table from a cluster, exactly once, and search it in batches.

Each write task writes its blocks as one indexed data file (the index is built on the
worker) and returns the file, not a commit; the driver commits every file in one snapshot
when the job completes. The job id is the commit's batch id, so a job rerun after its commit
is a no-op; each task's file carries ``<job_id>#<task>`` too, so a file of a block committed
already is left out. A task retried by Ray returns its second attempt's file only: the first
attempt's file is never committed, and the driver's write lease keeps it (and every other
uncommitted file) from vacuum until the job ends; afterwards vacuum removes it.

>>> import ray, ailake, ailake.ray
>>> table = ailake.connect("./warehouse").load_table("docs.chunks")
>>> ds = ray.data.read_parquet("embedded/")            # id, text, embedding columns
>>> ds.write_datasink(ailake.ray.Sink(table, job_id="embed-2026-12-06"))
>>> hits = ailake.ray.search(ray.data.from_numpy(queries), table, k=10)

Vectors arrive as Arrow fixed-size or variable lists of floats, or as Ray's tensor columns
(a NumPy column of a Ray dataset).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Dict, Iterable, List, Optional

import pyarrow as pa

from ailake._native import Table, WrittenFile
from ailake._vectors import split_vectors as _vectors
from ailake.errors import InvalidInputError

try:
    from ray.data import ActorPoolStrategy, Datasink
except ImportError as e:  # pragma: no cover - exercised only without ray
    raise ImportError("ailake.ray needs Ray Data: pip install 'ray[data]'") from e

__all__ = ["Sink", "write", "search", "BadBlockError"]

log = logging.getLogger("ailake.ray")


class BadBlockError(InvalidInputError):
    """A write task's rows were refused (wrong dimension, NaN, missing column, ...): names the
    task, and nothing of the job is committed unless the sink skips bad blocks."""


class Sink(Datasink):
    """A Ray Data sink into an ailake table: ``ds.write_datasink(Sink(table, job_id=...))``.

    ``job_id`` names the job for exactly-once (default: a fresh id, so only retries within
    one run are deduplicated; pass a stable id to make reruns no-ops). ``index``: the files'
    index (``hnsw``, ``ivf_pq``, ``auto``, ``none``). ``on_bad_block``: ``"raise"`` (the job
    fails naming the task; nothing committed) or ``"skip"`` (the bad task's rows are left out
    and listed in :attr:`skipped`). ``rows_per_file`` asks Ray for at least that many rows per
    write task. After the write, :attr:`result` holds ``commit_files``'s outcome.
    """

    def __init__(
        self,
        table: Table,
        job_id: Optional[str] = None,
        index: str = "hnsw",
        on_bad_block: str = "raise",
        rows_per_file: Optional[int] = None,
    ) -> None:
        if on_bad_block not in ("raise", "skip"):
            raise InvalidInputError(f"on_bad_block must be 'raise' or 'skip', got {on_bad_block!r}")
        if job_id is not None and ("," in job_id or not job_id):
            raise InvalidInputError(f"job_id {job_id!r} is empty or contains a comma")
        self.table = table
        self.job_id = job_id or f"ray-{uuid.uuid4()}"
        self.index = index
        self.on_bad_block = on_bad_block
        self.rows_per_file = rows_per_file
        self.vector_columns = list(table.vector_columns)
        self.result: Optional[Dict[str, Any]] = None
        self.skipped: List[Dict[str, Any]] = []
        self.task_seconds: List[float] = []
        self._lease = None

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_lease"] = None  # the driver's lease stays in the driver
        return state

    @property
    def min_rows_per_write(self) -> Optional[int]:
        return self.rows_per_file

    def on_write_start(self, schema: Optional[pa.Schema] = None) -> None:
        self._lease = self.table.write_lease()
        log.info("ailake sink: job %s writing into %s", self.job_id, self.table.name)

    def write(self, blocks: Iterable[Any], ctx: Any) -> Dict[str, Any]:
        started = time.perf_counter()
        task = getattr(ctx, "task_idx", 0)
        tables = [pa.table(b) if not isinstance(b, pa.Table) else b for b in blocks]
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return {"task": task, "files": []}
        data = pa.concat_tables(tables, promote_options="default")
        try:
            attributes, vectors = _vectors(data, self.vector_columns)
            files = self.table.write_files(
                attributes, vectors=vectors, index=self.index, batch_id=f"{self.job_id}#{task}"
            )
        except InvalidInputError as e:
            if self.on_bad_block == "skip":
                return {"task": task, "files": [], "error": str(e), "rows": data.num_rows}
            raise BadBlockError(f"write task {task} ({data.num_rows} rows): {e}") from e
        return {"task": task, "files": files, "seconds": time.perf_counter() - started}

    def on_write_complete(self, write_result: Any) -> None:
        returns = getattr(write_result, "write_returns", write_result)
        files: List[WrittenFile] = []
        for r in returns:
            files.extend(r["files"])
            if "seconds" in r:
                self.task_seconds.append(r["seconds"])
            if "error" in r:
                self.skipped.append({"task": r["task"], "rows": r["rows"], "error": r["error"]})
        if self.skipped:
            log.warning("ailake sink: left out %d bad write task(s): %s", len(self.skipped), self.skipped)
        try:
            self.result = self.table.commit_files(files, batch_id=self.job_id)
        finally:
            self._release()
        log.info("ailake sink: job %s: %s", self.job_id, self.result)

    def on_write_failed(self, error: Exception) -> None:
        self._release()

    def _release(self) -> None:
        if self._lease is not None:
            self._lease.release()
            self._lease = None


def write(ds: Any, table: Table, **kwargs: Any) -> Dict[str, Any]:
    """Writes Ray dataset ``ds`` into ``table`` through a :class:`Sink` (``kwargs`` go to it)
    and returns the commit's outcome (``{"snapshot_id", "committed", "files", "rows",
    "skipped"}``)."""
    remote_args = kwargs.pop("ray_remote_args", None)
    sink = Sink(table, **kwargs)
    ds.write_datasink(sink, ray_remote_args=remote_args)
    return dict(sink.result or {}, skipped_tasks=sink.skipped)


class _Searcher:
    """A Ray actor answering blocks of queries with ``search_batch`` on one table snapshot
    (opened once; its search session and shard cache stay warm between blocks)."""

    def __init__(self, table: Table, snapshot: Optional[int], column: str, k: int, search_kwargs: Dict[str, Any]):
        self.table = table
        self.snapshot = snapshot
        self.column = column
        self.k = k
        self.kwargs = search_kwargs

    def __call__(self, batch: pa.Table) -> pa.Table:
        rest, vectors = _vectors(batch, [self.column])
        if self.column not in vectors:
            raise InvalidInputError(f"the query dataset has no column {self.column!r}")
        hits = self.table.search_batch(vectors[self.column], k=self.k, snapshot=self.snapshot, **self.kwargs)
        index = hits.column("query_index")
        passthrough = rest.take(index)
        out = hits.drop_columns(["query_index"])
        for name in passthrough.column_names:
            out = out.append_column(f"query_{name}", passthrough.column(name))
        return out


def search(
    queries: Any,
    table: Table,
    k: int = 10,
    column: str = "vector",
    concurrency: int = 1,
    batch_size: int = 256,
    num_cpus: float = 1,
    **search_kwargs: Any,
) -> Any:
    """Searches ``table`` for every row of Ray dataset ``queries`` (its ``column`` holds the
    query vectors) on ``concurrency`` actors and returns a Ray dataset: the ``k`` hits of each
    query (the table's columns and ``_distance``) beside the query's other columns, prefixed
    ``query_``. Every actor searches the snapshot the table handle is at now, so the answers
    equal one process's ``table.search_batch``. ``search_kwargs``: ``filter``, ``columns``,
    ``ef``, ``nprobe``, ``probes``, ``vector_column``, ... ``num_cpus``: CPUs each actor
    holds (leave one free for the tasks feeding them on a small cluster).
    """
    return queries.map_batches(
        _Searcher,
        fn_constructor_args=(table, table.snapshot_id, column, k, search_kwargs),
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=ActorPoolStrategy(size=concurrency),
        num_cpus=num_cpus,
    )
