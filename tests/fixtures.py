"""Document files built in code for the format tests: PDFs (fpdf2) and Word files (python-docx)."""

from __future__ import annotations

import io

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
