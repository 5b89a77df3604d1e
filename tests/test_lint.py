"""The report linter: each rule catches its synthetic case and leaves the near-misses alone."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from salesaudit import plots  # noqa: E402
from salesaudit.cli import main  # noqa: E402
from salesaudit.data import demo
from salesaudit.report import lint
from salesaudit.stats import MIN_BASE_N, MIN_CLAIM_N  # noqa: E402


def rules(text: str, demo_ok: bool = False) -> list[str]:
    return [p.rule for p in lint.lint_text(text, demo=demo_ok)]


# --------------------------------------------------------------------------------------------------
# rule 1: broken tokens, same from/to, absurd percentage changes
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Win rate: nan.",
        "Win rate NaN% this quarter",
        "Cycle time: inf days",
        "change -inf",
        "change +inf",
        "paid_search converts inf× better",
        "owner <NA> in 3 rows",
        "first contact NaT",
        "Top rep: None.",
        "owner is None and",
        "interval n/a–n/a",
        "interval n/a - n/a",
        "interval n/a — n/a",
    ],
)
def test_broken_tokens_are_caught(text):
    assert rules(text) == ["broken-token"]


@pytest.mark.parametrize(
    "text",
    [
        "The financial info is infinite.",
        "National sales, Nano series, Nancy and Natasha.",
        "None of the reps missed quota.",
        "None were lost.",
        "inflow of leads; information; infographic",
        "np.nanmean is a function name, and so is math.inf_value",
        "Interval n/a; the other one is 3%–5%.",
    ],
)
def test_broken_token_near_misses_are_clean(text):
    assert rules(text) == []


def test_broken_table_cells_are_caught_in_html():
    html = "<table><tr><th>rep</th><th>rate</th></tr><tr><td>A</td><td>NaN</td></tr><tr><td>B</td><td>None</td></tr>"
    html += (
        "<tr><td>C</td><td>&lt;NA&gt;</td></tr><tr><td>D</td><td>inf</td></tr><tr><td>E</td><td>NaT</td></tr></table>"
    )
    problems = lint.lint_html(html)
    assert [p.rule for p in problems] == ["broken-token"] * 5
    assert [p.problem for p in problems] == [f"broken token {t!r}" for t in ["NaN", "None", "<NA>", "inf", "NaT"]]


def test_same_from_to():
    assert rules("Close rate went from 100.0% to 100.0%.") == ["same-from-to"]
    assert rules("Cycle went from 12 days to 12 days") == ["same-from-to"]
    assert rules("Close rate went from 10% to 12%.") == []
    assert rules("from 10% to 100%, and from 10 to 10.5") == []
    assert rules("We hear from time to time from leads to customers.") == []


def test_absurd_percentage_changes():
    assert rules("Leads +66275% on the previous quarter") == ["tiny-base-percentage"]
    assert rules("revenue up 1,250% against 2026Q2") == ["tiny-base-percentage"]
    assert rules("revenue −2400%") == ["tiny-base-percentage"]
    assert rules("Leads +950%, −12%, 100%, 1,000%") == []
    assert rules("Quota attained: 1120% (a tiny quota)") == []  # a level, not a change
    assert MIN_BASE_N == 30


# --------------------------------------------------------------------------------------------------
# rule 2: demo words
# --------------------------------------------------------------------------------------------------
def test_demo_words_come_from_the_generator():
    assert demo.COMPANY in lint.DEMO_WORDS
    assert set(demo.REP_NAMES) <= set(lint.DEMO_WORDS)
    assert "podcast" in lint.DEMO_WORDS and "Pro Suite" in lint.DEMO_WORDS
    assert not {"paid_search", "referral", "Core", "Enterprise"} & set(lint.DEMO_WORDS)


@pytest.mark.parametrize(
    "text",
    ["Northwind Devices (demo) — audit", "Is the podcast worth it?", "two podcasts", "Anna Berg wins", "Contoso"],
)
def test_demo_words_are_caught_outside_the_demo(text):
    assert rules(text) == ["demo-word"]
    assert rules(text, demo_ok=True) == []


def test_generic_words_are_not_demo_words():
    assert rules("paid_search and referral leads; Core and Enterprise plans; Annabel Bergman") == []


# --------------------------------------------------------------------------------------------------
# rule 3: claims need n
# --------------------------------------------------------------------------------------------------
def test_claims_need_their_sample_size():
    assert rules("Best channel: referral (13.5%).") == ["claim-without-n"]
    assert rules("Paid search is beyond the noise.") == ["claim-without-n"]
    assert rules("The weakest rep converts 12% (n = 12).") == ["claim-small-n"]
    assert rules("Highest: referral (n = 1,204), lowest: podcast (n=12).", demo_ok=True) == ["claim-small-n"]
    assert rules("Best channel: referral (13.5%, n = 45).") == []
    assert rules("Strongest: webinar (n=30); weakest: events (n = 2,410).") == []
    assert MIN_CLAIM_N == 30


def test_claim_rule_checks_each_sentence_and_skips_questions():
    text = "Which channel converts best?\nReferral converts best (n = 80). The worst is events."
    problems = lint.lint_text(text)
    assert [p.rule for p in problems] == ["claim-without-n"]
    assert "The worst is events." in problems[0].excerpt
    assert rules("the bestseller list and the lowest-common denominator") == ["claim-without-n"]  # "lowest" is a word
    assert rules("the bestseller list") == []


# --------------------------------------------------------------------------------------------------
# rule 4: crashed sections and empty charts
# --------------------------------------------------------------------------------------------------
def _png(draw) -> np.ndarray:
    plots.set_theme()
    fig, ax = plt.subplots(figsize=(6, 3), dpi=60)
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture(scope="module")
def charts() -> dict[str, bytes]:
    def empty(ax):
        ax.set(title="Close rate by channel", xlabel="channel", ylabel="close rate (%)")

    def bars(ax):
        ax.bar(["a", "b", "c", "d"], [3, 5, 2, 7])
        empty(ax)

    def line(ax):
        ax.plot(range(12), np.sin(np.arange(12)))
        empty(ax)

    return {"empty": _png(empty), "bars": _png(bars), "line": _png(line), "blank": _png(lambda ax: ax.axis("off"))}


def test_empty_chart_heuristic_on_real_matplotlib_images(charts):
    assert "no data marks" in lint.chart_is_empty(_rgb(charts["empty"]))
    assert "blank" in lint.chart_is_empty(_rgb(charts["blank"]))
    assert lint.chart_is_empty(_rgb(charts["bars"])) is None
    assert lint.chart_is_empty(_rgb(charts["line"])) is None


def _nb(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _md_cell(text: str) -> dict:
    return {"cell_type": "markdown", "source": text, "metadata": {}}


def _code_cell(*outputs: dict) -> dict:
    return {"cell_type": "code", "source": "", "metadata": {}, "outputs": list(outputs), "execution_count": 1}


def _display(data: dict) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def test_notebook_crashes_and_empty_charts(charts):
    nb = _nb(
        _md_cell("# Title\n\n## 1. Leads"),
        _code_cell({"output_type": "error", "ename": "KeyError", "evalue": "'owner'", "traceback": ["Traceback..."]}),
        _md_cell("## 2. Funnel"),
        _code_cell({"output_type": "stream", "name": "stdout", "text": "Data problem: leads.csv has no owner\n"}),
        _code_cell(_display({"image/png": base64.b64encode(charts["empty"]).decode(), "text/plain": "<Figure nan>"})),
        _code_cell(_display({"image/png": base64.b64encode(charts["bars"]).decode(), "text/plain": "<Figure>"})),
    )
    problems = lint.lint_notebook(nb, "01_x.ipynb")
    assert [(p.rule, p.where) for p in problems] == [
        ("crashed-section", "cell 1 (1. Leads)"),
        ("crashed-section", "cell 3 (2. Funnel)"),
        ("empty-chart", "cell 4 (2. Funnel)"),
    ]
    assert problems[0].excerpt == "KeyError: 'owner'"


def test_notebook_reads_markdown_then_html_then_plain():
    nb = _nb(
        _code_cell(
            _display({"text/markdown": "Best rep: **None**.", "text/plain": "<IPython.core.display.Markdown>"}),
            _display({"text/html": "<table><tr><td>nan</td></tr></table>", "text/plain": "  x\n0 nan"}),
            _display({"text/plain": "financial info, from 10% to 12%, n = 45"}),
            _display({"application/json": {"label": "nan"}}),
        )
    )
    problems = lint.lint_notebook(nb)
    assert [p.problem for p in problems] == [
        "broken token 'None'",
        "claim without its sample size ('Best')",
        "broken token 'nan'",
    ]


# --------------------------------------------------------------------------------------------------
# HTML and summary.json
# --------------------------------------------------------------------------------------------------
def test_html_visible_text_only():
    html = (
        "<html><head><title>nan</title><style>.nan{color:red}</style></head><body>"
        "<script>var x = NaN;</script><img src='data:image/png;base64,bmFuIE5hTiBpbmY='>"
        "<h2 id='01-3'>3. The funnel</h2><p>Close rate &lt;NA&gt; and fine info.</p></body></html>"
    )
    (problem,) = lint.lint_html(html, "r.html")
    assert (problem.file, problem.where, problem.problem) == ("r.html", "01-3 3. The funnel", "broken token '<NA>'")


def test_summary_strings_and_non_finite_numbers():
    doc = {"company": "Acme", "figures": {"x": {"label": "Close rate nan", "value": float("nan"), "n": None}}}
    problems = lint.lint_summary(doc)
    assert [(p.where, p.rule) for p in problems] == [
        ("figures.x.label", "broken-token"),
        ("figures.x.value", "broken-token"),
    ]


# --------------------------------------------------------------------------------------------------
# a report folder built by hand, and the CLI
# --------------------------------------------------------------------------------------------------
def _report(folder: Path, company: str, sentence: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"company": company, "findings": [{"text": sentence}]}))
    html = f"<h1 id='cover'>{company}</h1><h2 id='01-1'>1. Leads</h2><p>{sentence}</p>"
    (folder / "sales-audit-2026Q3.html").write_text(html)
    nb = _nb(_md_cell("## 1. Leads"), _code_cell(_display({"text/markdown": sentence})))
    (folder / "01_sales_process.ipynb").write_text(json.dumps(nb))
    return folder


def test_lint_report_on_a_hand_built_folder(tmp_path):
    clean = _report(tmp_path / "acme", "Acme GmbH", "Leads went from 100 to 120 (n = 120); the financial info holds.")
    assert lint.lint_report(clean) == []

    bad = _report(tmp_path / "bad", "Acme GmbH", "Best: podcast at inf× (n = 12).")
    problems = lint.lint_report(bad)
    by_file = {(p.file, p.rule) for p in problems}
    for file in ("sales-audit-2026Q3.html", "summary.json", "01_sales_process.ipynb"):
        assert {(file, "broken-token"), (file, "demo-word"), (file, "claim-small-n")} <= by_file
    assert all(p.rule != "demo-word" for p in lint.lint_report(bad, demo=True))


def test_demo_report_is_recognised(tmp_path):
    folder = _report(tmp_path / "demo", demo.COMPANY, "Anna Berg closed 40 deals (n = 40).")
    assert lint.is_demo_report(folder)
    assert lint.lint_report(folder) == []
    assert {p.rule for p in lint.lint_report(folder, demo=False)} == {"demo-word"}


def test_cli_exit_codes_and_lines(tmp_path, capsys):
    clean = _report(tmp_path / "clean", "Acme GmbH", "Leads rose 12% (n = 300).")
    assert main(["lint", str(clean)]) == 0
    bad = _report(tmp_path / "bad", "Acme GmbH", "Win rate nan this quarter.")
    capsys.readouterr()
    assert main(["lint", str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "sales-audit-2026Q3.html: 01-1 1. Leads: broken token 'nan': \"Win rate nan this quarter.\""
    assert len(lines) == 3
    assert main(["lint", str(tmp_path / "missing")]) == 1
    assert "no report here" in capsys.readouterr().out
    assert main(["lint", "--demo", str(bad)]) == 1


def test_negated_claims_and_the_rule_itself_claim_nothing():
    assert rules("No channel stands out beyond the noise (n = 3 to n = 80).") == []
    assert rules("The gap is not beyond the noise, n = 12.") == []
    assert rules("A rep is called best or worst only with n ≥ 30 closed deals.") == []
    assert rules("Paid search is beyond the noise, but no other channel is (n = 12).") == ["claim-small-n"]
