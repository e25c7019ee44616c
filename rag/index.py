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
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .chunking import ChunkSettings, Passage, chunk_document
from .documents import fingerprint, load_documents
from .embedder import Embedder
from .errors import CorpusError, CorruptIndexError, IndexNotFoundError, StaleIndexError
from .lexical import BM25Index
from .store import FaissStore

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
    bm25: BM25Index
    path: Path | None = None
    sentence_start: np.ndarray = field(init=False)  # passage id -> its first row in sentence_vectors
    _words: dict[int, list[frozenset[str]]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        counts = np.fromiter((len(p.sentences) for p in self.passages), dtype=np.int64, count=len(self.passages))
        self.sentence_start = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts

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
            self._words[passage_id] = [frozenset(w) for w in self.bm25.tokenize(p.text[s:e] for s, e in p.sentences)]
        return self._words[passage_id]

    def sentence_rows(self, passage_id: int) -> slice:
        start = int(self.sentence_start[passage_id])
        return slice(start, start + len(self.passages[passage_id].sentences))


def _encode(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    parts = []
    with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress) as bar:
        for i in range(0, len(texts), ENCODE_CHUNK):
            chunk = texts[i:i + ENCODE_CHUNK]
            parts.append(embedder.encode(chunk))
            bar.update(len(chunk))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def build_index(folder: str | Path, embedder: Embedder, *, progress: bool = False) -> Index:
    """Read every document under `folder`, chunk, embed and index it (in memory; see `save_index`)."""
    folder = Path(folder)
    settings = ChunkSettings(max_tokens=embedder.max_tokens)
    docs = list(load_documents(folder))
    passages: list[Passage] = []
    window_spans: list[list[tuple[int, int]]] = []
    doc_info: dict[str, dict] = {}
    for doc in tqdm(docs, desc="Reading", unit="doc", disable=not progress):
        title, doc_passages, spans = chunk_document(doc, embedder.count_tokens, settings, first_id=len(passages))
        passages.extend(doc_passages)
        window_spans.extend(spans)
        doc_info[doc.source] = {"sha256": doc.sha256, "title": title, "passages": len(doc_passages)}
    if not passages:
        raise CorpusError(f"no quotable text found under {str(folder)!r}: it needs .txt or .md files "
                          "with at least one paragraph of prose")
    window_texts = [p.text[s:e] for p, spans in zip(passages, window_spans) for s, e in spans]
    window_passage = np.fromiter((p.id for p, spans in zip(passages, window_spans) for _ in spans), dtype=np.int64)
    sentence_texts = [p.text[s:e] for p in passages for s, e in p.sentences]
    vectors = _encode(embedder, window_texts + sentence_texts, progress)
    store = FaissStore(embedder.dimension)
    store.add(vectors[:len(window_texts)])
    manifest = {
        "format": "rag-index",
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "chunking": asdict(settings),
        "store": store.kind,
        "versions": _versions(),
        "corpus": str(folder),
        "documents": doc_info,
        # Files that were skipped (empty, binary...): hashed too, so that fixing one makes the index stale.
        "skipped": {s: h for s, h in fingerprint(folder).items() if s not in doc_info},
        "counts": {"documents": len(doc_info), "passages": len(passages), "windows": len(window_texts),
                   "sentences": len(sentence_texts)},
    }
    return Index(manifest, passages, store, window_passage, vectors[len(window_texts):],
                 BM25Index([p.text for p in passages]))


def _passage_record(p: Passage) -> dict:
    return {"id": p.id, "source": p.source, "title": p.title, "paragraph": p.paragraph, "start": p.start,
            "end": p.end, "text": p.text, "sentences": [list(s) for s in p.sentences]}


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def _relative(target: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(target.resolve())


def save_index(index: Index, out: str | Path) -> Path:
    """Write `index` to the folder `out` atomically (see module docstring). Returns `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the index is meant to be shared
    try:
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as fh:
            for p in index.passages:
                fh.write(json.dumps(_passage_record(p), ensure_ascii=False) + "\n")
        index.store.save(tmp / "vectors.faiss")
        np.save(tmp / "windows.npy", index.window_passage, allow_pickle=False)
        np.save(tmp / "sentences.npy", index.sentence_vectors, allow_pickle=False)
        _fsync_tree(tmp)
        digest = hashlib.sha256()
        for name in sorted(os.listdir(tmp)):
            digest.update(name.encode() + (tmp / name).read_bytes())
        data_name = f"data-{digest.hexdigest()[:16]}"
        manifest = dict(index.manifest, data=data_name)
        corpus = Path(index.manifest["corpus"])
        manifest["corpus"] = _relative(corpus, out) if not corpus.is_absolute() or corpus.exists() else str(corpus)
        if (out / data_name).exists():
            shutil.rmtree(tmp)  # same content already on disk
        else:
            os.replace(tmp, out / data_name)
        manifest_tmp = out / f".{MANIFEST}.tmp"
        with open(manifest_tmp, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(manifest_tmp, out / MANIFEST)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
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
    if manifest["format_version"] != FORMAT_VERSION:
        raise StaleIndexError(f"index {str(path)!r} has format version {manifest['format_version']}, this rag "
                              f"reads version {FORMAT_VERSION}. Rebuild it with: {rebuild_hint(path, manifest)}")
    return manifest


def load_index(path: str | Path) -> Index:
    """Read an index folder written by `save_index`; says what is wrong and how to fix it if it can't."""
    path = Path(path)
    manifest = read_manifest(path)
    data = path / manifest["data"]
    hint = f"Rebuild it with: {rebuild_hint(path, manifest)}"
    try:
        passages = []
        with open(data / "passages.jsonl", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                passages.append(Passage(r["id"], r["source"], r["title"], r["paragraph"], r["start"], r["end"],
                                        r["text"], tuple((s, e) for s, e in r["sentences"])))
        store = FaissStore.load(data / "vectors.faiss", manifest["dimension"])
        window_passage = np.load(data / "windows.npy", allow_pickle=False)
        sentence_vectors = np.load(data / "sentences.npy", allow_pickle=False)
    except FileNotFoundError as exc:
        raise CorruptIndexError(f"index {str(path)!r} is incomplete: {exc.filename} is missing. {hint}") from exc
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError, CorruptIndexError) as exc:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {exc}. {hint}") from exc
    n_sentences = sum(len(p.sentences) for p in passages)
    if (len(window_passage) != len(store) or sentence_vectors.shape != (n_sentences, manifest["dimension"])
            or any(p.id != i for i, p in enumerate(passages))
            or (len(window_passage) and int(window_passage.max()) >= len(passages))):
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: its files disagree in size "
                                f"({len(passages)} passages, {len(store)} vectors, {len(window_passage)} window "
                                f"ids, {len(sentence_vectors)} sentence vectors). {hint}")
    return Index(manifest, passages, store, window_passage, sentence_vectors,
                 BM25Index([p.text for p in passages]), path)


def stale_reasons(manifest: dict, path: Path, *, model: str | None = None,
                  max_tokens: int | None = None) -> list[str]:
    """What no longer matches: the model asked for, the chunking, or the corpus documents."""
    reasons = []
    if model is not None and model != manifest["model"]:
        reasons.append(f"it was built with model {manifest['model']!r}, but {model!r} was asked for")
    expected = asdict(ChunkSettings(max_tokens=max_tokens or manifest["chunking"].get("max_tokens", 254)))
    if manifest["chunking"] != expected:
        reasons.append(f"it was chunked with {manifest['chunking']}, this rag chunks with {expected}")
    corpus = corpus_folder(path, manifest)
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
