"""Choose the reader's answer settings on SQuAD-open's tune split (even-numbered articles) only:
how many retrieved passages it reads, how much of the evidence term (`AnswerSettings.reader_evidence`:
sentence cosine, retrieval score, word overlap) to add to its logit, and the leads at which the passages
read so far are enough (`AnswerSettings.reader_stops`). The evidence term's own weights are chosen by
`tune_evidence.py`.

    python experiments/tune_reader.py [--squad FILE] [--limit 1500] [--skip 0] [--out FILE.json]

For each tune question the reader reads the top 5 passages once; the answer for "read the top k"
is the best sentence among the first k, ranked by logit + w * (the shipped evidence term); w = 1 ships.
Accuracy (the quote contains a gold answer) and the reader's time per k are reported.
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
from rag.eval.squad import load_squad, sample

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # times the shipped evidence term


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", required=True, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--work", default=".rag-eval/squad-dev-v1.1", help="the folder `rag eval` uses")
    parser.add_argument("--limit", type=int, default=1500)
    parser.add_argument("--skip", type=int, default=0, metavar="N",
                        help="leave out the N questions a run with --limit N used: a fresh sample to check a choice on")
    parser.add_argument("--out", default=None)
    parser.add_argument("--reader", default=True, help="reader folder (default: the bundled one)")
    args = parser.parse_args()
    work = Path(args.work)
    questions = [q for q in load_squad(args.squad, work / "corpus") if q.split == "tune" and not q.held_out]
    used = {id(q) for q in sample(questions, args.skip)} if args.skip else set()
    questions = sample([q for q in questions if id(q) not in used], args.limit)
    qa = rag.load(work / "index", reader=args.reader)
    records, seconds = [], {k: [] for k in range(1, 6)}
    vectors = qa.embedder.encode([q.text for q in questions], batch_size=64)
    for i, (q, vector) in enumerate(zip(questions, vectors)):
        retrieved = retrieve(qa.index, vector, q.text, k=5, settings=qa.retrieval)
        hits = retrieved.hits
        passages = [qa.index.passages[h.passage_id] for h in hits]
        reads = qa.reader.read(q.text, reader_inputs(qa.index, passages))
        added = reader_evidence(qa.index, retrieved.terms, vector, hits, qa.answering)
        records.append(([(r.passage, float(added[r.passage][r.sentence]), r.logit,
                          contains_answer(passages[r.passage].sentence_text(r.sentence), q.answers)) for r in reads],
                        [unread_lead(h, qa.answering) for h in hits]))
        if i % 10 == 0:  # the reader's own time for each k, on a tenth of the questions
            for k in seconds:
                start = time.perf_counter()
                qa.reader.read(q.text, reader_inputs(qa.index, passages[:k]))
                seconds[k].append(time.perf_counter() - start)
    table = {}
    for k in range(1, 6):
        for w in WEIGHTS:
            correct = []
            for rec, _ in records:
                mine = [r for r in rec if r[0] < k]
                correct.append(max(mine, key=lambda r: r[2] + w * r[1])[3] if mine else False)
            table[f"k={k} w={w}"] = float(np.mean(correct))
    oracle = {f"k={k}": float(np.mean([any(r[3] for r in rec if r[0] < k) for rec, _ in records]))
              for k in range(1, 6)}
    timing = {f"k={k}": float(np.median(v) * 1000) for k, v in seconds.items()}
    best = max(table, key=table.get)
    result = {"questions": len(records), "skipped_sample": args.skip, "accuracy": table, "oracle": oracle,
              "reader_ms_p50": timing, "best": best,
              "stop": {f"k={k}": stop_table(records, seconds, k, 1.0) for k in (3, 4, 5)}}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


STOPS = (2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0)
SECOND_STOPS = (2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


def read_in_stages(record: tuple, stages: tuple, k: int, w: float) -> tuple[bool, list[int]]:
    """What `AnswerSettings.reader_stops` does for one question: (whether the answer is right, the
    number of passages of each forward pass)."""
    rec, leads = record  # the reads; what the evidence term gives each passage for its retrieval score
    read, done, passes = [], 0, []
    for upto, enough in stages:
        if upto >= k:
            break
        read += [r for r in rec if done <= r[0] < upto]
        passes.append(upto - done)
        done = upto
        if read and max(r[2] + w * r[1] for r in read) - w * leads[upto] >= enough:
            done = k
            break
    if done < k:
        read += [r for r in rec if done <= r[0] < k]
        passes.append(k - done)
    return (max(read, key=lambda r: r[2] + w * r[1])[3] if read else False), passes


def stop_table(records: list, seconds: dict, k: int, w: float) -> dict:
    """Reading k passages with w x the evidence term in stages, as `reader_stops` does. Per setting:
    accuracy, the share of questions stopped after one passage, the passages read per question, and
    the reader's time per question (p50 and mean over the timed questions, each the sum of the timed
    forward passes of its stages' sizes)."""
    out = {"k": k, "weight": w, "read_all": {"accuracy": float(np.mean([read_in_stages(r, (), k, w)[0]
                                                                         for r in records])),
                                             "reader_ms_p50": float(np.median(seconds[k]) * 1000)}}
    settings = {f"stop={s}": ((1, s),) for s in STOPS}
    settings.update({f"stop={s} then 3 passages, stop={t}": ((1, s), (3, t)) for s in (5.0, 6.0, 7.0)
                     for t in SECOND_STOPS})
    timed = {n: np.asarray(v) for n, v in seconds.items()}
    for name, stages in settings.items():
        results = [read_in_stages(rec, stages, k, w) for rec in records]
        times = [sum(timed[n][j] for n in passes) * 1000 for j, (_, passes) in enumerate(results[::10])]
        out[name] = {"accuracy": float(np.mean([right for right, _ in results])),
                     "stopped": float(np.mean([len(passes) == 1 and passes[0] == 1 for _, passes in results])),
                     "passages_read": float(np.mean([sum(passes) for _, passes in results])),
                     "reader_ms_p50": float(np.median(times)), "reader_ms_mean": float(np.mean(times))}
    return out


if __name__ == "__main__":
    main()
