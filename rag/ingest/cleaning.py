"""Cleaning: make text read the way a reader sees it, and tell prose from page furniture.

`clean_inline` removes inline Markdown and HTML markup and collapses whitespace.
`classify` gives each paragraph of a document a role: "body" (prose, table rows and
key-value lines: what may be quoted as an answer), "heading" (titles, captions, letter fields: kept for
numbering and titles, never quoted) or "boilerplate" (repeated page headers,
salutations, signatures, web chrome: never quoted).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence

from .language import Language
from .language import language as find_language

# Every pattern below stops at its own delimiter (no ".*" across the paragraph), so that cleaning is
# linear in the text's length: "[" * 50,000 or "*a " * 10**6 cost no more than prose of that size.
_SCRIPT_OPEN = re.compile(r"<(script|style)\b[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_IMAGE = re.compile(r"!\[[^\[\]]*\]\([^()]*\)")
_LINK = re.compile(r"\[([^\[\]]+)\]\((?:[^()]|\([^()]*\))*\)")
_REF_LINK = re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^<>\s]+)>")
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*(?=\S)((?:[^*]|\*(?!\*))+?)(?<=\S)\*\*|__(?=\S)((?:[^_]|_(?!_))+?)(?<=\S)__")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_EM_UNDERSCORE = re.compile(r"(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)((?:[^~]|~(?!~))+?)(?<=\S)~~")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
# Terminal escape sequences (CSI "ESC [ ... m", OSC "ESC ] ... BEL", and two-character ones), then any
# other C0/C1 control character: text from a document must never drive the terminal it is printed on.
ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # half of a UTF-16 pair: no character, and not encodable
_SPACE = re.compile(r"\s+")

_TERMINAL = re.compile(r"[.!?…][\"'”’»)\]]*$")
_WORD = re.compile(r"\w+")
# Records: short lines that state a fact without being sentences. A table row as the loaders write it
# ("Meal allowance | 35 euros per day") and a key-value line ("Saturday: 10am to 2pm").
_TABLE_ROW = re.compile(r"\S \| \S")
_KEY_VALUE = re.compile(r"^[^\W\d][^:|]{0,40}:\s+\S")

BODY, HEADING, BOILERPLATE = "body", "heading", "boilerplate"
_PROSE_WORDS = 25  # a paragraph this long is prose even when it does not end like a sentence
_MARKED_TEXT_WORDS = 6  # as long, where the format marks its headings


def is_markdown_heading(line: str) -> bool:
    return bool(_HEADING.match(line))


def is_bullet(line: str) -> bool:
    return bool(_BULLET.match(line))


def ends_sentence(text: str) -> bool:
    return bool(_TERMINAL.search(text.rstrip()))


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def printable(text: str) -> str:
    """`text` without terminal escape sequences, control characters (tabs and newlines become spaces or
    stay) and zero-width characters, with lone surrogates (what a broken client or a non-UTF-8 argument
    leaves) as U+FFFD: what documents and questions are reduced to before anything else."""
    text = _SURROGATE.sub("\ufffd", ESCAPE_SEQUENCE.sub("", text))
    text = _CONTROL.sub(" ", text)
    return _INVISIBLE.sub("", text)


def _drop_scripts_and_comments(text: str) -> str:
    """`<!-- ... -->`, `<script>...</script>` and `<style>...</style>` replaced by a space; an unclosed one
    is left as text. Linear: once a closer is not found after some point, it is not looked for again."""
    lower = text.lower()
    out, i, pos = [], 0, 0
    unclosed: set[str] = set()  # closers (or openers) known to be absent from here on
    comment, script = -1, None  # the next openers at or after pos (each found once, then kept)
    while True:
        if comment < pos and "-->" not in unclosed:
            comment = text.find("<!--", pos)
            if comment < 0:
                unclosed.add("-->")  # no opener left is as good as no closer
        if "-->" in unclosed:
            comment = -1
        if "<script" not in unclosed and (script is None or script.start() < pos):
            script = _SCRIPT_OPEN.search(text, pos)
            while script is not None and f"</{script.group(1).lower()}" in unclosed:
                script = _SCRIPT_OPEN.search(text, script.end())
            if script is None:
                unclosed.add("<script")  # no script or style opener left
        if "<script" in unclosed:
            script = None
        if comment < 0 and script is None:
            break
        if script is None or 0 <= comment < script.start():
            start, closer, after = comment, "-->", comment + 4
        else:
            start, closer, after = script.start(), f"</{script.group(1).lower()}", script.end()
        close = lower.find(closer, after)
        end = (close + 3 if closer == "-->" else text.find(">", close) + 1) if close >= 0 else 0
        if end <= 0:
            unclosed.add(closer)
            pos = after
            continue
        out.append(text[i:start] + " ")
        i = pos = end
    out.append(text[i:])
    return "".join(out)


def clean_inline(text: str) -> str:
    """Markup-free text of one paragraph: `[40 per cent](#)` -> `40 per cent`, `2<sup>nd</sup>` -> `2nd`."""
    text = printable(text)
    lines = []
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            line = heading.group(1)
        line = _QUOTE.sub("", line)
        line = _BULLET.sub("", line)
        lines.append(line)
    text = " ".join(lines)
    text = _drop_scripts_and_comments(text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _CODE.sub(r"\1", text)
    text = _STRONG.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = _STRIKE.sub(r"\1", text)
    text = _EM_STAR.sub(r"\1", text)
    text = _EM_UNDERSCORE.sub(r"\1", text)
    text = printable(html.unescape(text))  # entities may spell control characters too
    return _SPACE.sub(" ", text).strip()


def has_words(text: str) -> bool:
    return bool(_WORD.search(text))


def classify(paragraphs: Sequence[str], headings: Sequence[bool] | None = None,
             language: str | Language = "en", *, marked: bool = False) -> list[str]:
    """The role of each cleaned paragraph of one document (see module docstring); `language` gives the
    page-furniture and letter patterns. `marked`: the format marks its headings (HTML, Markdown), so an
    unmarked paragraph of `_MARKED_TEXT_WORDS` words or more is text even when it does not end like a
    sentence ("git-stash - Stash the changes in a dirty working directory away")."""
    lang = find_language(language)
    headings = headings or [False] * len(paragraphs)
    counts = Counter(_SPACE.sub(" ", p.casefold()) for p in paragraphs)
    roles: list[str] = []
    records = _records(paragraphs)
    signing_off = False
    for text, markdown_heading in zip(paragraphs, headings):
        words = word_count(text)
        if signing_off and (words < 15 or lang.signature.search(text)):
            roles.append(BOILERPLATE)
            continue
        signing_off = False
        if counts[text.casefold()] > 1 and words <= 12 and not markdown_heading:
            roles.append(BOILERPLATE)  # a running page header or footer (a marked heading may repeat)
        elif words <= 25 and lang.chrome.search(text) or words <= 8 and lang.salutation.match(text):
            roles.append(BOILERPLATE)
        elif words <= 6 and lang.valediction.match(text):
            roles.append(BOILERPLATE)
            signing_off = True
        elif not markdown_heading and records[len(roles)]:
            roles.append(BODY)
        elif markdown_heading or words < 4 or (words < (_MARKED_TEXT_WORDS if marked else _PROSE_WORDS)
                                                and not ends_sentence(text)):
            roles.append(HEADING)
        else:
            roles.append(BODY)
    return roles


def is_table_row(text: str) -> bool:
    return bool(_TABLE_ROW.search(text)) and word_count(text) >= 2


def is_record(text: str) -> bool:
    """A table row or a key-value line (whether it is quotable depends on its neighbours: `classify`)."""
    return is_table_row(text) or (bool(_KEY_VALUE.match(text)) and word_count(text) >= 2)


def _records(paragraphs: Sequence[str]) -> list[bool]:
    """Which paragraphs are quotable records though short: table rows after the first of a run of rows
    (the first is the table's header), and key-value lines in a run of two or more, or whose value
    holds a number ("Date: 19 March 2021", "Saturday: 10am to 2pm")."""
    rows = [is_table_row(p) for p in paragraphs]
    pairs = [bool(_KEY_VALUE.match(p)) and word_count(p) >= 2 and not rows[i] for i, p in enumerate(paragraphs)]
    out = []
    for i, p in enumerate(paragraphs):
        previous, following = (i > 0 and pairs[i - 1]), (i + 1 < len(paragraphs) and pairs[i + 1])
        out.append((rows[i] and i > 0 and rows[i - 1])
                   or (pairs[i] and (previous or following or any(c.isdigit() for c in p.split(":", 1)[1]))))
    return out


def derive_title(paragraphs: Sequence[str], roles: Sequence[str], fallback: str) -> str:
    """A readable title: the first heading near the top, else the file name made readable."""
    for i, (text, role) in enumerate(list(zip(paragraphs, roles))[:3]):
        if role == HEADING and (2 <= word_count(text) <= 20 or i == 0 and len(text) >= 4 and word_count(text) == 1):
            return text.rstrip(" :;,-–—")
    stem = re.sub(r"[_\-]+", " ", fallback.rsplit("/", 1)[-1].rsplit(".", 1)[0]).strip()
    return stem or fallback
