"""What kind of thing a question asks for, and whether a sentence holds one.

"When ..." asks for a time and "How many ..." for a number (the patterns are the language's:
`Language.asks` and `Language.marks`, rag.ingest.language). A sentence without a time expression
does not answer "when", whatever its words share with the question: `typed` keeps the candidates
that hold the kind asked for, and a question none of them answers is declined. Questions of other
kinds ("what", "who", "why") are left to the evidence.
"""

from __future__ import annotations

from ..ingest.language import Language


def expected(question: str, lang: Language) -> str | None:
    """The kind of answer `question` asks for ("time", "number"), or None when it names none."""
    for kind, pattern in lang.asks:
        if pattern.search(question):
            return kind
    return None


def holds(sentence: str, kind: str | None, lang: Language) -> bool:
    """Does `sentence` hold a thing of `kind`? (Always, for None or a kind the language has no mark for.)"""
    if kind is None:
        return True
    mark = dict(lang.marks).get(kind)
    return mark is None or mark.search(sentence) is not None


def asks_for_more(question: str, lang: Language) -> bool:
    """"Who else ...?", "What other ...?", "... too?": the last answer is not the answer again."""
    return lang.more is not None and lang.more.search(question) is not None
