"""The same answers from every store: SQuAD-open through the FAISS store and through Milvus, in one run.

    python benchmarks/bench_stores.py [--squad PATH/dev-v1.1.json] [--limit 2000]
                                      [--milvus milvus | milvus:http://HOST:19530] [--no-reader]

The FAISS index is the one `rag eval` builds (reused from .rag-eval/); the Milvus index is built from
it without embedding again (the same passages, the same vectors, moved into a collection). A seeded
random sample of the in-corpus questions is asked of both; reported per store: hybrid retrieval R@1/R@5/R@20,
answer accuracy (quote contains a gold answer, declined = wrong), short-answer EM, and the median time
per question. Writes JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import rag
from rag.encoders.embedder import load_embedder
from rag.eval.squad import evaluate, load_squad, sample
from rag.index.build import build_index
from rag.index.storage import save_index

ROOT = Path(__file__).resolve().parent.parent


def scores(qa: rag.QA, questions) -> dict:
    started = time.perf_counter()
    full = evaluate(qa, questions, k=20)
    report, hybrid = full["all"], full["all"]["retrieval"]["hybrid"]
    return {"R@1": hybrid["recall@1"], "R@5": hybrid["recall@5"], "R@20": hybrid["recall@20"],
            "answer_accuracy": report["answer_accuracy"], "exact_match": report["exact_match"],
            "ask_p50_ms": round(full["latency_ms"]["ask"]["p50"], 1),
            "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "data" / "squad-dev-v1.1.json"))
    parser.add_argument("--work", default=str(ROOT / ".rag-eval" / "squad-dev-v1.1"))
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--milvus", default="milvus", help="the Milvus store option (default: Milvus Lite)")
    parser.add_argument("--reader", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "stores-squad.json"))
    args = parser.parse_args()

    work = Path(args.work)
    questions = sample([q for q in load_squad(args.squad, work / "corpus") if not q.held_out], args.limit)
    embedder = load_embedder()
    faiss_dir = work / "index"
    if (faiss_dir / "manifest.json").exists():
        faiss_qa = rag.refresh(faiss_dir, model=embedder, reader=args.reader)
    else:
        faiss_qa = rag.build(work / "corpus", faiss_dir, model=embedder, progress=True, reader=args.reader)
    milvus_dir = work / "index-milvus"
    started = time.perf_counter()
    shutil.rmtree(milvus_dir, ignore_errors=True)
    moved = build_index(work / "corpus", embedder, previous=faiss_qa.index, store=args.milvus, out=milvus_dir)
    moved = save_index(moved, milvus_dir)
    move_s = time.perf_counter() - started
    milvus_qa = rag.QA(moved, embedder, reader=faiss_qa.reader)
    print(f"{len(questions)} questions; {len(moved.window_ids)} window vectors moved into {moved.manifest.store} "
          f"in {move_s:.1f} s (embedded again: {moved.changes['embedded_texts']})")
    results = {"questions": len(questions), "reader": args.reader, "move_seconds": round(move_s, 1),
               "passages": len(moved.passages), "windows": len(moved.window_ids)}
    for name, qa in (("faiss", faiss_qa), ("milvus", milvus_qa)):
        results[name] = scores(qa, questions) | {"store": qa.index.manifest.store}
        print(name, json.dumps(results[name]))
    results["largest_difference"] = max(abs(results["faiss"][m] - results["milvus"][m]) for m in
                                        ("R@1", "R@5", "R@20", "answer_accuracy"))
    results["ask_p50_ratio_milvus_to_faiss"] = round(results["milvus"]["ask_p50_ms"] /
                                                     results["faiss"]["ask_p50_ms"], 2)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
