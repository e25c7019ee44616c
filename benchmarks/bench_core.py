"""Speed of the core: `ask` latency against the bare floor, and index build throughput against raw encoding.

    python benchmarks/bench_core.py [--corpus seeds] [--rounds 5]

The floor is what no extractive QA over this index can avoid: encode the question with the
model and run one FAISS search. Both are measured in the same process, interleaved question by
question, so machine noise hits them alike. Build throughput (texts embedded per second, the
whole `build_index`: reading, cleaning, chunking, embedding, FAISS and BM25) is compared with
`model.encode` on exactly the same texts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import rag
from rag.encoders.embedder import load_embedder
from rag.index.build import build_index
from rag.index.storage import save_index

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT / "seeds"))
    parser.add_argument("--questions", default=str(ROOT / "benchmarks" / "seeds_questions.jsonl"))
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of every question / build")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    embedder = load_embedder()
    questions = [json.loads(line)["question"] for line in Path(args.questions).read_text("utf-8").splitlines()]

    # Build throughput vs raw encode of the same texts, alternating which runs first in each round.
    index = build_index(args.corpus, embedder)  # warm-up, and the texts a build embeds
    if index.manifest.counts["windows"] != len(index.passages):
        raise SystemExit("corpus has windowed paragraphs; this benchmark encodes whole paragraphs")
    texts = [p.text for p in index.passages] + [p.text[s:e] for p in index.passages for s, e in p.sentences]
    embedder.encode(texts)
    build_times, encode_times = [], []
    for round_ in range(args.rounds):
        for step in ((0, 1) if round_ % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            if step == 0:
                build_index(args.corpus, embedder)
                build_times.append(time.perf_counter() - start)
            else:
                embedder.encode(texts)
                encode_times.append(time.perf_counter() - start)
    n_texts = index.manifest.counts["windows"] + index.manifest.counts["sentences"]

    with tempfile.TemporaryDirectory() as tmp:
        save_index(index, tmp)
        qa = rag.load(tmp, model=embedder, reader=False)  # the reader is timed by bench_reader.py
        for q in questions[:5]:  # warm-up
            qa.ask(q)
        floor, ask = [], []
        for _ in range(args.rounds):
            for q in questions:
                start = time.perf_counter()
                vector = embedder.encode([q])
                qa.index.store.search(vector, 10)
                floor.append(time.perf_counter() - start)
                start = time.perf_counter()
                qa.ask(q)
                ask.append(time.perf_counter() - start)

    result = {
        "questions": len(questions) * args.rounds,
        "ask_p50_ms": percentile(ask, 50) * 1000, "ask_p95_ms": percentile(ask, 95) * 1000,
        "floor_p50_ms": percentile(floor, 50) * 1000, "floor_p95_ms": percentile(floor, 95) * 1000,
        "build_texts": n_texts,
        "build_texts_per_s": n_texts / statistics.median(build_times),
        "encode_texts_per_s": n_texts / statistics.median(encode_times),
    }
    result["ask_over_floor_p50"] = result["ask_p50_ms"] / result["floor_p50_ms"]
    result["build_over_encode"] = result["build_texts_per_s"] / result["encode_texts_per_s"]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"ask latency   p50 {result['ask_p50_ms']:7.1f} ms  p95 {result['ask_p95_ms']:7.1f} ms  "
          f"({result['questions']} questions)")
    print(f"floor         p50 {result['floor_p50_ms']:7.1f} ms  p95 {result['floor_p95_ms']:7.1f} ms  "
          "(encode question + one FAISS search)")
    print(f"ask / floor   p50 {result['ask_over_floor_p50']:.2f}x   (target <= 1.5x)")
    print(f"build         {result['build_texts_per_s']:7.1f} texts/s  ({n_texts} texts: windows + sentences)")
    print(f"raw encode    {result['encode_texts_per_s']:7.1f} texts/s  (model.encode, same texts)")
    print(f"build / encode {result['build_over_encode']:.2f}x  (target >= 0.9x)")


if __name__ == "__main__":
    main()
