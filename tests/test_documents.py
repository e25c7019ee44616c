import codecs

import pytest

from rag.errors import CorpusError, RagWarning
from rag.ingest.documents import fingerprint, load_documents
from tests.conftest import write_corpus


def test_unreadable_files_are_skipped_with_a_warning_naming_them(tmp_path):
    folder = write_corpus(tmp_path / "docs", {
        "good.txt": "A perfectly good sentence lives here.",
        "empty.txt": "",
        "blank.md": "   \n\n  ",
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR",
        "image.png": b"\x89PNG",
    })
    with pytest.warns(RagWarning) as record:
        docs = list(load_documents(folder))
    assert [d.source for d in docs] == ["good.txt"]
    messages = sorted(str(w.message) for w in record)
    assert "binary.txt: skipped, it looks binary (it contains NUL bytes)" in messages
    assert "blank.md: skipped, it is empty" in messages
    assert "empty.txt: skipped, it is empty" in messages
    assert "image.png: skipped, no loader for '.png' files" in messages


def test_latin1_and_utf16_files_are_decoded(tmp_path):
    folder = write_corpus(tmp_path / "docs", {
        "latin.txt": "Café au lait coûte cher.".encode("latin-1"),
        "utf16.txt": codecs.BOM_UTF16_LE + "Naïve résumé text.".encode("utf-16-le"),
    })
    with pytest.warns(RagWarning, match="latin.txt: not valid UTF-8; decoded as Windows-1252/Latin-1"):
        docs = {d.source: d.text for d in load_documents(folder)}
    assert docs == {"latin.txt": "Café au lait coûte cher.", "utf16.txt": "Naïve résumé text."}


def test_missing_folder_says_so(tmp_path):
    with pytest.raises(CorpusError, match="document folder .*nowhere' does not exist or is not a folder"):
        list(load_documents(tmp_path / "nowhere"))


def test_metadata_titles_and_hashes(tmp_path):
    folder = write_corpus(tmp_path / "docs", {"a.txt": "Some text here.",
                                              "metadata.json": '{"a.txt": {"title": "Document A"}}'})
    [doc] = load_documents(folder)
    assert doc.title == "Document A"
    assert fingerprint(folder) == {"a.txt": doc.sha256}
    (folder / "metadata.json").write_text('{"a.txt": {"title": "Renamed"}}')
    assert fingerprint(folder)["a.txt"] != doc.sha256


def test_invalid_metadata_is_ignored_with_a_warning(tmp_path):
    folder = write_corpus(tmp_path / "docs", {"a.txt": "Some text here.", "metadata.json": "{not json"})
    with pytest.warns(RagWarning, match="metadata.json: ignored, not valid JSON"):
        [doc] = load_documents(folder)
    assert doc.title is None
