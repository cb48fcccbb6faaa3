"""Type stubs of the native module (``ailake._native``); the public names are re-exported by
``ailake``."""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__version__: str
HAS_S3: bool

ArrayLike = Union[npt.NDArray[np.floating[Any]], Sequence[float], Sequence[Sequence[float]]]
TabularData = Union[pa.Table, pa.RecordBatch, "pandas.DataFrame", Mapping[str, Any], Any]  # noqa: F821
VectorColumns = Mapping[str, Union[int, Tuple[int, str]]]

class WriteResult(TypedDict):
    path: str
    rows: int
    index: str
    indexed: bool

class CommitFilesResult(TypedDict):
    snapshot_id: int
    committed: bool
    files: int
    rows: int
    skipped: List[str]

class WrittenFile:
    """A data file written and not committed (from :meth:`Table.write_files`); pickles to a
    few hundred bytes and is checked against the file when committed."""

    @property
    def path(self) -> str: ...
    @property
    def rows(self) -> int: ...
    @property
    def index(self) -> str: ...
    @property
    def indexed(self) -> bool: ...
    @property
    def batch_id(self) -> Optional[str]: ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(text: str) -> WrittenFile: ...

class WriteLease:
    """Keeps uncommitted files of a table from vacuum while held (a context manager)."""

    @property
    def held(self) -> bool: ...
    def release(self) -> None: ...
    def __enter__(self) -> WriteLease: ...
    def __exit__(self, *args: Any) -> bool: ...

class DeleteResult(TypedDict):
    snapshot_id: Optional[int]
    rows_deleted: int
    files_removed: int
    delete_files: int

class CompactResult(TypedDict):
    snapshot_id: Optional[int]
    files_removed: int
    files_added: int
    rows: int
    deleted_rows_purged: int

class Snapshot(TypedDict):
    snapshot_id: int
    parent_id: Optional[int]
    timestamp_ms: int
    operation: str
    summary: Dict[str, str]
    current: bool

def analyze(text: str, analyzer: str = "simple") -> List[str]:
    """The terms ``analyzer`` (``"simple"`` or ``"english"``) makes of ``text``, in order: what a
    text index holds for a document and what a query is matched by."""

def connect(
    warehouse: Optional[str] = None,
    catalog: Optional[str] = None,
    name: str = "default",
    storage_options: Optional[Mapping[str, str]] = None,
    token: Optional[str] = None,
    credential: Optional[str] = None,
) -> Catalog:
    """Opens (creating when missing) a SQLite catalog and a warehouse (default
    ``warehouse``), or connects to an Iceberg REST catalog (``catalog="https://…"``,
    authenticated by ``token`` or OAuth2 ``credential="client_id:secret"``; ``warehouse``
    defaults to the location the server names).

    ``warehouse``: a directory, or ``s3://bucket/prefix`` (then ``catalog`` is required and
    ``storage_options`` holds the object store settings: ``endpoint``, ``region``,
    ``access_key_id``, ``secret_access_key``, ``allow_http``, ...). ``catalog``:
    ``sqlite:///PATH`` or a path, default ``<warehouse>/catalog.db``. ``name``: the catalog's
    name in the SQLite file (pyiceberg's ``SqlCatalog(name, ...)``)."""

class Catalog:
    """Where tables are named (SQLite, pyiceberg's schema) and their files stored."""

    @property
    def warehouse(self) -> str: ...
    @property
    def catalog_path(self) -> str:
        """The SQLite file; pyiceberg opens it as ``SqlCatalog(name, uri="sqlite:///<path>")``."""
    def create_table(
        self,
        name: str,
        schema: Union[pa.Schema, pa.Table, pa.RecordBatch],
        vector_columns: VectorColumns,
        exist_ok: bool = False,
        text_columns: Optional[Union[Sequence[str], Dict[str, str]]] = None,
    ) -> Table:
        """Creates ``namespace.name`` with the attribute columns of ``schema`` (vector columns
        in it are skipped) and ``vector_columns`` (``{"embedding": (384, "cosine")}``; metric
        ``cosine``, ``l2`` or ``ip``; the first is the primary). ``text_columns``: string
        columns every data file carries a full-text index of (a list of names, or a dict of
        name to analyzer: ``"simple"`` or ``"english"``). Raises ``AlreadyExistsError`` unless
        ``exist_ok``."""
    def load_table(self, name: str) -> Table:
        """The table at its current snapshot; ``NotFoundError`` when there is none."""
    def list_tables(self, namespace: str) -> List[str]: ...
    def drop_table(self, name: str) -> None:
        """Removes the table from the catalog; its files stay in the warehouse."""

class Table:
    """One table. Writes are staged until :meth:`commit`; searches read the handle's
    snapshot, which its own commits move forward (:meth:`refresh` for other writers')."""

    @property
    def name(self) -> str: ...
    @property
    def snapshot_id(self) -> Optional[int]: ...
    @property
    def location(self) -> str: ...
    @property
    def metadata_location(self) -> str:
        """This version's metadata file (pyiceberg ``StaticTable``, DuckDB ``iceberg_scan``)."""
    @property
    def vector_columns(self) -> Dict[str, Tuple[int, str]]: ...
    def refresh(self) -> Table: ...
    def write(
        self,
        data: Optional[TabularData] = None,
        vectors: Optional[Union[ArrayLike, Mapping[str, ArrayLike]]] = None,
        index: str = "hnsw",
        deferred: bool = False,
        batch_id: Optional[str] = None,
    ) -> Optional[WriteResult]:
        """Writes one data file, staged until :meth:`commit`. Vector columns come in ``data``
        as lists of floats, or apart in ``vectors`` (a 2-D array for the primary column, or
        ``{column: array}``). ``index``: ``hnsw``, ``ivf_pq``, ``auto`` or ``none``.
        ``deferred``: build the index in the background. ``batch_id``: exactly-once tag (an id
        already in the table makes the call a no-op returning ``None``)."""
    def commit(self) -> int:
        """Commits the staged writes as one snapshot; returns its id."""
    def write_files(
        self,
        data: Optional[TabularData] = None,
        vectors: Optional[Union[ArrayLike, Mapping[str, ArrayLike]]] = None,
        index: str = "hnsw",
        batch_id: Optional[str] = None,
    ) -> List[WrittenFile]:
        """Writes like :meth:`write` (one indexed file) but hands the file over instead of
        staging it: pass the result (pickled to another process if need be) to
        :meth:`commit_files`. Empty when ``batch_id`` is already committed."""
    def commit_files(self, files: Sequence[WrittenFile], batch_id: Optional[str] = None) -> CommitFilesResult:
        """Commits files from :meth:`write_files` (any process) as one snapshot, exactly once
        under ``batch_id``; files whose own batch id is committed are skipped. Refuses
        (``InvalidInputError``, nothing committed) files of another table, given twice, live
        already, missing or altered."""
    def write_lease(self) -> WriteLease:
        """The table's write lease: while held, vacuum keeps every uncommitted file written
        since (hold it in a driver until :meth:`commit_files`)."""
    def wait_indexed(self) -> None:
        """Waits for this handle's background index builds, then refreshes."""
    def search(
        self,
        query: Optional[ArrayLike] = None,
        k: int = 10,
        filter: Optional[str] = None,
        columns: Optional[Sequence[str]] = None,
        ef: Optional[int] = None,
        nprobe: Optional[int] = None,
        snapshot: Optional[int] = None,
        vector_column: Optional[str] = None,
        probes: Optional[int] = None,
        blocks: Optional[bool] = None,
        *,
        text: Optional[str] = None,
        text_column: Optional[str] = None,
        fusion: str = "rrf",
        rrf_k: float = 60.0,
        weights: Optional[Tuple[float, float]] = None,
        depth: Optional[int] = None,
    ) -> pa.Table:
        """The ``k`` nearest rows: ``columns`` (default all attribute columns) and
        ``_distance``, nearest first. ``_distance`` is the squared Euclidean distance for
        ``l2`` columns, 1 - cosine similarity for ``cosine`` and the negated inner product for
        ``ip`` (as in the CLI and SQL). ``filter``: e.g. ``"lang = 'en' AND year >= 2020"``.

        ``text`` alone (terms, ``"phrases"``, ``AND`` / ``OR``): the ``k`` best BM25 matches in
        ``text_column`` (default the first text-indexed column), with ``_score``. ``query`` and
        ``text``: hybrid search, each list ``depth`` deep (default ``max(4k, 40)``), fused by
        reciprocal rank (``fusion="rrf"``, ``rrf_k``) or weighted scores
        (``fusion="weighted"``, ``weights=(vector, text)``), with ``_score``."""
    def search_batch(
        self,
        queries: ArrayLike,
        k: int = 10,
        filter: Optional[str] = None,
        columns: Optional[Sequence[str]] = None,
        ef: Optional[int] = None,
        nprobe: Optional[int] = None,
        snapshot: Optional[int] = None,
        vector_column: Optional[str] = None,
        probes: Optional[int] = None,
        blocks: Optional[bool] = None,
    ) -> pa.Table:
        """:meth:`search` for each row of ``queries``, in parallel; one table with a leading
        ``query_index`` column."""
    def count_rows(self, snapshot: Optional[int] = None) -> int: ...
    def history(self) -> List[Snapshot]: ...
    def delete(self, filter: str) -> DeleteResult:
        """Deletes the matching rows in one commit (Iceberg v2 position deletes)."""
    def compact(
        self,
        target_rows: Optional[int] = None,
        index: str = "hnsw",
        cluster: bool = True,
        memory_bytes: Optional[int] = None,
        spill_dir: Optional[str] = None,
        max_rows: Optional[int] = None,
    ) -> CompactResult:
        """Rewrites small, unclustered or delete-carrying files into clustered ones. Rows
        beyond ``memory_bytes`` (default 1 GiB) are compacted in passes, spilling to
        ``spill_dir``; a call cut off mid-way is resumed by the next."""
