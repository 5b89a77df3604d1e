"""Notebook 04_reporting: structure of the committed file, execution on the small demo company (audited
quarter and the one before), on folders with optional tables absent, and recovery on the default demo."""

from __future__ import annotations

import shutil
import time

import nbformat
import pytest
from salesaudit.config import NOTEBOOKS_DIR
from salesaudit.contract import TABLES

NB = "04_reporting"
COUNTS = {  # recorded figure → truth fault key (the demo's records all predate the end of 2026Q3)
    "dq_leads_missing_owner": "leads_missing_owner",
    "dq_stage_out_of_order": "leads_stage_out_of_order",
    "dq_duplicate_leads": "duplicate_leads",
    "dq_unknown_owner_deals": "opportunities_unknown_owner",
}


def test_committed_notebook_sections():
    """Stripping, the literal parameters cell and no def/class are checked for every notebook in
    test_notebooks_clean.py; here, this notebook's own sections."""
    nb = nbformat.read(NOTEBOOKS_DIR / f"{NB}.ipynb", as_version=4)
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert [h.split(" ")[1] for h in headings] == [f"{i}." for i in range(1, 11)]


def _check_figures(fig: dict, tables: set[str]) -> None:
    s = fig["dq_score"]
    assert 0 <= s["value"] <= 100 and s["unit"] == "score" and s["higher_is_better"] is True
    per_table = {k[len("dq_score_") :]: v["value"] for k, v in fig.items() if k.startswith("dq_score_")}
    assert set(per_table) <= tables and "leads" in per_table
    assert all(0 <= v <= 100 for v in per_table.values())
    assert min(per_table.values()) <= s["value"] <= max(per_table.values())  # a mean of the table scores
    assert all(f["section"].startswith("04_reporting#") for f in fig.values())
    findings = [f for f in fig.values() if f.get("kind") == "finding"]
    assert len(findings) <= 3
    assert all(f["value"] > 0 and f["label"] and f["recommendation"] and f["basis"] for f in findings)


@pytest.mark.slow
@pytest.mark.parametrize("quarter", ["2026Q3", "2026Q2"])
def test_runs_on_small_demo(run_nb, small_data, quarter):
    _, fig = run_nb(NB, small_data, quarter)
    _check_figures(fig, set(TABLES))
    assert fig["dq_won_without_order"]["value"] >= 0
    assert fig["dq_stale_open_deals"]["value"] >= 0
    assert 1 <= len([f for f in fig.values() if f.get("kind") == "finding"]) <= 3


@pytest.mark.slow
def test_earlier_quarter_sees_fewer_leads(run_nb, small_data):
    _, now = run_nb(NB, small_data, "2026Q3")
    _, before = run_nb(NB, small_data, "2026Q2")
    # data as it stood at each quarter end: faults in leads created later are not yet there
    assert before["dq_duplicate_leads"]["n"] < now["dq_duplicate_leads"]["n"]
    assert before["dq_duplicate_leads"]["value"] <= now["dq_duplicate_leads"]["value"]


@pytest.mark.slow
def test_runs_on_leads_only(run_nb, small_data, tmp_path):
    folder = tmp_path / "leads_only"
    folder.mkdir()
    shutil.copy(small_data / "leads.csv", folder / "leads.csv")
    shutil.copy(small_data / "audit.yaml", folder / "audit.yaml")
    nb, fig = run_nb(NB, folder, "2026Q3")
    _check_figures(fig, {"leads"})
    assert "dq_won_without_order" not in fig
    assert fig["dq_stale_open_deals"]["value"] is None
    assert fig["dq_unknown_owner_deals"]["value"] is None
    text = "".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "No `opportunities`" in text


@pytest.mark.slow
def test_runs_without_orders_and_activities(run_nb, small_data, tmp_path):
    folder = tmp_path / "no_orders"
    folder.mkdir()
    for t in ("leads", "opportunities", "reps"):
        shutil.copy(small_data / f"{t}.csv", folder / f"{t}.csv")
    shutil.copy(small_data / "audit.yaml", folder / "audit.yaml")
    nb, fig = run_nb(NB, folder, "2026Q3")
    _check_figures(fig, {"leads", "opportunities", "reps"})
    assert "dq_won_without_order" not in fig
    assert fig["dq_unknown_owner_deals"]["value"] > 0


@pytest.mark.slow
def test_demo_company_recovers_faults_and_runtime(run_nb, demo_data, demo_truth):
    t0 = time.perf_counter()
    _, fig = run_nb(NB, demo_data, "2026Q3")
    elapsed = time.perf_counter() - t0
    _check_figures(fig, set(demo_truth["row_counts"]))
    for name, key in COUNTS.items():
        assert fig[name]["value"] == demo_truth["faults"][key], name
    assert fig["dq_score_opportunities"]["value"] < 100
    assert elapsed < 40  # ~7 s on a quiet machine; generous for a shared box
