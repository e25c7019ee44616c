"""What rag tells its user while it works, beside warnings: one-time preparation that takes a while
(the first run exports each model for ONNX Runtime). Said on the `rag.notes` logger at INFO level, so a
library user sees it only after `logging.basicConfig(level=logging.INFO)`; the CLI and the chat page
call `show()`, which prints each note as one line on stderr."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("rag.notes")


def say(message: str) -> None:
    log.info(message)


def show() -> None:
    """Print rag's notes on stderr as "rag: ..." lines (once per process, however often called)."""
    if any(getattr(h, "_rag_notes", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("rag: %(message)s"))
    handler._rag_notes = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
