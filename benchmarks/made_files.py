"""Document files built in code, for the tests and the hostile-input benchmark: PDFs (fpdf2), Word files
(python-docx), and files that cannot be read (with the message `rag index` gives for each)."""

from __future__ import annotations

import io
import os

ASCII = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "})


def latin1(text: str) -> str:
    """The PDF core fonts cover Latin-1 only."""
    return text.translate(ASCII).encode("latin-1", "replace").decode("latin-1")


def make_pdf(paragraphs: list[str], *, header: str | None = None, footer: bool = False,
             password: str | None = None, break_before: set[int] = frozenset(), raw_lines: bool = False) -> bytes:
    """A PDF with the paragraphs (a blank gap between them), an optional running header and a
    "Page N" footer on every page, optionally encrypted, with page breaks before the given paragraphs.
    `raw_lines` writes each paragraph's lines as they are (no re-wrapping)."""
    from fpdf import FPDF

    class Document(FPDF):
        def header(self) -> None:
            if header:
                self.set_font("Helvetica", size=9)
                self.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT", align="C")
                self.ln(4)

        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", size=9)
                self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = Document()
    if password:
        pdf.set_encryption(owner_password="owner-secret", user_password=password)
    pdf.set_auto_page_break(True, margin=25)
    pdf.add_page()
    for i, paragraph in enumerate(paragraphs):
        if i in break_before:
            pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        if raw_lines:
            for line in paragraph.splitlines():
                pdf.cell(0, 6, latin1(line), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(0, 6, latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(5)
    return bytes(pdf.output())


def make_scanned_pdf(pages: int = 2) -> bytes:
    """Pages with a drawing and no text layer, as a scanner makes them."""
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 150, 200, style="F")
    return bytes(pdf.output())


def make_docx(blocks: list[tuple[str, str]], table: list[list[str]] | None = None) -> bytes:
    """A Word file from (style, text) blocks: style "title", "h1", "h2" or "p"; an optional table."""
    import docx

    document = docx.Document()
    for style, text in blocks:
        if style == "title":
            document.add_heading(text, level=0)
        elif style.startswith("h"):
            document.add_heading(text, level=int(style[1:]))
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


PARAGRAPH = ["The harbour of Valletta was fortified by the Knights of Malta after the siege of 1565. "
             "Its walls are still standing today."]


def _truncated_pdf() -> bytes:
    whole = make_pdf(PARAGRAPH * 3)
    return whole[:len(whole) // 3]


def _junk_docx() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("junk.bin", os.urandom(2048))
        archive.writestr("notes.txt", "not a word document")
    return out.getvalue()


def _zip_bomb_docx() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:  # 300 MB of XML in a 300 KB file
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<" + b" " * (300 * 2**20))
    return out.getvalue()


def _billion_laughs_docx() -> bytes:
    import io
    import zipfile

    import docx

    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY lol0 "lol">{entities}]><w:document xmlns:w='
           '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol9;</w:t>'
           '</w:r></w:p></w:body></w:document>')
    real = io.BytesIO()
    docx.Document().save(real)
    source, out = zipfile.ZipFile(real), io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            archive.writestr(info.filename, xml if info.filename == "word/document.xml" else source.read(info))
    return out.getvalue()


SKIPPED = [
    ("empty.txt", b"", "empty.txt: skipped, it is empty"),
    ("blank.txt", b"  \n\t\n   \n", "blank.txt: skipped, it is empty"),
    ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", "photo.txt: skipped, it looks binary "
                                                                       "(it contains NUL bytes)"),
    ("secret.pdf", lambda: make_pdf(PARAGRAPH, password="hunter2"),
     "secret.pdf: skipped, the PDF is encrypted with a password: save an unencrypted copy to index it"),
    ("scan.pdf", make_scanned_pdf, "scan.pdf: skipped, its 2 page(s) have no text layer (a scanned PDF?): "
                                   "run OCR on it first"),
    ("cut.pdf", _truncated_pdf, "cut.pdf: skipped, it is not a readable PDF (truncated or damaged"),
    ("report.docx", _junk_docx, "report.docx: skipped, it is not a readable Word document"),
    ("bomb.docx", _zip_bomb_docx, "bomb.docx: skipped, it unpacks to 300 MB, over the limit of 200 MB for one "
                                  "document"),
    ("laughs.docx", _billion_laughs_docx, "laughs.docx: skipped, it could not be read (XMLSyntaxError: "),
]
