"""The bundled example: `seeds/` and its index `embeddings/`, which come with the source repository.

The app and the CLI answer from it when no index is given. It is rag's own index, so it is rebuilt
when the seeds changed (only what changed is embedded); `rag.load` of any other index never writes.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from .embedder import Embedder
from .errors import IndexNotFoundError, RagError, RagWarning
from .manifest import MANIFEST, read_manifest
from .pipeline import QA, ReaderOption, build, load, refresh

_REPO = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = Path(os.environ.get("RAG_INDEX", _REPO / "embeddings"))
DEFAULT_CORPUS = _REPO / "seeds"


def open_index(path: str | Path | None = None, *, model: str | Embedder | None = None,
               reader: ReaderOption = True, progress: bool = False) -> QA:
    """The index at `path` as it is (`rag.load`), or with no path the bundled one, brought up to date."""
    if path is not None:
        return load(path, model=model, reader=reader)
    return load_bundled(model=model, reader=reader, progress=progress)


def load_bundled(*, model: str | Embedder | None = None, reader: ReaderOption = True,
                 progress: bool = False) -> QA:
    """The bundled index of seeds/: built if missing, rebuilt (incrementally) if the seeds changed, from
    scratch if it names another corpus or was written by an older rag."""
    path, corpus = DEFAULT_INDEX, DEFAULT_CORPUS
    if not corpus.is_dir():
        if (path / MANIFEST).exists():
            return load(path, model=model, reader=reader)
        raise IndexNotFoundError(
            f"no index given, and this installation has no bundled example (seeds/ and embeddings/ come with "
            f"the source repository, not with the package; looked in {path}). Index your documents with: "
            "rag index FOLDER --out INDEX, then pass --index INDEX (rag.load(INDEX) in Python)")
    if not (path / MANIFEST).exists():
        return build(corpus, path, model=model, progress=progress, reader=reader)
    try:
        manifest = read_manifest(path)
    except RagError as exc:
        warnings.warn(f"the bundled index at {path} cannot be used ({exc}); rebuilding it from {corpus}",
                      RagWarning, stacklevel=2)
        return build(corpus, path, model=model, progress=progress, reader=reader, incremental=False)
    if manifest.corpus_folder(path).resolve() != corpus.resolve():
        warnings.warn(f"the bundled index at {path} names another corpus ({manifest.corpus}); rebuilding it from "
                      f"{corpus}", RagWarning, stacklevel=2)
        return build(corpus, path, model=model, progress=progress, incremental=False, reader=reader)
    return refresh(path, corpus=corpus, model=model, progress=progress, reader=reader, manifest=manifest)
