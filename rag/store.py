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

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of the given rows, (len(rows), dimension)."""

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


class FaissStore:
    """A FAISS inner-product index: exact (flat) by default, or an approximate HNSW graph."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        # Vectors are normalized, so inner product is cosine similarity.
        self.index = index if index is not None else faiss.IndexFlatIP(dimension)
        self.dimension = dimension

    @property
    def kind(self) -> str:
        """Recorded in the manifest."""
        return "faiss-hnsw-ip" if isinstance(self.index, faiss.IndexHNSW) else "faiss-flat-ip"

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        if isinstance(self.index, faiss.IndexHNSW):
            self.index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def save(self, path: Path) -> None:
        # Written by Python, not by faiss.write_index: a full disk is then an OSError saying so.
        with open(path, "wb") as fh:
            fh.write(faiss.serialize_index(self.index).tobytes())

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


APPROXIMATE_ABOVE = 50_000  # vectors; above this, "auto" switches from exact to HNSW search
HNSW_NEIGHBOURS = 32  # graph degree (M)
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # raised to k when more neighbours are asked for


def choose_store(flat: FaissStore, kind: str = "auto") -> FaissStore:
    """`flat` as it is ("flat"), or its vectors moved into an HNSW graph ("hnsw"; "auto": when large)."""
    if kind not in ("auto", "flat", "hnsw"):
        raise ValueError(f"unknown store {kind!r}: use auto, flat or hnsw")
    if kind == "flat" or (kind == "auto" and len(flat) <= APPROXIMATE_ABOVE):
        return flat
    graph = faiss.IndexHNSWFlat(flat.dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    graph.add(flat.index.reconstruct_n(0, len(flat)))
    return FaissStore(flat.dimension, graph)
