"""Chunking: a document's text -> numbered paragraphs -> passages with sentences and offsets.

Offsets: `Passage.start/end` locate the paragraph in the source file's decoded text, so a
reader can find it; sentence spans are offsets into `Passage.text`, the cleaned paragraph
that citations quote, so `text[start:end]` is always the verbatim answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sentencex import segment

from . import cleaning
from .documents import Document

Span = tuple[int, int]

_LINE_END = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_JOINERS = (",", ";", "–", "—", "-", "(")
_CHAIN_JOINER = " › "
_HEADING_CHARS = 80  # of one heading in a passage's context (an API signature can run much longer)
_CONTEXT_CHARS = 160  # of a passage's heading chain


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut. Stored in the index manifest: changing it makes an index stale."""

    max_tokens: int = 254  # the model's input limit minus its two special tokens
    language: str = "en"  # for sentence segmentation
    window_overlap: int = 1  # sentences shared by consecutive windows of a long paragraph
    version: int = 6  # bump when the cleaning or splitting rules change (6: heading chains, definition terms)


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, counting every paragraph of the document
    start: int
    end: int
    text: str
    role: str
    level: int = 0  # a marked heading's level (1-6), 0 otherwise


@dataclass(frozen=True)
class Passage:
    """One quotable paragraph: the unit that is retrieved and cited."""

    id: int
    source: str
    title: str
    paragraph: int
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]
    page: int | None = None  # 1-based page where the paragraph starts (paged formats only)
    # The label it is read under: for a record (a table row, a key-value line) its table's header row or
    # the heading above it; for other text the chain of headings above it. Searched and read with the
    # passage and shown in its citation, never quoted.
    context: str = ""

    def sentence_text(self, i: int) -> str:
        s, e = self.sentences[i]
        return self.text[s:e]

    def labelled(self, text: str) -> str:
        """`text` (the passage or a part of it) as it is embedded and searched: under its label, if any."""
        return f"{self.context}: {text}" if self.context else text


def _lines(raw: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, line ending excluded."""
    spans, offset = [], 0
    for line in raw.splitlines(keepends=True):
        spans.append((offset, offset + len(line.rstrip(_LINE_END))))
        offset += len(line)
    return spans


def _blocks(raw: str) -> list[list[tuple[int, int]]]:
    blocks: list[list[tuple[int, int]]] = [[]]
    for s, e in _lines(raw):
        if raw[s:e].strip():
            blocks[-1].append((s, e))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _hard_wrapped(raw: str, lines: list[tuple[int, int]]) -> bool:
    """A block typed with line breaks inside its paragraphs (fixed-width wrapping)."""
    lengths = [e - s for s, e in lines]
    if len(lines) < 2 or max(lengths) > 100 or any(n < 40 for n in lengths[:-1]):
        return False
    open_ends = sum(not cleaning.ends_sentence(raw[s:e]) for s, e in lines[:-1])
    return open_ends * 2 >= len(lines) - 1  # most lines stop mid-sentence


def _starts_lower(text: str) -> bool:
    text = text.lstrip(" \t\"'“‘(")
    return bool(text) and text[0].islower()


def _continues(previous: str, line: str) -> bool:
    """Does `line` carry on the sentence left open at the end of `previous`?"""
    previous = previous.rstrip()
    if cleaning.is_markdown_heading(previous) or cleaning.is_bullet(line) or cleaning.is_markdown_heading(line):
        return False
    if cleaning.ends_sentence(previous) or previous.endswith(":"):
        return False
    return _starts_lower(line) or previous.endswith(_JOINERS)


def split_paragraphs(raw: str, language: str = "en", *, marked_headings: bool = False) -> list[Paragraph]:
    """Paragraphs on blank lines, and on single newlines where a file writes one paragraph a line.
    `marked_headings`: the format marks its headings, so a short unmarked block is text (see `classify`)."""
    units: list[list[int]] = []  # [start, end] raw spans
    for block in _blocks(raw):
        wrapped = _hard_wrapped(raw, block)
        for i, (s, e) in enumerate(block):
            line = raw[s:e]
            if i == 0:  # across a blank line only a sentence cut in two (a page break) is joined
                previous = raw[units[-1][0]:units[-1][1]] if units else ""
                joined = cleaning.word_count(previous) >= 8 and _continues(previous, line) and _starts_lower(line)
            else:
                joined = (wrapped and not cleaning.is_bullet(line)) or _continues(raw[units[-1][0]:units[-1][1]], line)
            if joined:
                units[-1][1] = e
            else:
                units.append([s, e])
    cleaned, spans, levels = [], [], []
    for s, e in units:
        text = cleaning.clean_inline(raw[s:e])
        if cleaning.has_words(text):
            cleaned.append(text)
            spans.append((s, e))
            levels.append(_heading_level(raw[s:e]))
    roles = cleaning.classify(cleaned, [level > 0 for level in levels], language, marked=marked_headings)
    return [Paragraph(n, s, e, text, role, level if role == cleaning.HEADING else 0)
            for n, ((s, e), text, role, level) in enumerate(zip(spans, cleaned, roles, levels), start=1)]


def split_sentences(text: str, language: str = "en") -> tuple[Span, ...]:
    """Sentence spans of a cleaned paragraph, stripped of surrounding whitespace."""
    spans, pos = [], 0
    for piece in segment(language, text):
        found = text.find(piece, pos) if text.startswith(piece, pos) is False else pos
        if found < 0:
            continue
        start, end = found, found + len(piece)
        pos = end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return tuple(spans) or ((0, len(text)),)


def windows(text: str, sentences: Sequence[Span], sentence_tokens: Sequence[int],
            settings: ChunkSettings) -> list[Span]:
    """Spans of `text` that each fit the model, covering all of it (long paragraphs are windowed,
    never truncated). Consecutive windows share `window_overlap` sentences."""
    limit = settings.max_tokens
    pieces: list[tuple[Span, int]] = []
    for (s, e), n in zip(sentences, sentence_tokens):
        if n <= limit:
            pieces.append(((s, e), n))
            continue
        # One sentence over the limit: cut it into word runs of about `limit` tokens each.
        words = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", text[s:e])]
        per_run = max(1, len(words) * limit // n)
        for i in range(0, len(words), per_run):
            run = words[i:i + per_run]
            pieces.append(((run[0][0], run[-1][1]), min(limit, n * len(run) // len(words) + 1)))
    spans: list[Span] = []
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and (j == i or total + pieces[j][1] <= limit):
            total += pieces[j][1]
            j += 1
        spans.append((pieces[i][0][0], pieces[j - 1][0][1]))
        if j >= len(pieces):
            break
        i = max(i + 1, j - settings.window_overlap)
    return spans


TokenCounter = Callable[[Sequence[str]], list[int]]


def _heading_level(raw: str) -> int:
    """The level of a Markdown-marked heading line ("## Options" -> 2), 0 for any other line."""
    return len(raw.lstrip()) - len(raw.lstrip().lstrip("#")) if cleaning.is_markdown_heading(raw) else 0


def _chain(headings: Sequence[str]) -> str:
    """The headings above a passage, outermost first, each cut to `_HEADING_CHARS` and the outermost
    left out past `_CONTEXT_CHARS` (the nearest heading says most about the passage)."""
    parts = [h if len(h) <= _HEADING_CHARS else h[:_HEADING_CHARS].rsplit(" ", 1)[0] + "…" for h in headings]
    while len(parts) > 1 and len(_CHAIN_JOINER.join(parts)) > _CONTEXT_CHARS:
        parts.pop(0)
    return _CHAIN_JOINER.join(parts)


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _labels(paragraphs: Sequence[Paragraph], title: str = "") -> dict[int, str]:
    """paragraph number -> label (see `Passage.context`). A record's (see `cleaning.is_record`) is the
    header row of its table for a table row, else the heading above it; any other body paragraph's is
    the chain of marked headings above it (a Markdown heading, an HTML h1-h6 or definition term, a Word
    heading style), outermost first, less those the document's title already says: "Functions ›
    heapq.heappop(heap)" in "heapq — Heap queue algorithm"."""
    said = f" {_words(title)} "
    labels, heading, header = {}, "", ""
    chain: list[tuple[int, str]] = []  # (level, text) of the marked headings in scope
    for p in paragraphs:
        if p.role == cleaning.HEADING:
            if cleaning.is_table_row(p.text):
                header = p.text
            else:
                heading, header = p.text, ""
                if p.level:
                    chain = [(level, text) for level, text in chain if level < p.level]
                    if f" {_words(p.text)} " not in said:
                        chain.append((p.level, p.text))
        elif p.role == cleaning.BODY and cleaning.is_record(p.text):
            labels[p.number] = header if (header and cleaning.is_table_row(p.text)) else heading
        else:
            header = ""
            if p.role == cleaning.BODY and chain:
                labels[p.number] = _chain([text for _, text in chain])
    return {number: label for number, label in labels.items() if label}


def chunk_document(doc: Document, count_tokens: TokenCounter, settings: ChunkSettings,
                   first_id: int = 0) -> tuple[str, list[Passage], list[list[Span]]]:
    """(title, passages, windows per passage) for one document. Only body paragraphs become passages."""
    paragraphs = split_paragraphs(doc.text, settings.language, marked_headings=doc.marked_headings)
    title = doc.title or cleaning.derive_title([p.text for p in paragraphs], [p.role for p in paragraphs],
                                               doc.source)
    body = [p for p in paragraphs if p.role == cleaning.BODY]
    labels = _labels(paragraphs, title)
    passages: list[Passage] = []
    spans: list[list[Span]] = []
    lengths = count_tokens([p.text for p in body]) if body else []
    for i, (p, n_tokens) in enumerate(zip(body, lengths)):
        sentences = split_sentences(p.text, settings.language)
        passages.append(Passage(first_id + i, doc.source, title, p.number, p.start, p.end, p.text, sentences,
                                doc.page_at(p.start), labels.get(p.number, "")))
        if n_tokens <= settings.max_tokens:
            spans.append([(0, len(p.text))])
        else:
            tokens = count_tokens([p.text[s:e] for s, e in sentences])
            spans.append(windows(p.text, sentences, tokens, settings))
    return title, passages, spans
