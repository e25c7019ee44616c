"""The chat handlers, called directly with the fake embedder."""

import pytest

import rag
from rag.chat.page import ask, examples_for, header, respond
from tests.conftest import write_corpus


@pytest.fixture
def qa(tmp_path, embedder):
    folder = write_corpus(tmp_path / "docs", {
        "rivers.md": "# Rivers of Europe\n\nThe Danube flows through ten countries before reaching the Black Sea.\n",
        "web.html.txt": "Tags like &lt;script&gt;alert(1)&lt;/script&gt; appear in this page about the Danube delta.\n",
        "metadata.json": '{"_examples": ["Where does the Danube flow?"], "rivers.md": {"title": "Rivers <b>bold</b>"}}',
    })
    return rag.build(folder, tmp_path / "index", model=embedder, reader=False)


def test_answer_shows_quote_source_and_highlighted_paragraph(qa):
    history, box, turns = respond(qa, "How many countries does the Danube flow through?", [], [], 3)
    assert box == "" and turns[0]["question"] == "How many countries does the Danube flow through?"
    assert history[0] == {"role": "user", "content": "How many countries does the Danube flow through?"}
    reply = history[1]["content"]
    assert "“The Danube flows through ten countries before reaching the Black Sea.”" in reply
    # the title, then the heading the paragraph sits under
    assert ('<span class="rag-chip">1</span> <b>Rivers &lt;b&gt;bold&lt;/b&gt;</b> › Rivers of Europe, paragraph 2 · '
            '<a href="#rag-open=%5B%22rivers.md%22%2C%202%2C%200%2C%2069%5D" class="rag-open">open the document</a>'
            ' · <button class="rag-copy" title="“The Danube flows through ten countries before reaching the Black '
            'Sea.” — Rivers &lt;b&gt;bold&lt;/b&gt; › Rivers of Europe, paragraph 2 (rivers.md)">Copy</button> '
            '<small><code>rivers.md</code></small>') in reply
    assert "<mark>" not in reply  # a one-sentence paragraph: the quote is shown once, not again as its paragraph
    assert reply.count("The Danube flows through ten countries") == 2  # the quote and the Copy text
    assert "<details><summary>Confidence" in reply
    assert "\n\n" not in reply  # one HTML block: document text is never read as Markdown


def test_unanswerable_question_offers_passages_to_read(qa):
    reply = respond(qa, "Who won the football world cup?", [], [], 3)[0][1]["content"]
    assert "The documents don't say." in reply and "Try other words for the key terms" in reply
    assert "<mark>" not in reply  # nothing reads as an answer
    assert reply.count("paragraph 2") <= 1  # each passage once


def test_nothing_from_questions_or_documents_is_live_html(qa):
    history, _, _ = respond(qa, "<img src=x onerror=alert(1)> What about the <script> tags in the Danube delta?",
                            [], [], 3)
    user, reply = history[0]["content"], history[1]["content"]
    assert "<img" not in user and "&lt;img src=x onerror=alert(1)&gt;" in user
    assert "<script>" not in reply and "&lt;script&gt;alert(1)&lt;/script&gt;" in reply


@pytest.mark.parametrize(("message", "expected"), [
    ("\x00\x07 ?", "the question &#x27;?&#x27; has no words in it"),
    ("w" * 10_000, "the question is 10,000 characters long; the limit is 2,000"),
])
def test_bad_messages_get_a_polite_reply_and_stay_in_the_box(qa, message, expected):
    history, box, turns = respond(qa, message, [], [], 3)
    reply = history[1]["content"]
    assert "Please ask a question in words, up to 2,000 characters" in reply and expected in reply
    assert 'class="rag-answer rag-problem"' in reply  # the page shows no 👍/👎 on a problem
    assert box == message and turns == []  # nothing typed is lost; the conversation is unchanged
    assert history[0]["content"] == message.strip()  # shown whole


@pytest.mark.parametrize("message", ["", "   ", "\n\t "])
def test_a_blank_message_adds_nothing_to_the_chat(qa, message):
    before = [{"role": "user", "content": "Where?"}, {"role": "assistant", "content": "There."}]
    assert respond(qa, message, before, [{"question": "Where?"}], 3) == (before, message, [{"question": "Where?"}])


def test_the_question_shows_at_once_and_its_answer_follows(qa):
    from rag.chat.page import echo, reply

    history, box, pending = echo("  How many countries does the Danube flow through? ", [])
    assert history == [{"role": "user", "content": "How many countries does the Danube flow through?"}]
    assert box == "" and pending == "  How many countries does the Danube flow through? "
    history, box, turns = reply(qa, pending, history, [], scope="your document rivers.md")
    assert len(history) == 2 and turns[0]["message"] == 1
    assert '<p class="rag-searched">From your document rivers.md</p>' in history[1]["content"]
    assert reply(qa, "", history, turns) == (history, "", turns)  # nothing was waiting


def test_a_follow_up_is_read_with_the_conversation_and_says_what_was_searched(qa):
    history, _, turns = respond(qa, "Which river flows through ten countries?", [], [], 3)
    history, _, turns = respond(qa, "Where does it end?", history, turns, 3)
    assert len(history) == 4 and len(turns) == 2
    assert turns[1]["searched"] == "Where does the river end?"
    assert '<p class="rag-searched">Searched: Where does the river end?</p>' in history[3]["content"]


def test_the_api_takes_a_history(qa):
    data = ask(qa, "Where does it end?", ["Which river flows through ten countries?"])
    assert data["searched"] == "Where does the river end?"


def test_api_handler_returns_the_cli_json_contract(qa):
    data = ask(qa, "How many countries does the Danube flow through?")
    assert data == qa.ask("How many countries does the Danube flow through?").to_dict()


def test_api_handler_reports_bad_questions_in_one_log_line(qa, caplog):
    import gradio as gr

    with pytest.raises(gr.Error, match="the question is empty") as error:
        ask(qa, " ")
    assert error.value.print_exception is False and error.value.__cause__ is None  # no traceback printed
    assert [r.getMessage() for r in caplog.records if r.name == "rag.chat.page"] == [
        "rejected an API question: the question is empty: type a question about the documents"]


def test_header_and_examples_come_from_the_corpus(qa):
    assert examples_for(qa) == ["Where does the Danube flow?"]
    assert "Corpus: 2 documents" in header(qa) and "Rivers &lt;b&gt;bold&lt;/b&gt;" in header(qa)


def test_the_short_answer_is_bold_inside_the_quote_and_the_highlight():
    from rag.chat.render import render_answer

    context = "Intro <here>. The Danube flows through ten countries & more."
    quote = "The Danube flows through ten countries & more."
    start = context.index(quote)
    citation = rag.Citation("rivers.md", "Rivers", 2, None, start, start + len(quote), context, 3.2)
    span = (quote.index("ten"), quote.index("ten") + len("ten countries"))
    answer = rag.Answer("How many countries?", True, quote, 0.93, 3.2, [citation], [], "",
                        short_answer="ten countries", answer_span=span)
    html = render_answer(answer)
    bold = '<strong class="rag-short">ten countries</strong>'
    assert f"“The Danube flows through {bold} &amp; more.”" in html
    assert f"<mark>The Danube flows through {bold} &amp; more.</mark>" in html
    assert "Intro &lt;here&gt;." in html


def test_a_vote_on_an_answer_is_one_line_in_the_feedback_log(qa, tmp_path):
    import json

    from rag.chat.page import vote

    history, _, turns = respond(qa, "w" * 3000, [], [], 3)  # a problem message: no turn, nothing to vote on
    history, _, turns = respond(qa, "How many countries does the Danube flow through?", history, turns, 3)
    log = tmp_path / "logs" / "feedback.jsonl"
    assert vote(turns, 1, True, log) is None  # the problem message
    entry = vote(turns, 3, False, log)
    assert vote(turns, 3, "", log) is None  # a vote taken back writes nothing
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert lines == [entry]
    assert sorted(entry) == ["answer", "citation", "question", "time", "vote"]
    assert entry["vote"] == "down" and entry["question"] == "How many countries does the Danube flow through?"
    assert entry["answer"] == "The Danube flows through ten countries before reaching the Black Sea."
    assert entry["citation"] == "Rivers <b>bold</b>, paragraph 2 (rivers.md)"


def test_the_feedback_log_path_comes_from_the_environment(monkeypatch, tmp_path):
    from rag import config
    from rag.chat import feedback

    monkeypatch.setenv("RAG_FEEDBACK_LOG", str(tmp_path / "f.jsonl"))
    assert config.feedback_log() == tmp_path / "f.jsonl"
    assert config.feedback_log("x.jsonl").name == "x.jsonl"
    with pytest.raises(ValueError, match="a vote is 'up' or 'down', not 'maybe'"):
        feedback.record({}, "maybe")


def test_a_citation_opens_its_whole_document_at_the_quote(qa):
    from rag.chat.page import open_document

    page = open_document([qa], '["rivers.md", 2, 4, 10]')
    assert "<h2>Rivers &lt;b&gt;bold&lt;/b&gt;</h2>" in page
    assert ('<p class="rag-section">Rivers of Europe</p><p class="rag-paragraph"><span class="rag-pn">2</span> The '
            '<mark id="rag-here">Danube</mark> flows') in page  # the heading it sits under, once
    for bad, message in [("nonsense", "That link does not name a document."), ('["x", "y", 1, 2]', "That link"),
                         ('["../../etc/passwd", 1, 0, 4]', "../../etc/passwd is not in this index.")]:
        assert message in open_document([qa], bad) and "rag-here" not in open_document([qa], bad)


def test_uploads_are_indexed_privately_and_answer_until_discarded(qa, tmp_path, monkeypatch):
    from rag.chat.page import YOURS, active, upload
    from rag.chat.uploads import discard

    monkeypatch.setenv("RAG_UPLOADS", str(tmp_path / "uploads"))
    first = tmp_path / "in" / "notes.txt"
    first.parent.mkdir()
    first.write_text("Notes\n\nThe meal allowance is 35 euros per day.\n", encoding="utf-8")
    second = tmp_path / "in" / "other.md"
    second.write_text("# Other\n\nThe office opens at nine in the morning.\n", encoding="utf-8")
    mine, status, choice, chat = upload(qa, [str(first)], None, [])
    theirs, _, _, _ = upload(qa, [str(second)], None)
    assert "Indexed your document" in status and choice.value == YOURS
    assert chat == [{"role": "assistant", "content": chat[0]["content"]}]  # said in the chat, where it is seen
    assert 'class="rag-note"' in chat[0]["content"] and "<li>Notes</li>" in chat[0]["content"]
    assert mine.scope == "your document notes.txt"
    assert not first.exists()  # the upload cache keeps no copy
    assert mine.folder != theirs.folder and mine.folder.parent == tmp_path / "uploads"
    answer = active(qa, mine, YOURS)[0].ask("What is the meal allowance?")
    assert answer.answered and answer.citations[0].source == "notes.txt"
    assert not active(qa, theirs, YOURS)[0].ask("What is the meal allowance?").answered  # another session's files
    assert active(qa, mine, "The page's documents") == (qa, "the page's documents")  # still available, and named
    assert active(qa, None, YOURS) == (qa, None)  # no uploads: one collection, not named
    history, _, _ = respond(*active(qa, mine, YOURS)[:1], "What is the meal allowance?", [], [], 3,
                            active(qa, mine, YOURS)[1])
    assert "35 euros per day" in history[1]["content"]
    assert '<p class="rag-searched">From your document notes.txt</p>' in history[1]["content"]
    discard(mine)
    assert not mine.folder.exists() and theirs.folder.exists()


@pytest.mark.parametrize(("files", "message"), [
    ([], "no file was uploaded"),
    ([("a.exe", b"x")], "a.exe is not a document this page reads; upload .docx, .htm"),
    ([(f"f{i}.txt", b"x") for i in range(11)], "11 files were uploaded; the limit is 10: upload fewer at once"),
    ([("empty.txt", b"   ")], "nothing in the uploaded files could be read as text"),
])
def test_uploads_over_the_limits_are_refused_with_the_limit(qa, tmp_path, monkeypatch, files, message):
    from rag.chat.page import upload

    monkeypatch.setenv("RAG_UPLOADS", str(tmp_path / "uploads"))
    paths = []
    for name, data in files:
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    previous = object()
    kept, status, _, chat = upload(qa, paths, previous, [])
    assert kept is previous and message in status and "Up to 10 files" in status
    assert chat[-1]["content"] == status and 'class="rag-answer rag-problem"' in status
    assert "scanned PDF" not in status  # said only when a PDF was among the files
    assert not list((tmp_path / "uploads").glob("rag-session-*"))  # nothing left behind


def test_undo_takes_back_the_last_turn_and_retry_asks_it_again(qa):
    from rag.chat.page import retry, undo

    history, _, turns = respond(qa, "Which river flows through ten countries?", [], [], 3)
    history, _, turns = respond(qa, "Where does it <end>?", history, turns, 3)
    undone, box, kept = undo(history, turns)
    assert box == "Where does it <end>?" and undone == history[:2] and kept == turns[:1]
    again, box, turns_again = retry(qa, history, turns, 3)
    assert box == "" and again[:2] == history[:2] and len(again) == 4 and again[3] == history[3]
    assert turns_again == turns
    assert undo([], []) == ([], "", [])


def test_gradio_telemetry_is_off_unless_the_user_turned_it_on():
    import os
    import subprocess
    import sys

    code = "import os, rag.chat; print(os.environ['GRADIO_ANALYTICS_ENABLED'])"
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_ANALYTICS_ENABLED"}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout == "False\n"
    env["GRADIO_ANALYTICS_ENABLED"] = "True"
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout == "True\n"


def _citation(context: str, quote: str) -> rag.Citation:
    start = context.index(quote)
    return rag.Citation("long.md", "Long", 4, None, start, start + len(quote), context, 2.0)


def test_a_long_paragraph_is_shown_as_a_window_around_the_quote():
    from rag.chat.render import highlighted
    from rag.config import CONTEXT_WINDOW_CHARS

    quote = "The harbour opens at nine."
    context = "Before the quote. " * 400 + quote + " After the quote." * 400  # about 14,000 characters
    html = highlighted(_citation(context, quote))
    shown = html.split('<div class="rag-more">')[0]
    assert f"<mark>{quote}</mark>" in shown
    assert CONTEXT_WINDOW_CHARS * 0.8 < len(shown) < CONTEXT_WINDOW_CHARS * 1.3
    assert shown.startswith('<blockquote class="rag-context">… ') and shown.endswith(" …</blockquote>")
    assert '" class="rag-open">show the whole paragraph</a>' in html  # the rest is in the source viewer
    short = "A short paragraph. " + quote + " It ends here."
    assert "show the whole paragraph" not in highlighted(_citation(short, quote))
    assert "…" not in highlighted(_citation(short, quote))


def test_a_quote_longer_than_the_window_is_shown_whole():
    from rag.chat.render import highlighted

    quote = "word " * 300 + "end."
    html = highlighted(_citation("Lead in. " * 50 + quote + " Tail." * 50, quote))
    assert f"<mark>{quote}</mark>" in html


def test_a_decline_counts_the_passages_it_shows(qa):
    reply = respond(qa, "Who won the football world cup?", [], [], 3)[0][1]["content"]
    shown = reply.count('class="rag-nearest"')
    assert shown >= 1
    assert ("The nearest passage, which does not answer it:" if shown == 1
            else f"The {shown} nearest passages, none of which answers it:") in reply
