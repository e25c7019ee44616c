"""Every environment variable and limit of rag, in one table.

Limits are read once, when rag is imported; locations and modes that a process may change while it
runs (the model cache, the uploads folder, the feedback log, the runtime) are read when they are used.
Nothing else in the package reads the environment; a module that needs a value imports it from here.

| variable | meaning | default |
|---|---|---|
| RAG_INDEX | the index the chat page and the CLI answer from | the bundled `embeddings/` |
| RAG_RUNTIME | auto, onnx, torch or bf16: how the encoders run (`rag.encoders.runtime`) | auto |
| RAG_CACHE | where the exported ONNX graphs are kept | $XDG_CACHE_HOME/rag, ~/.cache/rag |
| RAG_MAX_FILE_MB | a document larger than this is skipped; the chat page's per-file upload limit | 25 |
| RAG_MAX_REQUEST_KB | an HTTP request to the chat page larger than this is refused (uploads excepted) | 64 |
| RAG_PARSE_MEMORY_MB | the memory a file's reader may use; a file needing more is skipped | 3072 |
| RAG_PARSE_SECONDS | the time any file may take to read, plus 20 s per MB; a slower one is skipped | 60 |
| RAG_PARSE_IN_CHILD | 0 reads files in the indexing process itself (no memory cap or time budget) | 1 |
| RAG_LOCK_TIMEOUT | seconds a second writer of one index folder waits for the first | 900 |
| RAG_UPLOADS | the folder the chat page copies uploaded files into | the system's temporary folder |
| RAG_FEEDBACK_LOG | where the chat page's 👍/👎 are appended (JSON lines) | rag-feedback.jsonl |
| GRADIO_SERVER_PORT | the chat page's port | 7860 |
| GRADIO_SERVER_NAME | the address the chat page listens on | 127.0.0.1 |
| GRADIO_ANALYTICS_ENABLED | Gradio's usage telemetry; rag sets it to False unless it is set | False |
| MILVUS_TOKEN | the token for a Milvus server (`--store milvus:http://HOST:19530`) | none |
| RAY_ADDRESS | a Ray cluster for `rag index --workers N` | a local Ray |
"""

from __future__ import annotations

import os
from pathlib import Path

# Questions and conversations.
MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 8  # a follow-up is rewritten from the last turns only
MAX_QUESTIONS_FILE_BYTES = 16 * 2**20  # `rag ask --file`: a larger file is refused, not read

# The reader reads at most this many rows (of 256 word pieces) of one passage: a paragraph of ~1,500 words;
# the rest of a longer one is not read, so that no passage costs a question more than that.
MAX_ROWS_PER_PASSAGE = 8

# Encoding: texts per model call. Texts are sorted by length and padded to the longest of their batch;
# on a 2-core CPU 16 at a time embed a corpus about 1.6x faster than 64 (less padding, smaller attention).
ENCODE_BATCH = 16

# Documents.
MAX_FILE_BYTES = int(float(os.environ.get("RAG_MAX_FILE_MB", "25")) * 2**20)  # larger files are skipped
# A .docx that unpacks to more than this (its zip entries' declared sizes, which zipfile enforces when
# reading) is skipped.
MAX_UNPACKED_BYTES = 200 * 2**20

# Reading files: each file is read in a child process with a memory cap and a time budget
# (rag.ingest.sandbox); one that passes either is skipped with the reason.
PARSE_IN_CHILD = os.environ.get("RAG_PARSE_IN_CHILD", "1") != "0"
PARSE_MEMORY_BYTES = int(float(os.environ.get("RAG_PARSE_MEMORY_MB", "3072")) * 2**20)
PARSE_SECONDS = float(os.environ.get("RAG_PARSE_SECONDS", "60"))  # for any file, plus:
PARSE_SECONDS_PER_MB = 20.0

# Index folders.
LOCK_TIMEOUT_S = float(os.environ.get("RAG_LOCK_TIMEOUT", "900"))

# The chat page.
REQUEST_LIMIT_BYTES = int(float(os.environ.get("RAG_MAX_REQUEST_KB", "64")) * 1024)
UPLOAD_LIMIT_BYTES = MAX_FILE_BYTES
MAX_UPLOAD_FILES = 10
MAX_UPLOAD_TOTAL_BYTES = 50 * 2**20
UPLOAD_TTL_SECONDS = 3600  # an upload collection is deleted an hour after it was made, or with its session
UPLOAD_SWEEP_SECONDS = 600  # how often files uploaded but never indexed (older than the TTL) are deleted
MEMORY_TRIM_SECONDS = 60.0  # how often the page returns freed memory to the system (rag.chat.memory)
# An answer's paragraph is shown whole up to this many characters; a longer one as a window of about
# this many characters around the quote (the whole paragraph is in the source viewer).
CONTEXT_WINDOW_CHARS = 700
DEFAULT_PORT = 7860
DEFAULT_FEEDBACK_LOG = "rag-feedback.jsonl"


def index_path() -> str | None:
    """$RAG_INDEX: the index to answer from when none is named (None: the bundled one)."""
    return os.environ.get("RAG_INDEX") or None


def runtime_setting() -> tuple[str, str]:
    """($RAG_RUNTIME as given, normalised: stripped, lower case, empty for unset)."""
    given = os.environ.get("RAG_RUNTIME", "")
    return given, given.strip().lower()


def cache_root() -> Path:
    """$RAG_CACHE, else $XDG_CACHE_HOME/rag, else ~/.cache/rag."""
    root = os.environ.get("RAG_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag"
    return Path(root)


def uploads_root() -> str | None:
    """$RAG_UPLOADS: where uploaded files are copied (None: the system's temporary folder)."""
    return os.environ.get("RAG_UPLOADS") or None


def feedback_log(path: str | Path | None = None) -> Path:
    """The feedback log: `path` when given, else $RAG_FEEDBACK_LOG, else rag-feedback.jsonl."""
    return Path(path or os.environ.get("RAG_FEEDBACK_LOG") or DEFAULT_FEEDBACK_LOG)


def port() -> int:
    """$GRADIO_SERVER_PORT, else 7860."""
    return int(os.environ.get("GRADIO_SERVER_PORT", DEFAULT_PORT))


def python_path() -> str:
    """$PYTHONPATH, which the file-reading child process inherits (after the folder holding rag)."""
    return os.environ.get("PYTHONPATH", "")


def server_name() -> str:
    """$GRADIO_SERVER_NAME (what Gradio listens on), else 127.0.0.1."""
    return os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"


def gradio_defaults() -> None:
    """Gradio's usage telemetry off unless the user turned it on: set before Gradio is imported."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def milvus_token() -> str:
    return os.environ.get("MILVUS_TOKEN", "")


def ray_address() -> str | None:
    return os.environ.get("RAY_ADDRESS") or None
