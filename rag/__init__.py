"""rag: answers questions from a folder of documents by quoting them, with citations.

The package by concept, each subpackage importing only those before it: `config` and `errors` ->
`ingest` (documents to passages) -> `encoders` (text to vectors) -> `index` -> `reader` -> `answering`
(question to quote) -> `api` (build, load, the bundled example) -> `chat` (the page) and `cli`;
`eval` and `training` are tools beside the product, which it never imports.

The names below are imported on first use (PEP 562), so that `import rag` and `rag --help` do not
load torch, faiss and the format libraries before they are needed."""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "QA": "answering.qa", "load": "api", "build": "api", "refresh": "api", "Reader": "reader",
    "Answer": "answering.types", "Alternative": "answering.types", "Citation": "answering.types",
    "AnswerSettings": "answering.settings", "RetrievalSettings": "answering.settings", "Passage": "ingest.chunking",
    "Embedder": "encoders.embedder", "SentenceTransformerEmbedder": "encoders.embedder",
    "OnnxEmbedder": "encoders.embedder", "load_embedder": "encoders.embedder", "DEFAULT_MODEL": "encoders.embedder",
    "RagError": "errors", "RagWarning": "errors", "IndexNotFoundError": "errors", "CorruptIndexError": "errors",
    "StaleIndexError": "errors", "ModelLoadError": "errors", "CorpusError": "errors", "IndexLockedError": "errors",
    "IndexWriteError": "errors",
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

