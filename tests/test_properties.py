"""Property-based tests (hypothesis) for the cleaner and the chunker: offsets slice back to the text
they claim, no passage or sentence is empty, and no text is lost between paragraphs or sentences."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.ingest import cleaning
from rag.ingest.chunking import ChunkSettings, chunk_document, split_paragraphs, split_sentences, windows
from rag.ingest.documents import Document

WORD = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüß0123456789"),
               min_size=1, max_size=12)
PUNCT = st.sampled_from(["", "", "", ",", ".", "!", "?", ";", ":", "—", "’s", ")", "(", "\"", "*", "_", "`", "#"])
SPACE = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\r\n", "\u00a0", "\n- ", "\n# ", "\n> "])
TOKEN = st.tuples(WORD, PUNCT, SPACE).map("".join)
DOCUMENT = st.lists(TOKEN, min_size=0, max_size=120).map("".join)
ANY_TEXT = st.text(max_size=400)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@FAST
@given(st.one_of(DOCUMENT, ANY_TEXT))
def test_paragraph_offsets_slice_back_and_nothing_is_lost(raw):
    paragraphs = split_paragraphs(raw)
    previous_end = 0
    for number, p in enumerate(paragraphs, start=1):
        assert p.number == number
        assert previous_end <= p.start < p.end <= len(raw)
        assert cleaning.clean_inline(raw[p.start:p.end]) == p.text  # the offsets point at this paragraph
        assert p.text and p.text == p.text.strip() and cleaning.has_words(p.text)
        previous_end = p.end
    # No text is lost: every line outside all paragraphs is one that holds no words once cleaned.
    offset = 0
    for line in raw.splitlines(keepends=True):
        start, end = offset, offset + len(line.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"))
        offset += len(line)
        if not any(p.start <= start and end <= p.end for p in paragraphs):
            assert not cleaning.has_words(cleaning.clean_inline(raw[start:end])), repr(raw[start:end])


@FAST
@given(st.one_of(DOCUMENT, ANY_TEXT).map(cleaning.clean_inline))
def test_sentences_are_non_empty_ordered_and_cover_every_word(text):
    spans = split_sentences(text)
    assert spans
    previous = 0
    for start, end in spans:
        assert previous <= start < end <= len(text) or (start, end) == (0, len(text))
        sentence = text[start:end]
        assert sentence == sentence.strip() or not text.strip()
        previous = end
    inside = " ".join(text[s:e] for s, e in spans)  # (joined without a space, "0" + "A" would read "0A")
    assert _words(inside) == _words(text)


@FAST
@given(st.lists(TOKEN, min_size=1, max_size=200).map("".join), st.integers(min_value=3, max_value=40),
       st.integers(min_value=0, max_value=2))
def test_windows_cover_the_whole_paragraph_within_the_limit(raw, limit, overlap):
    text = cleaning.clean_inline(raw)
    if not text:
        return
    sentences = split_sentences(text)
    counts = [len(text[s:e].split()) for s, e in sentences]
    spans = windows(text, sentences, counts, ChunkSettings(max_tokens=limit, window_overlap=overlap))
    assert spans[0][0] == sentences[0][0] and spans[-1][1] == sentences[-1][1]
    for (_s1, e1), (s2, _) in zip(spans, spans[1:]):
        assert s2 <= e1 + 1 or text[e1:s2].strip() == ""  # no gap with text in it
    for s, e in spans:
        assert text[s:e].strip()
        assert len(text[s:e].split()) <= limit + max(counts)  # at most one over-long piece is cut to the limit
    covered = set()
    for s, e in spans:
        covered.update(range(s, e))
    assert all(i in covered for m in re.finditer(r"\w+", text) for i in range(m.start(), m.end()))


@FAST
@given(DOCUMENT)
def test_passages_are_non_empty_and_quote_their_sentences(raw):
    doc = Document("doc.txt", raw, "0" * 64)
    count_words = lambda texts: [len(t.split()) for t in texts]  # noqa: E731
    _, passages, spans = chunk_document(doc, count_words, ChunkSettings(max_tokens=30))
    for passage, windows_of_passage in zip(passages, spans):
        assert passage.text.strip()
        assert cleaning.clean_inline(raw[passage.start:passage.end]) == passage.text
        for i, (s, e) in enumerate(passage.sentences):
            assert passage.sentence_text(i) == passage.text[s:e] and passage.text[s:e].strip()
        assert windows_of_passage and all(passage.text[s:e].strip() for s, e in windows_of_passage)


MARKUP = st.sampled_from(["[", "]", "(", ")", "*", "**", "_", "__", "~~", "`", "<", ">", "!", "<!--", "-->",
                          "<script>", "</script>", "<style>", "</STYLE>", "<http://x", "<b>", "</b>", "&amp;", "&#27;",
                          "\x1b[31m", "\x1b]0;title\x07", "\x9b", "\u200b", "\x00", " ", "word", "\n", "# "])
MARKUP_SOUP = st.lists(MARKUP, max_size=200).map("".join)


@FAST
@given(MARKUP_SOUP)
def test_cleaning_adversarial_markup_never_leaves_control_characters_or_grows(raw):
    cleaned = cleaning.clean_inline(raw)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]", cleaned)
    assert len(cleaned) <= len(raw)
    assert cleaned == cleaned.strip() and "  " not in cleaned


@FAST
@given(MARKUP_SOUP)
def test_scripts_and_comments_go_only_when_closed(raw):
    dropped = cleaning._drop_scripts_and_comments(raw)
    # What is left is the input with closed spans replaced by one space each: never longer, and
    # an input without any closer comes back unchanged.
    assert len(dropped) <= len(raw)
    if "-->" not in raw and "</" not in raw:
        assert dropped == raw
