"""The reader at inference: a cross-encoder that reads the question with each candidate passage and
scores every sentence of it ("does this sentence answer the question?") and the short answer inside it.
All rows of a question go through the model in one batch, on ONNX Runtime where it can."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..encoders import runtime
from .config import DEFAULT_READER, ReaderConfig
from .files import load_torch, onnx_session, read_config
from .rows import ReaderPassage, batch_arrays, make_rows, pad_to_buckets, sentence_members


@dataclass(frozen=True)
class SentenceRead:
    """The reader's verdict on one sentence of one candidate passage."""

    passage: int  # position in the list of passages given to `Reader.read`
    sentence: int  # sentence number within that passage
    logit: float  # > 0: more likely than not to answer the question (before calibration)
    span: tuple[int, int]  # the short answer, as character offsets into the sentence's text
    span_logit: float = 0.0  # the short answer's start logit plus its end logit


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

        It runs on ONNX Runtime (exported once into the cache, see rag.encoders.runtime) unless `onnx` is
        False or it cannot. `quantize` runs the linear layers in int8 on torch (dynamic quantization): about 1.2x
        faster than torch fp32, but measured to cost about 5 points of sentence accuracy, so it is off by
        default. `bf16` runs it on torch in bfloat16: on a CPU with bf16 matrix units (Intel AMX) measured
        1.5x faster than fp32 ONNX Runtime at the same accuracy (docs/benchmarks.md); elsewhere it is
        slower. None: as `rag.encoders.runtime.reader_bf16` says (bf16 where the CPU has AMX, or with
        RAG_RUNTIME=bf16)."""
        if bf16 is None:
            bf16 = runtime.reader_bf16() and not quantize
        if quantize and bf16:
            raise ValueError("Reader.load: choose int8 (quantize=True) or bfloat16 (bf16=True), not both")
        folder = Path(folder)
        config = read_config(folder)
        found = onnx_session(folder, config) if onnx and not quantize and not bf16 else None
        if found is not None:
            return cls(None, found[1], config, name=str(folder), session=found[0])
        model, tokenizer, config = load_torch(folder)
        import torch  # loaded by load_torch already

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
            ids, types, mask, member = pad_to_buckets(ids, types, mask, member)
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


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, max_tokens: int) -> tuple[int, int]:
    """(i, j), i <= j < i + max_tokens, maximising start_logits[i] + end_logits[j]."""
    n = len(start_logits)
    total = start_logits[:, None] + end_logits[None, :]
    i, j = np.indices((n, n))
    total = np.where((j >= i) & (j - i < max_tokens), total, -np.inf)
    a, b = np.unravel_index(int(np.argmax(total)), total.shape)
    return int(a), int(b)
