"""Training examples for the reader: each training question asked of an index of its articles, as at
inference, gives its gold passage, a hard negative and (for some) a passage of another article; and the
rows and targets the loss reads from them."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import RagError
from ..eval.metrics import contains_answer
from ..eval.squad import Question, gold_passages, load_squad
from ..reader import Reader, ReaderConfig, Row, make_rows
from .settings import VALIDATION_ARTICLES, TrainSettings


@dataclass(frozen=True)
class Example:
    question: str
    answers: tuple[str, ...]
    title: str
    text: str
    sentences: tuple[tuple[int, int], ...]
    labels: tuple[int, ...]  # per sentence: 1 answers, 0 does not, -1 unlabelled
    answer: tuple[int, int] | None  # character span of the answer in `text` (gold passage only)
    evidence: tuple[float, ...] = ()  # per sentence, the evidence term added in the listwise loss (residual)


def _find(text: str, answer: str) -> tuple[int, int] | None:
    at = text.find(answer)
    if at < 0:
        at = text.lower().find(answer.lower())
    return (at, at + len(answer)) if at >= 0 else None


def _example(q: Question, passage, kind: str) -> Example:
    sentences = tuple(passage.sentences)
    texts = [passage.text[s:e] for s, e in sentences]
    has = [contains_answer(t, q.answers) for t in texts]
    if kind == "gold":
        # The sentence holding the marked answer (its first occurrence) is the positive; other sentences
        # that merely contain the answer text ("the brain" in an article on brains) are left unlabelled.
        span = next((sp for a in q.answers if (sp := _find(passage.text, a))), None)
        marked = next((j for j, (s, e) in enumerate(sentences) if span and s <= span[0] < e), None)
        labels = tuple(1 if j == marked else -1 if h else 0 for j, h in enumerate(has))
        if marked is None:
            labels = tuple(int(h) for h in has)
    elif kind == "same-article":
        labels, span = tuple(-1 if h else 0 for h in has), None
    else:
        labels, span = tuple(0 for _ in has), None
    return Example(q.text, q.answers, passage.title, passage.text, sentences, labels, span)


def build_examples(settings: TrainSettings, log) -> tuple[list[list[Example]], list[Question], object]:
    """Examples grouped by question for the sampled training articles, plus the validation questions
    and the index they are asked against."""
    from ..answering.retrieval import retrieve
    from ..encoders.embedder import load_embedder
    from ..index.build import build_index
    from ..index.storage import load_index, save_index

    miner = _miner(settings)  # first: a wrong setting fails before minutes of indexing
    work = Path(settings.work)
    everything = load_squad(settings.squad, work / "all")
    sources = sorted({q.source for q in everything})
    rng = random.Random(settings.seed)
    # One seeded order of all articles (its prefix does not depend on how many are taken): the first
    # VALIDATION_ARTICLES validate, the next skip_articles were trained on before, then this run's.
    order = random.Random(settings.seed).sample(sources, len(sources))
    rng.sample(sources, VALIDATION_ARTICLES + settings.articles)  # later draws (the question shuffle) follow the recipe
    first = VALIDATION_ARTICLES + settings.skip_articles
    chosen = order[:VALIDATION_ARTICLES] + order[first:first + settings.articles]
    validation_sources = set(chosen[:VALIDATION_ARTICLES])
    skipped = f"s{settings.skip_articles}-" if settings.skip_articles else ""
    corpus = work / f"corpus-{settings.seed}-{skipped}{len(chosen)}"
    corpus.mkdir(parents=True, exist_ok=True)
    titles = json.loads((work / "all" / "metadata.json").read_text(encoding="utf-8"))
    for source in chosen:
        shutil.copyfile(work / "all" / source, corpus / source)
    (corpus / "metadata.json").write_text(json.dumps({s: titles[s] for s in chosen}), encoding="utf-8")
    embedder = load_embedder(settings.base_model)
    index_dir = corpus.with_name(corpus.name + ".index")
    try:
        index = load_index(index_dir)
        log(f"reusing the index of the sampled articles at {index_dir}")
    except RagError:
        index = save_index(build_index(corpus, embedder, progress=True), index_dir)
    questions = [q for q in everything if q.source in set(chosen)]
    golds = gold_passages(index.passages, questions)
    train_q = [(q, g) for q, g in zip(questions, golds) if q.source not in validation_sources and g is not None]
    rng.shuffle(train_q)
    train_q = train_q[:settings.questions]
    validation = [q for q in questions if q.source in validation_sources]
    validation = rng.sample(validation, min(settings.validation_questions, len(validation)))
    log(f"{len(train_q):,} training questions from {settings.articles} articles; {len(validation)} validation "
        f"questions from {VALIDATION_ARTICLES} other articles; {len(index.passages):,} passages indexed")
    vectors = embedder.encode([q.text for q, _ in train_q], batch_size=128, progress=True)
    from tqdm.auto import tqdm

    groups = []
    for (q, gold), vector in zip(tqdm(train_q, desc="Retrieving", unit="q"), vectors):
        retrieved = retrieve(index, vector, q.text, k=30)
        hits = retrieved.hits
        group, ids = [_example(q, index.passages[gold], "gold")], [gold]
        same = [h.passage_id for h in hits if h.passage_id != gold]
        negative = None  # the hard negative: the retriever's best other passage, or the one the miner prefers
        if same:
            negative = (same[0] if miner is None else
                        _confusing(miner, q.text, [index.passages[i] for i in same[:settings.mine_passages]]))
            p = index.passages[negative]
            group.append(_example(q, p, "same-article" if p.source == q.source else "other"))
            ids.append(negative)
        other = [h.passage_id for h in hits if index.passages[h.passage_id].source != q.source]
        if other and rng.random() < settings.other_article and other[0] != negative:
            group.append(_example(q, index.passages[other[0]], "other"))
            ids.append(other[0])
        if settings.residual:
            group = _with_evidence(group, ids, index, retrieved, vector, settings.residual)
        groups.append(group)
    return groups, validation, (index, embedder)


def _with_evidence(group: list[Example], ids: list[int], index, retrieved, vector: np.ndarray,
                   weights: tuple[float, float, float, float]) -> list[Example]:
    """The group's examples (passage `ids[i]` is `group[i]`'s) with each sentence's evidence term. A gold
    passage ranked below the hits takes the lowest hit's fused score."""
    from ..answering.evidence import reader_evidence
    from ..answering.retrieval import Hit
    from ..answering.settings import AnswerSettings

    by_id = {h.passage_id: h for h in retrieved.hits}
    lowest = min((h.score for h in retrieved.hits), default=0.0)
    hits = [by_id.get(i, Hit(i, lowest, 0.0, 0.0, 0.0)) for i in ids]
    added = reader_evidence(index, retrieved.terms, vector, hits, AnswerSettings(reader_evidence=weights))
    return [replace(example, evidence=tuple(float(x) for x in term)) for example, term in zip(group, added)]


def _miner(settings: TrainSettings):
    """The reader that picks hard negatives (`negatives="reader"`): the `init` reader, run for inference."""
    if settings.negatives == "retriever":
        return None
    if settings.negatives != "reader":
        raise RagError(f"negatives must be 'retriever' or 'reader', not {settings.negatives!r}")
    if not settings.init:
        raise RagError("negatives='reader' mines with the reader training starts from: give --init READER_FOLDER")
    return Reader.load(settings.init)


def _confusing(miner: Reader, question: str, passages) -> int:
    """The id of the passage (none of them the gold one) whose best sentence the reader scores highest."""
    reads = miner.read(question, [(p.title, p.text, p.sentences) for p in passages])
    best = max(reads, key=lambda r: r.logit, default=None)
    return passages[best.passage if best is not None else 0].id


def rows_for(tokenizer, config: ReaderConfig, example: Example):
    """The row of an example the loss is taken on: the one holding the answer, else the first."""
    rows = make_rows(tokenizer, config, example.question, [(example.title, example.text, example.sentences)])
    if example.answer is not None:
        for row in rows:
            if any(s <= example.answer[0] < e for s, e in row.offsets if e > s):
                return row
    return rows[0]


def targets(row: Row, example: Example) -> tuple[list[int], list[float], int, int]:
    """Per-sentence labels and evidence terms of a row (in row order) and the answer's first/last token
    (-100: none)."""
    present = sorted({s for s in row.sentence_of if s >= 0})
    labels = [example.labels[s] for s in present]
    evidence = [example.evidence[s] if example.evidence else 0.0 for s in present]
    start = end = -100
    if example.answer is not None:
        a, b = example.answer
        overlap = [t for t, (s, e) in enumerate(row.offsets) if e > s and row.sentence_of[t] >= 0 and s < b and e > a]
        if overlap:
            start, end = overlap[0], overlap[-1]
    return labels, evidence, start, end
