"""Vector stores: where the passage-window vectors live, behind one small interface.

Every store keeps unit vectors under int64 ids and searches them by inner product (= cosine). The
index names a store by a URI-like option, recorded in its manifest; nothing outside this package
names an engine:

    faiss, faiss:auto   FAISS in the index folder: exact up to APPROXIMATE_ABOVE vectors, HNSW above
    faiss:flat          FAISS, always exact
    faiss:hnsw          FAISS, always an HNSW graph (approximate)
    milvus              Milvus Lite, a file inside the index folder (milvus.db)
    milvus:NAME.db      Milvus Lite, that file inside the index folder
    milvus:http://HOST:19530   a Milvus server or cluster (also https://; token from $MILVUS_TOKEN)

An id is stable for a document's content (see `window_id`), so re-indexing a changed folder deletes the
ids of the documents that changed or went and adds the new ones: a server store is updated in place.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ...errors import CorruptIndexError


class VectorStore(Protocol):
    uri: str  # recorded in the manifest; `open_store(uri)` opens the same store again
    # True when the vectors are saved with the index's data folder (so a saved index and its store always
    # agree); False for a database, whose collection is updated in place by an incremental build.
    in_data_folder: bool

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert or replace the vectors with these ids."""

    def delete(self, ids: np.ndarray) -> None:
        """Remove the vectors with these ids (a document's ids, when it changed or went)."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (len(queries), k), best first; missing neighbours have id -1."""

    def fetch(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these ids, (len(ids), dimension); zeros for an id not stored."""

    def commit(self) -> None:
        """Make what was added and deleted durable and searchable (after a build)."""

    def save(self, folder: Path) -> None:
        """Write what the store keeps in the index's data folder (nothing, for a server store)."""

    def drop(self) -> None:
        """Delete what the store holds outside the data folder (a replaced collection)."""

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class StoreOption:
    """A parsed store option: the engine and what follows its colon."""

    engine: str  # "faiss" or "milvus"
    target: str  # faiss: auto, flat or hnsw; milvus: a .db file name or an http(s) URL
    collection: str = ""  # milvus: the collection the index's vectors are in

    @property
    def uri(self) -> str:
        return f"{self.engine}:{self.target}" + (f"#{self.collection}" if self.collection else "")


_ALIASES = {"auto": "faiss:auto", "flat": "faiss:flat", "hnsw": "faiss:hnsw", "faiss": "faiss:auto",
            "milvus": "milvus:milvus.db"}
_MILVUS_FILE = re.compile(r"[A-Za-z0-9_.-]+\.db")
_COLLECTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
USAGE = "use faiss (or faiss:flat, faiss:hnsw), milvus (or milvus:NAME.db, milvus:http://HOST:19530)"


def parse_store(option: str) -> StoreOption:
    """A store option as written by a user or a manifest; ValueError says what is accepted. A Milvus Lite
    file must be a plain name (it lives inside the index folder: a manifest never points elsewhere)."""
    if not isinstance(option, str):
        raise ValueError(f"unknown store {option!r}: {USAGE}")
    text, _, collection = _ALIASES.get(option, option).partition("#")
    engine, _, target = text.partition(":")
    if engine == "faiss" and target in ("auto", "flat", "hnsw") and not collection:
        return StoreOption(engine, target)
    if engine == "milvus" and (_MILVUS_FILE.fullmatch(target) or re.fullmatch(r"https?://[^\s#]+", target)):
        if collection and not _COLLECTION.fullmatch(collection):
            raise ValueError(f"store {option!r} names the collection {collection!r}: use letters, digits and _")
        return StoreOption(engine, target, collection)
    raise ValueError(f"unknown store {option!r}: {USAGE}")


def rebuild_option(uri: str) -> str:
    """The option to rebuild an index whose manifest records the store `uri` with: the same store (the
    same collection, updated in place), except that an exact FAISS index may grow into an HNSW graph."""
    return "faiss:auto" if uri == "faiss:flat" else uri


def store_flag(uri: str) -> str:
    """The `--store` flag that rebuilds an index with this store ("" for the default)."""
    option = rebuild_option(uri).partition("#")[0]
    return "" if option == "faiss:auto" else f" --store {option}"


def window_id(source: str, sha256: str, n: int) -> int:
    """The id of a document's n-th window: the same for the same document content, so an unchanged
    document keeps its vectors in a store across builds (63 bits of BLAKE2b)."""
    digest = hashlib.blake2b(f"{source}\x00{sha256}\x00{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << 63) - 1)


def create_store(option: StoreOption, dimension: int, folder: Path | None) -> VectorStore:
    """An empty store. `folder`: the index folder (where a Milvus Lite file lives); None: in memory."""
    if option.engine == "faiss":
        from .faiss import FaissStore

        return FaissStore.empty(dimension, option.target)
    from .milvus import MilvusStore

    return MilvusStore.create(option, dimension, folder)


def open_store(option: StoreOption, dimension: int, folder: Path, data: Path) -> VectorStore:
    """The store a saved index names: `folder` is the index folder, `data` its data folder."""
    if option.engine == "faiss":
        from .faiss import FaissStore

        return FaissStore.load(data / "vectors.faiss", dimension, option.target)
    from .milvus import MilvusStore

    if not option.collection:
        raise CorruptIndexError(f"the manifest names the store {option.uri!r} without a collection")
    return MilvusStore.open(option, dimension, folder)


def in_memory(dimension: int) -> VectorStore:
    """An exact store held in memory, for an index that is never saved (a subset, a test)."""
    from .faiss import FaissStore

    return FaissStore.empty(dimension, "flat")
