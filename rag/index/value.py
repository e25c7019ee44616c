"""The index: an immutable value holding the passages, where their vectors are, and BM25 over them.

Made by `building.build_index`, written and read by `storage`. Each passage has one or more windows
(a long paragraph is embedded in overlapping windows of sentences); each window's vector is in the
vector store under a content id (`stores.window_id`). Rows below are windows in passage order:
`window_ids[row]` is the window's id in the store, `window_passage[row]` its passage. Sentence vectors
are held here, one per sentence, passages in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..ingest.chunking import Passage
from ..ingest.language import language
from .lexical import BM25Index
from .manifest import Manifest
from .stores import VectorStore


@dataclass(frozen=True, eq=False)
class Index:
    manifest: Manifest
    passages: tuple[Passage, ...]
    store: VectorStore
    window_ids: np.ndarray  # int64, row -> id in `store`
    window_passage: np.ndarray  # int64, row -> passage id (non-decreasing)
    sentence_vectors: np.ndarray  # float32 (sentences, dimension)
    path: Path | None = None  # where it was loaded from or saved to
    changes: dict = field(default_factory=dict)  # what the build that made it changed

    @property
    def model(self) -> str:
        return self.manifest.model

    @property
    def titles(self) -> dict[str, str]:
        return self.manifest.titles

    @cached_property
    def bm25(self) -> BM25Index:
        """BM25 over the passages, built on first use (indexing alone never needs it)."""
        return BM25Index([p.labelled(p.text) for p in self.passages], language=language(self.manifest.language))

    @cached_property
    def _sources(self) -> list[str]:
        return list(dict.fromkeys(p.source for p in self.passages))

    @cached_property
    def document_of(self) -> np.ndarray:
        """passage id -> its document's number (documents numbered in the order of their passages)."""
        row = {source: i for i, source in enumerate(self._sources)}
        return np.fromiter((row[p.source] for p in self.passages), dtype=np.int64, count=len(self.passages))

    @cached_property
    def _titles(self) -> BM25Index:
        """BM25 over the documents' titles (row i: document number i)."""
        return BM25Index([self.titles.get(s) or s for s in self._sources], language=language(self.manifest.language))

    def same_document(self, passage_id: int) -> np.ndarray:
        """passage id -> 1.0 if it is in the same document as `passage_id`, else 0.0."""
        return (self.document_of == self.document_of[passage_id]).astype(np.float32)

    def title_scores(self, question: str) -> np.ndarray:
        """passage id -> the question's BM25 score of its document's title over the best title's (0..1)."""
        document = self.document_of
        scores = self._titles.scores(question)
        best = float(scores.max()) if len(scores) else 0.0
        return (scores / best)[document].astype(np.float32) if best > 0 else np.zeros(len(document), np.float32)

    @cached_property
    def sentence_count(self) -> np.ndarray:
        """passage id -> its number of sentences."""
        return np.fromiter((len(p.sentences) for p in self.passages), dtype=np.int64, count=len(self.passages))

    @cached_property
    def sentence_start(self) -> np.ndarray:
        """passage id -> its first row in sentence_vectors."""
        counts = self.sentence_count
        return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts

    @cached_property
    def _words(self) -> dict[int, list[frozenset[str]]]:
        return {}

    @cached_property
    def _ids_sorted(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.window_ids, kind="stable")
        return self.window_ids[order], order

    def sentence_words(self, passage_id: int) -> list[frozenset[str]]:
        """Stemmed content words of each sentence of a passage, tokenized once and cached."""
        if passage_id not in self._words:
            p = self.passages[passage_id]
            self._words[passage_id] = [frozenset(w) for w in
                                       self.bm25.tokenize(p.labelled(p.text[s:e]) for s, e in p.sentences)]
        return self._words[passage_id]

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """The rows of store ids (from a search); -1 for an id this index does not hold."""
        ids = np.asarray(ids, dtype=np.int64)
        known, order = self._ids_sorted
        if not len(known):
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
        return np.where(known[at] == ids, order[at], -1).astype(np.int64)

    def window_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of these rows (fetched from the store by id)."""
        return self.store.fetch(self.window_ids[rows])

    def window_ranges(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of each passage's rows (windows are in passage order)."""
        return (np.searchsorted(self.window_passage, passage_ids, side="left"),
                np.searchsorted(self.window_passage, passage_ids, side="right"))

    def sentence_ranges(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of each passage's rows in `sentence_vectors`."""
        starts = self.sentence_start[passage_ids]
        return starts, starts + self.sentence_count[passage_ids]

    def sentence_rows(self, passage_id: int) -> slice:
        start = int(self.sentence_start[passage_id])
        return slice(start, start + len(self.passages[passage_id].sentences))


def concat_ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The rows start..end-1 of every range, back to back."""
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]).astype(np.int64)
