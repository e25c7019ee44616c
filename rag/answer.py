"""Answer extraction: choose the sentence that answers, quote it verbatim, cite it, or decline."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

import numpy as np

from .chunking import Passage
from .index import Index
from .language import language
from .reader import Reader, ReaderPassage
from .retrieval import Hit, Retrieved
from .settings import AnswerSettings

NOT_ANSWERED = "The documents don't say: no passage answers this question closely enough."


@dataclass(frozen=True)
class Citation:
    source: str  # file path relative to the corpus folder
    title: str
    paragraph: int  # 1-based paragraph number in the document
    page: int | None  # 1-based page, for paged formats (PDF); None otherwise
    start: int  # span of the quote in `context`
    end: int
    context: str  # the cited paragraph's full text
    score: float

    @property
    def location(self) -> str:
        """Where a reader finds the quote: "page 2, paragraph 7" or "paragraph 7"."""
        return f"page {self.page}, paragraph {self.paragraph}" if self.page else f"paragraph {self.paragraph}"


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
    score: float = 0.0  # the evidence behind the answer (see AnswerSettings); declined below the threshold
    citations: list[Citation] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    message: str = ""  # why not answered, else ""
    short_answer: str = ""  # the reader's short answer inside the quote, "" without one
    answer_span: tuple[int, int] | None = None  # answer[start:end] == short_answer; None without one
    searched: str = ""  # a follow-up's standalone rewrite, what was searched and read ("" if none)

    def to_dict(self) -> dict:
        """The JSON contract shared by `rag ask --json` and the web API."""
        return asdict(self)

    def nearest(self) -> list[Citation]:
        """The alternatives' passages, each once (two sentences of one paragraph are one passage)."""
        seen, found = set(), []
        for alternative in self.alternatives:
            c = alternative.citations[0]
            if (c.source, c.paragraph) not in seen:
                seen.add((c.source, c.paragraph))
                found.append(c)
        return found


@dataclass(frozen=True)
class _Candidate:
    passage_id: int
    sentence: int
    score: float  # evidence: compared with the threshold
    rank: float  # evidence plus context overlap: chooses the answer


def _confidence(score: float, settings: AnswerSettings) -> float:
    return 1.0 / (1.0 + math.exp(-(score - settings.threshold) / settings.temperature))


def _citation(index: Index, candidate: _Candidate) -> Citation:
    passage = index.passages[candidate.passage_id]
    start, end = passage.sentences[candidate.sentence]
    return Citation(passage.source, passage.title, passage.paragraph, passage.page, start, end, passage.text,
                    round(candidate.score, 4))


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


def read(index: Index, reader: Reader, question: str, query: np.ndarray, retrieved: Retrieved,
         settings: AnswerSettings = AnswerSettings(), asked: str | None = None) -> Answer:
    """Let the reader score every sentence of the top passages and quote the one it ranks best (its
    logit plus the evidence term, see `reader_evidence`), leaving out sentences that only restate the
    question as the user `asked` it (default: `question`; a follow-up's rewrite may carry the last
    answer, which is no restatement)."""
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
    reads.sort(key=lambda r: -r.logit)
    if not reads:
        return Answer(question, False, "", 0.0, message=NOT_ANSWERED)

    def cite(r) -> Citation:
        p = passages[r.passage]
        start, end = p.sentences[r.sentence]
        return Citation(p.source, p.title, p.paragraph, p.page, start, end, p.text, round(r.logit, 4))

    def alternative(r) -> Alternative:
        return Alternative(passages[r.passage].sentence_text(r.sentence), round(reader.confidence(r.logit), 4),
                           [cite(r)])

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


def extract(index: Index, question: str, query: np.ndarray, retrieved: Retrieved,
            settings: AnswerSettings = AnswerSettings()) -> Answer:
    """Without a reader: score each sentence of the top passages against the question by its evidence
    (cosine, passage score, word overlap) and quote the best one."""
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
