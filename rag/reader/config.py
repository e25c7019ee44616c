"""The reader's configuration (`config.json` in a reader folder), its file names and the bundled folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The bundled reader: package data (weights, config, model card), not code.
DEFAULT_READER = Path(__file__).resolve().parent / "weights"
WEIGHTS = "reader.safetensors"
CONFIG = "config.json"
FROZEN = "encoder.embeddings.word_embeddings.weight"  # taken from the base model, never stored


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

