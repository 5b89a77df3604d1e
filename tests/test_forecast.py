"""Step 07's forecasts you can check (``salesaudit.steps.planning.forecast``): hand-computed pieces, no leakage
past the cut, the backtest on the demo companies against their truth.json."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from salesaudit.data import io
from salesaudit.periods import parse_quarter
from salesaudit.steps.planning import forecast as fc

T = pd.Timestamp


def _leads(rows: list[dict]) -> pd.DataFrame:
    cols = ["lead_id", "created_at", "channel", "mql_at", "sal_at", "sql_at", "customer_at", "disqualified_at"]
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows])
    for c in cols[3:] + ["created_at"]:
        df[c] = pd.to_datetime(df[c])
    return df


def _data(leads: pd.DataFrame, opps: pd.DataFrame | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        leads=leads,
        opportunities=opps,
        config=SimpleNamespace(fiscal_year_start_month=1),
        has=lambda name: name == "leads" or (name == "opportunities" and opps is not None),
    )


# --------------------------------------------------------------------------------------------------
# the pieces
# --------------------------------------------------------------------------------------------------
def test_lead_level_follows_the_capacity_rule_with_two_years():
    from salesaudit import capacity

    counts = [100, 120, 140, 160, 110, 132, 154, 176]
    f, _ = fc.lead_level(counts)
    assert f == pytest.approx(110 * (572 / 520))  # same quarter last year × growth = 121
    labels = [f"2024Q{i}" for i in range(1, 5)] + [f"2025Q{i}" for i in range(1, 5)]
    assert capacity.forecast_leads(pd.Series(counts, index=labels), parse_quarter("2026Q1")).leads == pytest.approx(f)


def test_lead_level_with_short_history_and_a_new_channel():
    assert fc.lead_level([100, 120, 140, 160, 110])[0] == pytest.approx(120 * 110 / 100)  # one quarter of growth
    assert fc.lead_level([100, 120, 140, 160])[0] == 100  # same quarter last year
    assert fc.lead_level([90, 110])[0] == 100  # mean
    assert fc.lead_level([0, 0, 0, 0, 0, 0, 0, 60])[0] == 60  # a new channel: its recent quarters
    assert fc.lead_level([])[0] == 0


def test_gamma_band_matches_its_moments():
    lo, hi = fc.gamma_band(np.array([100.0, 0.0]), np.array([400.0, 0.0]))
    assert lo[0] < 100 < hi[0] and lo[1] == hi[1] == 0
    assert hi[0] - lo[0] == pytest.approx(2 * 1.2816 * 20, rel=0.05)  # ≈ normal ±1.28 σ


def test_effective_dates_count_a_skipped_stage():
    e = fc.effective_dates(_leads([{"lead_id": "a", "created_at": "2025-01-01", "sql_at": "2025-02-01"}]))
    assert e.loc[0, "mql"] == e.loc[0, "sal"] == e.loc[0, "sql"] == T("2025-02-01") and pd.isna(e.loc[0, "customer"])


def test_pipeline_snapshot_states_ages_and_closed():
    leads = _leads(
        [
            {"lead_id": "a", "created_at": "2025-01-01", "channel": "x"},
            {"lead_id": "b", "created_at": "2025-01-01", "channel": "x", "mql_at": "2025-03-02"},
            {
                "lead_id": "c",
                "created_at": "2025-01-01",
                "channel": "y",
                "mql_at": "2025-01-05",
                "sql_at": "2025-02-01",
            },
            {"lead_id": "d", "created_at": "2025-01-01", "channel": "y", "disqualified_at": "2025-01-10"},
            {"lead_id": "e", "created_at": "2025-04-02", "channel": "y"},  # after the cut: not in the snapshot
        ]
    )
    opps = pd.DataFrame(
        {"lead_id": ["c"], "created_at": [T("2025-02-01")], "closed_at": [T("2025-05-01")], "is_won": [False]}
    )
    s = fc.pipeline_snapshot(leads, opps, T("2025-04-01")).set_index("lead_id")
    assert list(s.index) == ["a", "b", "c", "d"]
    assert s["state"].to_dict() == {"a": "lead", "b": "mql", "c": "sql", "d": "lead"}
    assert s.loc["a", "age"] == 90 and s.loc["b", "age"] == 30 and s.loc["c", "age"] == 59
    assert s["bucket"].to_dict() == {"a": 3, "b": 1, "c": 1, "d": 3}  # 90 → [90, 180); 30 → [30, 60)
    assert s["closed"].to_dict() == {"a": False, "b": False, "c": False, "d": True}  # c is lost only later


def test_cell_rates_count_open_leads_and_their_outcomes_in_the_window():
    # quarter 2025Q2: at its start a (lead, 90 days) and b (lead, 90 days) are open; a becomes MQL in Q2
    leads = _leads(
        [
            {"lead_id": "a", "created_at": "2025-01-01", "channel": "x", "mql_at": "2025-05-01"},
            {"lead_id": "b", "created_at": "2025-01-01", "channel": "x"},
            {"lead_id": "n", "created_at": "2025-04-10", "channel": "x", "mql_at": "2025-04-20"},
            {"lead_id": "m", "created_at": "2025-05-10", "channel": "x", "mql_at": "2025-07-20"},
        ]
    )
    r = fc.cell_rates(leads, None, [parse_quarter("2025Q2")])
    mql = r.loc[r["series"] == "mql"].set_index(["state", "bucket"])
    assert (mql.loc[("lead", 3), "n"], mql.loc[("lead", 3), "k"]) == (2, 1)
    assert (mql.loc[("new", 0), "n"], mql.loc[("new", 0), "k"]) == (2, 1)  # n within Q2, m only in Q3


def test_accuracy_mape_bias_and_coverage():
    bt = pd.DataFrame(
        {
            "quarter": ["q1", "q2"],
            "series": "leads",
            "channel": "Total",
            "forecast": [110.0, 90.0],
            "lo": [100.0, 95.0],
            "hi": [120.0, 105.0],
            "actual": [100.0, 100.0],
        }
    )
    bt = bt.assign(
        error=bt["forecast"] - bt["actual"],
        ape=(bt["forecast"] - bt["actual"]).abs() / bt["actual"],
        inside=(bt["actual"] >= bt["lo"]) & (bt["actual"] <= bt["hi"]),
    )
    a = fc.accuracy(bt).iloc[0]
    assert (a["mape"], a["bias"], a["coverage"], a["quarters"]) == (pytest.approx(0.10), pytest.approx(0.0), 1.0, 2)


# --------------------------------------------------------------------------------------------------
# no leakage
# --------------------------------------------------------------------------------------------------
def test_as_of_blanks_what_had_not_happened_yet():
    leads = _leads(
        [
            {
                "lead_id": "a",
                "created_at": "2025-03-01",
                "channel": "x",
                "sql_at": "2025-03-20",
                "customer_at": "2025-04-15",
            },
            {"lead_id": "b", "created_at": "2025-04-05", "channel": "x"},
        ]
    )
    opps = pd.DataFrame(
        {
            "lead_id": ["a"],
            "created_at": [T("2025-03-20")],
            "closed_at": [T("2025-04-15")],
            "is_won": [True],
            "amount": [1000.0],
        }
    )
    ld, op = fc.as_of(leads, opps, T("2025-04-01"))
    assert list(ld["lead_id"]) == ["a"] and pd.isna(ld.loc[0, "customer_at"]) and ld.loc[0, "sql_at"] == T("2025-03-20")
    assert pd.isna(op.loc[0, "closed_at"]) and pd.isna(op.loc[0, "is_won"])  # still an open deal at the cut
    snap = fc.pipeline_snapshot(*fc.as_of(leads, opps, T("2025-04-01")), T("2025-04-01"))
    assert snap["state"].tolist() == ["sql"]


@pytest.fixture(scope="module")
def small(small_data):
    return io.load(small_data)


def test_a_forecast_never_sees_past_its_cut(small):
    """Change everything on or after the cut — later stage dates, later leads, later deals — and the forecast of
    the quarter starting at the cut stays the same to the last digit."""
    q = parse_quarter("2025Q3")
    cut = q.start
    base = fc.forecast_quarter(small, q)
    leads = small.leads.copy()
    for c in ["mql_at", "sal_at", "sql_at", "customer_at", "disqualified_at"]:
        later = leads[c] >= cut
        leads.loc[later, c] = leads.loc[later, c] + pd.Timedelta(days=3)  # every later date moves …
        leads.loc[later & (leads.index % 2 == 0), c] = pd.NaT  # … or never happens
    later_leads = leads.loc[leads["created_at"] >= cut].assign(channel="a_later_channel")
    leads = pd.concat(
        [leads.loc[leads["created_at"] < cut], later_leads, later_leads.assign(lead_id=lambda d: d["lead_id"] + "x")]
    )
    opps = small.opportunities.copy()
    closed_later = opps["closed_at"] >= cut
    opps.loc[closed_later, "is_won"] = ~opps.loc[closed_later, "is_won"].astype(bool)  # later outcomes flip
    opps.loc[closed_later, "amount"] = opps.loc[closed_later, "amount"] * 10
    changed = SimpleNamespace(
        leads=leads.reset_index(drop=True), opportunities=opps, config=small.config, has=small.has
    )
    other = fc.forecast_quarter(changed, q)
    pd.testing.assert_frame_equal(base.reset_index(drop=True), other.reset_index(drop=True))
    assert (
        fc.actuals(changed, q)
        .set_index(["series", "channel"])["actual"]
        .ne(fc.actuals(small, q).set_index(["series", "channel"])["actual"])
        .any()
    )  # while what happened did change


# --------------------------------------------------------------------------------------------------
# the backtest on the demo companies
# --------------------------------------------------------------------------------------------------
def _truth_coverage(bt: pd.DataFrame, truth: dict) -> float:
    t = bt.loc[bt["channel"] == "Total"]
    want = np.array([truth["quarterly_expected"]["quarters"][r.quarter][r.series]["Total"] for r in t.itertuples()])
    return float(np.mean((want >= t["lo"].to_numpy()) & (want <= t["hi"].to_numpy())))


def test_backtest_on_the_small_demo(small, small_data):
    bt = fc.backtest(small, parse_quarter("2026Q3"))
    # the data start in 2023Q4: 2024Q3 has only 3 quarters before it, so 7 of the 8 quarters are backtested
    assert bt.attrs["quarters"] == ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    s = fc.backtest_summary(bt)
    assert s.points == 7 * 5 and 0.65 <= s.coverage_all <= 0.95
    # the open-deal part is backtested too: what the deals open at each quarter's start brought in it
    rev = bt.loc[(bt["series"] == "revenue") & (bt["channel"] == "Total")]
    assert (rev["actual_open_deals"] <= rev["actual"]).all() and (rev["actual_open_deals"] > 0).all()
    assert s.open_deals["quarters"] == 7 and 0 < s.open_deals["mape"] < 0.5
    truth = json.loads((small_data / "truth.json").read_text())
    assert 0.65 <= _truth_coverage(bt, truth) <= 0.95
    # totals by channel sum to the total
    g = bt.loc[bt["channel"] != "Total"].groupby(["quarter", "series"])["forecast"].sum()
    tot = bt.loc[bt["channel"] == "Total"].set_index(["quarter", "series"])["forecast"]
    pd.testing.assert_series_equal(g.sort_index(), tot.sort_index(), check_names=False)
    assert (bt["lo"] <= bt["forecast"]).all() and (bt["forecast"] <= bt["hi"]).all()


def test_backtest_chart_has_a_panel_per_series_with_band_forecast_and_actuals(small):
    from salesaudit.steps.planning import view

    bt = fc.backtest(small, parse_quarter("2026Q3"))
    fig = view.fig_backtest(bt, fc.backtest_summary(bt))
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 5 and len(fig.axes) == 6  # 3 + 2 panels; the sixth slot holds the legend
    titles = [ax.get_title(loc="left") for ax in panels]
    assert titles[0].startswith("Leads: MAPE ") and titles[-1].startswith("Won revenue: MAPE ")
    for ax in panels:
        assert len(ax.lines) == 1 and len(ax.lines[0].get_xdata()) == 7  # the forecast of 7 quarters
        assert sum(len(c.get_offsets()) for c in ax.collections[1:]) == 7  # 7 actuals, inside or outside
    legend = [t.get_text() for t in fig.axes[5].get_legend().get_texts()]
    assert legend[:3] == ["10–90% band", "forecast", "actual"]


def test_backtest_is_deterministic(small):
    q = parse_quarter("2026Q1")
    pd.testing.assert_frame_equal(fc.forecast_quarter(small, q), fc.forecast_quarter(small, q))


def test_next_quarter_splits_open_deals_earlier_pipeline_and_new_leads(small):
    nq = fc.next_quarter(small, parse_quarter("2026Q3"))
    assert set(nq["quarter"]) == {"2026Q4"}
    r = nq.loc[(nq["series"] == "revenue") & (nq["channel"] == "Total")].iloc[0]
    assert r["forecast"] == pytest.approx(r["from_pipeline"] + r["from_new"])
    assert 0 < r["from_open_deals"] <= r["from_pipeline"] and r["lo"] < r["forecast"] < r["hi"]


def test_a_short_history_backtests_nothing(small):
    bt = fc.backtest(small, parse_quarter("2024Q3"))
    assert bt.empty and bt.attrs["quarters"] == []
    s = fc.backtest_summary(bt)
    assert s.points == 0 and s.mape == {}


@pytest.mark.slow
def test_backtest_on_the_default_demo_meets_the_targets(demo_data, demo_truth):
    bt = fc.backtest(io.load(demo_data), parse_quarter("2026Q3"))
    s = fc.backtest_summary(bt)
    assert s.mape["customers"] <= 0.10 and s.mape["revenue"] <= 0.10
    assert s.open_deals["mape"] <= 0.15
    assert 0.65 <= s.coverage_all <= 0.95
    assert 0.65 <= _truth_coverage(bt, demo_truth) <= 0.95


def test_the_demo_truth_is_what_the_data_show_on_average(small, small_data):
    """truth.json ``quarterly_expected`` against the generated data: each quarter's leads within 4 Poisson
    standard deviations of their expected number, customers and revenue within 25% over the whole period."""
    truth = json.loads((small_data / "truth.json").read_text())["quarterly_expected"]["quarters"]
    assert list(truth) == [f"{y}Q{i}" for y in (2023, 2024, 2025, 2026) for i in range(1, 5)][3:-1]
    for label, t in truth.items():
        got = fc.actuals(small, parse_quarter(label)).set_index(["series", "channel"])["actual"]
        assert abs(got[("leads", "Total")] - t["leads"]["Total"]) < 4 * np.sqrt(t["leads"]["Total"]) + 10, label
        assert t["leads"]["Total"] == pytest.approx(sum(v for k, v in t["leads"].items() if k != "Total"), abs=0.1)
    for s in ("customers", "revenue"):
        want = sum(t[s]["Total"] for t in truth.values())
        got = sum(
            fc.actuals(small, parse_quarter(q)).set_index(["series", "channel"])["actual"][(s, "Total")] for q in truth
        )
        assert got == pytest.approx(want, rel=0.25), s


def test_open_deals_at_the_quarter_end():
    leads = _leads(
        [
            {"lead_id": "open", "created_at": "2025-04-01", "channel": "x", "sql_at": "2025-05-01"},
            {"lead_id": "lost", "created_at": "2025-04-01", "channel": "x", "sql_at": "2025-05-01"},
            {
                "lead_id": "won",
                "created_at": "2025-04-01",
                "channel": "x",
                "sql_at": "2025-05-01",
                "customer_at": "2025-06-01",
            },
            {"lead_id": "later", "created_at": "2025-04-01", "channel": "x", "sql_at": "2025-07-05"},
        ]
    )
    opps = pd.DataFrame(
        {
            "lead_id": ["open", "lost", "won"],
            "created_at": [T("2025-05-01")] * 3,
            "closed_at": [T("2025-08-01"), T("2025-06-01"), T("2025-06-01")],
            "is_won": [True, False, True],
            "amount": [1.0, 1.0, 1.0],
        }
    )
    assert fc.open_deals(_data(leads, opps), parse_quarter("2025Q2")) == 1  # won later, but open on 30 June
    assert fc.open_deals(_data(leads.drop(columns="created_at")), parse_quarter("2025Q2")) == 0
