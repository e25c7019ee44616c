"""HTML, parsed with Beautiful Soup: the main text only. Scripts, styles, navigation, headers,
footers, forms and asides are dropped; when the page marks its content with <main> or <article>,
only that is read. Each block element (paragraph, heading, list item, cell, quote) is a paragraph."""

from __future__ import annotations

from bs4 import BeautifulSoup, NavigableString, Tag

from .base import Extracted, UnreadableFile
from .text import decode_prose

_DROP = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "button",
         "select", "svg", "iframe", "head")
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dt", "dd",
           "figcaption", "caption", "div", "section", "article", "main", "body", "table", "ul", "ol", "dl", "tr"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}


def _flush(node: Tag, buffer: list[str], out: list[str]) -> None:
    text = " ".join("".join(buffer).split())
    if text:
        out.append(f"# {text}" if node.name in _HEADINGS else text)
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
    root = soup.find("main") or soup.find("article") or soup.body or soup
    out: list[str] = []
    _blocks(root, out)
    if title and not any(block.startswith("# ") for block in out[:1]):
        out.insert(0, f"# {title}")
    return out


class HtmlLoader:
    extensions = (".html", ".htm", ".xhtml")

    def load(self, data: bytes, name: str) -> Extracted:
        blocks = html_blocks(decode_prose(data, name))
        if not any(not b.startswith("# ") for b in blocks):
            raise UnreadableFile("the page has no main text (only navigation, scripts or styles)")
        return Extracted("\n\n".join(blocks) + "\n")
