"""Evaluation on SQuAD-open: every SQuAD paragraph in one corpus, every question asked against all of it.

Metrics: recall@k and MRR of the gold paragraph, for the hybrid ranking and for BM25 alone and
dense alone; answer accuracy (the returned quote contains a gold answer after SQuAD's
normalization); share answered; share of questions about held-out articles (left out of a
second index that reuses the first one's vectors) wrongly answered; latency against the bare
encode + search floor.

Splits: articles with an even number are the "tune" split (defaults were tuned there), odd ones
the "report" split. Articles whose number is 4 mod 5 are the held-out articles.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..encoders import runtime
from .metrics import (
    contains_answer,
    fit_calibration,
    rank_of,
    recall_and_mrr,
    reliability,
    share,
    short_answer_scores,
    threshold_answering,
    threshold_declining,
)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    source: str  # the article's file in the materialized corpus
    paragraph: int  # 1-based paragraph number of the gold paragraph in that file
    offset: int  # character offset of the gold paragraph in that file
    answers: tuple[str, ...]

    @property
    def article(self) -> int:
        return article_number(self.source)

    @property
    def split(self) -> str:
        return "tune" if self.article % 2 == 0 else "report"

    @property
    def held_out(self) -> bool:
        return is_held_out(self.source)


def article_number(source: str) -> int:
    """The article's position in the SQuAD file, from the corpus file name `NNN_Title.txt`."""
    return int(source.split("_", 1)[0])


def is_held_out(source: str) -> bool:
    return article_number(source) % 5 == 4


def load_squad(path: str | Path, corpus: str | Path) -> list[Question]:
    """Write one text file per SQuAD article (paragraphs separated by blank lines) into `corpus`
    and return the questions with their gold file and paragraph number."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    corpus = Path(corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    titles = {}
    for i, article in enumerate(data["data"]):
        source = f"{i:03d}_{re.sub(r'[^A-Za-z0-9]+', '_', article['title'])[:60]}.txt"
        titles[source] = {"title": article["title"].replace("_", " ")}
        paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
        target = corpus / source
        text = "\n\n".join(paragraphs) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        offsets = np.cumsum([0] + [len(p) + 2 for p in paragraphs[:-1]])
        for number, (p, offset) in enumerate(zip(article["paragraphs"], offsets), start=1):
            for qa in p["qas"]:
                questions.append(Question(qa["id"], qa["question"], source, number, int(offset),
                                          tuple(a["text"] for a in qa["answers"])))
    # The article titles, as a user's metadata.json would give them (the reader reads the title).
    metadata = json.dumps(titles, indent=1, ensure_ascii=False) + "\n"
    target = corpus / "metadata.json"
    if not target.exists() or target.read_text(encoding="utf-8") != metadata:
        target.write_text(metadata, encoding="utf-8")
    return questions


def gold_passages(passages: Sequence, questions: Sequence[Question]) -> list[int | None]:
    """Each question's gold passage id: the passage whose span in the file covers the gold paragraph's
    first character (robust to paragraphs the chunker merged or skipped). None when not indexed."""
    by_source: dict[str, list] = {}
    for p in passages:
        by_source.setdefault(p.source, []).append(p)
    gold = []
    for q in questions:
        found = [p.id for p in by_source.get(q.source, []) if p.start <= q.offset < p.end]
        gold.append(found[0] if found else None)
    return gold


def sample(questions: list[Question], limit: int | None, seed: int = 13) -> list[Question]:
    if limit is None or limit >= len(questions):
        return questions
    return random.Random(seed).sample(questions, limit)


def _ask_all(qa, questions: Sequence[Question], desc: str, progress: bool, *, k: int | None) -> list[dict]:
    """Ask each question once; record the answer, timings and (unless `k` is None) the gold passage's
    rank in the top `k` of each retrieval mode."""
    from tqdm.auto import tqdm

    index = qa.index
    golds = gold_passages(index.passages, questions)
    rows = []
    for q, gold in zip(tqdm(questions, desc=desc, unit="q", disable=not progress), golds):
        start = time.perf_counter()
        answer = qa.ask(q.text)
        ask_s = time.perf_counter() - start
        # The evaluation's own work runs BLAS on one thread as `ask` does: numpy products with BLAS's
        # worker threads (the ranks below) left them spinning into the next question's `ask`, which then
        # took ~4x as long (103 against 25 ms p50, bf16 reader) as it does in a process that only answers.
        with runtime.one_blas_thread():
            start = time.perf_counter()
            vector = qa.embedder.encode([q.text])[0]
            index.store.search(vector[None, :], qa.retrieval.candidates * 2)
            floor_s = time.perf_counter() - start
            ranks = None if k is None else _ranks(qa, q.text, vector, gold, k)
        returned = answer.answer or (answer.alternatives[0].answer if answer.alternatives else "")
        em, f1 = short_answer_scores(answer.short_answer, q.answers)
        rows.append({
            "question": q, "answered": answer.answered, "score": answer.score,
            "correct": answer.answered and contains_answer(returned, q.answers),
            "correct_if_answered": contains_answer(returned, q.answers),
            "exact_match": em, "f1": f1,
            "ranks": ranks,
            "ask_s": ask_s, "floor_s": floor_s})
    return rows


def _ranks(qa, question: str, vector: np.ndarray, gold: int | None, k: int) -> dict[str, int | None]:
    """The gold passage's rank in the top `k` of the hybrid ranking, BM25 alone and dense alone."""
    from ..answering.retrieval import retrieve

    index = qa.index
    hits = retrieve(index, vector, question, k=k, settings=qa.retrieval).hits
    lexical = index.bm25.scores(question)
    found = index.store.search(vector[None, :], max(k * 20, 1000))[1][0]
    dense = index.window_passage[[r for r in index.rows_of(found[found >= 0]) if r >= 0]]
    return {"hybrid": rank_of([h.passage_id for h in hits], gold),
            "bm25": rank_of(list(np.argsort(-lexical, kind="stable")[:k]), gold),
            "dense": rank_of(list(dict.fromkeys(dense.tolist()))[:k], gold)}


def _percentiles(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95))}


def evaluate(qa, questions: Sequence[Question], *, k: int = 20, progress: bool = False) -> dict:
    """Scores for `qa` (a rag.QA over the whole SQuAD corpus) on `questions`; see the module docstring.

    Every question is answered without declining (so that its best quote and score are known), and
    declining is applied afterwards from the score: with the shipped threshold, and with the one the
    tune split chooses. With a reader, its calibration is also refitted on the tune split."""
    from dataclasses import replace

    from ..index.build import subset

    reader = qa.reader
    never_decline = replace(qa.answering, threshold=-np.inf, reader_threshold=0.0)
    open_qa = type(qa)(qa.index, qa.embedder, reader=reader, retrieval=qa.retrieval, answering=never_decline)
    rows = _ask_all(open_qa, questions, "Evaluating", progress, k=k)
    held = [q for q in questions if q.held_out]
    held_rows = []
    if held:
        reduced = type(qa)(subset(qa.index, lambda source: not is_held_out(source)), qa.embedder, reader=reader,
                           retrieval=qa.retrieval, answering=never_decline)
        held_rows = _ask_all(reduced, held, "Held-out articles", progress, k=None)
    shipped = qa.answering.threshold if reader is None else reader.logit_for(reader.config.threshold)
    for r in held_rows:  # asked of the index without their article: any quote is wrong
        r["correct_if_answered"] = False
    for r in rows + held_rows:
        r["answered"] = r["score"] >= shipped
        r["correct"] = r["answered"] and r["correct_if_answered"]
    in_corpus = [r for r in rows if not r["question"].held_out]
    tune_in = [r["score"] for r in in_corpus if r["question"].split == "tune"]
    tune_out = [r["score"] for r in held_rows if r["question"].split == "tune"]
    threshold = threshold_declining(tune_out) if tune_out else None
    answering = threshold_answering(tune_in) if tune_in else None
    calibration = None
    if reader is not None and tune_in and tune_out:
        tune = [r for r in in_corpus + held_rows if r["question"].split == "tune"]
        scale, bias = fit_calibration([r["score"] for r in tune], [r["correct_if_answered"] for r in tune])

        def confidence(logit: float) -> float:
            return float(1.0 / (1.0 + np.exp(-(scale * logit + bias))))

        report_rows = [r for r in in_corpus + held_rows if r["question"].split == "report"]
        calibration = {
            "scale": scale, "bias": bias, "threshold": confidence(threshold) if threshold is not None else None,
            "reliability_report": reliability([confidence(r["score"]) for r in report_rows],
                                              [r["correct_if_answered"] for r in report_rows])}

    def part(split: str | None) -> dict:
        mine = [r for r in rows if split is None or r["question"].split == split]
        mine_in = [r for r in in_corpus if split is None or r["question"].split == split]
        mine_out = [r for r in held_rows if split is None or r["question"].split == split]
        if not mine:
            return {"questions": 0}
        out = {
            "questions": len(mine),
            "retrieval": {mode: recall_and_mrr([r["ranks"][mode] for r in mine])
                          for mode in ("hybrid", "bm25", "dense")},
            "answer_accuracy": share([r["correct"] for r in mine]),
            "exact_match": share([r["exact_match"] * r["answered"] for r in mine]),
            "f1": share([r["f1"] * r["answered"] for r in mine]),
            "answer_accuracy_never_declining": share([r["correct_if_answered"] for r in mine]),
            "answered": share([r["answered"] for r in mine_in]),
            "held_out_questions": len(mine_out),
            "held_out_answered": share([r["answered"] for r in mine_out]),
        }
        if threshold is not None:
            out["with_chosen_threshold"] = {
                "answered": share([r["score"] >= threshold for r in mine_in]),
                "held_out_answered": share([r["score"] >= threshold for r in mine_out]),
                "answer_accuracy": share([r["correct_if_answered"] and r["score"] >= threshold for r in mine]),
                "exact_match": share([r["exact_match"] * (r["score"] >= threshold) for r in mine]),
                "f1": share([r["f1"] * (r["score"] >= threshold) for r in mine]),
            }
        return out

    return {
        "questions": len(questions),
        "passages": len(qa.index.passages),
        "build_seconds": qa.index.manifest.build_seconds,
        "reader": None if reader is None else reader.name,
        "threshold": {"shipped": shipped, "chosen": threshold, "answers_95": answering},
        "calibration": calibration,
        "all": part(None),
        "tune": part("tune"),
        "report": part("report"),
        "latency_ms": {"ask": _percentiles([r["ask_s"] for r in rows]),
                       "floor": _percentiles([r["floor_s"] for r in rows])},
        "ranks": {mode: [r["ranks"][mode] for r in rows] for mode in ("hybrid", "bm25", "dense")},
        "rows": [_row_record(r, asked_without_article=False) for r in rows]
        + [_row_record(r, asked_without_article=True) for r in held_rows],
    }


def _row_record(row: dict, *, asked_without_article: bool) -> dict:
    """One question's outcome, as plain JSON: enough to redraw any threshold's trade-off offline."""
    q = row["question"]
    return {"id": q.id, "split": q.split, "held_out": q.held_out, "asked_without_article": asked_without_article,
            "score": float(row["score"]), "correct_if_answered": bool(row["correct_if_answered"]),
            "exact_match": float(row["exact_match"]), "f1": float(row["f1"]),
            "ask_ms": round(row["ask_s"] * 1000, 3)}


def write_rows(report: dict, path: str | Path) -> Path:
    """Write the report's per-question rows as JSON lines, atomically."""
    from ..encoders.runtime import write_atomically

    path = Path(path)
    lines = "".join(json.dumps(record) + "\n" for record in report["rows"])
    write_atomically(path, lambda tmp: tmp.write_text(lines, encoding="utf-8"))
    return path


