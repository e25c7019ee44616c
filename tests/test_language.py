"""A second language as a setting: one `language` flows from the CLI and API into chunking (sentences,
page furniture), BM25 (stemmer, stop words) and the manifest. French and German corpora, written here,
index and answer with the fake embedder; English stays the default."""

from __future__ import annotations

import pytest

import rag
from rag import cli
from rag.index.lexical import BM25Index
from rag.index.manifest import read_manifest
from rag.ingest.cleaning import BODY, BOILERPLATE, classify
from rag.ingest.language import language
from tests.conftest import write_corpus

FRENCH = {
    "pont.txt": "Madame, Monsieur,\n\nLe Pont Neuf est le plus ancien pont de Paris. Sa construction commença en "
                "1578 sous le règne d'Henri III. Les travaux furent achevés en 1607.\n\nIl relie la rive "
                "gauche à la rive droite en traversant l'île de la Cité.\n\nCordialement,\n\nTous droits réservés.",
    "musee.md": "# Le musée\n\nLe musée du Louvre ouvre ses portes tous les jours sauf le mardi. Les collections "
                "comptent plus de trente mille œuvres exposées.\n",
}
GERMAN = {
    "rhein.txt": "Sehr geehrte Damen und Herren,\n\nDer Rhein entspringt in den Schweizer Alpen und mündet in die "
                 "Nordsee. Er ist einer der längsten Flüsse Europas.\n\nMit freundlichen Grüßen",
    "brot.txt": "Das Brot wird jeden Morgen in der Bäckerei am Marktplatz gebacken. Die Bäcker beginnen um vier "
                "Uhr mit der Arbeit.",
}


def test_french_corpus_indexes_and_answers(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "docs", FRENCH)
    qa = rag.build(corpus, tmp_path / "index", model=embedder, reader=False, language="fr")
    assert read_manifest(tmp_path / "index").language == "fr"
    answer = qa.ask("Quand les travaux du Pont Neuf furent-ils achevés ?")
    assert answer.answer == "Les travaux furent achevés en 1607."
    quoted = {p.text for p in qa.index.passages}
    assert not any(t.startswith(("Madame", "Cordialement", "Tous droits")) for t in quoted)  # furniture dropped
    # A reloaded index keeps its language: BM25 stems and drops French stop words.
    loaded = rag.load(tmp_path / "index", model=embedder, reader=False)
    assert loaded.index.bm25.language.code == "fr"
    assert loaded.ask("Quels jours le musée du Louvre ouvre-t-il ses portes ?").citations[0].source == "musee.md"


def test_german_corpus_indexes_and_answers_from_the_cli(tmp_path, embedder, monkeypatch, capsys):
    from rag import api

    corpus = write_corpus(tmp_path / "docs", GERMAN)
    monkeypatch.setattr(api, "load_embedder", lambda name: embedder)
    assert cli.main(["index", str(corpus), "--out", str(tmp_path / "index"), "--quiet", "--language", "de"]) == 0
    assert "(faiss:flat, German)" in capsys.readouterr().out
    qa = rag.load(tmp_path / "index", model=embedder, reader=False)
    assert qa.ask("Wo entspringt der Rhein?").answer.startswith("Der Rhein entspringt in den Schweizer Alpen")
    assert {p.text.split()[0] for p in qa.index.passages} == {"Der", "Das"}  # greeting and closing dropped


def test_language_settings_differ_where_they_should():
    english, french = BM25Index(["The bridges were built"]), BM25Index(["Les ponts furent construits"],
                                                                        language="fr")
    assert english.tokenize(["the bridges were built"]) == [["bridg", "built"]]
    assert french.tokenize(["les ponts furent construits"]) == [["pont", "construit"]]
    assert classify(["Cordialement,"], language="fr") == [BOILERPLATE]
    assert classify(["Cordialement,"], language="en") != [BOILERPLATE]
    assert classify(["Yours sincerely,"], language="en") == [BOILERPLATE]
    assert classify(["Die Bäcker beginnen um vier Uhr mit der Arbeit und backen Brot."], language="de") == [BODY]
    assert language("French") is language("fr")


def test_an_unsupported_language_is_refused_with_the_choices(tmp_path, embedder, capsys):
    corpus = write_corpus(tmp_path / "docs", GERMAN)
    with pytest.raises(ValueError, match=r"^unsupported language 'xx': rag reads en, fr, de \(English, French, "
                                         r"German\)$"):
        rag.build(corpus, model=embedder, reader=False, language="xx")
    assert cli.main(["index", str(corpus), "--out", str(tmp_path / "i"), "--language", "xx"]) == 2
    assert "rag index: unsupported language 'xx'" in capsys.readouterr().err
