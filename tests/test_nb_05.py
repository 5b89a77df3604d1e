"""Notebook 05_sales_effectiveness executed with papermill: recorded figures, missing tables, demo truth."""

from __future__ import annotations

import shutil

import pytest
from _shapes import broken_lines, make_partial, make_snapshot, reader_text
from salesaudit.data import io
from salesaudit.periods import parse_quarter
from salesaudit.steps.sales import metrics as R

NB = "05_sales_effectiveness"
SUMMARY_FIGURES = ["win_rate", "sales_cycle_days", "won_revenue", "reps_needed"]


def _team(data_dir, quarter):
    data = io.load(data_dir)
    q = parse_quarter(quarter)
    return R.team_figures(data.leads, data.opportunities, q.start, q.end, data.activities)


@pytest.mark.slow
@pytest.mark.parametrize("quarter", ["2026Q3", "2026Q2"])
def test_nb05_records_sane_figures(run_nb, small_data, quarter):
    _, figs = run_nb(NB, small_data, quarter)
    for name in SUMMARY_FIGURES + [
        "avg_deal_size",
        "speed_to_lead_hours",
        "contact_rate",
        "rep_win_rate_spread",
        "ramp_months",
        "new_rep_win_rate",
        "lead_forecast_monthly",
        "team_monthly_capacity",
        "monthly_leads",
        "reps_short_now",
        "capacity_shortfall",
    ]:
        assert name in figs, name
    team = _team(small_data, quarter)
    wr = figs["win_rate"]
    assert wr["unit"] == "%" and 0 < wr["value"] < 1 and wr["lo"] <= wr["value"] <= wr["hi"]
    assert wr["value"] == pytest.approx(team.win_rate) and wr["n"] == team.won + team.lost
    cyc = figs["sales_cycle_days"]
    assert cyc["unit"] == "days" and 0 < cyc["lo"] <= cyc["value"] <= cyc["hi"] < 365
    assert figs["won_revenue"]["unit"] == "money" and figs["won_revenue"]["value"] == pytest.approx(team.won_revenue)
    need = figs["reps_needed"]
    assert need["unit"] == "count" and isinstance(need["value"], int) and need["value"] >= 0
    assert 0 < figs["contact_rate"]["value"] <= 1
    assert len(figs["rep_win_rate_spread"]["ranking"]) >= 5
    findings = [k for k in figs if k.startswith("finding:")]
    assert 1 <= len(findings) <= 3
    for k in findings:
        assert figs[k]["value"] > 0 and figs[k]["basis"] and figs[k]["recommendation"]


@pytest.mark.slow
def test_nb05_runs_without_reps_and_activities(run_nb, small_data, tmp_path_factory):
    bare = tmp_path_factory.mktemp("no_reps")
    for t in ("leads", "opportunities"):
        shutil.copy(small_data / f"{t}.csv", bare / f"{t}.csv")
    shutil.copy(small_data / "audit.yaml", bare / "audit.yaml")
    nb, figs = run_nb(NB, bare, "2026Q3")
    assert "reps_needed" not in figs and "team_monthly_capacity" not in figs  # capacity cannot be assessed
    assert 0 < figs["win_rate"]["value"] < 1  # owner ids from the opportunities still give the scorecard
    text = " ".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "Not measured: this section needs the `reps` table" in text and not broken_lines(nb)


@pytest.mark.slow
def test_nb05_recovers_demo_truth(run_nb, demo_data, demo_truth):
    _, figs = run_nb(NB, demo_data, "2026Q3")
    ranking = figs["rep_win_rate_spread"]["ranking"]
    assert R.rank_agreement(ranking, demo_truth["rep_skill_order"]) >= 0.8
    cap = demo_truth["capacity"]
    assert cap["quarter"] == "2026Q3"
    assert figs["monthly_leads"]["value"] == pytest.approx(cap["monthly_leads"], rel=0.02)
    assert figs["reps_short_now"]["capacity"] == pytest.approx(cap["team_monthly_capacity"], rel=0.01)
    if cap["shortfall"]:
        assert figs["reps_short_now"]["value"] == cap["extra_reps_needed"]
        assert figs["reps_needed"]["value"] >= 1
        assert "finding:rep_capacity_shortfall" in figs
    else:
        assert figs["reps_short_now"]["value"] == 0


@pytest.mark.slow
def test_nb05_on_an_undated_snapshot(run_nb, small_data, tmp_path_factory):
    nb, figs = run_nb(NB, make_snapshot(small_data, tmp_path_factory.mktemp("snapshot_05")), "latest")
    text = "\n".join(reader_text(nb))
    assert not broken_lines(nb) and not figs
    assert text.count("Not measured") == 4 and "lead creation dates" in text


@pytest.mark.slow
def test_nb05_on_a_partial_quarter_without_amounts(run_nb, small_data, tmp_path_factory):
    nb, figs = run_nb(NB, make_partial(small_data, tmp_path_factory.mktemp("partial_05")), "2026Q3")
    text = "\n".join(reader_text(nb))
    assert not broken_lines(nb)
    assert "won_revenue" not in figs and "reps_needed" not in figs  # totals of a partial quarter are not recorded
    assert "needs a complete quarter" in text and "the deals carry no amounts" in text
    assert 0 < figs["win_rate"]["value"] < 1
