"""The bad-input matrix: each broken input gets a clear message, and the existing index stays
intact and loadable afterwards. Runs through the CLI (`rag index`) as a user would."""

from __future__ import annotations

import codecs
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rag
from benchmarks.made_files import PARAGRAPH, SKIPPED
from rag import api, cli
from rag.errors import CorruptIndexError, StaleIndexError
from rag.index.storage import load_index
from tests.conftest import HashingEmbedder, write_corpus
from tests.conftest import reindex as run

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How many countries does the Danube flow through?"
ANSWER = "The Danube flows through ten countries before reaching the Black Sea."


def assert_intact(out: Path, embedder) -> None:
    index = load_index(out)
    assert {"cats.txt", "rivers.md", "volcano.txt"} <= set(index.manifest.documents)
    assert rag.QA(index, embedder).ask(QUESTION).answer == ANSWER


@pytest.mark.parametrize(("name", "content", "message"), SKIPPED, ids=[row[0] for row in SKIPPED])
def test_unreadable_file_is_skipped_with_its_reason(indexed, embedder, capsys, name, content, message):
    corpus, out = indexed
    (corpus / name).write_bytes(content() if callable(content) else content)
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0
    assert f"warning: {message}" in stderr
    assert "0 added, 0 updated, 0 removed, 3 unchanged" in stdout
    assert_intact(out, embedder)
    assert name in load_index(out).manifest.skipped


@pytest.mark.parametrize(("name", "data", "warning"), [
    ("latin.txt", "Le café de la Pâquerette ouvre à sept heures.".encode("latin-1"),
     "latin.txt: not valid UTF-8; decoded as Windows-1252/Latin-1"),
    ("utf16.txt", codecs.BOM_UTF16_LE + "Le café de la Pâquerette ouvre à sept heures.".encode("utf-16-le"), None),
], ids=["latin-1", "utf-16-bom"])
def test_non_utf8_text_is_decoded_and_indexed(indexed, embedder, capsys, name, data, warning):
    corpus, out = indexed
    (corpus / name).write_bytes(data)
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0 and "1 added" in stdout
    assert (f"warning: {warning}" in stderr) if warning else ("warning" not in stderr)
    assert rag.load(out, model=embedder, reader=False).ask("Quand le café de la Pâquerette ouvre-t-il?").answer == \
        "Le café de la Pâquerette ouvre à sept heures."
    assert_intact(out, embedder)


def test_deeply_nested_html_is_read_like_any_other(indexed, embedder, capsys):
    corpus, out = indexed
    (corpus / "deep.html").write_text("<html><body>" + "<div>" * 1500 + f"<p>{PARAGRAPH[0]}</p>" + "</div>" * 1500
                                      + "</body></html>")
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0 and "1 added" in stdout and "warning" not in stderr
    assert rag.load(out, model=embedder, reader=False).ask("Who fortified the harbour of Valletta?").citations[0] \
        .source == "deep.html"


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="file names there are always Unicode")
def test_a_file_name_that_is_not_utf8_is_skipped_with_a_warning(indexed, embedder, capsys):
    corpus, out = indexed
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9.txt"), "wb") as fh:
        fh.write(PARAGRAPH[0].encode())
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0
    assert "warning: caf?.txt: skipped, its name is not valid UTF-8 (rename it)" in stderr
    assert_intact(out, embedder)


def test_a_50_mb_text_file_is_skipped_by_size(indexed, embedder, capsys):
    corpus, out = indexed
    with open(corpus / "huge.txt", "wb") as fh:
        fh.write(b"All work and no play makes a very dull text file indeed.\n" * (50 * 2**20 // 57 + 1))
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0
    assert "warning: huge.txt: skipped, it is 50.0 MB and the limit for one file is 25 MB (split it, or raise " \
           "RAG_MAX_FILE_MB)" in stderr
    assert_intact(out, embedder)


def test_a_symlink_loop_in_the_folder_is_not_followed(indexed, embedder, capsys):
    corpus, out = indexed
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "a.txt").symlink_to(corpus / "b.txt")
    (corpus / "b.txt").symlink_to(corpus / "a.txt")
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0
    assert "warning: a.txt: skipped, cannot be read (Too many levels of symbolic links)" in stderr
    assert "0 added, 0 updated, 0 removed, 3 unchanged" in stdout
    assert_intact(out, embedder)


def test_a_symlink_to_a_file_outside_the_folder_is_never_read(indexed, embedder, capsys, tmp_path):
    corpus, out = indexed
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash is the line of the superuser account.")
    (corpus / "passwd.txt").symlink_to(secret)
    (corpus / "zero.txt").symlink_to("/dev/zero")
    (corpus / "inside.txt").symlink_to(corpus / "cats.txt")  # a link that stays inside is fine
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0
    for name in ("passwd.txt", "zero.txt"):
        assert (f"warning: {name}: skipped, it links outside the document folder (only files inside the folder "
                "are read)") in stderr
    index = load_index(out)
    assert "passwd.txt" not in index.manifest.documents and "inside.txt" in index.manifest.documents
    assert not any("superuser" in p.text for p in index.passages)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX thing")
def test_a_fifo_in_the_folder_does_not_block_indexing(indexed, embedder, capsys):
    corpus, out = indexed
    os.mkfifo(corpus / "pipe.txt")  # opening it for reading would wait for a writer for ever
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0
    assert "warning: pipe.txt: skipped, it is not a regular file (a pipe, device or socket)" in stderr
    assert_intact(out, embedder)


def test_a_file_that_reports_a_small_size_is_capped_at_the_bytes_read(tmp_path, monkeypatch):
    from rag.ingest import documents

    corpus = write_corpus(tmp_path / "docs")
    (corpus / "grows.txt").write_bytes(b"x" * 5000)
    real_fstat = os.fstat
    monkeypatch.setattr(documents.os, "fstat", lambda fd: os.stat_result(  # the size /proc files report
        (*real_fstat(fd)[:6], 0, *real_fstat(fd)[7:10])))
    with pytest.warns(rag.RagWarning, match="grows.txt: skipped, it grew past its reported size while being "
                                            "read, and the limit for one file is 0 MB"):
        files = list(documents.scan(corpus, max_bytes=1000))
    assert "grows.txt" not in {f.source for f in files}


def test_a_file_that_disappears_during_indexing(indexed, embedder, capsys, monkeypatch):
    corpus, out = indexed
    (corpus / "brief.txt").write_text("A short note that is deleted while the folder is being read.")
    from rag.ingest import documents

    real_list_files = documents.list_files

    def list_then_delete(folder, *args, **kwargs):
        found = real_list_files(folder, *args, **kwargs)
        (corpus / "brief.txt").unlink(missing_ok=True)
        return found

    monkeypatch.setattr(documents, "list_files", list_then_delete)
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0
    assert "warning: brief.txt: skipped, it disappeared while the folder was being read" in stderr
    assert_intact(out, embedder)


KILLED_BUILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import rag
from rag.index import storage as index_module
from tests.conftest import HashingEmbedder

def stall(folder):
    Path({marker!r}).write_text("saving")
    time.sleep(60)

index_module._fsync_tree = stall
rag.build({corpus!r}, {out!r}, model=HashingEmbedder(), reader=False, incremental=False)
"""


def test_a_process_killed_in_the_middle_of_indexing_leaves_the_previous_index(indexed, embedder, tmp_path):
    corpus, out = indexed
    (corpus / "harbour.txt").write_text(PARAGRAPH[0])
    marker = tmp_path / "saving.marker"
    script = KILLED_BUILD.format(root=str(ROOT), marker=str(marker), corpus=str(corpus), out=str(out))
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the indexing process never reached the save"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert any(p.name.startswith(".tmp-") for p in out.iterdir())  # the half-written save is left behind
    assert_intact(out, embedder)
    assert "harbour.txt" not in load_index(out).manifest.documents
    rag.build(corpus, out, model=embedder, reader=False)  # the next save clears the leftovers
    assert not any(p.name.startswith(".tmp-") for p in out.iterdir())
    assert "harbour.txt" in load_index(out).manifest.documents


SLOW_WRITER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import rag
from rag.index import storage as index_module
from tests.conftest import HashingEmbedder

real = index_module._fsync_tree

def slow(folder):  # hold the lock until the test has seen the second writer wait (at most 120 s)
    Path({marker!r}).write_text("saving")
    deadline = time.monotonic() + 120
    while not Path({release!r}).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    real(folder)

index_module._fsync_tree = slow
rag.build({corpus!r}, {out!r}, model=HashingEmbedder(), reader=False)
print("ok")
"""

SECOND_WRITER = """
import sys, warnings
sys.path.insert(0, {root!r})
import rag
from tests.conftest import HashingEmbedder
warnings.simplefilter("always")
rag.build({corpus!r}, {out!r}, model=HashingEmbedder(), reader=False)
print("ok")
"""


def test_two_writers_on_one_index_take_turns_and_the_index_is_whole(indexed, embedder, tmp_path):
    corpus, out = indexed
    (corpus / "harbour.txt").write_text(PARAGRAPH[0])
    marker, release, said = tmp_path / "saving.marker", tmp_path / "release.marker", tmp_path / "second.err"
    args = dict(root=str(ROOT), marker=str(marker), release=str(release), corpus=str(corpus), out=str(out))
    first = subprocess.Popen([sys.executable, "-c", SLOW_WRITER.format(**args)], stdout=subprocess.PIPE, text=True)
    waiting = f"another rag process is writing the index at {out}; waiting for it to finish"
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the first writer never reached the save"
        with open(said, "w") as err:  # the first writer holds the lock until the second says it waits
            second = subprocess.Popen([sys.executable, "-c", SECOND_WRITER.format(**args)], stdout=subprocess.PIPE,
                                      stderr=err, text=True)
            while waiting not in said.read_text() and second.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        release.write_text("go")
    assert first.wait(timeout=120) == 0 and first.stdout.read().strip() == "ok"
    assert second.wait(timeout=120) == 0 and second.stdout.read().strip() == "ok"
    assert waiting in said.read_text()
    assert_intact(out, embedder)
    assert "harbour.txt" in load_index(out).manifest.documents
    published = load_index(out).manifest.data
    assert [p.name for p in out.iterdir() if p.name.startswith((".tmp-", "data-"))] == [published]


def test_a_manifest_edited_into_invalid_json(indexed, embedder, capsys):
    corpus, out = indexed
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text()[:-40] + ",,, }")
    with pytest.raises(CorruptIndexError) as error:
        load_index(out)
    assert "manifest.json is not valid JSON" in str(error.value)
    assert f"Rebuild it with: rag index FOLDER --out {out}" in str(error.value)
    capsys.readouterr()
    assert cli.main(["ask", "--index", str(out), QUESTION]) == 1
    assert "manifest.json is not valid JSON" in capsys.readouterr().err
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 0 and "cannot be reused" in stderr and "indexing everything again" in stderr
    assert "3 added" in stdout
    assert_intact(out, embedder)


def test_an_index_built_with_another_model(indexed, embedder, monkeypatch):
    corpus, out = indexed
    monkeypatch.undo()  # let `model=` through
    other = HashingEmbedder(dimension=128, name="test/other-model")
    with pytest.raises(StaleIndexError) as error:
        rag.load(out, model=other, reader=False)
    assert str(error.value) == (f"index {str(out)!r} is stale: it was built with model 'test/hashing-256', but "
                                f"'test/other-model' was asked for. Rebuild it with: rag index {corpus} --out {out} "
                                f"--model test/other-model")
    assert_intact(out, embedder)  # refusing it changed nothing
    json.loads((out / "manifest.json").read_text())


def test_terminal_escapes_in_documents_never_reach_the_terminal(tmp_path, embedder, monkeypatch, capsys):
    monkeypatch.setattr(api, "_embedder_for", lambda model, default: embedder)
    corpus = write_corpus(tmp_path / "docs")
    (corpus / "rivers.md").write_text("\x1b]0;PWNED\x07The Danube flows through ten \x1b[8mcountries\x1b[0m before "
                                      "reaching the Black Sea.\x9b31m\n")
    (corpus / "evil\x1b[2Jname.txt").write_text("")  # an empty file: its name is printed in a warning
    out = tmp_path / "index"
    assert cli.main(["index", str(corpus), "--out", str(out), "--quiet"]) == 0
    assert cli.main(["ask", "--index", str(out), QUESTION]) == 0
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert ANSWER in captured.out
    assert "evil[2Jname.txt" not in printed and "evilname.txt" in printed  # the escape went, the rest stayed
    assert not any(c in printed for c in "\x1b\x07\x9b")


def test_zero_width_characters_in_a_question_do_not_change_the_answer(indexed, embedder):
    corpus, out = indexed
    qa = rag.load(out, model=embedder, reader=False)
    hidden = "How many coun\u200btries does the Dan\u2060ube flow\u00ad through?"
    assert qa.ask(hidden).answer == qa.ask(QUESTION).answer == ANSWER
    assert qa.ask(hidden).question == QUESTION


def test_a_full_disk_during_the_save_leaves_the_previous_index_and_no_leftovers(indexed, embedder, capsys,
                                                                                monkeypatch):
    import errno

    corpus, out = indexed
    before = sorted(p.name for p in out.iterdir())
    (corpus / "harbour.txt").write_text(PARAGRAPH[0])
    real_save = np.save

    def disk_full(path, *args, **kwargs):
        if str(path).endswith("sentences.npy"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(np, "save", disk_full)
    code, stdout, stderr = run(corpus, out, capsys)
    assert code == 1
    assert stderr.strip() == (f"rag index: could not write the index to {str(out)!r}: No space left on device; the "
                              "previous index there is unchanged")
    monkeypatch.setattr(np, "save", real_save)
    assert sorted(p.name for p in out.iterdir()) == before
    assert_intact(out, embedder)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_output_folder_is_refused_before_any_embedding(indexed, embedder, capsys, tmp_path):
    corpus, _ = indexed
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, stdout, stderr = run(corpus, locked / "index", capsys)
    finally:
        locked.chmod(0o700)
    assert code == 1
    assert stderr.strip() == (f"rag index: cannot write the index at {str(locked / 'index')!r}: Permission denied. "
                              "Choose a folder you can write to (--out)")


def test_an_output_folder_that_cannot_be_made_is_refused_before_any_embedding(indexed, embedder, capsys, tmp_path,
                                                                              monkeypatch):
    corpus, _ = indexed
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setattr(api, "build_index", lambda *a, **k: pytest.fail("embedded before checking"))
    code, stdout, stderr = run(corpus, tmp_path / "a-file" / "index", capsys)
    assert code == 1
    assert stderr.strip() == (f"rag index: cannot write the index at {str(tmp_path / 'a-file' / 'index')!r}: Not a "
                              "directory. Choose a folder you can write to (--out)")


def test_a_table_row_and_a_list_item_answer_questions(tmp_path, embedder):
    import docx

    corpus = write_corpus(tmp_path / "docs")
    document = docx.Document()
    document.add_heading("Travel policy", 1)
    table = document.add_table(rows=3, cols=2)
    for row, (item, amount) in zip(table.rows, [("Item", "Amount"), ("Meal allowance", "35 euros per day"),
                                                ("Hotel", "120 euros per night")]):
        row.cells[0].text, row.cells[1].text = item, amount
    document.save(corpus / "policy.docx")
    (corpus / "hours.md").write_text("# Opening hours\n\n- Monday to Friday: 9am to 6pm\n- Saturday: 10am to 2pm\n")
    qa = rag.build(corpus, tmp_path / "index", model=embedder, reader=False)
    assert qa.ask("What is the meal allowance?").answer == "Meal allowance | 35 euros per day"
    assert qa.ask("Are you open on Saturday?").answer == "Saturday: 10am to 2pm"
