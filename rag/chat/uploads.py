"""A visitor's own documents on the chat page: a private collection per browser session.

The files are copied into a folder of their own (under the system's temporary folder, or
$RAG_UPLOADS, see rag.config), indexed in memory with the models the page already holds, and deleted with the
session: when the browser goes away, or after `TTL_SECONDS` (Gradio's session state calls `discard`).
Nothing is shared between sessions: the collection lives only in its session's state.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..answering.qa import QA
from ..api import build
from ..config import MAX_UPLOAD_FILES as MAX_FILES
from ..config import MAX_UPLOAD_TOTAL_BYTES as MAX_TOTAL_BYTES
from ..config import UPLOAD_LIMIT_BYTES, uploads_root
from ..config import UPLOAD_TTL_SECONDS as TTL_SECONDS
from ..errors import CorpusError, RagWarning
from ..ingest.documents import supported_extensions

SUFFIXES = frozenset(supported_extensions())
LIMITS = (f"Up to {MAX_FILES} files ({', '.join(sorted(SUFFIXES))}), {UPLOAD_LIMIT_BYTES // 2**20} MB each, "
          f"{MAX_TOTAL_BYTES // 2**20} MB in all. They are visible only to you and deleted when you leave the "
          f"page or after {TTL_SECONDS // 60} minutes.")


@dataclass
class Collection:
    """One session's uploaded documents and the QA over them."""

    folder: Path
    qa: QA
    names: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def titles(self) -> list[str]:
        return list(self.qa.titles.values())

    @property
    def scope(self) -> str:
        """How an answer names these documents: "your document travel.md", "your 3 documents"."""
        sources = list(self.qa.titles)
        return f"your document {sources[0]}" if len(sources) == 1 else f"your {len(sources)} documents"


def _check(paths: list[Path]) -> None:
    if not paths:
        raise ValueError("no file was uploaded")
    if len(paths) > MAX_FILES:
        raise ValueError(f"{len(paths)} files were uploaded; the limit is {MAX_FILES}: upload fewer at once")
    total = 0
    for path in paths:
        if path.suffix.lower() not in SUFFIXES:
            raise ValueError(f"{path.name} is not a document this page reads; upload "
                             f"{', '.join(sorted(SUFFIXES))} files")
        size = path.stat().st_size
        if size > UPLOAD_LIMIT_BYTES:
            raise ValueError(f"{path.name} is {size / 2**20:.1f} MB; the limit is {UPLOAD_LIMIT_BYTES // 2**20} MB "
                             f"per file")
        total += size
    if total > MAX_TOTAL_BYTES:
        raise ValueError(f"the files come to {total / 2**20:.1f} MB; the limit is {MAX_TOTAL_BYTES // 2**20} MB "
                         f"in all")


def index_uploads(paths: list[str | Path], base: QA, *, progress: bool = False) -> Collection:
    """Copy the uploaded files into a private folder and index them with `base`'s embedder, reader and
    settings. ValueError (with the limit and what to do) for too many, too large or unreadable files;
    files a loader cannot read are listed in `warnings` and the rest indexed."""
    files = [Path(p) for p in paths]
    _check(files)
    root = uploads_root()
    if root:
        Path(root).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="rag-session-", dir=root))
    names = []
    try:
        for path in files:
            name = Path(path.name).name or "document"
            stem, suffix, n = Path(name).stem, Path(name).suffix, 1
            while name in names:  # two uploads with one name are both kept
                n += 1
                name = f"{stem}-{n}{suffix}"
            shutil.copyfile(path, folder / name)
            names.append(name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                built = build(folder, model=base.embedder, reader=base.reader or False, progress=progress)
            except CorpusError:
                scanned = (" (a scanned PDF has no text layer)"
                           if any(n.lower().endswith(".pdf") for n in names) else "")
                raise ValueError(f"nothing in the uploaded files could be read as text{scanned}"
                                 + "".join(f"; {w.message}" for w in caught
                                           if issubclass(w.category, RagWarning))) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    qa = QA(built.index, base.embedder, reader=base.reader, retrieval=base.retrieval, answering=base.answering)
    return Collection(folder, qa, names, [str(w.message) for w in caught if issubclass(w.category, RagWarning)])


def discard(collection: Collection | None) -> None:
    """Delete a collection's files (its index lives in memory and goes with it)."""
    if isinstance(collection, Collection):
        shutil.rmtree(collection.folder, ignore_errors=True)
