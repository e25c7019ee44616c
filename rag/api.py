"""Build, load and refresh an index and get a `QA` over it; the bundled example (`seeds/` and its index
`embeddings/`, which come with the source repository).

The app and the CLI answer from the bundled example when no index is given. It is rag's own index, so
it is rebuilt when the seeds changed (only what changed is embedded); `load` of any other index never
writes."""

from __future__ import annotations

import warnings
from pathlib import Path

from . import config
from .answering.qa import QA
from .encoders.embedder import DEFAULT_MODEL, Embedder, load_embedder
from .errors import IndexNotFoundError, IndexWriteError, RagError, RagWarning, StaleIndexError
from .index.build import build_index
from .index.manifest import MANIFEST, Manifest, read_manifest
from .index.storage import load_index, save_index, writing
from .index.stores import rebuild_option
from .index.value import Index
from .reader import DEFAULT_READER, Reader


def _embedder_for(model: str | Embedder | None, default: str) -> Embedder:
    if model is None or isinstance(model, str):
        return load_embedder(model or default)
    return model


ReaderOption = bool | str | Path | Reader


def open_reader(reader: ReaderOption, *, bf16: bool | None = None) -> Reader | None:
    """True: the bundled reader; False: none (answers by evidence alone); a folder or a loaded Reader.
    `bf16`: as `Reader.load` takes it (None: as rag.encoders.runtime chooses for a long-lived process)."""
    if reader is False or reader is None:
        return None
    if isinstance(reader, Reader):
        return reader
    return Reader.load(DEFAULT_READER if reader is True else Path(reader), bf16=bf16)


def _previous(out: Path | None) -> Index | None:
    """The index already at `out`, to reuse its vectors; None (with a warning if damaged) otherwise."""
    if out is None or not (out / "manifest.json").exists():
        return None
    try:
        return load_index(out)
    except RagError as exc:
        warnings.warn(f"the index at {out} cannot be reused ({exc}); indexing everything again",
                      RagWarning, stacklevel=3)
        return None


def build(folder: str | Path, out: str | Path | None = None, *, model: str | Embedder | None = None,
          progress: bool = False, store: str = "faiss", incremental: bool = True, reader: ReaderOption = True,
          language: str = "en", workers: int = 0) -> QA:
    """Index every document under `folder` and return a QA over it; saved to `out` when given.

    If `out` already holds an index of the folder made with the same model, only new and changed
    documents are embedded (`qa.index.changes` lists what changed); `incremental=False` redoes all.
    `store`: where the vectors go (rag.index.stores: "faiss", "faiss:hnsw", "milvus", "milvus:http://HOST:19530").
    `language`: the documents' language ("en", "fr", "de"). `workers`: embed with that many Ray workers
    (rag.encoders.distributed; 0: in this process).
    """
    embedder = _embedder_for(model, DEFAULT_MODEL)
    if workers:
        from .encoders.distributed import RayEmbedder

        embedder = RayEmbedder(embedder, workers)
    options = {"progress": progress, "store": store, "language": language}
    if out is None:
        index = build_index(folder, embedder, **options)
        return QA(index, getattr(embedder, "local", embedder), reader=open_reader(reader))
    out = Path(out)
    with writing(out):  # one writer at a time: a second waits, then reuses what the first embedded
        replaced = _previous(out)
        previous = replaced if incremental else None
        index = build_index(folder, embedder, previous=previous, out=out, **options)
        try:
            index = save_index(index, out)
        except BaseException:
            if previous is None or index.store is not previous.store:
                index.store.drop()  # a collection nobody will read
            raise
        if replaced is not None and index.store is not replaced.store:
            replaced.store.drop()  # the collection the new manifest replaced (nothing, for FAISS)
    return QA(index, getattr(embedder, "local", embedder), reader=open_reader(reader))


def load(path: str | Path | None = None, *, model: str | Embedder | None = None,
         reader: ReaderOption = True) -> QA:
    """Load a saved index (default: the bundled `embeddings/` index of `seeds/`, see `load_bundled`). If its
    documents changed since it was built, it answers as it was built, with a RagWarning saying what changed
    and the command that updates it (`refresh` rebuilds it first). An index built with another model
    raises StaleIndexError.
    `reader`: True (the default: the bundled trained reader), a reader folder or a loaded Reader, or
    False (the sentence with the best evidence: faster, less accurate).
    """
    if path is None and not (DEFAULT_INDEX / MANIFEST).exists():
        raise _no_bundled_example(DEFAULT_INDEX)
    path = Path(DEFAULT_INDEX if path is None else path)
    manifest = read_manifest(path)
    embedder = _embedder_for(model, manifest.model)
    reasons = manifest.stale_reasons(path, model=embedder.name, max_tokens=embedder.max_tokens)
    return _serve(path, manifest, embedder, reasons, reader)


def _serve(path: Path, manifest: Manifest, embedder: Embedder, reasons: list[str], reader: ReaderOption) -> QA:
    """The saved index as it is, given what is stale about it (`reasons`)."""
    fix = manifest.rebuild_hint(path) + (f" --model {embedder.name}" if embedder.name != DEFAULT_MODEL else "")
    if reasons and embedder.name != manifest.model:  # questions embedded by another model cannot be served
        raise StaleIndexError(f"index {str(path)!r} is stale: " + "; ".join(reasons) + f". Rebuild it with: {fix}")
    if reasons:  # as a search engine serves its last committed index until the next one is built
        warnings.warn(f"index {path} is out of date ({'; '.join(reasons)}); answering from it as it was "
                      f"built. Update it with: {fix}", RagWarning, stacklevel=3)
    index = load_index(path)
    index.bm25  # noqa: B018 - built now, so that the first question is not the slow one
    return QA(index, embedder, reader=open_reader(reader))


def refresh(path: str | Path, *, corpus: str | Path | None = None, model: str | Embedder | None = None,
            progress: bool = False, reader: ReaderOption = True, manifest: Manifest | None = None) -> QA:
    """The index at `path`, first brought up to date with its corpus folder (or `corpus`) if the documents
    changed: only new and changed documents are embedded. Used where rag owns the index (the bundled
    example, `rag eval`); `load` never writes. `manifest`: the index's, when the caller has read it."""
    path = Path(path)
    manifest = manifest or read_manifest(path)
    embedder = _embedder_for(model, manifest.model)
    corpus = Path(corpus) if corpus is not None else manifest.corpus_folder(path)
    reasons = manifest.stale_reasons(path, model=embedder.name, max_tokens=embedder.max_tokens, corpus=corpus)
    if not reasons or not corpus.is_dir():
        return _serve(path, manifest, embedder, reasons, reader)
    warnings.warn(f"index {path} is stale ({'; '.join(reasons)}); rebuilding it", RagWarning, stacklevel=2)
    try:
        return build(corpus, path, model=embedder, progress=progress, store=rebuild_option(manifest.store),
                     reader=reader, language=manifest.language)
    except (OSError, IndexWriteError) as exc:  # a read-only installation: answer from a fresh index in memory
        warnings.warn(f"could not save the rebuilt index to {path} ({exc}); using it in memory",
                      RagWarning, stacklevel=2)
        return build(corpus, model=embedder, progress=progress, reader=reader, language=manifest.language)


# The bundled example.
_REPO = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = Path(config.index_path() or _REPO / "embeddings")
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
        raise _no_bundled_example(path)
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


def _no_bundled_example(path: Path) -> IndexNotFoundError:
    return IndexNotFoundError(
        f"no index given, and this installation has no bundled example (seeds/ and embeddings/ come with "
        f"the source repository, not with the package; looked in {path}). Index your documents with: "
        "rag index FOLDER --out INDEX, then pass --index INDEX (rag.load(INDEX) in Python)")
