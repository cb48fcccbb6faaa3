"""Python threads search one table concurrently (the GIL is released during a search) and
get the answers a single thread gets; a writer commits meanwhile."""

import threading
import time

import numpy as np


def test_concurrent_searches_and_a_writer(table, sample):
    for start in range(0, 2000, 500):
        table.write(sample.rows(start, start + 500))
    table.commit()
    queries = sample.queries[:40]
    expected = [table.search(q, k=10).column("id").to_pylist() for q in queries]

    results = {}
    errors = []

    def search(worker):
        try:
            for rep in range(3):
                for i, q in enumerate(queries):
                    ids = table.search(q, k=10, snapshot=snapshot).column("id").to_pylist()
                    results[(worker, rep, i)] = ids
        except Exception as e:  # surfaced below
            errors.append(e)

    snapshot = table.snapshot_id
    threads = [threading.Thread(target=search, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    # A commit on the same handle while the searches run (they read their pinned snapshot).
    table.write(sample.rows(2000, 2500))
    table.commit()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 4 * 3 * len(queries)
    for (_, _, i), ids in results.items():
        assert ids == expected[i]
    assert table.count_rows() == 2500
    # The batch call agrees too.
    batch = table.search_batch(queries, k=10, snapshot=snapshot)
    got = batch.column("id").to_numpy().reshape(len(queries), 10)
    assert (got == np.array(expected)).all()


def test_the_gil_is_released_while_searching(table, sample):
    """A Python thread keeps running while another thread is inside a long search_batch: its
    counting rate during the call is compared with its rate while the main thread sleeps (which
    releases the GIL). With the GIL held for the call, the spinner would only run in the few
    milliseconds before the call takes it: a small fraction of a call this long."""
    table.write(sample.rows(0, 2000))
    table.commit()
    queries = np.tile(sample.queries, (40, 1))  # 4,000 queries
    table.search_batch(queries[:10], k=10)  # warm: the session and the shard are loaded
    count = [0]
    done = threading.Event()

    def spin():
        while not done.is_set():
            count[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    while count[0] == 0:
        time.sleep(0.001)

    def rate(work):
        before, start = count[0], time.perf_counter()
        work()
        elapsed = time.perf_counter() - start
        return (count[0] - before) / elapsed, elapsed

    alone, _ = rate(lambda: time.sleep(0.3))
    during, elapsed = rate(lambda: table.search_batch(queries, k=10, ef=256))
    done.set()
    spinner.join()
    assert elapsed > 0.2, f"the call was too short ({elapsed:.3f} s) to tell"
    # The search's threads share the cores with the spinner, so it slows down; a held GIL
    # would stop it outright (under ~5 % of its free rate for a call over 0.2 s).
    assert during > 0.15 * alone, (during, alone, elapsed)
