"""Command line: `rag index` builds an index, `rag ask` answers questions from one."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from . import notes
from .answering.settings import AnswerSettings
from .arguments import PORT, positive, read_bounded, whole
from .config import MAX_QUESTIONS_FILE_BYTES
from .errors import RagError
from .ingest.cleaning import printable

if TYPE_CHECKING:
    from .answering.extraction import Answer
# The pipeline (torch, faiss, the format libraries) is imported by the commands that need it, so that
# `rag --help` and argument errors answer at once.

EXIT_ERROR, EXIT_USAGE = 1, 2
LISTED = 20  # documents named per kind of change after `rag index`


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {printable(str(message))}", file=sys.stderr)


def _format(answer: Answer) -> str:
    lines = [f"Q: {answer.question}"]
    if answer.searched:
        lines.append(f"  (searched: {answer.searched})")
    if not answer.answered:
        lines.append(answer.message)
        if answer.alternatives:
            lines.append("Closest passages you may want to read:")
            for c in answer.nearest():
                lines.append(f"  - {c.title} ({c.source}, {c.location})")
        return "\n".join(lines)
    wrapped = textwrap.fill(answer.answer, width=100, initial_indent="  “", subsequent_indent="   ")
    lines.append(wrapped + "”")
    if answer.short_answer:
        lines.append(f"  short answer: {answer.short_answer}")
    c = answer.citations[0]
    lines.append(f"  — {c.heading}")
    lines.append(f"    {c.source}, {c.location} (confidence {answer.confidence:.2f})")
    for other in answer.citations[1:]:
        lines.append(f"    see also: {other.title} ({other.source}, {other.location})")
    return "\n".join(lines)


def _read_questions(args: argparse.Namespace) -> list[str]:
    questions = list(args.questions)
    if args.file:
        text = read_bounded(args.file, MAX_QUESTIONS_FILE_BYTES, "questions")
        questions += [line.strip() for line in text.splitlines() if line.strip()]
    if not questions:
        raise ValueError("no question given: rag ask \"QUESTION\" or rag ask --file questions.txt")
    return questions


def _ask(args: argparse.Namespace) -> int:
    from . import api
    from .answering.qa import clean_question
    from .encoders import runtime

    try:
        questions = [clean_question(q) for q in _read_questions(args)]
    except ValueError as exc:
        print(f"rag ask: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # A one-shot process: the reader's runtime is chosen for start-up plus these questions (rag.encoders.runtime).
    reader = api.open_reader(args.reader, bf16=runtime.reader_bf16(len(questions)))
    qa = api.open_index(args.index, model=args.model, reader=reader or False)
    for answer in qa.ask_many(questions):
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(printable(_format(answer)) + "\n", flush=True)
    return 0


def _chat(args: argparse.Namespace) -> int:
    """An interactive conversation: follow-ups are read in the context of the earlier turns."""
    from . import api

    qa = api.open_index(args.index, model=args.model, reader=args.reader)
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask about the documents. A follow-up (\"And what about …?\", \"When did it …?\") is read with "
              "the conversation; /new starts a new one; Ctrl-D or /quit ends.", file=sys.stderr)
    history: list[Answer] = []
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            return 0
        if line.strip() in ("/quit", "/exit"):
            return 0
        if line.strip() == "/new":
            history = []
            continue
        if not line.strip():
            continue
        try:
            answer = qa.ask(line, history=history)
        except ValueError as exc:
            print(f"rag chat: {exc}", file=sys.stderr)
            continue
        history.append(answer)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(printable(_format(answer)) + "\n", flush=True)


def _index(args: argparse.Namespace) -> int:
    from . import api
    from .index.stores import parse_store
    from .ingest.language import language

    folder = Path(args.folder) if args.folder else api.DEFAULT_CORPUS
    out = Path(args.out) if args.out else (api.DEFAULT_INDEX if args.folder is None else folder / ".rag-index")
    try:
        if not folder.is_dir():
            raise ValueError(f"no folder at {printable(str(folder))!r}: name the folder of documents to index")
        language(args.language)
        parse_store(args.store)
    except ValueError as exc:
        print(f"rag index: {exc}", file=sys.stderr)
        return EXIT_USAGE
    qa = api.build(folder, out, model=args.model, progress=not args.quiet, store=args.store,
                        incremental=not args.full, reader=False, language=args.language, workers=args.workers)
    manifest, changes = qa.index.manifest, qa.index.changes
    counts = manifest.counts
    print(f"documents: {len(changes['added'])} added, {len(changes['updated'])} updated, "
          f"{len(changes['removed'])} removed, {len(changes['unchanged'])} unchanged; "
          f"{changes['embedded_texts']} texts embedded in {manifest.build_seconds:.1f} s")
    for kind in ("added", "updated", "removed"):
        for source in changes[kind][:LISTED]:
            print(f"  {kind}: {printable(source)}")
        if len(changes[kind]) > LISTED:
            print(f"  ... and {len(changes[kind]) - LISTED} more {kind} (every document is in {out / 'manifest.json'})")
    if manifest.skipped:
        print(f"  skipped (see the warnings above): {len(manifest.skipped)} file(s)")
    print(f"indexed {counts['documents']} documents, {counts['passages']} passages, {counts['sentences']} "
          f"sentences from {folder} into {out} ({manifest.store}, {language(manifest.language).name})")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from . import api
    from .eval import squad
    from .eval.report import report_table

    workdir = Path(args.index) if args.index else Path(".rag-eval") / Path(args.file).stem
    try:
        if not Path(args.file).is_file():
            raise ValueError("it is not a regular file")
        every = squad.load_squad(args.file, workdir / "corpus")
        questions = squad.sample(every, args.limit)
    except (OSError, ValueError, KeyError, TypeError, RecursionError, MemoryError) as exc:
        print(f"rag eval: cannot read SQuAD questions from {args.file!r}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    index_dir = workdir / "index"
    try:
        # An index built by an older rag is rebuilt: an evaluation measures this rag's chunking.
        qa = api.refresh(index_dir, model=args.model, reader=args.reader, progress=not args.json)
    except RagError:
        qa = api.build(workdir / "corpus", index_dir, model=args.model, progress=not args.json,
                            reader=args.reader)
    report = squad.evaluate(qa, questions, progress=not args.json)
    if args.follow_ups:
        from .eval.followups import make_follow_ups, score_follow_ups

        report["follow_ups"] = score_follow_ups(qa, make_follow_ups(every, qa.titles, limit=args.follow_ups))
    if args.plot:
        from .eval.plots import plot, plot_reliability

        plot(report, args.plot)
        if report["calibration"]:
            plot_reliability(report, Path(args.plot).with_name(Path(args.plot).stem + "-reliability.png"))
    if args.calibrate and report["calibration"]:
        from .reader.files import write_calibration

        c = report["calibration"]
        source = Path(qa.reader.name)  # the reader the evaluation read with
        out = Path(args.calibrate) if args.calibrate is not True else workdir / "reader"
        written = write_calibration(source, c["scale"], c["bias"], c["threshold"], out=out)
        if (written / "training.json").is_file():  # the model card states the calibration
            from .training.card import write_card

            write_card(written)
        print(f"calibrated reader written to {written}: scale {c['scale']:.4f}, bias {c['bias']:.4f}, threshold "
              f"{c['threshold']:.4f} (load it with rag.load(INDEX, reader={str(written)!r}))", file=sys.stderr)
    if args.rows:
        squad.write_rows(report, args.rows)
    if args.json:
        print(json.dumps({key: value for key, value in report.items() if key not in ("ranks", "rows")}))
        return 0
    print(report_table(report))
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .chat.page import serve

    serve(args.index, args.port, feedback_log=args.feedback)
    return 0


def _train_reader(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from .training import TrainSettings, train

    given = {f.name: getattr(args, f.name) for f in fields(TrainSettings) if getattr(args, f.name, None) is not None}
    settings = TrainSettings(**given)
    if not Path(settings.squad).is_file():
        print(f"rag train-reader: no SQuAD training file at {settings.squad!r}: pass --squad PATH", file=sys.stderr)
        return EXIT_USAGE
    metrics = train(settings)
    print(json.dumps(metrics, indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="rag", description="Answer questions from documents by quoting them.")
    p.add_argument("--version", action="version", version=f"rag {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    idx = sub.add_parser("index", help="index a folder of documents (.txt .md .html .pdf .docx); "
                                       "only new and changed files are embedded again")
    idx.add_argument("folder", nargs="?", help="documents folder (default: the bundled seeds/)")
    idx.add_argument("--out", help="index folder (default: embeddings/ for seeds, else FOLDER/.rag-index)")
    idx.add_argument("--model", default=None, help="sentence-transformers model name or local folder")
    idx.add_argument("--quiet", action="store_true", help="no progress bar")
    idx.add_argument("--full", action="store_true", help="embed every document again, even unchanged ones")
    idx.add_argument("--store", default="faiss", metavar="STORE",
                     help="where the vectors go: faiss (default; exact, an HNSW graph above 50,000 vectors), "
                          "faiss:flat, faiss:hnsw, milvus (a Milvus Lite file in the index folder), "
                          "milvus:http://HOST:19530 (a Milvus server; token from $MILVUS_TOKEN)")
    idx.add_argument("--language", default="en", help="the documents' language: en (default), fr, de")
    idx.add_argument("--workers", type=whole(0), default=0, metavar="N",
                     help="embed with N Ray workers (pip install 'rag-quotes[ray]'; RAY_ADDRESS for a cluster)")
    idx.set_defaults(run=_index)
    ask = sub.add_parser("ask", help="ask one or more questions")
    ask.add_argument("questions", nargs="*", metavar="QUESTION")
    ask.add_argument("--file", help="read one question per line from this file ('-' for standard input)")
    ask.add_argument("--index", default=None, help="index folder (default: the bundled embeddings/)")
    ask.add_argument("--model", default=None, help="model to embed questions (default: the index's)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question, one per line")
    ask.add_argument("--reader", action=argparse.BooleanOptionalAction, default=True,
                     help="the trained reader chooses the quote and marks its short answer (default); --no-reader: "
                          "the sentence with the best evidence (faster, less accurate)")
    ask.set_defaults(run=_ask)
    ch = sub.add_parser("chat", help="a conversation on the terminal: follow-up questions are read in context")
    ch.add_argument("--index", default=None, help="index folder (default: the bundled embeddings/)")
    ch.add_argument("--model", default=None, help="model to embed questions (default: the index's)")
    ch.add_argument("--json", action="store_true", help="one JSON object per answer, one per line")
    ch.add_argument("--reader", action=argparse.BooleanOptionalAction, default=True,
                    help="the trained reader chooses the quote (default); --no-reader: evidence alone")
    ch.set_defaults(run=_chat)
    ev = sub.add_parser("eval", help="evaluate on a SQuAD-format file (all paragraphs form one corpus)")
    ev.add_argument("file", help="a SQuAD v1.1 JSON file, e.g. dev-v1.1.json")
    ev.add_argument("--index", default=None, help="working folder for the corpus and index (reused)")
    ev.add_argument("--limit", type=whole(1), default=None, help="a fixed, seeded sample of N questions")
    ev.add_argument("--model", default=None)
    ev.add_argument("--json", action="store_true", help="one JSON object with every number")
    ev.add_argument("--plot", metavar="PNG", help="write a plot of recall@k for each retrieval mode")
    ev.add_argument("--reader", action=argparse.BooleanOptionalAction, default=True,
                    help="evaluate with the trained reader (default); --no-reader: by evidence alone")
    ev.add_argument("--follow-ups", dest="follow_ups", type=whole(0), default=200, metavar="N",
                    help="also score N two-turn conversations made from the file (0: none; default 200)")
    ev.add_argument("--rows", metavar="JSONL", help="also write each question's score and outcome, one JSON line each")
    ev.add_argument("--calibrate", nargs="?", const=True, default=None, metavar="READER_DIR",
                    help="write a copy of the reader with its calibration and threshold fitted on the tune split "
                         "to READER_DIR (default: a reader/ folder beside the evaluation's index)")
    ev.set_defaults(run=_eval)
    sv = sub.add_parser("serve", help="the chat page in the browser (Gradio; http://127.0.0.1:7860)")
    sv.add_argument("--index", default=None, help="index folder (default: $RAG_INDEX, else the bundled embeddings/)")
    sv.add_argument("--port", type=PORT, default=None, help="port (default: $GRADIO_SERVER_PORT, else 7860)")
    sv.add_argument("--feedback", default=None, help="where 👍/👎 are logged, JSON lines (default: "
                                                     "$RAG_FEEDBACK_LOG, else rag-feedback.jsonl)")
    sv.set_defaults(run=_serve)
    tr = sub.add_parser("train-reader", help="train the reader on SQuAD v1.1 train (seeded; GPU when available)")
    tr.add_argument("--squad", required=True, help="SQuAD v1.1 training JSON (train-v1.1.json)")
    tr.add_argument("--out", help="reader folder to write (default: .rag-train/reader)")
    tr.add_argument("--work", help="working folder for the sampled corpus, its index and the log")
    tr.add_argument("--articles", type=whole(1), help="training articles sampled (default 90)")
    tr.add_argument("--questions", type=whole(1), help="training questions used at most (default 16000)")
    tr.add_argument("--epochs", type=whole(1))
    tr.add_argument("--lr", type=positive, help="encoder learning rate (default 8e-5)")
    tr.add_argument("--head-lr", dest="head_lr", type=positive, help="heads' learning rate (default 5e-4)")
    tr.add_argument("--init", help="a reader folder to continue training from (default: fresh heads on the base)")
    tr.add_argument("--skip-articles", dest="skip_articles", type=whole(0),
                    help="sampled training articles to pass over: those the --init reader was trained on")
    tr.add_argument("--negatives", choices=("retriever", "reader"),
                    help="each question's hard negative passage: the retriever's best other one (default) or, "
                         "of the top 5, the one the --init reader is most wrongly drawn to")
    tr.add_argument("--residual", action="store_const", const=AnswerSettings().reader_evidence, default=None,
                    help="train the choice on the logit plus the shipped evidence term "
                         "(AnswerSettings.reader_evidence), as the answer is chosen")
    tr.add_argument("--layers", type=whole(0),
                    help="encoder layers to keep, evenly spaced (default: all): a faster reader")
    tr.add_argument("--validation-questions", dest="validation_questions", type=whole(1))
    tr.add_argument("--seed", type=whole(0))
    tr.add_argument("--device", help="cpu, cuda or auto (default)")
    tr.add_argument("--bf16", action="store_true", default=None,
                    help="forward passes in bfloat16 autocast (faster on GPUs and AMX CPUs; weights stay fp32)")
    tr.set_defaults(run=_train_reader)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    warnings.showwarning = _show_warning
    notes.show()
    try:
        return args.run(args)
    except RagError as exc:
        print(f"rag {args.command}: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except (OSError, MemoryError, ValueError) as exc:  # the file system, the machine, a library: one line
        print(f"rag {args.command}: {type(exc).__name__}: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
