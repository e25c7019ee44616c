"""The manifest: what an index folder holds and how it was made, as a typed value.

It is the index folder's `manifest.json`, written last and atomically by `storage.save_index`. It also
knows when the index is stale (another model, other chunking, changed documents) and the command that
rebuilds it, so every message that says "rebuild it" says it the same way.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import metadata as importlib_metadata
from pathlib import Path

from ..errors import CorruptIndexError, IndexNotFoundError, StaleIndexError
from ..ingest.chunking import ChunkSettings
from ..ingest.documents import fingerprint
from .stores import parse_store, store_flag

FORMAT_VERSION = 2  # 2: vectors are stored under content ids (window_ids.npy), the store is a URI
MANIFEST = "manifest.json"
_REQUIRED = ("format_version", "model", "dimension", "chunking", "documents", "data", "corpus")


def versions() -> dict[str, str]:
    found = {}
    for package in ("rag-quotes", "sentence-transformers", "faiss-cpu", "bm25s", "numpy", "sentencex"):
        try:
            found[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            found[package] = "unknown"
    return found


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    chunking: dict  # ChunkSettings as a dict (language included)
    store: str  # the vector store's URI (rag.index.stores)
    corpus: str  # the indexed folder; relative to the index folder once saved
    documents: dict[str, dict]  # source -> {"sha256", "title", "passages"}
    skipped: dict[str, str] = field(default_factory=dict)  # source -> sha256 of files that gave no text
    counts: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    data: str = ""  # the data folder's name, once saved
    data_sha256: str = ""
    format: str = "rag-index"
    format_version: int = FORMAT_VERSION

    @property
    def language(self) -> str:
        return self.chunking.get("language", "en")

    @property
    def titles(self) -> dict[str, str]:
        return {source: doc["title"] for source, doc in self.documents.items()}

    def with_(self, **changes) -> Manifest:
        return replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    def corpus_folder(self, path: Path) -> Path:
        """The indexed folder, for an index saved at `path`."""
        corpus = Path(self.corpus)
        return corpus if corpus.is_absolute() else Path(os.path.normpath(path / corpus))

    def rebuild_hint(self, path: Path) -> str:
        command = f"rag index {self.corpus_folder(path)} --out {path}"
        if self.language != "en":
            command += f" --language {self.language}"
        return command + store_flag(self.store)

    def stale_reasons(self, path: Path, *, model: str | None = None, max_tokens: int | None = None,
                      corpus: Path | None = None) -> list[str]:
        """What no longer matches: the model asked for, the chunking, or the corpus documents."""
        reasons = []
        if model is not None and model != self.model:
            reasons.append(f"it was built with model {self.model!r}, but {model!r} was asked for")
        expected = asdict(ChunkSettings(max_tokens=max_tokens or self.chunking.get("max_tokens", 254),
                                        language=self.language))
        if self.chunking != expected:
            reasons.append(f"it was chunked with {self.chunking}, this rag chunks with {expected}")
        corpus = self.corpus_folder(path) if corpus is None else corpus
        if corpus.is_dir():
            now = fingerprint(corpus)
            then = {source: doc["sha256"] for source, doc in self.documents.items()} | self.skipped
            added, removed = sorted(set(now) - set(then)), sorted(set(then) - set(now))
            changed = sorted(s for s in set(now) & set(then) if now[s] != then[s])
            for label, names in (("added", added), ("removed", removed), ("changed", changed)):
                if names:
                    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                    reasons.append(f"{len(names)} document(s) {label} in {corpus}: {shown}")
        return reasons


def rebuild_hint(path: Path, manifest: Manifest | None = None) -> str:
    return manifest.rebuild_hint(path) if manifest is not None else f"rag index FOLDER --out {path}"


def _problem(raw: dict) -> str | None:
    """What is wrong with a manifest's fields, or None. Every path it names must stay inside the index
    folder: a manifest must never make rag read files elsewhere."""
    data = raw["data"]
    if not isinstance(data, str) or not re.fullmatch(r"data-[0-9a-f]{16}", data):
        return f"names {data!r} as its data folder (expected data-<16 hex digits> inside the index folder)"
    if not isinstance(raw["corpus"], str):
        return f"names {raw['corpus']!r} as its corpus (expected a folder path)"
    if not isinstance(raw["documents"], dict) or not all(
            isinstance(d, dict) and isinstance(d.get("sha256"), str) for d in raw["documents"].values()):
        return "has a malformed documents table"
    if not isinstance(raw["dimension"], int) or not isinstance(raw["chunking"], dict):
        return "has a malformed dimension or chunking"
    try:
        parse_store(raw.get("store", "faiss:flat"))
    except ValueError as exc:
        return f"names a store rag does not open ({exc})"
    return None


def read_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    if not (path / MANIFEST).is_file():
        what = "does not exist" if not path.exists() else f"has no {MANIFEST}"
        raise IndexNotFoundError(f"no index at {str(path)!r}: the folder {what}. "
                                 f"Build one with: {rebuild_hint(path)}")
    try:
        raw = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {MANIFEST} is not valid JSON ({exc}). "
                                f"Rebuild it with: {rebuild_hint(path)}") from exc
    except RecursionError:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {MANIFEST} is nested too deeply to be a "
                                f"manifest. Rebuild it with: {rebuild_hint(path)}") from None
    missing = [key for key in _REQUIRED if not isinstance(raw, dict) or key not in raw]
    if missing:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {MANIFEST} lacks {', '.join(missing)}. "
                                f"Rebuild it with: {rebuild_hint(path)}")
    if raw["format_version"] != FORMAT_VERSION:
        corpus = raw["corpus"] if isinstance(raw["corpus"], str) else "FOLDER"
        folder = corpus if Path(corpus).is_absolute() else os.path.normpath(path / corpus)
        raise StaleIndexError(f"index {str(path)!r} has format version {raw['format_version']}, this rag "
                              f"reads version {FORMAT_VERSION}. Rebuild it with: rag index {folder} --out {path}")
    problem = _problem(raw)
    if problem:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {MANIFEST} {problem}. "
                                f"Rebuild it with: {rebuild_hint(path)}")
    known = {f.name for f in fields(Manifest)}
    return Manifest(**{key: value for key, value in raw.items() if key in known})
