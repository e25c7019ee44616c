"""Vector stores: nearest neighbours by inner product over unit vectors (= cosine similarity).

`VectorStore` is the seam for other back ends (a server such as Qdrant or Milvus for
corpora too large for one machine); `FaissStore` is the embedded default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from .errors import CorruptIndexError


class VectorStore(Protocol):
    kind: str  # recorded in the manifest

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids), each (len(queries), k); missing neighbours have id -1."""

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


class FaissStore:
    """Exact search in a FAISS flat inner-product index."""

    kind = "faiss-flat-ip"

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        # Vectors are normalized, so inner product is cosine similarity.
        self.index = index if index is not None else faiss.IndexFlatIP(dimension)
        self.dimension = dimension

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, dimension: int) -> FaissStore:
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise CorruptIndexError(f"{path}: not a readable FAISS index ({str(exc).splitlines()[0]})") from exc
        if index.d != dimension:
            raise CorruptIndexError(f"{path}: vectors have {index.d} dimensions, the manifest says {dimension}")
        return cls(dimension, index)

    def __len__(self) -> int:
        return int(self.index.ntotal)
