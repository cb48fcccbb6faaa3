"""Vector columns of Arrow data as 2-D float32 arrays (shared by the Ray and Daft sinks)."""

from __future__ import annotations

from typing import Dict, Iterable

import numpy as np
import pyarrow as pa

from ailake.errors import InvalidInputError


def split_vectors(block: pa.Table, columns: Iterable[str]) -> tuple[pa.Table, Dict[str, np.ndarray]]:
    """Splits the vector columns off ``block`` as 2-D float32 arrays (``InvalidInputError``
    for nulls or rows of different lengths)."""
    vectors = {}
    for name in columns:
        if name not in block.column_names:
            continue
        col = block.column(name).combine_chunks()
        if col.null_count:
            raise InvalidInputError(f"vector column {name!r}: {col.null_count} null row(s)")
        if isinstance(col.type, pa.ExtensionType):
            values = np.asarray(col.to_numpy(zero_copy_only=False))
            if values.dtype == object:
                values = np.stack(list(values))
        elif pa.types.is_fixed_size_list(col.type) and col.null_count == 0:
            values = col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), col.type.list_size)
        else:
            try:
                values = np.array(col.to_pylist(), dtype=np.float32)
            except (TypeError, ValueError) as e:
                raise InvalidInputError(f"vector column {name!r}: null or ragged rows ({e})") from e
        vectors[name] = np.ascontiguousarray(values, dtype=np.float32)
        block = block.drop_columns([name])
    return block, vectors
