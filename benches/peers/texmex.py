"""TEXMEX readers and the timed query pass shared by the peer scripts (same files and protocol
as `peer_bench`)."""
import time

import numpy as np

PASSES = 3  # fastest of three passes over the query set, as peer_bench does


def read_vecs(path, dtype):
    """Reads an .fvecs (dtype float32) or .ivecs (dtype int32) file into a 2-D array."""
    raw = np.fromfile(path, dtype=np.int32)
    dim = raw[0]
    return raw.reshape(-1, dim + 1)[:, 1:].view(dtype).copy()


def load(data_dir):
    """Base vectors, queries and the true top-10 ids of each query."""
    base = read_vecs(f"{data_dir}/base.fvecs", np.float32)
    queries = read_vecs(f"{data_dir}/query.fvecs", np.float32)
    gt = read_vecs(f"{data_dir}/gt.ivecs", np.int32)[:, :10]
    return base, queries, gt


def recall_at_10(labels, gt):
    """Recall@10 computed exactly as ailake_index::recall_at_k does."""
    hits = sum(len(set(labels[i]) & set(gt[i])) for i in range(len(gt)))
    return hits / (10 * len(gt))


def fastest_batch(search, queries):
    """Answers all queries with one batched `search(queries) -> labels` call, PASSES times;
    returns (QPS of the fastest pass, its labels)."""
    best, labels = float("inf"), None
    for _ in range(PASSES):
        t = time.perf_counter()
        labels = search(queries)
        best = min(best, time.perf_counter() - t)
    return len(queries) / best, labels
