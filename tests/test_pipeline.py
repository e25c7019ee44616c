import pytest

import rag
from rag.answering.qa import clean_question
from rag.answering.retrieval import dense_scores, retrieve


@pytest.fixture
def qa(corpus, embedder):
    return rag.build(corpus, model=embedder, reader=False)


def test_answer_is_a_verbatim_sentence_with_a_checkable_citation(qa):
    answer = qa.ask("How many countries does the Danube flow through?")
    assert answer.answered
    assert answer.answer == "The Danube flows through ten countries before reaching the Black Sea."
    first = answer.citations[0]
    assert (first.source, first.title, first.paragraph) == ("rivers.md", "Rivers of Europe", 2)
    assert first.context[first.start:first.end] == answer.answer
    assert 0.5 <= answer.confidence <= 1.0 and answer.message == ""


def test_to_dict_follows_the_json_contract(qa):
    data = qa.ask("What is a group of cats called?").to_dict()
    assert list(data) == ["question", "answered", "answer", "confidence", "score", "citations", "alternatives",
                          "message", "short_answer", "answer_span", "searched"]
    assert data["short_answer"] == "" and data["answer_span"] is None  # no reader here
    assert list(data["citations"][0]) == ["source", "title", "paragraph", "page", "start", "end", "context", "score",
                                                   "section"]
    for alternative in data["alternatives"]:
        assert list(alternative) == ["answer", "confidence", "citations"]
        c = alternative["citations"][0]
        assert c["context"][c["start"]:c["end"]] == alternative["answer"]


def test_a_question_the_documents_do_not_cover_is_declined(qa):
    answer = qa.ask("Who won the football world cup?")
    assert not answer.answered
    assert answer.answer == "" and answer.citations == []
    assert answer.message.startswith("The documents don't say")
    assert answer.confidence < 0.5


def test_one_model_call_per_batch_of_questions(qa, embedder):
    before = embedder.calls
    qa.ask_many(["Where is Mount Etna?", "Where does the Rhine rise?", "What do cats do all day?"])
    assert embedder.calls == before + 1


@pytest.mark.parametrize(("question", "message"), [
    ("", "the question is empty: type a question about the documents"),
    ("  \t\n ", "the question is empty: type a question about the documents"),
    ("x" * 2001, "the question is 2,001 characters long; the limit is 2,000: shorten it to the question itself"),
    ("???", "the question '???' has no words in it: ask about the documents in words"),
    (None, "the question must be text, not NoneType"),
])
def test_bad_questions_raise_value_error_with_the_reason(qa, question, message):
    with pytest.raises(ValueError) as error:
        qa.ask(question)
    assert str(error.value) == message


def test_control_characters_are_removed_from_questions():
    assert clean_question("Where\x00 is\x1b Etna?\n") == "Where is Etna?"


def test_hybrid_retrieval_finds_lexical_and_dense_matches(qa):
    index = qa.index
    query = qa.embedder.encode(["Etna volcano Sicily"])[0]
    hits = retrieve(index, query, "Etna volcano Sicily", k=3).hits
    assert index.passages[hits[0].passage_id].source == "volcano.txt"
    assert hits[0].lexical > 0 and hits[0].dense > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_dense_scores_match_brute_force(qa):
    import numpy as np

    index = qa.index
    query = qa.embedder.encode(["cats sleep"])[0]
    ids = np.arange(len(index.passages))
    vectors = index.store.fetch(index.window_ids)  # every window's vector, by its id
    brute = [max(float(v @ query) for v, p in zip(vectors, index.window_passage) if p == i) for i in ids]
    assert np.allclose(dense_scores(index, query, ids), brute, atol=1e-6)


def test_a_title_prior_ranks_the_document_the_question_names(tmp_path, embedder):
    from dataclasses import replace

    from conftest import write_corpus

    corpus = write_corpus(tmp_path / "docs", {
        "a.md": "# git-stash\n\nThe changes are saved away and the working tree is clean again.\n",
        "b.md": "# Branches\n\nA stash of changes is saved away when the working tree is clean again.\n"})
    qa = rag.build(corpus, model=embedder, reader=False)
    question = "What does git-stash save?"
    (vector,) = qa.embedder.encode([question])
    off = retrieve(qa.index, vector, question, k=2, settings=qa.retrieval)
    on = retrieve(qa.index, vector, question, k=2, settings=replace(qa.retrieval, title_weight=5.0))
    assert off.titles is None  # off by default, and then not computed
    assert qa.index.passages[on.hits[0].passage_id].source == "a.md"
    before = next(h for h in off.hits if h.passage_id == on.hits[0].passage_id)
    assert on.hits[0].score - before.score == pytest.approx(5.0)
    assert list(qa.index.title_scores(question)) == [1.0, 0.0]
