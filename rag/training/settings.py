"""The settings of one training run of the reader (`rag train-reader`)."""

from __future__ import annotations

from dataclasses import dataclass

VALIDATION_ARTICLES = 6


@dataclass(frozen=True)
class TrainSettings:
    squad: str = ""  # SQuAD v1.1 training JSON (required)
    out: str = ".rag-train/reader"  # the reader folder written
    work: str = ".rag-train"  # corpus, index and examples of the sampled articles (reused when present)
    base_model: str = "sentence-transformers/all-MiniLM-L6-v2"
    articles: int = 90  # training articles sampled (plus VALIDATION_ARTICLES more for validation)
    skip_articles: int = 0  # sampled training articles to pass over (those an `init` reader was trained on)
    init: str | None = None  # a reader folder to continue training from (default: fresh heads on the base)
    questions: int = 16000  # training questions used at most (each gives 2-3 rows)
    epochs: int = 1
    batch_questions: int = 8
    lr: float = 8e-5
    head_lr: float = 5e-4
    warmup: float = 0.06
    other_article: float = 0.5  # share of questions that also get a passage of another article
    validation_questions: int = 300
    max_length: int = 256
    seed: int = 13
    device: str = "auto"
    # Forward passes in bfloat16 autocast (weights, gradients and the optimizer stay fp32): faster on GPUs
    # and on CPUs with AMX (docs/reader.md).
    bf16: bool = False
    # Where each question's hard negative passage comes from: "retriever" (the best-ranked passage other
    # than the gold one) or "reader" (of the top `mine_passages` retrieved, the passage other than the
    # gold one whose best sentence the `init` reader scores highest: the confusions the reader makes).
    negatives: str = "retriever"
    mine_passages: int = 5
    layers: int = 0  # encoder layers kept (evenly spaced, first and last) from `init` or the base: a faster reader
    # Train the choice on what inference ranks by: the reader's logit plus the evidence term
    # (`rag.answering.evidence.reader_evidence` with these weights; cosine, passage score, overlap, overlap with the
    # sentence before) in the softmax over a question's sentences, so that the reader learns what that
    # term misses rather than what it already adds. None: the logit alone.
    residual: tuple[float, float, float, float] | None = None
