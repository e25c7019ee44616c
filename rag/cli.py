"""Command line: `rag index` builds an index, `rag ask` answers questions from one."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
import warnings
from pathlib import Path

from . import pipeline
from .answer import Answer
from .errors import RagError

EXIT_ERROR, EXIT_USAGE = 1, 2


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _format(answer: Answer) -> str:
    lines = [f"Q: {answer.question}"]
    if not answer.answered:
        lines.append(answer.message)
        if answer.alternatives:
            lines.append("Closest passages you may want to read:")
            for alt in answer.alternatives:
                c = alt.citations[0]
                lines.append(f"  - {c.title} ({c.source}, paragraph {c.paragraph})")
        return "\n".join(lines)
    wrapped = textwrap.fill(answer.answer, width=100, initial_indent="  “", subsequent_indent="   ")
    lines.append(wrapped + "”")
    c = answer.citations[0]
    lines.append(f"  — {c.title}")
    lines.append(f"    {c.source}, paragraph {c.paragraph} (confidence {answer.confidence:.2f})")
    for other in answer.citations[1:]:
        lines.append(f"    see also: {other.title} ({other.source}, paragraph {other.paragraph})")
    return "\n".join(lines)


def _read_questions(args: argparse.Namespace) -> list[str]:
    questions = list(args.questions)
    if args.file:
        try:
            text = Path(args.file).read_text(encoding="utf-8") if args.file != "-" else sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read questions from {args.file!r}: {exc}") from exc
        questions += [line.strip() for line in text.splitlines() if line.strip()]
    if not questions:
        raise ValueError("no question given: rag ask \"QUESTION\" or rag ask --file questions.txt")
    return questions


def _ask(args: argparse.Namespace) -> int:
    try:
        questions = [pipeline.clean_question(q) for q in _read_questions(args)]
    except ValueError as exc:
        print(f"rag ask: {exc}", file=sys.stderr)
        return EXIT_USAGE
    qa = pipeline.load(args.index, model=args.model)
    for answer in qa.ask_many(questions):
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(_format(answer) + "\n", flush=True)
    return 0


def _index(args: argparse.Namespace) -> int:
    folder = Path(args.folder) if args.folder else pipeline.DEFAULT_CORPUS
    out = Path(args.out) if args.out else (pipeline.DEFAULT_INDEX if args.folder is None else folder / ".rag-index")
    qa = pipeline.build(folder, out, model=args.model, progress=not args.quiet)
    counts = qa.index.manifest["counts"]
    print(f"indexed {counts['documents']} documents, {counts['passages']} passages, {counts['sentences']} "
          f"sentences from {folder} into {out}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from . import evaluate

    workdir = Path(args.index) if args.index else Path(".rag-eval") / Path(args.file).stem
    questions = evaluate.sample(evaluate.load_squad(args.file, workdir / "corpus"), args.limit)
    index_dir = workdir / "index"
    try:
        qa = pipeline.load(index_dir, model=args.model)
    except RagError:
        started = time.perf_counter()
        qa = pipeline.build(workdir / "corpus", index_dir, model=args.model, progress=True)
        print(f"built the index in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report = evaluate.evaluate(qa, questions, progress=True)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{report['questions']} questions")
    print("mode     " + "  ".join(f"{name:>9}" for name in report["retrieval"]["hybrid"]))
    for mode, scores in report["retrieval"].items():
        print(f"{mode:8} " + "  ".join(f"{v:9.3f}" for v in scores.values()))
    print(f"answer accuracy {report['answer_accuracy']:.3f}; answered {report['answered']:.3f}; "
          f"latency p50 {report['latency_ms']['p50']:.1f} ms, p95 {report['latency_ms']['p95']:.1f} ms")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Answer questions from documents by quoting them.")
    sub = p.add_subparsers(dest="command", required=True)
    idx = sub.add_parser("index", help="index a folder of .txt/.md documents")
    idx.add_argument("folder", nargs="?", help="documents folder (default: the bundled seeds/)")
    idx.add_argument("--out", help="index folder (default: embeddings/ for seeds, else FOLDER/.rag-index)")
    idx.add_argument("--model", default=None, help="sentence-transformers model name or local folder")
    idx.add_argument("--quiet", action="store_true", help="no progress bar")
    idx.set_defaults(run=_index)
    ask = sub.add_parser("ask", help="ask one or more questions")
    ask.add_argument("questions", nargs="*", metavar="QUESTION")
    ask.add_argument("--file", help="read one question per line from this file ('-' for standard input)")
    ask.add_argument("--index", default=None, help="index folder (default: the bundled embeddings/)")
    ask.add_argument("--model", default=None, help="model to embed questions (default: the index's)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question, one per line")
    ask.set_defaults(run=_ask)
    ev = sub.add_parser("eval", help="evaluate on a SQuAD-format file (all paragraphs form one corpus)")
    ev.add_argument("file", help="SQuAD v1.1 JSON, e.g. ../shared/data/squad-dev-v1.1.json")
    ev.add_argument("--index", default=None, help="working folder for the corpus and index (reused)")
    ev.add_argument("--limit", type=int, default=None, help="a fixed, seeded sample of N questions")
    ev.add_argument("--model", default=None)
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(run=_eval)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        return args.run(args)
    except RagError as exc:
        print(f"rag {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
