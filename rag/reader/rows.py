"""Model inputs: a question and its candidate passages as token rows, batched and padded.

One row per passage segment: [CLS] question [SEP] title | sentence sentence ... [SEP]. A passage too
long for one row is cut at sentence boundaries into several rows; a short one is read after the text
before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..config import MAX_ROWS_PER_PASSAGE
from ..encoders.runtime import CHARS_PER_PIECE
from .config import ReaderConfig

# A passage shorter than this (in word pieces) is read after the text before it. Measured: reading every
# passage after its predecessor cost 1.2 points of sentence accuracy on SQuAD-open's tune split (5,397
# questions, paragraph-length passages: 0.811 -> 0.800) and gained 3 of 68 seeds questions (one-sentence
# paragraphs); under 64 pieces, 3% of SQuAD's passages and 72% of the seeds' get context.
SHORT_PASSAGE = 64



@dataclass(frozen=True)
class Row:
    """One model input row: token ids plus, per token, its sentence (-1: not a sentence token) and its
    character span in the passage text."""

    passage: int
    input_ids: list[int]
    token_type_ids: list[int]
    sentence_of: list[int]
    offsets: list[tuple[int, int]]


def tokenize_passage(tokenizer, text: str, sentences: Sequence[tuple[int, int]]):
    """Word pieces of a passage with their character offsets and the sentence each belongs to."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                    return_attention_mask=False, return_token_type_ids=False)
    ids, offsets = enc["input_ids"], [tuple(o) for o in enc["offset_mapping"]]
    starts = np.array([s for s, _ in sentences], dtype=np.int64)
    ends = np.array([e for _, e in sentences], dtype=np.int64)
    token_starts = np.array([o[0] for o in offsets], dtype=np.int64)
    which = np.searchsorted(starts, token_starts, side="right") - 1 if len(starts) else np.full(len(ids), -1)
    inside = (which >= 0) & (token_starts < ends[np.clip(which, 0, None)]) if len(starts) else which >= 0
    return ids, offsets, np.where(inside, which, -1).tolist()


class ReaderPassage(NamedTuple):
    """A candidate passage as the reader takes it. `before`: the text that precedes it in its document
    (the paragraphs before), read as context when the passage leaves room in its row, never scored."""

    title: str
    text: str
    sentences: Sequence[tuple[int, int]]
    before: str = ""


def make_rows(tokenizer, config: ReaderConfig, question: str, passages: Sequence[ReaderPassage | tuple],
              ) -> list[Row]:
    """Rows for one question and its candidate passages (title, text, sentence spans[, before]).

    A short passage (under SHORT_PASSAGE word pieces) is read after the end of the text before it, so
    that a one-sentence paragraph is read as within a paragraph (the reader was trained on whole
    paragraphs); a passage whose
    tokens do not fit in one row is cut into consecutive rows at sentence boundaries, at most
    MAX_ROWS_PER_PASSAGE of them (the rest of a longer passage is not read); a single sentence longer
    than a row is cut (its end is not read)."""
    q_ids = tokenizer(question, add_special_tokens=False, truncation=False, return_attention_mask=False,
                      return_token_type_ids=False)["input_ids"][:config.question_tokens]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    bar = tokenizer("|", add_special_tokens=False)["input_ids"]
    rows = []
    for p, passage in enumerate(passages):
        title, text, sentences, before = ReaderPassage(*passage)
        t_ids = tokenizer(title or "", add_special_tokens=False)["input_ids"][:config.title_tokens] + bar
        readable = text[:MAX_ROWS_PER_PASSAGE * config.max_length * CHARS_PER_PIECE]  # not a huge one whole
        ids, offsets, sentence_of = tokenize_passage(tokenizer, readable, sentences)
        head = [cls] + q_ids + [sep] + t_ids
        budget = max(8, config.max_length - len(head) - 1)
        room = budget - len(ids) - 1
        if before and len(ids) < SHORT_PASSAGE and room >= 8:
            context = tokenizer(before[-8 * room:], add_special_tokens=False, truncation=False,
                                return_attention_mask=False, return_token_type_ids=False)["input_ids"][-room:]
            head = head + context  # the passage goes on from it, as in a paragraph
        start, made = 0, 0
        while start < len(ids) and made < MAX_ROWS_PER_PASSAGE:
            made += 1
            end = min(start + budget, len(ids))
            if end < len(ids):  # back off to the start of the sentence that would be cut, if there is one
                cut = end
                while cut > start and sentence_of[cut] == sentence_of[cut - 1] and sentence_of[cut] >= 0:
                    cut -= 1
                end = cut if cut > start else end
            body = ids[start:end]
            second = len(head) - len(q_ids) - 2 + len(body) + 1  # title, context and passage: segment 1
            rows.append(Row(p, head + body + [sep], [0] * (len(q_ids) + 2) + [1] * second,
                            [-1] * len(head) + sentence_of[start:end] + [-1],
                            [(0, 0)] * len(head) + offsets[start:end] + [(0, 0)]))
            start = end
    return rows


def batch_arrays(rows: Sequence[Row]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Padded int64 arrays for rows: input ids, token types, attention mask, sentence index (-1 elsewhere)."""
    width = max(len(r.input_ids) for r in rows)

    def pad(values, fill):
        return np.array([v + [fill] * (width - len(v)) for v in values], dtype=np.int64)

    return (pad([r.input_ids for r in rows], 0), pad([r.token_type_ids for r in rows], 0),
            pad([[1] * len(r.input_ids) for r in rows], 0), pad([r.sentence_of for r in rows], -1))


def batch_tensors(rows: Sequence[Row]):
    """`batch_arrays` as torch tensors (for training)."""
    import torch

    return tuple(torch.from_numpy(a) for a in batch_arrays(rows))


def sentence_members(sentence_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first sentence it holds, and a (rows, tokens, sentences in the row) float32 0/1 matrix
    of which token belongs to which of the row's sentences (what a sentence's mean state is taken over)."""
    inside = sentence_of >= 0
    first = np.where(inside, sentence_of, 1 << 30).min(1) if sentence_of.size else np.zeros(0, np.int64)
    local = np.where(inside, sentence_of - first[:, None], -1)
    width = int(local.max()) + 1 if inside.any() else 0
    member = (local[:, :, None] == np.arange(max(width, 1))).astype(np.float32)
    return first, member


ROW_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
TOKEN_BUCKET = 32


def pad_to_buckets(ids, types, mask, member):
    """The inputs padded to the next row count in ROW_BUCKETS and the next multiple of TOKEN_BUCKET
    tokens, so that a run sees few distinct shapes. Padding tokens are masked and belong to no sentence;
    padding rows hold one unmasked [PAD] token (a fully masked row has no defined attention)."""
    rows, tokens = ids.shape
    want_rows = next((b for b in ROW_BUCKETS if b >= rows), rows)
    want_tokens = -(-tokens // TOKEN_BUCKET) * TOKEN_BUCKET
    if (want_rows, want_tokens) == (rows, tokens):
        return ids, types, mask, member
    grow = ((0, want_rows - rows), (0, want_tokens - tokens))
    mask = np.pad(mask, grow)
    mask[rows:, 0] = 1
    return (np.pad(ids, grow), np.pad(types, grow), mask, np.pad(member, grow + ((0, 0),)))
