"""Lexical retrieval: BM25 (bm25s) over the same passages, with the language's stemmer and stop words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import bm25s
import numpy as np
import Stemmer

from ..ingest.language import Language
from ..ingest.language import language as find_language


class BM25Index:
    """BM25 scores of every passage for a query. Rebuilt from passage texts on load (it is fast)."""

    def __init__(self, texts: Sequence[str], *, language: str | Language = "en", k1: float = 1.2, b: float = 0.75):
        self.language = find_language(language)
        self._stemmer = Stemmer.Stemmer(self.language.stemmer)
        self._stopwords = sorted(self.language.stop_words)
        self._size = len(texts)
        tokens = bm25s.tokenize(list(texts), stopwords=self._stopwords, stemmer=self._stemmer.stemWords,
                                show_progress=False)
        self._model = bm25s.BM25(k1=k1, b=b)
        self._model.index(tokens, show_progress=False)
        self._vocab = tokens.vocab
        df = np.zeros(len(self._vocab), dtype=np.float64)
        for ids in tokens.ids:
            df[np.unique(np.asarray(ids, dtype=np.int64))] += 1
        # Smoothed inverse document frequency, for weighting word overlap.
        self._idf = np.log1p((self._size - df + 0.5) / (df + 0.5))

    def tokenize(self, texts: Iterable[str]) -> list[list[str]]:
        """Lower-cased, stop-word-free, stemmed words of each text."""
        return bm25s.tokenize(list(texts), stopwords=self._stopwords, stemmer=self._stemmer.stemWords,
                              return_ids=False, show_progress=False)

    def query_tokens(self, query: str) -> list[str]:
        """The query's words that occur in the corpus."""
        return [t for t in self.tokenize([query])[0] if t in self._vocab]

    def query_weights(self, query: str) -> dict[str, float]:
        """Each distinct query word with its idf; a word the corpus lacks gets the highest idf there is
        (it is rarer than any word it has), so overlap shares count what the documents miss."""
        unseen = float(np.log1p((self._size + 0.5) / 0.5))
        return {t: self.idf(t) if t in self._vocab else unseen for t in self.tokenize([query])[0]}

    def idf(self, token: str) -> float:
        i = self._vocab.get(token)
        return float(self._idf[i]) if i is not None else 0.0

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage (zeros when no query word is in the corpus)."""
        tokens = self.query_tokens(query)
        if not tokens:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)
