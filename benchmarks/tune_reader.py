"""Choose the reader's answer settings on SQuAD-open's tune split (even-numbered articles) only:
how many retrieved passages it reads, and whether the evidence of the reader-less path (sentence
cosine, retrieval score, word overlap) still adds to its logit.

    python benchmarks/tune_reader.py [--squad FILE] [--limit 1500] [--out FILE.json]

For each tune question the reader reads the top 5 passages once; the answer for "read the top k"
is the best sentence among the first k, ranked by logit + w * (the sentence's evidence rank).
Accuracy (the quote contains a gold answer) and the reader's time per k are reported.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import rag
from rag.answer import reader_inputs, sentence_evidence
from rag.evaluate import contains_answer, load_squad, sample
from rag.retrieval import retrieve

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default="../shared/data/squad-dev-v1.1.json")
    parser.add_argument("--work", default=".rag-eval/squad-dev-v1.1", help="the folder `rag eval` uses")
    parser.add_argument("--limit", type=int, default=1500)
    parser.add_argument("--out", default=None)
    parser.add_argument("--reader", default=True, help="reader folder (default: the bundled one)")
    args = parser.parse_args()
    work = Path(args.work)
    questions = [q for q in load_squad(args.squad, work / "corpus") if q.split == "tune" and not q.held_out]
    questions = sample(questions, args.limit)
    qa = rag.load(work / "index", reader=args.reader)
    records, seconds = [], {k: [] for k in range(1, 6)}
    vectors = qa.embedder.encode([q.text for q in questions], batch_size=64)
    for i, (q, vector) in enumerate(zip(questions, vectors)):
        retrieved = retrieve(qa.index, vector, q.text, k=5, settings=qa.retrieval)
        hits = retrieved.hits
        passages = [qa.index.passages[h.passage_id] for h in hits]
        reads = qa.reader.read(q.text, reader_inputs(qa.index, passages))
        ranks = [rank for _, _, rank in sentence_evidence(qa.index, retrieved.terms, vector, hits, qa.answering)]
        records.append([(r.passage, float(ranks[r.passage][r.sentence]), r.logit,
                         contains_answer(passages[r.passage].sentence_text(r.sentence), q.answers)) for r in reads])
        if i % 10 == 0:  # the reader's own time for each k, on a tenth of the questions
            for k in seconds:
                start = time.perf_counter()
                qa.reader.read(q.text, reader_inputs(qa.index, passages[:k]))
                seconds[k].append(time.perf_counter() - start)
    table = {}
    for k in range(1, 6):
        for w in WEIGHTS:
            correct = []
            for rec in records:
                mine = [r for r in rec if r[0] < k]
                correct.append(max(mine, key=lambda r: r[2] + w * r[1])[3] if mine else False)
            table[f"k={k} w={w}"] = float(np.mean(correct))
    oracle = {f"k={k}": float(np.mean([any(r[3] for r in rec if r[0] < k) for rec in records])) for k in range(1, 6)}
    timing = {f"k={k}": float(np.median(v) * 1000) for k, v in seconds.items()}
    best = max(table, key=table.get)
    result = {"questions": len(records), "accuracy": table, "oracle": oracle, "reader_ms_p50": timing, "best": best}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
