"""Building an index: read every document, chunk it, embed what is new, put the vectors in a store.

With a previous index of the same folder (same model, chunking and language), documents whose content
hash is unchanged keep their passages and vectors; only new and changed documents are embedded. A
database store is updated in place (the changed and removed documents' ids deleted, the new ones
added); a FAISS store is written afresh from the kept and new vectors (it is saved in a new data folder).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..encoders.embedder import Embedder
from ..errors import CorpusError
from ..ingest import documents
from ..ingest.chunking import ChunkSettings, Passage, chunk_document
from ..ingest.documents import SourceFile, read_document, scan, supported_extensions
from ..ingest.language import language as find_language
from .manifest import Manifest, versions
from .stores import VectorStore, create_store, in_memory, parse_store, window_id
from .value import Index, concat_ranges

ENCODE_CHUNK = 512  # texts per encode call: one progress step, bounded memory


class _Builder:
    """Collects passages in corpus order and embeds them in batches of about `chunk` texts, so that raw
    document text is dropped as soon as a document is chunked and vectors are held once."""

    def __init__(self, store: VectorStore, embedder: Embedder | None, progress: bool) -> None:
        self.store, self.embedder = store, embedder
        self.chunk = getattr(embedder, "texts_per_call", ENCODE_CHUNK)
        self.passages: list[Passage] = []
        self.window_ids: list[np.ndarray] = []
        self.window_passage: list[np.ndarray] = []
        self.sentence_parts: list[np.ndarray] = []
        self.pending: list[tuple[Passage, list[tuple[int, int]], list[int]]] = []
        self.pending_texts = 0
        self.embedded = 0
        self.bar = tqdm(desc="Embedding", unit="text", disable=not progress)

    def add(self, sha256: str, passages: list[Passage], spans: list[list[tuple[int, int]]]) -> None:
        """A document's passages and their windows, to embed."""
        n = 0
        for passage, windows in zip(passages, spans):
            ids = [window_id(passage.source, sha256, n + i) for i in range(len(windows))]
            n += len(windows)
            self.pending.append((replace(passage, id=len(self.passages)), windows, ids))
            self.passages.append(self.pending[-1][0])
            self.pending_texts += len(windows) + len(passage.sentences)
            self.bar.total = (self.bar.total or 0) + len(windows) + len(passage.sentences)  # queued so far
        if self.pending_texts >= self.chunk:
            self.flush()

    def reuse(self, index: Index, passage_ids: np.ndarray, *, in_store: bool) -> None:
        """Append passages of a previous index with their vectors, without embedding them again;
        `in_store`: their vectors are already in this builder's store."""
        self.flush()
        first = len(self.passages)
        self.passages.extend(replace(index.passages[i], id=first + n) for n, i in enumerate(passage_ids))
        rows = concat_ranges(*index.window_ranges(passage_ids))
        if len(rows) and not in_store:
            self.store.add(index.window_ids[rows], index.window_vectors(rows))
        self.window_ids.append(index.window_ids[rows])
        self.window_passage.append(first + np.searchsorted(passage_ids, index.window_passage[rows]))
        self.sentence_parts.append(index.sentence_vectors[concat_ranges(*index.sentence_ranges(passage_ids))])

    def flush(self) -> None:
        if not self.pending:
            return
        windows = [p.labelled(p.text[s:e]) for p, spans, _ in self.pending for s, e in spans]
        sentences = [p.labelled(p.text[s:e]) for p, _, _ in self.pending for s, e in p.sentences]
        vectors = self.embedder.encode(windows + sentences)
        ids = np.fromiter((i for _, _, ids in self.pending for i in ids), dtype=np.int64, count=len(windows))
        self.store.add(ids, vectors[:len(windows)])
        self.window_ids.append(ids)
        self.window_passage.append(np.fromiter((p.id for p, spans, _ in self.pending for _ in spans), dtype=np.int64))
        self.sentence_parts.append(vectors[len(windows):])
        self.embedded += len(windows) + len(sentences)
        self.bar.update(len(windows) + len(sentences))
        self.pending, self.pending_texts = [], 0

    def finish(self, dimension: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(window ids, window passages, sentence vectors); the store committed."""
        self.flush()
        self.bar.close()
        self.store.commit()

        def joined(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

        sentences = (np.concatenate(self.sentence_parts) if self.sentence_parts
                     else np.zeros((0, dimension), dtype=np.float32))
        return joined(self.window_ids), joined(self.window_passage), sentences.astype(np.float32, copy=False)


def _compatible(manifest: Manifest, embedder: Embedder, settings: ChunkSettings) -> bool:
    """Can an index with this manifest lend its vectors to a build with this model and chunking?"""
    return (manifest.model == embedder.name and manifest.dimension == embedder.dimension
            and manifest.chunking == asdict(settings))


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _counted(files: Iterable[SourceFile], bar, sizes: dict[Path, int]) -> Iterator[SourceFile]:
    """`files`, moving `bar` on by each file's size once the caller is done with it."""
    for file in files:
        yield file
        bar.update(sizes.get(file.path, 0))


def build_index(folder: str | Path, embedder: Embedder, *, progress: bool = False, previous: Index | None = None,
                store: str = "faiss", out: Path | None = None, language: str = "en") -> Index:
    """Read every document under `folder`, chunk, embed and index it (see `storage.save_index`).

    `previous`: an index of an earlier state of the same folder (see the module docstring); `changes`
    on the result says what happened. `store`: a store option (rag.index.stores), e.g. "faiss" (exact, HNSW
    when large), "faiss:hnsw", "milvus" (a Milvus Lite file in `out`) or "milvus:http://HOST:19530".
    `language`: the documents' language (rag.ingest.language), for sentences, stop words and stemming.
    """
    started = time.perf_counter()
    folder = Path(folder)
    option = parse_store(store)
    lang = find_language(language)
    settings = ChunkSettings(max_tokens=embedder.max_tokens, language=lang.code)
    if previous is not None and not _compatible(previous.manifest, embedder, settings):
        previous = None
    before = previous.manifest.documents if previous is not None else {}
    was = parse_store(previous.manifest.store) if previous is not None else None
    # A database is updated in place; FAISS (in the data folder) is written afresh.
    in_place = (previous is not None and not previous.store.in_data_folder and was.engine == option.engine
                and was.target == option.target and option.collection in ("", was.collection))
    vectors = previous.store if in_place else create_store(option, embedder.dimension, out)
    by_source: dict[str, list[int]] = {}
    for p in previous.passages if previous is not None else []:
        by_source.setdefault(p.source, []).append(p.id)
    builder = _Builder(vectors, embedder, progress)
    doc_info: dict[str, dict] = {}
    changes: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    seen: dict[str, str] = {}
    paths = documents.list_files(folder) if folder.is_dir() else []
    # Reading and embedding interleave (a batch is embedded as soon as it is full), so the bytes read
    # measure the whole build: that bar's total and ETA are the build's.
    sizes = {path: _size(path) for path in paths}
    bar = tqdm(total=sum(sizes.values()), desc="Reading and embedding", unit="B", unit_scale=True,
               unit_divisor=1024, disable=not progress)
    for file in _counted(scan(folder, paths=paths), bar, sizes):
        seen[file.source] = file.sha256
        old = before.get(file.source)
        if old is not None and old["sha256"] == file.sha256:
            builder.reuse(previous, np.array(by_source.get(file.source, []), dtype=np.int64), in_store=in_place)
            doc_info[file.source] = dict(old)
            changes["unchanged"].append(file.source)
            continue
        doc = read_document(file)
        if doc is None:
            continue
        title, doc_passages, spans = chunk_document(doc, embedder.count_tokens, settings)
        builder.add(doc.sha256, doc_passages, spans)
        doc_info[doc.source] = {"sha256": doc.sha256, "title": title, "passages": len(doc_passages)}
        changes["updated" if old is not None else "added"].append(doc.source)
    if in_place:  # the vectors of documents that changed or went
        gone = [s for s in before if s not in changes["unchanged"]]
        rows = concat_ranges(*previous.window_ranges(np.array([i for s in gone for i in by_source.get(s, [])],
                                                              dtype=np.int64)))
        vectors.delete(previous.window_ids[rows])
    window_ids, window_passage, sentence_vectors = builder.finish(embedder.dimension)
    bar.update(bar.total - bar.n)  # the files that were skipped
    bar.close()
    passages = builder.passages
    if not passages:
        if not in_place:
            vectors.drop()
        raise CorpusError(f"no quotable text found under {str(folder)!r}: it needs documents "
                          f"({', '.join(sorted(supported_extensions()))}) with at least one paragraph of prose")
    changes["removed"] = sorted(set(before) - set(doc_info))
    manifest = Manifest(
        model=embedder.name, dimension=embedder.dimension, chunking=asdict(settings), store=vectors.uri,
        corpus=str(folder), documents=doc_info,
        # Files that were skipped (empty, binary...): hashed too, so that fixing one makes the index stale.
        skipped={source: h for source, h in seen.items() if source not in doc_info},
        counts={"documents": len(doc_info), "passages": len(passages), "windows": len(window_ids),
                "sentences": len(sentence_vectors)},
        build_seconds=round(time.perf_counter() - started, 2), versions=versions())
    summary = {key: sorted(value) for key, value in changes.items()} | {"embedded_texts": builder.embedded}
    return Index(manifest, tuple(passages), vectors, window_ids, window_passage, sentence_vectors, changes=summary)


def subset(index: Index, keep: Callable[[str], bool]) -> Index:
    """A new in-memory index of the documents whose source `keep` accepts, reusing their vectors
    (nothing is re-embedded; BM25 statistics are recomputed for the smaller corpus)."""
    ids = np.array([p.id for p in index.passages if keep(p.source)], dtype=np.int64)
    if not len(ids):
        raise CorpusError("no passages left: the subset keeps none of the index's documents")
    builder = _Builder(in_memory(index.manifest.dimension), None, progress=False)
    builder.reuse(index, ids, in_store=False)
    window_ids, window_passage, sentence_vectors = builder.finish(index.manifest.dimension)
    kept = {s: d for s, d in index.manifest.documents.items() if keep(s)}
    manifest = index.manifest.with_(
        documents=kept, store=builder.store.uri,
        counts={"documents": len(kept), "passages": len(builder.passages), "windows": len(window_ids),
                "sentences": len(sentence_vectors)})
    return Index(manifest, tuple(builder.passages), builder.store, window_ids, window_passage, sentence_vectors)
