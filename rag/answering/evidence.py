"""What retrieval says about each candidate sentence (its cosine with the question, its passage's score, its
share of the question's words), how the reader is given the passages, and the rules that keep a sentence
from being the quote (it only restates the question; its short answer is only pronouns)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..index.value import Index
from ..ingest.chunking import Passage
from ..reader import ReaderPassage
from .retrieval import Hit
from .settings import AnswerSettings


def text_before(index: Index, passage: Passage, chars: int = 1200) -> str:
    """The end of the text that precedes a passage in its document (the passages before it), which
    the reader reads as context for a short passage."""
    parts, size, i = [], 0, passage.id - 1
    while i >= 0 and size < chars and index.passages[i].source == passage.source:
        parts.append(index.passages[i].text)
        size += len(parts[-1]) + 1
        i -= 1
    return "\n".join(reversed(parts))[-chars:]


def reader_inputs(index: Index, passages: list[Passage]) -> list[ReaderPassage]:
    """The passages as the reader reads them: a record under its label ("Opening hours — Saturday: 10am
    to 2pm"), each after the text before it."""
    return [ReaderPassage(f"{p.title} — {p.context}" if p.context else p.title, p.text, p.sentences,
                          text_before(index, p)) for p in passages]


def unread_lead(hit: Hit, settings: AnswerSettings) -> float:
    """What the evidence term gives every sentence of the best unread passage for its retrieval score:
    the reads so far must beat that by a stage's `reader_stops` score to end reading."""
    return settings.reader_evidence[1] * hit.score


def restates(sentence: str, question: str, words: frozenset[str], question_terms: Mapping[str, float]) -> bool:
    """Whether a sentence's content words (stemmed, as `Index.sentence_words` gives them) are all the
    question's own, and so are its numbers and one-letter symbols (which those words leave out: "(n - 1)!"
    answers with them): it repeats the question rather than answering it."""
    if not words <= question_terms.keys():
        return False
    symbols = {t for t in re.findall(r"\w+", sentence.lower()) if len(t) == 1 or t.isdigit()}
    return symbols <= set(re.findall(r"\w+", question.lower()))


def names_nothing(short: str, pronouns: frozenset[str]) -> bool:
    """Whether a short answer is only pronouns ("I", "he", "They"): it points at a name, it is not one.
    A word in capitals is an acronym ("US", "IT"), not a pronoun."""
    words = re.findall(r"\w+", short)
    return bool(words) and all(w.lower() in pronouns and not (len(w) > 1 and w.isupper()) for w in words)


class EvidenceParts(NamedTuple):
    """What the question's retrieval says about each sentence of one retrieved passage."""

    hit: Hit
    cosine: np.ndarray  # each sentence's embedding against the question's
    overlap: np.ndarray  # share of the question's words (idf-weighted) in the sentence
    in_context: np.ndarray  # the same counting the sentence before it too


def evidence_parts(index: Index, terms: Mapping[str, float], query: np.ndarray,
                   hits: list[Hit]) -> list[EvidenceParts]:
    """For each hit, its sentences' evidence parts, which `sentence_evidence` (no reader) and
    `reader_evidence` weigh each their own way."""
    total = sum(terms.values()) or 1.0
    out = []
    for hit in hits:
        rows = index.sentence_rows(hit.passage_id)
        found = [terms.keys() & ws for ws in index.sentence_words(hit.passage_id)]
        overlap = np.array([sum(terms[t] for t in f) / total for f in found])
        # The same with the sentence before it: "It can waste up to half the carbon" answers a question
        # whose words ("oxygen", "carbon dioxide") are in the previous sentence, which "It" refers to.
        in_context = np.array([sum(terms[t] for t in f | before) / total
                               for f, before in zip(found, [set()] + found[:-1])])
        out.append(EvidenceParts(hit, index.sentence_vectors[rows] @ query, overlap, in_context))
    return out


def sentence_evidence(index: Index, terms: Mapping[str, float], query: np.ndarray, hits: list[Hit],
                      settings: AnswerSettings = AnswerSettings()) -> list[tuple[Hit, np.ndarray, np.ndarray]]:
    """For each hit, its sentences' evidence (cosine + passage score + idf-weighted word overlap: what
    declines without a reader) and rank (evidence + overlap with the sentence before: what chooses)."""
    out = []
    for part in evidence_parts(index, terms, query, hits):
        scores = (settings.sentence_weight * part.cosine + settings.passage_weight * part.hit.score
                  + settings.overlap_weight * part.overlap)
        out.append((part.hit, scores, scores + settings.context_weight * part.in_context))
    return out


def reader_evidence(index: Index, terms: Mapping[str, float], query: np.ndarray, hits: list[Hit],
                    settings: AnswerSettings = AnswerSettings()) -> list[np.ndarray]:
    """For each hit, what its sentences' evidence adds to the reader's logits: `settings.reader_evidence`
    weighs the sentence's cosine, its passage's retrieval score, its word overlap and the overlap with
    the sentence before."""
    cosine, passage, overlap, in_context = settings.reader_evidence
    return [cosine * part.cosine + passage * part.hit.score + overlap * part.overlap + in_context * part.in_context
            for part in evidence_parts(index, terms, query, hits)]
