"""What every loader returns, and how it says it cannot read a file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extracted:
    """A file's text: paragraphs separated by blank lines, headings as "# Heading"."""

    text: str
    page_starts: tuple[int, ...] = ()  # paged formats: offset in `text` where page 1, 2, ... begins
    # The format marks its headings (HTML, Markdown): a block that is not marked is not a heading.
    marked_headings: bool = False


class UnreadableFile(Exception):
    """A loader could not turn a file into text; the message says why, in words for the user."""
