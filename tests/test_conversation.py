"""Follow-up questions: rewriting from the conversation, and asking with a history (fast layer)."""

import pytest

import rag
from rag.answering.conversation import Turn, as_turns, referent, rewrite, subject


def weights(text: str) -> dict[str, float]:
    """idf stand-in: every content word is searchable, longer words rarer."""
    from rag.answering.conversation import _content, _words

    return {w.lower(): float(len(w)) for _, _, w in _words(text) if _content(w)}


@pytest.mark.parametrize("history, question, expected", [
    (["What did the UK do about Hong Kong?"], "And what about Xinjiang?", "What did the UK do about Xinjiang?"),
    (["What did the UK do about Hong Kong?"], "What about Xinjiang?", "What did the UK do about Xinjiang?"),
    (["Who wrote to the Mayor about Shanghai?"], "And Beijing?", "Who wrote to the Mayor about Beijing?"),
    (["What is the Violence Reduction Unit?"], "When did it launch?", "When did the Violence Reduction Unit launch?"),
    (["What did the Mayor say about Shanghai?"], "What did he say about Beijing?",
     "What did the Mayor say about Beijing?"),
    (["Who is Michael Kovrig?"], "When was he arrested?", "When was Michael Kovrig arrested?"),
    # "its"/"their" becomes a possessive, with the apostrophe alone after a plural's s.
    (["Who founded the Violence Reduction Unit?"], "What is its budget?",
     "What is the Violence Reduction Unit’s budget?"),
    (["Why are Londoners worried about the report?"], "What are their worries?", "What are Londoners’ worries?"),
    (["What immigration route did the UK open?"], "When did it launch?", "When did the immigration route launch?"),
    (["Which cities has London signed agreements with?"], "Who signed them?", "Who signed the cities?"),
    (["What sanctions did the UK impose?"], "Why?", "Why did the UK impose sanctions?"),
    (["Which country did Brazil gain independence from?"], "When?", "When did Brazil gain independence?"),
    (["What is the Deputy Mayor writing about?"], "About what?", "About what is the Deputy Mayor writing about?"),
    # A time or place said again replaces the last question's own: "in 2019" -> "in 2022".
    (["What did the UK do in 2019?"], "And in 2022?", "What did the UK do in 2022?"),
    # ... and so does a vague one with no word to search ("at first"); a searchable one stays.
    (["How many countries signed at first?"], "And in 2022?", "How many countries signed in 2022?"),
    (["What happened at the summit?"], "And in 2022?", "What happened at the summit in 2022?"),
    (["Who wrote to the Mayor in March?"], "And in June?", "Who wrote to the Mayor in June?"),
    # A date is one subject: "24 November" is swapped whole, not "November" alone.
    (["What did the Mayor announce on 24 November?"], "What about the Procurement Bill?",
     "What did the Mayor announce on the Procurement Bill?"),
    # Responding answers something said before: the last question's words are carried over.
    (["What did Dominic Raab say about the extradition treaty?"], "How did China respond?",
     "How did China respond? What did Dominic Raab say about the extradition treaty?"),
    (["What did the Assembly ask for?"], "And how did the Mayor reply?",
     "how did the Mayor reply? What did the Assembly ask for?"),
])
def test_a_follow_up_is_rewritten_to_stand_on_its_own(history, question, expected):
    assert rewrite(question, history, weights) == expected


@pytest.mark.parametrize("question", [
    "Who is Michael Kovrig?",
    "What does the letter ask the Mayor to do about forced labour?",
    "When was the Violence Reduction Unit set up?",
    "How did China respond to the sanctions on Xinjiang officials?",
])
def test_a_question_that_stands_on_its_own_is_left_as_it_is(question):
    assert rewrite(question, ["What sanctions did the UK impose on Xinjiang officials?"], weights) == question
    assert rewrite(question, [], weights) == question


def test_a_person_is_the_name_in_the_last_answer_to_a_who_question():
    last = Turn("Who wants London to cut its ties with Beijing?",
                answer="Shaun Bailey, who is up against Mr Khan, has called on him to de-twin London and Beijing.")
    assert referent(last, weights, "him") == "Shaun Bailey"
    assert rewrite("Who corrected him?", [last], weights) == "Who corrected Shaun Bailey?"
    last = Turn("Who corrected Sadiq Khan?", answer="But Tory candidate Mr Bailey has been corrected by Sadiq Khan.",
                short="Tory candidate Mr Bailey")
    assert rewrite("What did he say?", [last], weights) == "What did Mr Bailey say?"  # the name after its title
    last = Turn("Who wrote to the Mayor?", answer="Len Duvall, Leader of the Labour Group, wrote to him.",
                short="Len Duvall, Leader of the Labour Group")
    assert rewrite("What did he ask for?", [last], weights) == "What did Len Duvall ask for?"


def test_that_at_the_end_points_at_the_last_answer():
    last = Turn("What did the Mayor say about the people of Beijing?", answer="I have no quarrel with them.")
    assert rewrite("Who said that?", [last], weights) == "Who said that? I have no quarrel with them."


def test_a_short_answer_names_the_thing_it_refers_to():
    last = Turn("Which law has stifled opposition in Hong Kong?", answer="The National Security Law ...",
                short="National Security Law")
    expected = "How did the UK respond to the National Security Law?"  # with its article, as the quote has it
    assert rewrite("How did the UK respond to it?", [last], weights) == expected
    last = Turn("Which law has stifled opposition in Hong Kong?", answer="Article 23 did.", short="Article 23")
    assert rewrite("How did the UK respond to it?", [last], weights) == "How did the UK respond to Article 23?"


def test_a_short_answer_that_describes_is_not_what_it_refers_to():
    last = Turn("What is the Mayor's Police and Crime Plan for?", short="keep London safe",
                answer="The Police and Crime Plan sets out how we will keep London safe.")
    assert rewrite("Is it finished?", [last], weights) == "Is the Mayor's Police and Crime Plan finished?"
    last = Turn("What is the Violence Reduction Unit?", answer="The VRU is a partnership of councils.",
                short="a partnership of councils")
    assert rewrite("When did it start?", [last], weights) == "When did the Violence Reduction Unit start?"
    last = Turn("What did Tesla develop in 1887?", answer="Tesla developed an induction motor.",
                short="an induction motor")  # names a thing: "it" is that thing
    assert rewrite("What did its design not need?", [last], weights) == "What did an induction motor’s design not need?"


def test_after_what_someone_did_it_is_the_thing_the_action_made():
    last = Turn("What did the UK do about Xinjiang at the United Nations?",
                answer="The UK was the first country to lead a joint statement at the United Nations.",
                short="lead a joint statement at the United Nations")
    assert rewrite("How many countries supported it?", [last], weights) == \
        "How many countries supported the joint statement?"
    # "What could ... do?" asks for an effect, not something made: the question's subject as before.
    last = Turn("What could withdrawing from the Convention do?", answer="It could weaken the Human Rights Act.",
                short="weaken the Human Rights Act")
    assert rewrite("Who defends it?", [last], weights) == "Who defends the Convention?"


def test_after_what_someone_said_about_a_thing_it_is_that_thing_not_the_answer():
    last = Turn("What did the Mayor say about COVID-19?", answer="It is “like a zombie apocalypse”.",
                short="zombie apocalypse”")
    assert rewrite("Who has faced hate crime because of it?", [last], weights) == \
        "Who has faced hate crime because of COVID-19?"
    last = Turn("What does the letter say about the extradition treaty with Hong Kong and the wider region?",
                answer="It should be suspended.", short="suspended")
    assert referent(last, weights, "it") == "the extradition treaty"  # a long phrase: its head


def test_a_short_answer_loses_the_quote_marks_around_it():
    last = Turn("Which phrase did Kovrig use?", answer="He called it a “zombie apocalypse”.",
                short="“zombie apocalypse”")
    assert rewrite("Who else used it?", [last], weights) == "Who else used zombie apocalypse?"


def test_a_name_the_quote_abbreviates_is_searched_by_its_abbreviation():
    last = Turn("When was the Violence Reduction Unit set up?",
                answer="In 2018, I set up England's first Violence Reduction Unit (VRU) to reduce violence.")
    assert rewrite("When did it publish its strategy?", [last], weights) == "When did the VRU publish its strategy?"
    last = Turn("When was the Violence Reduction Unit set up?", answer="In 2018, I set up the unit.")
    assert rewrite("When did it publish its strategy?", [last], weights) == \
        "When did the Violence Reduction Unit publish its strategy?"


def test_subject_prefers_a_name_and_keeps_its_article():
    assert subject("What did the UK do about Hong Kong?", weights) == "Hong Kong"
    assert subject("What is the violence reduction unit?", weights) == "the violence reduction unit"
    assert subject("What did the Mayor say about Shanghai?", weights, person=True) == "the Mayor"
    assert subject("Why?", weights) == ""


def test_history_comes_as_questions_dicts_chat_messages_or_answers():
    answer = rag.Answer("Q2?", True, "A2.", 0.9, short_answer="A", searched="Q2 rewritten?")
    turns = as_turns(["Q1?", {"question": "Q3?", "answer": "A3.", "short_answer": "x"},
                      {"role": "user", "content": "Q4?"}, {"role": "assistant", "content": "A4."}, answer])
    assert turns == [Turn("Q1?"), Turn("Q3?", "", "A3.", "x"), Turn("Q4?", "", "A4."),
                     Turn("Q2?", "Q2 rewritten?", "A2.", "A")]
    assert turns[-1].standalone == "Q2 rewritten?"
    with pytest.raises(ValueError, match="a history turn must be a question, a dict with 'question' or a chat "
                                         "message, not int"):
        as_turns([3])


@pytest.fixture
def qa(corpus, embedder):
    return rag.build(corpus, model=embedder, reader=False)


def test_asking_with_a_history_answers_the_follow_up_in_its_context(qa):
    first = qa.ask("Where does the Rhine rise?")
    assert "Swiss Alps" in first.answer
    follow = qa.ask("And where does it end?", history=[first])
    assert follow.searched == "where does the Rhine end?"
    assert follow.question == "And where does it end?"
    assert follow.answered and "North Sea" in follow.answer
    assert follow.to_dict()["searched"] == follow.searched


def test_a_question_that_stands_on_its_own_is_answered_exactly_as_without_history(qa):
    alone = qa.ask("What is a group of cats called?")
    with_history = qa.ask("What is a group of cats called?", history=["Where does the Rhine rise?"])
    assert with_history == alone and with_history.searched == ""


def test_the_passage_last_quoted_is_read_first_on_top_of_the_usual_ones(qa, monkeypatch):
    from dataclasses import replace

    qa.answering = replace(qa.answering, reader_passages=1, reader_stops=((1, 5.0),))
    read = {}

    def answer(question, vector, retrieved, answering=None, asked=None, exclude=frozenset()):
        read.update(question=question, hits=retrieved.hits, answering=answering, asked=asked)
        return rag.Answer(question, False, "", 0.0)

    monkeypatch.setattr(qa, "_answer", answer)
    etna = "Mount Etna is an active volcano on the east coast of Sicily."
    qa.ask("And where does it end?", history=[{"question": "Where does the Rhine rise?", "answer": etna}])
    assert read["question"] == "where does the Rhine end?" and read["asked"] == "And where does it end?"
    assert etna in qa.index.passages[read["hits"][0].passage_id].text
    assert "Rhine" in qa.index.passages[read["hits"][1].passage_id].text  # not pushed out: 2 passages read
    assert read["answering"].reader_passages == 2
    assert read["answering"].reader_stops is None  # read beside the others, never alone
    rhine = "The Rhine rises in the Swiss Alps and ends in the North Sea."
    qa.ask("And where does it end?", history=[{"question": "Where does the Rhine rise?", "answer": rhine}])
    assert read["answering"].reader_passages == 1  # the quoted passage is the one found anyway


def test_a_history_with_hostile_text_is_cleaned_and_bounded(qa):
    history = [{"question": "Where does the \x1b[8mRhine rise?", "answer": "\x1b]0;x\x07"}] * 500
    answer = qa.ask("And where does it end?", history=history)
    assert "\x1b" not in answer.searched and "Rhine" in answer.searched


def test_squad_follow_ups_replace_a_shared_name_with_a_pronoun():
    from rag.eval.followups import make_follow_ups
    from rag.eval.squad import Question

    def q(i, text, paragraph=1, source="000_Normans.txt"):
        return Question(str(i), text, source, paragraph, 0, ("x",))

    questions = [q(1, "What did the Normans conquer?"), q(2, "When did the Normans conquer England?"),
                 q(3, "Who led the Norman fleet?"), q(4, "What is Normandy's capital?"),
                 q(5, "Where does the Normandy coast end?"),  # a name modifying a noun: no pronoun fits
                 q(6, "Who ruled the Normans?", paragraph=2), q(7, "What did Rollo sign?", paragraph=2),
                 q(8, "Who took over the Normans?", source="004_Held_out.txt")]
    follow = make_follow_ups(questions, {"000_Normans.txt": "Normans of Normandy"}, limit=10)
    texts = {f.text: (f.first.text, f.original.text) for f in follow}
    assert texts == {
        "When did they conquer England?": ("What did the Normans conquer?", "When did the Normans conquer England?"),
        "What is its capital?": ("What did the Normans conquer?", "What is Normandy's capital?"),
    }


def test_hand_written_conversations_are_scored_turn_by_turn(qa, tmp_path):
    from rag.eval.followups import score_conversations

    path = tmp_path / "conversations.jsonl"
    path.write_text('{"turns": [{"question": "Where does the Rhine rise?", "source": "rivers.md", '
                    '"expect": "Swiss Alps"}, {"question": "And where does it end?", "source": ["rivers.md"], '
                    '"expect": ["North Sea", "Black Sea"]}]}\n\n', encoding="utf-8")
    scores = score_conversations(qa, path)
    assert {k: scores[k] for k in ("first_turns", "first_right", "follow_ups", "follow_ups_right")} == {
        "first_turns": 1, "first_right": 1, "follow_ups": 1, "follow_ups_right": 1}


def test_a_follow_up_stays_in_the_document_the_conversation_is_about(tmp_path, embedder):
    from dataclasses import replace

    from conftest import write_corpus

    corpus = write_corpus(tmp_path / "countries", {
        "ghana.md": "# Ghana\n\nThe capital of Ghana is Accra.\n\nThe president is John Mahama.\n",
        "kenya.md": "# Kenya\n\nThe capital of Kenya is Nairobi.\n\nThe president is William Ruto.\n"})
    qa = rag.build(corpus, model=embedder, reader=False)
    qa.retrieval = replace(qa.retrieval, topic_weight=1.0)
    for country, president in (("Ghana", "John Mahama"), ("Kenya", "William Ruto")):
        first = qa.ask(f"What is the capital of {country}?")
        assert first.citations[0].source == f"{country.lower()}.md"
        follow = qa.ask("Who is the president?", history=[first])
        assert follow.searched == "" and follow.answered, follow  # searched as asked: no rewrite to show
        assert president in follow.answer and follow.citations[0].source == f"{country.lower()}.md"
        there = qa.ask("Who is the president there?", history=[first])
        assert there.searched == f"Who is the president in {country}?"
    # A follow-up that names another document's title changes the topic: no prior for the old one.
    turns = [Turn("What is the capital of Ghana?", answer="The capital of Ghana is Accra.")]
    assert qa._topic(turns, "And Kenya's president?") is None
    assert list(qa._topic(turns, "Who is the president there?")) == [1.0, 1.0, 0.0, 0.0]
    qa.retrieval = replace(qa.retrieval, topic_weight=0.0)
    assert qa._topic(turns, "Who is the president there?") is None  # off: not computed
