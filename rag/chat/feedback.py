"""The feedback log: one JSON line per 👍/👎 on an answer in the chat page.

A record holds the question, the answer (the quote, or "" when declined), its citation, the vote and
the time; nothing else about the person. Lines are appended under a file lock, so several workers (or
processes) never interleave them. The path: `rag serve --feedback PATH`, else $RAG_FEEDBACK_LOG, else
`rag-feedback.jsonl` in the working folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from filelock import FileLock


def record(turn: dict, vote: str, *, now: float | None = None) -> dict:
    """The log record of a vote ("up" or "down") on one answered turn of the chat."""
    if vote not in ("up", "down"):
        raise ValueError(f"a vote is 'up' or 'down', not {vote!r}")
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now)),
            "vote": vote, "question": turn.get("question", ""), "answer": turn.get("answer", ""),
            "citation": turn.get("citation", "")}


def write(path: str | Path, entry: dict) -> None:
    """Append one record as a JSON line (the folder is made if needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with FileLock(str(path) + ".lock"), open(path, "a", encoding="utf-8") as f:
        f.write(line)
