"""The report PDF rendered in parts (salesaudit.report.pdf) equals the one-document PDF: the same text on every page
(page numbers and the contents' numbers included), the same links, outline and named destinations."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader
from salesaudit.periods import Quarter
from salesaudit.report import build
from salesaudit.report import pdf as pdfmod


def _section(stem: str, title: str, paragraphs: int, link_to: str | None = None):
    body = [f'<h1 id="{stem}">{title}</h1>']
    if link_to:
        body.append(f'<p>See <a href="#{link_to}">the other section</a>.</p>')
    for k in (1, 2):
        body.append(f'<h2 id="{stem}-{k}">{k}. Part {k} of {title}</h2>')
        body += [f"<p>{title}, paragraph {i}: " + "words " * 60 + "</p>" for i in range(paragraphs)]
    heads = [(1, stem, title), (2, f"{stem}-1", f"1. Part 1 of {title}"), (2, f"{stem}-2", f"2. Part 2 of {title}")]
    return (stem, title, "\n".join(body), heads)


@pytest.fixture(scope="module")
def report_html():
    sections = [
        _section("00_summary", "00 · Summary", 3, link_to="02_long-2"),
        _section("01_short", "01 · Short", 2),
        _section("02_long", "02 · Long", 40, link_to="00_summary-1"),
    ]
    return build.assemble_html(
        sections,
        company="Parts Co",
        quarter=Quarter(2026, 3),
        built_at=datetime(2026, 10, 2, 8, 0, tzinfo=timezone.utc),
        data_range=(pd.Timestamp("2025-10-01"), pd.Timestamp("2026-09-30")),
        n_leads=100,
    )


def _texts(path: Path) -> list[list[str]]:
    return [p.extract_text().split() for p in PdfReader(str(path)).pages]


def _links(path: Path) -> list[tuple[int, str]]:
    out = []
    for i, page in enumerate(PdfReader(str(path)).pages):
        for a in page.get("/Annots") or []:
            a = a.get_object()
            if a.get("/Subtype") == "/Link":
                out.append((i, str(a.get("/Dest"))))
    return sorted(out)


def _outline(items, depth=0):
    out = []
    for x in items:
        out += _outline(x, depth + 1) if isinstance(x, list) else [(depth, x.title)]
    return out


def test_split_report_joins_back(report_html):
    head, front, sections = pdfmod.split_report(report_html)
    assert head.endswith("<body>") and '<section class="cover">' in front and len(sections) == 3
    assert head + front + "".join(sections) + "</body></html>" == report_html
    assert pdfmod.split_report("<html><body><p>no sections</p></body></html>") is None


def test_parts_equal_one_document(report_html, tmp_path):
    one, parts = tmp_path / "one.pdf", tmp_path / "parts.pdf"
    build.write_pdf(report_html, one, tmp_path)
    rule = build.page_css("Parts Co", "2026Q3", "A4")
    got = pdfmod.write_report_pdf(report_html, parts, tmp_path, page_rule=rule, workers=2, cache=tmp_path / "c")
    assert got == {"parts": 3, "reused": 0, "pages": len(PdfReader(str(one)).pages)}
    assert got["pages"] > 5  # the long section runs over several pages, so later numbers depend on it
    assert _texts(parts) == _texts(one)
    assert any(f"Page {got['pages']} of {got['pages']}" in " ".join(t) for t in _texts(parts))
    assert _links(parts) == _links(one) and len(_links(one)) >= 11  # contents (9) + the two cross-section links
    a, b = PdfReader(str(one)), PdfReader(str(parts))
    assert _outline(b.outline) == _outline(a.outline)
    assert set(b.named_destinations) == set(a.named_destinations)
    assert b.metadata.get("/Title") == a.metadata.get("/Title")


def test_unchanged_parts_are_not_laid_out_again(report_html, tmp_path):
    rule = build.page_css("Parts Co", "2026Q3", "A4")
    cache = tmp_path / "c"
    first = pdfmod.write_report_pdf(report_html, tmp_path / "a.pdf", tmp_path, page_rule=rule, workers=1, cache=cache)
    again = pdfmod.write_report_pdf(report_html, tmp_path / "b.pdf", tmp_path, page_rule=rule, workers=1, cache=cache)
    assert first["reused"] == 0 and again["reused"] == 3
    assert _texts(tmp_path / "a.pdf") == _texts(tmp_path / "b.pdf")
    edited = report_html.replace("01 · Short, paragraph 0", "01 · Short, an edited paragraph")
    third = pdfmod.write_report_pdf(edited, tmp_path / "c.pdf", tmp_path, page_rule=rule, workers=1, cache=cache)
    assert third["reused"] == 2 and "edited" in " ".join(sum(_texts(tmp_path / "c.pdf"), []))
    meta = [json.loads(p.read_text()) for p in (cache / "pdf-parts").glob("*.json")]
    assert len(meta) == 4 and all(m["pages"] >= 1 for m in meta)
