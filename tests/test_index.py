import json
import os
import shutil

import numpy as np
import pytest

import rag
from rag.errors import CorruptIndexError, IndexNotFoundError, StaleIndexError
from rag.index.build import build_index
from rag.index.manifest import read_manifest
from rag.index.storage import load_index, save_index
from tests.conftest import HashingEmbedder


def test_save_load_round_trip_gives_the_same_answers(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    built = rag.build(corpus, out, model=embedder, reader=False)
    loaded = rag.load(out, model=embedder, reader=False)
    for question in ["How many countries does the Danube flow through?", "What is a group of cats called?"]:
        assert loaded.ask(question).to_dict() == built.ask(question).to_dict()
    manifest = read_manifest(out)
    assert manifest.model == embedder.name and manifest.dimension == embedder.dimension
    assert set(manifest.documents) == {"cats.txt", "rivers.md", "volcano.txt"}
    assert manifest.corpus == "../docs"
    assert sorted(os.listdir(out / manifest.data)) == ["passages.jsonl", "sentences.npy", "vectors.faiss",
                                                          "window_ids.npy", "windows.npy"]


def test_index_files_hold_no_pickles(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    data = out / json.loads((out / "manifest.json").read_text())["data"]
    for name in ("windows.npy", "sentences.npy"):
        np.load(data / name, allow_pickle=False)  # raises if the array needed pickle


def test_a_crash_while_saving_leaves_the_old_index_usable(corpus, tmp_path, embedder, monkeypatch):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    before = rag.load(out, model=embedder, reader=False).ask("Where does the Rhine rise?").to_dict()
    (corpus / "new.txt").write_text("Penguins live in the southern hemisphere and cannot fly.")
    index = build_index(corpus, embedder)
    real_replace = os.replace

    def crash_on_manifest(src, dst):
        if str(dst).endswith("manifest.json"):
            raise KeyboardInterrupt("killed")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        save_index(index, out)
    monkeypatch.undo()
    (corpus / "new.txt").unlink()
    assert rag.load(out, model=embedder, reader=False).ask("Where does the Rhine rise?").to_dict() == before


def test_an_out_of_date_index_still_answers_with_one_warning_saying_what_changed(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    before = rag.load(out, model=embedder, reader=False).ask("How many countries does the Danube flow through?")
    listing = list(out.iterdir())
    (corpus / "cats.txt").write_text("Cats are now dogs.")
    (corpus / "volcano.txt").unlink()
    (corpus / "new.md").write_text("A new document appears.")
    with pytest.warns(rag.RagWarning) as caught:
        qa = rag.load(out, model=embedder, reader=False)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"index {out} is out of date (")
    assert "1 document(s) added" in message and "new.md" in message
    assert "1 document(s) removed" in message and "volcano.txt" in message
    assert "1 document(s) changed" in message and "cats.txt" in message
    assert message.endswith(f"answering from it as it was built. Update it with: rag index {corpus} --out {out} "
                            "--model test/hashing-256")
    assert qa.ask("How many countries does the Danube flow through?") == before  # the last good index
    assert "volcano.txt" in {p.source for p in qa.index.passages}
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in listing)  # load never writes


def test_an_index_is_a_value_that_saving_does_not_change(corpus, tmp_path, embedder):
    index = build_index(corpus, embedder)
    saved = save_index(index, tmp_path / "index")
    assert index.path is None and index.manifest.data == "" and saved.path == tmp_path / "index"
    assert saved.manifest.data.startswith("data-") and saved.passages is index.passages
    with pytest.raises(AttributeError):
        index.passages = ()


def test_stale_index_is_rebuilt_when_asked(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    (corpus / "penguins.txt").write_text("Penguins live in the southern hemisphere and cannot fly.")
    with pytest.warns(rag.RagWarning, match="is stale .*penguins.txt.*rebuilding it"):
        qa = rag.refresh(out, model=embedder, reader=False)
    assert qa.ask("Where do penguins live?").citations[0].source == "penguins.txt"
    assert "penguins.txt" in rag.load(out, model=embedder, reader=False).titles  # saved, no longer stale


def test_an_index_built_with_another_model_is_refused(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    other = HashingEmbedder(name="test/other-model")
    with pytest.raises(StaleIndexError, match="built with model 'test/hashing-256', but 'test/other-model'"):
        rag.load(out, model=other, reader=False)


@pytest.mark.parametrize("field, value, message", [
    ("data", "../../elsewhere/data-0123456789abcdef", "names '../../elsewhere/data-0123456789abcdef' as its data "
                                                      "folder (expected data-<16 hex digits> inside the index folder)"),
    ("data", 123, "names 123 as its data folder (expected data-<16 hex digits> inside the index folder)"),
    ("corpus", ["x"], "names ['x'] as its corpus (expected a folder path)"),
    ("documents", {"a.txt": "nope"}, "has a malformed documents table"),
])
def test_a_manifest_cannot_point_outside_the_index_or_be_malformed(corpus, tmp_path, embedder, field, value,
                                                                    message):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, field: value}))
    with pytest.raises(CorruptIndexError) as error:
        rag.load(out, model=embedder, reader=False)
    assert str(error.value) == (f"index {str(out)!r} is corrupt: manifest.json {message}. "
                                f"Rebuild it with: rag index FOLDER --out {out}")


def test_one_flipped_byte_anywhere_in_the_data_is_caught_and_rag_index_repairs_it(corpus, tmp_path, embedder,
                                                                                 monkeypatch, capsys):
    from rag import api, cli

    monkeypatch.setattr(api, "_embedder_for", lambda model, default: embedder)
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    expected = rag.load(out, model=embedder, reader=False).ask("How many countries does the Danube flow through?")
    data = out / json.loads((out / "manifest.json").read_text())["data"]
    for name in ("vectors.faiss", "windows.npy", "sentences.npy", "passages.jsonl"):
        raw = bytearray((data / name).read_bytes())
        raw[len(raw) // 2] ^= 0x01
        (data / name).write_bytes(bytes(raw))
        with pytest.raises(CorruptIndexError, match="is damaged: the files in data-.* do not match the checksum"):
            load_index(out)
        assert cli.main(["index", str(corpus), "--out", str(out), "--quiet"]) == 0
        assert "cannot be reused" in capsys.readouterr().err  # re-embedded, not trusted
        assert rag.load(out, model=embedder, reader=False).ask(expected.question) == expected
        data = out / json.loads((out / "manifest.json").read_text())["data"]


def test_a_reader_during_a_rewrite_loads_the_new_index_whole(corpus, tmp_path, embedder, monkeypatch):
    from rag.index import storage as index_module

    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    (corpus / "penguins.txt").write_text("Penguins live in the southern hemisphere and cannot fly.")
    real = index_module._load_data
    calls = []

    def rewritten_meanwhile(path, manifest):
        calls.append(manifest.data)
        if len(calls) == 1:  # another process publishes a new index and removes this data folder
            monkeypatch.setattr(index_module, "_load_data", real)
            rag.build(corpus, out, model=embedder, reader=False)
            monkeypatch.setattr(index_module, "_load_data", rewritten_meanwhile)
        return real(path, manifest)

    monkeypatch.setattr(index_module, "_load_data", rewritten_meanwhile)
    loaded = load_index(out)
    assert calls[0] != calls[1] and "penguins.txt" in {p.source for p in loaded.passages}


def test_missing_index_names_the_fix(tmp_path):
    with pytest.raises(IndexNotFoundError, match=r"no index at .*nowhere': the folder does not exist. "
                                                 r"Build one with: rag index FOLDER --out .*nowhere"):
        rag.load(tmp_path / "nowhere")


def test_corrupt_manifest_names_the_fix(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    (out / "manifest.json").write_text("{ this is not json")
    with pytest.raises(CorruptIndexError, match=r"manifest.json is not valid JSON .*Rebuild it with: rag index"):
        rag.load(out, model=embedder, reader=False)


def test_missing_or_damaged_data_files_name_the_fix(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    rag.build(corpus, out, model=embedder, reader=False)
    data = out / json.loads((out / "manifest.json").read_text())["data"]
    shutil.copy(data / "vectors.faiss", tmp_path / "vectors.backup")
    (data / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(CorruptIndexError) as error:
        load_index(out)
    assert str(error.value) == (f"index {str(out)!r} is damaged: the files in {data.name} do not match the checksum "
                                f"in manifest.json. Rebuild it with: rag index {corpus} --out {out}")
    # An index written before checksums were recorded: the damage is still named by the file that has it.
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["data_sha256"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptIndexError, match=rf"index .* is corrupt: .*vectors.faiss: not a readable FAISS "
                                                rf"index.*Rebuild it with: rag index {corpus} --out {out}"):
        load_index(out)
    (data / "sentences.npy").unlink()
    shutil.copy(tmp_path / "vectors.backup", data / "vectors.faiss")
    with pytest.raises(CorruptIndexError, match=r"is incomplete: .*sentences.npy is missing"):
        load_index(out)


def test_skipped_files_do_not_make_the_index_stale(corpus, tmp_path, embedder):
    (corpus / "empty.txt").write_text("")
    out = tmp_path / "index"
    with pytest.warns(rag.RagWarning, match="empty.txt: skipped"):
        rag.build(corpus, out, model=embedder, reader=False)
    rag.load(out, model=embedder, reader=False)  # no StaleIndexError
    (corpus / "empty.txt").write_text("Now it has a sentence in it.")
    with pytest.warns(rag.RagWarning, match="out of date .1 document.s. changed.*empty.txt"):
        rag.load(out, model=embedder, reader=False)


def test_long_paragraphs_are_windowed(tmp_path):
    long_paragraph = " ".join(f"Sentence {i} talks about topic{i} in detail." for i in range(40))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.txt").write_text(long_paragraph)
    embedder = HashingEmbedder(max_tokens=30)
    index = build_index(folder, embedder)
    assert len(index.passages) == 1 and len(index.store) > 5
    assert index.manifest.counts["windows"] == len(index.store) == len(index.window_ids)
    # the last sentence is reachable although it is far past the model's limit
    qa = rag.QA(index, embedder)
    answer = qa.ask("What does sentence 39 talk about topic39?")
    assert answer.answered and "topic39" in answer.answer


class CountingEmbedder(HashingEmbedder):
    """Counts the texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts, *, batch_size=64, progress=False):
        self.texts.extend(texts)
        return super().encode(texts, batch_size=batch_size, progress=progress)


def test_incremental_reindex_embeds_only_new_and_changed_documents(corpus, tmp_path):
    embedder = CountingEmbedder()
    out = tmp_path / "index"
    first = rag.build(corpus, out, model=embedder, reader=False)
    assert first.index.changes["added"] == ["cats.txt", "rivers.md", "volcano.txt"]
    (corpus / "cats.txt").write_text("Cats\n\nA group of cats is called a clowder. Kittens are young cats.\n")
    (corpus / "new.txt").write_text("Penguins live in the southern hemisphere and cannot fly.\n")
    (corpus / "volcano.txt").unlink()
    embedder.texts.clear()
    again = rag.build(corpus, out, model=embedder, reader=False)
    changes = again.index.changes
    assert {k: changes[k] for k in ("added", "updated", "removed", "unchanged")} == {
        "added": ["new.txt"], "updated": ["cats.txt"], "removed": ["volcano.txt"], "unchanged": ["rivers.md"]}
    assert not any("Danube" in t or "Rhine" in t for t in embedder.texts)  # rivers.md was not embedded again
    assert changes["embedded_texts"] == len(embedder.texts) == 5  # 2 paragraphs + 3 sentences of the two files
    scratch = rag.build(corpus, tmp_path / "scratch", model=HashingEmbedder(), reader=False, incremental=False)
    for question in ["Where does the Rhine rise?", "What is a group of cats called?", "Where do penguins live?",
                     "Where is Mount Etna?"]:
        assert again.ask(question).to_dict() == scratch.ask(question).to_dict()
    assert load_index(out).manifest.documents == scratch.index.manifest.documents


def test_index_command_prints_what_changed(corpus, tmp_path, embedder, monkeypatch, capsys):
    from rag import api, cli

    monkeypatch.setattr(api, "_embedder_for", lambda model, default: embedder)
    out = tmp_path / "index"
    assert cli.main(["index", str(corpus), "--out", str(out), "--quiet"]) == 0
    (corpus / "new.txt").write_text("Penguins live in the southern hemisphere and cannot fly.\n")
    capsys.readouterr()
    assert cli.main(["index", str(corpus), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("documents: 1 added, 0 updated, 0 removed, 3 unchanged; 2 texts embedded in ")
    assert "  added: new.txt\n" in printed
    monkeypatch.setattr(cli, "LISTED", 3)
    assert cli.main(["index", str(corpus), "--out", str(out), "--quiet", "--full"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("documents: 4 added, 0 updated, 0 removed, 0 unchanged")
    assert printed.count("  added: ") == 3  # the rest are counted, and where to find them said
    assert f"  ... and 1 more added (every document is in {out / 'manifest.json'})\n" in printed


def test_approximate_store_is_recorded_and_loads(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    qa = rag.build(corpus, out, model=embedder, reader=False, store="hnsw")
    assert qa.index.manifest.store == "faiss:hnsw"
    loaded = load_index(out)
    assert loaded.store.uri == "faiss:hnsw" and loaded.manifest.store == "faiss:hnsw"
    exact = rag.build(corpus, tmp_path / "exact", model=embedder, reader=False, store="faiss:flat")
    assert exact.index.manifest.store == "faiss:flat"
    question = "How many countries does the Danube flow through?"
    assert rag.QA(loaded, embedder).ask(question).to_dict() == exact.ask(question).to_dict()
    with pytest.raises(ValueError, match=r"unknown store 'ivf': use faiss \(or faiss:flat, faiss:hnsw\), milvus "
                                         r"\(or milvus:NAME.db, milvus:http://HOST:19530\)"):
        rag.build(corpus, model=embedder, reader=False, store="ivf")


def test_the_bundled_index_is_only_ever_built_from_the_bundled_corpus(corpus, tmp_path, embedder, monkeypatch):
    from rag import api

    out = tmp_path / "embeddings"
    monkeypatch.setattr(api, "DEFAULT_INDEX", out)
    monkeypatch.setattr(api, "DEFAULT_CORPUS", corpus)
    rag.build(corpus, out, model=embedder, reader=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "planted.txt").write_text("A planted document that the bundled index must never serve.")
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "corpus": str(elsewhere)}))
    with pytest.warns(rag.RagWarning, match=rf"the bundled index at {out} names another corpus .*elsewhere.; "
                                            rf"rebuilding it from {corpus}"):
        qa = api.load_bundled(model=embedder, reader=False)
    assert {p.source for p in qa.index.passages} == {"cats.txt", "rivers.md", "volcano.txt"}


def test_an_installation_without_the_bundled_example_says_what_to_do(tmp_path, monkeypatch):
    from rag import api, cli

    monkeypatch.setattr(api, "DEFAULT_INDEX", tmp_path / "site-packages" / "embeddings")
    monkeypatch.setattr(api, "DEFAULT_CORPUS", tmp_path / "site-packages" / "seeds")
    with pytest.raises(IndexNotFoundError) as error:
        api.load_bundled()
    assert str(error.value) == (
        "no index given, and this installation has no bundled example (seeds/ and embeddings/ come with the source "
        f"repository, not with the package; looked in {tmp_path / 'site-packages' / 'embeddings'}). Index your "
        "documents with: rag index FOLDER --out INDEX, then pass --index INDEX (rag.load(INDEX) in Python)")
    with pytest.raises(IndexNotFoundError) as loading:
        rag.load()  # the same words, never a folder inside the installation to build in
    assert str(loading.value) == str(error.value)
    assert cli.main(["ask", "Where is the Danube?"]) == 1
