"""Notebook 07_spend_planning executed with papermill: recorded figures, widget and report cells."""

from __future__ import annotations

import shutil

import nbformat
import pandas as pd
import pytest
from _shapes import broken_lines, make_partial, make_snapshot, reader_text
from salesaudit.data import io
from salesaudit.periods import parse_quarter

NB = "07_spend_planning"
WIDGET = "application/vnd.jupyter.widget-view+json"


def _cells(nb, tag):
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


@pytest.mark.slow
def test_nb07_records_sane_figures(run_nb, small_data):
    nb, figs = run_nb(NB, small_data, "2026Q3")
    for name in [
        "roi",
        "marketing_spend",
        "paid_cac",
        "plan_return",
        "plan_customers",
        "new_channel_customers",
        "new_channel_customers_hist",
        "optimised_margin_gain",
        "channels_fitted",
        "channels_fallback",
    ]:
        assert name in figs, name
    data = io.load(small_data)
    q = parse_quarter("2026Q3")
    sp = data.spend
    spent = sp.loc[(sp["month"] >= q.start) & (sp["month"] < q.end), "amount"].sum()
    assert figs["marketing_spend"]["value"] == pytest.approx(spent)
    roi = figs["roi"]
    assert 0 < roi["value"] < 20 and roi["lo"] <= roi["value"] <= roi["hi"] and roi["unit"] == "ratio"
    assert figs["new_channel_customers"]["value"] == pytest.approx(18.75)  # 150 × 50% × 25%
    hist = figs["new_channel_customers_hist"]
    assert hist["lo"] < hist["value"] < hist["hi"]
    assert figs["channels_fallback"]["value"] == 1  # the podcast: one quarter of history
    assert figs["optimised_margin_gain"]["value"] == pytest.approx(9651.78, rel=1e-3)  # small demo, seed 11
    assert [k for k in figs if k.startswith("finding:")], "no finding recorded"


@pytest.mark.slow
def test_nb07_backtest_and_next_quarter_forecast(run_nb, small_data):
    """Sections 6 and 7 on the small demo: 7 of the last 8 quarters backtested (the data start in 2023Q4), the
    company-level errors and coverage, and 2026Q4's forecast split into open deals, pipeline and new leads."""
    nb, figs = run_nb(NB, small_data, "2026Q3")
    assert figs["forecast_backtest_quarters"]["value"] == 7
    assert figs["forecast_mape_customers"]["value"] == pytest.approx(0.150691, rel=1e-4)
    assert figs["forecast_mape_revenue"]["value"] == pytest.approx(0.160220, rel=1e-4)
    assert figs["forecast_bias_revenue"]["value"] == pytest.approx(0.091652, rel=1e-4)
    assert figs["forecast_coverage"]["value"] == pytest.approx(30 / 35) and figs["forecast_coverage"]["n"] == 35
    rev = figs["forecast_revenue_next"]
    assert (rev["value"], rev["lo"], rev["hi"]) == (
        pytest.approx(720453.07, rel=1e-5),
        pytest.approx(503736.76, rel=1e-5),
        pytest.approx(955992.12, rel=1e-5),
    )
    assert rev["label"] == "Won revenue forecast for 2026Q4" and rev["unit"] == "money"
    assert figs["forecast_customers_next"]["value"] == pytest.approx(42.9394, rel=1e-4)
    assert figs["forecast_revenue_open_deals"]["value"] == pytest.approx(344594.71, rel=1e-5)
    assert figs["forecast_mape_open_deals"]["value"] == pytest.approx(0.201775, rel=1e-4)  # the open-deal part
    assert not broken_lines(nb)
    text = "\n".join(reader_text(nb))
    assert "Backtest over 7 quarters, 2024Q4–2026Q2 (the data allow 7 of the last 8" in text
    assert "from the deals open at the quarter end" in text


@pytest.mark.slow
def test_nb07_sliders_present_and_report_cells_static(run_nb, small_data):
    nb, _ = run_nb(NB, small_data, "2026Q3", widgets=True)
    inter = _cells(nb, "interactive-only")
    assert inter, "no interactive-only cell"
    assert any(WIDGET in o.get("data", {}) for c in inter for o in c.get("outputs", [])), "the widget was not displayed"
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    if state:  # papermill keeps the widget state: the sliders are there
        assert any(m.get("model_name") == "FloatSliderModel" for m in state.values())
    report = _cells(nb, "report-only")
    assert len(report) >= 2
    for c in report:
        outs = c.get("outputs", [])
        assert not any(WIDGET in o.get("data", {}) for o in outs), "a report cell needs a kernel"
        assert any("image/png" in o.get("data", {}) for o in outs), "a report cell has no chart"
        assert any("text/html" in o.get("data", {}) for o in outs), "a report cell has no table"
    text = " ".join(str(o.get("data", {}).get("text/html", "")) for c in report for o in c.get("outputs", []))
    for scenario in ["Baseline", "Total budget +20%", "Total budget -20%", "Optimised split"]:
        assert scenario in text


@pytest.mark.slow
def test_nb07_without_spend_still_runs(run_nb, small_data, tmp_path):
    d = tmp_path / "nospend"
    shutil.copytree(small_data, d, ignore=shutil.ignore_patterns("spend.*"))
    nb, figs = run_nb(NB, d, "2026Q3")
    assert "roi" not in figs and "marketing_spend" not in figs
    assert figs["new_channel_customers"]["value"] == pytest.approx(18.75)  # from audit.yaml new_channel
    md = " ".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "Not measured: this section needs the `spend` table" in md and not broken_lines(nb)


def test_nb07_structure():
    from salesaudit.config import NOTEBOOKS_DIR

    nb = nbformat.read(str(NOTEBOOKS_DIR / f"{NB}.ipynb"), as_version=4)
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert [h.split(".")[0] for h in heads] == [f"## {i}" for i in range(1, 9)]
    assert len(_cells(nb, "interactive-only")) == 2 and len(_cells(nb, "report-only")) == 2
    assert pd.Series([c.cell_type for c in nb.cells]).eq("code").sum() >= 10


@pytest.mark.slow
def test_nb07_on_an_undated_snapshot_has_no_demo_story(run_nb, small_data, tmp_path_factory):
    nb, figs = run_nb(NB, make_snapshot(small_data, tmp_path_factory.mktemp("snapshot_07")), "latest")
    text = "\n".join(reader_text(nb)) + "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not broken_lines(nb) and not figs
    assert "podcast" not in text.lower() and "northwind" not in text.lower()
    assert "a `new_channel:` entry in audit.yaml" in text  # the new-channel section is skipped in one sentence


@pytest.mark.slow
def test_nb07_on_a_partial_quarter(run_nb, small_data, tmp_path_factory):
    nb, figs = run_nb(NB, make_partial(small_data, tmp_path_factory.mktemp("partial_07")), "2026Q3")
    text = "\n".join(reader_text(nb))
    assert not broken_lines(nb)
    assert "roi" not in figs and "plan_return" not in figs and "needs" in text and "a complete quarter" in text
    assert figs["new_channel_customers"]["value"] == pytest.approx(18.75)


@pytest.mark.slow
def test_05_and_07_agree_on_reps_needed(run_nb, demo_data):
    _, f5 = run_nb("05_sales_effectiveness", demo_data, "2026Q3")
    _, f7 = run_nb(NB, demo_data, "2026Q3")
    assert f5["reps_needed"]["value"] == f7["plan_reps_needed"]["value"]
    assert f5["reps_needed"]["value"] >= 1  # the demo company is short of reps


@pytest.mark.slow
def test_findings_are_revenue(run_nb, small_data):
    _, figs = run_nb(NB, small_data, "2026Q3")
    for k, f in figs.items():
        if k.startswith("finding:"):
            assert f["unit"] == "money" and f["basis"].startswith("revenue per quarter"), k


@pytest.mark.slow
def test_nb07_with_a_short_history_says_so_in_one_sentence(run_nb, small_data):
    """2024Q2 has only two complete quarters before it: the backtest section is one sentence, nothing crashes."""
    nb, figs = run_nb(NB, small_data, "2024Q2")
    text = "\n".join(reader_text(nb))
    assert not broken_lines(nb)
    assert "Not measured: this section needs the previous 5 quarters of leads" in text
    assert "forecast_mape_revenue" not in figs and "forecast_coverage" not in figs


@pytest.mark.slow
def test_nb07_plans_the_revenue_target(run_nb, small_data):
    """Section 8 on the small demo: audit.yaml revenue_target {year: 3,000,000} → 750,000 for 2026Q4."""
    nb, figs = run_nb(NB, small_data, "2026Q3", widgets=True)  # the target slider too
    assert figs["target_revenue"]["value"] == pytest.approx(750_000.0)
    assert figs["target_customers"]["value"] == pytest.approx(49.66, rel=1e-3)
    assert figs["target_sqls"]["value"] == pytest.approx(184.7, rel=1e-3)
    assert figs["target_mqls"]["value"] == pytest.approx(574.5, rel=1e-3)
    assert figs["target_leads"]["value"] == pytest.approx(1378.7, rel=1e-3)
    t = figs["target_leads"]
    assert t["lo"] < t["value"] < t["hi"] and t["unit"] == "count"
    assert figs["target_channels_unreachable"]["value"] == 4  # events, paid_search, paid_social, webinar
    assert "target_spend" not in figs  # no total spend is claimed while a channel cannot get there
    assert figs["target_reps_needed"]["value"] == 8
    cells = [c for c in nb.cells if "revenue target" in c.source and "ctx.section" in c.source]
    html = " ".join(str(o.get("data", {}).get("text/html", "")) for c in cells for o in c.get("outputs", []))
    assert "not reachable within 2× the observed spend" in html
    assert not broken_lines(nb)
    widget_cells = [c for c in _cells(nb, "interactive-only") if "target_widget" in c.source]
    assert widget_cells and any(WIDGET in o.get("data", {}) for c in widget_cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_nb07_without_a_revenue_target_says_so(run_nb, small_data, tmp_path):
    d = tmp_path / "notarget"
    shutil.copytree(small_data, d)
    cfg = d / "audit.yaml"
    cfg.write_text(
        "\n".join(ln for ln in cfg.read_text().splitlines() if "revenue_target" not in ln and "year:" not in ln)
    )
    nb, figs = run_nb(NB, d, "2026Q3")
    assert not [k for k in figs if k.startswith("target_")]
    assert "roi" in figs  # the other sections are unchanged
    lines = reader_text(nb)
    assert any("revenue_target:" in ln and "audit.yaml" in ln for ln in lines) and not broken_lines(nb)
