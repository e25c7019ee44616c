"""Should declining weigh more than the quote's score? Measured on SQuAD-open's tune split only.

    python experiments/tune_decline.py [--limit N] [--cache FILE.npz] [--out FILE.json]

Today a question is declined when the calibrated confidence of its quote's score (the reader's logit
plus the evidence term, `rag.answer.read`) is below the threshold. Here every tune question is read as
`rag eval` asks it (in-corpus: against the whole index; held-out-article questions also against the
index without their articles, where any quote is wrong), the shipped reading rule is replayed (first
passage, the rest unless it leads), and logistic models of "the quote answers" are fitted on features of
the chosen sentence and its competitors: on half of the tune articles (article number // 2 even), with
the threshold that declines 90% of that half's held-out questions, then scored on the other half, and
the reverse. The score alone (today's Platt scaling) is fitted and scored the same way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import rag
from rag.answering.evidence import evidence_parts, reader_inputs, restates
from rag.answering.retrieval import retrieve
from rag.eval.metrics import DECLINED_TARGET, contains_answer, threshold_declining
from rag.eval.squad import is_held_out, load_squad, sample
from rag.index.build import subset

PASSAGES = 5
SENTENCE = ("rank", "logit", "cosine", "overlap", "in_context", "span_logit", "chars", "right")
QUESTION = ("kind", "article", "words", *(f"hit{i}" for i in range(PASSAGES)),
            *(f"dense{i}" for i in range(PASSAGES)))


def collect(qa, questions, index, kind: int, rows: dict, per_question: dict) -> None:
    vectors = qa.embedder.encode([q.text for q in questions], batch_size=64)
    for n, (q, vector) in enumerate(zip(questions, vectors)):
        retrieved = retrieve(index, vector, q.text, k=PASSAGES, settings=qa.retrieval)
        hits = retrieved.hits[:PASSAGES]
        passages = [index.passages[h.passage_id] for h in hits]
        parts = evidence_parts(index, retrieved.terms, vector, hits)
        number = len(per_question["kind"])
        scores = [h.score for h in hits] + [0.0] * (PASSAGES - len(hits))
        dense = [h.dense for h in hits] + [0.0] * (PASSAGES - len(hits))
        for key, value in zip(QUESTION, (kind, q.article, len(q.text.split()), *scores, *dense), strict=True):
            per_question[key].append(value)
        for r in qa.reader.read(q.text, reader_inputs(index, passages)):
            p = passages[r.passage]
            text = p.sentence_text(r.sentence)
            if restates(text, q.text, index.sentence_words(p.id)[r.sentence], retrieved.terms):
                continue
            part = parts[r.passage]
            right = kind == 0 and contains_answer(text, q.answers)
            for key, value in zip(("question", *SENTENCE), (number, r.passage, r.logit, part.cosine[r.sentence],
                                                            part.overlap[r.sentence], part.in_context[r.sentence],
                                                            r.span_logit, len(text), right), strict=True):
                rows[key].append(float(value))
        if n % 500 == 0:
            print(f"{'in' if kind == 0 else 'out'} {n} / {len(questions)}", flush=True)


def load_rows(args) -> tuple[dict, dict, tuple]:
    cache = Path(args.cache)
    qa = rag.load(Path(args.work) / "index")
    settings = qa.answering
    if cache.exists():
        data = np.load(cache)
        rows = {k[2:]: data[k] for k in data.files if k.startswith("s_")}
        per_question = {k[2:]: data[k] for k in data.files if k.startswith("q_")}
        return rows, per_question, settings
    questions = [q for q in load_squad(args.squad, Path(args.work) / "corpus") if q.split == "tune"]
    if args.limit:
        questions = sample(questions, args.limit)
    rows = {k: [] for k in ("question", *SENTENCE)}
    per_question = {k: [] for k in QUESTION}
    collect(qa, questions, qa.index, 0, rows, per_question)
    reduced = subset(qa.index, lambda source: not is_held_out(source))
    collect(qa, [q for q in questions if q.held_out], reduced, 1, rows, per_question)
    rows = {k: np.asarray(v, dtype=np.float64) for k, v in rows.items()}
    per_question = {k: np.asarray(v, dtype=np.float64) for k, v in per_question.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **{f"s_{k}": v for k, v in rows.items()}, **{f"q_{k}": v for k, v in per_question.items()})
    return rows, per_question, settings


def chosen_features(rows: dict, per_question: dict, settings) -> dict[str, np.ndarray]:
    """Per question, the features of the sentence the shipped rule quotes (and of its competitors)."""
    q = rows["question"].astype(int)
    cosine_w, passage_w, overlap_w, context_w = settings.reader_evidence
    hit = np.column_stack([per_question[f"hit{i}"] for i in range(PASSAGES)])
    rank = rows["rank"].astype(int)
    passage_score = hit[q, rank]
    score = (rows["logit"] + cosine_w * rows["cosine"] + passage_w * passage_score + overlap_w * rows["overlap"]
             + context_w * rows["in_context"])
    level = dict(settings.reader_stops or ()).get(1, np.inf)
    questions = len(per_question["kind"])
    first_best = np.full(questions, -np.inf)
    np.maximum.at(first_best, q[rank == 0], score[rank == 0])
    stopped = first_best - passage_w * hit[:, 1] >= level
    read = ~stopped[q] | (rank == 0)
    masked = np.where(read, score, -np.inf)
    order = np.lexsort((-masked, q))  # by question, best first
    starts = np.flatnonzero(np.r_[True, np.diff(q[order]) != 0])
    best = order[starts]
    has = np.zeros(questions, bool)
    has[q[best]] = True
    out = {"present": has}
    take = np.full(questions, -1)
    take[q[best]] = best
    idx = np.where(has, take, 0)
    second = np.full(questions, -np.inf)
    other = np.full(questions, -np.inf)  # the best read sentence of another passage
    # The runner-up (any other read sentence) and the best of another passage, vectorised.
    not_best = np.ones(len(score), bool)
    not_best[best] = False
    np.maximum.at(second, q[not_best & read], masked[not_best & read])
    other_passage = read & (rank != rank[idx][q])
    np.maximum.at(other, q[other_passage], masked[other_passage])
    s = score[idx]
    out.update({
        "score": s, "logit": rows["logit"][idx], "cosine": rows["cosine"][idx], "passage": passage_score[idx],
        "overlap": rows["overlap"][idx], "in_context": rows["in_context"][idx], "span_logit": rows["span_logit"][idx],
        "log_chars": np.log1p(rows["chars"][idx]), "rank": rank[idx].astype(float),
        "margin": np.minimum(s - np.where(np.isfinite(second), second, s - 10), 10),
        "margin_other": np.minimum(s - np.where(np.isfinite(other), other, s - 10), 10),
        "stopped": stopped.astype(float), "top_hit": hit[:, 0], "hit_gap": hit[:, 0] - hit[:, 1],
        "top_dense": per_question["dense0"], "log_words": np.log(per_question["words"]),
        "right": (rows["right"][idx] > 0) & has,
    })
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights, mean, sd): a ridge logistic regression on standardized features, by Newton's method."""
    mean, sd = x.mean(0), x.std(0) + 1e-9
    z = np.column_stack([(x - mean) / sd, np.ones(len(x))])
    w = np.zeros(z.shape[1])
    ridge = l2 * len(x) ** 0.5 * np.r_[np.ones(x.shape[1]), 0.0]
    for _ in range(50):
        p = 1 / (1 + np.exp(-(z @ w)))
        gradient = z.T @ (p - y) + ridge * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(ridge + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w, mean, sd


def predict(model, x: np.ndarray) -> np.ndarray:
    w, mean, sd = model
    return np.column_stack([(x - mean) / sd, np.ones(len(x))]) @ w


FEATURE_SETS = {
    "score (today)": ("score",),
    "score + margins": ("score", "margin", "margin_other"),
    "parts": ("logit", "cosine", "passage", "overlap", "in_context"),
    "parts + margins": ("logit", "cosine", "passage", "overlap", "in_context", "margin", "margin_other"),
    "parts + margins + span": ("logit", "cosine", "passage", "overlap", "in_context", "margin", "margin_other",
                               "span_logit"),
    "score + retrieval": ("score", "top_hit", "top_dense"),
    "all": ("score", "logit", "cosine", "passage", "overlap", "in_context", "margin", "margin_other", "span_logit",
            "log_chars", "rank", "stopped", "top_hit", "hit_gap", "top_dense", "log_words"),
}


# What the model is fitted to tell apart: a right quote from any other outcome (so its output reads as
# the probability the quote answers, as `confidence` does), or only from held-out questions (the
# trade-off the threshold makes: in-corpus questions quoted right against questions no document answers).
TARGETS = ("right vs rest", "right vs held-out")


def fit(x: np.ndarray, y: np.ndarray, kind: np.ndarray, train: np.ndarray, target: str):
    if target == TARGETS[0]:
        return fit_logistic(x[train], y[train])
    chosen = train & ((kind == 1) | (y > 0))
    return fit_logistic(x[chosen], (kind[chosen] == 0).astype(float))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", required=True, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--work", default=".rag-eval/squad-dev-v1.1", help="the folder `rag eval` uses")
    parser.add_argument("--limit", type=int, default=0, help="a seeded sample of N tune questions (0: all)")
    parser.add_argument("--cache", default=".rag-eval/squad-dev-v1.1/decline-rows.npz")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rows, per_question, settings = load_rows(args)
    f = chosen_features(rows, per_question, settings)
    kind = per_question["kind"].astype(int)
    fold = (per_question["article"].astype(int) // 2) % 2
    y = f["right"].astype(float)
    result = {"questions_in_corpus": int((kind == 0).sum()), "questions_held_out": int((kind == 1).sum()),
              "never_declining": float(y[kind == 0].mean()), "models": {}}
    for name, features in FEATURE_SETS.items():
        x = np.column_stack([f[k] for k in features])
        for target in TARGETS:
            halves = []
            for half in (0, 1):
                train, test = fold == half, fold != half
                model = fit(x, y, kind, train, target)
                z = predict(model, x)
                threshold = threshold_declining(z[train & (kind == 1)], DECLINED_TARGET)
                answered = (z >= threshold) & f["present"]
                inside, outside = test & (kind == 0), test & (kind == 1)
                # The same model at the threshold that declines 90% of this half's own held-out questions:
                # models compared at one decline rate.
                matched = (z >= threshold_declining(z[outside], DECLINED_TARGET)) & f["present"]
                halves.append({"accuracy": float((answered & (y > 0))[inside].mean()),
                               "answered": float(answered[inside].mean()),
                               "held_out_declined": float((~answered)[outside].mean()),
                               "accuracy_matched": float((matched & (y > 0))[inside].mean())})
            model = fit(x, y, kind, np.ones(len(y), bool), target)
            result["models"][f"{name}, {target}"] = {
                "halves": halves, "mean_accuracy": float(np.mean([h["accuracy"] for h in halves])),
                "mean_declined": float(np.mean([h["held_out_declined"] for h in halves])),
                "mean_accuracy_matched": float(np.mean([h["accuracy_matched"] for h in halves])),
                "weights_standardized": dict(zip(features, np.round(model[0][:-1], 3).tolist()))}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
