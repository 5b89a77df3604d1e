"""Unit tests of salesaudit.steps.process (metrics, story) on tiny hand-made frames, property tests, and
the recovery of the demo company's channel conversion rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from salesaudit.periods import parse_quarter
from salesaudit.steps.process import metrics, story

T = pd.Timestamp
NaT = pd.NaT
Q3 = parse_quarter("2026Q3")


def leads_frame(rows: list[dict]) -> pd.DataFrame:
    """Leads with the stage columns typed as timestamps (missing → NaT)."""
    cols = ["lead_id", "created_at", "channel", "mql_at", "sal_at", "sql_at", "customer_at", "disqualified_at"]
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows])
    for c in cols[1:]:
        if c != "channel":
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    df["lead_id"] = [f"L{i}" for i in range(len(df))] if df["lead_id"].isna().all() else df["lead_id"]
    df["channel"] = df["channel"].fillna("web")
    return df


# --------------------------------------------------------------------------------------------------
# effective stage dates
# --------------------------------------------------------------------------------------------------
def test_skipped_stage_counts_as_passed():
    df = leads_frame(
        [
            {"created_at": "2026-07-01", "mql_at": "2026-07-03", "sql_at": "2026-07-10"},
            {"created_at": "2026-07-01", "mql_at": "2026-07-03", "sal_at": "2026-07-04", "customer_at": "2026-08-01"},
        ]
    )
    d = metrics.stage_dates(df).iloc[0]
    assert d["sal"] == T("2026-07-10")  # no sal_at but an SQL date: passed SAL on (at the latest) that day
    assert d["sql"] == T("2026-07-10")
    assert pd.isna(d["customer"])


def test_out_of_order_dates_pulled_back_and_clipped_to_creation():
    df = leads_frame(
        [
            {"created_at": "2026-07-05", "mql_at": "2026-07-20", "sal_at": "2026-07-10", "sql_at": "2026-07-30"},
            {"created_at": "2026-07-05", "mql_at": "2026-07-01"},  # MQL before creation
        ]
    )
    d = metrics.stage_dates(df)
    assert d.loc[0, "mql"] == T("2026-07-10")  # the earliest later date
    assert d.loc[0, "sal"] == T("2026-07-10")
    assert d.loc[0, "sql"] == T("2026-07-30")
    assert d.loc[1, "mql"] == T("2026-07-05")


def test_missing_stage_columns_are_never_reached():
    df = pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            "created_at": pd.to_datetime(["2026-07-01", "2026-07-02"]),
            "channel": ["x", "y"],
            "customer_at": pd.to_datetime([None, "2026-08-01"]),
        }
    )
    d = metrics.stage_dates(df)
    # a stage the export does not record is not in the data: never derived from a later stage
    assert metrics.stages_of(d) == ["lead", "customer"]
    assert metrics.not_recorded(d) == ["mql", "sal", "sql"]
    assert d.loc[1, "customer"] == T("2026-08-01")
    # an empty column is not recorded either; forcing the stages keeps the skipped-stage rule across them
    e = metrics.stage_dates(df.assign(mql_at=pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]")))
    assert "mql" not in e.columns
    f = metrics.stage_dates(df, stages=["mql", "sal", "sql", "customer"])
    assert f.loc[1, "mql"] == T("2026-08-01") and pd.isna(f.loc[0, "mql"])


def test_arguments_are_not_mutated():
    df = leads_frame([{"created_at": "2026-07-01", "sql_at": "2026-07-10"}])
    before = df.copy()
    metrics.funnel_table(metrics.stage_dates(df), Q3)
    pd.testing.assert_frame_equal(df, before)


# --------------------------------------------------------------------------------------------------
# flow and cohort
# --------------------------------------------------------------------------------------------------
def four_leads() -> pd.DataFrame:
    return leads_frame(
        [
            # created last quarter, MQL + SAL this quarter
            {"created_at": "2026-06-20", "mql_at": "2026-06-25", "sal_at": "2026-07-02"},
            # this quarter's cohort
            {
                "created_at": "2026-07-01",
                "mql_at": "2026-07-02",
                "sal_at": "2026-07-05",
                "sql_at": "2026-07-20",
                "customer_at": "2026-09-01",
            },
            {"created_at": "2026-07-10", "mql_at": "2026-07-11", "disqualified_at": "2026-07-30"},
            {"created_at": "2026-09-20"},  # still open
            # an SQL after the quarter end: not seen yet
            {"created_at": "2026-08-01", "mql_at": "2026-08-02", "sal_at": "2026-09-01", "sql_at": "2026-10-03"},
        ]
    )


def test_flow_counts_entries_in_quarter():
    d = metrics.stage_dates(four_leads())
    flow = metrics.flow_counts(d, Q3.start, Q3.end)
    assert flow.to_dict() == {"lead": 4, "mql": 3, "sal": 3, "sql": 1, "customer": 1}


def test_cohort_funnel_counts_open_and_rates():
    d = metrics.stage_dates(four_leads())
    c = metrics.cohort_funnel(d, Q3.start, Q3.end, Q3.end).set_index("stage")
    assert c["reached"].tolist() == [4, 3, 2, 1, 1]
    # open: lead stage = the 2026-09-20 lead; MQL: none (one disqualified, the others moved on);
    # SAL: the lead whose SQL date lies after the cut-off
    assert c["open"].tolist() == [1, 0, 1, 0, 0]
    assert c.loc["mql", "step"] == pytest.approx(3 / 4)
    assert c.loc["sal", "step"] == pytest.approx(2 / 3)
    assert c.loc["customer", "cum"] == pytest.approx(1 / 4)
    assert c.loc["mql", "step_lo"] < 0.75 < c.loc["mql", "step_hi"]


def test_funnel_table_has_both_views():
    t = metrics.funnel_table(metrics.stage_dates(four_leads()), Q3).set_index("stage")
    assert t.loc["sal", "flow"] == 3 and t.loc["sal", "cohort"] == 2
    assert t.loc["mql", "flow_ratio"] == pytest.approx(3 / 4)


def test_flow_figures_name_only_recorded_stages_and_the_chart_is_not_held_by_pyplot():
    """The recorded flow counts skip a stage the data does not record (not zero: not in the data); the
    funnel chart is a Figure titled from the numbers that pyplot does not hold, so a notebook shows it once."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from salesaudit.steps.process import view

    ftab = metrics.funnel_table(metrics.stage_dates(four_leads().drop(columns=["sal_at"])), Q3)
    figs = story.flow_figures(ftab, "01_sales_process#2")
    assert [(f["name"], f["value"]) for f in figs] == [("mql", 3), ("sql", 1), ("customers", 1)]
    assert all(f["unit"] == "count" and f["partial"] is False for f in figs)
    before = plt.get_fignums()
    fig = view.fig_funnel(ftab, Q3)
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    assert story.funnel_title(ftab, Q3) in [t.get_text() for t in fig.texts]


# --------------------------------------------------------------------------------------------------
# censoring
# --------------------------------------------------------------------------------------------------
def test_open_lead_is_censored_not_lost():
    as_of = T("2026-10-01")
    df = leads_frame(
        [
            {"created_at": "2026-06-01", "mql_at": "2026-06-11"},  # MQL after 10 days
            {"created_at": "2026-09-26"},  # 5 days old at the cut-off, still open
        ]
    )
    dur = metrics.time_to_stage(metrics.stage_dates(df), "mql", as_of)
    assert dur["observed"].tolist() == [True, False]
    assert dur["days"].tolist() == pytest.approx([10.0, 5.0])
    curve = metrics.km_conversion(dur)
    # the open lead left the risk set at day 5, before the only event: it is not counted as lost
    assert metrics.conversion_at(curve, 10)["conv"] == pytest.approx(1.0)
    # the naive as-of share would say 50%
    naive = metrics.cohort_funnel(metrics.stage_dates(df), T("2026-01-01"), as_of, as_of).set_index("stage")
    assert naive.loc["mql", "cum"] == pytest.approx(0.5)


def test_disqualified_lead_counts_as_not_converting():
    as_of = T("2026-10-01")
    df = leads_frame(
        [
            {"created_at": "2026-01-01", "mql_at": "2026-01-11"},
            {"created_at": "2026-01-01", "disqualified_at": "2026-01-05"},
        ]
    )
    curve = metrics.km_conversion(metrics.time_to_stage(metrics.stage_dates(df), "mql", as_of))
    assert metrics.conversion_at(curve, 90)["conv"] == pytest.approx(0.5)


def test_window_conversion_observed_vs_km():
    as_of = T("2026-10-01")
    rows = [
        {"created_at": "2026-01-10", "mql_at": "2026-01-20"},
        {"created_at": "2026-01-15"},
        {"created_at": "2026-02-01", "mql_at": "2026-06-01"},
    ]  # MQL after 120 days: outside the window
    d = metrics.stage_dates(leads_frame(rows))
    q1 = parse_quarter("2026Q1")
    w = metrics.window_conversion(d, q1.start, q1.end, as_of, window=90).set_index("stage")
    assert w.loc["mql", "method"] == "observed"
    assert w.loc["mql", "conv"] == pytest.approx(1 / 3)
    # the same leads judged at 2026-03-15: the cohort is not 90 days old, KM is used and open leads are censored
    w2 = metrics.window_conversion(d, q1.start, q1.end, T("2026-03-15"), window=90).set_index("stage")
    assert w2.loc["mql", "method"] == "km"
    assert w2.loc["mql", "conv"] == pytest.approx(1 / 3)  # 10-day event among 3 at risk, the rest censored later
    assert w2.loc["mql", "lo"] <= w2.loc["mql", "conv"] <= w2.loc["mql", "hi"]


def test_conversion_at_without_censoring_has_binomial_precision():
    dur = pd.DataFrame(
        {
            "days": [1.0, 2.0, 3.0, 50.0, 50.0, 50.0, 50.0, 50.0],
            "observed": [True, True, True, False, False, False, False, False],
            "channel": "x",
        }
    )
    c = metrics.conversion_at(metrics.km_conversion(dur), 20)
    assert c["conv"] == pytest.approx(3 / 8)
    assert c["var"] == pytest.approx((3 / 8) * (5 / 8) / 8)
    assert c["n_eff"] == pytest.approx(8)


def test_conditional_median_exists_below_half_conversion():
    # 3 of 6 convert at days 10, 20, 30; the others never (censored at 400)
    dur = pd.DataFrame(
        {
            "days": [10.0, 20.0, 30.0, 400.0, 400.0, 400.0],
            "observed": [True, True, True, False, False, False],
            "channel": "x",
        }
    )
    curve = metrics.km_conversion(dur)
    med, lo, hi = metrics.conditional_median(curve, horizon=365)
    assert med == 20.0  # F(365) = 0.5, half of it = 0.25 first reached at day 20
    assert lo <= med <= hi or np.isnan(hi)
    assert np.isnan(metrics.conditional_median(metrics.km_conversion(dur.assign(observed=False)))[0])


def test_median_days_table_by_channel():
    as_of = T("2026-10-01")
    rows = [
        {"created_at": "2026-01-01", "mql_at": "2026-01-05", "channel": "a"},
        {"created_at": "2026-01-01", "mql_at": "2026-01-11", "channel": "b"},
        {"created_at": "2026-01-01", "channel": "b"},
    ]
    m = metrics.median_days_table(metrics.stage_dates(leads_frame(rows)), as_of, T("2025-10-01"))
    m = m[m["stage"] == "mql"].set_index("channel")
    assert m.loc["a", "median_days"] == 4.0
    assert m.loc["b", "median_days"] == 10.0
    assert m.loc["all", "reached"] == 2
    assert m.loc["b", "conv_horizon"] == pytest.approx(0.5)


# --------------------------------------------------------------------------------------------------
# channel rates
# --------------------------------------------------------------------------------------------------
def test_mature_quarters():
    assert [q.label for q in metrics.mature_quarters(Q3, 180)] == ["2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    assert [q.label for q in metrics.mature_quarters(Q3, 0, n=2)] == ["2026Q2", "2026Q3"]


def test_step_rates_by_channel():
    rows = (
        [{"created_at": "2025-05-01", "mql_at": "2025-05-02", "channel": "a"}] * 3
        + [{"created_at": "2025-05-01", "channel": "a"}]
        + [{"created_at": "2025-05-01", "mql_at": "2025-05-02", "sql_at": "2025-06-01", "channel": "b"}] * 2
    )
    only = metrics.step_rates(metrics.stage_dates(leads_frame(rows)), T("2025-04-01"), T("2025-07-01"), Q3.end)
    # SAL and customer are not recorded: the steps join the recorded stages
    assert sorted(set(only["step"])) == ["lead_mql", "mql_sql"]
    assert only.set_index(["group", "step"]).loc[("b", "mql_sql"), "rate"] == 1.0
    every = list(metrics.STAGES[1:])
    r = metrics.step_rates(metrics.stage_dates(leads_frame(rows), every), T("2025-04-01"), T("2025-07-01"), Q3.end)
    r = r.set_index(["group", "step"])
    assert r.loc[("a", "lead_mql"), ["k", "n"]].tolist() == [3, 4]
    assert r.loc[("b", "mql_sal"), "rate"] == 1.0  # SQL without SAL: passed SAL
    assert r.loc[("all", "lead_customer"), "rate"] == 0.0
    assert r.loc[("all", "lead_mql"), ["k", "n"]].tolist() == [5, 6]
    m = metrics.rate_matrix(r.reset_index())
    assert list(m.index) == ["a", "b", "all"]
    assert list(m.columns) == [*metrics.STEPS, "lead_customer"]


def test_downstream_conversion_podcast_example():
    # the article's example: 150 podcast leads, 50% reached by phone, 25% of those closed → 18.75 customers
    rates = pd.DataFrame({"group": "all", "step": ["sal_sql", "sql_customer"], "rate": [0.5, 0.25]})
    assert 150 * metrics.downstream_conversion(rates, "sal") == pytest.approx(18.75)
    assert metrics.downstream_conversion(rates, "customer") == 1.0


def test_channel_gaps_and_finding():
    rates = pd.DataFrame(
        {
            "group": ["a", "b", "all"],
            "step": "lead_mql",
            "k": [20, 60, 80],
            "n": [100, 100, 200],
            "rate": [0.2, 0.6, 0.4],
            "lo": 0.0,
            "hi": 1.0,
        }
    )
    rates = pd.concat(
        [
            rates,
            pd.DataFrame(
                {"group": ["all"], "step": ["mql_sal"], "k": [40], "n": [80], "rate": [0.5], "lo": [0.4], "hi": [0.6]}
            ),
            pd.DataFrame(
                {
                    "group": ["all"] * 3,
                    "step": ["sal_sql", "sql_customer", "lead_customer"],
                    "k": [1, 1, 1],
                    "n": [1, 1, 1],
                    "rate": [1.0, 0.5, 0.1],
                    "lo": 0,
                    "hi": 1,
                }
            ),
        ]
    )
    entries = pd.DataFrame({"group": ["a", "b"], "step": "lead_mql", "entered_now": [100, 100]})
    g = metrics.channel_gaps(rates, entries).set_index("group")
    assert g.loc["a", "others"] == pytest.approx(0.6)
    assert g.loc["a", "gap"] == pytest.approx(-0.4)
    assert bool(g.loc["a", "real"])
    f = story.channel_finding(g.reset_index(), rates, deal_value=1000.0)
    # 100 entries × 0.4 gap × P(customer | MQL) = 0.5 × 1 × 0.5 = 0.25 → 10 customers × 1000
    assert f.impact == pytest.approx(10_000.0)
    assert f.slug == "channel_a_lead_mql"
    assert "a leads" in f.text


# --------------------------------------------------------------------------------------------------
# loss this quarter vs the previous four
# --------------------------------------------------------------------------------------------------
def loss_leads(prev_mql: int, now_mql: int, n: int = 200) -> pd.DataFrame:
    """``n`` leads in 2026Q2 (previous) and ``n`` in early 2026Q3; the first ``*_mql`` of each become MQL
    within 5 days; all others are disqualified."""
    rows = []
    for start, k in (("2026-04-01", prev_mql), ("2026-07-01", now_mql)):
        for i in range(n):
            r = {"created_at": start}
            if i < k:
                r["mql_at"] = str((T(start) + pd.Timedelta(days=5)).date())
            else:
                r["disqualified_at"] = str((T(start) + pd.Timedelta(days=3)).date())
            rows.append(r)
    return leads_frame(rows)


def test_loss_comparison_real_change():
    loss = metrics.loss_comparison(metrics.stage_dates(loss_leads(100, 40)), Q3).set_index("step")
    r = loss.loc["lead_mql"]
    assert r["loss_now"] == pytest.approx(0.8)
    assert r["loss_prev"] == pytest.approx(0.5)
    assert r["change"] == pytest.approx(0.3)
    assert r["change_lo"] > 0 and bool(r["real"])
    ll = metrics.largest_loss(loss.reset_index())
    assert ll["worsened"]["step"] == "lead_mql"
    f = story.loss_finding(
        loss.reset_index(),
        pd.DataFrame({"group": ["all"] * 3, "step": ["mql_sal", "sal_sql", "sql_customer"], "rate": [0.5, 0.5, 0.5]}),
        100.0,
        Q3,
    )
    # 200 entries × 0.3 × P(customer | MQL) 0.125 = 7.5 customers × 100
    assert f.impact == pytest.approx(750.0)


def test_loss_comparison_noise_is_not_a_change():
    loss = metrics.loss_comparison(metrics.stage_dates(loss_leads(100, 96)), Q3).set_index("step")
    r = loss.loc["lead_mql"]
    assert r["change_lo"] < 0 < r["change_hi"]
    assert not bool(r["real"])
    assert metrics.largest_loss(loss.reset_index())["worsened"] is None
    assert (
        story.loss_finding(loss.reset_index(), pd.DataFrame(columns=["group", "step", "rate"]), 100.0, Q3).impact == 0
    )


def test_loss_comparison_is_not_fooled_by_channel_mix():
    # channel a loses 20% and b 80% in both periods; only the mix changes (50/50 → 10/90), plus a new channel
    def block(start, channel, n, k):
        return [
            {
                "created_at": start,
                "channel": channel,
                **({"mql_at": str((T(start) + pd.Timedelta(days=5)).date())} if i < k else {}),
            }
            for i in range(n)
        ]

    rows = (
        block("2026-04-01", "a", 100, 80)
        + block("2026-04-01", "b", 100, 20)
        + block("2026-07-01", "a", 20, 16)
        + block("2026-07-01", "b", 180, 36)
        + block("2026-07-01", "new", 50, 0)
    )
    d = metrics.stage_dates(leads_frame(rows))
    pooled = metrics.loss_comparison(d, Q3, by=None).set_index("step").loc["lead_mql"]
    assert bool(pooled["real"]) and pooled["change"] > 0.2
    adj = metrics.loss_comparison(d, Q3).set_index("step").loc["lead_mql"]
    assert adj["loss_now"] == pytest.approx(0.74)
    assert adj["loss_prev"] == pytest.approx(0.74)  # previous rates at this quarter's mix
    assert adj["entered_now"] == 200  # the new channel has no history and is left out
    assert not bool(adj["real"])


def test_loss_now_censors_late_entries():
    # 100 leads on 2026-07-01 (half MQL on day 5), 100 leads on 2026-09-28 (3 days of follow-up, none yet)
    rows = (
        [{"created_at": "2026-07-01", "mql_at": "2026-07-06"}] * 50
        + [{"created_at": "2026-07-01"}] * 50
        + [{"created_at": "2026-09-28"}] * 100
    )
    s = metrics.step_window_rates(metrics.stage_dates(leads_frame(rows)), Q3.start, Q3.end, Q3.end).set_index("step")
    assert s.loc["lead_mql", "conv"] == pytest.approx(0.5)  # not 0.25: the late leads are open, not lost


# --------------------------------------------------------------------------------------------------
# visitors → leads, deal value, sentences
# --------------------------------------------------------------------------------------------------
def test_visit_to_lead():
    leads = leads_frame(
        [{"created_at": "2026-07-03", "channel": "seo"}] * 3 + [{"created_at": "2026-07-03", "channel": "ads"}]
    )
    traffic = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-06-01"]),
            "channel": ["seo", "seo", "seo"],
            "visits": [100.0, 200.0, 999.0],
        }
    )
    v = metrics.visit_to_lead(leads, traffic, Q3.start, Q3.end).set_index("channel")
    assert list(v.index) == ["seo", "all"]  # ads has no traffic
    assert v.loc["seo", "rate"] == pytest.approx(3 / 300)
    assert v.loc["seo", "lo"] < 0.01 < v.loc["seo", "hi"]


def test_average_deal_value():
    opps = pd.DataFrame(
        {
            "is_won": pd.array([True, True, False, True], dtype="boolean"),
            "closed_at": pd.to_datetime(["2026-07-05", "2026-08-01", "2026-08-01", "2025-01-01"]),
            "amount": [100.0, 300.0, 999.0, 999.0],
        }
    )
    assert metrics.average_deal_value(opps, None, Q3.start, Q3.end) == 200.0
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "ordered_at": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-09-01"]),
            "amount": [10.0, 99.0, 30.0],
        }
    )
    assert metrics.average_deal_value(None, orders, Q3.start, Q3.end) == 20.0
    assert np.isnan(metrics.average_deal_value(None, None, Q3.start, Q3.end))


def test_sentences_are_built_from_numbers():
    d = metrics.stage_dates(four_leads())
    ftab = metrics.funnel_table(d, Q3)
    cwin = metrics.cohort_window_table(d, [Q3.previous(), Q3], Q3.end)
    s = story.funnel_sentences(ftab, cwin, Q3)
    assert any("4 leads" in x for x in s)
    assert any("still open" in x for x in s)
    assert story.step_label("sql_customer") == "SQL → Customer"


# --------------------------------------------------------------------------------------------------
# volume
# --------------------------------------------------------------------------------------------------
def test_monthly_and_quarterly_leads():
    leads = leads_frame(
        [
            {"created_at": "2026-01-05", "channel": "a"},
            {"created_at": "2026-03-05", "channel": "b"},
            {"created_at": "2026-03-06", "channel": "a"},
            {"created_at": "2026-10-02", "channel": "a"},
        ]
    )
    m = metrics.monthly_leads(leads, Q3.end)
    assert list(m.index) == list(pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]))
    assert m.loc["2026-03-01"].tolist() == [1, 1]
    q = metrics.quarterly_leads(leads, [parse_quarter("2026Q1"), parse_quarter("2026Q2")])
    assert q["total"].tolist() == [3, 0]


def test_rate_ratio():
    r = metrics.rate_ratio([100], [400], 4).iloc[0]
    assert r["change"] == pytest.approx(0.0)
    assert r["lo"] < 0 < r["hi"]
    r2 = metrics.rate_ratio([200], [400], 4).iloc[0]
    assert r2["change"] == pytest.approx(1.0)
    assert r2["lo"] > 0


def test_trend_seasonality_recovers_planted_structure():
    months = pd.date_range("2023-01-01", periods=36, freq="MS")
    season = np.array([0.9, 1.0, 1.2, 1.0, 1.0, 0.9, 1.0, 0.8, 1.1, 1.2, 1.0, 0.9])
    season = season / np.exp(np.log(season).mean())
    per_day = 50 * 1.10 ** (np.arange(36) / 12) * season[months.month - 1]
    counts = pd.Series(per_day * months.days_in_month, index=months)
    ts = metrics.trend_seasonality(counts)
    assert ts["growth_per_year"] == pytest.approx(0.10, abs=1e-9)
    assert ts["index"].to_numpy() == pytest.approx(season, rel=1e-9)
    flat = pd.Series(50 * 1.10 ** (np.arange(12) / 12) * months[:12].days_in_month, index=months[:12])
    short = metrics.trend_seasonality(flat)  # under 24 months: trend only
    assert len(short["index"]) == 0 and short["growth_per_year"] == pytest.approx(0.10, abs=1e-9)


def test_volume_comparison_and_sentences():
    rows = (
        [{"created_at": "2025-08-01", "channel": "a"}] * 10
        + [{"created_at": "2025-11-01", "channel": "a"}] * 10
        + [{"created_at": "2026-02-01", "channel": "a"}] * 10
        + [{"created_at": "2026-05-01", "channel": "a"}] * 10
        + [{"created_at": "2026-08-01", "channel": "a"}] * 20
        + [{"created_at": "2026-08-01", "channel": "b"}] * 5
    )
    c = metrics.volume_comparison(leads_frame(rows), Q3).set_index("channel")
    assert c.loc["a", "now"] == 20 and c.loc["a", "ref_mean"] == 10 and c.loc["a", "change"] == pytest.approx(1.0)
    assert c.loc["a", "yoy"] == pytest.approx(1.0)
    assert np.isnan(c.loc["b", "change"])  # new channel
    assert c.loc["total", "now"] == 25
    s = story.volume_sentences(c.reset_index(), metrics.trend_seasonality(pd.Series(dtype=float)), Q3)
    assert "25 leads" in s[0]
    figs = story.volume_figures(c.reset_index(), metrics.trend_seasonality(pd.Series(dtype=float)), "s#1")
    assert figs["leads"]["value"] == 25 and figs["leads_vs_prev4"]["n"] == 25
    assert figs["leads_vs_prev4"]["value"] == pytest.approx(c.loc["total", "change"])
    partial = story.volume_figures(
        c.reset_index(), metrics.trend_seasonality(pd.Series(dtype=float)), "s#1", "to 15 Aug"
    )
    assert partial["leads_vs_prev4"]["value"] is None and partial["leads"]["partial"] is True


# --------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------
_day = st.one_of(st.none(), st.integers(-20, 400))


@st.composite
def random_leads(draw):
    n = draw(st.integers(1, 30))
    rows = []
    for i in range(n):
        created = T("2025-10-01") + pd.Timedelta(days=draw(st.integers(0, 360)))
        r = {"lead_id": f"L{i}", "created_at": created, "channel": draw(st.sampled_from(["a", "b", "c"]))}
        for c in ("mql_at", "sal_at", "sql_at", "customer_at", "disqualified_at"):
            off = draw(_day)
            r[c] = None if off is None else created + pd.Timedelta(days=off)
        rows.append(r)
    return leads_frame(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_leads(), st.integers(0, 3))
def test_funnel_counts_never_increase_down_the_stages(leads, back):
    d = metrics.stage_dates(leads, list(metrics.STAGES[1:]))
    q = Q3.previous(back)
    c = metrics.cohort_funnel(d, q.start, q.end, q.end)
    assert (np.diff(c["reached"].to_numpy()) <= 0).all()
    r = metrics.reached(d, Q3.end).to_numpy()
    assert (r[:, 1:] <= r[:, :-1]).all()
    eff = d[list(metrics.STAGES)].to_numpy("datetime64[ns]").astype("int64")
    ok = ~d[list(metrics.STAGES)].isna().to_numpy()
    assert (ok[:, 1:] <= ok[:, :-1]).all()
    both = ok[:, 1:] & ok[:, :-1]
    assert (eff[:, 1:][both] >= eff[:, :-1][both]).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_leads())
def test_rates_in_unit_interval_and_channels_sum_to_total(leads):
    d = metrics.stage_dates(leads, list(metrics.STAGES[1:]))
    r = metrics.step_rates(d, T("2025-10-01"), T("2026-10-01"), Q3.end)
    rate = r["rate"].dropna()
    assert ((rate >= 0) & (rate <= 1)).all()
    eps = 1e-9
    assert ((r["lo"] <= r["rate"].fillna(r["lo"]) + eps) & (r["rate"].fillna(r["hi"]) <= r["hi"] + eps)).all()
    for _step, g in r.groupby("step"):
        ch = g[g["group"] != "all"]
        tot = g[g["group"] == "all"].iloc[0]
        assert ch["k"].sum() == tot["k"] and ch["n"].sum() == tot["n"]
    loss = metrics.loss_comparison(d, Q3)
    for col in ("loss_now", "loss_prev"):
        v = loss[col].dropna()
        assert ((v >= -1e-12) & (v <= 1 + 1e-12)).all()
    w = metrics.window_conversion(d, Q3.start, Q3.end, Q3.end)
    wc = w["conv"].dropna()
    assert ((wc >= -1e-12) & (wc <= 1 + 1e-12)).all()


# --------------------------------------------------------------------------------------------------
# recovery of the demo company's truth
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_channel_rates_recover_demo_truth(demo_data, demo_truth):
    """Each channel's step conversion on mature cohorts (what section 3 shows) covers the generator's
    rate with its 90% interval, allowing 1 miss in 10."""
    from salesaudit.data.io import load

    data = load(demo_data)
    d = metrics.stage_dates(data.leads[data.leads["created_at"] < Q3.end])
    mq = metrics.mature_quarters(Q3)
    r = metrics.step_rates(d, mq[0].start, mq[-1].end, Q3.end)
    r = r[r["step"].isin(metrics.STEPS) & (r["group"] != "all") & (r["n"] > 0)]
    truth = np.array([demo_truth["channels"][g]["rates"][s] for g, s in zip(r["group"], r["step"])])
    inside = (r["lo"].to_numpy() <= truth) & (truth <= r["hi"].to_numpy())
    assert len(r) >= 24  # every channel with mature cohorts, four steps each
    assert (~inside).sum() <= int(np.ceil(0.1 * len(r))), r.assign(truth=truth)[~inside]
    # and not by making intervals useless
    assert (r["hi"] - r["lo"]).median() < 0.12


@pytest.mark.slow
def test_visit_to_lead_recovers_demo_truth(demo_data, demo_truth):
    """Section 2's visitor → lead rates for the audited quarter cover the planted per-channel rates."""
    from salesaudit.data.io import load

    data = load(demo_data)
    v = metrics.visit_to_lead(data.leads, data.traffic, Q3.start, Q3.end)
    v = v[v["channel"] != "all"]
    truth = np.array([demo_truth["channels"][c]["visit_to_lead_rate"] for c in v["channel"]])
    inside = (v["lo"].to_numpy() <= truth) & (truth <= v["hi"].to_numpy())
    assert len(v) >= 7
    assert (~inside).sum() <= int(np.ceil(0.1 * len(v)))
