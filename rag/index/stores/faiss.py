"""The default store: FAISS in the index's data folder, exact (flat) or an approximate HNSW graph."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from ...errors import CorruptIndexError

APPROXIMATE_ABOVE = 50_000  # vectors; above this, "auto" switches from exact to HNSW search
HNSW_NEIGHBOURS = 32  # graph degree (M)
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # raised to k when more neighbours are asked for
FILE = "vectors.faiss"
# Fewer queries than this are searched on the calling thread alone (FAISS splits an exact search over
# queries, so one query gains nothing from more threads): waking OpenMP's threads beside ONNX Runtime's
# cost ~5 ms per one-question search on 2 cores, against 0.4 ms alone (SQuAD-open index, measured).
SEARCH_ALONE_BELOW = 20


def _graph(dimension: int) -> faiss.Index:
    graph = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return graph


class FaissStore:
    """Vectors under ids in a FAISS IndexIDMap2 over an inner-product index (vectors are unit length,
    so inner product is cosine similarity). `mode`: flat, hnsw, or auto (flat until APPROXIMATE_ABOVE
    vectors, then an HNSW graph, at `commit`)."""

    in_data_folder = True

    def __init__(self, index: faiss.IndexIDMap2, mode: str) -> None:
        self.index, self.mode = index, mode
        self.dimension = index.d
        self._sorted: np.ndarray | None = None  # the stored ids, sorted; made on first add, kept up to date

    @classmethod
    def empty(cls, dimension: int, mode: str = "auto") -> FaissStore:
        inner = _graph(dimension) if mode == "hnsw" else faiss.IndexFlatIP(dimension)
        return cls(faiss.IndexIDMap2(inner), mode)

    @property
    def approximate(self) -> bool:
        return isinstance(self._inner, faiss.IndexHNSW)

    @property
    def _inner(self) -> faiss.Index:
        return faiss.downcast_index(self.index.index)

    @property
    def uri(self) -> str:
        """What the manifest records: the search it does now."""
        return "faiss:hnsw" if self.approximate else "faiss:flat"

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def _present(self, ids: np.ndarray) -> np.ndarray:
        """Which of `ids` are stored (a binary search: no copy of the id map per call)."""
        if self._sorted is None:
            self._sorted = np.sort(self.ids())
        if not len(self._sorted):
            return np.zeros(len(ids), dtype=bool)
        at = np.minimum(np.searchsorted(self._sorted, ids), len(self._sorted) - 1)
        return self._sorted[at] == ids

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
        present = self._present(ids)
        if present.any():
            self.delete(ids[present])  # add replaces
        known = self._sorted if self._sorted is not None else np.sort(self.ids())
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        new = np.sort(ids)
        self._sorted = np.insert(known, np.searchsorted(known, new), new)

    def delete(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
        self._sorted = None  # (deletes are rare: rebuilt on the next add)
        if not self.approximate:
            self.index.remove_ids(ids)
            return
        # An HNSW graph cannot drop nodes: build it again from the vectors that stay.
        keep = ~np.isin(self.ids(), ids)
        kept_ids, kept = self.ids()[keep], self._inner.reconstruct_n(0, self.index.ntotal)[keep]
        self.index = faiss.IndexIDMap2(_graph(self.dimension))
        if len(kept_ids):
            self.index.add_with_ids(kept, kept_ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        if self.approximate:
            self._inner.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if len(queries) >= SEARCH_ALONE_BELOW:
            return self.index.search(queries, k)
        threads = faiss.omp_get_max_threads()  # this thread's setting (OpenMP keeps one per thread)
        faiss.omp_set_num_threads(1)
        try:
            return self.index.search(queries, k)
        finally:
            faiss.omp_set_num_threads(threads)

    def fetch(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        try:
            return self.index.reconstruct_batch(ids)
        except RuntimeError:  # an id not stored: zeros for it
            known = set(self.ids().tolist())
            out = np.zeros((len(ids), self.dimension), dtype=np.float32)
            for row, i in enumerate(ids.tolist()):
                if i in known:
                    out[row] = self.index.reconstruct(i)
            return out

    def commit(self) -> None:
        if self.mode == "auto" and not self.approximate and len(self) > APPROXIMATE_ABOVE:
            ids, vectors = self.ids(), self._inner.reconstruct_n(0, self.index.ntotal)
            self.index = faiss.IndexIDMap2(_graph(self.dimension))
            self.index.add_with_ids(vectors, ids)

    def save(self, folder: Path) -> None:
        # Written by Python, not by faiss.write_index: a full disk is then an OSError saying so.
        with open(folder / FILE, "wb") as fh:
            fh.write(faiss.serialize_index(self.index).tobytes())

    def drop(self) -> None:
        """Nothing to do: the vectors go with their data folder."""

    @classmethod
    def load(cls, path: Path, dimension: int, mode: str = "auto") -> FaissStore:
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            if not path.exists():
                raise FileNotFoundError(2, "No such file", str(path)) from None
            raise CorruptIndexError(f"{path}: not a readable FAISS index ({str(exc).splitlines()[0]})") from exc
        if not isinstance(index, faiss.IndexIDMap2):
            raise CorruptIndexError(f"{path}: a FAISS index without ids (written by an older rag)")
        if index.d != dimension:
            raise CorruptIndexError(f"{path}: vectors have {index.d} dimensions, the manifest says {dimension}")
        return cls(index, mode)

    def __len__(self) -> int:
        return int(self.index.ntotal)
