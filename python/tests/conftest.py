"""Fixtures of the Python package's tests: the real embedding sample committed under
data/sample, and a fresh lake per test."""

import os
import pathlib

import numpy as np
import pyarrow as pa
import pytest

import ailake

# Ray (test_ray.py) runs a single node on loopback: with this off it takes 127.0.0.1 as the
# node's address instead of the host's outside one. Read when ray is first imported.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

SAMPLE = pathlib.Path(__file__).resolve().parents[2] / "data" / "sample"


class Sample:
    """4,000 × 384 MiniLM vectors of Debian package descriptions, 100 held-out queries."""

    def __init__(self):
        self.base = np.load(SAMPLE / "base.npy").astype(np.float32)
        self.queries = np.load(SAMPLE / "query.npy").astype(np.float32)
        self.texts = [line.split("\t", 1)[1].rstrip("\n") for line in open(SAMPLE / "texts.tsv", encoding="utf-8")]
        self.dim = self.base.shape[1]

    def rows(self, start, end):
        """Rows start..end as a pyarrow table: id, text, bucket (id % 10), embedding."""
        ids = np.arange(start, end, dtype=np.int64)
        embedding = pa.FixedSizeListArray.from_arrays(pa.array(self.base[start:end].ravel()), self.dim)
        return pa.table(
            {
                "id": ids,
                "text": self.texts[start:end],
                "bucket": (ids % 10).astype(np.int32),
                "embedding": embedding,
            }
        )

    def exact(self, query, k, rows=None):
        """Ids of the k rows (of `rows`, default all) nearest to `query` by cosine, exactly."""
        rows = np.arange(len(self.base)) if rows is None else np.asarray(rows)
        base = self.base[rows]
        base = base / np.linalg.norm(base, axis=1, keepdims=True)
        q = query / np.linalg.norm(query)
        order = np.argsort(-(base @ q), kind="stable")[:k]
        return rows[order].tolist()


@pytest.fixture(scope="session")
def sample():
    return Sample()


SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string()), ("bucket", pa.int32())])


@pytest.fixture
def lake(tmp_path):
    return ailake.connect(str(tmp_path / "warehouse"))


@pytest.fixture
def table(lake, sample):
    return lake.create_table("docs.chunks", SCHEMA, vector_columns={"embedding": (sample.dim, "cosine")})


def recall(got, expected):
    return len(set(got) & set(expected)) / len(expected)
