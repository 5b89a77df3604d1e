"""Data-derived text is made inert in one place (salesaudit.text) and contacts are masked before printing."""

from __future__ import annotations

import pytest
from salesaudit import text


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("Write to jane.doe@example.com", "Write to j***@example.com"),
        ("Call +48 601 234 567 today", "Call +•••567 today"),
        ("Call (555) 010-0100", "Call •••100"),
        ("601 234 567", "•••567"),
    ],
)
def test_contacts_are_masked(raw, shown):
    assert text.mask_contacts(raw) == shown
    assert shown in text.safe_markdown(raw)


@pytest.mark.parametrize(
    "plain",
    ["2023-10-01 – 2026-09-30", "12,345 leads, 1,234,567 EUR", "rows 12, 40, 41", "n = 1,234", "+16% a year"],
)
def test_dates_counts_and_rates_are_not_taken_for_phone_numbers(plain):
    assert text.mask_contacts(plain) == plain


def test_safe_markdown_keeps_the_audit_markup_and_disarms_the_data():
    md = text.safe_markdown(
        "**Best** stream `x` <img src=x onerror=alert(1)> [bad](javascript:alert(1)) ![i](http://evil/p.png) "
        "[→ 01 Sales process, §2](#01_sales_process-2) A & B"
    )
    assert "**Best** stream `x`" in md
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "javascript" not in md and "http://evil" not in md and " bad " in md
    assert "[→ 01 Sales process, §2](#01_sales_process-2)" in md
    assert "A &amp; B" in md


def test_what_this_means_and_notes_pass_the_gate():
    block = text.what_this_means(["Campaign <script>alert(1)</script> by bob@example.org"]).data
    assert "<script>" not in block and "b***@example.org" in block
    assert "<b>" not in text.note("<b>bold</b>").data


def test_md_escape_makes_names_inert():
    assert text.md_escape("Acme <b>Ltd</b> *x*") == "Acme &lt;b&gt;Ltd&lt;/b&gt; \\*x\\*"


def test_report_css_and_outputs_carry_no_live_data():
    from salesaudit.report import build as report

    css = report.page_css('Acme</style><script>alert(1)</script> "x"', "2026Q3", "A4")
    assert "</style>" not in css and "<script>" not in css
    masked = report._masked({"text/html": "<td>bob@example.com</td><td>+48 601 234 567</td>", "image/png": "AAA="})
    assert masked["text/html"] == "<td>b***@example.com</td><td>+•••567</td>" and masked["image/png"] == "AAA="


def test_pdf_fetches_nothing_but_embedded_images(tmp_path):
    import base64

    from PIL import Image
    from pypdf import PdfReader
    from salesaudit.report import build as report
    from weasyprint import HTML

    png = tmp_path / "injected.png"
    Image.new("RGB", (20, 20), (200, 0, 0)).save(png)
    embedded = base64.b64encode(png.read_bytes()).decode()
    html = f'<html><body><img src="file://{png}"><img src="data:image/png;base64,{embedded}"></body></html>'

    def images(pdf):
        return sum(len(p.images) for p in PdfReader(str(pdf)).pages)

    HTML(string=html, base_url=str(tmp_path)).write_pdf(str(tmp_path / "plain.pdf"))
    assert images(tmp_path / "plain.pdf") == 2  # WeasyPrint alone reads the file
    report.write_pdf(html, tmp_path / "report.pdf", tmp_path)
    assert images(tmp_path / "report.pdf") == 1  # the report reads only the embedded image
