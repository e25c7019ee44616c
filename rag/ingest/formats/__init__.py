"""File formats: one small loader per format, all behind `rag.ingest.documents.Loader`.

Every loader turns a file's bytes into `Extracted` text in one shape: paragraphs separated by
blank lines, headings written as Markdown headings ("# Title"), and for paged formats the offset
where each page starts. The chunker then treats every format alike.

The default loaders import their libraries (pypdf, python-docx, BeautifulSoup, markdown-it) on the
first file of their format: answering from an index never needs them.
"""

from __future__ import annotations

import importlib

from .base import Extracted


class LazyLoader:
    """A loader named by module and class, imported when it first loads a file."""

    def __init__(self, extensions: tuple[str, ...], module: str, name: str) -> None:
        self.extensions, self._module, self._name, self._loader = extensions, module, name, None

    def load(self, data: bytes, name: str) -> Extracted:
        if self._loader is None:
            self._loader = getattr(importlib.import_module(f".{self._module}", __name__), self._name)()
        return self._loader.load(data, name)

    def __repr__(self) -> str:
        return f"LazyLoader({self._module}.{self._name})"


DEFAULT_LOADERS = (
    LazyLoader((".txt", ".text"), "text", "TextLoader"),
    LazyLoader((".md", ".markdown"), "markdown", "MarkdownLoader"),
    LazyLoader((".html", ".htm", ".xhtml"), "html", "HtmlLoader"),
    LazyLoader((".pdf",), "pdf", "PdfLoader"),
    LazyLoader((".docx",), "docx", "DocxLoader"),
)

__all__ = ["DEFAULT_LOADERS", "LazyLoader"]
