"""Word documents (.docx), read with python-docx: paragraphs and tables in document order,
headings (Title and Heading n styles) marked as headings of their level."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from ...config import MAX_UNPACKED_BYTES
from .base import Extracted, UnreadableFile


def _heading_level(paragraph: Paragraph) -> int:
    """1 for Title, n for "Heading n" (at most 6), 0 for any other paragraph."""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return 1
    if style.startswith("Heading"):
        number = style.removeprefix("Heading").strip()
        return min(int(number), 6) if number.isdigit() and int(number) > 0 else 1
    return 0


def docx_blocks(document) -> list[str]:
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = " ".join(item.text.split())
            level = _heading_level(item)
            if text:
                blocks.append(f"{'#' * level} {text}" if level else text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(" ".join(c.text.split()) for c in row.cells))
                if any(cells):
                    blocks.append(" | ".join(c for c in cells if c))
    return blocks


class DocxLoader:
    extensions = (".docx",)

    def load(self, data: bytes, name: str) -> Extracted:
        if not data.strip():
            raise UnreadableFile("it is empty")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:  # a zip bomb is refused before it is unpacked
                unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise UnreadableFile(f"it unpacks to {unpacked / 2**20:,.0f} MB, over the limit of "
                                     f"{MAX_UNPACKED_BYTES / 2**20:.0f} MB for one document")
            document = docx.Document(io.BytesIO(data))
            blocks = docx_blocks(document)
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise UnreadableFile(f"it is not a readable Word document ({exc or type(exc).__name__})") from exc
        if not blocks:
            raise UnreadableFile("the Word document has no text")
        return Extracted("\n\n".join(blocks) + "\n")
