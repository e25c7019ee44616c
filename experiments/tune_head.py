"""Would a correction of the quote's score learned from the reader's own sentence states help?

    python experiments/tune_head.py [--train-questions N] [--cache DIR] [--out FILE.json]

The reader's sentence head sees one sentence's mean final state; the evidence term is added after it
(`rag.answer.read`). Here a small MLP on that state (and, as a variant, on the scalar parts too) is
added to the shipped score (logit + evidence term, which it starts at: its last layer starts at zero)
and trained with a softmax over each question's sentences in the top 5 passages, towards those
containing an answer: the choice exactly as inference makes it, with the encoder frozen, so only
forward passes are paid for (~0.1 s a question here, against ~2.7 s per 8 questions in training).

Lists come from SQuAD train articles the shipped reader never saw (articles 267-336 of the training
order, stage 5's, asked of their own index as `rag train-reader --skip-articles 260 --articles 70`
builds it) and from SQuAD-open's tune split (in-corpus questions, the whole dev index). Heads trained
on train lists are scored on all tune questions; as a check of what the states can carry at all,
heads are also trained on half of the tune articles and scored on the other half. The report split is
never read. Accuracy: the chosen sentence contains a gold answer (declining left aside).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np
from tune_evidence import PARTS, Replay, collect  # experiments/ is on sys.path when run

import rag
from rag.answering.settings import AnswerSettings
from rag.encoders.embedder import load_embedder
from rag.eval.squad import load_squad, sample
from rag.index.storage import load_index
from rag.reader import Reader, make_rows
from rag.reader.rows import batch_arrays, sentence_members

SCALARS = ("logit", *PARTS, "rank")


class StateReader:
    """The bf16 reader, keeping each sentence's mean final state (the sentence head's input) by call."""

    def __init__(self, reader: Reader) -> None:
        self.reader, self.calls, self._pooled = reader, [], None
        reader.model.sentence_head.register_forward_hook(lambda m, i, o: setattr(self, "_pooled", i[0]))

    def read(self, question, passages):
        reads = self.reader.read(question, passages)
        rows = make_rows(self.reader.tokenizer, self.reader.config, question, passages)
        first, member = sentence_members(batch_arrays(rows)[3]) if rows else (None, None)
        pooled, states = (None if self._pooled is None else self._pooled.float().numpy()), {}
        for r, row in enumerate(rows):
            held = np.asarray(row.sentence_of)
            for local in range(member.shape[2]):
                key = (row.passage, int(first[r]) + local)
                if key not in states and (held == key[1]).any():
                    states[key] = pooled[r, local].astype(np.float16)
        self.calls.append(states)
        return reads


def lists(qa, questions, path: Path) -> dict[str, np.ndarray]:
    """`tune_evidence.collect`'s rows plus each sentence's state, cached in `path`."""
    if path.is_file():
        return dict(np.load(path))
    reader = StateReader(Reader.load(bf16=True))
    qa.reader = reader
    rows = collect(qa, questions)
    rows["states"] = np.stack([reader.calls[int(n)][(int(p), int(s))]
                               for n, p, s in zip(rows["question"], rows["rank"], rows["sentence"])])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **rows)
    return rows


def subset(rows: dict, questions: np.ndarray) -> dict:
    """The rows of the questions marked in `questions` (one flag per question)."""
    replay = Replay(rows)
    keep = np.repeat(questions, replay.sizes)
    return {k: v[keep] for k, v in rows.items()}


def inputs(rows: dict, inputs_of: str, norm=None):
    scalars = np.column_stack([rows[k] for k in SCALARS])
    norm = norm or (scalars.mean(0), scalars.std(0) + 1e-6)
    parts = [rows["states"].astype(np.float32)]
    if inputs_of == "state+scalars":
        parts.append(((scalars - norm[0]) / norm[1]).astype(np.float32))
    return np.concatenate(parts, 1), norm


def train_head(rows: dict, shipped, inputs_of: str, hidden: int, epochs: int, seed: int = 0):
    """An MLP added to the shipped score, trained listwise (Adam, batches of 64 questions)."""
    import torch

    torch.manual_seed(seed)
    replay = Replay(rows)
    x, norm = inputs(rows, inputs_of)
    x = torch.from_numpy(x)
    base = torch.from_numpy(replay.score(shipped).astype(np.float32))
    right = torch.from_numpy(replay.right)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 1))
    torch.nn.init.zeros_(net[2].weight)
    torch.nn.init.zeros_(net[2].bias)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
    answerable = np.flatnonzero(np.add.reduceat(replay.right, replay.starts) > 0)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        rng.shuffle(answerable)
        for b in range(0, len(answerable), 64):
            chosen = answerable[b:b + 64]
            loss = 0.0
            for q in chosen:
                at = slice(replay.starts[q], replay.starts[q] + replay.sizes[q])
                s = base[at] + net(x[at]).squeeze(-1)
                loss = loss + torch.logsumexp(s, 0) - torch.logsumexp(s[right[at]], 0)
            optimizer.zero_grad()
            (loss / len(chosen)).backward()
            optimizer.step()

    def score(other: dict) -> np.ndarray:
        with torch.no_grad():
            added = net(torch.from_numpy(inputs(other, inputs_of, norm)[0])).squeeze(-1).numpy()
        return Replay(other).score(shipped) + added

    return score


def accuracies(rows: dict, score: np.ndarray, shipped, lead: float) -> dict:
    replay = Replay(rows)
    stop = score - shipped[1] * rows["next_passage_score"]
    return {"read_all": round(replay.accuracy(score)[0], 4),
            "with_stop": round(replay.accuracy(score, stop, lead)[0], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", required=True, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--train", required=True, help="SQuAD v1.1 train JSON")
    parser.add_argument("--work", default=".rag-eval/squad-dev-v1.1", help="the folder `rag eval` uses")
    parser.add_argument("--train-work", default=".rag-train", help="the folder `rag train-reader` uses")
    parser.add_argument("--limit", type=int, default=0, help="a seeded sample of N tune questions (0: all)")
    parser.add_argument("--train-questions", type=int, default=9000)
    parser.add_argument("--cache", default=".rag-eval/lists")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    work, cache = Path(args.work), Path(args.cache)
    tune_q = [q for q in load_squad(args.squad, work / "corpus") if q.split == "tune" and not q.held_out]
    tune_q = sample(tune_q, args.limit) if args.limit else tune_q
    tune = lists(rag.load(work / "index", reader=False), tune_q, cache / "tune.npz")
    train_work = Path(args.train_work)
    everything = load_squad(args.train, train_work / "all")
    sources = sorted({q.source for q in everything})
    order = random.Random(13).sample(sources, len(sources))  # rag train-reader's order (seed 13)
    stage5 = set(order[6 + 260:6 + 330])
    train_q = random.Random(7).sample([q for q in everything if q.source in stage5], args.train_questions)
    index = load_index(train_work / "corpus-13-s260-76.index")  # built by that stage's `rag train-reader`
    train = lists(rag.QA(index, load_embedder(rag.DEFAULT_MODEL)), train_q, cache / "train.npz")
    answering = AnswerSettings()
    shipped, lead = answering.reader_evidence, dict(answering.reader_stops)[1]
    replay = Replay(tune)
    result = {"tune_questions": len(replay.starts), "train_questions": len(Replay(train).starts),
              "tune_oracle_top5": round(float(np.maximum.reduceat(replay.right, replay.starts).mean()), 4),
              "shipped": accuracies(tune, replay.score(shipped), shipped, lead), "train_lists": [], "tune_halves": []}
    for inputs_of, hidden in (("state", 64), ("state", 256), ("state+scalars", 64)):
        score = train_head(train, shipped, inputs_of, hidden, args.epochs)
        result["train_lists"].append({"inputs": inputs_of, "hidden": hidden,
                                      "tune": accuracies(tune, score(tune), shipped, lead)})
        print(json.dumps(result["train_lists"][-1]), flush=True)
    for inputs_of in ("state", "state+scalars"):
        for half in (0, 1):
            fitted, other = subset(tune, replay.fold == half), subset(tune, replay.fold != half)
            score = train_head(fitted, shipped, inputs_of, 64, 3)
            result["tune_halves"].append({"inputs": inputs_of, "fitted_on_half": half,
                                          "other_half": accuracies(other, score(other), shipped, lead),
                                          "shipped_other_half": accuracies(other, Replay(other).score(shipped),
                                                                           shipped, lead)})
            print(json.dumps(result["tune_halves"][-1]), flush=True)
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
