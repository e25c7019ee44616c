"""Plain text: decoded with its byte-order mark, else UTF-8, else Windows-1252 (mostly ASCII) or the encoding
charset-normalizer detects (Shift-JIS, GBK, Cyrillic code pages ...), with a warning naming it."""

from __future__ import annotations

import codecs
import warnings

from ...errors import RagWarning
from ..cleaning import ESCAPE_SEQUENCE
from .base import Extracted, UnreadableFile

_SAMPLE_BYTES = 64 * 1024  # what the encoding is judged on
_WESTERN_HIGH_SHARE = 0.2  # at most this share of non-ASCII bytes: a Western single-byte text
# Code pages of Latin scripts (charset-normalizer's names): read as Windows-1252.
_LATIN = ("ascii", "utf_8", "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin_1", "iso8859_", "mac_",
          "cp437", "cp850", "cp858")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes of a text file: a BOM's encoding, else UTF-8, else a legacy encoding with a warning."""
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
        pass
    sample = data[:_SAMPLE_BYTES]
    detected = None
    if sum(b >= 0x80 for b in sample) > _WESTERN_HIGH_SHARE * max(len(sample.strip()), 1):
        from charset_normalizer import from_bytes

        best = from_bytes(sample).best()
        detected = best.encoding if best is not None and not best.encoding.startswith(_LATIN) else None
    if detected is None:
        # Latin text: Windows-1252, which detectors often mistake for another Latin code page.
        text = data.decode("cp1252", errors="replace")
        warnings.warn(f"{name}: not valid UTF-8; decoded as Windows-1252/Latin-1", RagWarning, stacklevel=4)
        return text
    warnings.warn(f"{name}: not valid UTF-8; decoded as {detected} (detected; save it as UTF-8 if the text "
                  "looks wrong)", RagWarning, stacklevel=4)
    return data.decode(detected, errors="replace")


def decode_prose(data: bytes, name: str) -> str:
    """`decode_text`, refusing text that is only whitespace or mostly control characters (terminal escape
    sequences are not counted: cleaning removes them)."""
    text = decode_text(data, name)
    if not text.strip():
        raise UnreadableFile("it holds only whitespace")
    head = ESCAPE_SEQUENCE.sub("", text[:8192])
    controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > 0.05 * max(len(head), 1):
        raise UnreadableFile("it looks binary (many control characters)")
    return text


class TextLoader:
    """Plain text (inline Markdown or HTML left in it is cleaned later, with the rest of the text)."""

    extensions = (".txt", ".text")

    def load(self, data: bytes, name: str) -> Extracted:
        return Extracted(decode_prose(data, name))
