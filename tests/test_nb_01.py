"""Notebook 01_sales_process: structure of the committed file, execution on the small demo company for
the audited quarter and the one before, on a leads-only folder, and on the default demo company."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
from salesaudit.config import NOTEBOOKS_DIR

NB = "01_sales_process"
HEADLINE = ["leads", "mql", "sal", "sql", "customers", "median_days_to_customer"]


def test_committed_notebook_sections():
    """Stripping, the literal parameters cell and no def/class are checked for every notebook in
    test_notebooks_clean.py; here, this notebook's own sections."""
    nb = nbformat.read(NOTEBOOKS_DIR / f"{NB}.ipynb", as_version=4)
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert [h[:5] for h in headings] == ["## 1.", "## 2.", "## 3.", "## 4.", "## 5."]


def _check_figures(fig: dict) -> None:
    for name in HEADLINE:
        assert name in fig, name
    v = {k: fig[k]["value"] for k in HEADLINE}
    assert v["leads"] > 0
    assert 0 <= v["customers"] <= v["sql"] <= v["leads"]
    assert 0 <= v["mql"] <= v["leads"]
    assert 1 <= v["median_days_to_customer"] <= 365
    m = fig["median_days_to_customer"]
    assert m["lo"] <= m["value"] <= m["hi"] and m["unit"] == "days"
    for name in ("cohort_lead_to_customer_rate", "lead_to_customer_90d", "largest_loss_rate"):
        f = fig[name]
        assert 0 <= f["lo"] <= f["value"] <= f["hi"] <= 1, name
    findings = [k for k, f in fig.items() if f.get("kind") == "finding"]
    assert 1 <= len(findings) <= 3
    assert all(fig[k]["value"] >= 0 and fig[k]["label"] for k in findings)
    assert all(f["section"].startswith("01_sales_process#") for f in fig.values())


@pytest.mark.slow
@pytest.mark.parametrize("quarter", ["2026Q3", "2026Q2"])
def test_runs_on_small_demo(run_nb, small_data, quarter):
    _, fig = run_nb(NB, small_data, quarter)
    _check_figures(fig)
    assert fig["visit_to_lead_rate"]["value"] is not None  # the small demo has traffic


@pytest.mark.slow
def test_flow_counts_match_the_raw_leads(run_nb, small_data):
    import pandas as pd

    _, fig = run_nb(NB, small_data, "2026Q3")
    leads = pd.read_csv(small_data / "leads.csv", parse_dates=["created_at", "customer_at"])
    in_q = lambda s: ((s >= "2026-07-01") & (s < "2026-10-01")).sum()  # noqa: E731
    assert fig["leads"]["value"] == in_q(leads["created_at"])
    # customer dates out of order are not among the injected faults, so the flow count is the raw count
    assert fig["customers"]["value"] == in_q(leads["customer_at"])


@pytest.mark.slow
def test_runs_on_leads_only(run_nb, leads_only):
    nb, fig = run_nb(NB, leads_only, "2026Q3")
    _check_figures(fig)
    assert fig["visit_to_lead_rate"]["value"] is None
    text = "".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "No `traffic` data" in text


@pytest.mark.slow
def test_demo_company_figures(run_nb, demo_data, demo_truth):
    _, fig = run_nb(NB, demo_data, "2026Q3")  # its run time is measured by bench/bench_report.py, not asserted
    _check_figures(fig)
    # the overall mature-cohort conversion agrees with the truth's channel rates weighted by volume
    rates = demo_truth["channels"]
    f = fig["cohort_lead_to_customer_rate"]
    implied = [np.prod(list(c["rates"].values())) for c in rates.values()]
    assert min(implied) < f["value"] < max(implied)
    # visitors → leads per channel is planted; the overall rate lies within the channels' range
    v = [c["visit_to_lead_rate"] for c in rates.values()]
    assert min(v) < fig["visit_to_lead_rate"]["value"] < max(v)
