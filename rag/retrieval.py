"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates, fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import Index


@dataclass(frozen=True)
class RetrievalSettings:
    candidates: int = 50  # taken from each retriever before fusion
    rrf_k: float = 60.0  # reciprocal-rank fusion constant
    dense_weight: float = 1.0
    lexical_weight: float = 1.0


@dataclass(frozen=True)
class Hit:
    passage_id: int
    score: float  # fused score, higher is better
    dense: float  # best cosine similarity between the question and the passage's windows
    lexical: float  # BM25 score


def dense_scores(index: Index, query: np.ndarray, passage_ids: np.ndarray) -> np.ndarray:
    """Exact best window cosine for the given passages (windows are stored in passage order)."""
    starts = np.searchsorted(index.window_passage, passage_ids, side="left")
    ends = np.searchsorted(index.window_passage, passage_ids, side="right")
    rows = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)])
    sims = index.store.index.reconstruct_batch(rows) @ query
    best = np.maximum.reduceat(sims, np.concatenate([[0], np.cumsum(ends - starts)[:-1]]))
    return best.astype(np.float32)


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def retrieve(index: Index, query: np.ndarray, question: str, *, k: int = 10,
             settings: RetrievalSettings = RetrievalSettings()) -> list[Hit]:
    """The `k` best passages for a question whose unit vector is `query`."""
    n = len(index.passages)
    scores, rows = index.store.search(query[None, :], min(settings.candidates * 2, len(index.store)))
    dense_ids = index.window_passage[rows[0][rows[0] >= 0]]
    lexical = index.bm25.scores(question)
    top_lexical = np.argpartition(-lexical, min(settings.candidates, n) - 1)[:settings.candidates]
    top_lexical = top_lexical[lexical[top_lexical] > 0]
    ids = np.unique(np.concatenate([dense_ids[:settings.candidates * 2], top_lexical]))
    dense = dense_scores(index, query, ids)
    fused = (settings.dense_weight / (settings.rrf_k + _ranks(dense))
             + settings.lexical_weight / (settings.rrf_k + _ranks(lexical[ids])))
    order = np.argsort(-fused, kind="stable")[:k]
    return [Hit(int(ids[i]), float(fused[i]), float(dense[i]), float(lexical[ids[i]])) for i in order]
