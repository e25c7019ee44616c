"""Cleaning and chunking time against input size, on adversarial text: it must grow linearly.

    python benchmarks/bench_cleaning.py [--max-mb 10] [--json]

Each input is one Markdown file made of a repeated unit (50,000 "[" took 16 s before the patterns
were bounded by their delimiters). Timed: the Markdown loader, then `chunk_document` (paragraphs,
roles, sentences, windows) with a whitespace token counter, so that only rag's own text handling is
measured. The ratio column is time(size) / time(size / 2): about 2 when linear, about 4 when quadratic.
"""

from __future__ import annotations

import argparse
import json
import time

from rag.ingest.chunking import ChunkSettings, chunk_document
from rag.ingest.documents import Document
from rag.ingest.formats.markdown import MarkdownLoader

UNITS = {
    "prose": "The harbour was fortified after the siege of 1565, and its walls still stand today. ",
    "open brackets": "[",
    "unclosed links": "[a](",
    "emphasis runs": "*a ",
    "strong runs": "**a ",
    "unclosed comments": "<!--",
    "unclosed autolinks": "<http://",
    "one long line of words": "word ",
}


def words(texts):
    return [len(t.split()) for t in texts]


def run(text: str) -> float:
    start = time.perf_counter()
    extracted = MarkdownLoader().load(text.encode("utf-8"), "bench.md")
    chunk_document(Document("bench.md", extracted.text, "0"), words, ChunkSettings())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-mb", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes, mb = [], args.max_mb
    while mb >= 0.3:
        sizes.insert(0, mb)
        mb /= 2
    result = {}
    for name, unit in UNITS.items():
        times = {}
        for size in sizes:
            times[size] = run(unit * int(size * 2**20 / len(unit)))
        result[name] = {f"{s:g} MB": round(t, 3) for s, t in times.items()}
        result[name]["ratio at the largest size"] = round(times[sizes[-1]] / max(times[sizes[-2]], 1e-9), 2)
        if not args.json:
            print(f"{name:24} " + "  ".join(f"{s:g} MB {t:6.2f} s" for s, t in times.items())
                  + f"  ratio {result[name]['ratio at the largest size']:.2f}", flush=True)
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
