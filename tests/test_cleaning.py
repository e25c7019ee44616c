from rag.ingest.chunking import split_paragraphs
from rag.ingest.cleaning import BODY, BOILERPLATE, HEADING, classify, clean_inline, derive_title


def test_markdown_links_emphasis_and_html_are_removed():
    text = "It is estimated that [40 per cent](#) of **UK** solar farms _use_ panels, on 2<sup>nd</sup> May."
    assert clean_inline(text) == "It is estimated that 40 per cent of UK solar farms use panels, on 2nd May."


def test_headings_bullets_entities_and_whitespace():
    assert clean_inline("### A City   Which\u00a0Stands") == "A City Which Stands"
    assert clean_inline("- Support &amp; expand the\nprogramme.") == "Support & expand the programme."
    assert clean_inline("snake_case_name stays") == "snake_case_name stays"
    assert clean_inline("<script>alert(1)</script>Safe text.") == "Safe text."


def test_roles_header_signature_caption_and_chrome():
    paragraphs = ["MAYOR OF LONDON", "Dear Navin,", "I am writing to follow up on your letter about the motion.",
                  "MAYOR OF LONDON", "China has the largest military in the world", "Yours sincerely,",
                  "A handwritten signature in blue ink, appearing to read 'Sadiq Khan', below the name.",
                  "Sadiq Khan", "Enter your email address to subscribe to this blog and receive notifications.",
                  "Share This"]
    assert classify(paragraphs) == [BOILERPLATE, BOILERPLATE, BODY, BOILERPLATE, HEADING, BOILERPLATE,
                                    BOILERPLATE, BOILERPLATE, BOILERPLATE, BOILERPLATE]


def test_paragraphs_split_on_blank_lines_and_keep_raw_offsets():
    raw = "Title line\n\nFirst paragraph has a sentence. And another one.\n\n\nSecond paragraph is here.\n"
    paragraphs = split_paragraphs(raw)
    assert [p.number for p in paragraphs] == [1, 2, 3]
    assert [p.text for p in paragraphs] == ["Title line", "First paragraph has a sentence. And another one.",
                                            "Second paragraph is here."]
    for p in paragraphs:
        assert raw[p.start:p.end] == p.text


def test_one_paragraph_per_line_files_split_on_single_newlines():
    raw = "He was astonished to learn about the pandemic.\n“Chilling to think there are a few who do not know.\n"
    assert [p.text for p in split_paragraphs(raw)] == [
        "He was astonished to learn about the pandemic.", "“Chilling to think there are a few who do not know."]


def test_sentence_broken_across_lines_or_blank_lines_is_joined():
    raw = ("These measures were coordinated with the US, Canada and the EU. Taken together, we represent over\n"
           "a third of global GDP,\n\nsending a powerful message to the Chinese Government.\n")
    [p] = split_paragraphs(raw)
    assert p.text.endswith("global GDP, sending a powerful message to the Chinese Government.")
    assert (p.start, p.end) == (0, len(raw) - 1)


def test_hard_wrapped_paragraphs_are_joined():
    raw = ("This paragraph was typed with hard line breaks at about seventy\n"
           "characters, the way plain-text e-mail and old documentation were\n"
           "written.\n\nA second paragraph follows.")
    texts = [p.text for p in split_paragraphs(raw)]
    assert texts[0].startswith("This paragraph was typed") and texts[0].endswith("were written.")
    assert len(texts) == 2


def test_title_is_derived_from_first_heading_or_file_name():
    assert derive_title(["Rivers of Europe", "The Danube flows."], [HEADING, BODY], "rivers.md") == \
        "Rivers of Europe"
    assert derive_title(["The Danube flows east."], [BODY], "notes/river_notes.txt") == "river notes"


def test_table_rows_and_key_value_lines_are_quotable_records():
    paragraphs = ["Opening hours", "Monday to Friday: 9am to 6pm", "Saturday: 10am to 2pm", "Sunday: closed",
                  "Item | Amount", "Meal allowance | 35 euros per day", "Hotel | 120 euros per night",
                  "Jan 9, 2023 | News", "Date: 19 March 2021", "Contents", "Note: see below"]
    assert classify(paragraphs) == [HEADING, BODY, BODY, BODY,  # a list of opening hours
                                    HEADING, BODY, BODY,  # a table: its header row, then its rows
                                    BODY,  # (the row after them continues the run)
                                    BODY,  # a lone key-value line with a number in its value
                                    HEADING, HEADING]  # a real heading; a lone label without a number
    assert classify(["Jan 9, 2023 | News", "A sentence of prose follows the byline here."]) == [HEADING, BODY]
    assert classify(["Opening hours: 9am to 6pm"], headings=[True]) == [HEADING]  # a marked heading stays one
