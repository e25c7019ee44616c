from rag.ingest.chunking import ChunkSettings, chunk_document, split_sentences, windows
from rag.ingest.documents import Document


def test_sentence_offsets_slice_back_to_sentences():
    text = "Dr. Smith went to Washington on Jan. 5. He said “Hi.” Then he left.  The end."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Dr. Smith went to Washington on Jan. 5.", "He said “Hi.”",
                                             "Then he left.", "The end."]


def test_windows_cover_a_long_paragraph_within_the_limit_with_overlap():
    sentences_text = [f"Sentence number {i} has exactly seven words." for i in range(10)]
    text = " ".join(sentences_text)
    spans = split_sentences(text)
    tokens = [len(text[s:e].split()) for s, e in spans]
    result = windows(text, spans, tokens, ChunkSettings(max_tokens=20, window_overlap=1))
    assert len(result) > 1
    assert result[0][0] == 0 and result[-1][1] == len(text)
    for s, e in result:
        assert len(text[s:e].split()) <= 20
    # consecutive windows share a sentence, so nothing falls between them
    for (_, e1), (s2, _) in zip(result, result[1:]):
        assert s2 < e1


def test_a_single_sentence_longer_than_the_limit_is_cut_not_truncated():
    text = " ".join(f"w{i}" for i in range(50)) + "."
    spans = split_sentences(text)
    result = windows(text, spans, [50], ChunkSettings(max_tokens=12))
    covered = " ".join(text[s:e] for s, e in result).split()
    assert covered[0] == "w0" and covered[-1] == "w49." and len(result) >= 5


def test_chunk_document_keeps_source_title_paragraph_and_offsets():
    raw = "MAYOR OF LONDON\n\nThe Mayor wrote a letter. It was long.\n\nMAYOR OF LONDON\n\nIt ended well after all.\n"
    doc = Document("letters/a.txt", raw, "hash", title="A letter")

    def count(texts):
        return [len(t.split()) for t in texts]

    title, passages, spans = chunk_document(doc, count, ChunkSettings(max_tokens=254))
    assert title == "A letter"
    assert [(p.paragraph, p.text) for p in passages] == [(2, "The Mayor wrote a letter. It was long."),
                                                          (4, "It ended well after all.")]
    for p in passages:
        assert raw[p.start:p.end] == p.text and p.source == "letters/a.txt"
        assert [p.text[s:e] for s, e in p.sentences][0] in p.text
    assert spans == [[(0, len(passages[0].text))], [(0, len(passages[1].text))]]


def test_records_carry_their_label_and_prose_its_headings():
    raw = ("# Opening hours\n\nMonday to Friday: 9am to 6pm\n\nSaturday: 10am to 2pm\n\n# Travel\n\n"
           "Item | Amount\n\nMeal allowance | 35 euros per day\n\nHotel | 120 euros per night\n\n"
           "This sentence is prose under its heading.\n")
    words = lambda texts: [len(t.split()) for t in texts]  # noqa: E731
    _, passages, _ = chunk_document(Document("d.md", raw, "0"), words, ChunkSettings())
    assert [(p.text, p.context) for p in passages] == [
        ("Monday to Friday: 9am to 6pm", "Opening hours"), ("Saturday: 10am to 2pm", "Opening hours"),
        ("Meal allowance | 35 euros per day", "Item | Amount"), ("Hotel | 120 euros per night", "Item | Amount"),
        ("This sentence is prose under its heading.", "Travel")]
    assert passages[1].labelled(passages[1].text) == "Opening hours: Saturday: 10am to 2pm"
