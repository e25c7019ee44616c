"""The question-answering object: one index, its embedder and reader, and the settings that answer with them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import astuple, replace

import numpy as np

from ..config import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS
from ..encoders import runtime
from ..encoders.embedder import Embedder
from ..errors import StaleIndexError
from ..index.value import Index
from ..ingest.chunking import Passage
from ..ingest.cleaning import printable
from ..ingest.language import Language, language
from ..reader import Reader
from .answer_type import asks_for_more
from .conversation import Turn, as_turns, leans_on_topic, rewrite
from .extraction import extract, read
from .retrieval import Retrieved, merge, retrieve, score
from .settings import AnswerSettings, RetrievalSettings
from .types import Answer


def clean_question(question: str) -> str:
    """The question as asked, minus control characters and surrounding space; ValueError if unusable."""
    if not isinstance(question, str):
        raise ValueError(f"the question must be text, not {type(question).__name__}")
    text = " ".join(printable(question).split())
    if not text:
        raise ValueError("the question is empty: type a question about the documents")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(text):,} characters long; the limit is "
                         f"{MAX_QUESTION_CHARS:,}: shorten it to the question itself")
    if not re.search(r"\w", text):
        raise ValueError(f"the question {text[:40]!r} has no words in it: ask about the documents in words")
    return text


class QA:
    """Answers questions from one index by quoting it. Create with `rag.load` or `rag.build`."""

    def __init__(self, index: Index, embedder: Embedder, *, reader: Reader | None = None,
                 retrieval: RetrievalSettings = RetrievalSettings(),
                 answering: AnswerSettings = AnswerSettings()) -> None:
        if embedder.name != index.model:
            raise StaleIndexError(f"the index was built with model {index.model!r}, but the embedder is "
                                  f"{embedder.name!r}; load it with model={index.model!r} or rebuild it")
        self.index, self.embedder, self.reader = index, embedder, reader
        self.retrieval, self.answering = retrieval, answering
        self._documents: dict[str, list[Passage]] | None = None

    @property
    def titles(self) -> dict[str, str]:
        """source file -> document title, for every indexed document."""
        return self.index.titles

    def document(self, source: str) -> list[Passage]:
        """A document's passages in order (what a citation's paragraph numbers count); [] if not indexed."""
        if self._documents is None:
            grouped: dict[str, list[Passage]] = {}
            for p in self.index.passages:
                grouped.setdefault(p.source, []).append(p)
            self._documents = grouped
        return list(self._documents.get(source, []))

    def ask(self, question: str, history: Iterable | None = None) -> Answer:
        """The best verbatim answer with citations, or `answered=False` when the documents don't say.

        `history`: the conversation so far (earlier questions as text, dicts {"question", "answer"},
        chat messages {"role", "content"} or Answers), oldest first. A follow-up that leans on it ("And
        what about Xinjiang?") is rewritten to stand on its own (`answer.searched`); the passages found
        for the rewrite and for the question as asked are merged and read with the rewrite. A question
        that stands on its own is answered exactly as without a history."""
        cleaned = clean_question(question)
        turns = [Turn(*(printable(part) for part in astuple(t))) for t in as_turns(history)[-MAX_HISTORY_TURNS:]]
        searched = rewrite(cleaned, turns, self.index.bm25.query_weights)
        # "Who else imposed them?", "Which other river ...?": the quote just given is not the answer again.
        past = frozenset({turns[-1].answer}) if turns and turns[-1].answer and asks_for_more(
            cleaned, self._language) else frozenset()
        # A follow-up with no back-reference to rewrite ("Who is the president?") is searched as asked,
        # in the document the conversation is about; one that stands on its own, as without a history.
        topic = self._topic(turns, cleaned) if searched != cleaned or (
            turns and leans_on_topic(cleaned, self.index.bm25.query_weights)) else None
        if searched == cleaned and topic is None:
            if not past:
                return self.ask_many([cleaned])[0]
            (vector,) = self.embedder.encode([cleaned])
            with runtime.one_blas_thread():
                retrieved = retrieve(self.index, vector, cleaned, k=self._k, settings=self.retrieval)
                return self._answer(cleaned, vector, retrieved, exclude=past)
        vector, literal = self.embedder.encode([searched, cleaned]) if searched != cleaned else (
            2 * list(self.embedder.encode([cleaned])))
        with runtime.one_blas_thread():
            rewritten = retrieve(self.index, vector, searched, k=self._k, settings=self.retrieval, topic=topic)
            found = rewritten if searched == cleaned else retrieve(self.index, literal, cleaned, k=self._k,
                                                                   settings=self.retrieval, topic=topic)
            hits = merge(rewritten.hits, found.hits, k=self._k)
            answering = self.answering
            quoted = self._passage_quoting(turns[-1].answer)
            if quoted is not None and hits:
                # A follow-up is most often about what was just quoted: its passage is read first, on top of
                # the usual ones (it does not push out a passage the rewrite or the question found).
                if quoted not in [h.passage_id for h in hits[:answering.reader_passages]]:
                    answering = replace(answering, reader_passages=answering.reader_passages + 1)
                # It is read beside the others, never alone: a follow-up's answer is as often elsewhere.
                answering = replace(answering, reader_stops=None)
                (hit,) = score(self.index, vector, rewritten.lexical, [quoted], self.retrieval,
                               titles=rewritten.titles, topic=rewritten.topic)
                if searched != cleaned:  # a rewrite leans on the quote itself; "Who is the king?" only on its document
                    hit = replace(hit, score=max(hit.score, hits[0].score))
                hits = sorted([hit] + [h for h in hits if h.passage_id != quoted], key=lambda h: -h.score)
            retrieved = rewritten._replace(hits=hits)
            return replace(self._answer(searched, vector, retrieved, answering, asked=cleaned, exclude=past),
                           question=cleaned, searched=searched if searched != cleaned else "")

    def _topic(self, turns: list[Turn], question: str) -> np.ndarray | None:
        """A follow-up's document prior: 1.0 for each passage of the document the last answered turn
        quoted, else 0.0; None when no earlier quote is found, or when the follow-up names another
        document's title ("And what about India?" after a question about Nepal changes the topic)."""
        if not self.retrieval.topic_weight:
            return None
        quoted = next((p for p in (self._passage_quoting(t.answer) for t in reversed(turns)) if p is not None), None)
        if quoted is None:
            return None
        named = self.index.title_scores(question)
        if named.max() > 0 and named[quoted] < named.max():
            return None
        return self.index.same_document(quoted)

    def _passage_quoting(self, quote: str) -> int | None:
        """The passage an earlier answer quoted (found by its words, then checked verbatim)."""
        if not quote.strip():
            return None
        scores = self.index.bm25.scores(quote)
        for i in np.argsort(-scores)[:5]:
            if scores[i] > 0 and quote in self.index.passages[int(i)].text:
                return int(i)
        return None

    def ask_many(self, questions: list[str]) -> list[Answer]:
        """Answer several questions with one model call. ValueError names the first unusable question."""
        cleaned = [clean_question(q) for q in questions]
        vectors = self.embedder.encode(cleaned, batch_size=32)
        with runtime.one_blas_thread():
            return [self._answer(question, vector, retrieve(self.index, vector, question, k=self._k,
                                                            settings=self.retrieval))
                    for question, vector in zip(cleaned, vectors)]

    @property
    def _k(self) -> int:
        return max(self.answering.passages, self.answering.citations, self.answering.reader_passages)

    @property
    def _language(self) -> Language:
        return language(self.index.manifest.language)

    def _answer(self, question: str, vector, retrieved: Retrieved, answering: AnswerSettings | None = None,
                asked: str | None = None, exclude: frozenset[str] = frozenset()) -> Answer:
        answering = answering or self.answering
        if self.reader is not None:
            return read(self.index, self.reader, question, vector, retrieved, answering, asked, exclude)
        return extract(self.index, question, vector, retrieved, answering, exclude)
