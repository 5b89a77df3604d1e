"""Executive-summary logic: quarter-over-quarter change with its noise verdict, findings, the notebook."""

from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from salesaudit import stats  # noqa: E402
from salesaudit.report import summary as summ  # noqa: E402
from salesaudit.report.record import figure  # noqa: E402


def fig(name, value, **kw):
    return figure(name, value, **kw)


# --------------------------------------------------------------------------------------------------
# change()
# --------------------------------------------------------------------------------------------------
def test_change_of_rates_uses_newcombe_interval():
    cur = fig("win_rate", 0.30, unit="%", n=300)
    prev = fig("win_rate", 0.20, unit="%", n=300)
    c = summ.change(cur, prev)
    d, lo, hi = stats.diff_interval(90, 300, 60, 300)
    assert c["change"] == pytest.approx(0.10)
    assert (c["lo"], c["hi"]) == pytest.approx((float(lo), float(hi)))
    assert c["significant"] is True
    assert c["method"].startswith("Newcombe")


def test_small_change_of_rates_is_within_noise():
    c = summ.change(fig("w", 0.21, unit="%", n=100), fig("w", 0.20, unit="%", n=100))
    assert c["lo"] < 0 < c["hi"]
    assert c["significant"] is False


def test_change_of_counts_uses_poisson_mover():
    c = summ.change(fig("leads", 600, unit="count"), fig("leads", 565, unit="count"))
    (l1, l0), (u1, u0) = stats.poisson_interval([600, 565])
    assert c["change"] == 35
    assert c["lo"] == pytest.approx(35 - math.sqrt((600 - l1) ** 2 + (u0 - 565) ** 2))
    assert c["hi"] == pytest.approx(35 + math.sqrt((u1 - 600) ** 2 + (565 - l0) ** 2))
    assert c["significant"] is False  # ±~70 at these sizes
    assert summ.change(fig("leads", 600, unit="count"), fig("leads", 400, unit="count"))["significant"] is True


def test_change_with_recorded_intervals_hand_computed():
    # d = 10 - 5 = 5; lo = 5 - sqrt((10-8)^2 + (6-5)^2) = 5 - sqrt(5); hi = 5 + sqrt((12-10)^2 + (5-4)^2)
    c = summ.change(fig("m", 10.0, unit="money", lo=8, hi=12), fig("m", 5.0, unit="money", lo=4, hi=6))
    assert c["change"] == 5
    assert c["lo"] == pytest.approx(5 - math.sqrt(5))
    assert c["hi"] == pytest.approx(5 + math.sqrt(5))
    assert c["rel_change"] == pytest.approx(1.0)
    assert c["significant"] is True


def test_change_without_interval_or_previous():
    c = summ.change(fig("roi", 2.0, unit="ratio"), fig("roi", 1.5, unit="ratio"))
    assert c["change"] == pytest.approx(0.5) and c["significant"] is None
    assert c["method"] == "no interval recorded"
    c = summ.change(fig("roi", 2.0, unit="ratio"), None)
    assert c["change"] is None and c["method"] == "no previous value"
    c = summ.change(fig("roi", None, unit="ratio"), fig("roi", 1.0, unit="ratio"))
    assert c["change"] is None and c["method"] == "no data"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 5000), st.integers(0, 5000))
def test_count_change_interval_contains_change_and_is_antisymmetric(a, b):
    ab = summ.change(fig("x", a, unit="count"), fig("x", b, unit="count"))
    ba = summ.change(fig("x", b, unit="count"), fig("x", a, unit="count"))
    assert ab["lo"] <= ab["change"] <= ab["hi"]
    assert ab["lo"] == pytest.approx(-ba["hi"]) and ab["hi"] == pytest.approx(-ba["lo"])
    assert ab["significant"] == ba["significant"]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(1, 400), st.floats(0, 1), st.floats(0, 1))
def test_rate_change_interval_is_antisymmetric(n1, n0, p1, p0):
    k1, k0 = round(p1 * n1), round(p0 * n0)
    ab = summ.change(fig("r", k1 / n1, unit="%", n=n1), fig("r", k0 / n0, unit="%", n=n0))
    ba = summ.change(fig("r", k0 / n0, unit="%", n=n0), fig("r", k1 / n1, unit="%", n=n1))
    assert ab["lo"] <= ab["change"] + 1e-12 and ab["change"] <= ab["hi"] + 1e-12
    assert ab["lo"] == pytest.approx(-ba["hi"], abs=1e-9)


# --------------------------------------------------------------------------------------------------
# headline table and its text
# --------------------------------------------------------------------------------------------------
def _current():
    return {
        "01_sales_process": {
            "leads": fig("leads", 600, unit="count", section="01_sales_process#1"),
            "customers": fig("customers", 40, unit="count", section="01_sales_process#3"),
            "finding:a": fig(
                "finding:a",
                5000.0,
                unit="money",
                kind="finding",
                label="Small thing.",
                section="01_sales_process#2",
                recommendation="Do A",
                basis="guess",
            ),
        },
        "05_sales_effectiveness": {
            "win_rate": fig("win_rate", 0.30, unit="%", n=300, section="05_sales_effectiveness#1"),
            "sales_cycle_days": fig(
                "sales_cycle_days",
                45.0,
                unit="days",
                lo=42,
                hi=48,
                section="05_sales_effectiveness#2",
                higher_is_better=False,
            ),
            "finding:b": fig(
                "finding:b",
                90000.0,
                unit="money",
                kind="finding",
                label="Big thing",
                section="05_sales_effectiveness#4",
                recommendation="Do B",
                basis="deals × size",
            ),
            "finding:c": fig(
                "finding:c",
                20000.0,
                unit="money",
                kind="finding",
                label="Middle thing",
                section="05_sales_effectiveness#1",
                recommendation="Do A",
                basis="",
            ),
        },
    }


def _previous():
    return {
        "01_sales_process": {"leads": fig("leads", 590, unit="count"), "customers": fig("customers", 41, unit="count")},
        "05_sales_effectiveness": {
            "win_rate": fig("win_rate", 0.20, unit="%", n=300),
            "sales_cycle_days": fig("sales_cycle_days", 35.0, unit="days", lo=32, hi=38),
        },
    }


def test_headline_rows_and_verdicts():
    t = summ.headline(summ.flatten(_current()), summ.flatten(_previous())).set_index("name")
    assert list(t.index) == [n for n, _, _ in summ.HEADLINE]
    assert t.loc["win_rate", "better"] is True  # up beyond the noise, higher is better
    assert t.loc["sales_cycle_days", "better"] is False  # 35 → 45 days beyond the noise: worse
    assert t.loc["leads", "significant"] is False and t.loc["leads", "better"] is None
    assert t.loc["roi", "value"] is None or np.isnan(t.loc["roi", "value"])
    assert t.loc["leads", "notebook"] == "01_sales_process"
    shown = summ.headline_display(t.reset_index(), "EUR", "2026Q2").set_index("Figure")
    assert shown.loc["Win rate", "Change"] == "+10.0 pp"
    assert shown.loc["Win rate", "Verdict"] == "better, beyond noise"
    assert shown.loc["Sales cycle (median)", "Verdict"] == "worse, beyond noise"
    assert shown.loc["Marketing ROI", "This quarter"] == "n/a"


def test_headline_sentences_name_the_real_changes_and_the_missing():
    t = summ.headline(summ.flatten(_current()), summ.flatten(_previous()))
    s = " ".join(summ.headline_sentences(t, "2026Q3", "2026Q2"))
    assert "Win rate went from 20.0% to 30.0%" in s and "better" in s
    assert "Sales cycle (median) went from 35 days to 45 days" in s and "worse" in s
    assert "2 of 4 compared figures (Leads, New customers)" in s
    assert "Marketing ROI" in s  # listed as not available


def test_headline_sentences_without_previous_or_data():
    t = summ.headline(summ.flatten(_current()), {})
    assert "without a comparison" in summ.headline_sentences(t, "2026Q3", "2026Q2")[0]
    empty = summ.headline({}, {})
    assert "No step recorded any headline figure" in summ.headline_sentences(empty, "2026Q3", "2026Q2")[0]


def test_formatting():
    assert summ.fmt_value(0.1234, "%") == "12.3%"
    assert summ.fmt_value(1_250_000, "money", "USD") == "USD 1.2M"
    assert summ.fmt_value(2.345, "ratio") == "2.35×"
    assert summ.fmt_value(None, "count") == "n/a"
    assert summ.fmt_change(-0.021, "%") == "−2.1 pp"
    assert summ.fmt_change(-3, "days") == "−3 days"
    assert summ.fmt_value(5.25, "hours") == "5.2 hours" and summ.fmt_change(1.25, "hours") == "+1.2 hours"
    assert summ.fmt_change(1204, "count") == "+1,204"
    assert summ.fmt_change(12000, "money") == "+EUR 12k"


# --------------------------------------------------------------------------------------------------
# findings and recommendations
# --------------------------------------------------------------------------------------------------
def test_section_anchor_and_title():
    assert summ.section_anchor("01_sales_process#2") == "#01_sales_process-2"
    assert summ.section_anchor("04_reporting") == "#04_reporting"
    assert summ.section_anchor(None) is None
    assert summ.section_title("05_sales_effectiveness#4") == "05 Sales effectiveness, §4"


def test_top_findings_ranked_by_impact_and_limited():
    cur = _current()
    cur["07_spend_planning"] = {
        f"finding:x{i}": fig(
            f"finding:x{i}", float(i), unit="money", kind="finding", label=f"x{i}", section="07_spend_planning#1"
        )
        for i in range(6)
    }
    top = summ.top_findings(summ.flatten(cur))
    assert len(top) == 5
    assert list(top["name"][:3]) == ["finding:b", "finding:c", "finding:a"]
    assert list(top["rank"]) == [1, 2, 3, 4, 5]
    md = summ.findings_markdown(top)
    assert "1. **Big thing** — about EUR 90k a quarter (deals × size)." in md
    assert "(#05_sales_effectiveness-4)" in md
    assert summ.findings_markdown(top.iloc[0:0]).startswith("_No step recorded")


def test_recommendations_dedup_and_worse_figures():
    flat = summ.flatten(_current())
    top = summ.top_findings(flat)
    t = summ.headline(flat, summ.flatten(_previous()))
    recs = summ.recommendations(top, t)
    assert recs[0].startswith("Do B (worth about EUR 90k a quarter; 05 Sales effectiveness, §4)")
    assert sum(r.startswith("Do A") for r in recs) == 1  # two findings share it: listed once
    assert any(r.startswith("Find out why Sales cycle (median) got worse") for r in recs)
    assert "No action stands out" in summ.recommendations(top.iloc[0:0])[0]


def test_charts_draw_with_and_without_data():
    flat = summ.flatten(_current())
    t = summ.headline(flat, summ.flatten(_previous()))
    fig_, (a, b, c, d) = plt.subplots(4)
    summ.chart_changes(a, t, "2026Q2")
    assert "1 of 4" not in a.get_title() and "of 4 headline figures" in a.get_title()
    summ.chart_changes(b, summ.headline(flat, {}), "2026Q2")
    summ.chart_findings(c, summ.top_findings(flat))
    assert "EUR 115k" in c.get_title()
    summ.chart_findings(d, summ.top_findings({}))
    plt.close(fig_)


# --------------------------------------------------------------------------------------------------
# where figures come from; summary.json
# --------------------------------------------------------------------------------------------------
def test_step_figures_sources(tmp_path):
    reports = tmp_path / "reports"
    (reports / "2026Q3").mkdir(parents=True)
    given_file = tmp_path / "figs.json"
    given_file.write_text(json.dumps({"figures": {"01_a": {"leads": fig("leads", 1)}}}))
    assert summ.step_figures(given_file, "2026Q3", reports)["01_a"]["leads"]["value"] == 1
    # no file given → reports/<Q>/summary.json, without the executive summary's own figures
    (reports / "2026Q3" / "summary.json").write_text(
        json.dumps({"figures": {"01_a": {"leads": fig("leads", 2)}, "00_executive_summary": {"x": fig("x", 1)}}})
    )
    got = summ.step_figures("", "2026Q3", reports)
    assert list(got) == ["01_a"] and got["01_a"]["leads"]["value"] == 2
    assert summ.step_figures(tmp_path / "missing.json", "2026Q3", reports)["01_a"]["leads"]["value"] == 2
    assert summ.step_figures("", "2025Q1", reports) == {}
    (reports / "2026Q2").mkdir()
    (reports / "2026Q2" / "summary.json").write_text(json.dumps({"figures": {"01_a": {"leads": fig("leads", 3)}}}))
    assert summ.previous_figures("", "2026Q2", reports)["01_a"]["leads"]["value"] == 3
    assert summ.previous_figures("none", "2026Q2", reports) == {}


def test_summary_document_headline_equals_figures():
    doc = summ.summary_document(
        quarter="2026Q3",
        previous_quarter="2026Q2",
        company="Co",
        currency="EUR",
        built_at="2026-10-01T00:00:00+00:00",
        data_range=("2023-10-01", "2026-09-30"),
        figures=_current(),
        previous=_previous(),
        previous_source="computed",
    )
    json.dumps(doc)
    assert doc["format"] == summ.SUMMARY_FORMAT
    assert doc["headline"]["win_rate"]["value"] == doc["figures"]["05_sales_effectiveness"]["win_rate"]["value"]
    assert doc["headline"]["leads"]["previous"] == 590
    assert doc["headline"]["nps"]["value"] is None
    assert [f["name"] for f in doc["findings"]] == ["finding:b", "finding:c", "finding:a"]


# --------------------------------------------------------------------------------------------------
# the notebook
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_executive_summary_notebook_reads_given_figures(small_data, tmp_path):
    from salesaudit.report.execute import run_notebook
    from salesaudit.report.record import read_figures

    cur, prev = tmp_path / "cur.json", tmp_path / "prev.json"
    cur.write_text(json.dumps({"figures": _current()}))
    prev.write_text(json.dumps({"figures": _previous()}))
    nb = run_notebook(
        "00_executive_summary",
        quarter="2026Q3",
        data_dir=small_data,
        extra_parameters={
            "figures_path": str(cur),
            "previous_path": str(prev),
            "reports_dir": str(tmp_path / "reports"),
        },
    )
    figs = read_figures(nb)
    assert figs["headline_available"]["value"] == 4
    assert figs["headline_beyond_noise"]["value"] == 2  # win rate, sales cycle
    assert figs["top_findings_impact"]["value"] == pytest.approx(115000.0)
    html = json.dumps(nb)
    assert "Big thing" in html and "#05_sales_effectiveness-4" in html


@pytest.mark.slow
def test_executive_summary_notebook_works_without_any_figures(small_data, tmp_path):
    from salesaudit.report.execute import run_notebook
    from salesaudit.report.record import read_figures

    nb = run_notebook(
        "00_executive_summary",
        quarter="2026Q3",
        data_dir=small_data,
        extra_parameters={"figures_path": "", "previous_path": "none", "reports_dir": str(tmp_path / "no-reports")},
    )
    figs = read_figures(nb)
    assert figs["headline_available"]["value"] == 0
    assert figs["top_findings_impact"]["value"] == 0.0


def test_figures_or_notes_for_display():
    from IPython.display import Image

    flat = summ.flatten(_current())
    t = summ.headline(flat, summ.flatten(_previous()))
    assert isinstance(summ.changes_figure(t, "2026Q2"), Image)
    assert "could be compared with 2026Q2" in summ.changes_figure(summ.headline(flat, {}), "2026Q2").data
    assert isinstance(summ.findings_figure(summ.top_findings(flat)), Image)
    assert "No step recorded a finding" in summ.findings_figure(summ.top_findings({})).data
    html = summ.headline_styled(t, "EUR", "2026Q2").to_html()
    assert 'class="headline"' in html and "better, beyond noise" in html


def test_a_headline_figure_with_no_better_way_is_changed_not_better_or_worse():
    """The forecasts' coverage (best at 80%) has no better direction: a change beyond the noise is reported as a
    change, never as better or worse."""
    cur = {"forecast_coverage": {"value": 0.95, "unit": "%", "n": 400, "higher_is_better": None}}
    prev = {"forecast_coverage": {"value": 0.50, "unit": "%", "n": 400, "higher_is_better": None}}
    t = summ.headline(cur, prev, names=[("forecast_coverage", "Forecast bands' coverage", None)])
    row = t.iloc[0]
    assert row["significant"] and row["better"] is None
    assert summ.verdict(row) == "changed, beyond noise"
    said = " ".join(summ.headline_sentences(t, "2026Q3", "2026Q2"))
    assert "neither better nor worse in itself" in said and "and worse" not in said
    assert ("forecast_coverage", "Forecast bands' coverage", None) in summ.HEADLINE


def test_a_percentage_that_is_not_a_share_gets_no_binomial_interval():
    """A forecast's MAPE is a percentage of n backtested quarters, not k of n cases: no Newcombe interval."""
    cur = {"value": 0.08, "unit": "%", "n": 7, "proportion": False}
    prev = {"value": 0.12, "unit": "%", "n": 7, "proportion": False}
    out = summ.change(cur, prev)
    assert out["method"] == "no interval recorded" and out["significant"] is None
    assert summ.change(dict(cur, proportion=True), dict(prev, proportion=True))["method"].startswith("Newcombe")
