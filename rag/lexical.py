"""Lexical retrieval: BM25 (bm25s) over the same passages, English stemming and stop words."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer


class BM25Index:
    """BM25 scores of every passage for a query. Rebuilt from passage texts on load (it is fast)."""

    def __init__(self, texts: Sequence[str], *, language: str = "english", k1: float = 1.2, b: float = 0.75):
        self.language = language
        self._stemmer = Stemmer.Stemmer(language)
        self._size = len(texts)
        tokens = bm25s.tokenize(list(texts), stopwords=self._stopwords(), stemmer=self._stemmer.stemWords,
                                show_progress=False)
        self._model = bm25s.BM25(k1=k1, b=b)
        self._model.index(tokens, show_progress=False)
        self._vocab = tokens.vocab

    def _stopwords(self) -> str | None:
        return "en" if self.language == "english" else None

    def query_tokens(self, query: str) -> list[str]:
        tokens = bm25s.tokenize([query], stopwords=self._stopwords(), stemmer=self._stemmer.stemWords,
                                return_ids=False, show_progress=False)[0]
        return [t for t in tokens if t in self._vocab]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage (zeros when no query word is in the corpus)."""
        tokens = self.query_tokens(query)
        if not tokens:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)
