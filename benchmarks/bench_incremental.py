"""Incremental re-indexing: adding one document to a 1,000-document index, against embedding
that one document alone and against re-indexing everything.

    python benchmarks/bench_incremental.py [--squad PATH/dev-v1.1.json] [--rounds 5]

The 1,000 documents are made of SQuAD dev paragraphs (two or three per document), written to a
temporary folder. Each round adds one new document (a paragraph of another article) and runs
`rag.build` on the folder, which reuses every unchanged document's vectors; then it removes the
document again. In the same round, the new document's texts are embedded on their own
(`model.encode`), which is the floor for any re-index. Medians over the rounds are reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import rag
from rag.encoders.embedder import load_embedder
from rag.ingest.chunking import ChunkSettings, chunk_document
from rag.ingest.documents import Document

ROOT = Path(__file__).resolve().parent.parent


def write_corpus(squad: Path, folder: Path, documents: int) -> list[str]:
    """`documents` files of consecutive SQuAD paragraphs; returns the unused paragraphs."""
    data = json.loads(squad.read_text(encoding="utf-8"))
    paragraphs = [" ".join(p["context"].split()) for article in data["data"] for p in article["paragraphs"]]
    per_doc = max(1, (len(paragraphs) - 50) // documents)
    for i in range(documents):
        chunk = paragraphs[i * per_doc:(i + 1) * per_doc]
        (folder / f"doc{i:04d}.txt").write_text("\n\n".join(chunk) + "\n", encoding="utf-8")
    return paragraphs[documents * per_doc:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "data" / "squad-dev-v1.1.json"))
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "docs", Path(tmp) / "index"
        folder.mkdir()
        spare = write_corpus(Path(args.squad), folder, args.documents)
        started = time.perf_counter()
        qa = rag.build(folder, out, model=embedder, reader=False)
        full = time.perf_counter() - started
        counts = qa.index.manifest.counts
        print(f"full index: {counts['documents']} documents, {counts['passages']} passages, "
              f"{counts['windows'] + counts['sentences']} texts embedded in {full:.1f} s")
        incremental, alone, embedded = [], [], []
        for r in range(args.rounds):
            text = spare[r % len(spare)]
            new = folder / "zz-new.txt"
            new.write_text(text + "\n", encoding="utf-8")
            # The floor: chunk and embed this one document by itself.
            t = time.perf_counter()
            _, passages, spans = chunk_document(Document("zz-new.txt", text, "0" * 64), embedder.count_tokens,
                                                ChunkSettings(max_tokens=embedder.max_tokens))
            embedder.encode([p.text[s:e] for p, sp in zip(passages, spans) for s, e in sp]
                            + [p.text[s:e] for p in passages for s, e in p.sentences])
            alone.append(time.perf_counter() - t)
            t = time.perf_counter()
            qa = rag.build(folder, out, model=embedder, reader=False)
            incremental.append(time.perf_counter() - t)
            changes = qa.index.changes
            assert changes["added"] == ["zz-new.txt"] and len(changes["unchanged"]) == args.documents, changes
            embedded.append(changes["embedded_texts"])
            assert qa.ask(text.split(". ")[0] + "?").citations[0].source == "zz-new.txt"
            new.unlink()
            rag.build(folder, out, model=embedder, reader=False)  # back to the 1,000 documents
        inc, one = statistics.median(incremental), statistics.median(alone)
        print(f"add one document: median {inc:.2f} s (rounds: {', '.join(f'{x:.2f}' for x in incremental)}); "
              f"texts embedded: {statistics.median(embedded):.0f}")
        print(f"embedding that document alone: median {one:.2f} s -> incremental / alone = {inc / one:.1f}x")
        print(f"full re-index: {full:.1f} s -> incremental is {full / inc:.0f}x faster")


if __name__ == "__main__":
    main()
