"""The chat page over a rag index: `rag serve [--index DIR] [--port N]`, `python app.py` (the same, and
the Hugging Face Space's entry point).

Thin by design: handlers call the library (`QA.ask`) and `rag.chat.render`; nothing else lives here.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
from html import escape
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

import rag

from .. import api, config, notes
from ..arguments import PORT
from ..config import (
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    MEMORY_TRIM_SECONDS,
    UPLOAD_LIMIT_BYTES,
    UPLOAD_SWEEP_SECONDS,
)
from ..ingest.documents import read_examples
from . import feedback, memory
from .limits import BodyLimit
from .render import render_answer, render_document, render_problem
from .uploads import LIMITS, SUFFIXES, TTL_SECONDS, Collection, discard, index_uploads

log = logging.getLogger(__name__)
BUNDLED, YOURS = "The page's documents", "Your documents"

# Highlights are yellow in both colour schemes, so the text on them is pinned dark (with the bold short
# answer inside it); secondary text is a grey chosen for each scheme to meet WCAG AA (4.5:1) on its background.
CSS = """
.gradio-container {--rag-subdued: #5c5c66;}
.dark .gradio-container, .gradio-container.dark {--rag-subdued: #a9a9b3;}
.rag-quote {font-size: 1.1em; font-weight: 600;}
.rag-context {border-left: 3px solid #d0d0d0; padding-left: .6em; color: inherit; font-size: .92em;}
.rag-context mark, .rag-context mark *, .rag-document mark {background: #ffe58a; color: #111; padding: 0 .1em;}
.rag-short {font-weight: 800; text-decoration: underline; text-decoration-thickness: 2px;}
.rag-source {font-size: .9em; margin-top: .3em;}
.rag-more {font-size: .85em; margin: -.4em 0 .4em;}
.rag-searched {font-size: .85em; color: var(--rag-subdued); margin: 0 0 .3em;}
#rag-open-request, #rag-open-button {display: none;}
#rag-viewer {border: 1px solid #d0d0d0; border-radius: 8px; padding: 0 .8em .8em; max-height: 75vh; overflow-y: auto;}
#rag-back {position: sticky; top: 0; z-index: 5; margin-top: .6em; align-self: flex-start;
  box-shadow: 0 0 0 .6em var(--block-background-fill);}
.rag-document .rag-pn {display: inline-block; min-width: 2.2em; color: var(--rag-subdued); font-size: .8em;}
.rag-document .rag-section {font-weight: 600; margin: 1em 0 .3em;}
.rag-page {text-align: center; color: var(--rag-subdued); font-size: .8em; border-top: 1px dashed #ccc;
  margin: .8em 0;}
.rag-chip {display: inline-block; min-width: 1.4em; text-align: center; border-radius: 1em; background: #eee;
  color: #333; font-size: .8em; font-weight: 700;}
.rag-copy {font-size: .85em; text-decoration: underline; cursor: pointer; background: none; border: none; padding: 0;
  color: inherit;}
.rag-nearest {border-left: 3px solid #d0d0d0; padding-left: .6em; font-size: .92em;}
#rag-choice {display: flex; flex-wrap: wrap; align-items: center; gap: .2em .8em;}
#rag-choice > span {margin: 0;}
#rag-question textarea::placeholder {color: var(--rag-subdued); opacity: 1;}
/* A problem or a note is not an answer: nothing to vote on. */
.message-row:has(.rag-problem, .rag-note) + .message-buttons
  :is(button[aria-label="Like"], button[aria-label="Dislike"]) {display: none;}
.message-row:has(.rag-problem, .rag-note) + .message-buttons:not(:has(button[aria-label="Undo"])) {display: none;}
"""


def echo(message: str, history: list[dict] | None) -> tuple[list[dict], str, str]:
    """First step of a question: show it in the chat at once and clear the box, while it is answered.
    Returns the chat, the box and the question waiting for its answer. A blank message adds nothing."""
    history = list(history or [])
    text = message if isinstance(message, str) else ""
    if not text.strip():
        return history, text, ""
    history.append({"role": "user", "content": escape(text.strip())})
    return history, "", text


def reply(qa: rag.QA, question: str, history: list[dict] | None, turns: list[dict] | None = None,
          sources: float = 3, scope: str | None = None) -> tuple[list[dict], str, list[dict]]:
    """Second step: append the answer to `question` (already shown by `echo`) to the chat, and the turn to
    the conversation (`turns`: what follow-ups are read with). After a problem the question goes back
    into the box, so nothing typed is lost. `scope` names the documents searched, when there is a choice."""
    history, turns = list(history or []), list(turns or [])
    if not question:
        return history, "", turns
    try:
        answer = qa.ask(question, history=turns)
    except ValueError as exc:
        problem = f"Please ask a question in words, up to {MAX_QUESTION_CHARS:,} characters: {exc}."
        history.append({"role": "assistant", "content": render_problem(problem)})
        return history, question, turns
    history.append({"role": "assistant", "content": render_answer(answer, sources=int(sources), scope=scope)})
    c = answer.citations[0] if answer.citations else None
    turns.append({"question": answer.question, "searched": answer.searched, "answer": answer.answer,
                  "short_answer": answer.short_answer, "message": len(history) - 1,
                  "citation": f"{c.title}, {c.location} ({c.source})" if c else ""})
    return history, "", turns[-MAX_HISTORY_TURNS:]


def respond(qa: rag.QA, message: str, history: list[dict] | None, turns: list[dict] | None = None,
            sources: float = 3, scope: str | None = None) -> tuple[list[dict], str, list[dict]]:
    """Both steps at once: the question and its answer appended to the chat (see `echo`, `reply`)."""
    history, box, question = echo(message, history)
    if not question:
        return history, box, list(turns or [])
    return reply(qa, question, history, turns, sources, scope)


def undo(history: list[dict] | None, turns: list[dict] | None) -> tuple[list[dict], str, list[dict]]:
    """Undo handler: take back the last question and its answer; the question returns to the box."""
    history, turns = list(history or []), list(turns or [])
    if len(history) < 2:
        return history, "", turns
    turns = [t for t in turns if t.get("message", -1) < len(history) - 2]
    return history[:-2], html.unescape(_text(history[-2].get("content"))), turns


def _text(content) -> str:
    """A chat message's text, whether the page sent it as a string or as a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return "".join(_text(part) for part in content)
    return ""


def retry(qa: rag.QA, history: list[dict] | None, turns: list[dict] | None, sources: float = 3,
          scope: str | None = None) -> tuple[list[dict], str, list[dict]]:
    """Retry handler: ask the last question again (with the conversation before it)."""
    history, question, turns = undo(history, turns)
    return respond(qa, question, history, turns, sources, scope) if question else (history, "", turns)


def vote(turns: list[dict] | None, message: int, liked: bool | str, path: str | Path | None = None) -> dict | None:
    """Feedback handler: write 👍/👎 on the answer at chat position `message` to the feedback log."""
    turn = next((t for t in turns or [] if t.get("message") == message), None)
    if turn is None or liked not in (True, False):  # not an answer (a problem message) or a vote taken back
        return None
    entry = feedback.record(turn, "up" if liked else "down")
    feedback.write(config.feedback_log(path), entry)
    return entry


def ask(qa: rag.QA, question: str, history: list | None = None) -> dict:
    """API handler: the same JSON object as `rag ask --json`; `history` as `QA.ask` takes it."""
    try:
        return qa.ask(question, history=history).to_dict()
    except ValueError as exc:
        log.warning("rejected an API question: %s", exc)  # one line, not Gradio's two tracebacks
        raise gr.Error(str(exc), print_exception=False) from None
    except Exception as exc:  # never a bare {"error": null}: the client is told, the log gets one line
        log.error("could not answer an API question: %s: %s", type(exc).__name__, exc)
        raise gr.Error(f"the question could not be answered ({type(exc).__name__})", print_exception=False) from None


def active(qa: rag.QA, collection: Collection | None, choice: str | None) -> tuple[rag.QA, str | None]:
    """The QA a question goes to and how an answer names its documents: the visitor's own documents when
    they chose them, else the page's (named only when the visitor has documents of their own)."""
    if not isinstance(collection, Collection):
        return qa, None
    return (collection.qa, collection.scope) if choice == YOURS else (qa, "the page's documents")


def upload(qa: rag.QA, files: list[str] | None, previous: Collection | None, history: list[dict] | None = None,
           progress=None):
    """Upload handler: index the session's files (replacing its earlier ones) and answer from them.
    Returns the collection, a status message, the choice of documents to answer from and the chat, which
    says what was indexed (in view, where the next answer will be)."""
    history = list(history or [])
    try:
        collection = index_uploads(files or [], qa, progress=progress is not None)
    except ValueError as exc:
        problem = render_problem(f"Your files were not indexed: {exc}. {LIMITS}")
        return previous, problem, gr.Radio(), history + [{"role": "assistant", "content": problem}]
    finally:
        # The page's upload cache keeps no copy: only the browser session's own folder does.
        for path in files or []:
            Path(path).unlink(missing_ok=True)
    discard(previous)
    titles = "".join(f"<li>{escape(t)}</li>" for t in collection.titles)
    skipped = "".join(f"<li>{escape(w)}</li>" for w in collection.warnings)
    n, passages = len(collection.titles), len(collection.qa.index.passages)
    what = "your document" if n == 1 else f"{n} of your documents"
    status = (f"<p>Indexed {what} ({passages} passage{'s' * (passages != 1)}); "
              f"answers now come from {'it' if n == 1 else 'them'}.</p><ul>{titles}</ul>"
              + (f"<p>Not read:</p><ul>{skipped}</ul>" if skipped else ""))
    note = (f'<div class="rag-note">{status}<p>Choose “{BUNDLED}” under the question box to ask '
            f"them again.</p></div>")
    return collection, status, gr.Radio(value=YOURS, visible=True), history + [{"role": "assistant", "content": note}]


def open_document(qas: list[rag.QA], request: str) -> str:
    """Viewer handler: the whole cited document, scrolled to the quote. `request` is what the page's
    script sends for a clicked citation: the JSON list [source, paragraph, start, end] of its link."""
    try:
        source, paragraph, start, end = json.loads(request)
        source, paragraph, start, end = str(source), int(paragraph), int(start), int(end)
    except (ValueError, TypeError, RecursionError):
        return render_problem("That link does not name a document.")
    for qa in qas:
        passages = qa.document(source)
        if passages:
            return render_document(qa.titles.get(source, source), source, passages, paragraph=paragraph,
                                   start=start, end=end)
    return render_problem(f"{source} is not in this index.")


# The page's script: Copy puts the plain-text citation on the clipboard (and says so for two seconds); a
# citation link asks the server for its document (through a hidden textbox and button), remembering the
# link so that closing the viewer can give it the focus back.
SCRIPT = """
() => {
  document.addEventListener("click", (event) => {
    const copy = event.target.closest(".rag-copy");
    if (copy) {
      event.preventDefault();
      navigator.clipboard.writeText(copy.title).then(() => {
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = "Copy"; }, 2000);
      });
      return;
    }
    const link = event.target.closest(".rag-open");
    if (!link) return;
    event.preventDefault();
    window.ragOpener = link;
    const box = document.querySelector("#rag-open-request textarea");
    box.value = decodeURIComponent(link.getAttribute("href").replace("#rag-open=", ""));
    box.dispatchEvent(new Event("input", {bubbles: true}));
    setTimeout(() => document.querySelector("#rag-open-button").click(), 50);
  });
}
"""
# The viewer opens at the quote, which takes the focus (a screen reader reads it); Back returns it.
SCROLL_TO_QUOTE = """() => { setTimeout(() => { const here = document.getElementById("rag-here");
  const viewer = document.getElementById("rag-viewer");
  if (viewer) viewer.scrollIntoView({block: "start"});
  if (here) { here.scrollIntoView({block: "center"}); here.setAttribute("tabindex", "-1");
    here.focus({preventScroll: true}); }
  else { const back = document.querySelector("#rag-back"); if (back) back.focus(); } }, 100); }"""
FOCUS_OPENER = """() => { setTimeout(() => { const link = window.ragOpener;
  if (link && document.body.contains(link)) { link.scrollIntoView({block: "center"}); link.focus(); } }, 100); }"""
# The page does its own scrolling (the chat's autoscroll is off, so nothing moves the view after it):
# a question just sent is scrolled to the end of the chat; a new answer is scrolled into view, with its
# question above it when both fit, even after the visitor scrolled up, once the chat has drawn it and
# stopped growing (checked every 100 ms, for up to 5 s).
SCROLL_TO_END = """() => { setTimeout(() => { const chat = document.querySelector("#rag-chat .bubble-wrap");
  if (chat) chat.scrollTop = chat.scrollHeight; }, 50); }"""
SCROLL_TO_ANSWER = """() => { let last = -1, still = 0, tries = 0;
  const settle = () => { const chat = document.querySelector("#rag-chat .bubble-wrap"); if (!chat) return;
    if (chat.scrollHeight === last) still += 1; else { still = 0; last = chat.scrollHeight; }
    if (still < 2 && ++tries < 50) { setTimeout(settle, 100); return; }
    const bubbles = chat.querySelectorAll(".rag-answer, .rag-note"); const answer = bubbles[bubbles.length - 1];
    if (!answer) return;
    const row = answer.closest(".message-row"); const before = row && row.previousElementSibling;
    const question = before && before.classList.contains("user-row") ? before : null;
    const top = (e) => e.getBoundingClientRect().top;
    const target = question && top(answer) - top(question) < chat.clientHeight / 2 ? question : answer;
    chat.scrollTop += top(target) - top(chat) - 8; };
  setTimeout(settle, 100); }"""


def examples_for(qa: rag.QA) -> list[str]:
    if qa.index.path is not None:
        listed = read_examples(qa.index.manifest.corpus_folder(qa.index.path))
        if listed:
            return listed[:5]
    return [f"What does “{title}” say?" for title in list(qa.titles.values())[:3]]


def header(qa: rag.QA) -> str:
    titles = "".join(f"<li>{escape(t)}</li>" for t in qa.titles.values())
    return (f"<h1>Ask the documents</h1><p>Every answer is a verbatim quote with its source. "
            f"Corpus: {len(qa.titles)} documents</p><details><summary>Documents loaded</summary>"
            f"<ul>{titles}</ul></details>")


def build_demo(qa: rag.QA, *, feedback_log: str | None = None) -> gr.Blocks:
    # Files uploaded but never indexed (a request straight to the upload route) are swept from Gradio's
    # cache once they are older than an upload's lifetime; indexed ones are deleted at once (`upload`).
    with gr.Blocks(title="rag: answers quoted from the documents",
                   delete_cache=(UPLOAD_SWEEP_SECONDS, TTL_SECONDS)) as demo:
        gr.HTML(header(qa))
        # A cited document, opened from a citation's link, above the chat.
        with gr.Column(visible=False, elem_id="rag-viewer") as viewer:
            back = gr.Button("← Back to the chat", size="sm", elem_id="rag-back")
            document = gr.HTML()
        # The example questions sit in the empty chat (on a phone too) and are asked on click.
        # The label is for screen readers: shown, it floats over the answers as they scroll.
        chat = gr.Chatbot(label="Answers", show_label=False, height="65vh", min_height=320, sanitize_html=True,
                          autoscroll=False, buttons=[], feedback_options=("Like", "Dislike"), elem_id="rag-chat",
                          examples=[{"text": question} for question in examples_for(qa)],
                          placeholder="<p><b>Ask about the documents.</b> Every answer is a quote with its source; "
                                      "follow-up questions are read with the conversation.</p>")
        with gr.Row():
            box = gr.Textbox(label="Your question", placeholder="Ask a question about the documents",
                             show_label=False, scale=8, max_lines=4, autofocus=True, elem_id="rag-question")
            send = gr.Button("Ask", variant="primary", scale=1)
        # Shown once the visitor has uploaded documents, under the question box where it stays in view.
        choice = gr.Radio([BUNDLED, YOURS], value=BUNDLED, label="Answer from", visible=False, elem_id="rag-choice",
                          container=False)
        with gr.Accordion("Your documents", open=False):
            gr.Markdown(LIMITS)
            files = gr.File(file_count="multiple", file_types=sorted(SUFFIXES), label="Upload documents to ask about")
            status = gr.HTML()
        # This browser session's uploads: private to it, deleted when it ends or after TTL_SECONDS.
        mine = gr.State(None, time_to_live=TTL_SECONDS, delete_callback=discard)
        turns = gr.State([])  # this browser session's conversation, for follow-up questions
        pending = gr.State("")  # the question shown in the chat and waiting for its answer

        def on_upload(f, previous, h, progress=gr.Progress(track_tqdm=True)):
            return upload(qa, f, previous, h, progress)

        # The chat is an output, so the indexing progress shows over it, where the visitor is looking.
        files.upload(on_upload, [files, mine, chat], [mine, status, choice, chat], api_visibility="private",
                     show_progress_on=[chat]).then(lambda: None, None, [files], api_visibility="private").then(
            None, js=SCROLL_TO_ANSWER)
        request = gr.Textbox(elem_id="rag-open-request", show_label=False, container=False)
        open_button = gr.Button("open", elem_id="rag-open-button")
        open_button.click(lambda r, c: (open_document([active(qa, c, YOURS)[0], qa], r), gr.Column(visible=True)),
                          [request, mine], [document, viewer],
                          api_visibility="private").then(None, js=SCROLL_TO_QUOTE)
        back.click(lambda: gr.Column(visible=False), None, [viewer], api_visibility="private").then(
            None, js=FOCUS_OPENER)

        def answer(question: str, h: list[dict], t: list[dict], c, src: str):
            target, scope = active(qa, c, src)
            return reply(target, question, h, t, scope=scope)

        def then_answer(event) -> None:
            event.then(None, js=SCROLL_TO_END).then(answer, [pending, chat, turns, mine, choice], [chat, box, turns],
                       api_visibility="private").then(None, js=SCROLL_TO_ANSWER)

        for trigger in (box.submit, send.click):  # the question shows at once; its answer follows
            then_answer(trigger(echo, [box, chat], [chat, box, pending], api_visibility="private", queue=False))

        def on_example(h: list[dict], data: gr.SelectData):
            return echo(data.value["text"], h)

        then_answer(chat.example_select(on_example, [chat], [chat, box, pending], api_visibility="private",
                                        queue=False))

        chat.undo(undo, [chat, turns], [chat, box, turns], api_visibility="private")

        def on_retry(h: list[dict], t: list[dict], c, src: str):
            target, scope = active(qa, c, src)
            return retry(target, h, t, scope=scope)

        chat.retry(on_retry, [chat, turns, mine, choice], [chat, box, turns], api_visibility="private").then(
            None, js=SCROLL_TO_ANSWER)

        def on_like(t: list[dict], data: gr.LikeData) -> None:
            vote(t, data.index if isinstance(data.index, int) else data.index[0], data.liked, feedback_log)

        chat.like(on_like, [turns], None, api_visibility="private")

        def ask_api(question: str, history: list | None = None) -> dict:
            """Answer a question: the JSON object of `rag ask --json`. `history`: the earlier turns, oldest
            first, as questions or {"question", "answer"} objects (a follow-up is read with them)."""
            return ask(qa, question, history)

        gr.api(ask_api, api_name="ask")
    return demo


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--index", default=config.index_path(),
                        help="index folder (default: $RAG_INDEX, else the bundled embeddings/ of seeds/)")
    parser.add_argument("--port", type=PORT, default=config.port())
    parser.add_argument("--feedback", default=None, help="feedback log, JSON lines (default: $RAG_FEEDBACK_LOG, "
                                                         "else rag-feedback.jsonl)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = add_arguments(argparse.ArgumentParser(description="Chat with a rag index in the browser.")).parse_args(argv)
    serve(args.index, args.port, feedback_log=args.feedback)


def serve(index: str | None = None, port: int | None = None, *, feedback_log: str | None = None) -> None:
    """Load the index (default: $RAG_INDEX, else the bundled one) and serve the chat page on `port`."""
    notes.show()
    qa = api.open_index(index or config.index_path())
    port = port or config.port()
    demo = build_demo(qa, feedback_log=feedback_log)
    # The model is CPU-bound: a few workers use both cores; the queue holds the rest rather than refusing.
    demo.queue(default_concurrency_limit=4, max_size=None)
    memory.start_trimming(MEMORY_TRIM_SECONDS)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Quiet: Gradio's own banner suggests share=True, a public tunnel a local user has no use for.
    print(f"rag: the chat page is at http://{config.server_name()}:{port}/ (Ctrl-C stops it)", flush=True)
    demo.launch(server_port=port, css=CSS, js=SCRIPT, allowed_paths=[], footer_links=["api"], quiet=True,
                max_file_size=UPLOAD_LIMIT_BYTES, app_kwargs={"middleware": [Middleware(BodyLimit)]})


if __name__ == "__main__":
    main()
