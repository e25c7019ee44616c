"""Score a question set and its conversations with the shipped models: how many in-scope questions
quote the expected phrase from the right file, how many out-of-scope ones are declined, and how many
conversation turns are right (expected phrase from the right file, or declined where the turn expects
no answer). By default the bundled seeds sets against embeddings/; `--corpus factbook` scores the
Factbook sets against the index of the folder `factbook_corpus.py` writes.

    python experiments/seeds_score.py [--no-reader] [--split tune|report|all] [--out FILE]
    python experiments/seeds_score.py --corpus factbook --index .rag-factbook/index --split tune

The tune split is the even-numbered lines (from 0) of each file, the report split the odd ones. The
seeds sets are the project's own checks; a lever is chosen on a tune split and reported on the other.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import rag
from rag.eval.followups import read_conversations, score_conversations, turn_is_right

ROOT = Path(__file__).resolve().parent.parent


def split(lines: list, which: str) -> list:
    return lines if which == "all" else lines[(which == "report"):: 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="seeds", help="seeds (default) or factbook: the sets in benchmarks/")
    parser.add_argument("--index", help="index folder (default: the bundled embeddings/)")
    parser.add_argument("--split", choices=("all", "tune", "report"), default="all")
    parser.add_argument("--no-reader", action="store_true")
    parser.add_argument("--title-weight", type=float, help="RetrievalSettings.title_weight for this run")
    parser.add_argument("--topic-weight", type=float, help="RetrievalSettings.topic_weight for this run")
    parser.add_argument("--out")
    args = parser.parse_args()
    qa = rag.load(args.index, reader=not args.no_reader)
    for name in ("title_weight", "topic_weight"):
        if getattr(args, name) is not None:
            qa.retrieval = replace(qa.retrieval, **{name: getattr(args, name)})
    bench = ROOT / "benchmarks"
    questions = split([json.loads(line) for line in (bench / f"{args.corpus}_questions.jsonl").open(encoding="utf-8")],
                      args.split)
    answers = qa.ask_many([q["question"] for q in questions])
    scope = [turn_is_right(a, q) for a, q in zip(answers, questions) if q.get("source")]
    out = [turn_is_right(a, q) for a, q in zip(answers, questions) if not q.get("source")]
    misses = [{"question": q["question"], "quote": a.answer} for a, q in zip(answers, questions)
              if not turn_is_right(a, q)]
    talks = score_conversations(qa, split(read_conversations(bench / f"{args.corpus}_conversations.jsonl"),
                                          args.split))
    report = {"corpus": args.corpus, "split": args.split, "title_weight": qa.retrieval.title_weight,
              "topic_weight": qa.retrieval.topic_weight,
              "in_scope": f"{sum(scope)}/{len(scope)}", "out_of_scope_declined": f"{sum(out)}/{len(out)}",
              "first_turns": f"{talks['first_right']}/{talks['first_turns']}",
              "follow_ups": f"{talks['follow_ups_right']}/{talks['follow_ups']}",
              "missed_questions": misses, "missed_follow_ups": talks["misses"]}
    print(json.dumps({k: v for k, v in report.items() if not isinstance(v, list)}))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
