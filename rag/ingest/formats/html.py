"""HTML, parsed with Beautiful Soup: the main text only. Scripts, styles, navigation, headers,
footers, forms, asides, code blocks and permalink marks ("¶") are dropped; when the page marks its
content (<main>, role="main", <article>), only that is read. Each block element (paragraph, heading,
list item, cell, quote) is a paragraph. Headings keep their level ("## Options"), and a definition
list's term (<dt>: an API entry's name, a glossary word, a command-line option) is written as a
heading below them, so that the description under it is searched and cited under its term."""

from __future__ import annotations

from bs4 import BeautifulSoup, NavigableString, Tag

from ..cleaning import is_markdown_heading
from .base import Extracted, UnreadableFile
from .text import decode_prose

_DROP = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "button",
         "select", "svg", "iframe", "head")
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dt", "dd",
           "figcaption", "caption", "div", "section", "article", "main", "body", "table", "ul", "ol", "dl", "tr"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_PROSE_BESIDE_CODE = 20  # words outside <pre> for the page to be prose with code in it
_TERM_LEVEL = 6  # a <dt> is read as the deepest heading: the next term or any heading ends its scope
_PERMALINKS = {"¶", "#", "§", "🔗"}  # the mark a documentation site puts after a heading or term
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}


def _level(node: Tag) -> int:
    """A heading's level (1 to 6), the term level for a <dt>, 0 for any other block."""
    return int(node.name[1]) if node.name in _HEADINGS else _TERM_LEVEL if node.name == "dt" else 0


def _flush(node: Tag, buffer: list[str], out: list[str]) -> None:
    text = " ".join("".join(buffer).split())
    if text:
        level = _level(node)
        out.append(f"{'#' * level} {text}" if level else text)
    buffer.clear()


def _blocks(root: Tag, out: list[str]) -> None:
    """Depth-first: text directly inside a block element forms one paragraph; nested blocks their own.
    With a stack of its own rather than recursion, so that deeply nested markup reads like any other."""
    stack = [(root, iter(root.children), [])]
    while stack:
        node, children, buffer = stack[-1]
        child = next(children, None)
        if child is None:
            _flush(node, buffer, out)
            stack.pop()
        elif isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a comment, CDATA or doctype
                buffer.append(str(child))
        elif isinstance(child, Tag):
            if child.name == "br":
                buffer.append(" ")
            elif child.name in _BLOCKS:
                _flush(node, buffer, out)
                stack.append((child, iter(child.children), []))
            else:
                buffer.append(child.get_text(" ") if child.name not in ("sup", "sub") else child.get_text())


def _before_unclosed_comment(markup: str) -> str:
    """The markup up to a comment that is never closed (which runs to the end of the document, so holds no
    text): libxml2 slows to a crawl on an unclosed comment of over 10 MB. One pass, left to right."""
    at = 0
    while (start := markup.find("<!--", at)) >= 0:
        end = markup.find("-->", start + 4)
        if end < 0:
            return markup[:start]
        at = end + 3
    return markup


def _drop_code(root: Tag) -> None:
    """Code blocks (<pre>) are not quotable prose: dropped, unless the page is nothing but preformatted
    text (a plain-text document wrapped in <pre>), which is then read as text."""
    blocks = root.find_all("pre")
    inside = sum(len(block.get_text(" ").split()) for block in blocks)
    if blocks and len(root.get_text(" ").split()) - inside >= _PROSE_BESIDE_CODE:
        for block in blocks:
            block.decompose()


def html_blocks(markup: str) -> list[str]:
    soup = BeautifulSoup(_before_unclosed_comment(markup), "lxml")
    title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": True}):
        if not tag.decomposed and tag.get("role") in _CHROME_ROLES:
            tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}):
        if not tag.decomposed:
            tag.decompose()
    for tag in soup.find_all("a", href=True):
        if not tag.decomposed and tag["href"].startswith("#") and tag.get_text().strip() in _PERMALINKS:
            tag.decompose()
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.find("article") or soup.body or soup
    _drop_code(root)
    out: list[str] = []
    _blocks(root, out)
    if title and not any(block.startswith("# ") for block in out[:1]):
        out.insert(0, f"# {title}")
    return out


class HtmlLoader:
    extensions = (".html", ".htm", ".xhtml")

    def load(self, data: bytes, name: str) -> Extracted:
        blocks = html_blocks(decode_prose(data, name))
        if all(is_markdown_heading(b) for b in blocks):
            raise UnreadableFile("the page has no main text (only navigation, scripts or styles)")
        return Extracted("\n\n".join(blocks) + "\n", marked_headings=True)
