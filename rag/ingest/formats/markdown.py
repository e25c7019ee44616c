"""Markdown, parsed with markdown-it-py (CommonMark): headings, paragraphs, list items, quotes and
table cells become paragraphs of plain text; code blocks, HTML blocks and images are left out, and so
is the marker of a GitHub alert ("> [!NOTE]"), which GitHub shows as a label, not as text. YAML front
matter (a Jekyll, Hugo or Hugging Face header between "---" lines) is not text either: only its `title`
is kept, as the first heading."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .base import Extracted
from .text import decode_prose

_PARSER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>(?:.*\r?\n)*?)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)")
_YAML_LINE = re.compile(r"^(?:[\w-]+[ \t]*:|[ \t]|-[ \t]|#|$)")  # key:, indented, list item, comment, blank
_YAML_TITLE = re.compile(r"^title[ \t]*:[ \t]*(?P<title>.+?)[ \t]*$", re.MULTILINE)
_ALERT = re.compile(r"^\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*", re.IGNORECASE)


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" " if child.type == "softbreak" else "\n")
        elif child.type == "html_inline" and child.content.lower().startswith("<br"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _front_matter(source: str) -> tuple[str | None, str]:
    """(the front matter's title or None, the text after it); (None, source) without front matter."""
    found = _FRONT_MATTER.match(source)
    if not found or not all(_YAML_LINE.match(line) for line in found.group("yaml").splitlines()):
        return None, source  # "---" first and last around prose: thematic breaks, not a header
    title = _YAML_TITLE.search(found.group("yaml"))
    return (title.group("title").strip("'\"").strip() or None) if title else None, source[found.end():]


def markdown_blocks(source: str) -> list[str]:
    """The document's text blocks in reading order, headings marked with their level ('## Options')."""
    title, source = _front_matter(source)
    blocks: list[str] = [f"# {title}"] if title else []
    tokens = _PARSER.parse(source)
    heading = 0  # the level of the heading being read, 0 outside one
    quote_opened = False  # the next paragraph is a quote's first, where GitHub's alert marker goes
    row: list[str] | None = None
    for token in tokens:
        if token.type == "blockquote_open":
            quote_opened = True
        elif token.type == "heading_open":
            heading = int(token.tag[1])
        elif token.type == "heading_close":
            heading = 0
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            if any(row):
                blocks.append(" | ".join(cell for cell in row if cell))
            row = None
        elif token.type == "inline":
            text = _inline_text(token)
            if quote_opened:
                text, quote_opened = _ALERT.sub("", text, count=1), False
            if row is not None:
                row.append(text)
            elif text:
                blocks.append(f"{'#' * heading} {text}" if heading else text)
    return blocks


class MarkdownLoader:
    extensions = (".md", ".markdown")

    def load(self, data: bytes, name: str) -> Extracted:
        return Extracted("\n\n".join(markdown_blocks(decode_prose(data, name))) + "\n", marked_headings=True)
