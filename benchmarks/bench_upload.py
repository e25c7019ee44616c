"""Upload to answerable: how long the chat page takes to index a visitor's document, by its length.

    python benchmarks/bench_upload.py [--pages 1 10 100] [--rounds 3] [--out FILE.json]

A page is 500 words of the bundled seeds' prose, in paragraphs of about 120 words. Each size is indexed
the way the chat page does it (`rag.chat.uploads.index_uploads`: copy, read in a child process, chunk,
embed windows and sentences, build the in-memory index) with the models the page holds, until the
first question can be asked. Measured in one process, interleaved with a baseline: the same upload with
the encoder's texts per call set to 64 (`ENCODE_BATCH` before it was 16). Reported: the median seconds
per size for each, their ratio, the texts embedded, and the CPU's model and flags.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import rag
from rag.chat.uploads import discard, index_uploads

ROOT = Path(__file__).resolve().parent.parent
WORDS_PER_PAGE = 500


def document(pages: int, folder: Path) -> Path:
    words = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))).split()
    wanted = pages * WORDS_PER_PAGE
    words = (words * (wanted // len(words) + 1))[:wanted]
    paragraphs, current = [], []
    for w in words:
        current.append(w)
        if len(current) >= 120 and w.endswith("."):
            paragraphs.append(" ".join(current))
            current = []
    paragraphs.append(" ".join(current))
    path = folder / f"upload-{pages}-pages.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def cpu() -> dict:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
    return {"model": name, "flags": [f for f in wanted if f in flags]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    qa = rag.load()
    embedder = qa.embedder
    plain = embedder.encode

    def batch_of_64(texts, *, batch_size=64, progress=False):
        return plain(texts, batch_size=64, progress=progress)

    work = Path(tempfile.mkdtemp(prefix="rag-bench-upload-"))
    rows = []
    try:
        for pages in args.pages:
            source = document(pages, work)
            times: dict[str, list[float]] = {"rag": [], "batch of 64": []}
            texts = 0
            for _ in range(args.rounds):
                for name in times:
                    embedder.encode = plain if name == "rag" else batch_of_64
                    upload = work / "in" / source.name
                    upload.parent.mkdir(exist_ok=True)
                    shutil.copyfile(source, upload)
                    started = time.perf_counter()
                    collection = index_uploads([upload], qa)
                    times[name].append(time.perf_counter() - started)
                    passages = collection.qa.index.passages
                    texts = len(passages) + sum(len(p.sentences) for p in passages)
                    discard(collection)
            embedder.encode = plain
            medians = {name: statistics.median(t) for name, t in times.items()}
            rows.append({"pages": pages, "words": pages * WORDS_PER_PAGE, "texts_embedded": texts,
                         "seconds_median": round(medians["rag"], 3),
                         "baseline_batch_64_seconds_median": round(medians["batch of 64"], 3),
                         "ratio_to_baseline": round(medians["rag"] / medians["batch of 64"], 3)})
            print(f"{pages:>4} pages ({pages * WORDS_PER_PAGE:,} words, {texts} texts): "
                  f"{medians['rag']:.2f} s; batch of 64 {medians['batch of 64']:.2f} s "
                  f"({medians['rag'] / medians['batch of 64']:.2f}x)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {"cpu": cpu(), "rounds": args.rounds, "measured": time.strftime("%Y-%m-%d"), "sizes": rows}
    print(json.dumps(report["cpu"]))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
