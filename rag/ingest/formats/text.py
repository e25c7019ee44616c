"""Plain text: decoded with its byte-order mark, else UTF-8, else Windows-1252 with a warning."""

from __future__ import annotations

import codecs
import warnings

from ...errors import RagWarning
from .base import Extracted, UnreadableFile

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
        warnings.warn(f"{name}: not valid UTF-8; decoded as Windows-1252/Latin-1", RagWarning, stacklevel=4)
        return text


def decode_prose(data: bytes, name: str) -> str:
    """`decode_text`, refusing text that is only whitespace or mostly control characters."""
    text = decode_text(data, name)
    if not text.strip():
        raise UnreadableFile("it holds only whitespace")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > 0.05 * min(len(text), 8192):
        raise UnreadableFile("it looks binary (many control characters)")
    return text


class TextLoader:
    """Plain text (inline Markdown or HTML left in it is cleaned later, with the rest of the text)."""

    extensions = (".txt", ".text")

    def load(self, data: bytes, name: str) -> Extracted:
        return Extracted(decode_prose(data, name))
