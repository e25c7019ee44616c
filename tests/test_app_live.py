"""The running app: the named API through gradio_client, file serving, and a real browser (Chromium)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
EXAMPLE = "What sanctions did the UK impose on Xinjiang officials?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FEEDBACK = ARTIFACTS / "feedback-test.jsonl"


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    FEEDBACK.unlink(missing_ok=True)
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False",
               RAG_FEEDBACK_LOG=str(FEEDBACK))
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app exited early:\n{proc.stdout.read()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app did not start within 180 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_named_api_returns_the_cli_json(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    data = client.predict(EXAMPLE, api_name="/ask")
    assert data["answered"] is True and "asset bans and travel freezes" in data["answer"]
    c = data["citations"][0]
    assert c["source"] == "001_550ab6adec92fdfa.txt" and c["context"][c["start"]:c["end"]] == data["answer"]
    start, end = data["answer_span"]  # the app reads with the trained reader: its short answer is inside
    assert data["answer"][start:end] == data["short_answer"] != ""
    declined = client.predict("Who won the 2022 FIFA World Cup?", api_name="/ask")
    assert declined["answered"] is False and declined["answer"] == ""
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("   ", api_name="/ask")


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_oversize_requests_and_uploads_are_refused(app_url):
    huge = b'{"data": ["' + b"x" * (200 * 1024) + b'"]}'  # a 200 KB question (the limit is 64 KB)
    status, body = _post(app_url + "gradio_api/call/ask", huge)
    assert (status, body) == (413, b'{"error": "request too large: the limit is 65,536 bytes"}')
    # A 30 MB upload: refused on its declared length, before the server reads any of it.
    from http.client import HTTPConnection
    from urllib.parse import urlparse

    where = urlparse(app_url)
    connection = HTTPConnection(where.hostname, where.port, timeout=30)
    connection.putrequest("POST", "/gradio_api/upload")
    connection.putheader("Content-Type", "multipart/form-data; boundary=rag")
    connection.putheader("Content-Length", str(30 * 2**20))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and b"request too large: the limit is 26,214,400 bytes" in response.read()
    connection.close()
    status, body = _post(app_url + "gradio_api/call/ask", b'{"data": ["Where is Xinjiang?"]}')
    assert status == 200 and b"event_id" in body  # an ordinary question still goes through


@pytest.mark.parametrize("path", ["README.md", "app.py", "seeds/metadata.json", "/etc/passwd"])
def test_files_outside_the_app_are_not_served(app_url, path):
    for prefix in ("gradio_api/file=", "file="):
        try:
            with urllib.request.urlopen(app_url + prefix + path, timeout=10) as response:
                assert response.status != 200 or b"<!doctype html>" in response.read(200).lower()
        except urllib.error.HTTPError as exc:
            assert exc.code in (403, 404, 405)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                          "--disable-background-networking", "--disable-component-update",
                                          "--disable-sync"])
        yield browser
        browser.close()


def _ask(page, question: str, nth: int) -> str:
    """Type a question, send it, and return the text of the `nth` answer (0-based) once it is shown."""
    page.get_by_placeholder("Ask a question about the documents").fill(question)
    page.keyboard.press("Enter")
    answer = page.locator(".rag-answer").nth(nth)
    answer.wait_for(timeout=90_000)
    return answer.inner_text()


def test_browser_follow_up_decline_and_feedback(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    first = _ask(page, "What did the UK do about Hong Kong?", 0)
    assert "Hong Kong" in first
    second = _ask(page, "And what about Xinjiang?", 1)
    assert "Searched: What did the UK do about Xinjiang?" in second and "Xinjiang" in second.split("Searched:")[1]
    page.screenshot(path=str(ARTIFACTS / "chat-follow-up.png"), full_page=True)

    declined = _ask(page, "Who won the 2022 FIFA World Cup?", 2)
    assert "The documents don't say." in declined and "Try other words for the key terms" in declined
    assert page.locator(".rag-declined mark").count() == 0  # nothing in a decline looks like an answer
    page.screenshot(path=str(ARTIFACTS / "chat-decline.png"), full_page=True)

    page.get_by_role("button", name="Undo", exact=True).last.click()  # take the decline back
    page.locator(".rag-declined").wait_for(state="detached", timeout=20_000)
    assert page.get_by_placeholder("Ask a question about the documents").input_value() == \
        "Who won the 2022 FIFA World Cup?"
    page.get_by_role("button", name="Like", exact=True).first.click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (FEEDBACK.exists() and FEEDBACK.read_text(encoding="utf-8")):
        time.sleep(0.2)
    import json

    entry = json.loads(FEEDBACK.read_text(encoding="utf-8").splitlines()[0])
    assert entry["vote"] == "up" and entry["question"] == "What did the UK do about Hong Kong?"
    page.close()


def test_browser_phone_layout_and_examples_that_send(app_url, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.goto(app_url)
    box = page.get_by_placeholder("Ask a question about the documents")
    box.wait_for(timeout=30_000)
    example = page.get_by_text("Which cities has London signed friendship agreements with?")
    for element in (box, example):  # the question box and the examples are above the fold
        assert element.bounding_box()["y"] + element.bounding_box()["height"] <= 844
    page.screenshot(path=str(ARTIFACTS / "chat-phone-empty.png"))
    example.click()
    answer = page.locator(".rag-answer").first
    answer.wait_for(timeout=90_000)  # an example is asked on click
    assert "Shanghai" in answer.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # nothing wider than the phone
    page.screenshot(path=str(ARTIFACTS / "chat-phone.png"))
    page.close()


def test_browser_opens_the_source_at_its_quote_and_copies_plain_text(app_url, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
    page = context.new_page()
    page.goto(app_url)
    _ask(page, "When was the Violence Reduction Unit set up?", 0)
    page.locator(".rag-answer .rag-copy").first.click()
    page.get_by_text("Copied").first.wait_for(timeout=10_000)
    page.locator(".rag-answer .rag-copy", has_text="Copy").first.wait_for(timeout=5_000)  # and resets
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("“In 2018, I set up England's first Violence Reduction Unit")
    assert copied.endswith("— Mayor of London to the London Assembly: antisemitism and adverse childhood "
                           "experiences (22 September 2021), paragraph 18 (002_5cdcca1a5c15ee34.txt)")
    assert "<" not in copied

    page.locator(".rag-answer .rag-open").first.click()
    here = page.locator("#rag-viewer #rag-here")
    here.wait_for(timeout=30_000)
    assert here.inner_text().startswith("In 2018, I set up England's first Violence Reduction Unit")
    assert page.locator("#rag-viewer .rag-paragraph").count() > 10  # the whole document, not the paragraph
    assert here.is_visible() and here.bounding_box()["y"] < 900  # scrolled to the quote
    page.screenshot(path=str(ARTIFACTS / "chat-source.png"))
    page.get_by_role("button", name="← Back to the chat").click()
    page.locator("#rag-viewer").wait_for(state="hidden", timeout=10_000)
    context.close()


def _long_paragraph_document() -> str:
    """About 2,800 words in two paragraphs; the first is long, with one fact in its middle."""
    places = ["harbour", "library", "museum", "market", "station", "theatre", "school", "stadium"]
    things = ["the budget", "the opening hours", "the new roof", "the staff rota", "the signage", "the cleaning"]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    sentences = [f"The {places[i % 8]} committee met on {days[i % 5]} to discuss {things[i % 6]} and agreed to "
                 f"meet again in week {i + 2}." for i in range(150)]
    sentences.insert(75, "The ferry to the island leaves every forty minutes from the north pier.")
    return "# Town notes\n\n" + " ".join(sentences) + "\n\nThe town hall is closed on public holidays.\n"


# Polls the chat for Gradio's progress overlay (with its timer or the indexing bar) while an upload runs.
WATCH_PROGRESS = """() => { window.ragProgress = []; const chat = document.querySelector("#rag-chat");
  const look = () => { for (const e of chat.querySelectorAll(".wrap, .progress-text, .progress-level, .eta-bar")) {
      const text = (e.innerText || "").trim(); if (e.offsetParent && text) window.ragProgress.push(text); } };
  window.ragWatch = setInterval(look, 100); }"""


def test_browser_upload_shows_progress_says_where_answers_come_from_and_windows_a_long_paragraph(
        app_url, browser, tmp_path):
    notes = tmp_path / "town-notes.md"
    notes.write_text(_long_paragraph_document(), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    page.get_by_text("Your documents").first.click()
    page.evaluate(WATCH_PROGRESS)
    page.locator("input[type=file]").set_input_files(str(notes))
    note = page.locator("#rag-chat .rag-note")
    note.wait_for(timeout=90_000)  # what was indexed is said in the chat, where the next answer will be
    assert "Indexed your document (" in note.inner_text() and "Town notes" in note.inner_text()
    seen = page.evaluate("window.ragProgress")
    assert seen, "no progress was shown over the chat while the upload was indexed"
    choice = page.locator("#rag-choice")
    assert choice.is_visible() and choice.bounding_box()["y"] + choice.bounding_box()["height"] <= 900  # in view

    answer = _ask(page, "How often does the ferry to the island leave?", 0)
    assert "every forty minutes" in answer
    assert "From your document town-notes.md" in answer  # which documents were searched
    bubble = page.locator(".rag-answer").first
    assert bubble.bounding_box()["height"] < 600, "the long paragraph was not windowed"
    assert bubble.get_by_text("show the whole paragraph").is_visible()
    page.screenshot(path=str(ARTIFACTS / "chat-upload.png"))
    choice.get_by_text("The page's documents").click()
    back_home = _ask(page, EXAMPLE, 1)
    assert "From the page's documents" in back_home and "asset bans" in back_home
    other = browser.new_page(viewport={"width": 1280, "height": 900})  # another visitor: the page's documents only
    other.goto(app_url)
    assert "town-notes.md" not in _ask(other, "How often does the ferry to the island leave?", 0)
    other.close()
    page.close()


CONTRAST = (Path(__file__).parent / "contrast.js").read_text(encoding="utf-8")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_browser_text_meets_wcag_aa_contrast_in_both_schemes(app_url, browser, scheme):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page.goto(app_url)
    _ask(page, "When was the Violence Reduction Unit set up?", 0)
    assert page.evaluate("!!document.querySelector('.dark')") is (scheme == "dark")
    assert page.locator(".rag-answer mark .rag-short").count() == 1  # the short answer inside the highlight
    page.screenshot(path=str(ARTIFACTS / f"chat-answer-{scheme}.png"))
    page.locator(".rag-answer .rag-open").first.click()
    page.locator("#rag-viewer #rag-here").wait_for(timeout=30_000)
    measured = page.evaluate(CONTRAST)
    kinds = {m["what"].split(":")[0] for m in measured}
    assert {"MARK", "STRONG.rag-short", "SPAN.rag-pn", "placeholder"} <= kinds  # the ones the issue named
    low = [m for m in measured if m["ratio"] < 4.5]
    assert not low, f"text below 4.5:1 in the {scheme} scheme: {low[:5]}"
    page.close()


def test_browser_source_viewer_on_a_phone_keeps_back_in_view_and_moves_the_focus(app_url, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.goto(app_url)
    _ask(page, "When was the Violence Reduction Unit set up?", 0)
    page.locator(".rag-answer .rag-open").first.click()
    page.locator("#rag-viewer #rag-here").wait_for(timeout=30_000)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'rag-here'", timeout=5_000)
    viewer = page.locator("#rag-viewer")
    for where in ("e.scrollHeight", "0", "e.scrollHeight / 2"):  # a document longer than the screen, scrolled
        viewer.evaluate(f"e => {{ e.scrollTop = {where}; }}")
        page.wait_for_timeout(200)
        back = page.get_by_role("button", name="← Back to the chat")
        box = back.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844, f"Back is out of view after scrolling to {where}"
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('#rag-back') !== null",
                            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert hit, f"Back is covered after scrolling to {where}"
    page.screenshot(path=str(ARTIFACTS / "chat-phone-source.png"))
    back.click()
    viewer.wait_for(state="hidden", timeout=10_000)
    page.wait_for_function("document.activeElement && document.activeElement.classList.contains('rag-open')",
                           timeout=5_000)  # the focus is back on the link that opened it
    page.close()


def test_browser_echoes_the_question_and_scrolls_to_each_new_answer(app_url, browser):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.goto(app_url)
    box = page.get_by_role("textbox", name="Your question")  # a label, not only a placeholder
    box.fill("   ")
    page.keyboard.press("Enter")
    page.wait_for_timeout(1_000)
    assert page.locator(".message-row").count() == 0  # a blank message adds nothing
    box.fill("What did the UK do about Hong Kong?")
    page.keyboard.press("Enter")
    page.locator(".user-row").first.wait_for(timeout=5_000)
    assert page.locator(".rag-answer").count() == 0  # the question shows while its answer is pending
    page.locator(".rag-answer").first.wait_for(timeout=90_000)
    _ask(page, "When was the Violence Reduction Unit set up?", 1)
    page.locator("#rag-chat .bubble-wrap").evaluate("e => { e.scrollTop = 0; }")  # the visitor scrolls up
    _ask(page, "Who won the 2022 FIFA World Cup?", 2)
    with contextlib.suppress(PlaywrightTimeout):  # scrolled once the answer stops growing; asserted below
        page.wait_for_function("""() => { const d = document.querySelector('.rag-declined');
            const c = document.querySelector('#rag-chat .bubble-wrap'); if (!d || !c) return false;
            const top = d.getBoundingClientRect().top, box = c.getBoundingClientRect();
            return box.top - 1 <= top && top < box.bottom; }""", timeout=8_000)
    declined = page.locator(".rag-declined").bounding_box()
    chat = page.locator("#rag-chat .bubble-wrap").bounding_box()
    assert chat["y"] - 1 <= declined["y"] < chat["y"] + chat["height"], "the new answer is off screen"
    page.screenshot(path=str(ARTIFACTS / "chat-phone-scrolled.png"))
    box.fill("w" * 2100)
    page.keyboard.press("Enter")
    page.locator(".rag-problem").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    after_problem = page.locator(".message-row:has(.rag-problem) + .message-buttons")
    assert after_problem.get_by_role("button", name="Undo", exact=True).is_visible()  # it can be taken back
    assert not after_problem.get_by_role("button", name="Like", exact=True).is_visible()  # but not voted on
    assert page.get_by_role("button", name="Like", exact=True).first.is_visible()  # answers still are
    page.close()


def test_browser_shows_the_quote_and_its_source(app_url, browser):
    if True:
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(app_url)
            page.get_by_placeholder("Ask a question about the documents").fill(EXAMPLE)
            page.get_by_role("button", name="Ask", exact=True).click()
            short = page.locator(".rag-answer .rag-quote .rag-short").first
            short.wait_for(timeout=60_000)
            assert short.inner_text() == "asset bans"
            assert page.locator(".rag-answer mark").count() == 0  # a one-sentence paragraph: the quote once
            answer = page.locator(".rag-answer").first.inner_text()
            assert "asset bans and travel freezes" in answer
            assert "Foreign Office replies to the US Congressional-Executive Commission report on China" in answer
            assert "paragraph 11 · open the document · Copy 001_550ab6adec92fdfa.txt" in answer
            page.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)

            page.get_by_placeholder("Ask a question about the documents").fill("<img src=x onerror=alert(1)>")
            page.keyboard.press("Enter")
            page.locator(".rag-answer").nth(1).wait_for(timeout=60_000)
            assert page.locator("img[src='x']").count() == 0
            assert "<img src=x onerror=alert(1)>" in page.locator(".message").nth(2).inner_text() or \
                page.get_by_text("<img src=x onerror=alert(1)>").count() > 0
        finally:
            page.close()
