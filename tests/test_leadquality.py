"""Lead quality (step 03): every metric on tiny hand-computed frames, plus the laws that must hold."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from salesaudit import stats
from salesaudit.periods import parse_quarter
from salesaudit.steps.leads import metrics, story, view

Q = parse_quarter("2026Q3")
T = pd.Timestamp


def _leads(rows: list[dict]) -> pd.DataFrame:
    cols = [
        "lead_id",
        "created_at",
        "channel",
        "campaign_id",
        "mql_at",
        "sal_at",
        "sql_at",
        "customer_at",
        "disqualified_at",
        "disqualify_reason",
        "lead_score",
    ]
    df = pd.DataFrame(rows).reindex(columns=cols)
    for c in cols:
        if c.endswith("_at"):
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    return df.assign(lead_score=df["lead_score"].astype(float))


def _opps(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in ("created_at", "closed_at"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    return df


# ------------------------------------------------------------------------------------------------
# cohort and outcomes
# ------------------------------------------------------------------------------------------------
def test_value_cohort_is_the_latest_mature_four_quarters():
    c = metrics.value_cohort(Q)  # 180 days before 2026-10-01 → 2026Q1 is the last complete one
    assert (c.first.label, c.last.label, c.quarters, c.mature) == ("2025Q2", "2026Q1", 4, True)
    assert c.label == "leads created 2025Q2–2026Q1, outcomes within 180 days of creation"
    c90 = metrics.value_cohort(Q, horizon_days=90)
    assert (c90.first.label, c90.last.label) == ("2025Q3", "2026Q2")
    c0 = metrics.value_cohort(Q, horizon_days=0, quarters=1)
    assert (c0.first.label, c0.last.label) == ("2026Q3", "2026Q3")


LEADS = _leads(
    [
        # in the cohort (2025Q2–2026Q1)
        dict(
            lead_id="L1",
            created_at="2025-05-01",
            channel="a",
            mql_at="2025-05-02",
            sal_at="2025-05-03",
            sql_at="2025-06-01",
            lead_score=80,
        ),
        dict(lead_id="L2", created_at="2025-05-01", channel="a", lead_score=30),
        dict(
            lead_id="L3", created_at="2025-06-01", channel="b", mql_at="2025-06-02", sql_at="2026-01-15", lead_score=60
        ),  # SQL after the 180-day horizon: not counted
        dict(
            lead_id="L4", created_at="2026-02-01", channel="b", mql_at="2026-02-02", sql_at="2026-02-10", lead_score=90
        ),
        # outside the cohort
        dict(lead_id="L5", created_at="2026-05-01", channel="a", sql_at="2026-05-02", lead_score=99),
        dict(lead_id="L6", created_at="2025-03-31", channel="b", sql_at="2025-04-02", lead_score=99),
    ]
)
OPPS = _opps(
    [
        dict(
            opportunity_id="O1",
            lead_id="L1",
            created_at="2025-06-01",
            closed_at="2025-08-01",
            status="won",
            amount=1000.0,
        ),
        dict(
            opportunity_id="O2",
            lead_id="L1",
            created_at="2025-06-01",
            closed_at="2025-07-01",
            status="lost",
            amount=800.0,
        ),
        dict(
            opportunity_id="O3",
            lead_id="L3",
            created_at="2026-01-15",
            closed_at="2026-02-01",
            status="won",
            amount=500.0,
        ),
        dict(
            opportunity_id="O4",
            lead_id="L4",
            created_at="2026-02-10",
            closed_at="2026-03-01",
            status="won",
            amount=3000.0,
        ),
        dict(
            opportunity_id="O5",
            lead_id="L4",
            created_at="2026-02-10",
            closed_at="2026-04-01",
            status="won",
            amount=1000.0,
        ),
        dict(opportunity_id="O6", lead_id="L4", created_at="2026-02-10", closed_at=None, status="open", amount=9000.0),
        dict(
            opportunity_id="O7", lead_id="L5", created_at="2026-05-02", closed_at="2026-06-01", status="won", amount=7.0
        ),
    ]
)


def test_lead_outcomes_count_only_what_happened_within_the_horizon():
    o = metrics.lead_outcomes(LEADS, OPPS, metrics.value_cohort(Q)).set_index("lead_id")
    assert list(o.index) == ["L1", "L2", "L3", "L4"]
    assert o["sql"].tolist() == [True, False, False, True]
    assert o["mql"].tolist() == [True, False, True, True]
    assert o["accepted"].tolist() == [True, False, False, True]
    assert o["won_deals"].tolist() == [1, 0, 0, 2]
    assert o["lost_deals"].tolist() == [1, 0, 0, 0]
    assert o["won_amount"].tolist() == [1000.0, 0.0, 0.0, 4000.0]
    assert o["customer"].tolist() == [True, False, False, True]


def test_lead_outcomes_without_opportunities_use_customer_dates():
    leads = LEADS.assign(customer_at=pd.to_datetime(["2025-07-01", None, None, "2026-12-01", None, None]))
    o = metrics.lead_outcomes(leads, None, metrics.value_cohort(Q))
    assert o["customer"].tolist() == [True, False, False, False]  # L4's date is after the cut-off
    assert o["won_amount"].isna().all()


def test_value_per_lead_hand_computed():
    o = metrics.lead_outcomes(LEADS, OPPS, metrics.value_cohort(Q))
    v = metrics.value_per_lead(o, n_boot=200).set_index("channel")
    assert list(v.index) == ["b", "a", "All"]  # b earns more per lead
    assert v.loc["a", ["leads", "sql", "won", "lost"]].tolist() == [2, 1, 1, 1]
    assert v.loc["a", "sql_rate"] == 0.5 and v.loc["a", "win_rate"] == 0.5
    assert v.loc["a", "revenue_per_lead"] == 500.0 and v.loc["a", "avg_deal"] == 1000.0
    assert (
        v.loc["b", "win_rate"] == 1.0 and v.loc["b", "revenue_per_lead"] == 2000.0 and v.loc["b", "avg_deal"] == 2000.0
    )
    assert v.loc["All", "revenue_per_lead"] == 1250.0
    assert v.loc["All", "avg_deal"] == pytest.approx(5000 / 3)
    assert v.loc["All", "revenue_per_sql"] == 2500.0
    assert v.loc["All", "win_rate"] == 0.75
    lo, hi = stats.wilson_interval(2, 4)
    assert v.loc["All", "sql_rate_lo"] == pytest.approx(float(lo)) and v.loc["All", "sql_rate_hi"] == pytest.approx(
        float(hi)
    )


def test_value_per_lead_without_deals_has_no_money():
    leads = LEADS.assign(customer_at=pd.to_datetime(["2025-07-01", None, None, None, None, None]))
    v = metrics.value_per_lead(metrics.lead_outcomes(leads, None, metrics.value_cohort(Q))).set_index("channel")
    assert v["revenue_per_lead"].isna().all() and v["win_rate"].isna().all()
    assert v.loc["a", "customer_rate"] == 0.5
    disp = view.value_display(v.reset_index())
    assert "Customer rate %" in disp.columns and "Avg deal (EUR)" not in disp.columns


def test_value_sentences_and_title_use_the_numbers():
    c = metrics.value_cohort(Q)
    v = metrics.value_per_lead(metrics.lead_outcomes(LEADS, OPPS, c), n_boot=200)
    s = " ".join(story.value_sentences(v, c, newer=["podcast"]))
    assert "2025Q2–2026Q1" in s and "EUR 1,250" in s and "podcast" in s
    # two leads a channel carry no best/worst claim (stats.MIN_CLAIM_N)
    assert "b leads are worth the most" not in s and "no channel is worth more or less" in s
    assert story.value_title(v) == "Revenue per lead by channel: no channel stands out beyond the noise"
    big = pd.concat(
        [
            v.iloc[:-1].assign(leads=[400, 400], revenue_per_lead_lo=[0, 1500], revenue_per_lead_hi=[900, 2500]),
            v.iloc[[-1]],
        ]
    )
    s_big = " ".join(story.value_sentences(big, c))
    assert "b leads are worth the most (EUR 2,000, n = 400)" in s_big
    assert story.value_title(big) == "b leads are worth 4.0× as much as a leads"


def test_new_channels():
    leads = _leads(
        [
            dict(lead_id="1", created_at="2026-08-01", channel="new"),
            dict(lead_id="2", created_at="2026-08-01", channel="old"),
            dict(lead_id="3", created_at="2025-08-01", channel="old"),
        ]
    )
    assert metrics.new_channels(leads, metrics.value_cohort(Q), Q) == ["new"]


def test_bootstrap_mean_is_seeded_and_brackets_the_mean():
    x = np.array([100.0, 200.0, 300.0, 5000.0])
    a = metrics.bootstrap_mean(x, n_zero=96, seed=1)
    b = metrics.bootstrap_mean(x, n_zero=96, seed=1)
    assert a == b
    assert a[0] == pytest.approx(56.0)  # 5600 / 100
    assert a[1] < a[0] < a[2]
    assert np.isnan(metrics.bootstrap_mean(np.array([5.0]))[1])
    assert np.isnan(metrics.bootstrap_mean(np.array([]))[0])
    # the zeros-only-in-the-denominator shortcut equals bootstrapping the padded array's mean (in law)
    full = metrics.bootstrap_mean(np.r_[x, np.zeros(96)], seed=2, n_boot=4000)
    fast = metrics.bootstrap_mean(x, n_zero=96, seed=3, n_boot=4000)
    assert fast[1] == pytest.approx(full[1], rel=0.15) and fast[2] == pytest.approx(full[2], rel=0.15)


def test_bootstrap_mean_switches_to_the_t_interval_for_large_samples():
    x = np.random.default_rng(0).lognormal(8, 1, metrics.BOOT_MAX + 1)
    m, lo, hi = metrics.bootstrap_mean(x, n_zero=20_000)
    ref = stats.mean_interval(np.r_[x, np.zeros(20_000)])
    assert (m, lo, hi) == pytest.approx(ref)


# ------------------------------------------------------------------------------------------------
# lead score
# ------------------------------------------------------------------------------------------------
def _scored(scores, sql, mql=None) -> pd.DataFrame:
    scores = np.asarray(scores, dtype=float)
    return pd.DataFrame(
        {
            "lead_score": scores,
            "sql": np.asarray(sql, bool),
            "mql": np.ones(len(scores), bool) if mql is None else np.asarray(mql, bool),
        }
    )


def test_score_bands_hand_computed():
    o = _scored([5, 15, 15, 95, 100, np.nan], [False, True, False, True, True, True], [0, 0, 1, 1, 1, 1])
    b = metrics.score_bands(o).set_index("band")
    assert b.loc["0–10", "leads"] == 1 and b.loc["0–10", "sql"] == 0
    assert b.loc["10–20", "sql_rate"] == 0.5 and b.loc["10–20", "mql_share"] == 0.5
    assert b.loc["90–100", "leads"] == 2  # 100 falls in the last band; NaN score left out
    assert b["leads"].sum() == 5
    assert b.loc["90–100", "lift"] == pytest.approx(1.0 / (3 / 5))


def test_score_auc_perfect_and_hanley_mcneil():
    a = metrics.score_auc(_scored([80, 30, 60, 90], [True, False, False, True]))
    assert a["auc"] == 1.0 and (a["n_pos"], a["n_neg"]) == (2, 2)
    lo, hi = metrics.auc_interval(0.8, 50, 50)
    # SE² = [A(1−A) + 49(Q1−A²) + 49(Q2−A²)] / 2500, Q1 = 0.8/1.2, Q2 = 1.28/1.8
    se = np.sqrt((0.16 + 49 * (0.8 / 1.2 - 0.64) + 49 * (1.28 / 1.8 - 0.64)) / 2500)
    assert lo == pytest.approx(0.8 - 1.6448536 * se, abs=1e-6) and hi == pytest.approx(0.8 + 1.6448536 * se, abs=1e-6)
    assert np.isnan(metrics.auc_interval(np.nan, 3, 3)[0])


def test_used_threshold_is_robust_to_a_manual_mql():
    rows = [
        dict(lead_id=str(i), created_at="2026-07-01", channel="a", mql_at="2026-07-02", lead_score=50)
        for i in range(999)
    ]
    rows += [
        dict(lead_id="manual", created_at="2026-07-01", channel="a", mql_at="2026-07-02", lead_score=10),
        dict(lead_id="old", created_at="2026-01-01", channel="a", mql_at="2026-01-02", lead_score=0),
    ]
    u = metrics.used_threshold(_leads(rows), Q)
    assert u == {"threshold": 50.0, "minimum": 10.0, "n": 1000, "below": 1, "scope": "quarter"}
    assert np.isnan(metrics.used_threshold(_leads(rows[-1:]), Q)["threshold"])


def test_youden_threshold_on_separable_scores():
    scores = np.repeat(np.arange(40, 80), 10)
    o = _scored(scores, scores >= 60)
    b = metrics.best_threshold(o)
    assert (b["threshold"], b["lo"], b["hi"], b["rule"]) == (60.0, 60.0, 60.0, "youden")
    curve = metrics.youden_curve(o).set_index("threshold")
    assert curve.loc[60.0, "j"] == 1.0 and curve.loc[59.0, "j"] == pytest.approx(1 - 10 / 200)
    assert curve.loc[0.0, "tpr"] == 1.0 and curve.loc[0.0, "handed"] == 1.0


def _linear_scores() -> pd.DataFrame:
    """40 leads at each score 40…79; at score s exactly s − 40 of them are SQL (rate (s − 40)/40)."""
    scores = np.repeat(np.arange(40, 80), 40)
    rank = np.tile(np.arange(40), 40)
    return _scored(scores, rank < (scores - 40))


def test_breakeven_rule_and_youden_on_a_linear_calibration():
    o = _linear_scores()
    b = metrics.best_threshold(o, breakeven=0.25)
    assert b["threshold"] == 50.0 and b["rule"] == "breakeven" and b["ref_rate"] == 0.25
    assert b["lo"] <= 50.0 <= b["hi"]
    y = metrics.best_threshold(o)  # J peaks where the rate crosses the average 19.5/40
    assert abs(y["threshold"] - 59.5) <= 1 and y["ref_rate"] == pytest.approx(19.5 / 40)


def test_best_threshold_uses_only_the_handed_over_leads():
    o = _linear_scores()
    below = _scored(np.repeat(np.arange(0, 40), 40), np.zeros(1600, bool), np.zeros(1600, bool))
    both = pd.concat([o, below], ignore_index=True)
    assert metrics.best_threshold(both)["threshold"] == metrics.best_threshold(o)["threshold"]
    assert len(metrics.handed_over(both)) == len(o)


def test_threshold_comparison_hand_computed():
    o = _linear_scores()
    c = metrics.threshold_comparison(o, 40.0, {"threshold": 50.0, "ref_rate": 0.25}, quarters=4)
    assert c["direction"] == "too low" and c["band_leads"] == 400 and c["band_sql"] == 45
    assert c["band_sql_rate"] == pytest.approx(0.1125) and c["yield_gap"] == pytest.approx(0.1375)
    assert c["band_per_quarter"] == 100
    assert metrics.threshold_comparison(o, 50.0, {"threshold": 50.0, "ref_rate": 0.25})["direction"] == "aligned"
    assert metrics.threshold_comparison(o, 60.0, {"threshold": 50.0, "ref_rate": 0.25})["direction"] == "too high"


def test_score_curve_smooths_over_neighbours():
    c = metrics.score_curve(_linear_scores(), window=2).set_index("score")
    assert c.loc[50, "rate"] == pytest.approx(10 / 40)  # (8+9+10+11+12) / 200
    assert c.loc[50, "n"] == 200
    assert 40 in c.index and 79 in c.index and 39 not in c.index


def test_score_sentences_name_the_rule():
    o = _linear_scores()
    bands = metrics.score_bands(o)
    a = metrics.score_auc(o)
    used = {"threshold": 40.0, "minimum": 40.0, "n": 1600, "below": 0}
    best = metrics.best_threshold(o, breakeven=0.25)
    s = " ".join(story.score_sentences(bands, a, a, used, best, metrics.threshold_comparison(o, 40.0, best)))
    assert "break-even 25.0%" in s and "too low" in s and "suggest 50" in s


def test_score_sentences_say_when_the_auc_cannot_be_computed():
    """Every scored lead an SQL (a product's slice: each lead has a deal): no AUC, said in words, never 'nan'."""
    o = _linear_scores()
    bands = metrics.score_bands(o)
    a = dict(metrics.score_auc(o), auc=float("nan"), lo=float("nan"), hi=float("nan"), n_neg=0)
    used = {"threshold": 40.0, "minimum": 40.0, "n": 1600, "below": 0}
    best = metrics.best_threshold(o, breakeven=0.25)
    said = story.score_sentences(bands, a, a, used, best, metrics.threshold_comparison(o, 40.0, best))
    assert said[0].startswith("The lead score's AUC cannot be computed:") and "nan" not in " ".join(said).lower()


# ------------------------------------------------------------------------------------------------
# hand-off
# ------------------------------------------------------------------------------------------------
HANDOFF_LEADS = _leads(
    [
        dict(lead_id="A", created_at="2026-07-01", channel="x", mql_at="2026-07-05", sal_at="2026-07-08"),
        dict(
            lead_id="B",
            created_at="2026-07-01",
            channel="x",
            mql_at="2026-07-10",
            disqualified_at="2026-07-20",
            disqualify_reason="not ready yet",
        ),
        dict(lead_id="C", created_at="2026-09-01", channel="x", mql_at="2026-09-20"),
        dict(lead_id="D", created_at="2026-06-20", channel="y", mql_at="2026-07-01"),
        dict(lead_id="E", created_at="2026-07-01", channel="y", mql_at="2026-08-01", sql_at="2026-08-03"),
        dict(lead_id="F", created_at="2026-06-01", channel="y", mql_at="2026-06-30", sal_at="2026-07-02"),
        dict(lead_id="G", created_at="2026-07-01", channel="y", mql_at="2026-07-02", sal_at="2026-10-05"),
    ]
)


def test_mql_handoff_states():
    h = metrics.mql_handoff(HANDOFF_LEADS, Q).set_index("lead_id")
    assert h["state"].to_dict() == {
        "A": "accepted",
        "B": "rejected",
        "C": "waiting",
        "D": "never accepted",
        "E": "accepted",
        "G": "never accepted",
    }
    assert h.loc["A", "delay_days"] == 3 and h.loc["E", "delay_days"] == 2
    assert np.isnan(h.loc["G", "delay_days"])
    assert h.loc["C", "followed_days"] == 11


def test_handoff_table_hand_computed():
    t = metrics.handoff_table(metrics.mql_handoff(HANDOFF_LEADS, Q)).set_index("channel")
    assert t.loc["All", ["mqls", "accepted", "rejected", "waiting", "never accepted"]].tolist() == [6, 2, 1, 1, 2]
    assert t.loc["All", "accept_rate"] == pytest.approx(2 / 5)
    assert t.loc["x", "accept_rate"] == pytest.approx(1 / 2) and t.loc["y", "accept_rate"] == pytest.approx(1 / 3)
    assert t.loc["All", "median_delay"] == 2.5
    assert list(view.handoff_display(t.reset_index()).columns)[:2] == ["MQLs", "Accepted %"]


def test_handoff_display_says_na_for_a_channel_with_no_acceptance():
    """A small slice can hold a channel none of whose MQLs was accepted: no median delay, said in words (no NaN)."""
    t = pd.DataFrame(
        {"channel": ["x", "y"], "mqls": [2, 3], "accepted": [0, 1], "rejected": [2, 1], "waiting": [0, 1]}
        | {"never accepted": [0, 0], "accept_rate": [0.0, 0.5], "accept_rate_lo": [0.0, 0.1]}
        | {"accept_rate_hi": [0.57, 0.9], "median_delay": [np.nan, 2.04]}
    )
    shown = view.handoff_display(t)["Median delay (days)"]
    assert shown.tolist() == ["n/a (none accepted)", 2.0]


def test_acceptance_curve_is_one_minus_kaplan_meier():
    c = metrics.acceptance_curve(metrics.mql_handoff(HANDOFF_LEADS, Q))
    assert stats.km_at(c.assign(survival=1 - c["conv"]), 2) == pytest.approx(5 / 6)
    assert float(c.loc[c["days"] == 3, "conv"].iloc[0]) == pytest.approx(1 - 4 / 6)
    assert (c["group"] == "all").all() and c["conv"].is_monotonic_increasing


DQ = _leads(
    [
        dict(
            lead_id="1",
            created_at="2026-06-01",
            channel="a",
            disqualified_at="2026-07-02",
            disqualify_reason="no budget",
        ),
        dict(
            lead_id="2",
            created_at="2026-06-01",
            channel="a",
            mql_at="2026-06-02",
            disqualified_at="2026-07-02",
            disqualify_reason="no budget",
        ),
        dict(
            lead_id="3",
            created_at="2026-06-01",
            channel="a",
            mql_at="2026-06-02",
            disqualified_at="2026-07-02",
            disqualify_reason="no budget",
        ),
        dict(
            lead_id="4",
            created_at="2026-06-01",
            channel="a",
            mql_at="2026-06-02",
            disqualified_at="2026-08-02",
            disqualify_reason="Timing",
        ),
        dict(
            lead_id="5",
            created_at="2026-06-01",
            channel="a",
            mql_at="2026-06-02",
            sql_at="2026-06-10",
            disqualified_at="2026-08-02",
            disqualify_reason="timing",
        ),  # was SQL: not sent back
        dict(lead_id="6", created_at="2026-06-01", channel="a", disqualified_at="2026-08-02"),
        dict(
            lead_id="7",
            created_at="2026-06-01",
            channel="a",
            mql_at="2026-06-02",
            disqualified_at="2026-09-02",
            disqualify_reason="recycled to nurture",
        ),
        dict(
            lead_id="8",
            created_at="2026-06-01",
            channel="a",
            mql_at="2026-06-02",
            disqualified_at="2026-06-20",
            disqualify_reason="competitor",
        ),  # previous quarter
    ]
)


def test_disqualify_pareto_hand_computed():
    p = metrics.disqualify_pareto(DQ, Q)
    assert p["reason"].tolist() == ["no budget", "(no reason given)", "Timing", "recycled to nurture", "timing"]
    assert p["count"].tolist() == [3, 1, 1, 1, 1]
    assert p["cum_share"].iloc[-1] == pytest.approx(1.0) and p["share"].iloc[0] == pytest.approx(3 / 7)
    assert p["too_early"].tolist() == [False, False, True, True, True]
    assert p["from_mql"].tolist() == [2, 0, 1, 1, 1]
    top = metrics.disqualify_pareto(DQ, Q, top=2)
    assert top["reason"].tolist() == ["no budget", "(no reason given)", "Other"] and top["count"].tolist() == [3, 1, 3]
    sent = metrics.disqualify_pareto(DQ, Q, mql_only=True)
    assert sent.set_index("reason")["count"].to_dict() == {"no budget": 2, "Timing": 1, "recycled to nurture": 1}
    assert "Were MQL" not in view.pareto_display(sent).columns
    assert metrics.disqualify_pareto(DQ, parse_quarter("2024Q1")).empty


def test_recycled_hand_computed():
    r = metrics.recycled(DQ, Q)
    assert (r["recycled"], r["too_early"]) == (4, 2)
    assert r["too_early_share"] == 0.5 and r["lo"] < 0.5 < r["hi"]


def test_handoff_sentences_use_the_numbers():
    h = metrics.mql_handoff(HANDOFF_LEADS, Q)
    t = metrics.handoff_table(h)
    s = " ".join(
        story.handoff_sentences(
            t, metrics.acceptance_curve(h), metrics.disqualify_pareto(DQ, Q, mql_only=True), metrics.recycled(DQ, Q), Q
        )
    )
    assert "Of 6 MQLs in 2026Q3" in s and "40.0%" in s and "'no budget'" in s and "4 MQLs were sent back" in s


# ------------------------------------------------------------------------------------------------
# campaigns
# ------------------------------------------------------------------------------------------------
CAMP_LEADS = _leads(
    [
        dict(lead_id="1", created_at="2026-07-01", channel="events", campaign_id="K1", sql_at="2026-07-20"),
        dict(lead_id="2", created_at="2026-07-15", channel="events", campaign_id="K1", sql_at="2026-09-01"),
        dict(lead_id="3", created_at="2026-08-01", channel="events", campaign_id="K1"),
        dict(
            lead_id="4", created_at="2026-09-15", channel="events", campaign_id="K1", sql_at="2026-09-20"
        ),  # too young
        dict(lead_id="5", created_at="2026-07-10", channel="webinar", campaign_id="K2", sql_at="2026-07-12"),
        dict(lead_id="6", created_at="2026-07-11", channel="webinar", campaign_id="K2", sql_at="2026-07-20"),
        dict(lead_id="7", created_at="2026-07-11", channel="webinar"),  # no campaign
        dict(lead_id="8", created_at="2026-04-11", channel="events", campaign_id="K1", sql_at="2026-04-12"),  # Q2
    ]
)
CAMPAIGNS = pd.DataFrame({"campaign_id": ["K1", "K9"], "channel": ["events", "podcast"], "name": ["Spring expo", "x"]})


def test_campaign_table_hand_computed():
    t = metrics.campaign_table(CAMP_LEADS, CAMPAIGNS, Q).set_index("campaign_id")
    assert t.loc["K1", ["leads", "mature", "sql"]].tolist() == [4, 3, 1]
    assert t.loc["K2", ["leads", "mature", "sql"]].tolist() == [2, 2, 2]
    assert t.loc["K1", "name"] == "Spring expo" and t.loc["K2", "name"] == "K2" and t.loc["K2", "channel"] == "webinar"
    assert t["overall_rate"].iloc[0] == pytest.approx(3 / 5)
    assert t.loc["K1", "rank_leads"] == 1 and t.loc["K2", "rank_sql"] == 1
    assert not t["nurture"].any()  # 1 of 3 is not clearly below 60%
    no_meta = metrics.campaign_table(CAMP_LEADS, None, Q).set_index("campaign_id")
    assert no_meta.loc["K1", "name"] == "K1" and no_meta.loc["K1", "channel"] == "events"


def test_nurture_flag_needs_volume_and_a_clear_gap():
    rows = []
    for cid, n, k in (("BIG", 200, 20), ("S1", 50, 30), ("S2", 50, 25), ("SMALL_BAD", 10, 0)):
        rows += [
            dict(
                lead_id=f"{cid}{i}",
                created_at="2026-07-01",
                channel="c",
                campaign_id=cid,
                sql_at="2026-07-05" if i < k else None,
            )
            for i in range(n)
        ]
    t = metrics.campaign_table(_leads(rows), None, Q).set_index("campaign_id")
    assert t["nurture"].to_dict() == {"BIG": True, "S1": False, "S2": False, "SMALL_BAD": False}
    assert story.campaign_title(t.reset_index()) == "1 high-volume campaign converts clearly below average"
    assert "BIG" in " ".join(story.campaign_sentences(t.reset_index(), Q))


def test_campaign_note():
    assert "skipped" in story.campaign_note(CAMP_LEADS.drop(columns="campaign_id"), CAMPAIGNS)
    assert "by id" in story.campaign_note(CAMP_LEADS, None)
    assert story.campaign_note(CAMP_LEADS, CAMPAIGNS) is None
    assert metrics.campaign_table(CAMP_LEADS.drop(columns="campaign_id"), None, Q).empty


# ------------------------------------------------------------------------------------------------
# findings
# ------------------------------------------------------------------------------------------------
def test_findings_impacts_and_order():
    value = pd.DataFrame({"channel": ["All"], "revenue_per_sql": [1000.0], "sql": [10], "leads": [100]})
    outcomes = pd.DataFrame(
        {"mql": [True] * 4 + [False], "accepted": [True] * 4 + [False], "sql": [True, False, False, False, True]}
    )
    comp = {
        "direction": "too low",
        "band_leads": 400,
        "band_per_quarter": 100.0,
        "band_sql_rate": 0.1125,
        "ref_rate": 0.25,
        "yield_gap": 0.1375,
    }
    used = {"threshold": 40.0}
    best = {"threshold": 50.0, "lo": 48.0, "hi": 52.0, "rule": "breakeven", "ref_rate": 0.25}
    handoff = pd.DataFrame({"state": ["never accepted", "never accepted", "accepted"]})
    camps = pd.DataFrame(
        {"name": ["Big"], "nurture": [True], "mature": [100], "sql_rate": [0.1], "overall_rate": [0.3]}
    )
    f = story.findings(value, outcomes, comp, used, best, handoff, camps, Q)
    assert [x.slug for x in f] == ["nurture_campaigns", "mql_threshold", "mql_never_accepted"]
    assert [x.impact for x in f] == pytest.approx([20000.0, 13750.0, 500.0])
    assert all(x.section.startswith("03_lead_quality#") and x.basis and x.recommendation for x in f)
    assert "Raise the MQL threshold to about 50" in f[1].recommendation
    assert len(story.findings(value, outcomes, comp, used, best, handoff, camps, Q, max_findings=2)) == 2
    inside = dict(best, lo=38.0)  # used threshold within the suggested one's interval: no threshold finding
    assert "mql_threshold" not in [
        x.slug for x in story.findings(value, outcomes, comp, used, inside, handoff, camps, Q)
    ]
    assert story.findings(value.assign(revenue_per_sql=np.nan), outcomes, comp, used, best, handoff, camps, Q) == []


# ------------------------------------------------------------------------------------------------
# laws
# ------------------------------------------------------------------------------------------------
@st.composite
def outcome_frames(draw):
    n = draw(st.integers(1, 60))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    sql = rng.random(n) < draw(st.floats(0, 1))
    won = sql & (rng.random(n) < 0.5)
    return pd.DataFrame(
        {
            "lead_id": [str(i) for i in range(n)],
            "channel": rng.choice(["a", "b", "c"], n),
            "lead_score": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 101, n)).astype(float),
            "mql": rng.random(n) < 0.6,
            "sql": sql,
            "accepted": sql,
            "customer": won,
            "won_deals": won.astype(int),
            "lost_deals": (sql & ~won).astype(int),
            "won_amount": np.where(won, rng.lognormal(8, 1, n), 0.0),
            "has_deals": True,
        }
    )


@settings(max_examples=40, deadline=None)
@given(outcome_frames())
def test_value_per_lead_laws(o):
    v = metrics.value_per_lead(o, n_boot=50)
    body, tot = v.iloc[:-1], v.iloc[-1]
    assert body["leads"].sum() == tot["leads"] == len(o)
    assert body["sql"].sum() == tot["sql"] and body["revenue"].sum() == pytest.approx(tot["revenue"])
    r = v.dropna(subset=["sql_rate"])
    assert (
        (0 <= r["sql_rate_lo"])
        & (r["sql_rate_lo"] <= r["sql_rate"] + 1e-12)
        & (r["sql_rate"] <= r["sql_rate_hi"] + 1e-12)
        & (r["sql_rate_hi"] <= 1)
    ).all()
    assert (v["revenue_per_lead"] >= 0).all()


@settings(max_examples=40, deadline=None)
@given(outcome_frames())
def test_score_laws(o):
    b = metrics.score_bands(o)
    assert b["leads"].sum() == o["lead_score"].notna().sum() and (b["sql"] <= b["leads"]).all()
    j = metrics.youden_curve(o)["j"].dropna()
    assert ((j >= -1 - 1e-12) & (j <= 1 + 1e-12)).all()
    t = metrics.best_threshold(o, n_boot=20)
    if not np.isnan(t["threshold"]):
        assert 0 <= t["lo"] <= t["hi"] <= 100 and 0 <= t["threshold"] <= 100


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 120),
            st.sampled_from([None, 1, 5, 40]),
            st.sampled_from([None, 3, 60]),
            st.sampled_from(["x", "y"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_handoff_states_partition_the_mqls(rows):
    base = T("2026-07-01")
    leads = _leads(
        [
            dict(
                lead_id=str(i),
                created_at=base,
                channel=ch,
                mql_at=base + pd.Timedelta(days=m),
                sal_at=None if s is None else base + pd.Timedelta(days=m + s),
                disqualified_at=None if d is None else base + pd.Timedelta(days=m + d),
            )
            for i, (m, s, d, ch) in enumerate(rows)
        ]
    )
    h = metrics.mql_handoff(leads, Q)
    assert len(h) == sum(m < 92 for m, *_ in rows)
    t = metrics.handoff_table(h)
    if len(t):
        tot = t.iloc[-1]
        assert tot["mqls"] == len(h) == sum(tot[s] for s in metrics.HANDOFF_STATES)
        assert t.iloc[:-1]["mqls"].sum() == tot["mqls"]


def test_functions_do_not_mutate_their_inputs():
    leads, opps = LEADS.copy(deep=True), OPPS.copy(deep=True)
    c = metrics.value_cohort(Q)
    o = metrics.lead_outcomes(LEADS, OPPS, c)
    metrics.value_per_lead(o, n_boot=20)
    metrics.mql_handoff(LEADS, Q)
    metrics.disqualify_pareto(LEADS, Q)
    metrics.campaign_table(CAMP_LEADS, CAMPAIGNS, Q)
    pd.testing.assert_frame_equal(LEADS, leads)
    pd.testing.assert_frame_equal(OPPS, opps)


@pytest.mark.slow
def test_scales_to_a_million_leads():
    import time

    n = 1_000_000
    rng = np.random.default_rng(0)
    created = T("2024-10-01") + pd.to_timedelta(rng.uniform(0, 730, n), unit="D")
    score = rng.integers(0, 101, n).astype(float)
    mql = np.where(score >= 40, created + pd.Timedelta(days=1), pd.NaT)
    sql = np.where((score >= 40) & (rng.random(n) < score / 150), created + pd.Timedelta(days=10), pd.NaT)
    leads = pd.DataFrame(
        {
            "lead_id": np.arange(n).astype(str),
            "created_at": created,
            "channel": rng.choice(list("abcdefgh"), n),
            "campaign_id": rng.choice(50, n).astype(str),
            "mql_at": pd.to_datetime(mql),
            "sal_at": pd.to_datetime(sql),
            "sql_at": pd.to_datetime(sql),
            "lead_score": score,
        }
    )
    won = ~pd.isna(sql) & (rng.random(n) < 0.3)
    opps = pd.DataFrame(
        {
            "opportunity_id": np.arange(won.sum()).astype(str),
            "lead_id": leads["lead_id"][won].to_numpy(),
            "closed_at": pd.to_datetime(sql[won]) + pd.Timedelta(days=30),
            "status": "won",
            "amount": 1000.0,
        }
    )
    t0 = time.perf_counter()
    c = metrics.value_cohort(Q)
    o = metrics.lead_outcomes(leads, opps, c)
    metrics.value_per_lead(o)
    metrics.best_threshold(o)
    metrics.handoff_table(metrics.mql_handoff(leads, Q))
    metrics.campaign_table(leads, None, Q)
    assert time.perf_counter() - t0 < 15  # ≈ 2 s on an idle laptop core


def test_minimal_leads_table_runs_end_to_end():
    """Only the required columns: every step returns empty/NaN results and readable sentences."""
    import matplotlib

    matplotlib.use("Agg")
    leads = pd.DataFrame(
        {
            "lead_id": ["1", "2"],
            "channel": ["a", "b"],
            "created_at": pd.to_datetime(["2025-06-01", "2026-08-01"]).astype("datetime64[ns]"),
        }
    )
    c = metrics.value_cohort(Q)
    o = metrics.lead_outcomes(leads, None, c)
    v = metrics.value_per_lead(o)
    assert v.iloc[-1]["leads"] == 1 and v.iloc[-1]["sql_rate"] == 0
    bands, auc, auc_m = metrics.score_bands(o), metrics.score_auc(o), metrics.score_auc(metrics.handed_over(o))
    used, best = metrics.used_threshold(leads, Q), metrics.best_threshold(o)
    comp = metrics.threshold_comparison(o, used["threshold"], best)
    assert np.isnan(auc["auc"]) and np.isnan(best["threshold"]) and comp["direction"] == "aligned"
    assert story.score_sentences(bands, auc, auc_m, used, best, comp) == [
        "No lead scores in the cohort: the score cannot be assessed."
    ]
    h = metrics.mql_handoff(leads, Q)
    t = metrics.handoff_table(h)
    p = metrics.disqualify_pareto(leads, Q, mql_only=True)
    assert h.empty and t.empty and p.empty
    assert story.handoff_sentences(t, metrics.acceptance_curve(h), p, metrics.recycled(leads, Q), Q) == [
        "No lead became MQL in 2026Q3."
    ]
    camps = metrics.campaign_table(leads, None, Q)
    assert camps.empty and "skipped" in story.campaign_note(leads, None)
    assert story.findings(v, o, comp, used, best, h, camps, Q) == []
    value = view.fig_value(v)
    assert isinstance(value, Figure) and value.get_suptitle() == story.value_title(v)
    # no deals: the right panel is the customer rate, not money; one row for the one cohort channel
    assert [ax.get_title(loc="left") for ax in value.axes] == ["SQL rate", "Customer rate"]
    assert [lab.get_text() for lab in value.axes[0].get_yticklabels()] == ["a"]
    # nothing else to draw: one small figure per section saying what is missing, no empty axes
    empty = {
        "Lead score": (view.fig_score(bands, metrics.score_curve(o), used, best, auc), "No lead scores in the cohort"),
        "Hand-off": (view.fig_handoff(t, metrics.acceptance_curve(h)), "No MQLs in the quarter"),
        "Disqualify reasons": (view.fig_pareto(p), "No disqualifications in the quarter"),
        "Campaigns": (view.fig_campaigns(camps), "No campaign leads in the quarter"),
    }
    for title, (fig, message) in empty.items():
        assert isinstance(fig, Figure) and len(fig.axes) == 1, title
        (ax,) = fig.axes
        assert not ax.axison and ax.get_title(loc="left") == title and [x.get_text() for x in ax.texts] == [message]
    assert plt.get_fignums() == []  # every figure is closed in pyplot: the notebook displays it once


def test_figures_draw_each_section_and_title_it_with_what_to_see():
    v = metrics.value_per_lead(metrics.lead_outcomes(LEADS, OPPS, metrics.value_cohort(Q)), n_boot=50)
    f = view.fig_value(v)
    assert [ax.get_title(loc="left") for ax in f.axes] == ["SQL rate", "Revenue per lead"]
    assert sorted(lab.get_text() for lab in f.axes[0].get_yticklabels()) == ["a", "b"]  # one row per channel
    assert f.get_suptitle() == story.value_title(v)

    o = _linear_scores()
    bands, auc, curve = metrics.score_bands(o), metrics.score_auc(o), metrics.score_curve(o)
    used, best = {"threshold": 40.0, "n": 1600}, metrics.best_threshold(o, breakeven=0.25)
    f = view.fig_score(bands, curve, used, best, auc)
    calibration, line = f.axes
    assert len(calibration.patches) == len(bands)  # one bar per score band
    assert any(len(x.get_xdata()) == len(curve) for x in line.lines)  # the smoothed SQL rate, one point a score
    assert f.get_suptitle() == story.score_title(auc, used, best)
    assert f.get_suptitle().endswith("the MQL threshold (40) is below the suggested 50")

    h = metrics.mql_handoff(HANDOFF_LEADS, Q)
    t, accept = metrics.handoff_table(h), metrics.acceptance_curve(h)
    f = view.fig_handoff(t, accept)
    shares, km = f.axes
    assert len(shares.patches) == len(t) * len(metrics.HANDOFF_STATES)  # x, y and All: one segment per state
    assert km.get_xlim() == (0, view.table_delay_limit(accept))
    assert f.get_suptitle() == story.handoff_title(t) == "Sales accepts 40% of MQLs; 33% are never picked up"

    p = metrics.disqualify_pareto(DQ, Q, mql_only=True)
    f = view.fig_pareto(p, of="MQLs sent back")
    ax = f.axes[0]
    assert len(ax.patches) == len(p) == 3
    assert len({bar.get_facecolor() for bar in ax.patches}) == 2  # 'not yet' reasons in the accent colour
    assert ax.get_title(loc="left") == story.pareto_title(p, "MQLs sent back")
    assert ax.get_title(loc="left").startswith("'no budget' and ")
    assert [x.get_text() for x in ax.texts] == ["orange = a 'not yet' reason"]

    c = metrics.campaign_table(CAMP_LEADS, CAMPAIGNS, Q)
    f = view.fig_campaigns(c)
    (ax,) = f.axes
    assert sum(len(x.get_offsets()) for x in ax.collections if isinstance(x, PathCollection)) == len(c) == 2
    assert (
        ax.get_title(loc="left") == story.campaign_title(c) == "No high-volume campaign converts clearly below average"
    )
    assert plt.get_fignums() == []


def test_snapshot_outcomes_count_stages_reached_and_deals_without_dates():
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d"],
            "channel": ["x", "x", "y", "y"],
            "created_at": pd.Series([pd.NaT] * 4, dtype="datetime64[ns]"),
            "stage_reached": ["lead", "mql", "sql", "customer"],
            "lead_score": [10.0, 50.0, 70.0, 90.0],
        }
    )
    o = metrics.snapshot_outcomes(leads)
    assert o["mql"].tolist() == [False, True, True, True] and o["sql"].tolist() == [False, False, True, True]
    assert o["customer"].tolist() == [False, False, False, True] and not o["has_deals"].any()
    assert o["sql_known"].all()  # some lead stands at sql
    opps = pd.DataFrame({"lead_id": ["d", "d", "c"], "status": ["won", "won", "lost"], "amount": [100.0, 50.0, 9.0]})
    w = metrics.snapshot_outcomes(leads, opps).set_index("lead_id")
    assert w.loc["d", "won_deals"] == 2 and w.loc["d", "won_amount"] == 150.0 and w.loc["c", "lost_deals"] == 1
    assert w["customer"].tolist() == [False, False, False, True] and w["has_amounts"].all()
    unpriced = metrics.snapshot_outcomes(leads, opps.drop(columns="amount"))
    assert unpriced["won_amount"].isna().all() and not unpriced["has_amounts"].any()
