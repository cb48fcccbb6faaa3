"""Hostile calls never kill the interpreter: each runs in a fresh Python process on a 300-row
table and must end in its answer or a typed error (ValueError, or the TypeError/OverflowError
Python's own argument conversion raises), the snapshot unchanged."""

import subprocess
import sys
import textwrap

import pytest

from conftest import SAMPLE

SETUP = textwrap.dedent(
    """
    import sys, numpy as np, pyarrow as pa, ailake
    base = np.load(sys.argv[1] + "/base.npy").astype(np.float32)[:300]
    lake = ailake.connect(sys.argv[2])
    schema = pa.schema([("id", pa.int64()), ("text", pa.string())])
    t = lake.create_table("docs.t", schema, vector_columns={"embedding": (384, "cosine")})
    ids = np.arange(300, dtype=np.int64)
    t.write(pa.table({"id": ids, "text": [str(i) for i in ids]}), vectors=base)
    t.commit()
    snap = t.snapshot_id
    q = base[7]
    def outcome(call):
        try:
            got = call()
        except (ValueError, TypeError, OverflowError) as e:
            got = type(e).__name__ if not isinstance(e, ValueError) else "ValueError"
        t.refresh()
        assert t.snapshot_id == snap, "the snapshot changed"
        print("OUTCOME", got)
    """
)

CASES = [
    # k far beyond the table: every row, nearest first.
    ("huge k", "outcome(lambda: t.search(q, k=10**12).num_rows)", "300"),
    ("k * refine overflow", "outcome(lambda: t.search(q, k=2**62).num_rows)", "300"),
    ("negative k", "outcome(lambda: t.search(q, k=-1))", "ValueError"),
    ("float k", "outcome(lambda: t.search(q, k=2.5))", "TypeError"),
    ("k too big for u64", "outcome(lambda: t.search(q, k=10**30))", "OverflowError"),
    ("deep parentheses", "outcome(lambda: t.search(q, filter='(' * 100000 + 'id = 1' + ')' * 100000))", "ValueError"),
    ("long IN list", "outcome(lambda: t.search(q, k=5, filter='id IN (' + ','.join(map(str, range(200000))) + ')').num_rows)", "5"),
    ("long OR chain", "outcome(lambda: t.search(q, k=5, filter=' OR '.join(f'id = {i}' for i in range(50000))).num_rows)", "5"),
    ("zero query under cosine", "outcome(lambda: t.search(np.zeros(384, np.float32)))", "ValueError"),
    ("zero vector written under cosine", "outcome(lambda: t.write(pa.table({'id': [1], 'text': ['z']}), vectors=np.zeros((1, 384), np.float32)))", "ValueError"),
    ("0-d query", "outcome(lambda: t.search(np.float32(1.0)))", "ValueError"),
    ("3-d queries", "outcome(lambda: t.search_batch(np.zeros((2, 2, 384), np.float32)))", "ValueError"),
    ("huge dimension", "outcome(lambda: t.search(np.ones(10**7, np.float32)))", "ValueError"),
    ("empty filter", "outcome(lambda: t.search(q, filter=''))", "ValueError"),
    ("filter on the vector column", "outcome(lambda: t.search(q, filter='embedding = 1'))", "ValueError"),
    ("unicode column name", "outcome(lambda: t.search(q, filter='\\u00e9t\\u00e9 = 1'))", "ValueError"),
    ("table name with ..", "outcome(lambda: lake.create_table('docs..x', schema, vector_columns={'e': 8}))", "ValueError"),
    ("table name with /", "outcome(lambda: lake.create_table('docs/../x', schema, vector_columns={'e': 8}))", "ValueError"),
    ("empty table name", "outcome(lambda: lake.load_table(''))", "ValueError"),
]


@pytest.mark.parametrize("name,call,expected", CASES, ids=[c[0] for c in CASES])
def test_hostile_call_ends_in_an_answer_or_a_typed_error(tmp_path, name, call, expected):
    script = SETUP + "\n" + call + "\n"
    run = subprocess.run(
        [sys.executable, "-c", script, str(SAMPLE), str(tmp_path / "warehouse")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, f"{name}: exit {run.returncode}\n{run.stderr[-3000:]}"
    assert f"OUTCOME {expected}" in run.stdout, f"{name}: {run.stdout[-2000:]}\n{run.stderr[-2000:]}"
