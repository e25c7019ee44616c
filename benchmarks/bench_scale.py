"""Scale: index a corpus of 10,000+ paragraphs with bounded memory, and measure what approximate
(HNSW) vector search costs in recall against exact search.

    python benchmarks/bench_scale.py [--squad PATH/dev-v1.1.json] [--copies 5]

The corpus is SQuAD dev's 2,067 paragraphs written `--copies` times with variations (each copy
drops a different sentence of every paragraph, and the copies' documents are split differently),
so there are no exact duplicates. Reported: build time, texts embedded per second, peak resident
memory (ru_maxrss) of this process, and the index size on disk. Then, on the same vectors:
exact (flat) against HNSW search with SQuAD questions as queries: recall@10 of HNSW against the
exact top 10 (and top 200, rag's candidate depth), and median search latency of each, in the same
process; the same on the corpus's ~42,000 sentence vectors. With `--synthetic`, search latency of
both on uniform random unit vectors at 10k / 50k / 200k rows, to show how exact search grows (the
`auto` store switches at rag.stores.faiss.APPROXIMATE_ABOVE vectors).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from rag.encoders.embedder import load_embedder
from rag.index.build import build_index
from rag.index.storage import save_index
from rag.index.stores.faiss import APPROXIMATE_ABOVE, FaissStore
from rag.ingest.chunking import split_sentences

ROOT = Path(__file__).resolve().parent.parent


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_variants(squad: Path, folder: Path, copies: int) -> int:
    data = json.loads(squad.read_text(encoding="utf-8"))
    count = 0
    for copy in range(copies):
        for a, article in enumerate(data["data"]):
            paragraphs = []
            for p in article["paragraphs"]:
                text = " ".join(p["context"].split())
                sentences = [text[s:e] for s, e in split_sentences(text)]
                if len(sentences) > 2:
                    del sentences[copy % len(sentences)]
                paragraphs.append(" ".join(sentences))
            half = len(paragraphs) // 2 if copy % 2 else len(paragraphs)
            for part, chunk in enumerate((paragraphs[:half], paragraphs[half:])):
                if chunk:
                    (folder / f"c{copy}_{a:03d}_{part}.txt").write_text("\n\n".join(chunk) + "\n", encoding="utf-8")
                    count += len(chunk)
    return count


def as_store(vectors: np.ndarray, mode: str) -> FaissStore:
    """The vectors in a FAISS store ("flat" or "hnsw"), under ids 0..n-1."""
    store = FaissStore.empty(vectors.shape[1], mode)
    store.add(np.arange(len(vectors), dtype=np.int64), vectors)
    return store


def search_ms(store: FaissStore, queries: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    times, ids = [], []
    for q in queries:
        t = time.perf_counter()
        _, found = store.search(q[None, :], k)
        times.append(time.perf_counter() - t)
        ids.append(found[0])
    return statistics.median(times) * 1000, np.array(ids)


def recall(approximate: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approximate, exact)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "data" / "squad-dev-v1.1.json"))
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--synthetic", action="store_true", help="also time search on random vectors")
    args = parser.parse_args()

    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "docs", Path(tmp) / "index"
        folder.mkdir()
        paragraphs = write_variants(Path(args.squad), folder, args.copies)
        before = peak_mb()
        started = time.perf_counter()
        index = build_index(folder, embedder, progress=True, store="flat")
        seconds = time.perf_counter() - started
        save_index(index, out)
        counts = index.manifest.counts
        texts = counts["windows"] + counts["sentences"]
        disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
        print(f"corpus: {counts['documents']:,} documents, {paragraphs:,} paragraphs written, "
              f"{counts['passages']:,} passages, {texts:,} texts embedded")
        print(f"build: {seconds:.0f} s, {texts / seconds:.0f} texts/s; peak RSS {peak_mb():.0f} MB "
              f"(after loading the model: {before:.0f} MB); index on disk {disk:.0f} MB")

        data = json.loads(Path(args.squad).read_text(encoding="utf-8"))
        questions = [qa["question"] for article in data["data"] for p in article["paragraphs"] for qa in p["qas"]]
        queries = embedder.encode(questions[::max(1, len(questions) // args.queries)][:args.queries])
        k = 10
        windows = index.store.fetch(index.window_ids)
        flat = as_store(windows, "flat")
        t = time.perf_counter()
        hnsw = as_store(windows, "hnsw")
        graph_s = time.perf_counter() - t
        flat_ms, exact_ids = search_ms(flat, queries, k)
        hnsw_ms, approx_ids = search_ms(hnsw, queries, k)
        print(f"{len(flat):,} window vectors: HNSW graph built in {graph_s:.1f} s; recall@{k} of HNSW vs exact "
              f"{recall(approx_ids, exact_ids):.4f}; median search {hnsw_ms:.3f} ms (HNSW) vs {flat_ms:.3f} ms "
              f"(exact)")
        wide_ms, wide_ids = search_ms(hnsw, queries, 200)
        exact_wide_ms, exact_wide = search_ms(flat, queries, 200)
        print(f"at k=200 (rag's candidate depth): recall {recall(wide_ids, exact_wide):.4f}; "
              f"{wide_ms:.3f} ms vs {exact_wide_ms:.3f} ms")
        # A larger set of real vectors: every sentence of the corpus.
        sentences = as_store(index.sentence_vectors, "flat")
        graph = as_store(index.sentence_vectors, "hnsw")
        for k in (10, 200):
            exact_ms, exact_ids = search_ms(sentences, queries, k)
            approx_ms, approx_ids = search_ms(graph, queries, k)
            print(f"{len(sentences):,} sentence vectors, k={k}: recall of HNSW vs exact "
                  f"{recall(approx_ids, exact_ids):.4f}; median search {approx_ms:.3f} ms vs {exact_ms:.3f} ms")
    if not args.synthetic:
        return

    rng = np.random.default_rng(0)
    for n in (10_000, APPROXIMATE_ABOVE, 200_000):
        vectors = rng.standard_normal((n, 384)).astype(np.float32)
        faiss.normalize_L2(vectors)
        synthetic = as_store(vectors, "flat")
        probe = vectors[rng.choice(n, 200, replace=False)] + 0.05 * rng.standard_normal((200, 384)).astype(np.float32)
        faiss.normalize_L2(probe)
        exact_ms, exact_ids = search_ms(synthetic, probe, 200)
        graph = as_store(vectors, "hnsw")
        approx_ms, approx_ids = search_ms(graph, probe, 200)
        print(f"uniform random {n:>7,} vectors (a worst case for graph search), k=200: exact {exact_ms:.2f} ms, "
              f"HNSW {approx_ms:.2f} ms, recall {recall(approx_ids, exact_ids):.3f}")


if __name__ == "__main__":
    main()
