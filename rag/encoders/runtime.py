"""ONNX Runtime for the two transformer encoders (the embedding model and the reader).

Each encoder is exported once, with torch, to an ONNX file in a cache folder; from then on it runs on
ONNX Runtime, so answering a question imports neither torch nor transformers nor sentence-transformers
(those imports were most of a cold `rag ask`), and the forward pass itself is faster on a CPU (measured
in `benchmarks/bench_reader.py`). The cache key is a digest of what the graph is made from (the weight
files' names, sizes and modification times) and of rag's export version, so a retrained reader or another
model gets its own file. Files are written atomically; a file ONNX Runtime cannot open is exported again;
files not opened for STALE_DAYS are removed when another is exported.

Where onnxruntime is not installed, the cache cannot be written, or RAG_RUNTIME=torch is set, callers
fall back to torch, which gives the same numbers to about 1e-5.

The reader alone may instead run on torch in bfloat16 (see `rag.reader.Reader.load`), which pays only on
CPUs with bf16 matrix units (Intel AMX): by default (RAG_RUNTIME unset or `auto`) it does so where the CPU
reports them, RAG_RUNTIME=bf16 asks for it anywhere, RAG_RUNTIME=onnx keeps the fp32 graph everywhere.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .. import notes
from ..config import cache_root, runtime_setting
from ..errors import RagError, RagWarning

EXPORT_VERSION = 1
OPSET = 17
# A graph not opened for this long is removed when another is exported: a retrained reader or a moved or
# deleted checkout would otherwise leave its ~90 MB graph in the cache for good.
STALE_DAYS = 30
_export_lock = threading.Lock()


MODES = ("auto", "onnx", "torch", "bf16")


def mode() -> str:
    """RAG_RUNTIME, one of MODES (unset or empty: auto). Anything else is refused with the choices, not
    ignored: a mistyped setting would otherwise measure another runtime than the one asked for."""
    given, value = runtime_setting()
    value = value or "auto"
    if value not in MODES:
        raise RagError(f"RAG_RUNTIME={given!r} is not one of {', '.join(MODES)} "
                       "(auto: ONNX Runtime, and the reader in bfloat16 where the CPU has AMX)")
    return value


def enabled() -> bool:
    """Whether ONNX Runtime is installed and not switched off (RAG_RUNTIME=torch)."""
    if mode() == "torch":
        return False
    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


def cache_dir() -> Path:
    """$RAG_CACHE/onnx, else $XDG_CACHE_HOME/rag/onnx, else ~/.cache/rag/onnx."""
    return cache_root() / "onnx"


def fingerprint(files: Sequence[Path], *parts: str) -> str:
    """A key for what a graph is built from: each file's resolved path, size and modification time."""
    digest = hashlib.sha256(f"rag-onnx-{EXPORT_VERSION}".encode())
    for path in files:
        stat = Path(path).stat()
        digest.update(f"\0{Path(path).resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    for part in parts:
        digest.update(f"\0{part}".encode())
    return digest.hexdigest()[:32]


def session(name: str, key: str, export: Callable[[Path], None]):
    """An ONNX Runtime session for `name`'s graph, exported with `export(path)` unless the cache has it.
    None when it cannot be had (the caller then runs torch); the reason is one warning."""
    import onnxruntime as ort

    path = cache_dir() / f"{name}-{key}.onnx"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    # Idle threads sleep instead of spinning: the embedder's and the reader's sessions each keep a pool
    # of threads, and spinning ones took the cores from the other session and from FAISS. Measured on 2
    # cores (SQuAD-open, 100 questions x 2, a process per setting): `ask` p50 with the reader 127 ->
    # 76 ms, without it 24.6 -> 13.2 ms; embedding 600 passages in batches unchanged (~20 s either way).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with _export_lock:
        for attempt in range(2):
            if not path.is_file():
                # measured 3 s (embedder) and 9 s (reader) on 2 busy cores: long enough to say why
                notes.say(f"preparing the {name} for this machine, once (an ONNX export of a few seconds, "
                          f"kept in {path.parent})")
                try:
                    write_atomically(path, export)
                    _prune(path.parent, keep=path)
                except OSError as exc:
                    warnings.warn(f"cannot write the ONNX cache at {path.parent} ({exc.strerror or exc}); "
                                  "running the model with torch (set RAG_CACHE to a writable folder)",
                                  RagWarning, stacklevel=3)
                    return None
            try:
                opened = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # a truncated or foreign file: export it again, once
                if attempt:
                    warnings.warn(f"ONNX Runtime cannot run {path} ({exc}); running the model with torch",
                                  RagWarning, stacklevel=3)
                    return None
                path.unlink(missing_ok=True)
                continue
            with contextlib.suppress(OSError):  # a read-only cache is used as it is
                os.utime(path)  # opened now: the graph's modification time says when it was last used
            return opened
    return None


def _prune(folder: Path, keep: Path) -> None:
    """Remove the graphs in `folder` not opened for STALE_DAYS, except `keep`."""
    limit = time.time() - STALE_DAYS * 86400
    for graph in folder.glob("*.onnx"):
        try:
            if graph != keep and graph.stat().st_mtime < limit:
                graph.unlink()
        except OSError:
            pass  # gone already, or not ours to remove: it stays


def write_atomically(path: Path, export: Callable[[Path], None]) -> None:
    """`export` writes a temporary file beside `path`, which then replaces it in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        export(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def export_module(owner, forward: Callable, inputs: dict[str, np.ndarray], outputs: Sequence[str],
                  dynamic: dict[str, dict[int, str]], path: Path) -> None:
    """Export `forward` (a function of the `inputs` arrays, by keyword order, using the torch module
    `owner`'s weights) to one self-contained ONNX file."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.owner = owner  # registered, so its weights are the graph's

        def forward(self, *args):
            return forward(*args)

    args = tuple(torch.from_numpy(np.ascontiguousarray(v)) for v in inputs.values())
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing are not the user's business
        torch.onnx.export(Graph().eval(), args, str(path), input_names=list(inputs), output_names=list(outputs),
                          dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)


# More characters than any word piece of prose spans (WordPiece reads words of up to 100 characters).
CHARS_PER_PIECE = 100


class Tokenizer:
    """A fast (Rust) tokenizer from a model folder's tokenizer.json, called like the transformers one for
    what rag asks of it: word pieces (and character offsets) of a text, and the model's [CLS]/[SEP]."""

    def __init__(self, folder: str | Path) -> None:
        from tokenizers import Tokenizer as RustTokenizer

        self._tokenizer = RustTokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        marked = self._tokenizer.encode("a", add_special_tokens=True).ids  # [CLS] a [SEP], <s> a </s>, ...
        self.cls_token_id, self.sep_token_id = marked[0], marked[-1]

    def __call__(self, text: str, *, add_special_tokens: bool = True, return_offsets_mapping: bool = False,
                 **_ignored) -> dict:
        encoding = self._tokenizer.encode(text, add_special_tokens=add_special_tokens)
        out = {"input_ids": encoding.ids}
        if return_offsets_mapping:
            out["offset_mapping"] = encoding.offsets
        return out

    def tokenize(self, text: str) -> list[str]:
        return self._tokenizer.encode(text, add_special_tokens=False).tokens

    def decode(self, ids: Sequence[int]) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=False)

    def batch(self, texts: Sequence[str], *, max_length: int | None = None, special: bool = True) -> list[list[int]]:
        """Word-piece ids of each text, with the special tokens, cut to max_length. A text is first cut to
        CHARS_PER_PIECE characters a piece kept, so that a huge text (a 5 MB paragraph with no sentence
        end) costs what its first pieces cost, not a tokenization of all of it."""
        if max_length is not None:
            texts = [text[:max_length * CHARS_PER_PIECE] for text in texts]
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=special)
        ids = [e.ids for e in encodings]
        if max_length is not None:
            ids = [i if len(i) <= max_length else i[:max_length - 1] + i[-1:] for i in ids]
        return ids


def model_files(folder: Path) -> list[Path]:
    """The files a transformer folder's graph is made from (weights and config)."""
    found = [folder / name for name in ("model.safetensors", "pytorch_model.bin", "config.json")
             if (folder / name).is_file()]
    return found


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def bf16_matrix_units(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU reports bf16 matrix units (the `amx_bf16` flag of Linux's /proc/cpuinfo). Elsewhere,
    or where the file cannot be read, False: then bf16 is emulated or slower, and fp32 ONNX Runtime wins."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            return any(line.startswith("flags") and "amx_bf16" in line.split() for line in f)
    except OSError:
        return False


# Loading the bf16 reader imports torch and transformers: a cold `rag ask` took 4.0 s against 0.87 s on
# ONNX Runtime (AMX CPU, 2026-11-24), and each question then saved 53 ms on the mean (94.7 -> 41.9 ms,
# benchmarks/bench_reader.py): it pays from about 60 questions on.
BF16_PAYS_FROM_QUESTIONS = 60


def reader_bf16(questions: int | None = None) -> bool:
    """Whether the reader should run in bfloat16 on torch: RAG_RUNTIME=bf16, or by default (auto) on a
    CPU with bf16 matrix units, where it was measured 1.5x faster than fp32 ONNX Runtime at the same
    accuracy (docs/reader.md). `questions`: how many the process will answer, where that is known
    (a one-shot `rag ask`); under BF16_PAYS_FROM_QUESTIONS, auto keeps ONNX Runtime's fast start."""
    chosen = mode()
    if chosen == "auto" and questions is not None and questions < BF16_PAYS_FROM_QUESTIONS:
        return False
    return chosen == "bf16" or (chosen == "auto" and bf16_matrix_units())


def one_blas_thread():
    """A context in which numpy's (and FAISS's) BLAS runs on the calling thread alone. Answering one
    question does only small matrix products, and OpenBLAS's worker threads keep spinning for a while
    after each one, taking the cores from the encoders that run next: measured on 2 cores, a reader pass
    that takes 21 ms alone took ~110 ms right after a numpy product, and `ask` p50 over 60 SQuAD
    questions fell 40 -> 37 ms (ONNX Runtime) and 82 -> 22 ms (bf16 torch) with this. The libraries are
    looked up on each call (~0.1 ms), so one loaded later (torch's) is limited too."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
