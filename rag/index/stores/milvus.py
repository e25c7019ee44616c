"""A server vector database: Milvus (a server or cluster by URL) or Milvus Lite (a file in the index
folder, for one process: tests, a laptop). Needs `pip install rag-quotes[milvus]`.

The collection holds the vectors only (id, vector); the passages stay in the index folder. Each full
build writes a new collection and the manifest swap publishes it, so a reader never sees half a
build; an incremental build updates the published collection in place (upsert and delete by id), so a
reader of the previous manifest may for a moment miss a changed document's vectors (it still finds
that document by its words) or get ids it does not know (they are skipped).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import numpy as np

from ...config import milvus_token
from ...errors import RagError
from . import StoreOption

HNSW = {"M": 32, "efConstruction": 80}  # as the FAISS store's graph
EF_SEARCH = 128
BATCH = 2_000  # rows per insert call
MAX_LIMIT = 16_384  # the most neighbours Milvus returns for one query


class MilvusStore:
    in_data_folder = False

    def __init__(self, client, option: StoreOption, dimension: int) -> None:
        self.client, self.option, self.dimension = client, option, dimension

    @property
    def uri(self) -> str:
        return self.option.uri

    @staticmethod
    def _connect(option: StoreOption, folder: Path | None):
        if not option.target.startswith(("http://", "https://")):
            # Milvus Lite's in-process server and pymilvus disagree on keep-alive pings; gRPC's C core then
            # prints "too_many_pings" lines on the terminal. Quiet unless the user set a verbosity.
            os.environ.setdefault("GRPC_VERBOSITY", "NONE")
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise RagError("the milvus store needs pymilvus (and milvus-lite for a local file): "
                           "pip install 'rag-quotes[milvus]'") from None
        if option.target.startswith(("http://", "https://")):
            where = option.target
        elif folder is None:
            raise RagError(f"the store {option.uri!r} is a file inside the index folder: give the index an "
                           "output folder (--out), or use a Milvus server URL")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            where = str(folder / option.target)
            # Milvus Lite serves pymilvus in-process and logs a traceback for each call it does not
            # implement (AllocTimestamp); the client falls back, so it is noise on the user's terminal.
            logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        try:
            return MilvusClient(uri=where, token=milvus_token())
        except Exception as exc:  # pymilvus raises its own types for a server that is down
            raise RagError(f"cannot reach the Milvus store at {where}: {exc}") from exc

    @classmethod
    def create(cls, option: StoreOption, dimension: int, folder: Path | None) -> MilvusStore:
        """A new, empty collection (a fresh name unless the option names one)."""
        from pymilvus import DataType

        client = cls._connect(option, folder)
        name = option.collection or f"rag_{secrets.token_hex(8)}"
        if client.has_collection(name):
            client.drop_collection(name)
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        params = client.prepare_index_params()
        params.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=HNSW)
        client.create_collection(name, schema=schema, index_params=params)
        return cls(client, StoreOption(option.engine, option.target, name), dimension)

    @classmethod
    def open(cls, option: StoreOption, dimension: int, folder: Path) -> MilvusStore:
        client = cls._connect(option, folder)
        if not client.has_collection(option.collection):
            raise FileNotFoundError(2, "No such Milvus collection", f"{option.target}#{option.collection}")
        client.load_collection(option.collection)
        return cls(client, option, dimension)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32)
        for start in range(0, len(ids), BATCH):
            rows = [{"id": int(i), "vector": v} for i, v in
                    zip(ids[start:start + BATCH].tolist(), vectors[start:start + BATCH].tolist())]
            self.client.upsert(self.option.collection, rows)

    def delete(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        for start in range(0, len(ids), BATCH):
            self.client.delete(self.option.collection, ids=ids[start:start + BATCH].tolist())

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, MAX_LIMIT))
        found = self.client.search(self.option.collection, data=np.asarray(queries, dtype=np.float32).tolist(),
                                   limit=k, output_fields=["id"],
                                   search_params={"metric_type": "IP", "params": {"ef": max(EF_SEARCH, k)}})
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for q, hits in enumerate(found):
            for j, hit in enumerate(hits):
                scores[q, j], ids[q, j] = hit["distance"], hit["id"]
        return scores, ids

    def fetch(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).tolist()
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        if not ids:
            return out
        found = {int(r["id"]): r["vector"] for r in
                 self.client.get(self.option.collection, ids=list(set(ids)), output_fields=["vector"])}
        for row, i in enumerate(ids):
            if i in found:
                out[row] = found[i]
        return out

    def commit(self) -> None:
        self.client.flush(self.option.collection)
        self.client.load_collection(self.option.collection)

    def drop(self) -> None:
        """Remove the collection (a build that failed, or one a newer build replaced)."""
        self.client.drop_collection(self.option.collection)

    def save(self, folder: Path) -> None:
        self.commit()  # the vectors live in the database

    def __len__(self) -> int:
        return int(self.client.get_collection_stats(self.option.collection)["row_count"])
