"""The page furniture both documents share: a header with the site and the title, label/value
blocks, tables with right-aligned amounts, and a totals block."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime

with warnings.catch_warnings():
    # The frozen build leaves Pillow out (the documents have no images); fpdf2 warns about it.
    warnings.filterwarnings("ignore", "Pillow could not be imported", UserWarning)
    from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from parking_desktop.adapters.pdf.fonts import FAMILY, font_files

INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
HEAD_FILL = (241, 243, 245)
# Paper sizes in mm, given as numbers (fpdf2 changed its A5 table in 2.8.5 and warns about it).
A4 = (210.0, 297.0)
A5 = (148.0, 210.0)


class Document(FPDF):
    """An fpdf2 document with the embedded Unicode font and a few building blocks."""

    def __init__(
        self, *, size: tuple[float, float], title: str, author: str, created: datetime
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format=size)
        for style, path in font_files().items():
            self.add_font(FAMILY, style=style, fname=str(path))
        self.set_title(title)
        self.set_author(author)
        self.set_creator("Parking Desktop")
        # The document's own date, not the machine's clock: the same receipt makes the same file.
        self.set_creation_date(created)
        self.set_margins(14, 14, 14)
        self.set_auto_page_break(True, margin=16)
        self.footer_text = ""
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=7)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.footer_text}   ·   page {self.page_no()}/{{nb}}", align=Align.C)

    # --- blocks --------------------------------------------------------------------------
    def heading(self, site: str, title: str, lines: Sequence[str] = ()) -> None:
        self.set_text_color(*INK)
        self.set_font(FAMILY, "B", 15)
        self.multi_cell(0, 7, site, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 9)
        self.set_text_color(*MUTED)
        for line in lines:
            if line:
                self.multi_cell(0, 4.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "B", 12)
        self.cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.rule()

    def rule(self) -> None:
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(3)

    def fields(self, pairs: Sequence[tuple[str, str]], label_width: float = 34) -> None:
        """Label: value lines (long values wrap under themselves)."""
        for label, value in pairs:
            self.set_font(FAMILY, "", 9)
            self.set_text_color(*MUTED)
            self.cell(label_width, 5.5, label)
            self.set_font(FAMILY, "", 10)
            self.set_text_color(*INK)
            self.multi_cell(0, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def section(self, title: str) -> None:
        self.ln(1)
        self.set_font(FAMILY, "B", 10.5)
        self.set_text_color(*INK)
        self.cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[int],
        right: Sequence[int],
    ) -> None:
        """A table; the columns numbered in ``right`` (amounts, counts) align right."""
        self.set_font(FAMILY, "", 9.5)
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)
        aligns = tuple("RIGHT" if i in right else "LEFT" for i in range(len(headings)))
        with self.table(
            col_widths=tuple(widths),
            text_align=aligns,
            line_height=6,
            padding=(0.8, 1.5),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
        ) as table:
            for values in (headings, *rows):
                row = table.row()
                for value in values:
                    row.cell(value)
        self.ln(2)

    def totals(self, pairs: Sequence[tuple[str, str]], strong: Sequence[str] = ()) -> None:
        """Label/amount lines aligned to the right edge; labels in ``strong`` in bold."""
        width = self.w - self.l_margin - self.r_margin
        for label, value in pairs:
            bold = "B" if label in strong else ""
            self.set_font(FAMILY, bold, 11 if bold else 9.5)
            self.set_x(self.l_margin + width * 0.35)
            self.cell(width * 0.40, 6.5, label, align=Align.R)
            self.cell(width * 0.25, 6.5, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def note(self, text: str) -> None:
        self.set_font(FAMILY, "", 8.5)
        self.set_text_color(*MUTED)
        self.multi_cell(0, 4.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)

    def to_bytes(self) -> bytes:
        return bytes(self.output())
