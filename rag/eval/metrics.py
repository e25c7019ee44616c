"""The measures of an evaluation: answer matching after SQuAD's normalization, recall@k and MRR, short-answer
exact match and F1, the two threshold rules, Platt calibration and the reliability diagram's points."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import numpy as np

KS = (1, 3, 5, 20)
ANSWERED_TARGET = 0.95  # the share of in-corpus questions the product aims to answer
# The rule for the shipped threshold: the lowest one that still declines this share of the questions
# about held-out articles in the tuning split, i.e. answer as much as possible while declining nine in
# ten questions the documents cannot answer. (The highest threshold that still answers 95% of the
# in-corpus tuning questions is reported beside it.)
DECLINED_TARGET = 0.90


def normalize(text: str) -> str:
    """SQuAD's answer normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains_answer(returned: str, answers: Sequence[str]) -> bool:
    returned = f" {normalize(returned)} "
    return any(f" {normalize(a)} " in returned for a in answers if normalize(a))


def rank_of(ranking: Sequence[object], gold: object) -> int | None:
    """1-based position of `gold` in `ranking`, None when absent."""
    for i, item in enumerate(ranking, start=1):
        if item == gold:
            return i
    return None


def recall_and_mrr(ranks: Sequence[int | None], ks: Sequence[int] = KS) -> dict[str, float]:
    """recall@k for each k and mean reciprocal rank, from each question's gold rank (None: not found)."""
    n = len(ranks)
    if n == 0:
        raise ValueError("no questions to score: the ranking list is empty")
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in ks}
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n
    return out


def threshold_answering(scores: Sequence[float], answered: float = ANSWERED_TARGET) -> float:
    """The highest threshold that still answers `answered` of the in-corpus questions with these scores."""
    if not len(scores):
        raise ValueError("no in-corpus questions to choose a threshold from")
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    may_decline = int(np.floor(len(ordered) * (1.0 - answered) + 1e-9))
    return float(ordered[min(may_decline, len(ordered) - 1)])


def threshold_declining(scores: Sequence[float], declined: float = DECLINED_TARGET) -> float:
    """The lowest threshold that declines `declined` of the held-out questions with these scores
    (a question is declined when its score is below the threshold)."""
    if not len(scores):
        raise ValueError("no held-out questions to choose a threshold from")
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    must_decline = int(np.ceil(len(ordered) * declined - 1e-9))
    if must_decline == 0:
        return float(ordered[0])
    return float(np.nextafter(ordered[must_decline - 1], np.inf))


def share(flags: Sequence[bool]) -> float | None:
    return float(np.mean(flags)) if len(flags) else None


def f1_score(prediction: str, truth: str) -> float:
    """SQuAD's token F1 between a short answer and one gold answer."""
    p, t = normalize(prediction).split(), normalize(truth).split()
    common = sum(min(p.count(w), t.count(w)) for w in set(p) & set(t))
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(t)
    return 2 * precision * recall / (precision + recall)


def short_answer_scores(short: str, answers: Sequence[str]) -> tuple[float, float]:
    """(exact match, F1) of a short answer against the gold answers, the best over them."""
    if not short:
        return 0.0, 0.0
    return (float(any(normalize(short) == normalize(a) for a in answers)),
            max(f1_score(short, a) for a in answers))


def fit_calibration(logits: Sequence[float], correct: Sequence[bool]) -> tuple[float, float]:
    """Platt scaling: (scale, bias) so that sigmoid(scale * logit + bias) fits P(correct). Newton's method
    on standardized logits with step halving (a plain Newton step diverges when the logits are large),
    and a small ridge so that separable data still gives finite parameters."""
    x, y = np.asarray(logits, dtype=np.float64), np.asarray(correct, dtype=np.float64)
    if not len(x) or y.min() == y.max():
        raise ValueError("calibration needs both correct and wrong answers")
    mean, std = x.mean(), x.std() or 1.0
    features = np.stack([(x - mean) / std, np.ones_like(x)], axis=1)
    ridge = 1e-3 * len(x) ** 0.5

    def loss(w: np.ndarray) -> float:
        z = features @ w
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * ridge * w[0] ** 2)

    w = np.zeros(2)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(features @ w)))
        gradient = features.T @ (p - y) + ridge * np.array([w[0], 0.0])
        hessian = (features * (p * (1 - p))[:, None]).T @ features + ridge * np.diag([1.0, 1e-9])
        step = np.linalg.solve(hessian, gradient)
        t = 1.0
        while loss(w - t * step) > loss(w) and t > 1e-6:
            t /= 2
        w -= t * step
        if np.abs(t * step).max() < 1e-10:
            break
    scale = w[0] / std
    return float(scale), float(w[1] - scale * mean)


def reliability(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[dict]:
    """Per confidence bin: mean confidence, share correct, count (the reliability diagram's points)."""
    c, y = np.asarray(confidences, dtype=np.float64), np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(c, edges) - 1, 0, bins - 1)
    return [{"confidence": float(c[which == b].mean()), "correct": float(y[which == b].mean()),
             "count": int((which == b).sum())} for b in range(bins) if (which == b).any()]
