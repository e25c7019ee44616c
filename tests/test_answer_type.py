"""What a question asks for (a time, a number) and whether a sentence holds it: the language's patterns."""

from __future__ import annotations

import pytest

import rag
from rag.answering.answer_type import asks_for_more, expected, holds
from rag.ingest.language import language
from tests.conftest import write_corpus

EN = language("en")


@pytest.mark.parametrize(("question", "kind"), [
    ("When were the sanctions imposed?", "time"),
    ("And when did the Mayor reply?", "time"),
    ("In what year did the harbour open?", "time"),
    ("What year was it built?", "time"),
    ("How many countries supported it?", "number"),
    ("How old is the bridge?", "number"),
    ("What percentage of voters agreed?", "number"),
    ("How long was he in the House of Commons?", "duration"),
    ("When Tesla photographed Twain, what showed up?", None),  # "when" opening a clause asks for no time
    ("How much does it cost?", None),  # amounts are too varied to demand a number
    ("Who imposed the sanctions?", None),
    ("What did the UK do?", None),
])
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert expected(question, EN) == kind


@pytest.mark.parametrize(("sentence", "kind", "holds_it"), [
    ("The harbour opened in 1850.", "time", True),
    ("The route launched on 31 January 2021.", "time", True),
    ("It was agreed last spring, after the election.", "time", True),
    ("We impose asset bans and travel freezes on senior actors.", "time", False),
    ("The statement was supported by 23 countries.", "number", True),
    ("Ten countries signed it.", "number", True),
    ("Several members agreed.", "number", True),
    ("The statement was widely supported.", "number", False),
    ("He served for twelve years.", "duration", True),
    ("Anything at all.", None, True),
])
def test_whether_a_sentence_holds_that_kind(sentence, kind, holds_it):
    assert holds(sentence, kind, EN) is holds_it


def test_a_language_without_patterns_demands_nothing():
    french = language("fr")
    assert expected("Quand le port a-t-il ouvert ?", french) is None
    assert holds("Le port est grand.", "time", french)
    assert not asks_for_more("Qui d'autre ?", french)


@pytest.mark.parametrize(("question", "more"), [
    ("Who else imposed them?", True), ("What other countries signed?", True), ("Did Canada sign too?", True),
    ("Who imposed them?", False), ("What did the UK do?", False),
])
def test_a_follow_up_asking_for_more_than_was_said(question, more):
    assert asks_for_more(question, EN) is more


HARBOUR = {"harbour.md": "# The harbour\n\nThe harbour is large and busy, with ferries to the islands. "
                         "The harbour was opened by the town council.\n"}


def test_without_the_reader_a_when_question_with_no_dated_sentence_is_declined(tmp_path, embedder):
    qa = rag.build(write_corpus(tmp_path / "docs", HARBOUR), model=embedder, reader=False)
    answer = qa.ask("When was the harbour opened by the town council?")
    assert not answer.answered and answer.message
    assert answer.alternatives and "opened by the town council" in answer.alternatives[0].answer  # the nearest
    assert qa.ask("Who opened the harbour?").answer == "The harbour was opened by the town council."
