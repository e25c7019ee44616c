"""The documents' language: one setting that chunking, BM25 and cleaning read.

A `Language` gives the sentence splitter's code (sentencex), the stemmer (PyStemmer's Snowball
stemmers), the stop words, and the page-furniture patterns that cleaning drops (share buttons, a
letter's salutation and sign-off). The index records its language's code in the manifest
(`chunking.language`); `rag index --language fr` builds one. The embedding model is a separate setting:
for documents not in English, choose a multilingual one (e.g. --model
sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .stopwords import ENGLISH, FRENCH, GERMAN


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, as in the manifest and for sentencex
    name: str
    stemmer: str  # PyStemmer's name for its Snowball stemmer
    stop_words: frozenset[str]
    chrome: re.Pattern  # website furniture: "share this", "subscribe"...
    salutation: re.Pattern  # a letter's opening line
    valediction: re.Pattern  # a letter's closing line
    signature: re.Pattern  # lines of a signature block
    # Words that only point at something named elsewhere: a short answer made of them alone ("I", "He")
    # names nothing, so none is marked.
    pronouns: frozenset[str] = frozenset()
    # Answer types (rag.answering.answer_type): a question that opens with `asks[kind]` ("When ...",
    # "How many ...") is answered only by a sentence in which `marks[kind]` finds that kind of thing (a
    # time, a number). A language without them answers every question by its evidence alone.
    asks: tuple[tuple[str, re.Pattern], ...] = ()
    marks: tuple[tuple[str, re.Pattern], ...] = ()
    # A follow-up asking for more than was said ("Who else ...?", "What other ...?"): the last quote is
    # not its answer.
    more: re.Pattern | None = None


def _words(pattern: str, *, start: bool = False) -> re.Pattern:
    return re.compile(("^" if start else r"\b") + f"({pattern})" + (r"\b[,.!]?" if start else r"\b"), re.IGNORECASE)


# Numbers and ordinals answer "how many" and "when" questions, negations flip answers: kept searchable.
_ENGLISH_KEEP = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                 "fifteen", "twenty", "forty", "fifty", "sixty", "hundred", "first", "third", "last", "not", "no",
                 "never", "against", "without"}
# Auxiliary verbs that questions are made of but the list lacks.
ENGLISH_AUXILIARIES = frozenset({"did", "does", "doing", "done", "has", "having", "can", "could", "would",
                                 "should", "shall", "will", "may", "might", "must", "s", "t"})

_ENGLISH_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
                   r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec")
_ENGLISH_NUMBERS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                    r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|quarter|third|twice|once|"
                    r"single|double|triple|several|percent|per cent|none|no one|nobody|both|many|few|all")
_OPENER = r"^\W*(?:(?:and|but|so|then)\W+)?"  # "And when ...?"
_ENGLISH_ASKED = r"(?:is|are|was|were|do|does|did|will|would|can|could|has|have|had|should|shall|might|may|must)\b"
ENGLISH_ASKS = (
    ("time", re.compile(_OPENER + rf"(?:when\s+{_ENGLISH_ASKED}|(?:in|by|since|until)\s+(?:what|which)\s+"
                        r"(?:year|month|decade|century)\b|(?:what|which)\s+(?:year|date|month|day|decade|century)\b)",
                        re.IGNORECASE)),
    ("number", re.compile(_OPENER + r"(?:how\s+(?:many|old)\b|(?:what|which)\s+(?:number|percentage|proportion|"
                          r"fraction)\b)", re.IGNORECASE)),
    ("duration", re.compile(_OPENER + r"how\s+long\s+(?:ago\s+)?" + _ENGLISH_ASKED, re.IGNORECASE)),
)
_ENGLISH_TIME = re.compile(rf"\d|\b(?:{_ENGLISH_MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                           r"today|yesterday|tomorrow|tonight|now|then|currently|recently|formerly|once|later|earlier|"
                           r"soon|ago|since|until|till|during|before|after|when|while|whilst|"
                           r"centur(?:y|ies)|decades?|years?|months?|weeks?|days?|hours?|minutes?|seconds?|"
                           r"millenni(?:um|a)|spring|summer|autumn|fall|winter|morning|afternoon|evening|night|noon|"
                           r"midnight|annual(?:ly)?|daily|weekly|monthly|era|age|period|reign|dynasty|beginning|start|"
                           r"end|following)\b", re.IGNORECASE)
_ENGLISH_NUMBER = re.compile(rf"\d|[%£$€¥]|\b(?:{_ENGLISH_NUMBERS}|a\s+(?:lot|number|majority|minority))\b",
                             re.IGNORECASE)
ENGLISH_MARKS = (
    ("time", _ENGLISH_TIME),
    ("number", _ENGLISH_NUMBER),
    ("duration", re.compile(f"{_ENGLISH_TIME.pattern}|{_ENGLISH_NUMBER.pattern}", re.IGNORECASE)),
)

LANGUAGES = {
    "en": Language(
        "en", "English", "english", frozenset((ENGLISH | ENGLISH_AUXILIARIES) - _ENGLISH_KEEP),
        _words(r"share this|subscribe|newsletter|sign up|follow us|cookies?|all rights reserved|privacy policy|"
               r"terms of (use|service)|click here|read more|site search|recent posts|social media|"
               r"enter your email|skip to (main )?content|back to top|related (posts|articles)"),
        re.compile(r"^(dear|to whom it may concern)\b", re.IGNORECASE),
        _words(r"yours (sincerely|faithfully|truly|ever)|kind regards|best regards|warm regards|best wishes|"
               r"with best wishes|regards|sincerely", start=True),
        re.compile(r"\bsignature\b|\bsigned\b", re.IGNORECASE),
        frozenset({"i", "me", "we", "us", "you", "he", "him", "she", "her", "it", "they", "them", "this", "that",
                   "these", "those", "myself", "ourselves", "yourself", "himself", "herself", "itself",
                   "themselves"}),
        ENGLISH_ASKS, ENGLISH_MARKS,
        re.compile(r"\b(?:else|other|others|another|also|too|besides|as well)\b", re.IGNORECASE)),
    "fr": Language(
        "fr", "French", "french", FRENCH - {"pas", "ne", "ni", "sans"},
        _words(r"partager|s'abonner|abonnez-vous|newsletter|lettre d'information|suivez-nous|cookies?|"
               r"tous droits réservés|politique de confidentialité|mentions légales|cliquez ici|lire la suite|"
               r"retour en haut|articles similaires"),
        re.compile(r"^(madame|monsieur|cher|chère|chers|mesdames)\b", re.IGNORECASE),
        _words(r"cordialement|bien cordialement|bien à vous|salutations distinguées|"
               r"veuillez agréer|je vous prie d'agréer|amicalement", start=True),
        re.compile(r"\bsignature\b|\bsigné\b", re.IGNORECASE),
        frozenset({"je", "j", "moi", "nous", "tu", "toi", "vous", "il", "lui", "elle", "ils", "elles", "eux", "on",
                   "ce", "cela", "ceci", "ça", "celui", "celle", "ceux", "celles"})),
    "de": Language(
        "de", "German", "german", GERMAN - {"nicht", "kein", "keine", "ohne", "gegen"},
        _words(r"teilen|abonnieren|newsletter|folgen sie uns|cookies?|alle rechte vorbehalten|datenschutz|"
               r"datenschutzerklärung|impressum|hier klicken|weiterlesen|nach oben|ähnliche artikel"),
        re.compile(r"^(sehr geehrte[rn]?|liebe[rn]?|hallo)\b", re.IGNORECASE),
        _words(r"mit freundlichen grüßen|mit freundlichem gruß|freundliche grüße|viele grüße|beste grüße|"
               r"herzliche grüße|hochachtungsvoll", start=True),
        re.compile(r"\bunterschrift\b|\bgezeichnet\b", re.IGNORECASE),
        frozenset({"ich", "mich", "mir", "wir", "uns", "du", "dich", "dir", "ihr", "euch", "sie", "ihnen", "er",
                   "ihn", "ihm", "es", "man", "dies", "das", "dieser", "diese", "dieses"})),
}
_NAMES = {"english": "en", "french": "fr", "german": "de", "français": "fr", "deutsch": "de"}


def language(code: str | Language = "en") -> Language:
    """The Language for a code ("en", "fr", "de"; also their English names); ValueError lists them."""
    if isinstance(code, Language):
        return code
    key = _NAMES.get(str(code).strip().lower(), str(code).strip().lower())
    if key not in LANGUAGES:
        raise ValueError(f"unsupported language {code!r}: rag reads {', '.join(LANGUAGES)} "
                         f"({', '.join(lang.name for lang in LANGUAGES.values())})")
    return LANGUAGES[key]
