"""Distributed embedding: `rag.build(workers=N)` (Ray Data) against the single-process build, in one run.

    python benchmarks/bench_ray.py [--squad PATH/dev-v1.1.json] [--paragraphs 300]
                                   [--workers 2]

The corpus is the first `--paragraphs` SQuAD dev paragraphs, one file per article. Each build starts
from an empty index folder; the Ray build's time includes starting the workers and loading the model
in each (Ray itself is started once, before timing). Reported: seconds and texts/s of each, their
ratio, and whether the two indexes are identical (passages, ids, vectors).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import rag
from rag.encoders.embedder import load_embedder

ROOT = Path(__file__).resolve().parent.parent


def write_corpus(squad: Path, folder: Path, limit: int) -> None:
    data = json.loads(squad.read_text(encoding="utf-8"))
    taken = 0
    for number, article in enumerate(data["data"]):
        paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]][:limit - taken]
        if not paragraphs:
            break
        (folder / f"article{number:03d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        taken += len(paragraphs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "data" / "squad-dev-v1.1.json"))
    parser.add_argument("--paragraphs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ray-embedding.json"))
    args = parser.parse_args()

    import ray

    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        write_corpus(Path(args.squad), folder, args.paragraphs)
        runs = {}
        for name, workers in (("single_process", 0), ("ray", args.workers)):
            started = time.perf_counter()
            qa = rag.build(folder, Path(tmp) / name, model=embedder, reader=False, workers=workers)
            seconds = time.perf_counter() - started
            texts = qa.index.changes["embedded_texts"]
            runs[name] = {"seconds": round(seconds, 1), "texts": texts, "texts_per_second": round(texts / seconds, 1),
                          "index": qa.index}
        one, many = runs["single_process"].pop("index"), runs["ray"].pop("index")
        identical = (one.passages == many.passages and np.array_equal(one.window_ids, many.window_ids)
                     and np.allclose(one.sentence_vectors, many.sentence_vectors, atol=1e-6)
                     and np.allclose(one.store.fetch(one.window_ids), many.store.fetch(many.window_ids), atol=1e-6))
    result = {"paragraphs": args.paragraphs, "workers": args.workers, **runs, "identical": identical,
              "ray_to_single_time": round(runs["ray"]["seconds"] / runs["single_process"]["seconds"], 2)}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
