"""Full-text and hybrid search from Python (issue 33): a table created with a text index on the
sample's real descriptions answers `search(text=...)` as a BM25 reference (bm25s) over the same
rows, and `search(query, text=...)` as a reciprocal-rank fusion computed here from the two
lists; bad input raises typed errors."""

import bm25s
import numpy as np
import pytest

import ailake

from conftest import SCHEMA


@pytest.fixture
def text_table(lake, sample):
    t = lake.create_table(
        "docs.text", SCHEMA, vector_columns={"embedding": (sample.dim, "cosine")}, text_columns=["text"]
    )
    for start in range(0, 4000, 1000):
        t.write(sample.rows(start, start + 1000))
    t.commit()
    return t


def terms(text):
    return ailake.analyze(text)


def test_text_search_matches_bm25s(text_table, sample):
    docs = [terms(t) for t in sample.texts]
    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index(docs, show_progress=False)
    shared = total = 0
    for q in ["disk usage analyzer", "python library for images", "web server", "font"]:
        got = text_table.search(text=q, k=10, columns=["id"])
        assert got.column_names == ["id", "_score"]
        scores = retriever.get_scores(terms(q))
        want = [int(i) for i in np.argsort(-scores, kind="stable")[:10] if scores[i] > 0]
        ids = got.column("id").to_pylist()
        shared += len(set(ids) & set(want))
        total += len(want)
        ours = dict(zip(ids, got.column("_score").to_pylist()))
        for i in set(ids) & set(want):
            assert abs(ours[i] - scores[i]) <= 1e-4 * max(1.0, scores[i])
    assert total >= 30 and shared >= 0.95 * total


def test_hybrid_is_rrf_of_the_two_lists(text_table, sample):
    q, text = sample.queries[3], "command line tool"
    depth, k = 40, 10
    by_vector = text_table.search(q, k=depth, columns=["id"]).column("id").to_pylist()
    by_text = text_table.search(text=text, k=depth, columns=["id"]).column("id").to_pylist()
    score = {}
    for lst in (by_vector, by_text):
        for rank, i in enumerate(lst):
            score[i] = score.get(i, 0.0) + 1.0 / (60 + rank + 1)
    want = sorted(score, key=lambda i: -score[i])[:k]
    got = text_table.search(q, k=k, text=text, columns=["id"], depth=depth)
    assert got.column("id").to_pylist()[:5] == want[:5]
    assert np.allclose(got.column("_score").to_pylist(), [score[i] for i in got.column("id").to_pylist()])
    weighted = text_table.search(q, k=k, text=text, fusion="weighted", weights=(0.2, 0.8), columns=["id"])
    assert weighted.num_rows == k
    # A filter applies to both lists.
    filtered = text_table.search(q, k=k, text=text, filter="id >= 2000", columns=["id"])
    assert all(i >= 2000 for i in filtered.column("id").to_pylist())


def test_text_bad_input(lake, text_table, sample):
    with pytest.raises(ailake.InvalidInputError):
        text_table.search(text="   ")
    with pytest.raises(ailake.InvalidInputError):
        text_table.search()
    with pytest.raises(ailake.InvalidInputError):
        text_table.search(sample.queries[0], text="disk", fusion="max")
    with pytest.raises(ailake.InvalidInputError):
        text_table.search(text="disk", text_column="id")
    assert text_table.search(text="🦀").num_rows == 0
    assert ailake.analyze("The Servers running", "english") == ["server", "run"]
    with pytest.raises(ailake.InvalidInputError):
        ailake.analyze("x", "klingon")
    with pytest.raises(ailake.InvalidInputError):
        lake.create_table("docs.bad", SCHEMA, vector_columns={"embedding": (4, "l2")}, text_columns=["bucket"])
    with pytest.raises(ailake.InvalidInputError):
        lake.create_table(
            "docs.bad2", SCHEMA, vector_columns={"embedding": (4, "l2")}, text_columns={"text": "klingon"}
        )
    english = lake.create_table(
        "docs.en", SCHEMA, vector_columns={"embedding": (sample.dim, "cosine")}, text_columns={"text": "english"}
    )
    english.write(sample.rows(0, 500))
    english.commit()
    assert english.search(text="the and of").num_rows == 0
    stemmed = english.search(text="compressing", k=5, columns=["text"]).column("text").to_pylist()
    assert stemmed and all("compress" in t.lower() for t in stemmed)
