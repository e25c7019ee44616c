import json

import pytest

import rag
from rag import api, cli


@pytest.fixture
def index(corpus, tmp_path, embedder, monkeypatch):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    # The fast layer answers with the fake embedder; the end-to-end tests run the real model.
    monkeypatch.setattr(api, "_embedder_for", lambda model, default: embedder)
    monkeypatch.setattr(api, "open_reader", lambda reader, bf16=None: None)
    return out


def test_ask_json_prints_one_object_per_question(index, capsys, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("Where is Mount Etna?\n\nWhat is a group of cats called?\n")
    assert cli.main(["ask", "--index", str(index), "--json", "--file", str(questions),
                     "Where does the Rhine rise?"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["question"] for line in lines] == [
        "Where does the Rhine rise?", "Where is Mount Etna?", "What is a group of cats called?"]
    first = json.loads(lines[0])
    assert first["answered"] and first["citations"][0]["source"] == "rivers.md"


def test_ask_prints_a_readable_answer(index, capsys):
    assert cli.main(["ask", "--index", str(index), "How many countries does the Danube flow through?"]) == 0
    out = capsys.readouterr().out
    assert "“The Danube flows through ten countries before reaching the Black Sea.”" in out
    assert "— Rivers of Europe" in out and "rivers.md, paragraph 2" in out


def test_ask_declines_in_plain_words(index, capsys):
    assert cli.main(["ask", "--index", str(index), "Who won the football world cup?"]) == 0
    assert "The documents don't say" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["   "], "rag ask: the question is empty: type a question about the documents"),
    (["y" * 2500], "rag ask: the question is 2,500 characters long; the limit is 2,000"),
    ([], "rag ask: no question given"),
])
def test_bad_questions_exit_2_with_one_line(args, message, capsys):
    assert cli.main(["ask", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_missing_index_exits_1_with_the_fix(tmp_path, capsys):
    assert cli.main(["ask", "--index", str(tmp_path / "none"), "Where is Etna?"]) == 1
    err = capsys.readouterr().err
    assert "no index at" in err and "Build one with: rag index FOLDER --out" in err


def test_index_command_reports_counts(corpus, tmp_path, embedder, monkeypatch, capsys):
    monkeypatch.setattr(api, "_embedder_for", lambda model, default: embedder)
    out = tmp_path / "built"
    assert cli.main(["index", str(corpus), "--out", str(out), "--quiet"]) == 0
    assert "indexed 3 documents, 5 passages" in capsys.readouterr().out
    assert (out / "manifest.json").is_file()


def test_empty_corpus_is_a_clear_error(tmp_path, embedder, monkeypatch, capsys):
    monkeypatch.setattr(api, "_embedder_for", lambda model, default: embedder)
    (tmp_path / "docs").mkdir()
    assert cli.main(["index", str(tmp_path / "docs"), "--quiet"]) == 1
    assert "no quotable text found under" in capsys.readouterr().err


def test_a_decline_lists_each_nearest_passage_once():
    from rag.answering.types import Alternative, Answer, Citation

    text = "Cats sleep a lot. A group of cats is a clowder."
    first, second = (Citation("cats.txt", "Cats", 1, None, s, e, text, 0.1) for s, e in ((0, 17), (18, 47)))
    other = Citation("rivers.md", "Rivers", 2, None, 0, 10, "The Rhine rises in the Alps.", 0.05)
    answer = Answer("Who won the cup?", False, "", 0.1, alternatives=[
        Alternative(text[:17], 0.1, [first]), Alternative(text[18:], 0.1, [second]),
        Alternative("The Rhine", 0.05, [other])], message="The documents don't say.")
    out = cli._format(answer)
    assert out.count("cats.txt, paragraph 1") == 1 and "rivers.md, paragraph 2" in out
    assert [c.source for c in answer.nearest()] == ["cats.txt", "rivers.md"]


def test_a_one_shot_ask_keeps_the_fast_starting_reader_on_an_amx_cpu(index, capsys, tmp_path, monkeypatch):
    from rag.encoders import runtime

    asked = []

    def open_reader(reader, bf16=None):  # records what the command asks for; answers without a reader
        if reader is True:
            asked.append(bf16)

    monkeypatch.delenv("RAG_RUNTIME", raising=False)
    monkeypatch.setattr(runtime, "bf16_matrix_units", lambda: True)
    monkeypatch.setattr(api, "open_reader", open_reader)
    assert cli.main(["ask", "--index", str(index), "Where is Mount Etna?"]) == 0
    many = tmp_path / "many.txt"
    many.write_text("Where is Mount Etna?\n" * runtime.BF16_PAYS_FROM_QUESTIONS)
    assert cli.main(["ask", "--index", str(index), "--json", "--file", str(many)]) == 0
    assert asked == [False, True]  # ONNX Runtime for one question, bf16 for many
