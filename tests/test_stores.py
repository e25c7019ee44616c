"""The vector-store seam: FAISS and Milvus (Milvus Lite, a file in the index folder) behind one interface,
giving the same answers; incremental re-indexing through a database store updates it in place."""

from __future__ import annotations

import numpy as np
import pytest

import rag
from rag.index.manifest import read_manifest
from rag.index.storage import load_index
from rag.index.stores import StoreOption, create_store, parse_store, window_id

pytest.importorskip("pymilvus")
QUESTIONS = ["How many countries does the Danube flow through?", "What is a group of cats called?",
             "Where is Mount Etna?"]


@pytest.mark.parametrize("option", ["faiss:flat", "faiss:hnsw", "milvus"])
def test_every_store_keeps_vectors_under_ids(tmp_path, option):
    store = create_store(parse_store(option), 4, tmp_path)
    vectors = np.eye(4, dtype=np.float32)
    store.add(np.array([11, 22, 33, 44]), vectors)
    store.commit()
    assert len(store) == 4
    scores, ids = store.search(vectors[2:3], 2)
    assert ids[0, 0] == 33 and scores[0, 0] == pytest.approx(1.0)
    assert np.allclose(store.fetch(np.array([44, 11, 99])), [vectors[3], vectors[0], np.zeros(4)])
    store.add(np.array([11]), vectors[1:2])  # add replaces
    store.delete(np.array([22]))
    store.commit()
    assert len(store) == 3
    assert np.allclose(store.fetch(np.array([11, 22])), [vectors[1], np.zeros(4)])
    assert 22 not in store.search(vectors[1:2], 3)[1][0]


def test_a_few_queries_are_searched_on_one_thread_with_the_same_results_and_the_setting_restored():
    import faiss

    from rag.index.stores.faiss import SEARCH_ALONE_BELOW, FaissStore

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 8)).astype(np.float32)
    store = FaissStore.empty(8, "flat")
    store.add(np.arange(500), vectors)
    store.commit()
    queries = rng.normal(size=(SEARCH_ALONE_BELOW, 8)).astype(np.float32)
    together = store.search(queries, 5)  # a batch: FAISS's threads
    before = faiss.omp_get_max_threads()
    alone = [store.search(q[None, :], 5) for q in queries]  # one at a time: this thread alone
    assert faiss.omp_get_max_threads() == before
    assert np.array_equal(np.concatenate([ids for _, ids in alone]), together[1])
    assert np.allclose(np.concatenate([s for s, _ in alone]), together[0], atol=1e-5)


def test_store_options_are_checked_and_a_manifest_cannot_point_a_file_elsewhere():
    assert parse_store("hnsw") == StoreOption("faiss", "hnsw")
    assert parse_store("milvus") == StoreOption("milvus", "milvus.db")
    assert parse_store("milvus:http://db.example:19530#rag_1").collection == "rag_1"
    for bad in ("milvus:../elsewhere.db", "milvus:/etc/x.db", "qdrant", "faiss:ivf", "milvus:x.db#1bad"):
        with pytest.raises(ValueError, match=r"store '.*'"):
            parse_store(bad)


def test_window_ids_depend_on_the_document_content_only():
    assert window_id("a.txt", "f00", 0) == window_id("a.txt", "f00", 0)
    assert len({window_id("a.txt", "f00", 0), window_id("a.txt", "f01", 0), window_id("b.txt", "f00", 0),
                window_id("a.txt", "f00", 1)}) == 4
    assert 0 <= window_id("a.txt", "f00", 0) < 2 ** 63


def test_milvus_store_answers_as_faiss_and_loads(corpus, tmp_path, embedder):
    faiss_qa = rag.build(corpus, tmp_path / "faiss", model=embedder, reader=False)
    milvus_qa = rag.build(corpus, tmp_path / "milvus", model=embedder, reader=False, store="milvus")
    manifest = read_manifest(tmp_path / "milvus")
    assert manifest.store.startswith("milvus:milvus.db#rag_") and (tmp_path / "milvus" / "milvus.db").exists()
    for question in QUESTIONS:
        assert milvus_qa.ask(question).to_dict() == faiss_qa.ask(question).to_dict()
    del milvus_qa  # Milvus Lite: one client per file
    loaded = rag.load(tmp_path / "milvus", model=embedder, reader=False)
    assert [loaded.ask(q).to_dict() for q in QUESTIONS] == [faiss_qa.ask(q).to_dict() for q in QUESTIONS]


def test_milvus_store_is_updated_in_place_by_document(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    first = rag.build(corpus, out, model=embedder, reader=False, store="milvus").index
    collection = first.manifest.store
    danube, cats = (first.window_ids[np.isin(first.window_passage, [p.id for p in first.passages if p.source == s])]
                    for s in ("rivers.md", "cats.txt"))
    (corpus / "rivers.md").write_text("# Rivers\n\nThe Thames flows through London to the North Sea.\n")
    (corpus / "cats.txt").unlink()
    (corpus / "penguins.txt").write_text("Penguins live in the southern hemisphere and cannot fly.")
    del first
    second = rag.build(corpus, out, model=embedder, reader=False, store="milvus")
    index = second.index
    assert index.manifest.store == collection  # the same collection, updated
    assert index.changes["updated"] == ["rivers.md"] and index.changes["removed"] == ["cats.txt"]
    assert index.changes["added"] == ["penguins.txt"] and index.changes["unchanged"] == ["volcano.txt"]
    assert len(index.store) == len(index.window_ids)  # nothing left of the old rivers.md or cats.txt
    assert not index.store.fetch(np.concatenate([danube, cats])).any()
    assert second.ask("Where do penguins live?").citations[0].source == "penguins.txt"
    assert second.ask("Where does the Thames flow?").citations[0].source == "rivers.md"
    del second, index
    assert len(load_index(out).store) == read_manifest(out).counts["windows"]


def test_a_full_rebuild_writes_a_new_collection_and_drops_the_old_one(corpus, tmp_path, embedder):
    out = tmp_path / "index"
    first = rag.build(corpus, out, model=embedder, reader=False, store="milvus").index.manifest.store
    qa = rag.build(corpus, out, model=embedder, reader=False, store="milvus", incremental=False)
    second = qa.index.manifest.store
    assert second != first
    client = qa.index.store.client
    assert client.has_collection(second.partition("#")[2]) and not client.has_collection(first.partition("#")[2])


def test_a_server_store_that_is_down_says_so(corpus, tmp_path, embedder):
    with pytest.raises(rag.RagError, match=r"cannot reach the Milvus store at http://127.0.0.1:9"):
        rag.build(corpus, tmp_path / "index", model=embedder, reader=False, store="milvus:http://127.0.0.1:9")


@pytest.fixture
def milvus_server(tmp_path):
    """A Milvus Lite server in its own process, reached by URL as a Milvus cluster would be."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "server"),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_milvus_server_by_url_serves_the_index(corpus, tmp_path, embedder, milvus_server):
    out = tmp_path / "index"
    built = rag.build(corpus, out, model=embedder, reader=False, store=f"milvus:{milvus_server}")
    assert built.index.manifest.store.startswith(f"milvus:{milvus_server}#rag_")
    assert not (out / "milvus.db").exists()  # the vectors are in the server, not the folder
    loaded = rag.load(out, model=embedder, reader=False)
    assert [loaded.ask(q).to_dict() for q in QUESTIONS] == [built.ask(q).to_dict() for q in QUESTIONS]
