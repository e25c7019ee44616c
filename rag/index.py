"""The index: passages, their vectors (FAISS), sentence vectors and BM25, saved as a folder.

Folder layout (no pickle anywhere):
    manifest.json            model, dimension, chunking, versions, a content hash per document,
                             and the name of the data folder below; written last, atomically
    data-<hash>/passages.jsonl   one passage per line
    data-<hash>/vectors.faiss    paragraph (window) vectors
    data-<hash>/windows.npy      row of vectors.faiss -> passage id
    data-<hash>/sentences.npy    one vector per sentence, passages in order

A save writes a new data folder, then swaps manifest.json with os.replace: a crash at any
point leaves the previous manifest pointing at the previous, complete data folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import documents
from .chunking import ChunkSettings, Passage, chunk_document
from .documents import fingerprint, read_document, scan, supported_extensions
from .embedder import Embedder
from .errors import (
    CorpusError,
    CorruptIndexError,
    IndexLockedError,
    IndexNotFoundError,
    IndexWriteError,
    RagWarning,
    StaleIndexError,
)
from .lexical import BM25Index
from .store import FaissStore, choose_store

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ENCODE_CHUNK = 512  # texts per encode call: one progress step, bounded memory


def _versions() -> dict[str, str]:
    found = {}
    for package in ("rag", "sentence-transformers", "faiss-cpu", "bm25s", "numpy", "sentencex"):
        try:
            found[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            found[package] = "unknown"
    return found


@dataclass
class Index:
    manifest: dict
    passages: list[Passage]
    store: FaissStore
    window_passage: np.ndarray  # int64, row of `store` -> passage id
    sentence_vectors: np.ndarray  # float32 (sentences, dimension)
    path: Path | None = None
    sentence_start: np.ndarray = field(init=False)  # passage id -> its first row in sentence_vectors
    sentence_count: np.ndarray = field(init=False)  # passage id -> its number of sentences
    _words: dict[int, list[frozenset[str]]] = field(init=False, default_factory=dict)
    changes: dict = field(init=False, default_factory=dict)  # what the build that made it changed
    _bm25: BM25Index | None = field(init=False, default=None)

    @property
    def bm25(self) -> BM25Index:
        """BM25 over the passages, built on first use (indexing alone never needs it)."""
        if self._bm25 is None:
            self._bm25 = BM25Index([p.labelled(p.text) for p in self.passages])
        return self._bm25

    def __post_init__(self) -> None:
        counts = np.fromiter((len(p.sentences) for p in self.passages), dtype=np.int64, count=len(self.passages))
        self.sentence_count = counts
        self.sentence_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def titles(self) -> dict[str, str]:
        return {source: doc["title"] for source, doc in self.manifest["documents"].items()}

    def sentence_words(self, passage_id: int) -> list[frozenset[str]]:
        """Stemmed content words of each sentence of a passage, tokenized once and cached."""
        if passage_id not in self._words:
            p = self.passages[passage_id]
            self._words[passage_id] = [frozenset(w) for w in
                                       self.bm25.tokenize(p.labelled(p.text[s:e]) for s, e in p.sentences)]
        return self._words[passage_id]

    def window_ranges(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of each passage's rows in `store` (windows are stored in passage order)."""
        return (np.searchsorted(self.window_passage, passage_ids, side="left"),
                np.searchsorted(self.window_passage, passage_ids, side="right"))

    def sentence_ranges(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of each passage's rows in `sentence_vectors`."""
        starts = self.sentence_start[passage_ids]
        return starts, starts + self.sentence_count[passage_ids]

    def sentence_rows(self, passage_id: int) -> slice:
        start = int(self.sentence_start[passage_id])
        return slice(start, start + len(self.passages[passage_id].sentences))


def concat_ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The rows start..end-1 of every range, back to back."""
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]).astype(np.int64)


def _compatible(manifest: dict, embedder: Embedder, settings: ChunkSettings) -> bool:
    """Can an index with this manifest lend its vectors to a build with this model and chunking?"""
    return (manifest.get("model") == embedder.name and manifest.get("dimension") == embedder.dimension
            and manifest.get("chunking") == asdict(settings))


class _Builder:
    """Collects passages in corpus order and embeds them in batches of about ENCODE_CHUNK texts,
    so that raw document text is dropped as soon as a document is chunked and vectors are held once."""

    def __init__(self, dimension: int, embedder: Embedder | None, progress: bool) -> None:
        self.embedder, self.dimension = embedder, dimension
        self.passages: list[Passage] = []
        self.store = FaissStore(dimension)
        self.window_passage: list[np.ndarray] = []
        self.sentence_parts: list[np.ndarray] = []
        self.pending: list[tuple[Passage, list[tuple[int, int]]]] = []
        self.pending_texts = 0
        self.embedded = 0
        self.bar = tqdm(desc="Embedding", unit="text", disable=not progress)

    def add(self, passages: list[Passage], spans: list[list[tuple[int, int]]]) -> None:
        for passage, windows in zip(passages, spans):
            self.pending.append((replace(passage, id=len(self.passages)), windows))
            self.passages.append(self.pending[-1][0])
            self.pending_texts += len(windows) + len(passage.sentences)
        if self.pending_texts >= ENCODE_CHUNK:
            self.flush()

    def reuse(self, index: Index, passage_ids: np.ndarray) -> None:
        """Append passages of a previous index with their vectors, without embedding them again."""
        self.flush()
        first = len(self.passages)
        self.passages.extend(replace(index.passages[i], id=first + n) for n, i in enumerate(passage_ids))
        rows = concat_ranges(*index.window_ranges(passage_ids))
        if len(rows):
            self.store.add(index.store.vectors(rows))
        self.window_passage.append(first + np.searchsorted(passage_ids, index.window_passage[rows]))
        self.sentence_parts.append(index.sentence_vectors[concat_ranges(*index.sentence_ranges(passage_ids))])

    def flush(self) -> None:
        if not self.pending:
            return
        windows = [p.labelled(p.text[s:e]) for p, spans in self.pending for s, e in spans]
        sentences = [p.labelled(p.text[s:e]) for p, _ in self.pending for s, e in p.sentences]
        vectors = self.embedder.encode(windows + sentences)
        self.store.add(vectors[:len(windows)])
        self.window_passage.append(np.fromiter((p.id for p, spans in self.pending for _ in spans), dtype=np.int64))
        self.sentence_parts.append(vectors[len(windows):])
        self.embedded += len(windows) + len(sentences)
        self.bar.update(len(windows) + len(sentences))
        self.pending, self.pending_texts = [], 0

    def finish(self) -> tuple[FaissStore, np.ndarray, np.ndarray]:
        self.flush()
        self.bar.close()
        dimension = self.dimension
        window_passage = np.concatenate(self.window_passage) if self.window_passage else np.zeros(0, np.int64)
        sentences = (np.concatenate(self.sentence_parts) if self.sentence_parts
                     else np.zeros((0, dimension), dtype=np.float32))
        return self.store, window_passage.astype(np.int64), sentences.astype(np.float32, copy=False)


def build_index(folder: str | Path, embedder: Embedder, *, progress: bool = False, previous: Index | None = None,
                store: str = "auto") -> Index:
    """Read every document under `folder`, chunk, embed and index it (in memory; see `save_index`).

    With `previous` (an index of an earlier state of the same folder, same model and chunking),
    documents whose content hash is unchanged keep their passages and vectors; only new and
    changed documents are embedded. `index.changes` says what happened. `store` is "flat" (exact),
    "hnsw" (approximate) or "auto" (approximate above APPROXIMATE_ABOVE vectors).
    """
    started = time.perf_counter()
    folder = Path(folder)
    settings = ChunkSettings(max_tokens=embedder.max_tokens)
    if previous is not None and not _compatible(previous.manifest, embedder, settings):
        previous = None
    before = previous.manifest["documents"] if previous is not None else {}
    by_source: dict[str, list[int]] = {}
    for p in previous.passages if previous is not None else []:
        by_source.setdefault(p.source, []).append(p.id)
    builder = _Builder(embedder.dimension, embedder, progress)
    doc_info: dict[str, dict] = {}
    changes: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    seen: dict[str, str] = {}
    paths = documents.list_files(folder) if folder.is_dir() else []
    for file in tqdm(scan(folder, paths=paths), total=len(paths), desc="Reading", unit="file", disable=not progress):
        seen[file.source] = file.sha256
        old = before.get(file.source)
        if old is not None and old["sha256"] == file.sha256:
            builder.reuse(previous, np.array(by_source.get(file.source, []), dtype=np.int64))
            doc_info[file.source] = dict(old)
            changes["unchanged"].append(file.source)
            continue
        doc = read_document(file)
        if doc is None:
            continue
        title, doc_passages, spans = chunk_document(doc, embedder.count_tokens, settings)
        builder.add(doc_passages, spans)
        doc_info[doc.source] = {"sha256": doc.sha256, "title": title, "passages": len(doc_passages)}
        changes["updated" if old is not None else "added"].append(doc.source)
    vectors, window_passage, sentence_vectors = builder.finish()
    passages = builder.passages
    if not passages:
        raise CorpusError(f"no quotable text found under {str(folder)!r}: it needs documents "
                          f"({', '.join(sorted(supported_extensions()))}) with at least one paragraph of prose")
    changes["removed"] = sorted(set(before) - set(doc_info))
    vectors = choose_store(vectors, store)
    manifest = {
        "format": "rag-index",
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "chunking": asdict(settings),
        "store": vectors.kind,
        "versions": _versions(),
        "corpus": str(folder),
        "documents": doc_info,
        # Files that were skipped (empty, binary...): hashed too, so that fixing one makes the index stale.
        "skipped": {source: h for source, h in seen.items() if source not in doc_info},
        "counts": {"documents": len(doc_info), "passages": len(passages), "windows": len(window_passage),
                   "sentences": len(sentence_vectors)},
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    index = Index(manifest, passages, vectors, window_passage, sentence_vectors)
    index.changes = {key: sorted(value) for key, value in changes.items()}
    index.changes["embedded_texts"] = builder.embedded
    return index


def subset(index: Index, keep: Callable[[str], bool]) -> Index:
    """A new in-memory index of the documents whose source `keep` accepts, reusing their vectors
    (nothing is re-embedded; BM25 statistics are recomputed for the smaller corpus)."""
    ids = np.array([p.id for p in index.passages if keep(p.source)], dtype=np.int64)
    if not len(ids):
        raise CorpusError("no passages left: the subset keeps none of the index's documents")
    builder = _Builder(index.store.dimension, None, progress=False)
    builder.reuse(index, ids)
    store, window_passage, sentence_vectors = builder.finish()
    kept = {s: d for s, d in index.manifest["documents"].items() if keep(s)}
    manifest = dict(index.manifest, documents=kept,
                    counts={"documents": len(kept), "passages": len(builder.passages),
                            "windows": len(window_passage), "sentences": len(sentence_vectors)})
    return Index(manifest, builder.passages, store, window_passage, sentence_vectors)


def _passage_record(p: Passage) -> dict:
    return {"id": p.id, "source": p.source, "title": p.title, "paragraph": p.paragraph, "start": p.start,
            "end": p.end, "text": p.text, "sentences": [list(s) for s in p.sentences], "page": p.page,
            **({"context": p.context} if p.context else {})}


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def _relative(target: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(target.resolve())


LOCK_FILE = ".rag-write.lock"
LOCK_TIMEOUT_S = float(os.environ.get("RAG_LOCK_TIMEOUT", "900"))


@contextmanager
def writing(out: str | Path):
    """Hold the index folder's write lock: one writer at a time, across processes. Another writer waits
    (saying so once) for up to RAG_LOCK_TIMEOUT seconds, then fails with a message; never both succeed.
    Re-entrant within a process, so a build that holds it can save."""
    from filelock import FileLock, Timeout

    out = Path(out)
    lock = FileLock(out / LOCK_FILE, is_singleton=True)
    try:  # before any embedding: a folder that cannot be written is said at once
        out.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        warnings.warn(f"another rag process is writing the index at {out}; waiting for it to finish",
                      RagWarning, stacklevel=3)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT_S)
        except Timeout:
            raise IndexLockedError(f"the index at {str(out)!r} is still being written by another process after "
                                   f"{LOCK_TIMEOUT_S:.0f} s; try again when it has finished (or raise "
                                   "RAG_LOCK_TIMEOUT)") from None
    except OSError as exc:  # (after Timeout, which is one)
        raise IndexWriteError(f"cannot write the index at {str(out)!r}: {exc.strerror or exc}. Choose a folder "
                              "you can write to (--out)") from None
    try:
        yield out
    finally:
        lock.release()


def save_index(index: Index, out: str | Path) -> Path:
    """Write `index` to the folder `out` atomically (see module docstring), holding its write lock.
    Returns `out`."""
    with writing(out) as out:
        return _save(index, out)


def _save(index: Index, out: Path) -> Path:
    tmp = created = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the index is meant to be shared
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as fh:
            for p in index.passages:
                fh.write(json.dumps(_passage_record(p), ensure_ascii=False) + "\n")
        index.store.save(tmp / "vectors.faiss")
        np.save(tmp / "windows.npy", index.window_passage, allow_pickle=False)
        np.save(tmp / "sentences.npy", index.sentence_vectors, allow_pickle=False)
        _fsync_tree(tmp)
        checksum = data_digest(tmp)
        data_name = f"data-{checksum[:16]}"
        manifest = dict(index.manifest, data=data_name, data_sha256=checksum)
        corpus = Path(index.manifest["corpus"])
        manifest["corpus"] = _relative(corpus, out) if not corpus.is_absolute() or corpus.exists() else str(corpus)
        if (out / data_name).exists() and _digest_or_none(out / data_name) == checksum:
            shutil.rmtree(tmp)  # same content already on disk
        else:
            shutil.rmtree(out / data_name, ignore_errors=True)  # a damaged copy of the same content
            os.replace(tmp, out / data_name)
            created = out / data_name
        manifest_tmp = out / f".{MANIFEST}.tmp"
        with open(manifest_tmp, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(manifest_tmp, out / MANIFEST)
    except BaseException as exc:  # leave nothing behind but the previous index
        for leftover in (tmp, created):
            if leftover is not None:
                shutil.rmtree(leftover, ignore_errors=True)
        (out / f".{MANIFEST}.tmp").unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a full disk, a folder made read-only meanwhile
            raise IndexWriteError(f"could not write the index to {str(out)!r}: {exc.strerror or exc}; the previous "
                                  "index there is unchanged") from None
        raise
    for stale in out.iterdir():
        if stale.is_dir() and stale.name != data_name and (stale.name.startswith("data-") or
                                                         stale.name.startswith(".tmp-")):
            shutil.rmtree(stale, ignore_errors=True)
    index.manifest, index.path = manifest, out
    return out


def rebuild_hint(path: Path, manifest: dict | None = None) -> str:
    corpus = "FOLDER"
    if manifest and manifest.get("corpus"):
        corpus = str(corpus_folder(path, manifest))
    return f"rag index {corpus} --out {path}"


def corpus_folder(path: Path, manifest: dict) -> Path:
    corpus = Path(manifest["corpus"])
    return corpus if corpus.is_absolute() else Path(os.path.normpath(path / corpus))


def _manifest_problem(manifest: dict) -> str | None:
    """What is wrong with a manifest's fields, or None. Its data folder must be a plain name inside the
    index folder: a manifest must never make rag read files elsewhere."""
    data = manifest["data"]
    if not isinstance(data, str) or not re.fullmatch(r"data-[0-9a-f]{16}", data):
        return f"names {data!r} as its data folder (expected data-<16 hex digits> inside the index folder)"
    if not isinstance(manifest["corpus"], str):
        return f"names {manifest['corpus']!r} as its corpus (expected a folder path)"
    if not isinstance(manifest["documents"], dict) or not all(
            isinstance(d, dict) and isinstance(d.get("sha256"), str) for d in manifest["documents"].values()):
        return "has a malformed documents table"
    if not isinstance(manifest["dimension"], int) or not isinstance(manifest["chunking"], dict):
        return "has a malformed dimension or chunking"
    return None


def read_manifest(path: str | Path) -> dict:
    path = Path(path)
    if not (path / MANIFEST).is_file():
        what = "does not exist" if not path.exists() else f"has no {MANIFEST}"
        raise IndexNotFoundError(f"no index at {str(path)!r}: the folder {what}. "
                                 f"Build one with: {rebuild_hint(path)}")
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {MANIFEST} is not valid JSON ({exc}). "
                                f"Rebuild it with: {rebuild_hint(path)}") from exc
    required = ("format_version", "model", "dimension", "chunking", "documents", "data", "corpus")
    missing = [key for key in required if not isinstance(manifest, dict) or key not in manifest]
    if missing:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {MANIFEST} lacks {', '.join(missing)}. "
                                f"Rebuild it with: {rebuild_hint(path)}")
    problem = _manifest_problem(manifest)
    if problem:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {MANIFEST} {problem}. "
                                f"Rebuild it with: {rebuild_hint(path)}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise StaleIndexError(f"index {str(path)!r} has format version {manifest['format_version']}, this rag "
                              f"reads version {FORMAT_VERSION}. Rebuild it with: {rebuild_hint(path, manifest)}")
    return manifest


def data_digest(folder: Path) -> str:
    """SHA-256 over the data folder's file names and bytes (what `data_sha256` in the manifest records)."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        digest.update(name.encode())
        with open(folder / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _digest_or_none(folder: Path) -> str | None:
    try:
        return data_digest(folder)
    except OSError:
        return None


def load_index(path: str | Path) -> Index:
    """Read an index folder written by `save_index`; says what is wrong and how to fix it if it can't.

    A writer replaces the manifest atomically and then removes the old data folder, so a reader that
    loses that race reads the manifest again and loads the new index, whole."""
    path = Path(path)
    for attempt in range(3):
        manifest = read_manifest(path)
        try:
            return _load_data(path, manifest)
        except CorruptIndexError:
            if attempt < 2 and read_manifest(path)["data"] != manifest["data"]:
                continue  # rewritten while we read: load the new one
            raise
    raise AssertionError("unreachable")


def _load_data(path: Path, manifest: dict) -> Index:
    data = path / manifest["data"]
    hint = f"Rebuild it with: {rebuild_hint(path, manifest)}"
    if manifest.get("data_sha256") and _digest_or_none(data) not in (manifest["data_sha256"], None):
        raise CorruptIndexError(f"index {str(path)!r} is damaged: the files in {data.name} do not match the "
                                f"checksum in {MANIFEST}. {hint}")
    try:  # (a folder that cannot be read at all is named below, by the file that is missing)
        passages = []
        with open(data / "passages.jsonl", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                passages.append(Passage(r["id"], r["source"], r["title"], r["paragraph"], r["start"], r["end"],
                                        r["text"], tuple((s, e) for s, e in r["sentences"]), r.get("page"),
                                        r.get("context", "")))
        store = FaissStore.load(data / "vectors.faiss", manifest["dimension"])
        window_passage = np.load(data / "windows.npy", allow_pickle=False)
        sentence_vectors = np.load(data / "sentences.npy", allow_pickle=False)
    except FileNotFoundError as exc:
        raise CorruptIndexError(f"index {str(path)!r} is incomplete: {exc.filename} is missing. {hint}") from exc
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError, OSError,
            CorruptIndexError) as exc:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {exc}. {hint}") from exc
    n_sentences = sum(len(p.sentences) for p in passages)
    if (len(window_passage) != len(store) or sentence_vectors.shape != (n_sentences, manifest["dimension"])
            or any(p.id != i for i, p in enumerate(passages))
            or (len(window_passage) and int(window_passage.max()) >= len(passages))):
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: its files disagree in size "
                                f"({len(passages)} passages, {len(store)} vectors, {len(window_passage)} window "
                                f"ids, {len(sentence_vectors)} sentence vectors). {hint}")
    return Index(manifest, passages, store, window_passage, sentence_vectors, path)


def stale_reasons(manifest: dict, path: Path, *, model: str | None = None,
                  max_tokens: int | None = None, corpus: Path | None = None) -> list[str]:
    """What no longer matches: the model asked for, the chunking, or the corpus documents."""
    reasons = []
    if model is not None and model != manifest["model"]:
        reasons.append(f"it was built with model {manifest['model']!r}, but {model!r} was asked for")
    expected = asdict(ChunkSettings(max_tokens=max_tokens or manifest["chunking"].get("max_tokens", 254)))
    if manifest["chunking"] != expected:
        reasons.append(f"it was chunked with {manifest['chunking']}, this rag chunks with {expected}")
    corpus = corpus_folder(path, manifest) if corpus is None else corpus
    if corpus.is_dir():
        now = fingerprint(corpus)
        then = {source: doc["sha256"] for source, doc in manifest["documents"].items()}
        then.update(manifest.get("skipped", {}))
        added = sorted(set(now) - set(then))
        removed = sorted(set(then) - set(now))
        changed = sorted(s for s in set(now) & set(then) if now[s] != then[s])
        for label, names in (("added", added), ("removed", removed), ("changed", changed)):
            if names:
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                reasons.append(f"{len(names)} document(s) {label} in {corpus}: {shown}")
    return reasons
