"""Guards against inputs that would cost more than their size or end in a traceback: each test trips one
guard with a tiny input and checks its message (never a time)."""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest

import rag
from rag import cli, config
from rag.answering.settings import AnswerSettings, RetrievalSettings
from rag.chat.page import ask, open_document
from rag.ingest import sandbox
from rag.ingest.formats.text import decode_prose, decode_text
from tests.conftest import reindex, write_corpus

QUESTION = "How many countries does the Danube flow through?"
ANSWER = "The Danube flows through ten countries before reaching the Black Sea."


# Files: a time budget and a memory cap per file, in a child process.

def test_a_file_slower_to_read_than_its_budget_is_skipped_and_the_rest_indexed(indexed, embedder, capsys,
                                                                                monkeypatch):
    monkeypatch.setattr(config, "PARSE_SECONDS", 0.2)
    monkeypatch.setattr(config, "PARSE_SECONDS_PER_MB", 0.0)
    corpus, out = indexed
    (corpus / "links.md").write_bytes(b"[a](" * 250_000)  # 1 MB that markdown-it reads for many seconds
    code, stdout, stderr = reindex(corpus, out, capsys)
    assert code == 0
    assert ("warning: links.md: skipped, reading it took over 0.2 s, the limit for a file of its size "
            "(RAG_PARSE_SECONDS)") in stderr
    assert rag.load(out, model=embedder, reader=False).ask(QUESTION).answer == ANSWER
    monkeypatch.setattr(config, "PARSE_SECONDS", 60.0)  # the next file gets a fresh reader
    assert sandbox.extract("note.txt", b"The reader is back.\n").text == "The reader is back.\n"


def test_a_file_whose_reader_needs_more_memory_than_the_cap_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PARSE_MEMORY_BYTES", 32 * 2**20)  # too little to load the Word reader
    sandbox._stop()
    with pytest.raises(rag.ingest.formats.base.UnreadableFile,
                       match=r"reading it needs more than 32 MB of memory"):
        sandbox.extract("report.docx", b"PK\x03\x04" + b"\x00" * 100)
    sandbox._stop()


def test_the_child_reports_what_a_loader_raised_and_its_warnings(recwarn):
    assert sandbox.extract("latin.txt", "Le café ouvre à sept heures.".encode("latin-1")).text.startswith("Le café")
    assert any("latin.txt: not valid UTF-8; decoded as Windows-1252/Latin-1" in str(w.message) for w in recwarn)
    with pytest.raises(rag.ingest.formats.base.UnreadableFile, match="it is empty"):
        sandbox.extract("empty.txt", b"")


def test_deeply_nested_metadata_is_ignored_with_a_warning(indexed, embedder, capsys):
    corpus, out = indexed
    (corpus / "metadata.json").write_text("[" * 100_000 + "]" * 100_000)
    code, stdout, stderr = reindex(corpus, out, capsys)
    assert code == 0
    assert "metadata.json: ignored, nested too deeply to be a list of titles" in stderr
    assert rag.load(out, model=embedder, reader=False).ask(QUESTION).answer == ANSWER


def test_html_with_a_hundred_thousand_unclosed_tags_is_read_in_one_pass(tmp_path, embedder):
    page = "<p>The lighthouse on the cape was built of granite in 1850 and still guides ships.</p>" + "<a " * 100_000
    corpus = write_corpus(tmp_path / "docs", {"page.html": page})
    qa = rag.build(corpus, model=embedder, reader=False)
    assert qa.ask("When was the lighthouse built?").answer.startswith("The lighthouse on the cape was built")


def test_terminal_escapes_do_not_make_a_short_text_file_binary():
    text = decode_prose(b"\x1b[31mRed alert:\x1b[0m the harbour is closed today.\n", "alert.txt")
    assert "the harbour is closed today." in text


def test_shift_jis_text_is_decoded_with_a_warning_naming_the_encoding():
    data = "東京は日本の首都です。人口は約千四百万人です。".encode("shift_jis")
    with pytest.warns(rag.RagWarning, match=r"doc.txt: not valid UTF-8; decoded as cp932 \(detected"):
        assert decode_text(data, "doc.txt") == "東京は日本の首都です。人口は約千四百万人です。"


# Index folders: only regular files inside it are read.

def test_a_data_file_replaced_by_a_fifo_is_named_not_waited_on(indexed, embedder):
    _, out = indexed
    data = next(out.glob("data-*"))
    (data / "windows.npy").unlink()
    os.mkfifo(data / "windows.npy")
    with pytest.raises(rag.CorruptIndexError, match=r"is damaged: data-[0-9a-f]+/windows.npy is not a regular file "
                                                    r"\(a link, a FIFO or a device\)\. Rebuild it with: rag index"):
        rag.load(out, model=embedder, reader=False)


def test_a_data_file_linked_to_dev_zero_is_refused(indexed, embedder):
    _, out = indexed
    data = next(out.glob("data-*"))
    (data / "sentences.npy").unlink()
    (data / "sentences.npy").symlink_to("/dev/zero")
    with pytest.raises(rag.CorruptIndexError, match="sentences.npy is not a regular file"):
        rag.load(out, model=embedder, reader=False)


def test_a_data_folder_that_links_out_of_the_index_folder_is_refused(indexed, embedder, tmp_path):
    _, out = indexed
    data = next(out.glob("data-*"))
    elsewhere = tmp_path / "elsewhere"
    shutil.move(data, elsewhere)
    data.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(rag.CorruptIndexError, match=rf"{data.name} is not a folder inside the index folder"):
        rag.load(out, model=embedder, reader=False)


def test_a_deeply_nested_manifest_is_corrupt_not_a_crash(indexed, embedder):
    _, out = indexed
    (out / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(rag.CorruptIndexError, match="manifest.json is nested too deeply to be a manifest"):
        rag.load(out, model=embedder, reader=False)


# Arguments: one line and exit 2, never a traceback.

@pytest.mark.parametrize(("argv", "message"), [
    (["index", "docs", "--workers", "-1"], "argument --workers: -1 is out of range: give a whole number of at least 0"),
    (["serve", "--port", "99999"], "argument --port: 99999 is out of range: give a whole number from 1 to 65535"),
    (["serve", "--port", "-1"], "argument --port: -1 is out of range: give a whole number from 1 to 65535"),
    (["eval", "x.json", "--limit", "zero"], "argument --limit: 'zero' is not a whole number"),
    (["train-reader", "--squad", "x.json", "--lr", "nan"], "argument --lr: nan is out of range"),
])
def test_bad_numbers_are_refused_with_the_range(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_questions_file_that_is_a_device_is_refused_without_reading_it(capsys):
    assert cli.main(["ask", "--file", "/dev/zero"]) == 2
    assert "rag ask: cannot read questions from '/dev/zero': it is not a regular file" in capsys.readouterr().err


def test_a_questions_file_over_the_limit_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "MAX_QUESTIONS_FILE_BYTES", 100)
    (tmp_path / "q.txt").write_text("Where is the harbour?\n" * 10)
    assert cli.main(["ask", "--file", str(tmp_path / "q.txt")]) == 2
    assert "questions in" in capsys.readouterr().err


def test_an_evaluation_file_that_is_a_device_is_refused(capsys, tmp_path):
    assert cli.main(["eval", "/dev/zero", "--index", str(tmp_path / "work")]) == 2
    assert "rag eval: cannot read SQuAD questions from '/dev/zero': it is not a regular file" in \
        capsys.readouterr().err


# Questions, histories and settings.

def test_lone_surrogates_in_a_question_and_its_history_are_read_as_replacement_characters(indexed, embedder):
    _, out = indexed
    qa = rag.load(out, model=embedder, reader=False)
    answer = qa.ask("How many countries does the Danube\ud800 flow through?",
                    history=[{"question": "What about \udcff rivers?", "answer": "x\ud83d"}])
    assert answer.answer == ANSWER
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")  # encodable: no surrogate left


def test_a_history_that_is_not_a_list_of_turns_is_refused_with_the_reason(indexed, embedder):
    _, out = indexed
    qa = rag.load(out, model=embedder, reader=False)
    for history in (5, "What about rivers?", {"question": "x"}):
        with pytest.raises(ValueError, match="the history must be a list of earlier turns, oldest first, not"):
            qa.ask(QUESTION, history=history)


def test_the_web_api_always_says_why_it_could_not_answer(indexed, embedder):
    import gradio as gr

    _, out = indexed
    qa = rag.load(out, model=embedder, reader=False)
    with pytest.raises(gr.Error, match="the history must be a list of earlier turns"):
        ask(qa, QUESTION, 5)

    class Broken:
        def ask(self, question, history=None):
            raise KeyError("boom")

    with pytest.raises(gr.Error, match=r"the question could not be answered \(KeyError\)"):
        ask(Broken(), QUESTION)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: RetrievalSettings(candidates=0),
     "RetrievalSettings.candidates must be a whole number of at least 1, not 0"),
    (lambda: RetrievalSettings(candidates=-1), "RetrievalSettings.candidates must be a whole number of at least 1"),
    (lambda: RetrievalSettings(lexical_weight=float("nan")),
     "RetrievalSettings.lexical_weight must be a finite number"),
    (lambda: AnswerSettings(reader_evidence=(2.0, float("nan"), 0.5, 2.0)),
     "AnswerSettings.reader_evidence must hold finite numbers"),
    (lambda: AnswerSettings(threshold=float("nan")), "AnswerSettings.threshold must be a finite number, not nan"),
    (lambda: AnswerSettings(reader_stops=((0, 5.5),)), "AnswerSettings.reader_stops must be (passages read, lead)"),
])
def test_settings_that_cannot_answer_are_refused_when_made(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()
    AnswerSettings(threshold=float("-inf"), reader_stops=((1, float("inf")),))  # never decline, never stop: fine


def test_a_nested_request_to_open_a_document_is_a_problem_message(indexed, embedder):
    _, out = indexed
    qa = rag.load(out, model=embedder, reader=False)
    assert "That link does not name a document." in open_document([qa], "[" * 100_000 + "]" * 100_000)


def test_indexing_a_folder_that_does_not_exist_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["index", str(tmp_path / "nothere"), "--quiet"]) == 2
    assert f"rag index: no folder at '{tmp_path / 'nothere'}': name the folder of documents to index" in \
        capsys.readouterr().err


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch, capsys):
    def fail(args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "_ask", fail)
    parser = cli.parser()
    monkeypatch.setattr(cli, "parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["ask"].set_defaults(run=fail)
    assert cli.main(["ask", "Where?"]) == 1
    assert capsys.readouterr().err == "rag ask: OSError: [Errno 28] No space left on device\n"


def test_an_unclosed_html_comment_ends_the_text_without_parsing_it():
    from rag.ingest.formats.html import _before_unclosed_comment, html_blocks

    assert _before_unclosed_comment("a<!-- x -->b<!-- never closed") == "a<!-- x -->b"
    assert _before_unclosed_comment("a<!-- x <!-- y -->b") == "a<!-- x <!-- y -->b"  # comments do not nest
    assert html_blocks("<p>The lighthouse is on the cape.</p>" + "<!--" * 3_000_000) == \
        ["The lighthouse is on the cape."]


def test_a_word_file_gets_the_time_budget_of_its_unpacked_size():
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:p/>" * 500_000)  # 3 MB that compresses to a few KB
    data = out.getvalue()
    assert len(data) < 100_000
    assert sandbox.readable_size("report.docx", data) == 3_000_000
    assert sandbox.readable_size("notes.txt", data) == len(data)
    assert sandbox.readable_size("broken.docx", b"PK not a zip") == len(b"PK not a zip")


def test_the_chat_page_returns_freed_memory_on_a_schedule():
    from rag.chat import memory

    assert memory.release() is (memory._TRIM is not None)
    with pytest.raises(ValueError, match="the trimming interval must be positive, not 0"):
        memory.start_trimming(0)
    stop = memory.start_trimming(0.01)
    assert any(t.name == "rag-memory-trim" for t in threading.enumerate())
    stop.set()


def test_uploads_never_indexed_are_swept_from_the_page_cache(indexed, embedder):
    from rag.chat.page import build_demo
    from rag.config import UPLOAD_SWEEP_SECONDS, UPLOAD_TTL_SECONDS

    demo = build_demo(rag.load(indexed[1], model=embedder, reader=False))
    assert demo.delete_cache == (UPLOAD_SWEEP_SECONDS, UPLOAD_TTL_SECONDS)
