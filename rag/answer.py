"""Answer extraction: choose the sentence that answers, quote it verbatim, cite it, or decline."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .index import Index
from .retrieval import Hit

NOT_ANSWERED = "The documents don't say: no passage answers this question closely enough."


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 3  # top passages whose sentences compete for the answer
    citations: int = 3  # passages cited (the answer's first)
    alternatives: int = 3
    sentence_weight: float = 0.5  # a sentence's score: this share of its own cosine with the question,
    passage_weight: float = 0.25  # this share of its passage's cosine,
    overlap_weight: float = 0.25  # and this share of the question's words (idf-weighted) it contains
    threshold: float = 0.40  # evidence below this is declined
    temperature: float = 0.06  # spread of the confidence curve around the threshold


@dataclass(frozen=True)
class Citation:
    source: str  # file path relative to the corpus folder
    title: str
    paragraph: int  # 1-based paragraph number in the document
    start: int  # span of the quote in `context`
    end: int
    context: str  # the cited paragraph's full text
    score: float


@dataclass(frozen=True)
class Alternative:
    answer: str
    confidence: float
    citations: list[Citation]


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    answer: str  # verbatim quote, "" when not answered
    confidence: float  # 0..1
    citations: list[Citation] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    message: str = ""  # why not answered, else ""

    def to_dict(self) -> dict:
        """The JSON contract shared by `rag ask --json` and the web API."""
        return asdict(self)


@dataclass(frozen=True)
class _Candidate:
    passage_id: int
    sentence: int
    score: float


def _confidence(score: float, settings: AnswerSettings) -> float:
    return 1.0 / (1.0 + math.exp(-(score - settings.threshold) / settings.temperature))


def _citation(index: Index, candidate: _Candidate) -> Citation:
    passage = index.passages[candidate.passage_id]
    start, end = passage.sentences[candidate.sentence]
    return Citation(passage.source, passage.title, passage.paragraph, start, end, passage.text,
                    round(candidate.score, 4))


def extract(index: Index, question: str, query: np.ndarray, hits: list[Hit],
            settings: AnswerSettings = AnswerSettings()) -> Answer:
    """Score each sentence of the top passages against the question and quote the best one."""
    if not hits:
        return Answer(question, False, "", 0.0, message=NOT_ANSWERED)
    candidates: list[_Candidate] = []
    best_per_passage: dict[int, _Candidate] = {}
    terms = {t: index.bm25.idf(t) for t in index.bm25.query_tokens(question)}
    total = sum(terms.values()) or 1.0
    competing = {hit.passage_id for hit in hits[:settings.passages]}
    for hit in hits[:max(settings.passages, settings.citations)]:
        rows = index.sentence_rows(hit.passage_id)
        sims = index.sentence_vectors[rows] @ query
        words = index.sentence_words(hit.passage_id)
        overlap = np.array([sum(w for t, w in terms.items() if t in ws) / total for ws in words])
        scores = (settings.sentence_weight * sims + settings.passage_weight * hit.dense
                  + settings.overlap_weight * overlap)
        for j, score in enumerate(scores):
            candidate = _Candidate(hit.passage_id, j, float(score))
            if hit.passage_id in competing:
                candidates.append(candidate)
            if hit.passage_id not in best_per_passage or score > best_per_passage[hit.passage_id].score:
                best_per_passage[hit.passage_id] = candidate
    candidates.sort(key=lambda c: -c.score)
    best = candidates[0]
    confidence = round(_confidence(best.score, settings), 4)
    alternatives = [Alternative(index.passages[c.passage_id].sentence_text(c.sentence),
                                round(_confidence(c.score, settings), 4), [_citation(index, c)])
                    for c in candidates[1:settings.alternatives + 1]]
    if best.score < settings.threshold:
        nearest = [Alternative(index.passages[best.passage_id].sentence_text(best.sentence), confidence,
                               [_citation(index, best)])] + alternatives[:settings.alternatives - 1]
        return Answer(question, False, "", confidence, [], nearest, NOT_ANSWERED)
    citations = [_citation(index, best)]
    for hit in hits[:settings.citations]:
        if hit.passage_id != best.passage_id and len(citations) < settings.citations:
            citations.append(_citation(index, best_per_passage[hit.passage_id]))
    answer = index.passages[best.passage_id].sentence_text(best.sentence)
    return Answer(question, True, answer, confidence, citations, alternatives, "")
