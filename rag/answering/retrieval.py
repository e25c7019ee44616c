"""Hybrid retrieval: dense (the vector store) and lexical (BM25) candidates, fused by a weighted sum of scores.

A passage's fused score is
    dense_weight * (best cosine of its windows)
  + lexical_weight * (its BM25 score / the best BM25 score for this question)
  + sentence_weight * (best cosine of one of its sentences)
  + title_weight * (its document title's BM25 score / the best title's), a prior for the document
  + topic_weight * (1 if it is in the document the conversation is about), for a follow-up only.
The weights were tuned on half of SQuAD-open (even-numbered articles) and reported on the other
half (docs/evaluation.md); on that split they rank the gold passage first for 0.829 of the questions,
against 0.769 for reciprocal-rank fusion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..index.value import Index, concat_ranges
from .settings import RetrievalSettings


@dataclass(frozen=True)
class Hit:
    passage_id: int
    score: float  # fused score, higher is better
    dense: float  # best cosine similarity between the question and the passage's windows
    lexical: float  # BM25 score
    sentence: float  # best cosine similarity between the question and one of the passage's sentences


class Retrieved(NamedTuple):
    """What retrieval hands answering: the best passages, and the question's words with their weights
    (idf; what word overlap is counted in)."""

    hits: list[Hit]
    terms: dict[str, float]
    lexical: np.ndarray  # the question's BM25 score of every passage (to score another passage alike)
    titles: np.ndarray | None = None  # the question's share of the best title score, for every passage
    topic: np.ndarray | None = None  # 1.0 for the passages of the conversation's document, else 0.0


def _max_by_group(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """max(values[s:e]) for each group, where `values` holds the groups back to back."""
    offsets = np.concatenate([[0], np.cumsum(ends - starts)[:-1]])
    return np.maximum.reduceat(values, offsets).astype(np.float32)


def dense_scores(index: Index, query: np.ndarray, passage_ids: np.ndarray) -> np.ndarray:
    """Exact best window cosine for the given passages."""
    starts, ends = index.window_ranges(passage_ids)
    return _max_by_group(index.window_vectors(concat_ranges(starts, ends)) @ query, starts, ends)


def sentence_scores(index: Index, query: np.ndarray, passage_ids: np.ndarray) -> np.ndarray:
    """Best sentence cosine for the given passages."""
    starts, ends = index.sentence_ranges(passage_ids)
    return _max_by_group(index.sentence_vectors[concat_ranges(starts, ends)] @ query, starts, ends)


def retrieve(index: Index, query: np.ndarray, question: str, *, k: int = 10,
             settings: RetrievalSettings = RetrievalSettings(), topic: np.ndarray | None = None) -> Retrieved:
    """The `k` best passages for a question whose unit vector is `query`, and the question's terms.
    `topic`: a follow-up's prior (1.0 for each passage of the document the conversation is about): those
    passages are candidates too, with `topic_weight` added to their score."""
    n = len(index.passages)
    _, found = index.store.search(query[None, :], min(settings.candidates * 2, len(index.window_ids)))
    rows = index.rows_of(found[0][found[0] >= 0])
    dense_ids = index.window_passage[rows[rows >= 0]]
    lexical = index.bm25.scores(question)
    top_lexical = np.argpartition(-lexical, min(settings.candidates, n) - 1)[:settings.candidates]
    top_lexical = top_lexical[lexical[top_lexical] > 0]
    topic = topic if topic is not None and settings.topic_weight else None
    on_topic = np.flatnonzero(topic) if topic is not None else np.zeros(0, np.int64)
    ids = np.unique(np.concatenate([dense_ids[:settings.candidates * 2], top_lexical, on_topic]))
    titles = index.title_scores(question) if settings.title_weight else None
    return Retrieved(score(index, query, lexical, ids, settings, k=k, titles=titles, topic=topic),
                     index.bm25.query_weights(question), lexical, titles, topic)


def score(index: Index, query: np.ndarray, lexical: np.ndarray, ids: np.ndarray,
          settings: RetrievalSettings = RetrievalSettings(), *, k: int | None = None,
          titles: np.ndarray | None = None, topic: np.ndarray | None = None) -> list[Hit]:
    """The best `k` (default: all) of the given passages as hits, best first; `lexical`: the question's
    BM25 score of every passage; `titles`: its title scores (`Index.title_scores`), None for none;
    `topic`: a follow-up's document prior (see `retrieve`), None for none."""
    ids = np.asarray(ids, dtype=np.int64)
    dense = dense_scores(index, query, ids)
    sentence = sentence_scores(index, query, ids)
    best_lexical = float(lexical.max()) or 1.0
    fused = (settings.dense_weight * dense + settings.lexical_weight * lexical[ids] / best_lexical
             + settings.sentence_weight * sentence)
    if titles is not None:
        fused = fused + settings.title_weight * titles[ids]
    if topic is not None:
        fused = fused + settings.topic_weight * topic[ids]
    order = np.argsort(-fused, kind="stable")[:k]
    return [Hit(int(ids[i]), float(fused[i]), float(dense[i]), float(lexical[ids[i]]), float(sentence[i]))
            for i in order]


def merge(*rankings: list[Hit], k: int) -> list[Hit]:
    """Several rankings of the same index as one: each passage with its best fused score, best first."""
    best: dict[int, Hit] = {}
    for hits in rankings:
        for hit in hits:
            if hit.passage_id not in best or hit.score > best[hit.passage_id].score:
                best[hit.passage_id] = hit
    return sorted(best.values(), key=lambda h: -h.score)[:k]
