"""A table on S3 from Python: a live moto server on loopback, the SQLite catalog local, and
pyiceberg reading what we wrote."""

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pyiceberg.catalog.sql import SqlCatalog

import ailake
from conftest import SCHEMA


@pytest.fixture
def s3():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket="lake")
    yield endpoint
    server.stop()


def test_table_on_s3(s3, tmp_path, sample):
    assert ailake.HAS_S3
    options = {"endpoint": s3, "allow_http": "true", "region": "us-east-1", "access_key_id": "test",
               "secret_access_key": "test"}
    lake = ailake.connect("s3://lake/wh", catalog=str(tmp_path / "catalog.db"), storage_options=options)
    table = lake.create_table("docs.chunks", SCHEMA, vector_columns={"embedding": (sample.dim, "cosine")})
    table.write(sample.rows(0, 600))
    table.write(sample.rows(600, 1000), deferred=True)
    table.commit()
    table.wait_indexed()
    assert table.location.startswith("s3://lake/wh/")
    assert table.search(sample.base[700], k=1).column("id").to_pylist() == [700]
    assert table.delete("id < 100")["rows_deleted"] == 100
    assert table.count_rows() == 900

    # A second process's view: a fresh connection loads the same table.
    again = ailake.connect("s3://lake/wh", catalog=str(tmp_path / "catalog.db"), storage_options=options)
    assert again.load_table("docs.chunks").count_rows() == 900

    catalog = SqlCatalog("default", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse="s3://lake/wh",
                         **{"s3.endpoint": s3, "s3.access-key-id": "test", "s3.secret-access-key": "test",
                            "s3.region": "us-east-1"})
    rows = catalog.load_table("docs.chunks").scan().to_arrow()
    assert sorted(rows.column("id").to_pylist()) == list(range(100, 1000))

    with pytest.raises(ailake.InvalidInputError, match="option"):
        ailake.connect("s3://lake/wh", catalog=str(tmp_path / "c2.db"), storage_options={"no_such_option": "1"})
