"""BM25 reference for crates/ailake/tests/text_reference.rs: bm25s's Lucene method over the
documents and queries given as token lists (our analyzer's output, so both sides score the
same terms). Reads JSON {"docs": [[token, ...], ...], "queries": [[token, ...], ...], "k": k}
on stdin; prints {"results": [[[doc, score], ...], ...]}: each query's k best documents,
highest score first, ties by document order."""
import json
import sys

import bm25s
import numpy as np

inp = json.load(sys.stdin)
retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
retriever.index(inp["docs"], show_progress=False)
results = []
for q in inp["queries"]:
    scores = retriever.get_scores(q).astype(np.float64)
    order = sorted((i for i in range(len(scores)) if scores[i] > 0), key=lambda i: (-scores[i], i))[: inp["k"]]
    results.append([[i, float(scores[i])] for i in order])
print(json.dumps({"results": results}))
