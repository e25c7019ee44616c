"""Score the bundled seeds question set and conversations with the shipped models: how many in-scope
questions quote the expected phrase from the right file, how many out-of-scope ones are declined, and
how many conversation turns are right (expected phrase from the right file, or declined where the
turn expects no answer).

    python experiments/seeds_score.py [--no-reader] [--out experiments/results/seeds-score.json]

The seeds sets are the project's own checks (they are not tuned on here: a lever chosen on SQuAD-open's
tune split is reported on them).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rag
from rag.eval.followups import score_conversations, turn_is_right

ROOT = Path(__file__).resolve().parent.parent


def right(answer: rag.Answer, item: dict) -> bool:
    return not answer.answered if not item.get("source") else turn_is_right(answer, item)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-reader", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    qa = rag.load(reader=not args.no_reader)
    questions = [json.loads(line) for line in (ROOT / "benchmarks" / "seeds_questions.jsonl").open(encoding="utf-8")]
    answers = qa.ask_many([q["question"] for q in questions])
    scope = [right(a, q) for a, q in zip(answers, questions) if q.get("source")]
    out = [right(a, q) for a, q in zip(answers, questions) if not q.get("source")]
    misses = [q["question"] for a, q in zip(answers, questions) if not right(a, q)]
    talks = score_conversations(qa, ROOT / "benchmarks" / "seeds_conversations.jsonl")
    report = {"in_scope": f"{sum(scope)}/{len(scope)}", "out_of_scope_declined": f"{sum(out)}/{len(out)}",
              "first_turns": f"{talks['first_right']}/{talks['first_turns']}",
              "follow_ups": f"{talks['follow_ups_right']}/{talks['follow_ups']}",
              "missed_questions": misses, "missed_follow_ups": talks["misses"]}
    print(json.dumps({k: v for k, v in report.items() if not isinstance(v, list)}))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
