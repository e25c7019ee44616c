"""Scoring follow-up questions: two-turn conversations made from SQuAD, and hand-written conversations
(benchmarks/seeds_conversations.jsonl).

A SQuAD conversation is a first question, then a later question about the same paragraph whose
subject (a name it shares with the first question or the article's title) is replaced by a pronoun:
"What did the Normans conquer?" then "When did they conquer England?" for "When did the Normans
conquer England?". The follow-up is scored three ways: asked with the first turn as history (the
rewrite), asked alone as written (what a chat without history does) and the original full question
(the ceiling). The figure that matters is the rewrite's accuracy over the original's.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..answering.conversation import _AUXILIARIES, _QUESTION_WORDS, _content, content_runs
from .metrics import contains_answer
from .squad import Question


@dataclass(frozen=True)
class FollowUp:
    first: Question
    original: Question  # the later question, as SQuAD has it
    text: str  # the same question with its subject replaced by a pronoun


def _pronoun_for(name: str, before: str, after: str) -> str:
    possessive = after.startswith(("'s", "’s"))
    plural = name.endswith("s") and not name.endswith("ss")
    if possessive:
        return "their" if plural else "its"
    words = before.split()
    is_object = bool(words) and words[-1].islower() and words[-1] not in _AUXILIARIES | _QUESTION_WORDS
    return ("them" if is_object else "they") if plural else "it"


def make_follow_ups(questions: Sequence[Question], titles: dict[str, str], *, limit: int = 200,
                    seed: int = 7) -> list[FollowUp]:
    """Seeded two-turn conversations from questions on the same paragraph (held-out articles left out)."""
    by_paragraph: dict[tuple[str, int], list[Question]] = defaultdict(list)
    for q in questions:
        if not q.held_out:
            by_paragraph[(q.source, q.paragraph)].append(q)
    candidates = []
    for (source, _), group in sorted(by_paragraph.items()):
        title = titles.get(source, "")
        for i, second in enumerate(group[1:], start=1):
            for start, end, named in content_runs(second.text):
                if second.text[start:end].endswith(("'s", "’s")):
                    end -= 2  # the possessive stays with the pronoun: "Normandy's" -> "its"
                name = second.text[start:end]
                if not named or start == 0 or len(name) < 3:
                    continue
                shared = [f for f in group[:i] if name.lower() in f.text.lower()]
                if not shared and name.lower() not in title.lower():
                    continue
                before, after_words = second.text[:start].split(), second.text[end:].split()
                # A singular name before a lowercase word mostly modifies it ("the Jacksonville town charter"),
                # and so does one after a lowercase word ("former Model C schools"): no pronoun fits.
                if (after_words and after_words[0][:1].islower() and _content(after_words[0].strip("?,."))
                        and not name.endswith("s")) or (before and _content(before[-1]) and before[-1][:1].islower()):
                    continue
                head = second.text[:start]
                head = re.sub(r"\bthe\s+$", "", head, flags=re.IGNORECASE)
                after = second.text[end:]
                pronoun = _pronoun_for(name, head, after)
                after = after[2:] if after.startswith(("'s", "’s")) else after
                text = f"{head}{pronoun}{after}"
                if name.lower() in text.lower():
                    continue
                candidates.append(FollowUp(shared[0] if shared else group[0], second, text))
                break
    random.Random(seed).shuffle(candidates)
    return candidates[:limit]


def score_follow_ups(qa, follow_ups: Sequence[FollowUp]) -> dict:
    """Accuracy (the quote contains a gold answer) of the follow-ups asked with their first turn, alone,
    and as originally written; never declining, like SQuAD-open's answer accuracy."""
    rows = []
    for f in follow_ups:
        first = qa.ask(f.first.text)
        rewritten = qa.ask(f.text, history=[first])
        alone = qa.ask(f.text)
        original = qa.ask(f.original.text)
        rows.append({"split": f.original.split, "rewritten": _right(rewritten, f.original),
                     "alone": _right(alone, f.original), "original": _right(original, f.original),
                     "was_rewritten": bool(rewritten.searched)})

    def part(mine: list[dict]) -> dict:
        n = len(mine)
        if not n:
            return {"conversations": 0}
        out = {"conversations": n, **{k: sum(r[k] for r in mine) / n for k in ("rewritten", "alone", "original",
                                                                             "was_rewritten")}}
        out["recovered"] = out["rewritten"] / out["original"] if out["original"] else None
        return out

    return {"all": part(rows), "tune": part([r for r in rows if r["split"] == "tune"]),
            "report": part([r for r in rows if r["split"] == "report"]),
            "examples": [{"first": f.first.text, "follow_up": f.text, "original": f.original.text}
                         for f in follow_ups[:5]]}


def _right(answer, question: Question) -> bool:
    quote = answer.answer or (answer.alternatives[0].answer if answer.alternatives else "")
    return contains_answer(quote, question.answers)


def read_conversations(path: str | Path) -> list[dict]:
    """A conversations file (JSONL, one {"turns": [...]} per line), blank lines skipped."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def score_conversations(qa, conversations: str | Path | Sequence[dict]) -> dict:
    """Hand-written conversations (a JSONL file or its parsed lines: {"turns": [{"question", "source",
    "expect"}, ...]}; `source` and `expect` may list alternatives; a turn without `source` expects a
    decline): a turn is right when its first citation is the expected file and the quote contains an
    expected phrase, or it is declined where it should be. Follow-up turns are also asked alone."""
    if isinstance(conversations, (str, Path)):
        conversations = read_conversations(conversations)
    first = follow = alone = n_first = n_follow = 0
    misses = []
    for conversation in conversations:
        history = []
        for i, turn in enumerate(conversation["turns"]):
            answer = qa.ask(turn["question"], history=history)
            right = turn_is_right(answer, turn)
            if i == 0:
                n_first, first = n_first + 1, first + right
            else:
                n_follow, follow = n_follow + 1, follow + right
                alone += turn_is_right(qa.ask(turn["question"]), turn)
                if not right:
                    misses.append({"question": turn["question"], "searched": answer.searched, "quote": answer.answer})
            history.append(answer)
    return {"first_turns": n_first, "first_right": first, "follow_ups": n_follow, "follow_ups_right": follow,
            "follow_ups_right_alone": alone, "misses": misses}


def turn_is_right(answer, turn: dict) -> bool:
    if not turn.get("source"):
        return not answer.answered
    sources = turn["source"] if isinstance(turn["source"], list) else [turn["source"]]
    phrases = turn["expect"] if isinstance(turn["expect"], list) else [turn["expect"]]
    return (answer.answered and answer.citations[0].source in sources
            and any(p.lower() in answer.answer.lower() for p in phrases))
