"""rag: answers questions from a folder of documents by quoting them, with citations.

The names below are imported on first use (PEP 562), so that `import rag` and `rag --help` do not
load torch, faiss and the format libraries before they are needed."""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "QA": "pipeline", "load": "pipeline", "build": "pipeline", "refresh": "pipeline", "Reader": "reader",
    "Answer": "answer", "Alternative": "answer", "Citation": "answer", "AnswerSettings": "settings",
    "Passage": "chunking",
    "RetrievalSettings": "settings", "Embedder": "embedder", "SentenceTransformerEmbedder": "embedder",
    "OnnxEmbedder": "embedder", "load_embedder": "embedder",
    "DEFAULT_MODEL": "embedder", "RagError": "errors", "RagWarning": "errors", "IndexNotFoundError": "errors",
    "CorruptIndexError": "errors", "StaleIndexError": "errors", "ModelLoadError": "errors", "CorpusError": "errors",
    "IndexLockedError": "errors", "IndexWriteError": "errors",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

