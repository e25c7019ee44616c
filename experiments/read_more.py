"""Would reading more passages when the reader is unsure pay? Measured on SQuAD-open's tune split only.

    python experiments/read_more.py [--limit 1500] [--held-out 600] [--skip 0] [--out FILE.json]

For each tune question (in-corpus ones against the whole index, held-out-article ones against the
index without their articles, as `rag eval` asks them) the reader reads the top 10 passages once.
Then each policy is replayed from those reads: the shipped one (the best passage alone, enough at the
first lead of `reader_stops`, else the top 5), and the same followed by passages 6-10 whenever the best
of the top 5 scores below a given level.
Reported per policy: answer accuracy (answered at the shipped threshold and the quote holds a gold
answer), the share answered, the share of held-out questions declined, and how often it read more.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import rag
from rag.answering.evidence import reader_evidence, reader_inputs, unread_lead
from rag.answering.retrieval import retrieve
from rag.eval.metrics import contains_answer
from rag.eval.squad import is_held_out, load_squad, sample
from rag.index.build import subset

PASSAGES = 10
LEVELS = (None, 0.0, 1.0, "threshold", 3.0, 4.0, 5.0, 6.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", required=True, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--work", default=".rag-eval/squad-dev-v1.1", help="the folder `rag eval` uses")
    parser.add_argument("--limit", type=int, default=1500, help="in-corpus tune questions")
    parser.add_argument("--held-out", type=int, default=600, help="held-out-article tune questions")
    parser.add_argument("--skip", type=int, default=0, metavar="N", help="leave out the first N of each sample")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    work = Path(args.work)
    questions = [q for q in load_squad(args.squad, work / "corpus") if q.split == "tune"]
    qa = rag.load(work / "index")
    settings = qa.answering
    threshold = qa.reader.logit_for(qa.reader.config.threshold)
    first_stop = dict(settings.reader_stops or ()).get(1, np.inf)
    reduced = subset(qa.index, lambda source: not is_held_out(source))
    started = time.perf_counter()
    records: dict[str, list] = {}
    for kind, index, count in (("in", qa.index, args.limit), ("out", reduced, args.held_out)):
        mine = [q for q in questions if q.held_out == (kind == "out")]
        mine = sample(mine, args.skip + count)[args.skip:]
        vectors = qa.embedder.encode([q.text for q in mine], batch_size=64)
        records[kind] = []
        for q, vector in zip(mine, vectors):
            retrieved = retrieve(index, vector, q.text, k=PASSAGES, settings=qa.retrieval)
            hits = retrieved.hits[:PASSAGES]
            passages = [index.passages[h.passage_id] for h in hits]
            added = reader_evidence(index, retrieved.terms, vector, hits, settings)
            lead = unread_lead(hits[1], settings) if len(hits) > 1 else 0.0
            records[kind].append(([
                (r.passage, r.logit + float(added[r.passage][r.sentence]),
                 kind == "in" and contains_answer(passages[r.passage].sentence_text(r.sentence), q.answers))
                for r in qa.reader.read(q.text, reader_inputs(index, passages))], lead))

    def best(record: tuple, level: float | None) -> tuple[float, bool, bool]:
        """(score, right, read more) of the answer the policy quotes."""
        reads, lead = record
        chosen = [r for r in reads if r[0] < 1]
        if not chosen or max(r[1] for r in chosen) - lead < first_stop:
            chosen = [r for r in reads if r[0] < 5]
        top = max((r[1] for r in chosen), default=-np.inf)
        more = level is not None and top < level
        if more:
            chosen = reads
        if not chosen:
            return -np.inf, False, more
        answer = max(chosen, key=lambda r: r[1])
        return answer[1], answer[2], more

    table = {}
    for level in LEVELS:
        value = threshold if level == "threshold" else level
        inside = [best(reads, value) for reads in records["in"]]
        outside = [best(reads, value) for reads in records["out"]]
        name = "shipped (top 5)" if level is None else f"read 6-10 below {level}"
        table[name] = {"accuracy": float(np.mean([s >= threshold and right for s, right, _ in inside])),
                       "answered": float(np.mean([s >= threshold for s, _, _ in inside])),
                       "held_out_declined": float(np.mean([s < threshold for s, _, _ in outside])),
                       "read_more": float(np.mean([more for _, _, more in inside]))}
    oracle = {f"top {k}": float(np.mean([any(r[2] for r in reads if r[0] < k) for reads, _ in records["in"]]))
              for k in (5, PASSAGES)}
    result = {"in_corpus_questions": len(records["in"]), "held_out_questions": len(records["out"]),
              "skipped": args.skip, "reader_runtime": qa.reader.runtime, "threshold_logit": threshold,
              "oracle": oracle, "policies": table, "seconds": round(time.perf_counter() - started)}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
