"""Score rag on two documentation sites it was not written for: pages of the Python documentation
(Debian's `python3.11-doc`) and git's manual pages (Debian's `git-doc`), with the questions in
`benchmarks/docs_questions.jsonl` (written before any run; expected phrases checked to be on the page).

    apt-get install -y python3.11-doc git-doc
    python experiments/docs_score.py [--split tune|report|all] [--work .rag-docs] [--rebuild]
                                     [--out experiments/results/docs-score.json]

For each corpus: the index build's wall time and peak memory (this process and the file readers it
starts), then per question whether the right page is the first passage retrieved, whether the answer
quotes the expected phrase from that page, and whether out-of-scope questions are declined, summed per
split: by position within a corpus's questions, even lines tune, odd lines report (`--split all`: both).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import time
from pathlib import Path

import rag
from rag.answering.retrieval import retrieve

ROOT = Path(__file__).resolve().parent.parent
PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
GIT_DOCS = Path("/usr/share/doc/git-doc")


def python_pages(questions: list[dict]) -> list[str]:
    """The pages the questions name, the tutorial and the FAQ."""
    named = {q["source"] for q in questions if q.get("source")}
    extra = {str(p.relative_to(PYTHON_DOCS)) for d in ("tutorial", "faq") for p in (PYTHON_DOCS / d).glob("*.html")}
    return sorted(named | extra)


def git_pages(questions: list[dict]) -> list[str]:
    """The pages the questions name and the first 60 command pages by name."""
    named = {q["source"] for q in questions if q.get("source")}
    return sorted(named | {p.name for p in sorted(GIT_DOCS.glob("git-*.html"))[:60]})


CORPORA = {"python": (PYTHON_DOCS, python_pages), "git": (GIT_DOCS, git_pages)}


def prepare(name: str, questions: list[dict], work: Path) -> Path:
    root, pages = CORPORA[name]
    folder = work / name / "docs"
    if folder.exists():
        shutil.rmtree(folder)
    for page in pages(questions):
        (folder / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / page, folder / page)
    return folder


def peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def score(qa: rag.QA, questions: list[dict]) -> list[dict]:
    rows = []
    for q in questions:
        answer = qa.ask(q["question"])
        (vector,) = qa.embedder.encode([q["question"]])
        hits = retrieve(qa.index, vector, q["question"], k=1, settings=qa.retrieval).hits
        first = qa.index.passages[hits[0].passage_id].source if hits else ""
        quoted = answer.citations[0].source if answer.answered else ""
        row = {"question": q["question"], "answered": answer.answered, "confidence": round(answer.confidence, 3),
               "quote": answer.answer[:200], "quoted_page": quoted, "first_page": first}
        if q.get("source"):
            row["page_first"] = first == q["source"]
            row["right"] = answer.answered and quoted == q["source"] and any(
                e.lower() in answer.answer.lower() for e in q["expect"])
        else:
            row["right"] = not answer.answered
        rows.append(row)
    return rows


def summary(rows: list[dict], questions: list[dict]) -> dict:
    scope = [r for r, q in zip(rows, questions) if q.get("source")]
    out = [r for r, q in zip(rows, questions) if not q.get("source")]
    return {"in_scope": len(scope), "page_first": sum(r["page_first"] for r in scope),
            "quote_right": sum(r["right"] for r in scope), "out_of_scope": len(out),
            "declined": sum(r["right"] for r in out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("tune", "report", "all"), default="tune")
    parser.add_argument("--work", default=str(ROOT / ".rag-docs"))
    parser.add_argument("--corpus", choices=sorted(CORPORA), action="append")
    parser.add_argument("--rebuild", action="store_true", help="index again even if an index is there")
    parser.add_argument("--out")
    args = parser.parse_args()
    work = Path(args.work)
    every = [json.loads(line) for line in (ROOT / "benchmarks" / "docs_questions.jsonl").open(encoding="utf-8")]
    report: dict = {"date": time.strftime("%Y-%m-%d"), "cpu": platform.processor() or platform.machine(),
                    "split": args.split, "rag": rag.__version__ if hasattr(rag, "__version__") else "", "corpora": {}}
    for name in args.corpus or sorted(CORPORA):
        questions = [q for q in every if q["corpus"] == name]
        index = work / name / "index"
        entry: dict = {}
        if args.rebuild or not (index / "manifest.json").exists():
            folder = prepare(name, questions, work)
            if index.exists():
                shutil.rmtree(index)
            started = time.perf_counter()
            qa = rag.build(folder, index, progress=True, incremental=False)
            entry["build_s"] = round(time.perf_counter() - started, 1)
            entry["peak_mb_self"], entry["peak_mb_children"] = (round(m) for m in peak_mb())
            entry["pages"] = len(qa.titles)
            entry["megabytes"] = round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20, 2)
        else:
            qa = rag.load(index)
        entry["passages"] = len(qa.index.passages)
        rows = score(qa, questions)
        for split in ("tune", "report"):
            if args.split in (split, "all"):
                kept = [(r, q) for i, (r, q) in enumerate(zip(rows, questions)) if (i % 2 == 0) == (split == "tune")]
                entry[split] = summary([r for r, _ in kept], [q for _, q in kept])
        entry["rows"] = rows
        report["corpora"][name] = entry
        print(name, json.dumps({k: v for k, v in entry.items() if k != "rows"}))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
