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
