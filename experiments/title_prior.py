"""Does a prior for the document's title (`RetrievalSettings.title_weight`) put the right passage first
more often? Tune splits only: the documentation sites' even lines (right page first), the seeds'
in-scope questions (right document first; they tune nothing else), and SQuAD-open's even-numbered
articles (gold passage first).

    python experiments/title_prior.py --squad PATH/dev-v1.1.json [--docs .rag-docs] [--limit 3000]
                                      [--out experiments/results/title-prior.json]

Uses the indexes `docs_score.py` built in `--docs` and the one `rag eval` builds in `.rag-eval/`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import rag
from rag.answering.retrieval import retrieve
from rag.eval.squad import article_number, gold_passages, load_squad, sample

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.8)


def firsts(qa: rag.QA, questions: list[str], right) -> dict[float, int]:
    """Per weight, how many questions have a first passage that `right(i, passage)` accepts."""
    vectors = qa.embedder.encode(questions)
    counts = dict.fromkeys(WEIGHTS, 0)
    for w in WEIGHTS:
        settings = replace(qa.retrieval, title_weight=w)
        for i, (question, vector) in enumerate(zip(questions, vectors)):
            hits = retrieve(qa.index, vector, question, k=1, settings=settings).hits
            counts[w] += bool(hits) and right(i, qa.index.passages[hits[0].passage_id])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", required=True)
    parser.add_argument("--docs", default=str(ROOT / ".rag-docs"))
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--out")
    args = parser.parse_args()
    report = {}
    lines = [json.loads(line) for line in (ROOT / "benchmarks" / "docs_questions.jsonl").open(encoding="utf-8")]
    for name in ("git", "python"):
        tune = [q for i, q in enumerate(q for q in lines if q["corpus"] == name) if i % 2 == 0 and q.get("source")]
        qa = rag.load(Path(args.docs) / name / "index", reader=False)
        report[name] = {"questions": len(tune), "first": firsts(qa, [q["question"] for q in tune],
                                                                 lambda i, p, tune=tune: p.source == tune[i]["source"])}
        print(name, report[name], flush=True)
    seeds = [json.loads(line) for line in (ROOT / "benchmarks" / "seeds_questions.jsonl").open(encoding="utf-8")]
    seeds = [q for q in seeds if q.get("source")]
    report["seeds"] = {"questions": len(seeds), "first": firsts(rag.load(reader=False), [q["question"] for q in seeds],
                                                                lambda i, p: p.source == seeds[i]["source"])}
    print("seeds", report["seeds"], flush=True)
    work = ROOT / ".rag-eval" / Path(args.squad).stem
    questions = [q for q in load_squad(args.squad, work / "corpus") if article_number(q.source) % 2 == 0]
    questions = sample(questions, args.limit)
    qa = rag.load(work / "index", reader=False)
    gold = gold_passages(qa.index.passages, questions)
    report["squad_tune"] = {"questions": len(questions), "first": firsts(qa, [q.text for q in questions],
                                                                         lambda i, p: p.id == gold[i])}
    print("squad_tune", report["squad_tune"], flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
