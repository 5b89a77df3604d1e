"""Notebook 03_lead_quality: the committed file, execution on the small demo company (audited quarter and
the one before), on folders without campaigns / without anything but leads, and recovery of the demo
company's lead-score truth."""

from __future__ import annotations

import shutil

import nbformat
import numpy as np
import pytest
from salesaudit.config import NOTEBOOKS_DIR
from salesaudit.data import io
from salesaudit.periods import parse_quarter
from salesaudit.steps.leads import metrics

NB = "03_lead_quality"
HEADLINE = ["lead_to_sql_rate", "lead_score_auc"]


def test_committed_notebook_sections():
    """Stripping, the literal parameters cell and no def/class are checked for every notebook in
    test_notebooks_clean.py; here, this notebook's own sections."""
    nb = nbformat.read(NOTEBOOKS_DIR / f"{NB}.ipynb", as_version=4)
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert [h[:5] for h in headings] == ["## 1.", "## 2.", "## 3.", "## 4.", "## Fi"]
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert src.count("text.what_this_means(") >= 4


def _check_figures(fig: dict, deals: bool = True) -> None:
    for name in HEADLINE:
        assert name in fig and fig[name]["value"] is not None, name
    s = fig["lead_to_sql_rate"]
    assert 0 < s["lo"] <= s["value"] <= s["hi"] < 1 and s["unit"] == "%" and s["n"] > 100
    a = fig["lead_score_auc"]
    assert 0.5 < a["lo"] <= a["value"] <= a["hi"] <= 1
    assert 0 <= fig["mql_threshold_used"]["value"] <= 100
    t = fig["mql_threshold_suggested"]
    assert 0 <= t["lo"] <= t["value"] <= t["hi"] <= 100
    m = fig["mql_to_sal_rate"]
    assert 0 <= m["lo"] <= m["value"] <= m["hi"] <= 1
    assert 0 <= fig["mql_to_sal_days"]["value"] < 60
    if deals:
        r = fig["revenue_per_lead"]
        assert 0 < r["lo"] <= r["value"] <= r["hi"] and r["unit"] == "money"
        d = fig["cohort_avg_deal"]
        assert d["lo"] <= d["value"] <= d["hi"]
        assert 0 < fig["cohort_win_rate"]["value"] < 1
    else:
        assert fig["revenue_per_lead"]["value"] is None
    findings = [k for k, f in fig.items() if f.get("kind") == "finding"]
    assert len(findings) <= 3
    assert all(fig[k]["value"] > 0 and fig[k]["label"] and fig[k]["basis"] for k in findings)
    assert all(f["section"].startswith("03_lead_quality#") for f in fig.values())


@pytest.mark.slow
@pytest.mark.parametrize("quarter", ["2026Q3", "2026Q2"])
def test_runs_on_small_demo(run_nb, small_data, quarter):
    _, fig = run_nb(NB, small_data, quarter)
    _check_figures(fig)
    assert fig["campaigns"]["value"] > 0
    assert 1 <= len([f for f in fig.values() if f.get("kind") == "finding"]) <= 3


@pytest.mark.slow
def test_runs_without_campaigns_table(run_nb, small_data, tmp_path):
    for f in small_data.iterdir():
        if f.name != "campaigns.csv" and f.is_file():
            shutil.copy(f, tmp_path / f.name)
    nb, fig = run_nb(NB, tmp_path, "2026Q3")
    _check_figures(fig)
    assert fig["campaigns"]["value"] > 0  # shown by id
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "No `campaigns` table" in text


@pytest.mark.slow
def test_runs_on_leads_only(run_nb, leads_only):
    _, fig = run_nb(NB, leads_only, "2026Q3")
    _check_figures(fig, deals=False)
    assert not [f for f in fig.values() if f.get("kind") == "finding"]  # nothing to price them with


@pytest.mark.slow
def test_recovers_the_demo_truth(run_nb, demo_data, demo_truth):
    _, fig = run_nb(NB, demo_data, "2026Q3")
    _check_figures(fig)
    best = demo_truth["best_score_threshold"]
    used = fig["mql_threshold_used"]["value"]
    suggested = fig["mql_threshold_suggested"]["value"]
    assert used == demo_truth["mql_score_threshold"]
    assert abs(suggested - best) < abs(used - best)
    assert abs(fig["lead_score_auc"]["value"] - demo_truth["score_auc_sql_all_leads"]) < 0.02
    assert abs(fig["lead_score_auc_mql"]["value"] - demo_truth["score_auc_sql_among_mqls"]) < 0.03
    assert "finding:mql_threshold" in fig


@pytest.mark.slow
def test_breakeven_rule_recovers_the_best_threshold(demo_data, demo_truth):
    data = io.load(demo_data)
    q = parse_quarter("2026Q3")
    o = metrics.lead_outcomes(data.leads, data.opportunities, metrics.value_cohort(q))
    b = metrics.best_threshold(o, breakeven=demo_truth["score_breakeven_sql_rate"])
    assert abs(b["threshold"] - demo_truth["best_score_threshold"]) <= 3
    assert b["lo"] - 1 <= demo_truth["best_score_threshold"] <= b["hi"] + 1


@pytest.mark.slow
def test_channel_sql_and_win_rates_recover_the_demo_truth(demo_data, demo_truth):
    data = io.load(demo_data)
    o = metrics.lead_outcomes(data.leads, data.opportunities, metrics.value_cohort(parse_quarter("2026Q3")))
    v = metrics.value_per_lead(o).iloc[:-1]
    for _, r in v.iterrows():
        rates = demo_truth["channels"][r["channel"]]["rates"]
        expected = rates["lead_mql"] * rates["mql_sal"] * rates["sal_sql"]
        tol = max(0.02, r["sql_rate_hi"] - r["sql_rate_lo"])
        assert abs(r["sql_rate"] - expected) < tol, r["channel"]
        tol_w = max(0.05, r["win_rate_hi"] - r["win_rate_lo"])
        assert abs(r["win_rate"] - rates["sql_customer"]) < tol_w, r["channel"]
    assert np.isfinite(v["revenue_per_lead"]).all()
