"""Answer extraction: choose the sentence that answers, quote it verbatim, cite it, or decline; with the
reader (`read`) or by evidence alone (`extract`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..index.value import Index
from ..ingest.chunking import Passage
from ..ingest.language import language
from ..reader import Reader
from .answer_type import expected, holds
from .evidence import names_nothing, reader_evidence, reader_inputs, restates, sentence_evidence, unread_lead
from .retrieval import Retrieved
from .settings import AnswerSettings
from .types import NOT_ANSWERED, Alternative, Answer, Citation


@dataclass(frozen=True)
class _Candidate:
    passage_id: int
    sentence: int
    score: float  # evidence: compared with the threshold
    rank: float  # evidence plus context overlap: chooses the answer


def _confidence(score: float, settings: AnswerSettings) -> float:
    return 1.0 / (1.0 + math.exp(-(score - settings.threshold) / settings.temperature))


def _cite(passage: Passage, sentence: int, score: float) -> Citation:
    """The citation of one sentence of a passage."""
    start, end = passage.sentences[sentence]
    return Citation(passage.source, passage.title, passage.paragraph, passage.page, start, end, passage.text,
                    round(score, 4), passage.context)


def _citation(index: Index, candidate: _Candidate) -> Citation:
    return _cite(index.passages[candidate.passage_id], candidate.sentence, candidate.score)


def _answers(index: Index, question: str, exclude: frozenset[str]):
    """A test of whether a sentence may answer `question`: it holds the kind of thing asked for (a time
    for "when", a number for "how many": rag.answering.answer_type) and is not an earlier quote the
    question asks past (`exclude`, for "Who else ...?")."""
    lang = language(index.manifest.language)
    kind = expected(question, lang)
    return lambda sentence: sentence not in exclude and holds(sentence, kind, lang)


def read(index: Index, reader: Reader, question: str, query: np.ndarray, retrieved: Retrieved,
         settings: AnswerSettings = AnswerSettings(), asked: str | None = None,
         exclude: frozenset[str] = frozenset()) -> Answer:
    """Let the reader score every sentence of the top passages and quote the one it ranks best (its
    logit plus the evidence term, see `reader_evidence`), leaving out sentences that only restate the
    question as the user `asked` it (default: `question`; a follow-up's rewrite may carry the last
    answer, which is no restatement), and sentences that cannot answer it (`_answers`); when none is
    left, the documents don't say, and the sentences read are the nearest passages."""
    if not retrieved.hits:
        return Answer(question, False, "", 0.0, message=NOT_ANSWERED)
    hits = retrieved.hits[:settings.reader_passages]
    passages = [index.passages[h.passage_id] for h in hits]

    def scored(first: int, last: int) -> list:
        """The reader's reads of passages[first:last] in one forward pass, numbered among all passages,
        with the evidence term added to each logit."""
        reads = reader.read(question, reader_inputs(index, passages[first:last]))
        if any(settings.reader_evidence):
            added = reader_evidence(index, retrieved.terms, query, hits[first:last], settings)
            reads = [replace(r, logit=r.logit + float(added[r.passage][r.sentence])) for r in reads]
        return [replace(r, passage=r.passage + first) for r in reads]

    reads, done = [], 0  # the reads so far, of passages[:done]
    for upto, enough in settings.reader_stops or ():  # in stages: stop once the best so far is enough
        if upto >= len(passages):
            break
        reads += scored(done, upto)
        done = upto
        if reads and max(r.logit for r in reads) - unread_lead(hits[upto], settings) >= enough:
            done = len(passages)
            break
    if done < len(passages):
        reads += scored(done, len(passages))
    # A sentence made only of the question's own words ("The BLAS fix." for "What does the BLAS fix
    # do?", a bold lead-in) says nothing the question did not: it is never the quote.
    asked = question if asked is None else asked
    asked_terms = retrieved.terms if asked == question else index.bm25.query_weights(asked)
    reads = [r for r in reads if not restates(passages[r.passage].sentence_text(r.sentence), asked,
                                              index.sentence_words(passages[r.passage].id)[r.sentence], asked_terms)]

    def cite(r) -> Citation:
        return _cite(passages[r.passage], r.sentence, r.logit)

    def alternative(r) -> Alternative:
        return Alternative(passages[r.passage].sentence_text(r.sentence), round(reader.confidence(r.logit), 4),
                           [cite(r)])

    reads.sort(key=lambda r: -r.logit)
    may_answer = _answers(index, question, exclude)
    unfit, reads = reads, [r for r in reads if may_answer(passages[r.passage].sentence_text(r.sentence))]
    if not reads:
        if not unfit:
            return Answer(question, False, "", 0.0, message=NOT_ANSWERED)
        near = [alternative(r) for r in unfit[:settings.alternatives]]
        return Answer(question, False, "", near[0].confidence, round(unfit[0].logit, 4), [], near, NOT_ANSWERED)

    threshold = reader.config.threshold if settings.reader_threshold is None else settings.reader_threshold
    best = reads[0]
    confidence = round(reader.confidence(best.logit), 4)
    alternatives = [alternative(r) for r in reads[1:settings.alternatives + 1]]
    if confidence < threshold:
        return Answer(question, False, "", confidence, round(best.logit, 4), [],
                      [alternative(best)] + alternatives[:settings.alternatives - 1], NOT_ANSWERED)
    citations = [cite(best)]
    for i in range(len(passages)):
        # Other passages are cited only when their best sentence too clears the threshold.
        other = next((r for r in reads if r.passage == i), None)
        if (i != best.passage and other is not None and len(citations) < settings.citations
                and reader.confidence(other.logit) >= threshold):
            citations.append(cite(other))
    answer = passages[best.passage].sentence_text(best.sentence)
    start, end = best.span
    # "Who wrote to the Assembly?" "I was pleased to receive ...": the quote stands, unmarked.
    span = None if names_nothing(answer[start:end], language(index.manifest.language).pronouns) else (start, end)
    return Answer(question, True, answer, confidence, round(best.logit, 4), citations, alternatives, "",
                  short_answer=answer[start:end] if span else "", answer_span=span)


def extract(index: Index, question: str, query: np.ndarray, retrieved: Retrieved,
            settings: AnswerSettings = AnswerSettings(), exclude: frozenset[str] = frozenset()) -> Answer:
    """Without a reader: score each sentence of the top passages against the question by its evidence
    (cosine, passage score, word overlap) and quote the best one that may answer it (`_answers`)."""
    hits = retrieved.hits
    if not hits:
        return Answer(question, False, "", 0.0, message=NOT_ANSWERED)
    candidates: list[_Candidate] = []
    best_per_passage: dict[int, _Candidate] = {}
    competing = {hit.passage_id for hit in hits[:settings.passages]}
    considered = hits[:max(settings.passages, settings.citations)]
    for hit, scores, ranks in sentence_evidence(index, retrieved.terms, query, considered, settings):
        for j, (score, rank) in enumerate(zip(scores, ranks)):
            candidate = _Candidate(hit.passage_id, j, float(score), float(rank))
            if hit.passage_id in competing:
                candidates.append(candidate)
            if hit.passage_id not in best_per_passage or rank > best_per_passage[hit.passage_id].rank:
                best_per_passage[hit.passage_id] = candidate
    candidates.sort(key=lambda c: -c.rank)
    may_answer = _answers(index, question, exclude)
    fit = [c for c in candidates if may_answer(index.passages[c.passage_id].sentence_text(c.sentence))]
    if not fit:
        nearest = [Alternative(index.passages[c.passage_id].sentence_text(c.sentence),
                               round(_confidence(c.score, settings), 4), [_citation(index, c)])
                   for c in candidates[:settings.alternatives]]
        return Answer(question, False, "", nearest[0].confidence if nearest else 0.0,
                      round(candidates[0].score, 4) if candidates else 0.0, [], nearest, NOT_ANSWERED)
    candidates = fit
    best = candidates[0]
    evidence = max(c.score for c in candidates)  # the strongest evidence any competing sentence has
    confidence = round(_confidence(evidence, settings), 4)
    alternatives = [Alternative(index.passages[c.passage_id].sentence_text(c.sentence),
                                round(_confidence(c.score, settings), 4), [_citation(index, c)])
                    for c in candidates[1:settings.alternatives + 1]]
    if evidence < settings.threshold:
        nearest = [Alternative(index.passages[best.passage_id].sentence_text(best.sentence), confidence,
                               [_citation(index, best)])] + alternatives[:settings.alternatives - 1]
        return Answer(question, False, "", confidence, round(evidence, 4), [], nearest, NOT_ANSWERED)
    citations = [_citation(index, best)]
    for hit in hits[:settings.citations]:
        other = best_per_passage[hit.passage_id]
        # Other passages are cited only when they too hold a sentence with enough evidence.
        if hit.passage_id != best.passage_id and other.score >= settings.threshold:
            citations.append(_citation(index, other))
    answer = index.passages[best.passage_id].sentence_text(best.sentence)
    return Answer(question, True, answer, confidence, round(evidence, 4), citations, alternatives, "")
