"""The question-answering pipeline: load or build an index, then ask it questions."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import astuple, replace
from pathlib import Path

import numpy as np

from . import runtime
from .answer import Answer, extract, read
from .building import build_index
from .chunking import Passage
from .cleaning import printable
from .conversation import Turn, as_turns, rewrite
from .embedder import DEFAULT_MODEL, Embedder, load_embedder
from .errors import IndexWriteError, RagError, RagWarning, StaleIndexError
from .index import Index
from .manifest import Manifest, read_manifest
from .reader import DEFAULT_READER, Reader
from .retrieval import Retrieved, merge, retrieve, score
from .settings import AnswerSettings, RetrievalSettings
from .storage import load_index, save_index, writing
from .stores import rebuild_option

MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 8  # a follow-up is rewritten from the last turns only


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
        if searched == cleaned:
            return self.ask_many([cleaned])[0]
        vector, literal = self.embedder.encode([searched, cleaned])
        with runtime.one_blas_thread():
            rewritten = retrieve(self.index, vector, searched, k=self._k, settings=self.retrieval)
            found = retrieve(self.index, literal, cleaned, k=self._k, settings=self.retrieval)
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
                (hit,) = score(self.index, vector, rewritten.lexical, [quoted], self.retrieval)
                hits = [replace(hit, score=max(hit.score, hits[0].score))] + [h for h in hits if h.passage_id != quoted]
            retrieved = rewritten._replace(hits=hits)
            return replace(self._answer(searched, vector, retrieved, answering, asked=cleaned), question=cleaned,
                           searched=searched)

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

    def _answer(self, question: str, vector, retrieved: Retrieved, answering: AnswerSettings | None = None,
                asked: str | None = None) -> Answer:
        answering = answering or self.answering
        if self.reader is not None:
            return read(self.index, self.reader, question, vector, retrieved, answering, asked)
        return extract(self.index, question, vector, retrieved, answering)


def _embedder_for(model: str | Embedder | None, default: str) -> Embedder:
    if model is None or isinstance(model, str):
        return load_embedder(model or default)
    return model


ReaderOption = bool | str | Path | Reader


def open_reader(reader: ReaderOption, *, bf16: bool | None = None) -> Reader | None:
    """True: the bundled reader; False: none (answers by evidence alone); a folder or a loaded Reader.
    `bf16`: as `Reader.load` takes it (None: as rag.runtime chooses for a long-lived process)."""
    if reader is False or reader is None:
        return None
    if isinstance(reader, Reader):
        return reader
    return Reader.load(DEFAULT_READER if reader is True else Path(reader), bf16=bf16)


def _previous(out: Path | None) -> Index | None:
    """The index already at `out`, to reuse its vectors; None (with a warning if damaged) otherwise."""
    if out is None or not (out / "manifest.json").exists():
        return None
    try:
        return load_index(out)
    except RagError as exc:
        warnings.warn(f"the index at {out} cannot be reused ({exc}); indexing everything again",
                      RagWarning, stacklevel=3)
        return None


def build(folder: str | Path, out: str | Path | None = None, *, model: str | Embedder | None = None,
          progress: bool = False, store: str = "faiss", incremental: bool = True, reader: ReaderOption = True,
          language: str = "en", workers: int = 0) -> QA:
    """Index every document under `folder` and return a QA over it; saved to `out` when given.

    If `out` already holds an index of the folder made with the same model, only new and changed
    documents are embedded (`qa.index.changes` lists what changed); `incremental=False` redoes all.
    `store`: where the vectors go (rag.stores: "faiss", "faiss:hnsw", "milvus", "milvus:http://HOST:19530").
    `language`: the documents' language ("en", "fr", "de"). `workers`: embed with that many Ray workers
    (rag.distributed; 0: in this process).
    """
    embedder = _embedder_for(model, DEFAULT_MODEL)
    if workers:
        from .distributed import RayEmbedder

        embedder = RayEmbedder(embedder, workers)
    options = {"progress": progress, "store": store, "language": language}
    if out is None:
        index = build_index(folder, embedder, **options)
        return QA(index, getattr(embedder, "local", embedder), reader=open_reader(reader))
    out = Path(out)
    with writing(out):  # one writer at a time: a second waits, then reuses what the first embedded
        replaced = _previous(out)
        previous = replaced if incremental else None
        index = build_index(folder, embedder, previous=previous, out=out, **options)
        try:
            index = save_index(index, out)
        except BaseException:
            if previous is None or index.store is not previous.store:
                index.store.drop()  # a collection nobody will read
            raise
        if replaced is not None and index.store is not replaced.store:
            replaced.store.drop()  # the collection the new manifest replaced (nothing, for FAISS)
    return QA(index, getattr(embedder, "local", embedder), reader=open_reader(reader))


def load(path: str | Path | None = None, *, model: str | Embedder | None = None,
         reader: ReaderOption = True) -> QA:
    """Load a saved index (default: the bundled `embeddings/` index of `seeds/`, see rag.bundled). If its
    documents changed since it was built, it answers as it was built, with a RagWarning saying what changed
    and the command that updates it (`refresh` rebuilds it first). An index built with another model
    raises StaleIndexError.
    `reader`: True (the default: the bundled trained reader), a reader folder or a loaded Reader, or
    False (the sentence with the best evidence, as before the reader: faster, less accurate).
    """
    if path is None:
        from .bundled import DEFAULT_INDEX as path
    path = Path(path)
    manifest = read_manifest(path)
    embedder = _embedder_for(model, manifest.model)
    reasons = manifest.stale_reasons(path, model=embedder.name, max_tokens=embedder.max_tokens)
    return _serve(path, manifest, embedder, reasons, reader)


def _serve(path: Path, manifest: Manifest, embedder: Embedder, reasons: list[str], reader: ReaderOption) -> QA:
    """The saved index as it is, given what is stale about it (`reasons`)."""
    fix = manifest.rebuild_hint(path) + (f" --model {embedder.name}" if embedder.name != DEFAULT_MODEL else "")
    if reasons and embedder.name != manifest.model:  # questions embedded by another model cannot be served
        raise StaleIndexError(f"index {str(path)!r} is stale: " + "; ".join(reasons) + f". Rebuild it with: {fix}")
    if reasons:  # as a search engine serves its last committed index until the next one is built
        warnings.warn(f"index {path} is out of date ({'; '.join(reasons)}); answering from it as it was "
                      f"built. Update it with: {fix}", RagWarning, stacklevel=3)
    index = load_index(path)
    index.bm25  # noqa: B018 - built now, so that the first question is not the slow one
    return QA(index, embedder, reader=open_reader(reader))


def refresh(path: str | Path, *, corpus: str | Path | None = None, model: str | Embedder | None = None,
            progress: bool = False, reader: ReaderOption = True, manifest: Manifest | None = None) -> QA:
    """The index at `path`, first brought up to date with its corpus folder (or `corpus`) if the documents
    changed: only new and changed documents are embedded. Used where rag owns the index (the bundled
    example, `rag eval`); `load` never writes. `manifest`: the index's, when the caller has read it."""
    path = Path(path)
    manifest = manifest or read_manifest(path)
    embedder = _embedder_for(model, manifest.model)
    corpus = Path(corpus) if corpus is not None else manifest.corpus_folder(path)
    reasons = manifest.stale_reasons(path, model=embedder.name, max_tokens=embedder.max_tokens, corpus=corpus)
    if not reasons or not corpus.is_dir():
        return _serve(path, manifest, embedder, reasons, reader)
    warnings.warn(f"index {path} is stale ({'; '.join(reasons)}); rebuilding it", RagWarning, stacklevel=2)
    try:
        return build(corpus, path, model=embedder, progress=progress, store=rebuild_option(manifest.store),
                     reader=reader, language=manifest.language)
    except (OSError, IndexWriteError) as exc:  # a read-only installation: answer from a fresh index in memory
        warnings.warn(f"could not save the rebuilt index to {path} ({exc}); using it in memory",
                      RagWarning, stacklevel=2)
        return build(corpus, model=embedder, progress=progress, reader=reader, language=manifest.language)
