"""rag: answers questions from a folder of documents by quoting them, with citations."""

from .answer import Alternative, Answer, AnswerSettings, Citation
from .chunking import Passage
from .embedder import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder
from .errors import (
                     CorpusError,
                     CorruptIndexError,
                     IndexNotFoundError,
                     ModelLoadError,
                     RagError,
                     RagWarning,
                     StaleIndexError,
)
from .pipeline import QA, build, load
from .reader import Reader
from .retrieval import RetrievalSettings

__version__ = "0.1.0"
__all__ = [
    "QA", "load", "build", "Reader", "Answer", "Alternative", "Citation", "Passage", "AnswerSettings",
    "RetrievalSettings", "Embedder", "SentenceTransformerEmbedder", "DEFAULT_MODEL", "RagError",
    "RagWarning", "IndexNotFoundError", "CorruptIndexError", "StaleIndexError", "ModelLoadError", "CorpusError",
]
