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


def _words(pattern: str, *, start: bool = False) -> re.Pattern:
    return re.compile(("^" if start else r"\b") + f"({pattern})" + (r"\b[,.!]?" if start else r"\b"), re.IGNORECASE)


# Numbers and ordinals answer "how many" and "when" questions, negations flip answers: kept searchable.
_ENGLISH_KEEP = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                 "fifteen", "twenty", "forty", "fifty", "sixty", "hundred", "first", "third", "last", "not", "no",
                 "never", "against", "without"}
# Auxiliary verbs that questions are made of but the list lacks.
ENGLISH_AUXILIARIES = frozenset({"did", "does", "doing", "done", "has", "having", "can", "could", "would",
                                 "should", "shall", "will", "may", "might", "must", "s", "t"})

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
                   "themselves"})),
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
