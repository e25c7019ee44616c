"""PDF, read with pypdf in layout mode (vertical gaps become blank lines, so paragraphs survive).

Running headers and footers (lines repeated at the top or bottom of most pages, page numbers
included) are removed, words hyphenated across line ends are joined, and the offset where each
page starts is kept so that citations can name the page.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

from .base import Extracted, UnreadableFile

_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(r"^\W*(page\s*)?\d+(\s*(of|/)\s*\d+)?\W*$", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be running headers or footers
WRAPPED_SHARE = 0.75  # a line at least this share of the page's longest line was wrapped at the margin


def _edge_key(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()).casefold())


def _strip_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop lines that repeat (digits aside) at the top or bottom of at least half the pages."""
    def edges(lines: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        return filled[:EDGE_LINES] + filled[-EDGE_LINES:]

    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_edge_key(lines[i]) for i in edges(lines)})
    repeated = {key for key, n in counts.items() if len(pages) >= 2 and n >= max(2, len(pages) / 2)}
    cleaned = []
    for lines in pages:
        drop = {i for i in edges(lines) if _edge_key(lines[i]) in repeated or _PAGE_NUMBER.match(lines[i].strip())}
        cleaned.append([line for i, line in enumerate(lines) if i not in drop])
    return cleaned


def _join_wrapped(lines: list[str], width: int) -> list[str]:
    """Undo the line wrapping of one block: a line that reaches towards the right margin was wrapped
    and continues on the next line; a short line ends its paragraph (or is a line of an address)."""
    out: list[str] = []
    carry = False
    for line in lines:
        if carry and out:
            if out[-1].endswith("-") and len(out[-1]) > 1 and out[-1][-2].isalpha() and line[:1].islower():
                out[-1] = out[-1][:-1] + line  # a word hyphenated across the line end
            else:
                out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
        carry = len(line) >= WRAPPED_SHARE * width
    return out


def _page_text(lines: list[str]) -> str:
    """One page's text: blocks separated by blank lines, wrapped lines joined."""
    lines = [_SPACES.sub(" ", line).strip() for line in lines]
    width = max((len(line) for line in lines), default=0)
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return "\n\n".join("\n".join(_join_wrapped(block, width)) for block in blocks if block)


class PdfLoader:
    extensions = (".pdf",)

    def load(self, data: bytes, name: str) -> Extracted:
        if not data.strip():
            raise UnreadableFile("it is empty")
        logging.getLogger("pypdf").setLevel(logging.ERROR)  # it logs every recoverable oddity
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise UnreadableFile("the PDF is encrypted with a password: save an unencrypted copy to index it")
            pages = [page.extract_text(extraction_mode="layout").splitlines() for page in reader.pages]
        except UnreadableFile:
            raise
        except FileNotDecryptedError as exc:
            raise UnreadableFile("the PDF is encrypted with a password: save an unencrypted copy to index it") from exc
        except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                RecursionError, NotImplementedError, OSError) as exc:
            raise UnreadableFile(f"it is not a readable PDF (truncated or damaged: {exc})") from exc
        texts = [_page_text(lines) for lines in _strip_running_lines(pages)]
        if not any(t.strip() for t in texts):
            raise UnreadableFile(f"its {len(pages)} page(s) have no text layer (a scanned PDF?): "
                                 "run OCR on it first")
        starts, parts, offset = [], [], 0
        for text in texts:
            starts.append(offset)
            parts.append(text)
            offset += len(text) + 2
        return Extracted("\n\n".join(parts) + "\n", tuple(starts))
