"""Shared fixtures: a deterministic fake embedder and tiny corpora for the fast layer."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest


def pytest_configure(config) -> None:
    """ONNX exports go to a folder of this test run, never to the user's cache."""
    os.environ.setdefault("RAG_CACHE", tempfile.mkdtemp(prefix="rag-test-cache-"))


class HashingEmbedder:
    """Deterministic bag-of-words vectors: each word (lower-cased, crude plural stripping) hashes to a
    dimension. Texts sharing words have positive cosine; texts sharing none have cosine 0."""

    def __init__(self, dimension: int = 256, max_tokens: int = 254, name: str = "test/hashing-256") -> None:
        self.name, self.dimension, self.max_tokens = name, dimension, max_tokens
        self.calls = 0

    @staticmethod
    def _words(text: str) -> list[str]:
        return [w.rstrip("s") for w in re.findall(r"\w+", text.lower()) if len(w) > 2]

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in self._words(text):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]


TINY = {
    "cats.txt": "Cats\n\nCats are small domesticated carnivorous mammals. They sleep for sixteen hours a day.\n\n"
                "A group of cats is called a clowder.\n",
    "rivers.md": "# Rivers of Europe\n\nThe Danube flows through ten countries before reaching the Black Sea.\n\n"
                 "The Rhine rises in the Swiss Alps and ends in the North Sea.\n",
    "volcano.txt": "Mount Etna is an active volcano on the east coast of Sicily. It erupts frequently.\n",
}


def write_corpus(folder: Path, files: dict[str, str | bytes] = TINY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "docs")


def reindex(corpus: Path, out: Path, capsys) -> tuple[int, str, str]:
    """`rag index CORPUS --out OUT` through the CLI: (exit code, stdout, stderr)."""
    from rag import cli

    capsys.readouterr()
    code = cli.main(["index", str(corpus), "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def indexed(tmp_path, embedder, monkeypatch) -> tuple[Path, Path]:
    """A tiny corpus with a good index beside it, built through the CLI with the fake embedder."""
    from rag import api, cli

    monkeypatch.setattr(api, "_embedder_for", lambda model, default: embedder)
    corpus = write_corpus(tmp_path / "docs")
    out = tmp_path / "index"
    assert cli.main(["index", str(corpus), "--out", str(out), "--quiet"]) == 0
    return corpus, out
