"""Rendering an Answer as safe HTML for the chat page.

Everything that comes from a question or a document is escaped; the only live markup is ours.
The HTML is one block without blank lines, so the chat's Markdown renderer passes it through as
HTML instead of reading document text as Markdown.
"""

from __future__ import annotations

from html import escape

from .answer import Alternative, Answer, Citation


def _source_line(c: Citation) -> str:
    return (f'<div class="rag-source"><b>{escape(c.title)}</b> · <code>{escape(c.source)}</code>, '
            f"{c.location}</div>")


def _quote(quote: str, span: tuple[int, int] | None) -> str:
    """The quote, escaped, with the short answer inside it in bold."""
    if not span:
        return escape(quote)
    start, end = span
    return f'{escape(quote[:start])}<strong class="rag-short">{escape(quote[start:end])}</strong>{escape(quote[end:])}'


def highlighted(c: Citation, span: tuple[int, int] | None = None) -> str:
    """The cited paragraph with the quoted span marked (and the short answer in it in bold)."""
    text = c.context
    return (f'<blockquote class="rag-context">{escape(text[:c.start])}'
            f"<mark>{_quote(text[c.start:c.end], span)}</mark>{escape(text[c.end:])}</blockquote>")


def _alternatives(alternatives: list[Alternative], confidence: float | None) -> str:
    rows = "".join(
        f"<li>“{escape(a.answer)}” <small>({a.confidence:.2f}; {escape(a.citations[0].title)}, "
        f"{a.citations[0].location})</small></li>" for a in alternatives)
    head = f"Confidence {confidence:.2f} · " if confidence is not None else ""
    return (f"<details><summary>{head}{len(alternatives)} other candidate answer(s)</summary>"
            f"<ol>{rows}</ol></details>") if alternatives else ""


def render_answer(answer: Answer, *, sources: int = 3) -> str:
    """HTML for one answer: quote, source, highlighted paragraph, other sources, alternatives."""
    searched = (f'<p class="rag-searched">Searched: {escape(answer.searched)}</p>' if answer.searched else "")
    if not answer.answered:
        return f'<div class="rag-answer rag-declined">{searched}{_declined(answer, sources)}</div>'
    first, others = answer.citations[0], answer.citations[1:sources]
    parts = [f'<div class="rag-answer">{searched}'
             f'<p class="rag-quote">“{_quote(answer.answer, answer.answer_span)}”</p>',
             _source_line(first), highlighted(first, answer.answer_span)]
    if others:
        parts.append("<details><summary>Other sources</summary>" + "".join(
            _source_line(c) + highlighted(c) for c in others) + "</details>")
    parts.append(_alternatives(answer.alternatives, answer.confidence))
    parts.append("</div>")
    return "".join(parts)


def _declined(answer: Answer, sources: int) -> str:
    """A decline that helps: the nearest passages as passages (nothing highlighted: none answers), each
    once, and what to try next."""
    seen, nearest = set(), []
    for a in answer.alternatives:
        c = a.citations[0]
        if (c.source, c.paragraph) not in seen and len(nearest) < sources:
            seen.add((c.source, c.paragraph))
            nearest.append(f"<li><b>{escape(c.title)}</b>, {c.location} <small><code>{escape(c.source)}</code>"
                           f'</small><blockquote class="rag-nearest">{escape(c.context)}</blockquote></li>')
    hint = ("<p>Try other words for the key terms, or name the document you mean"
            + (f" (nearest: “{escape(answer.alternatives[0].citations[0].title)}”)" if answer.alternatives else "")
            + ".</p>")
    near = f"<p>The nearest passages, none of which answers it:</p><ul>{''.join(nearest)}</ul>" if nearest else ""
    return f"<p><b>The documents don't say.</b></p>{hint}{near}"


def render_problem(message: str) -> str:
    return f'<div class="rag-answer rag-problem"><p>{escape(message)}</p></div>'
