"""Rep scorecards (issue 16, part 4): one page per rep, against team aggregates only, honest on small samples."""

from __future__ import annotations

import argparse
import re

import pandas as pd
import pytest
from salesaudit.report import scorecards as sc

BROKEN = re.compile(r"\b(nan|NaN|inf|<NA>|None|NaT)\b")


@pytest.fixture(scope="module")
def cards(small_data, tmp_path_factory):
    from salesaudit.data.coverage import audit_quarter
    from salesaudit.data.io import load

    data = load(small_data)
    q = audit_quarter(data.coverage, "2026Q3")
    out = tmp_path_factory.mktemp("reps")
    paths = sc.write_scorecards(out, data, q)
    return data, out, paths


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(str(path)).pages)


def _html_text(path) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", path.read_text(encoding="utf-8"))))


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text, re.I) is not None


def test_one_card_per_active_rep(cards):
    data, out, paths = cards
    reps = data.reps.set_index("rep_id")
    assert len(paths) >= 10
    for p in paths:
        assert p.with_suffix(".pdf").is_file()
        assert re.fullmatch(r"[a-z0-9_-]+", p.stem)
    ids = {p.stem for p in paths}
    assert ids <= {sc.card_file_stem(r) for r in reps.index}


def test_no_other_rep_is_named_in_a_card(cards):
    data, out, paths = cards
    reps = data.reps[["rep_id", "name"]].astype(str)
    by_stem = {sc.card_file_stem(r): (r, n) for r, n in zip(reps["rep_id"], reps["name"])}
    for p in paths:
        me, my_name = by_stem[p.stem]
        for kind, body in (("html", _html_text(p)), ("pdf", _pdf_text(p.with_suffix(".pdf")))):
            assert _mentions(body, my_name) or kind == "pdf" and _mentions(body, my_name.split()[0]), (p.name, kind)
            for rid, name in zip(reps["rep_id"], reps["name"]):
                if rid == me:
                    continue
                assert not _mentions(body, rid), (p.name, kind, rid)
                assert not _mentions(body, name), (p.name, kind, name)
                for part in name.split():  # neither a first nor a last name of a colleague
                    if len(part) > 3 and part not in my_name:
                        assert not _mentions(body, part), (p.name, kind, part)


def test_each_card_is_one_page_without_broken_tokens(cards):
    from pypdf import PdfReader

    _data, _out, paths = cards
    for p in paths:
        assert len(PdfReader(str(p.with_suffix(".pdf"))).pages) == 1, p.name
        assert not BROKEN.search(_html_text(p)), (p.name, BROKEN.search(_html_text(p)))


def test_small_samples_are_not_compared(cards):
    _data, _out, paths = cards
    text = " ".join(_html_text(p) for p in paths)
    # the small demo's reps close fewer than 30 deals a quarter: the quarter's win rate cannot be compared
    assert "cannot be compared: " in text and f"at least {sc.MIN_CASES} are needed" in text
    assert "beyond the noise" in text or "within the noise" in text  # the 8-quarter figures are compared


def test_rate_comparison_rules():
    assert sc.rate_comparison(5, 29, 300, 600, 10, "leads")[1].startswith("cannot be compared: 29 leads")
    assert sc.rate_comparison(5, 0, 300, 600, 10, "leads")[0] == "no leads"
    # the rest of the team must be at least MIN_OTHER_REPS reps, else it would be a colleague's figure
    assert "anonymous" in sc.rate_comparison(50, 100, 50, 100, 2, "leads")[1]
    assert sc.rate_comparison(30, 100, 300, 600, 10, "leads")[1].startswith("below the rest of the team beyond")
    assert sc.rate_comparison(50, 100, 300, 600, 10, "leads")[1].startswith("within the noise")


def test_top_quartile_needs_enough_reps():
    wcard = pd.DataFrame(
        {"rep_id": ["A", "B", "C", "D"], "skill_rate": [0.1, 0.2, 0.3, 0.4], "contact_rate": [0.5, 0.6, 0.7, 0.8]}
    )
    table, note = sc.contrast_table(wcard, "A")
    assert table is None and "colleague" in note


def test_card_html_escapes_hostile_text():
    card = sc.RepCard(
        rep_id='R1"><script>alert(1)</script>',
        name="<img src=x onerror=alert(1)>",
        team="</style><script>x()</script>",
        quarter="2026Q3",
        comparison=pd.DataFrame([{"figure": "f", "rep": "<b>x</b>", "team": "t", "verdict": "v"}]),
        trend=pd.DataFrame(),
        archetype="**<script>** is a Star",
        contrast=None,
        contrast_note="n",
    )
    page = sc.card_html(card, "ACME <script>")
    assert "<script" not in page and "<img" not in page and "</style><script" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_cli_flag():
    from salesaudit.report.build import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    assert p.parse_args(["--rep-scorecards"]).rep_scorecards is True
    assert p.parse_args([]).rep_scorecards is False
