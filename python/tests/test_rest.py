"""A table through an Iceberg REST catalog from Python: a real rustberg server on loopback
(installed by .ci/install-rustberg), pyiceberg's own RestCatalog reading what we wrote, and
refused credentials as AuthError."""

import os
import pathlib
import re
import socket
import subprocess
import time

import pytest
from pyiceberg.catalog.rest import RestCatalog

import ailake
from conftest import SCHEMA


def rustberg_bin():
    path = os.environ.get("AILAKE_RUSTBERG") or str(
        pathlib.Path.home() / ".cache/ailake-tools/rustberg-0.3.0-s3/bin/rustberg")
    assert os.path.exists(path), f"rustberg is not installed at {path}: run .ci/install-rustberg"
    return path


@pytest.fixture
def rest(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    warehouse = tmp_path / "rest-warehouse"
    warehouse.mkdir()
    config = tmp_path / "rustberg.toml"
    config.write_text(f'[server]\nhost = "127.0.0.1"\nport = {port}\n[storage]\n'
                      f'catalog_url = "file://{tmp_path / "catalog.redb"}"\n[rate_limit]\nenabled = false\n')
    log = open(tmp_path / "rustberg.log", "w+")
    server = subprocess.Popen([rustberg_bin(), "--dev", "--insecure-http", "--config", str(config),
                               "--warehouse", f"file://{warehouse}"], stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "NO_COLOR": "1"})
    try:
        deadline = time.time() + 30
        key = None
        while key is None or not _listening(port):
            assert time.time() < deadline, (tmp_path / "rustberg.log").read_text()
            found = re.search(r"X-API-Key: (rb_\S+)", (tmp_path / "rustberg.log").read_text())
            key = found.group(1) if found else None
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", key, warehouse
    finally:
        server.terminate()
        server.wait()


def _listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_table_through_a_rest_catalog(rest, sample):
    url, key, warehouse = rest
    lake = ailake.connect(catalog=url, token=key)
    assert lake.warehouse == f"file://{warehouse}"
    table = lake.create_table("docs.chunks", SCHEMA, vector_columns={"embedding": (sample.dim, "cosine")})
    table.write(sample.rows(0, 500))
    table.commit()
    assert table.search(sample.base[123], k=1).column("id").to_pylist() == [123]
    assert table.location.startswith(f"file://{warehouse}/docs/chunks")

    theirs = RestCatalog("rest", uri=url, token=key).load_table("docs.chunks")
    assert sorted(theirs.scan().to_arrow().column("id").to_pylist()) == list(range(500))
    theirs.append(sample.rows(500, 510).select(["id", "text", "bucket", "embedding"]).cast(theirs.schema().as_arrow()))
    again = ailake.connect(catalog=url, token=key).load_table("docs.chunks")
    assert again.count_rows() == 510
    assert again.search(sample.base[505], k=1).column("id").to_pylist() == [505]


def test_refused_credentials_are_an_auth_error(rest):
    url, _, _ = rest
    with pytest.raises(ailake.AuthError, match="401") as caught:
        ailake.connect(catalog=url, token="rb_not-the-key")
    assert "rb_not-the-key" not in str(caught.value)
    assert caught.value.kind == "Unauthorized" and not caught.value.retryable
    with pytest.raises(ailake.InvalidInputError, match="REST"):
        ailake.connect("warehouse", token="abc")
