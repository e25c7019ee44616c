"""Documents: find files under a folder and turn each into decoded text.

Loaders are a small seam: each knows a set of extensions and turns a file's bytes
into text, raising `UnreadableFile` with a reason when it cannot. New formats
(PDF, DOCX, HTML) slot in as further loaders.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import CorpusError, RagWarning

METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class Document:
    """One source file, decoded. `source` is its path relative to the corpus folder."""

    source: str
    text: str
    sha256: str
    title: str | None = None  # from metadata.json; derived from the text when None


class UnreadableFile(Exception):
    """A loader could not turn a file into text; the message says why."""


class Loader(Protocol):
    extensions: tuple[str, ...]

    def load(self, data: bytes, name: str) -> str:
        """Return the file's text, or raise UnreadableFile with the reason."""


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes of a text file: a BOM's encoding, else UTF-8, else Latin-1 with a warning."""
    if not data.strip():
        raise UnreadableFile("it is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"it starts with a {encoding} byte-order mark but is not {encoding}") from exc
    if b"\x00" in data[:8192]:
        raise UnreadableFile("it looks binary (it contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        warnings.warn(f"{name}: not valid UTF-8; decoded as Windows-1252/Latin-1", RagWarning, stacklevel=3)
        return text


class TextLoader:
    """Plain text and Markdown (inline Markdown is cleaned later, with the rest of the text)."""

    extensions = (".txt", ".md", ".markdown", ".text")

    def load(self, data: bytes, name: str) -> str:
        text = decode_text(data, name)
        if not text.strip():
            raise UnreadableFile("it holds only whitespace")
        controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\t\n\r\f")
        if controls > 0.05 * min(len(text), 8192):
            raise UnreadableFile("it looks binary (many control characters)")
        return text


DEFAULT_LOADERS: tuple[Loader, ...] = (TextLoader(),)


def _loader_for(path: Path, loaders: Sequence[Loader]) -> Loader | None:
    suffix = path.suffix.lower()
    return next((loader for loader in loaders if suffix in loader.extensions), None)


def read_metadata(folder: Path) -> dict[str, dict]:
    """Optional `metadata.json` beside the documents: {"file.txt": {"title": "..."}}."""
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        warnings.warn(f"{path}: ignored, not valid JSON ({exc})", RagWarning, stacklevel=2)
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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return []
    return [q for q in examples if isinstance(q, str) and q.strip()] if isinstance(examples, list) else []


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
    """source -> content hash for every loadable file; cheap (no decoding), for staleness checks."""
    folder = Path(folder)
    metadata = read_metadata(folder)
    hashes: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RagWarning)
        for path in list_files(folder, loaders):
            source = path.relative_to(folder).as_posix()
            try:
                data = path.read_bytes()
            except OSError:
                continue
            hashes[source] = content_hash(data, metadata.get(source, {}).get("title"))
    return hashes


def load_documents(folder: str | Path, loaders: Sequence[Loader] = DEFAULT_LOADERS) -> Iterator[Document]:
    """Yield each readable document under `folder`; unreadable ones are skipped with a RagWarning."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"document folder {str(folder)!r} does not exist or is not a folder")
    metadata = read_metadata(folder)
    for path in list_files(folder, loaders):
        source = path.relative_to(folder).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:
            warnings.warn(f"{source}: skipped, cannot be read ({exc.strerror or exc})", RagWarning, stacklevel=2)
            continue
        try:
            text = _loader_for(path, loaders).load(data, source)
        except UnreadableFile as exc:
            warnings.warn(f"{source}: skipped, {exc}", RagWarning, stacklevel=2)
            continue
        title = metadata.get(source, {}).get("title")
        yield Document(source=source, text=text, sha256=content_hash(data, title),
                       title=title if isinstance(title, str) and title.strip() else None)
