"""File formats: one small loader per format, all behind `rag.documents.Loader`.

Every loader turns a file's bytes into `Extracted` text in one shape: paragraphs separated by
blank lines, headings written as Markdown headings ("# Title"), and for paged formats the offset
where each page starts. The chunker then treats every format alike.
"""

from __future__ import annotations

from .docx import DocxLoader
from .html import HtmlLoader
from .markdown import MarkdownLoader
from .pdf import PdfLoader
from .text import TextLoader

DEFAULT_LOADERS = (TextLoader(), MarkdownLoader(), HtmlLoader(), PdfLoader(), DocxLoader())

__all__ = ["DEFAULT_LOADERS", "DocxLoader", "HtmlLoader", "MarkdownLoader", "PdfLoader", "TextLoader"]
