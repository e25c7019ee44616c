"""The reader: a trained cross-encoder that scores each sentence of the candidate passages against the
question and marks the short answer inside it.

Modules, from the bottom up: `config` (the reader's configuration and file names), `rows` (model inputs),
`network` (the torch module), `files` (reader folders: save, load, calibrate, export to ONNX),
`inference` (the `Reader` that answering uses). It imports `rag.encoders` (the runtime and the base
model) and `rag.errors`, nothing above them. The bundled weights are package data in `weights/`."""

from .config import DEFAULT_READER, ReaderConfig
from .inference import Reader, SentenceRead, best_span
from .rows import ReaderPassage, Row, make_rows

__all__ = ["DEFAULT_READER", "Reader", "ReaderConfig", "ReaderPassage", "Row", "SentenceRead", "best_span",
           "make_rows"]
