"""Format loaders: PDF, DOCX, HTML and Markdown files built in code, read into paragraphs."""

from __future__ import annotations

import pytest

import rag
from benchmarks.made_files import make_docx, make_pdf
from rag.errors import RagWarning
from rag.ingest.chunking import ChunkSettings, chunk_document, split_paragraphs
from rag.ingest.documents import load_documents
from rag.ingest.formats.pdf import _page_text
from tests.conftest import write_corpus

LETTER = [
    "Letter to the Council",
    "Dear Councillor",
    "The river Wandle was cleaned by three hundred volunteers in the spring of 2021. They removed "
    "two tonnes of rubbish from its banks and planted reeds along the eastern bend near the mill.",
    "The council has agreed to fund a new footbridge over the river. Work on the bridge starts in "
    "March and should be finished before the summer holidays begin in the borough.",
    "Local schools will adopt a stretch of the river each and measure its water quality every month, "
    "publishing their results on a shared noticeboard in the library.",
]


def _paragraphs(doc) -> list[tuple[str, str]]:
    return [(p.role, p.text) for p in split_paragraphs(doc.text)]


def test_pdf_paragraphs_pages_and_running_headers_removed(tmp_path):
    pdf = make_pdf(LETTER, header="Wandle Trust - Correspondence", footer=True, break_before={4})
    [doc] = load_documents(write_corpus(tmp_path / "docs", {"letter.pdf": pdf}))
    body = [text for role, text in _paragraphs(doc) if role == "body"]
    assert body == LETTER[2:]  # wrapped lines re-joined, one paragraph each
    assert "Wandle Trust" not in doc.text and "Page 1" not in doc.text and "Page 2" not in doc.text
    assert len(doc.page_starts) == 2
    starts = {p.text[:20]: doc.page_at(p.start) for p in split_paragraphs(doc.text)}
    assert starts[LETTER[2][:20]] == 1 and starts[LETTER[4][:20]] == 2


def test_pdf_citation_names_the_page(tmp_path, embedder):
    pdf = make_pdf(LETTER, footer=True, break_before={3, 4})
    qa = rag.build(write_corpus(tmp_path / "docs", {"letter.pdf": pdf}), model=embedder, reader=False)
    answer = qa.ask("When does work on the footbridge over the river start?")
    assert answer.answer == "Work on the bridge starts in March and should be finished before the summer holidays " \
                            "begin in the borough."
    citation = answer.citations[0]
    assert (citation.page, citation.location) == (2, "page 2, paragraph 4")


def test_pdf_hyphenated_line_breaks_are_joined():
    lines = ["The committee of the inter-", "national union met in Ge-", "neva, as it does each year", "in May.",
             "A short line ends a paragraph.", "", "A well-known fact."]
    assert _page_text(lines) == ("The committee of the international union met in Geneva, as it does each year in May."
                                 "\nA short line ends a paragraph.\n\nA well-known fact.")


def test_docx_headings_paragraphs_and_tables(tmp_path):
    docx = make_docx([("title", "Annual Report"), ("h1", "Rivers"), ("p", LETTER[2]), ("h2", "Bridges"),
                      ("p", LETTER[3])], table=[["Year", "Volunteers"], ["2021", "300"]])
    [doc] = load_documents(write_corpus(tmp_path / "docs", {"report.docx": docx}))
    assert _paragraphs(doc) == [("heading", "Annual Report"), ("heading", "Rivers"), ("body", LETTER[2]),
                                ("heading", "Bridges"), ("body", LETTER[3]), ("heading", "Year | Volunteers"),
                                ("body", "2021 | 300")]  # a table row: quotable under its header


def test_docx_title_comes_from_its_first_heading(tmp_path, embedder):
    docx = make_docx([("title", "Annual Report"), ("p", LETTER[2])])
    qa = rag.build(write_corpus(tmp_path / "docs", {"report.docx": docx}), model=embedder, reader=False)
    assert qa.titles == {"report.docx": "Annual Report"}


HTML = """<!doctype html><html><head><title>Wandle news</title><style>p { color: red }</style>
<script>var tracking = "The river is closed";</script></head>
<body><nav><a href="/">Home</a> <a href="/about">About us and our river work</a></nav>
<header><h1>Site banner</h1></header>
<main><h1>Volunteers clean the Wandle</h1>
<p>The river Wandle was cleaned by <b>three hundred</b> volunteers in the spring of 2021.</p>
<ul><li>They removed two tonnes of rubbish.</li><li>They planted reeds near the mill.</li></ul>
<p>Water &amp; wildlife both benefit, says the trust.<br>Fish returned within a year.</p>
<!-- a comment that is not text --></main>
<aside>Related posts: ten best walks</aside><footer>Copyright 2024 Wandle Trust</footer></body></html>"""


def test_html_main_text_only(tmp_path):
    [doc] = load_documents(write_corpus(tmp_path / "docs", {"news.html": HTML}))
    assert _paragraphs(doc) == [
        ("heading", "Volunteers clean the Wandle"),
        ("body", "The river Wandle was cleaned by three hundred volunteers in the spring of 2021."),
        ("body", "They removed two tonnes of rubbish."),
        ("body", "They planted reeds near the mill."),
        ("body", "Water & wildlife both benefit, says the trust. Fish returned within a year."),
    ]
    for chrome in ("tracking", "color", "Home", "Site banner", "Related posts", "Copyright", "comment"):
        assert chrome not in doc.text


API_PAGE = """<html><head><title>heapq - Python docs</title></head><body>
<div class="related" role="navigation"><a href="index.html">previous</a> | <a href="next.html">next</a></div>
<div class="body" role="main"><h1>heapq — Heap queue algorithm<a class="headerlink" href="#heapq">¶</a></h1>
<p>This module provides an implementation of the heap queue algorithm, also known as the priority queue.</p>
<h2>Functions<a class="headerlink" href="#functions">¶</a></h2>
<dl><dt id="heapq.heappop">heapq.heappop(heap)<a class="headerlink" href="#heapq.heappop">¶</a></dt>
<dd><p>Pop and return the smallest item from the heap, maintaining the heap invariant.</p>
<div class="highlight"><pre>&gt;&gt;&gt; heappop([1, 3, 5])
1</pre></div></dd>
<dt id="heapq.heapify">heapq.heapify(x)</dt><dd><p>Transform list x into a heap, in-place, in linear time.</p></dd></dl>
<h2>Command line</h2><dl><dt>-x</dt><dd><p>git-clean - Remove untracked files from the working tree</p></dd></dl>
</div><div class="footer">© Copyright 2001-2023, Python Software Foundation.</div></body></html>"""


def test_html_documentation_page_keeps_headings_and_terms_as_context_and_drops_chrome(tmp_path):
    [doc] = load_documents(write_corpus(tmp_path / "docs", {"heapq.html": API_PAGE}))
    assert doc.text.split("\n\n")[:4] == ["# heapq — Heap queue algorithm",
                                          "This module provides an implementation of the heap queue algorithm, also "
                                          "known as the priority queue.", "## Functions", "###### heapq.heappop(heap)"]
    for chrome in ("¶", "previous", "Copyright", ">>>", "heappop([1, 3, 5])"):
        assert chrome not in doc.text  # permalinks, navigation, the footer outside role=main, code blocks
    words = lambda texts: [len(t.split()) for t in texts]  # noqa: E731
    title, passages, _ = chunk_document(doc, words, ChunkSettings())
    assert title == "heapq — Heap queue algorithm"  # its first heading, so not repeated in the contexts
    assert [(p.context, p.text) for p in passages] == [
        ("", "This module provides an implementation of the heap queue algorithm, also known as the priority queue."),
        ("Functions › heapq.heappop(heap)",
         "Pop and return the smallest item from the heap, maintaining the heap invariant."),
        ("Functions › heapq.heapify(x)", "Transform list x into a heap, in-place, in linear time."),
        # unmarked, short and without a full stop, yet text: the page marks its headings
        ("Command line › -x", "git-clean - Remove untracked files from the working tree")]


def test_a_term_is_searched_and_cited_but_never_quoted(tmp_path, embedder):
    qa = rag.build(write_corpus(tmp_path / "docs", {"heapq.html": API_PAGE}), model=embedder, reader=False)
    answer = qa.ask("What does heapq.heappop do?")
    assert answer.answer == "Pop and return the smallest item from the heap, maintaining the heap invariant."
    cited = next(p for p in qa.index.passages if p.text == answer.answer)
    assert "heappop" in cited.context
    assert "heappop(heap)" not in answer.answer


def test_a_page_that_is_all_preformatted_text_is_read(tmp_path):
    page = "<html><body><pre>The river Wandle was cleaned by three hundred volunteers in 2021.</pre></body></html>"
    [doc] = load_documents(write_corpus(tmp_path / "docs", {"plain.html": page}))
    assert _paragraphs(doc) == [("body", "The river Wandle was cleaned by three hundred volunteers in 2021.")]


def test_markdown_headings_keep_their_level_in_the_context(tmp_path):
    text = "# Guide\n\nHow to get started with the app on a new machine.\n\n## Install\n\n" \
           "Run the installer and follow the steps it shows.\n\n## Use\n\n" \
           "Open the app from the menu.\n\n### Settings\n\nThe settings live in the home folder.\n"
    [doc] = load_documents(write_corpus(tmp_path / "docs", {"guide.md": text}))
    words = lambda texts: [len(t.split()) for t in texts]  # noqa: E731
    _, passages, _ = chunk_document(doc, words, ChunkSettings())
    assert [p.context for p in passages] == ["", "Install", "Use", "Use › Settings"]  # the title is not repeated


def test_html_without_main_text_is_skipped_with_the_reason(tmp_path):
    folder = write_corpus(tmp_path / "docs", {"menu.htm": "<html><body><nav>Home | About</nav>"
                                                          "<script>x()</script></body></html>",
                                              "ok.txt": "A sentence that is fine to index here."})
    with pytest.warns(RagWarning, match=r"menu.htm: skipped, the page has no main text \(only navigation, "
                                        r"scripts or styles\)"):
        assert [d.source for d in load_documents(folder)] == ["ok.txt"]


MARKDOWN = """---
# Wandle *river* notes

The river [Wandle](https://example.org/wandle) was cleaned by **three hundred** volunteers.
It flows into the `Thames` at Wandsworth.

```python
print("code is not prose")
```

> Fish returned within a year, says the trust.

> [!IMPORTANT]
> Do not feed the swans.

- Reeds were planted near the mill.
- Two tonnes of rubbish were removed.

| Year | Volunteers |
|------|------------|
| 2021 | 300        |

<div>raw html block</div>
"""


def test_markdown_is_parsed_not_pattern_matched(tmp_path):
    [doc] = load_documents(write_corpus(tmp_path / "docs", {"notes.md": MARKDOWN}))
    assert _paragraphs(doc) == [
        ("heading", "Wandle river notes"),
        ("body", "The river Wandle was cleaned by three hundred volunteers. It flows into the Thames at Wandsworth."),
        ("body", "Fish returned within a year, says the trust."),
        ("body", "Do not feed the swans."),  # a GitHub alert: its "[!IMPORTANT]" marker is a label, not text
        ("body", "Reeds were planted near the mill."),
        ("body", "Two tonnes of rubbish were removed."),
        ("heading", "Year | Volunteers"),
        ("body", "2021 | 300"),  # a table row: quotable under its header row
    ]
    assert "code is not prose" not in doc.text and "raw html block" not in doc.text


def test_yaml_front_matter_is_not_text_but_its_title_is_the_first_heading(tmp_path):
    space = "---\ntitle: 'Wandle notes'\nsdk: gradio\nmodels:\n  - some/model\n---\n\nThe river was cleaned.\n"
    post = "---\nlayout: post\ntags: [rivers]\n---\nThe river was cleaned.\n"
    prose = "---\nA line of prose between two rules.\n---\n\nThe river was cleaned.\n"  # CommonMark: a heading
    docs = load_documents(write_corpus(tmp_path / "docs", {"a.md": space, "b.md": post, "c.md": prose}))
    assert [_paragraphs(d) for d in docs] == [
        [("heading", "Wandle notes"), ("body", "The river was cleaned.")],
        [("body", "The river was cleaned.")],
        [("heading", "A line of prose between two rules."), ("body", "The river was cleaned.")],
    ]
    assert all("gradio" not in d.text and "layout" not in d.text for d in docs)


def test_unknown_extension_is_skipped_with_one_warning_line(tmp_path):
    folder = write_corpus(tmp_path / "docs", {"sheet.xlsx": b"PK\x03\x04", "ok.txt": "A fine sentence is here."})
    with pytest.warns(RagWarning) as record:
        list(load_documents(folder))
    assert [str(w.message) for w in record] == ["sheet.xlsx: skipped, no loader for '.xlsx' files"]


def test_the_lazy_default_loaders_name_the_extensions_of_their_classes():
    import importlib
    import subprocess
    import sys

    from rag.ingest.formats import DEFAULT_LOADERS

    for lazy in DEFAULT_LOADERS:
        real = getattr(importlib.import_module(f"rag.ingest.formats.{lazy._module}"), lazy._name)
        assert lazy.extensions == real.extensions, lazy
    # Answering from an index never imports the format libraries.
    code = ("import sys, rag.api, rag.ingest.documents; "
            "print(sorted(m for m in ('pypdf', 'docx', 'bs4', 'markdown_it') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"
