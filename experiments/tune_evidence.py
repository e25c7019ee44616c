"""Choose what the retrieval evidence adds to the reader's logit (`AnswerSettings.reader_evidence`) and
the lead that ends reading after the first passage (`reader_stops`), on SQuAD-open's tune split only
(even-numbered articles, in-corpus questions; the report split is never read).

    python experiments/tune_evidence.py [--squad FILE] [--work DIR] [--limit N] [--reader DIR] [--out FILE.json]

Every question's top 5 passages are read once; each sentence keeps its logit and its evidence parts
(cosine with the question, the passage's fused retrieval score, idf-weighted word overlap, the overlap
counting the sentence before: `rag.answer.evidence_parts`). Then:

1. out of sample: a conditional logit (a softmax over each question's sentences, its right sentences the
   target) is fitted on half of the tune articles (article number // 2 even) and scored on the other
   half, and the reverse, against the former rule (logit + 2 x the four parts);
2. a grid of round weights and leads, each replayed as `rag.answer.read` runs it: the first passage
   alone, and the other four only when its best sentence leads the second passage's evidence term for
   its retrieval score by less than the lead.

Accuracy is the share of questions whose chosen sentence contains a gold answer (declining left aside).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

import rag
from rag.answering.evidence import evidence_parts, reader_inputs, restates
from rag.answering.retrieval import retrieve
from rag.eval.metrics import contains_answer
from rag.eval.squad import load_squad, sample

PARTS = ("cosine", "passage", "overlap", "in_context")
FORMER = (2.0, 2.0, 2.0, 2.0)  # reader_evidence_weight 2.0 x the reader-less rank (weights 1, 1, 1, 1)
FORMER_STOP = 8.0  # on the score itself, not a lead
GRID = {"cosine": (1.0, 1.5, 2.0, 2.5, 3.0), "passage": (2.0, 4.0, 5.0, 6.0, 7.0, 8.0),
        "overlap": (0.0, 0.5, 1.0, 2.0), "in_context": (1.0, 1.5, 2.0, 2.5, 3.0)}
LEADS = (4.0, 5.0, 6.0, 7.0, 8.0)


def collect(qa, questions) -> dict[str, np.ndarray]:
    """One row per sentence read (sentences that restate the question left out, as `read` does)."""
    columns: dict[str, list] = {k: [] for k in ("question", "article", "rank", "sentence", "logit", *PARTS,
                                                "next_passage_score", "right")}
    vectors = qa.embedder.encode([q.text for q in questions], batch_size=64)
    for n, (q, vector) in enumerate(zip(questions, vectors)):
        retrieved = retrieve(qa.index, vector, q.text, k=5, settings=qa.retrieval)
        hits = retrieved.hits[:5]
        passages = [qa.index.passages[h.passage_id] for h in hits]
        parts = evidence_parts(qa.index, retrieved.terms, vector, hits)
        following = hits[1].score if len(hits) > 1 else 0.0
        for r in qa.reader.read(q.text, reader_inputs(qa.index, passages)):
            p = passages[r.passage]
            text = p.sentence_text(r.sentence)
            if restates(text, q.text, qa.index.sentence_words(p.id)[r.sentence], retrieved.terms):
                continue
            part = parts[r.passage]
            row = (n, q.article, r.passage, r.sentence, r.logit, float(part.cosine[r.sentence]), float(part.hit.score),
                   float(part.overlap[r.sentence]), float(part.in_context[r.sentence]), following,
                   contains_answer(text, q.answers))
            for key, value in zip(columns, row, strict=True):
                columns[key].append(value)
        if n % 500 == 0:
            print(f"{n} / {len(questions)}", flush=True)
    return {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}


class Replay:
    """Accuracy of a scoring rule over the collected rows, read as `rag.answer.read` reads."""

    def __init__(self, rows: dict[str, np.ndarray]) -> None:
        self.rows = rows
        q = rows["question"].astype(int)
        assert np.all(np.diff(q) >= 0)
        self.starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]])
        self.sizes = np.diff(np.r_[self.starts, len(q)])
        self.first = rows["rank"] == 0  # the best-ranked passage's sentences
        self.right = rows["right"] > 0
        self.fold = (np.maximum.reduceat(rows["article"], self.starts).astype(int) // 2) % 2

    def score(self, weights) -> np.ndarray:
        return self.rows["logit"] + sum(w * self.rows[k] for w, k in zip(weights, PARTS))

    def _best_right(self, score: np.ndarray, where: np.ndarray) -> np.ndarray:
        masked = np.where(where, score, -np.inf)
        top = np.repeat(np.maximum.reduceat(masked, self.starts), self.sizes)
        return np.maximum.reduceat((masked == top) & where & self.right, self.starts)

    def accuracy(self, score: np.ndarray, lead: np.ndarray | None = None, level: float | None = None,
                 questions: np.ndarray | None = None) -> tuple[float, float]:
        """(accuracy, share stopped after the first passage); no `level`: all five read."""
        everything = self._best_right(score, np.ones_like(self.first))
        if level is None:
            chosen, stopped = everything, np.zeros(len(self.starts), bool)
        else:
            stopped = np.maximum.reduceat(np.where(self.first, lead, -np.inf), self.starts) >= level
            chosen = np.where(stopped, self._best_right(score, self.first), everything)
        keep = np.ones(len(self.starts), bool) if questions is None else questions
        return float(chosen[keep].mean()), float(stopped[keep].mean())


def fit(replay: Replay, train: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Conditional-logit weights of the four parts relative to the logit's (which is 1), on the
    questions in `train` that have a right sentence."""
    rows = replay.rows
    x = np.column_stack([rows["logit"]] + [rows[k] for k in PARTS])
    per_row = np.repeat(train & (np.add.reduceat(replay.right, replay.starts) > 0), replay.sizes)
    x, right = x[per_row], replay.right[per_row]
    q = rows["question"][per_row]
    starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]])
    sizes = np.diff(np.r_[starts, len(q)])
    mean, sd = x.mean(0), x.std(0) + 1e-9
    x = (x - mean) / sd

    def loss(w):
        s = x @ w
        e = np.exp(s - np.repeat(np.maximum.reduceat(s, starts), sizes))
        total, good = np.add.reduceat(e, starts), np.add.reduceat(e * right, starts)
        grad_rows = e / np.repeat(total, sizes) - e * right / np.repeat(good, sizes)
        return (-np.log(good / total).sum() + l2 * len(starts) * w @ w,
                x.T @ grad_rows + 2 * l2 * len(starts) * w)

    w0 = np.zeros(x.shape[1])
    w0[0] = 1.0
    w = minimize(loss, w0, jac=True, method="L-BFGS-B").x / sd
    return w[1:] / w[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", required=True, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--work", default=".rag-eval/squad-dev-v1.1", help="the folder `rag eval` uses")
    parser.add_argument("--limit", type=int, default=0, help="a seeded sample of N questions (0: all)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--reader", default=True, help="reader folder (default: the bundled one)")
    args = parser.parse_args()
    work = Path(args.work)
    questions = [q for q in load_squad(args.squad, work / "corpus") if q.split == "tune" and not q.held_out]
    if args.limit:
        questions = sample(questions, args.limit)
    qa = rag.load(work / "index", reader=args.reader)
    replay = Replay(collect(qa, questions))
    rows = replay.rows
    former = replay.score(FORMER)
    result = {"questions": len(replay.starts), "sentences": len(rows["logit"]), "reader_runtime": qa.reader.runtime,
              "oracle_top5": float(np.maximum.reduceat(replay.right, replay.starts).mean()),
              "former": {"weights": FORMER, "read_all": replay.accuracy(former)[0],
                         "stop_at_score_8": replay.accuracy(former, former, FORMER_STOP)}}
    halves = []
    for half in (0, 1):
        weights = fit(replay, replay.fold == half)
        held = replay.fold != half
        halves.append({"fitted_on_half": half, "weights": dict(zip(PARTS, np.round(weights, 3).tolist())),
                       "other_half": replay.accuracy(replay.score(weights), questions=held)[0],
                       "former_other_half": replay.accuracy(former, questions=held)[0]})
    result["out_of_sample"] = halves
    result["fitted_on_all"] = dict(zip(PARTS, np.round(fit(replay, np.ones(len(replay.starts), bool)), 3).tolist()))
    grid = []
    for weights in itertools.product(*GRID.values()):
        score = replay.score(weights)
        lead = score - weights[1] * rows["next_passage_score"]
        for level in LEADS:
            accuracy, stopped = replay.accuracy(score, lead, level)
            grid.append({"weights": weights, "lead": level, "accuracy": accuracy, "stopped": stopped})
    grid.sort(key=lambda g: -g["accuracy"])
    result["grid_best"] = grid[:20]
    shipped = qa.answering.reader_evidence
    lead_level = dict(qa.answering.reader_stops or ()).get(1)
    score = replay.score(shipped)
    lead = score - shipped[1] * rows["next_passage_score"]
    result["shipped"] = {"weights": shipped, "lead": lead_level, "read_all": replay.accuracy(score)[0],
                         "with_stop": replay.accuracy(score, lead, lead_level) if lead_level else None}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
