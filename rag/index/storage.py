"""Saving and loading an index folder (no pickle anywhere).

Folder layout:
    manifest.json                 the Manifest; written last, atomically
    data-<hash>/passages.jsonl    one passage per line
    data-<hash>/window_ids.npy    row -> the window's id in the vector store
    data-<hash>/windows.npy       row -> passage id
    data-<hash>/sentences.npy     one vector per sentence, passages in order
    data-<hash>/vectors.faiss     the window vectors, for the FAISS store (a database keeps its own)

A save writes a new data folder, then swaps manifest.json with os.replace: a crash at any point leaves
the previous manifest pointing at the previous, complete data folder. One writer at a time holds the
folder's lock (`writing`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..config import LOCK_TIMEOUT_S
from ..errors import CorruptIndexError, IndexLockedError, IndexWriteError, RagWarning
from ..ingest.chunking import Passage
from .manifest import MANIFEST, Manifest, read_manifest
from .stores import open_store, parse_store
from .value import Index

LOCK_FILE = ".rag-write.lock"


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


def _passage_record(p: Passage) -> dict:
    return {"id": p.id, "source": p.source, "title": p.title, "paragraph": p.paragraph, "start": p.start,
            "end": p.end, "text": p.text, "sentences": [list(s) for s in p.sentences], "page": p.page,
            **({"context": p.context} if p.context else {})}


def _relative(target: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(target.resolve())


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


def save_index(index: Index, out: str | Path) -> Index:
    """Write `index` to the folder `out` atomically (see module docstring), holding its write lock.
    Returns the index as saved (its manifest names the data folder; `path` is `out`)."""
    with writing(out) as out:
        return _save(index, out)


def _write_data(index: Index, folder: Path) -> None:
    with open(folder / "passages.jsonl", "w", encoding="utf-8") as fh:
        for p in index.passages:
            fh.write(json.dumps(_passage_record(p), ensure_ascii=False) + "\n")
    index.store.save(folder)
    np.save(folder / "window_ids.npy", index.window_ids, allow_pickle=False)
    np.save(folder / "windows.npy", index.window_passage, allow_pickle=False)
    np.save(folder / "sentences.npy", index.sentence_vectors, allow_pickle=False)
    _fsync_tree(folder)


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def _save(index: Index, out: Path) -> Index:
    tmp = created = None
    manifest_tmp = out / f".{MANIFEST}.tmp"
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the index is meant to be shared
        _write_data(index, tmp)
        checksum = data_digest(tmp)
        data_name = f"data-{checksum[:16]}"
        corpus = Path(index.manifest.corpus)
        manifest = index.manifest.with_(
            data=data_name, data_sha256=checksum,
            corpus=_relative(corpus, out) if not corpus.is_absolute() or corpus.exists() else str(corpus))
        if (out / data_name).exists() and _digest_or_none(out / data_name) == checksum:
            shutil.rmtree(tmp)  # same content already on disk
        else:
            shutil.rmtree(out / data_name, ignore_errors=True)  # a damaged copy of the same content
            os.replace(tmp, out / data_name)
            created = out / data_name
        with open(manifest_tmp, "w", encoding="utf-8") as fh:
            fh.write(manifest.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(manifest_tmp, out / MANIFEST)
    except BaseException as exc:  # leave nothing behind but the previous index
        for leftover in (tmp, created):
            if leftover is not None:
                shutil.rmtree(leftover, ignore_errors=True)
        manifest_tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a full disk, a folder made read-only meanwhile
            raise IndexWriteError(f"could not write the index to {str(out)!r}: {exc.strerror or exc}; the previous "
                                  "index there is unchanged") from None
        raise
    for stale in out.iterdir():
        if stale.is_dir() and stale.name != data_name and (stale.name.startswith("data-") or
                                                         stale.name.startswith(".tmp-")):
            shutil.rmtree(stale, ignore_errors=True)
    return replace(index, manifest=manifest, path=out)


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
            if attempt < 2 and read_manifest(path).data != manifest.data:
                continue  # rewritten while we read: load the new one
            raise
    raise AssertionError("unreachable")


def _read_passages(file: Path) -> tuple[Passage, ...]:
    passages = []
    with open(file, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            passages.append(Passage(r["id"], r["source"], r["title"], r["paragraph"], r["start"], r["end"],
                                    r["text"], tuple((s, e) for s, e in r["sentences"]), r.get("page"),
                                    r.get("context", "")))
    return tuple(passages)


def _unsafe_entry(data: Path) -> str | None:
    """What keeps the data folder from being read safely, or None: it must be a folder inside the index
    folder (not a link out of it), holding only regular files (no links, FIFOs or devices, which a read
    would follow elsewhere, block on or never finish)."""
    try:
        if data.is_symlink() or not data.is_dir():
            return f"{data.name} is not a folder inside the index folder"
        for entry in os.scandir(data):
            if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                return f"{data.name}/{entry.name} is not a regular file (a link, a FIFO or a device)"
    except OSError:
        return None  # unreadable: named below by the file that cannot be opened
    return None


def _load_data(path: Path, manifest: Manifest) -> Index:
    data = path / manifest.data
    hint = f"Rebuild it with: {manifest.rebuild_hint(path)}"
    unsafe = _unsafe_entry(data)
    if unsafe:
        raise CorruptIndexError(f"index {str(path)!r} is damaged: {unsafe}. {hint}")
    if manifest.data_sha256 and _digest_or_none(data) not in (manifest.data_sha256, None):
        raise CorruptIndexError(f"index {str(path)!r} is damaged: the files in {data.name} do not match the "
                                f"checksum in {MANIFEST}. {hint}")
    try:  # (a folder that cannot be read at all is named below, by the file that is missing)
        passages = _read_passages(data / "passages.jsonl")
        window_ids = np.load(data / "window_ids.npy", allow_pickle=False)
        window_passage = np.load(data / "windows.npy", allow_pickle=False)
        sentence_vectors = np.load(data / "sentences.npy", allow_pickle=False)
        store = open_store(parse_store(manifest.store), manifest.dimension, path, data)
    except FileNotFoundError as exc:
        raise CorruptIndexError(f"index {str(path)!r} is incomplete: {exc.filename} is missing. {hint}") from exc
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError, OSError,
            CorruptIndexError) as exc:
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: {exc}. {hint}") from exc
    n_sentences = sum(len(p.sentences) for p in passages)
    if (len(window_passage) != len(window_ids) or (store.in_data_folder and len(store) != len(window_ids))
            or sentence_vectors.shape != (n_sentences, manifest.dimension)
            or any(p.id != i for i, p in enumerate(passages))
            or (len(window_passage) and int(window_passage.max()) >= len(passages))):
        raise CorruptIndexError(f"index {str(path)!r} is corrupt: its files disagree in size "
                                f"({len(passages)} passages, {len(store)} vectors, {len(window_passage)} window "
                                f"ids, {len(sentence_vectors)} sentence vectors). {hint}")
    return Index(manifest, passages, store, window_ids, window_passage, sentence_vectors, path)
