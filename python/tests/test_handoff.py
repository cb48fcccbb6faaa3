"""Files written in one process and committed in another (Table.write_files, WrittenFile,
Table.commit_files, Table.write_lease): worker processes started with multiprocessing's
spawn, handles and files crossing by pickle, exactly once under a job id, a driver killed
before its commit, and refusals that commit nothing."""

import multiprocessing as mp
import pickle

import pytest

import ailake
from conftest import SCHEMA, recall


def _worker(table, sample_rows, batch_id):
    """Runs in a spawned process: the pickled handle reloads the table there."""
    return table.write_files(sample_rows, batch_id=batch_id)


def _driver_dies_before_commit(table, blocks, job_id):
    """A driver process that gets its workers' files and is killed before it commits."""
    files = [f for i, b in enumerate(blocks) for f in table.write_files(b, batch_id=f"{job_id}#{i}")]
    assert len(files) == len(blocks)
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def test_handles_and_files_pickle(table, lake, sample):
    again = pickle.loads(pickle.dumps(table))
    assert again.name == table.name and again.location == table.location
    assert pickle.loads(pickle.dumps(lake)).warehouse == lake.warehouse
    (f,) = table.write_files(sample.rows(0, 100), batch_id="p-0")
    assert (f.rows, f.index, f.indexed, f.batch_id) == (100, "hnsw", True, "p-0")
    assert pickle.loads(pickle.dumps(f)) == f
    assert ailake.WrittenFile.from_json(f.to_json()) == f
    assert len(pickle.dumps(f)) < 4096
    with pytest.raises(ailake.InvalidInputError):
        ailake.WrittenFile.from_json('{"version": 1}')
    assert table.snapshot_id is None, "write_files commits nothing"


def test_spawned_workers_write_and_the_driver_commits_once(table, sample):
    blocks = [sample.rows(i * 500, (i + 1) * 500) for i in range(8)]
    with table.write_lease() as lease, mp.get_context("spawn").Pool(2) as pool:
        parts = pool.starmap(_worker, [(table, b, f"job#{i}") for i, b in enumerate(blocks)])
        files = [f for p in parts for f in p]
        out = table.commit_files(files, batch_id="job")
        assert lease.held
    assert not lease.held
    assert out["committed"] and out["files"] == 8 and out["rows"] == 4000
    assert table.snapshot_id == out["snapshot_id"] and table.count_rows() == 4000
    total = sum(recall(table.search(q, k=10).column("id").to_pylist(), sample.exact(q, 10)) for q in sample.queries[:30])
    assert total / 30 >= 0.95
    # A rerun: the workers find their blocks committed, the commit is a no-op.
    assert table.write_files(blocks[0], batch_id="job#0") == []
    again = table.commit_files(files, batch_id="job")
    assert not again["committed"] and table.count_rows() == 4000
    with pytest.raises(ailake.InvalidInputError, match="already live"):
        table.commit_files(files[:1])


def test_a_driver_killed_before_its_commit_is_rerun_once(table, sample):
    blocks = [sample.rows(i * 400, (i + 1) * 400) for i in range(3)]
    proc = mp.get_context("spawn").Process(target=_driver_dies_before_commit, args=(table, blocks, "run"))
    proc.start()
    proc.join(120)
    assert proc.exitcode == -9
    assert table.refresh().count_rows() == 0, "nothing committed by the killed driver"
    # The rerun with the same id writes and commits every block once.
    files = [f for i, b in enumerate(blocks) for f in table.write_files(b, batch_id=f"run#{i}")]
    assert table.commit_files(files, batch_id="run")["rows"] == 1200
    assert sorted(table.search(sample.base[0], k=1200).column("id").to_pylist()) == list(range(1200))


def test_bad_hand_overs_commit_nothing(lake, table, sample):
    other = lake.create_table("docs.other", SCHEMA, vector_columns={"embedding": (sample.dim, "cosine")})
    (mine,) = table.write_files(sample.rows(0, 50))
    (theirs,) = other.write_files(sample.rows(0, 50))
    for files, batch_id in [([theirs], None), ([mine, mine], None), ([mine], "a,b")]:
        with pytest.raises(ailake.InvalidInputError):
            table.commit_files(files, batch_id=batch_id)
        assert table.refresh().snapshot_id is None
    assert table.commit_files([mine])["rows"] == 50
