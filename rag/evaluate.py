"""Evaluation on SQuAD-open: every SQuAD paragraph in one corpus, every question asked against all of it.

Metrics: recall@k and MRR of the gold paragraph, for the hybrid ranking and for BM25 alone and
dense alone; answer accuracy (the returned quote contains a gold answer after SQuAD's
normalization); share answered; latency.
"""

from __future__ import annotations

import json
import random
import re
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KS = (1, 3, 5, 20)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    source: str  # the article's file in the materialized corpus
    paragraph: int  # 1-based paragraph number of the gold paragraph in that file
    answers: tuple[str, ...]


def normalize(text: str) -> str:
    """SQuAD's answer normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains_answer(returned: str, answers: Sequence[str]) -> bool:
    returned = f" {normalize(returned)} "
    return any(f" {normalize(a)} " in returned for a in answers if normalize(a))


def rank_of(ranking: Sequence[object], gold: object) -> int | None:
    """1-based position of `gold` in `ranking`, None when absent."""
    for i, item in enumerate(ranking, start=1):
        if item == gold:
            return i
    return None


def recall_and_mrr(ranks: Sequence[int | None], ks: Sequence[int] = KS) -> dict[str, float]:
    """recall@k for each k and mean reciprocal rank, from each question's gold rank (None: not found)."""
    n = len(ranks)
    if n == 0:
        raise ValueError("no questions to score: the ranking list is empty")
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in ks}
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n
    return out


def load_squad(path: str | Path, corpus: str | Path) -> list[Question]:
    """Write one text file per SQuAD article (paragraphs separated by blank lines) into `corpus`
    and return the questions with their gold file and paragraph number."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    corpus = Path(corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    for i, article in enumerate(data["data"]):
        source = f"{i:03d}_{re.sub(r'[^A-Za-z0-9]+', '_', article['title'])[:60]}.txt"
        paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
        target = corpus / source
        text = "\n\n".join(paragraphs) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        for number, p in enumerate(article["paragraphs"], start=1):
            for qa in p["qas"]:
                questions.append(Question(qa["id"], qa["question"], source, number,
                                          tuple(a["text"] for a in qa["answers"])))
    return questions


def sample(questions: list[Question], limit: int | None, seed: int = 13) -> list[Question]:
    if limit is None or limit >= len(questions):
        return questions
    return random.Random(seed).sample(questions, limit)


def evaluate(qa, questions: Sequence[Question], *, k: int = 20, progress: bool = False) -> dict:
    """Scores for `qa` (a rag.QA over the SQuAD corpus) on `questions`."""
    from tqdm.auto import tqdm

    from .retrieval import dense_scores, retrieve

    index = qa.index
    key = {(p.source, p.paragraph): p.id for p in index.passages}
    ranks: dict[str, list[int | None]] = {"hybrid": [], "bm25": [], "dense": []}
    correct = answered = 0
    latencies = []
    all_ids = np.arange(len(index.passages))
    for q in tqdm(questions, desc="Evaluating", unit="q", disable=not progress):
        gold = key.get((q.source, q.paragraph))
        start = time.perf_counter()
        answer = qa.ask(q.text)
        latencies.append(time.perf_counter() - start)
        answered += answer.answered
        returned = answer.answer or (answer.alternatives[0].answer if answer.alternatives else "")
        correct += answer.answered and contains_answer(returned, q.answers)
        vector = qa.embedder.encode([q.text])[0]
        hits = retrieve(index, vector, q.text, k=k, settings=qa.retrieval)
        ranks["hybrid"].append(rank_of([h.passage_id for h in hits], gold))
        lexical = index.bm25.scores(q.text)
        ranks["bm25"].append(rank_of(list(np.argsort(-lexical, kind="stable")[:k]), gold))
        dense = dense_scores(index, vector, all_ids)
        ranks["dense"].append(rank_of(list(np.argsort(-dense, kind="stable")[:k]), gold))
    ms = np.asarray(latencies) * 1000
    return {
        "questions": len(questions),
        "retrieval": {mode: recall_and_mrr(r) for mode, r in ranks.items()},
        "answer_accuracy": correct / len(questions),
        "answered": answered / len(questions),
        "latency_ms": {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95))},
    }
