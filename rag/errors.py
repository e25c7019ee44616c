"""Errors and warnings. Every message names the value, the rule and the fix."""

from __future__ import annotations


class RagError(Exception):
    """Base class for errors a user can act on (bad index, missing model...)."""


class IndexNotFoundError(RagError):
    """No index at the given folder."""


class CorruptIndexError(RagError):
    """An index folder exists but cannot be read back."""


class StaleIndexError(RagError):
    """The index no longer matches its documents, model or chunking settings."""


class ModelLoadError(RagError):
    """The embedding model could not be loaded."""


class CorpusError(RagError):
    """The document folder is missing or holds nothing that can be indexed."""


class IndexLockedError(RagError):
    """Another process is writing the index, and did not finish in time."""


class IndexWriteError(RagError):
    """The index could not be written (no permission, a full disk); the previous one is unchanged."""


class RagWarning(UserWarning):
    """A file was skipped or decoded with a fallback; indexing goes on."""
