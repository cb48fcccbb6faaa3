"""Bad input raises the exception of its kind with the Rust message, and writes nothing."""

import numpy as np
import pyarrow as pa
import pytest

import ailake
from conftest import SCHEMA


def unchanged(table, before_snapshot, before_history):
    table.commit()  # whatever was staged would land now
    table.refresh()
    assert table.snapshot_id == before_snapshot
    assert len(table.history()) == before_history


@pytest.fixture
def seeded(table, sample):
    table.write(sample.rows(0, 300))
    table.commit()
    return table


def test_bad_writes_commit_nothing(seeded, sample):
    t, snap, hist = seeded, seeded.snapshot_id, len(seeded.history())
    rows = sample.rows(300, 400)
    attrs = rows.drop_columns(["embedding"])
    cases = [
        # Wrong dimension: in the data, and given apart.
        (dict(data=attrs, vectors=sample.base[300:400, :100]), "dimension|values"),
        # NaN in a vector.
        (dict(data=attrs, vectors=np.where(np.arange(384) == 5, np.nan, sample.base[300:400])), "NaN|finite"),
        # A column the table does not have.
        (dict(data=attrs.append_column("lang", pa.array(["en"] * 100)), vectors=sample.base[300:400]), "lang"),
        # Vectors and data of different lengths.
        (dict(data=attrs, vectors=sample.base[300:350]), "rows"),
        # An int64 that does not fit the int32 column.
        (dict(data=attrs.set_column(2, "bucket", pa.array([2**40] * 100)), vectors=sample.base[300:400]), "bucket"),
        # Unknown index kind; not tabular data.
        (dict(data=rows, index="lsh"), "index"),
        (dict(data=42), "tabular"),
        (dict(data=attrs, vectors=np.zeros((100, 384, 2), dtype=np.float32)), "2-D"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ailake.InvalidInputError, match=message) as err:
            t.write(**kwargs)
        assert isinstance(err.value, ValueError) and err.value.kind == "InvalidInput"
        assert err.value.retryable is False
    unchanged(t, snap, hist)
    assert t.count_rows() == 300


def test_bad_searches(seeded, sample):
    q = sample.queries[0]
    for kwargs, message in [
        (dict(query=q[:10]), "dimension"),
        (dict(query=np.full(384, np.nan)), "NaN"),
        (dict(query=q, k=0), "k must be"),
        (dict(query=q, filter="lang = 'en'"), "lang"),
        (dict(query=q, filter="id = 'x'"), "id"),
        (dict(query=q, filter="id >"), "filter"),
        (dict(query=q, columns=["nope"]), "nope"),
        (dict(query=q, vector_column="text"), "text"),
        (dict(query=sample.queries[:2]), "search_batch"),
        (dict(query="not a vector"), "query"),
    ]:
        with pytest.raises(ValueError, match=message):
            seeded.search(**kwargs)
    with pytest.raises(ValueError, match="dimension"):
        seeded.search_batch(sample.queries[:, :10])
    with pytest.raises(ValueError):
        seeded.delete("nope = 1")
    assert seeded.count_rows() == 300


def test_catalog_errors(lake, tmp_path):
    with pytest.raises(ailake.NotFoundError) as err:
        lake.load_table("docs.missing")
    assert isinstance(err.value, LookupError) and "docs.missing" in str(err.value)
    for bad in [{}, {"v": 0}, {"v": (8, "hamming")}, {"v": "x"}, [("v", 8)]]:
        with pytest.raises(ValueError):
            lake.create_table("docs.t", SCHEMA, vector_columns=bad)
    with pytest.raises(ValueError, match="list of floats"):
        lake.create_table("docs.t", SCHEMA.append(pa.field("v", pa.string())), vector_columns={"v": 8})
    with pytest.raises(ValueError):
        lake.create_table("not-an-ident", SCHEMA, vector_columns={"v": 8})
    with pytest.raises(ValueError, match="sqlite"):
        ailake.connect(str(tmp_path / "w"), catalog="postgres://host/db")
    with pytest.raises(ValueError, match="catalog"):
        ailake.connect("s3://bucket/prefix")
    assert lake.list_tables("docs") == []
