"""Documents: find files under a folder and turn each into text with a format loader.

Loaders are a small seam (`Loader`, implementations in `rag.ingest.formats`): each knows a set of
extensions and turns a file's bytes into `Extracted` text, raising `UnreadableFile` with a reason
when it cannot. Unreadable files are skipped with one warning line that names them.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import stat
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import MAX_FILE_BYTES
from ..errors import CorpusError, RagWarning
from . import sandbox
from .formats import DEFAULT_LOADERS
from .formats.base import Extracted, UnreadableFile

METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class Document:
    """One source file, decoded. `source` is its path relative to the corpus folder."""

    source: str
    text: str
    sha256: str
    title: str | None = None  # from metadata.json; derived from the text when None
    page_starts: tuple[int, ...] = ()  # paged formats: offset in `text` where each page begins
    marked_headings: bool = False  # the format marks its headings: an unmarked block is not one

    def page_at(self, offset: int) -> int | None:
        """1-based page holding the character at `offset`; None for formats without pages."""
        return bisect.bisect_right(self.page_starts, offset) if self.page_starts else None


class Loader(Protocol):
    extensions: tuple[str, ...]  # lower case, with the dot

    def load(self, data: bytes, name: str) -> Extracted:
        """The file's text, or UnreadableFile with the reason (`name` is for warnings)."""


def _loader_for(path: Path, loaders: Sequence[Loader]) -> Loader | None:
    suffix = path.suffix.lower()
    return next((loader for loader in loaders if suffix in loader.extensions), None)


def read_metadata(folder: Path) -> dict[str, dict]:
    """Optional `metadata.json` beside the documents: {"file.txt": {"title": "..."}}."""
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            warnings.warn(f"{path}: ignored, it is over {MAX_FILE_BYTES // 2**20} MB", RagWarning, stacklevel=2)
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        warnings.warn(f"{path}: ignored, not valid JSON ({exc})", RagWarning, stacklevel=2)
        return {}
    except RecursionError:
        warnings.warn(f"{path}: ignored, nested too deeply to be a list of titles", RagWarning, stacklevel=2)
        return {}
    if not isinstance(data, dict):
        warnings.warn(f"{path}: ignored, expected an object mapping file names to {{'title': ...}}",
                      RagWarning, stacklevel=2)
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def read_examples(folder: str | Path) -> list[str]:
    """Example questions listed under "_examples" in the corpus's metadata.json, if any."""
    path = Path(folder) / METADATA_FILE
    try:
        examples = json.loads(path.read_text(encoding="utf-8")).get("_examples", [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, RecursionError):
        return []
    return [q for q in examples if isinstance(q, str) and q.strip()] if isinstance(examples, list) else []


def supported_extensions(loaders: Sequence[Loader] = DEFAULT_LOADERS) -> set[str]:
    return {ext for loader in loaders for ext in loader.extensions}


def list_files(folder: Path, loaders: Sequence[Loader] = DEFAULT_LOADERS) -> list[Path]:
    """Files under `folder` that a loader accepts, sorted; hidden files and folders are skipped."""
    found: list[Path] = []
    # followlinks=False: a symlinked folder cannot send the walk round a loop.
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if name.startswith(".") or name == METADATA_FILE:
                continue
            try:
                path.relative_to(folder).as_posix().encode("utf-8")
            except UnicodeEncodeError:  # bytes that are not UTF-8, kept by the OS as surrogates
                shown = path.relative_to(folder).as_posix().encode("utf-8", "replace").decode("utf-8")
                warnings.warn(f"{shown}: skipped, its name is not valid UTF-8 (rename it)", RagWarning, stacklevel=2)
                continue
            if _loader_for(path, loaders) is None:
                warnings.warn(f"{path.relative_to(folder).as_posix()}: skipped, no loader for "
                              f"'{path.suffix or name}' files", RagWarning, stacklevel=2)
                continue
            found.append(path)
    return found


def content_hash(data: bytes, title: str | None) -> str:
    digest = hashlib.sha256(data)
    digest.update(b"\x00title:" + (title or "").encode("utf-8"))
    return digest.hexdigest()


def fingerprint(folder: str | Path, loaders: Sequence[Loader] = DEFAULT_LOADERS) -> dict[str, str]:
    """source -> content hash for every file an index build would read; no decoding, no warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RagWarning)
        return {file.source: file.sha256 for file in scan(folder, loaders)}


@dataclass(frozen=True)
class SourceFile:
    """A file's bytes and content hash, read once; decoded only if the index needs it."""

    source: str
    path: Path
    data: bytes
    sha256: str
    title: str | None


class _Refused(Exception):
    """A file that is not read, with the reason."""


def _read_regular(path: Path, root: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file whose real path is inside `root`, at most `max_bytes` of them.

    Links that lead outside the folder (to /etc/passwd, /dev/zero) and anything that is not a regular
    file (a FIFO would block for ever) are refused. The size is checked on the bytes actually read,
    not on what the file system reports."""
    real = Path(os.path.realpath(path))  # a link loop resolves to a path inside; opening it then fails
    if real != root and root not in real.parents:
        raise _Refused("it links outside the document folder (only files inside the folder are read)")
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("it is not a regular file (a pipe, device or socket)")
        limit = f"the limit for one file is {max_bytes / 2**20:.0f} MB (split it, or raise RAG_MAX_FILE_MB)"
        if info.st_size > max_bytes:
            raise _Refused(f"it is {info.st_size / 2**20:.1f} MB and {limit}")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _Refused(f"it grew past its reported size while being read, and {limit}")
    return data


def scan(folder: str | Path, loaders: Sequence[Loader] = DEFAULT_LOADERS, *, max_bytes: int | None = None,
         paths: Sequence[Path] | None = None) -> Iterator[SourceFile]:
    """Each loadable file under `folder` (or each of `paths`, from `list_files`), one at a time; files
    that cannot be read (vanished, no permission, over `max_bytes`) are skipped with a RagWarning."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"document folder {str(folder)!r} does not exist or is not a folder")
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    metadata = read_metadata(folder)
    root = Path(os.path.realpath(folder))
    for path in list_files(folder, loaders) if paths is None else paths:
        source = path.relative_to(folder).as_posix()
        try:
            data = _read_regular(path, root, max_bytes)
        except FileNotFoundError:
            warnings.warn(f"{source}: skipped, it disappeared while the folder was being read",
                          RagWarning, stacklevel=2)
            continue
        except _Refused as exc:
            warnings.warn(f"{source}: skipped, {exc}", RagWarning, stacklevel=2)
            continue
        except OSError as exc:
            warnings.warn(f"{source}: skipped, cannot be read ({exc.strerror or exc})", RagWarning, stacklevel=2)
            continue
        title = metadata.get(source, {}).get("title")
        title = title if isinstance(title, str) and title.strip() else None
        yield SourceFile(source, path, data, content_hash(data, title), title)


def read_document(file: SourceFile, loaders: Sequence[Loader] = DEFAULT_LOADERS) -> Document | None:
    """The file's text through its format's loader (the default loaders in a child process with limits,
    see rag.ingest.sandbox); None, with a RagWarning saying why, when it cannot be read."""
    try:
        if loaders is DEFAULT_LOADERS and sandbox.available():
            extracted = sandbox.extract(file.source, file.data)
        else:
            extracted = _loader_for(file.path, loaders).load(file.data, file.source)
    except UnreadableFile as exc:
        warnings.warn(f"{file.source}: skipped, {exc}", RagWarning, stacklevel=2)
        return None
    except RecursionError:
        warnings.warn(f"{file.source}: skipped, its markup is nested too deeply to read", RagWarning, stacklevel=2)
        return None
    except sandbox.LoaderFailed as exc:
        warnings.warn(f"{file.source}: skipped, it could not be read ({exc})", RagWarning, stacklevel=2)
        return None
    except Exception as exc:  # no single file may end the run: whatever a format library raises
        warnings.warn(f"{file.source}: skipped, it could not be read ({type(exc).__name__}: {str(exc)[:200]})",
                      RagWarning, stacklevel=2)
        return None
    return Document(source=file.source, text=extracted.text, sha256=file.sha256, title=file.title,
                    page_starts=extracted.page_starts, marked_headings=extracted.marked_headings)


def load_documents(folder: str | Path, loaders: Sequence[Loader] = DEFAULT_LOADERS) -> Iterator[Document]:
    """Yield each readable document under `folder`; unreadable ones are skipped with a RagWarning."""
    for file in scan(folder, loaders):
        doc = read_document(file, loaders)
        if doc is not None:
            yield doc
