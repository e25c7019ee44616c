"""Rendering an Answer as safe HTML for the chat page.

Everything that comes from a question or a document is escaped; the only live markup is ours.
The HTML is one block without blank lines, so the chat's Markdown renderer passes it through as
HTML instead of reading document text as Markdown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from urllib.parse import quote as url_quote

from ..answering.extraction import Alternative, Answer, Citation
from ..config import CONTEXT_WINDOW_CHARS
from ..ingest.chunking import Passage


def plain_citation(quote: str, c: Citation) -> str:
    """What Copy puts on the clipboard: “quote” — title, page, paragraph (file)."""
    return f"“{quote}” — {c.heading}, {c.location} ({c.source})"


def _open_link(c: Citation, label: str) -> str:
    """A link that opens the whole document at the quote (handled by the page's script; the chat's
    sanitizer keeps `href` and `title` but drops data attributes, so the target travels in the href)."""
    target = url_quote(json.dumps([c.source, c.paragraph, c.start, c.end], ensure_ascii=False), safe="")
    return f'<a href="#rag-open={target}" class="rag-open">{label}</a>'



def _source_line(c: Citation, number: int | None = None, quote: str | None = None) -> str:
    chip = f'<span class="rag-chip">{number}</span> ' if number else ""
    copy = (f' · <button class="rag-copy" title="{escape(plain_citation(quote, c))}">Copy</button>'
            if quote else "")
    section = f" › {escape(c.section)}" if c.section else ""
    return (f'<div class="rag-source">{chip}<b>{escape(c.title)}</b>{section}, {c.location} · '
            f'{_open_link(c, "open the document")}{copy} <small><code>{escape(c.source)}</code></small></div>')


def _quote(quote: str, span: tuple[int, int] | None) -> str:
    """The quote, escaped, with the short answer inside it in bold."""
    if not span:
        return escape(quote)
    start, end = span
    return f'{escape(quote[:start])}<strong class="rag-short">{escape(quote[start:end])}</strong>{escape(quote[end:])}'


def _window(text: str, start: int, end: int, size: int) -> tuple[int, int]:
    """Where to cut a long paragraph around text[start:end]: about `size` characters in all (the quote
    whole, however long), split evenly before and after it, at word boundaries."""
    if len(text) <= size:
        return 0, len(text)
    room = max(0, size - (end - start)) // 2
    left, right = max(0, start - room), min(len(text), end + room)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space >= 0 else right
    return left, right


def highlighted(c: Citation, span: tuple[int, int] | None = None) -> str:
    """The cited paragraph with the quoted span marked (and the short answer in it in bold); a paragraph
    longer than CONTEXT_WINDOW_CHARS as a window around the quote, with a link to the whole of it."""
    text = c.context
    left, right = _window(text, c.start, c.end, CONTEXT_WINDOW_CHARS)
    before = ("… " if left else "") + escape(text[left:c.start])
    after = escape(text[c.end:right]) + (" …" if right < len(text) else "")
    more = (f'<div class="rag-more">{_open_link(c, "show the whole paragraph")}</div>'
            if left or right < len(text) else "")
    return (f'<blockquote class="rag-context">{before}<mark>{_quote(text[c.start:c.end], span)}</mark>{after}'
            f"</blockquote>{more}")


def _windowed(c: Citation) -> str:
    """A nearest passage, nothing marked: the window of CONTEXT_WINDOW_CHARS around its best sentence."""
    left, right = _window(c.context, c.start, c.end, CONTEXT_WINDOW_CHARS)
    return ("… " if left else "") + escape(c.context[left:right]) + (" …" if right < len(c.context) else "")


def _whole_paragraph(c: Citation) -> bool:
    """Is the quote its paragraph (a one-sentence paragraph), so that showing the paragraph repeats it?"""
    return not c.context[:c.start].strip() and not c.context[c.end:].strip()


def _alternatives(alternatives: list[Alternative], confidence: float | None) -> str:
    rows = "".join(
        f"<li>“{escape(a.answer)}” <small>({a.confidence:.2f}; {escape(a.citations[0].title)}, "
        f"{a.citations[0].location})</small></li>" for a in alternatives)
    head = f"Confidence {confidence:.2f} · " if confidence is not None else ""
    return (f"<details><summary>{head}{len(alternatives)} other candidate answer(s)</summary>"
            f"<ol>{rows}</ol></details>") if alternatives else ""


def _scope_line(answer: Answer, scope: str | None) -> str:
    """What was searched: the documents (`scope`, e.g. "your 2 documents") and the question as read."""
    said = ([f"From {escape(scope)}"] if scope else []) + (
        [f"Searched: {escape(answer.searched)}"] if answer.searched else [])
    return f'<p class="rag-searched">{" · ".join(said)}</p>' if said else ""


def render_answer(answer: Answer, *, sources: int = 3, scope: str | None = None) -> str:
    """HTML for one answer: what was searched (`scope`: which documents), the quote, its source, the
    highlighted paragraph (left out when it is the quote itself), other sources, alternatives."""
    searched = _scope_line(answer, scope)
    if not answer.answered:
        return f'<div class="rag-answer rag-declined">{searched}{_declined(answer, sources)}</div>'
    first, others = answer.citations[0], answer.citations[1:sources]
    parts = [f'<div class="rag-answer">{searched}'
             f'<p class="rag-quote">“{_quote(answer.answer, answer.answer_span)}”</p>',
             _source_line(first, 1, answer.answer),
             "" if _whole_paragraph(first) else highlighted(first, answer.answer_span)]
    if others:
        parts.append("<details><summary>Other sources</summary>" + "".join(
            _source_line(c, i, c.context[c.start:c.end]) + highlighted(c) for i, c in enumerate(others, start=2))
            + "</details>")
    parts.append(_alternatives(answer.alternatives, answer.confidence))
    parts.append("</div>")
    return "".join(parts)


def _declined(answer: Answer, sources: int) -> str:
    """A decline that helps: the nearest passages as passages (nothing highlighted: none answers), each
    once, and what to try next."""
    nearest = [f"<li><b>{escape(c.title)}</b>, {c.location} · {_open_link(c, 'open the document')} "
               f'<small><code>{escape(c.source)}</code></small>'
               f'<blockquote class="rag-nearest">{_windowed(c)}</blockquote></li>'
               for c in answer.nearest()[:sources]]
    hint = ("<p>Try other words for the key terms, or name the document you mean"
            + (f" (nearest: “{escape(answer.alternatives[0].citations[0].title)}”)" if answer.alternatives else "")
            + ".</p>")
    lead = ("The nearest passage, which does not answer it:" if len(nearest) == 1
            else f"The {len(nearest)} nearest passages, none of which answers it:")
    near = f"<p>{lead}</p><ul>{''.join(nearest)}</ul>" if nearest else ""
    return f"<p><b>The documents don't say.</b></p>{hint}{near}"


def render_problem(message: str) -> str:
    return f'<div class="rag-answer rag-problem"><p>{escape(message)}</p></div>'


def render_document(title: str, source: str, passages: Sequence[Passage], *, paragraph: int | None = None,
                    start: int = 0, end: int = 0) -> str:
    """A whole document as the index holds it: its paragraphs numbered as citations number them, page
    marks for paged formats, and the quoted span (`start`:`end` of paragraph `paragraph`) highlighted
    (`id="rag-here"`, which the page scrolls to)."""
    parts = [f'<div class="rag-document"><h2>{escape(title)}</h2><p><small><code>{escape(source)}</code>'
             f"</small></p>"]
    page, section = None, ""
    for p in passages:
        if p.page is not None and p.page != page:
            page = p.page
            parts.append(f'<div class="rag-page">Page {page}</div>')
        if p.context and p.context != section:  # the headings (or table header) the next paragraphs sit under
            parts.append(f'<p class="rag-section">{escape(p.context)}</p>')
        section = p.context
        if p.paragraph == paragraph and 0 <= start < end <= len(p.text):
            body = (f'{escape(p.text[:start])}<mark id="rag-here">{escape(p.text[start:end])}</mark>'
                    f"{escape(p.text[end:])}")
        else:
            body = escape(p.text)
        parts.append(f'<p class="rag-paragraph"><span class="rag-pn">{p.paragraph}</span> {body}</p>')
    parts.append("</div>")
    return "".join(parts)
