"""Follow-up questions without a language model: a question that leans on the conversation ("And what
about Xinjiang?", "When did it launch?", "Who said that?", "Why?") is rewritten from the earlier turns
into a question that stands on its own; a question that already stands on its own is left as it is.

Four rewrites, tried in this order:
  * a new subject ("And what about Xinjiang?", "What about the Mayor?", "And Shanghai?"): the previous
    question with its subject (its rarest run of content words, a name first) swapped for the new one;
  * a back-reference (it, they, he, she, there, its, their, ...): the pronoun replaced by what it most
    likely points at in the last turn (see `referent`: "When did it launch?" -> "When did the Violence
    Reduction Unit launch?", or "the VRU" where the quote abbreviates it so); "this"/"that" closing a
    question with few words of its own point at the last answer, whose words are added (as HQE carries
    over a conversation's important terms);
  * too short to search ("Why?", "And when?", "How many?": no searchable word of its own): the new
    question word in front of the rest of the previous question;
  * "And ..." with few words of its own: the last question's words are added.
How rare a word is comes from the corpus (`weights`: word -> idf, the index's BM25 vocabulary), so
the rules need no list of names and work on any corpus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..ingest.stopwords import ENGLISH

_WORD = re.compile(r"[\w’'-]+", re.UNICODE)
_QUESTION_WORDS = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
_AUXILIARIES = {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could", "will",
                "would", "should", "shall", "may", "might", "must", "be", "been", "being"}
# Words that point back at something said before, and what replaces them (a possessive keeps its 's).
_BACK = {"it": "", "they": "", "them": "", "he": "", "him": "", "she": "", "her": "", "there": "",
         "its": "’s", "their": "’s", "his": "’s", "hers": "’s", "theirs": "’s"}
_BE = {"is", "are", "was", "were"}
_PERSONS = {"he", "him", "his", "she", "her", "hers"}
_PLURALS = {"they", "them", "their", "theirs"}
_DEMONSTRATIVES = {"this", "that", "these", "those"}
_OPENERS = re.compile(r"^(?:and|but|also|so|then|ok|okay|well)\b[\s,]*", re.IGNORECASE)
_NEW_SUBJECT = re.compile(r"^(?:(?:and|but)\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*\??$"
                          r"|^(?:and|but)\s+(?P<y>.+?)\s*\??$|^(?P<z>.+?),?\s+too\s*\??$", re.IGNORECASE)
_SUBJECT_WORDS = 6  # a new subject is a name or a short phrase, not a clause
_PREPOSITIONS = {"in", "on", "at", "for", "by", "during", "since", "after", "before", "from", "to", "with"}
# What an action makes, in a short answer to "What did ... do?": "lead a joint statement" -> "joint statement".
_ACTION_OBJECT = re.compile(rf"^\w+\s+(?:a|an|the)\s+((?:(?!(?:{'|'.join(sorted(_PREPOSITIONS | {'of'}))})\b)"
                            r"[\w’'-]+\s*){1,4})", re.IGNORECASE)
# "What did the Mayor say about COVID-19?": the answer is what was said; "it" after it is what it was about.
_SAID_ABOUT = re.compile(r"^what\s+(?:did|does|do|has|have|had|will|would)\s+.+?\s+(?:say|said|think|thought|write|"
                         r"wrote|written|tweet|tweeted|claim|claimed|feel|felt|believe|argue|argued)\s+"
                         r"(?:about|of|on)\s+(?P<about>[^?]+?)\s*\??$", re.IGNORECASE)
# A long phrase's head ends before its first preposition: "the extradition treaty| with Hong Kong".
_HEAD_END = re.compile(rf"\s+(?:{'|'.join(sorted(_PREPOSITIONS | {'of', 'against', 'about'}))})\s")
_QUOTES = " \"“”‘’'.,;:!"  # what a short answer may carry at its ends from the quote around it
_VAGUE_END = re.compile(rf"\s(?:{'|'.join(sorted(_PREPOSITIONS))})\s+\w+(?:\s+\w+)?\s*\??\s*$", re.IGNORECASE)
_SHORT_WORDS = 1  # a question with fewer searchable words of its own than this is too short to search
_TOPIC_WORDS = 2  # one with at most this many and no name leans on the conversation's topic ("Who is the king?")
_OWN_WORDS = 3  # a question with a back-reference and fewer searchable words than this leans on the last turn
_OPENER_WORDS = 2  # "And ..." with at most this many searchable words leans on the last turn
# Verbs that answer something said before ("How did China respond?"): with few words of their own,
# such questions lean on the last turn as "And ..." questions do.
_REACTIONS = re.compile(r"^(?:respon[ds]\w*|react\w*|repl(?:y|ies|ied)\w*|retaliat\w*|happen\w*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """An earlier turn of a conversation: what was asked, what was searched for it, what was quoted."""

    question: str
    searched: str = ""  # the standalone question it was rewritten to ("" if it stood on its own)
    answer: str = ""  # the quote given ("" if declined)
    short: str = ""  # the short answer inside it, if the reader marked one

    @property
    def standalone(self) -> str:
        return self.searched or self.question


def as_turns(history: Iterable | None) -> list[Turn]:
    """The earlier turns, given as questions (str), dicts ({"question": ..., "answer": ..., "searched":
    ...}, or chat messages {"role": "user"|"assistant", "content": ...}), Turns or Answers."""
    if history is not None and (isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Iterable)):
        raise ValueError(f"the history must be a list of earlier turns, oldest first, not {type(history).__name__}")
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, str):
            turns.append(Turn(item))
        elif isinstance(item, Mapping) and "role" in item:
            content = str(item.get("content") or "")
            if item["role"] == "user":
                turns.append(Turn(content))
            elif turns and item["role"] == "assistant":
                turns[-1] = Turn(turns[-1].question, turns[-1].searched, content)
        elif isinstance(item, Mapping):
            turns.append(Turn(str(item.get("question") or ""), str(item.get("searched") or ""),
                              str(item.get("answer") or ""), str(item.get("short_answer") or "")))
        elif hasattr(item, "question") and hasattr(item, "answer"):  # an Answer
            turns.append(Turn(item.question, getattr(item, "searched", ""), item.answer,
                              getattr(item, "short_answer", "")))
        else:
            raise ValueError(f"a history turn must be a question, a dict with 'question' or a chat message, "
                             f"not {type(item).__name__}")
    return [t for t in turns if t.question.strip()]


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _content(word: str) -> bool:
    low = re.sub(r"'(?:s|re|ve|ll|d|m|t)$", "", word.lower().replace("’", "'"))
    return low not in ENGLISH and low not in _AUXILIARIES and low not in _QUESTION_WORDS and low not in _BACK


def content_runs(question: str) -> list[tuple[int, int, bool]]:
    """(start, end, named) of each run of content words: names (capitalised words, joined by "of",
    "the", "and") and runs of other content words, split where one kind meets the other."""
    words = _words(question)
    named = [w[:1].isupper() and _content(w) and not (i == 0 and w.lower() in _QUESTION_WORDS)
             for i, (_, _, w) in enumerate(words)]
    for i, (_, _, w) in enumerate(words):  # a number beside a name is part of it: "24 November", "Super Bowl 50"
        if w.isdigit() and ((i and named[i - 1]) or (i + 1 < len(words) and named[i + 1])):
            named[i] = True
    runs: list[tuple[int, int, bool]] = []
    i = 0
    while i < len(words):
        if not _content(words[i][2]):
            i += 1
            continue
        j = i + 1
        while j < len(words):
            if _content(words[j][2]) and named[j] == named[i]:
                j += 1
            elif (named[i] and words[j][2].lower() in {"of", "the", "and", "de"} and j + 1 < len(words)
                  and named[j + 1]):
                j += 2
            else:
                break
        runs.append((words[i][0], words[j - 1][1], named[i]))
        i = j
    return runs


def subject(question: str, weights: Callable[[str], Mapping[str, float]], *, person: bool = False) -> str:
    """A question's subject: a name before anything else (for a person, "he"/"she", the first name in
    the question, else the rarest), or the run of content words with the rarest word in it. A "the"
    in front of it is kept. "" when the question has no content word."""
    runs = content_runs(question)
    names = [r for r in runs if r[2]]
    if person and names:
        best = names[0]
    elif runs:
        best = max(runs, key=lambda r: (r[2], max(weights(question[r[0]:r[1]]).values(), default=0.0)))
    else:
        return ""
    start, end, _ = best
    if question[:start].lower().endswith("the "):
        start -= 4
    return question[start:end]


def _asked_about(question: str) -> str:
    """The noun a "what"/"which" question asks about: "What immigration route did ..." -> "the
    immigration route", "Which river flows through ..." -> "the river" (a run of content words that a
    preposition, not an auxiliary, follows ends in a verb, which is dropped); "" for other questions."""
    words = _words(question)
    if len(words) < 2 or words[0][2].lower() not in {"what", "which"} or not _content(words[1][2]):
        return ""
    end = 1
    while end < len(words) and _content(words[end][2]):
        end += 1
    if end - 1 >= 2 and end < len(words) and words[end][2].lower() not in _AUXILIARIES:
        end -= 1
    return "the " + question[words[1][0]:words[end - 1][1]]


def referent(last: Turn, weights: Callable[[str], Mapping[str, float]], pronoun: str) -> str:
    """What a pronoun in a follow-up most likely points at in the last turn.

    A person (he, him, ...): after "Who is X?", X; after another "who" question, the last name in its
    short answer (a title comes before a name), else the first name in the quote that the question did
    not contain; else the first name in the question. Many (they, them,
    ...): the noun after "what"/"which" ("Which cities ..." -> "the cities"), else the subject. A thing
    (it, its, there): the short answer to a "what"/"which" question when it is a short phrase, else the
    noun after "what"/"which" ("What immigration route ..." -> "the immigration route"), else the
    question's subject (after "What is X for?", X: its answer is a purpose, and so after "What is X?"
    answered with "a"/"an", a description). After "What did X say about Y?" a thing is Y, whatever the answer was."""
    previous = last.standalone
    words = _words(previous)
    first = words[0][2].lower() if words else ""
    asked_about = _asked_about(previous)
    if pronoun in _PERSONS:
        if first in {"who", "whom"} and len(words) > 1 and words[1][2].lower() in {"is", "was"}:
            return subject(previous, weights, person=True)
        if first in {"who", "whom"}:
            # The short answer names the person, after any title ("Tory candidate Mr Bailey", "Len
            # Duvall, Leader of ..."); without one, the first new name in the quote.
            short = last.short.split(",")[0]
            for text, pick in ((short, -1), (last.answer, 0)):
                names = [text[a:b] for a, b, named in content_runs(text) if named]
                names = [n for n in names if n.lower() not in previous.lower()]
                if names:
                    return names[pick]
        return subject(previous, weights, person=True)
    if pronoun in _PLURALS:
        return asked_about or subject(previous, weights)
    said = _SAID_ABOUT.match(previous)
    if said:
        about = said.group("about")  # a long phrase is cut before its first preposition: its head
        cut = _HEAD_END.search(about, 1) if len(about.split()) > _SUBJECT_WORDS else None
        about = about[:cut.start()] if cut else about
        return about if len(about.split()) <= _SUBJECT_WORDS else subject(about, weights)
    short = last.short.strip(_QUOTES)
    # Answers that describe rather than name: a purpose ("What is X for?") or, to "What is X?", an indefinite
    # phrase ("a partnership" for "What is the VRU?"); "it" is then the thing asked about. ("What did Tesla
    # develop?" "an induction motor": that names the thing.)
    describes = previous.rstrip(" ?.!").lower().endswith(" for") or (
        bool(re.match(r"(?:a|an)\s", short, re.IGNORECASE)) and len(words) > 1 and words[1][2].lower() in _BE)
    if first in {"what", "which"} and short and not describes and len(short.split()) <= _SUBJECT_WORDS // 2 + 1:
        if not short.lower().startswith("the ") and f"the {short}".lower() in last.answer.lower():
            short = "the " + short  # as the quote has it: "the National Security Law"
        return short
    if first == "what" and last.short and _asks_for_an_action(previous):
        made = _ACTION_OBJECT.search(last.short)  # "What did the UK do?" "lead a joint statement at ..."
        if made:
            return "the " + made.group(1).strip()
    return asked_about or subject(previous, weights)


def _asks_for_an_action(question: str) -> bool:
    """"What did the UK do about Xinjiang?", "What will the Mayor do?": the answer is an action (not
    "What could ... do?", whose answer is an effect)."""
    words = [w.lower() for _, _, w in _words(question)]
    return len(words) > 2 and words[1] in {"did", "does", "do", "will"} and "do" in words[3:]


def _abbreviated(name: str, quote: str) -> str:
    """The abbreviation a quote gives a name ("the Violence Reduction Unit" in "... Violence Reduction
    Unit (VRU) ..." -> "the VRU"), which the text after it uses; else the name."""
    bare = name[4:] if name.lower().startswith("the ") else name
    found = re.search(rf"{re.escape(bare)}\s*\(([A-Z][A-Z0-9&]{{1,9}})\)", quote) if bare else None
    return (name[:len(name) - len(bare)] + found.group(1)) if found else name


def leans_on_topic(question: str, weights: Callable[[str], Mapping[str, float]]) -> bool:
    """Whether a question with no back-reference still leans on what the conversation is about: a few
    searchable words of its own and no name ("Who is the president?", "What is the capital?" after a
    question about one country). Such a question is searched as asked, in the conversation's document."""
    body = _OPENERS.sub("", question.strip()) or question
    return len(weights(body)) <= _TOPIC_WORDS and not any(named for _, _, named in content_runs(body))


def rewrite(question: str, history: Iterable | None, weights: Callable[[str], Mapping[str, float]]) -> str:
    """The question to search for: `question` itself when it stands on its own (or there is no earlier
    turn), else its standalone rewrite from the last turn. `weights(text)` gives the searchable words of
    a text with their idf (a word the corpus lacks counts as rare)."""
    turns = as_turns(history)
    if not turns:
        return question
    last = turns[-1]
    previous = last.standalone
    q = question.strip()
    match = _NEW_SUBJECT.match(q)
    if match:
        new = (match.group("x") or match.group("y") or match.group("z")).strip(" ?")
        first = new.split()[0].lower() if new.split() else ""
        if (weights(new) and len(new.split()) <= _SUBJECT_WORDS and first not in _QUESTION_WORDS
                and first not in _AUXILIARIES and not any(w.lower() in _BACK for _, _, w in _words(new))):
            old = subject(previous, weights)
            if first in _PREPOSITIONS or not old:
                # "And in 2022?": the last question with its own "in ..." at the end swapped for it
                # ("What did the UK do in 2019?" -> "... do in 2022?"), else with the phrase added.
                same = re.search(rf"\s{re.escape(first)}\s+[^?]*?\s*\??\s*$", previous, re.IGNORECASE)
                if same and len(_words(same.group())) <= _SUBJECT_WORDS // 2 + 1:
                    return f"{previous[:same.start()]} {new}?"
                vague = _VAGUE_END.search(previous)  # "... at first?": a phrase with no word to search
                if vague and not any(_content(w) for _, _, w in _words(vague.group())[1:]):
                    return f"{previous[:vague.start()]} {new}?"
                return f"{previous.rstrip(' ?')} {new}?"
            return previous.replace(old, new, 1)
    body = _OPENERS.sub("", q) or q
    own = len(weights(body))
    words = _words(body)
    lowered = [w.lower() for _, _, w in words]
    has_name = any(named for _, _, named in content_runs(body))
    for start, end, word in words:
        low = word.lower()
        if low in _BACK:
            old = referent(last, weights, low)
            if old:
                old = _abbreviated(re.sub(r"[’']s$", "", old), last.answer)
                if _BACK[low]:  # a possessive: "Londoners’ worries", "the Unit’s budget"
                    old += "’" if old.endswith("s") else _BACK[low]
                elif low == "there" and old.split()[0].lower() not in _PREPOSITIONS:
                    old = f"in {old}"  # "Who is the president there?" -> "... president in Ghana?"
                return body[:start] + old + body[end:]
        if low in _DEMONSTRATIVES and end == len(body.rstrip(" ?.!")) and (own < _OWN_WORDS or not has_name):
            # "Who said that?", "When was this?": it points at the last answer (or the last question).
            return f"{body.rstrip(' ?')}? {last.answer or previous}"
    if own < _SHORT_WORDS and len(words) <= 4 and _QUESTION_WORDS & set(lowered):
        # "Why?", "And when?", "About what?": the new question in front of the rest of the last one.
        rest = _words(previous)
        asked = rest[0][2].lower() if rest else ""
        # The last question's own question phrase goes: "Which country did Brazil ...?" keeps "did Brazil ...".
        skip = 1 if len(rest) > 1 and asked in _QUESTION_WORDS else 0
        if asked in {"what", "which", "whose"}:
            verb = next((j for j in range(1, min(len(rest), 4)) if rest[j][2].lower() in _AUXILIARIES), 1)
            skip = verb
        tail = previous[rest[skip][0] if skip else 0:].strip().rstrip(" ?")
        dangling = _words(tail)[-1][2].lower() in _PREPOSITIONS if _words(tail) else False
        if asked in {"what", "which"} and last.short:  # "What does he want?" "Why?" -> why he wants <it>
            tail = f"{tail} {last.short}"  # "... independence from?" -> "... independence from Portugal"
        elif dangling:
            tail = tail[:_words(tail)[-1][0]].rstrip()
        elif skip > 1:  # "What sanctions did the UK impose?" -> "Why did the UK impose sanctions?"
            tail = f"{tail} {previous[rest[1][0]:rest[skip - 1][1]]}"
        return f"{body.rstrip(' ?')} {tail}?"
    if own <= _OPENER_WORDS and (_OPENERS.match(q) or any(_REACTIONS.match(w) for w in lowered)):
        # "And when did the Mayor reply?", "How did China respond?": carry the last question's words
        # over (as HQE does).
        return f"{body.rstrip(' ?')}? {previous}"
    return question
