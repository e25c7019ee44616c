"""Ways to choose the answer sentence from the reader's outputs, measured on SQuAD-open's tune split only
(even-numbered articles), against the shipped rule (logit + the evidence term, `reader_evidence`):

  - adding the short-answer span's score (its start + end logits, raw or as a log-probability over the
    row's sentence tokens: how extractive readers usually pick the passage);
  - answer voting: a sentence gains when other candidate sentences give the same short answer
    (log-sum-exp of their scores, as in DrQA-style aggregation);
  - an ensemble: the logit averaged with a second reader's (`--with FOLDER`);
  - a weight average ("model soup") of reader folders (`--average FOLDER FOLDER ...`).

    python experiments/reader_choice.py [--limit 1500] [--skip 0] [--reader FOLDER] [--with FOLDER]
                                       [--average FOLDER ...] [--bf16] [--out FILE.json]

Every question's top 5 passages are read once per reader; each rule's accuracy (the quote contains a gold
answer) is reported reading all five and with the shipped stop (`reader_stops`).
"""

from __future__ import annotations

import argparse
import json
import re
import string
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

import rag
from rag import reader as rd
from rag.answering.evidence import reader_evidence, reader_inputs, unread_lead
from rag.answering.retrieval import retrieve
from rag.eval.metrics import contains_answer
from rag.eval.squad import load_squad, sample
from rag.reader.config import CONFIG, WEIGHTS
from rag.reader.rows import batch_arrays, sentence_members


def average(folders: list[str], out: Path) -> Path:
    """A reader folder whose tensors are the mean of the folders' (the first one's config)."""
    from safetensors.torch import load_file, save_file

    tensors = [load_file(str(Path(f) / WEIGHTS)) for f in folders]
    mean = {k: (sum(t[k].float() for t in tensors) / len(tensors)).half().contiguous() for k in tensors[0]}
    out.mkdir(parents=True, exist_ok=True)
    save_file(mean, str(out / WEIGHTS), metadata={"format": "pt"})
    (out / CONFIG).write_text((Path(folders[0]) / CONFIG).read_text(encoding="utf-8"), encoding="utf-8")
    return out


def features(reader: rd.Reader, question: str, inputs: list) -> dict[tuple[int, int], tuple]:
    """Per (passage, sentence): the reader's logit, its best span's raw score and log-probability (start
    and end over the row's sentence tokens), and the span's offsets in the sentence."""
    rows = rd.make_rows(reader.tokenizer, reader.config, question, inputs)
    ids, types, mask, sentence_of = batch_arrays(rows)
    first, member = sentence_members(sentence_of)
    logits, starts, ends = reader._run(ids, types, mask, member)
    found = {}
    for r, row in enumerate(rows):
        owner = np.asarray(row.sentence_of)
        inside = np.flatnonzero(owner >= 0)
        norm = np.logaddexp.reduce(starts[r, inside]) + np.logaddexp.reduce(ends[r, inside])
        for local in range(logits.shape[1]):
            j = int(first[r]) + local
            tokens = np.flatnonzero(owner == j)
            if not len(tokens) or (row.passage, j) in found:
                continue
            a, b = rd.best_span(starts[r, tokens], ends[r, tokens], reader.config.max_answer_tokens)
            raw = float(starts[r, tokens[a]] + ends[r, tokens[b]])
            s0 = inputs[row.passage][2][j][0]
            span = (row.offsets[tokens[a]][0] - s0, row.offsets[tokens[b]][1] - s0)
            found[(row.passage, j)] = (float(logits[r, local]), raw, raw - float(norm), span)
    return found


def normalized(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in string.punctuation)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def choose(sentences: list[dict], score) -> dict | None:
    return max(sentences, key=score) if sentences else None


def accuracy(records: list[list[dict]], score, stop: float | None) -> float:
    """Share of questions whose chosen sentence holds a gold answer; with `stop`, the best-ranked passage
    alone answers when its best sentence's shipped score leads the next passage's by it (as `reader_stops`)."""
    right = []
    for sentences in records:
        if stop is not None:
            first = choose([s for s in sentences if s["passage"] == 0], lambda s: s["shipped"])
            if first is not None and first["shipped"] - first["next_lead"] >= stop:
                right.append(choose([s for s in sentences if s["passage"] == 0], score)["right"])
                continue
        best = choose(sentences, score)
        right.append(bool(best and best["right"]))
    return float(np.mean(right))


def voting(sentences: list[dict], gamma: float) -> None:
    """Add `gamma` x (log-sum-exp of the shipped scores of the sentences with the same short answer minus
    the best of them) as s["vote"]."""
    groups = defaultdict(list)
    for s in sentences:
        groups[normalized(s["short"])].append(s)
    for group in groups.values():
        scores = np.array([s["shipped"] for s in group])
        extra = float(np.logaddexp.reduce(scores) - scores.max())
        for s in group:
            s["vote"] = gamma * extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", required=True, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--work", default=".rag-eval/squad-dev-v1.1", help="the folder `rag eval` uses")
    parser.add_argument("--limit", type=int, default=1500)
    parser.add_argument("--skip", type=int, default=0, metavar="N")
    parser.add_argument("--reader", default=str(rd.DEFAULT_READER))
    parser.add_argument("--with", dest="other", default=None, help="a second reader to average logits with")
    parser.add_argument("--average", nargs="+", default=None, help="reader folders to average the weights of")
    parser.add_argument("--bf16", action="store_true", help="run the reader in bfloat16 on torch")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    work = Path(args.work)
    questions = [q for q in load_squad(args.squad, work / "corpus") if q.split == "tune" and not q.held_out]
    used = {id(q) for q in sample(questions, args.skip)} if args.skip else set()
    questions = sample([q for q in questions if id(q) not in used], args.limit)
    folder = average(args.average, Path(tempfile.mkdtemp()) / "average") if args.average else args.reader
    qa = rag.load(work / "index", reader=rd.Reader.load(folder, bf16=args.bf16))
    other = rd.Reader.load(args.other) if args.other else None
    stop = dict(qa.answering.reader_stops or ()).get(1)
    records = []
    vectors = qa.embedder.encode([q.text for q in questions], batch_size=64)
    for i, (q, vector) in enumerate(zip(questions, vectors)):
        retrieved = retrieve(qa.index, vector, q.text, k=5, settings=qa.retrieval)
        passages = [qa.index.passages[h.passage_id] for h in retrieved.hits]
        inputs = reader_inputs(qa.index, passages)
        mine = features(qa.reader, q.text, inputs)
        second = features(other, q.text, inputs) if other else {}
        added = reader_evidence(qa.index, retrieved.terms, vector, retrieved.hits, qa.answering)
        next_lead = unread_lead(retrieved.hits[1], qa.answering) if len(retrieved.hits) > 1 else 0.0
        sentences = []
        for (p, j), (logit, raw, logprob, span) in sorted(mine.items()):
            text = passages[p].sentence_text(j)
            evidence = float(added[p][j])
            sentences.append({"passage": p, "logit": logit, "evidence": evidence, "raw": raw, "logprob": logprob,
                              "other": second.get((p, j), (logit,))[0], "shipped": logit + evidence,
                              "next_lead": next_lead,
                              "short": text[span[0]:span[1]], "right": contains_answer(text, q.answers)})
        records.append(sentences)
        if i % 100 == 0:
            print(f"{i} / {len(questions)}", flush=True)
    rules = {"shipped": lambda s: s["shipped"]}
    for a in (0.1, 0.25, 0.5, 1.0):
        rules[f"+ {a} x span log-probability"] = lambda s, a=a: s["shipped"] + a * s["logprob"]
    for b in (0.1, 0.25, 0.5):
        rules[f"+ {b} x raw span score"] = lambda s, b=b: s["shipped"] + b * s["raw"]
    if other:
        for share in (0.5, 0.6, 0.7, 0.8):
            rules[f"ensemble, {share} x this reader's logit"] = (
                lambda s, share=share: share * s["logit"] + (1 - share) * s["other"] + s["evidence"])
    table = {name: {"read_all": accuracy(records, rule, None), "stop": accuracy(records, rule, stop)}
             for name, rule in rules.items()}
    for gamma in (0.5, 1.0, 2.0):
        for sentences in records:
            voting(sentences, gamma)
        rule = lambda s: s["shipped"] + s["vote"]  # noqa: E731
        table[f"answer voting, gamma {gamma}"] = {"read_all": accuracy(records, rule, None),
                                                  "stop": accuracy(records, rule, stop)}
    oracle = float(np.mean([any(s["right"] for s in sentences) for sentences in records]))
    result = {"questions": len(records), "skipped_sample": args.skip, "reader": args.reader,
              "averaged": args.average, "with": args.other, "bf16": args.bf16,
              "evidence": qa.answering.reader_evidence, "stop": stop,
              "oracle_top5": oracle, "accuracy": table}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
