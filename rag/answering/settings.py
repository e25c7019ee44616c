"""The settings that tune answering, side by side: how passages are retrieved and fused, and how the
answer sentence is chosen and when to decline. Each default was chosen on SQuAD-open's tuning split
(even-numbered articles) and reported on the other half; see docs/evaluation.md."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


def _check(settings, counts: tuple[str, ...], optional: tuple[str, ...] = (), bounds: tuple[str, ...] = ()) -> None:
    """ValueError naming the first field that is not a usable value: each count a whole number of at least
    1 (at least 0 for those in `optional`), every other number finite; a threshold or lead in `bounds`
    may be infinite (-inf: never decline; inf: never stop reading), never NaN."""
    name = type(settings).__name__
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name in counts:
            least = 0 if f.name in optional else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}.{f.name} must be a whole number of at least {least}, not {value!r}")
        elif (isinstance(value, (int, float)) and not isinstance(value, bool)
              and (math.isnan(value) or (f.name not in bounds and math.isinf(value)))):
            raise ValueError(f"{name}.{f.name} must be a finite number, not {value!r}")
        elif isinstance(value, tuple):
            flat = [x for item in value for x in (item if isinstance(item, tuple) else (item,))]
            if any(not isinstance(x, (int, float)) or isinstance(x, bool) or math.isnan(x)
                   or (f.name not in bounds and math.isinf(x)) for x in flat):
                raise ValueError(f"{name}.{f.name} must hold finite numbers, not {value!r}")


@dataclass(frozen=True)
class RetrievalSettings:
    candidates: int = 100  # taken from each retriever before fusion
    dense_weight: float = 0.5
    lexical_weight: float = 0.6
    sentence_weight: float = 1.0
    title_weight: float = 0.0  # the document title's prior (see retrieval)
    topic_weight: float = 0.0  # a follow-up's prior for the document the conversation is about

    def __post_init__(self) -> None:
        _check(self, ("candidates",))


@dataclass(frozen=True)
class AnswerSettings:
    """How the answer sentence is chosen and when to decline. Weights and threshold were tuned on the
    even-numbered articles of SQuAD-open (see docs/evaluation.md)."""

    passages: int = 3  # top passages whose sentences compete for the answer
    citations: int = 3  # passages cited at most (the answer's first; others only with enough evidence)
    alternatives: int = 3
    # A sentence's evidence: its own cosine with the question, plus its passage's fused retrieval
    # score, plus the share of the question's words (idf-weighted) it contains.
    sentence_weight: float = 1.0
    passage_weight: float = 1.0
    overlap_weight: float = 1.0
    # The answer is the sentence with the most evidence plus this weight times the share of the
    # question's words found in it or the sentence before it (which its pronouns often refer to).
    # Used to choose only: it raised answer accuracy but blurred the line between answerable and not.
    context_weight: float = 1.0
    # Declined when no competing sentence has this much evidence. Chosen on SQuAD-open's tuning split
    # (rag.eval.metrics.DECLINED_TARGET): the lowest threshold that declines 90% of the questions about
    # articles left out of the index; it answers 97% of the in-corpus tuning questions.
    threshold: float = 2.091
    temperature: float = 0.15  # spread of the confidence curve around the threshold
    # With the reader (the default): it reads the top `reader_passages` passages, and the answer is the
    # sentence it scores highest. Declined when the reader's calibrated confidence is below
    # `reader_threshold`, chosen on SQuAD-open's tuning split by the same rule as `threshold`.
    reader_passages: int = 5
    reader_threshold: float | None = None  # None: the threshold stored with the reader
    # Added to the reader's logit: these weights times the sentence's cosine with the question, its
    # passage's fused retrieval score, its share of the question's words and that share counting the
    # sentence before. Chosen on SQuAD-open's tuning split (experiments/tune_evidence.py, 4,045 questions):
    # a conditional logit over the top 5's sentences, fitted on one half of the tune articles, gives the
    # passage's score the most weight (~6.4) and word overlap little once the reader has read the words;
    # round weights with the passage's at 4 to 7 score 0.821-0.825 on the other half. On the seeds
    # questions (short passages: a letter's one-sentence paragraphs) 4 quotes 58 of 68 right and 7 only
    # 56, so the passage's weight is 4 (docs/tuning.md).
    reader_evidence: tuple[float, float, float, float] = (2.0, 4.0, 0.5, 2.0)
    # Read the passages in stages and stop after a stage when its best sentence so far leads by at least
    # the stage's score: its score (the reader's logit plus the evidence term above, before calibration)
    # less what the evidence term gives the best unread passage for its retrieval score. Each pair is
    # (passages read by then, the lead that is enough); None: read all `reader_passages` in one pass.
    # The best-ranked passage alone first, enough at a lead of 5.5, else all the others: on the tuning
    # split 58% of the questions stop after one passage, accuracy 0.821 against 0.822 reading all five
    # (experiments/tune_evidence.py). A second stage ((1, 6.0), (3, 3.0): passages 2-3, enough at 3.0,
    # then 4-5) reads a fifth less but answers 7 of the 5,397 tune questions wrongly that this rule gets
    # right (docs/tuning.md).
    reader_stops: tuple[tuple[int, float], ...] | None = ((1, 5.5),)

    def __post_init__(self) -> None:
        _check(self, ("passages", "citations", "alternatives", "reader_passages"), optional=("alternatives",),
               bounds=("threshold", "reader_threshold", "reader_stops"))
        if self.reader_stops is not None and any(
                isinstance(upto, bool) or not isinstance(upto, int) or upto < 1 for upto, _ in self.reader_stops):
            raise ValueError(f"AnswerSettings.reader_stops must be (passages read, lead) pairs with at least 1 "
                             f"passage, not {self.reader_stops!r}")
