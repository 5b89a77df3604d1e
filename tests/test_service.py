"""Unit tests for step 06, ``salesaudit.steps.service`` (metrics · story · view): CSAT, NPS, repeat purchases,
referrals and customer value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from salesaudit.periods import parse_quarter
from salesaudit.steps import service as sv
from salesaudit.steps.service import metrics, story, view

T = pd.Timestamp
Q = parse_quarter("2026Q3")
Z90 = 1.6448536269514722


def test_nps_hand_computed():
    r = sv.nps_score([10, 9, 8, 7, 6, 0])
    assert r["nps"] == pytest.approx(0.0)
    assert (r["promoters"], r["passives"], r["detractors"], r["n"]) == (2, 2, 2, 6)
    r = sv.nps_score([10, 10, 9, 5])
    assert r["nps"] == pytest.approx(50.0)
    # Var = (p+ + p- − (p+ − p-)²)/n = (0.75 + 0.25 − 0.25)/4
    half = Z90 * 100 * np.sqrt(0.75 / 4)
    assert r["lo"] == pytest.approx(50 - half) and r["hi"] == pytest.approx(min(50 + half, 100))


def test_nps_edge_cases():
    assert sv.nps_score([10, 9, 10])["nps"] == 100 and sv.nps_score([10, 9, 10])["hi"] == 100
    assert np.isnan(sv.nps_score([])["nps"])
    assert sv.nps_score([np.nan, 3])["n"] == 1


@settings(max_examples=60, deadline=None)
@given(hst.lists(hst.integers(0, 10), min_size=1, max_size=200))
def test_nps_bounds(scores):
    r = sv.nps_score(scores)
    assert -100 <= r["lo"] <= r["nps"] <= r["hi"] <= 100
    assert r["promoters"] + r["passives"] + r["detractors"] == len(scores)


def test_nps_group_and_latest_answers():
    assert sv.nps_group(pd.Series([10, 9, 8, 7, 6, 0])).tolist() == [
        "promoter",
        "promoter",
        "passive",
        "passive",
        "detractor",
        "detractor",
    ]
    nps = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "answered_at": [T("2026-07-01"), T("2026-08-01"), T("2026-07-15")],
            "score": [2, 10, 9],
        }
    )
    latest = sv.latest_answers(nps, Q.start, Q.end).set_index("customer_id")["score"]
    assert latest.to_dict() == {"a": 10, "b": 9}
    assert sv.nps_trend(nps, [Q]).iloc[0]["nps"] == 100


def test_csat_share():
    r = sv.csat_share(pd.Series([5, 4, 3, 1, np.nan]))
    assert (r["k"], r["n"]) == (2, 4) and r["csat"] == pytest.approx(0.5)
    assert r["lo"] < 0.5 < r["hi"]


def test_ticket_stats_censor_open_tickets():
    o = T("2026-07-01")
    t = pd.DataFrame(
        {
            "ticket_id": ["1", "2", "3"],
            "customer_id": ["a", "b", "c"],
            "opened_at": [o, o, o],
            "first_response_at": [o + pd.Timedelta(hours=1), o + pd.Timedelta(hours=3), pd.NaT],
            "resolved_at": [o + pd.Timedelta(hours=10), pd.NaT, pd.NaT],
            "category": ["bug", "bug", "billing"],
            "csat": [5, np.nan, np.nan],
        }
    )
    s = sv.ticket_stats(t, Q.end)
    assert s["tickets"] == 3 and s["first_response_hours"] == pytest.approx(3.0)
    assert np.isnan(s["resolution_hours"])  # only 1 of 3 resolved: the median is not reached yet
    assert s["csat"] == 1.0 and s["rated"] == 1
    cats = sv.tickets_by_category(t, Q).set_index("category")
    assert cats.at["bug", "tickets"] == 2 and cats.at["all", "tickets"] == 3


def orders_frame():
    # cut-off 2026-10-01; cohort = first order in [2024-10-01, 2025-10-01)
    rows = [
        ("a", "2025-01-01", 100),
        ("a", "2025-06-01", 50),  # repeat within 12 months
        ("b", "2025-02-01", 200),
        ("b", "2026-03-01", 70),  # second order after 13 months: no
        ("c", "2025-03-01", 300),  # never again
        ("d", "2025-09-01", 80),
        ("d", "2025-09-20", 20),
        ("d", "2025-12-01", 10),
        ("e", "2026-02-01", 400),
        ("e", "2026-03-01", 40),  # too recent for the cohort
        ("f", "2023-01-01", 90),
        ("f", "2026-08-01", 60),  # existing customer, outside the cohort
    ]
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": [r[0] for r in rows],
            "ordered_at": pd.to_datetime([r[1] for r in rows]),
            "amount": [float(r[2]) for r in rows],
        }
    )


def test_repeat_purchase_rate_hand_computed():
    r = sv.repeat_purchase_rate(orders_frame(), Q.end)
    assert (r["k"], r["n"]) == (2, 4)  # a and d repeat; b (too late) and c do not; e, f outside the cohort
    assert r["rate"] == pytest.approx(0.5)
    assert r["cohort_start"] == Q.end - pd.Timedelta(days=730)


def test_time_to_second_purchase_and_existing_revenue():
    t2 = sv.time_to_second_purchase(orders_frame(), Q.end)
    assert t2["customers"] == 6
    # days to 2nd order: d 19, e 28, a 151, b 393, f 1308; c censored -> S = 5/6, 4/6, 3/6 -> median 151
    assert t2["median_days"] == pytest.approx(151.0)
    rev = sv.existing_customer_revenue(orders_frame(), [Q]).iloc[0]
    assert rev["revenue"] == 60 and rev["existing"] == 60 and rev["existing_share"] == 1.0


def test_repeat_by_csat_group():
    cohort = sv.repeat_cohort(orders_frame(), Q.end)
    tickets = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "opened_at": pd.to_datetime(["2025-02-01", "2025-03-01", "2025-03-01", "2026-09-01"]),
            "csat": [5.0, 4.0, 2.0, 5.0],
        }
    )  # c's ticket is > 12 months after its first order
    g = sv.customer_csat_group(tickets, cohort)
    assert dict(zip(cohort["customer_id"], g)) == {"a": "high", "b": "low", "c": "no rating", "d": "no rating"}
    t = sv.repeat_by_group(cohort, g)
    assert t["group"].tolist() == ["high", "low", "no rating"]
    assert t.set_index("group")["rate"].to_dict() == {"high": 1.0, "low": 0.0, "no rating": 0.5}
    gap = sv.group_gap(t, "high", "low")
    assert gap["gap"] == pytest.approx(1.0)
    assert np.isnan(sv.group_gap(t, "high", "promoter")["gap"])


def test_promoter_stock_follows_latest_answer():
    nps = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "answered_at": pd.to_datetime(["2026-01-15", "2026-03-10", "2026-02-01"]),
            "score": [10, 3, 9],
        }
    )
    months = pd.date_range("2026-01-01", "2026-05-01", freq="MS")
    s = sv.promoter_stock(nps, months)
    # Jan: none yet; Feb: a; Mar: a + b (b answered on Feb 1st); Apr: a became a detractor -> b only
    assert s.tolist() == [0, 1, 2, 1, 1]


def test_referrals_vs_promoters_recovers_slope():
    months = pd.date_range("2024-10-01", periods=24, freq="MS")
    promoters = np.arange(24) * 10  # 10 new promoters answer in the middle of each month, counted from the next
    nps = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(240)],
            "answered_at": np.repeat(months + pd.Timedelta(days=14), 10),
            "score": 10,
        }
    )
    stock = sv.promoter_stock(nps, months)
    assert stock.tolist() == promoters.tolist()
    refs = (5 + 0.25 * stock).round().astype(int)
    leads = pd.DataFrame(
        {
            "lead_id": [f"l{i}" for i in range(int(refs.sum()))],
            "channel": "referral",
            "created_at": np.repeat(months + pd.Timedelta(days=3), refs.to_numpy()),
        }
    )
    monthly, s = sv.referrals_vs_promoters(leads, nps, "referral", months[0], months[-1] + pd.DateOffset(months=1))
    assert monthly["referral_leads"].tolist() == refs.tolist()
    assert s["per_promoter_month"] == pytest.approx(0.25, abs=0.005)
    assert s["baseline"] == pytest.approx(5, abs=0.6)
    assert s["lo"] <= s["per_promoter_month"] <= s["hi"]


def test_value_by_channel_hand_computed():
    orders = orders_frame()
    leads = pd.DataFrame({"lead_id": list("abcdef"), "channel": ["ads", "ads", "organic", "ads", "ads", "organic"]})
    spend = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-01-01", "2025-06-01", "2024-01-01"]),
            "channel": "ads",
            "amount": [300.0, 300.0, 999.0],
        }
    )
    v = sv.value_by_channel(orders, leads, spend, Q.end, gross_margin=0.5).set_index("channel")
    # ads cohort: a (100 + 50), b (200; the 2026 order is after 12 months), d (80 + 20 + 10) -> mean 460/3
    assert v.at["ads", "customers"] == 3
    assert v.at["ads", "revenue_12m"] == pytest.approx(460 / 3)
    assert v.at["ads", "cac"] == pytest.approx(600 / 3)
    assert v.at["ads", "ltv_cac"] == pytest.approx(0.5 * 460 / 3 / 200)
    assert v.at["organic", "revenue_12m"] == 300 and np.isnan(v.at["organic", "ltv_cac"])
    assert sv.ltv_cac_finding(v.reset_index(), "EUR", 0.5) is None  # 3 customers: below the claim minimum
    f = sv.ltv_cac_finding(v.reset_index(), "EUR", 0.5, minimum=1)
    # revenue scale: the margin gap ÷ gross margin
    assert f["channel"] == "ads" and f["impact"] == pytest.approx((200 - 0.5 * 460 / 3) * 3 / 4 / 0.5)


def test_value_and_ticket_titles_claim_only_with_enough_cases():
    val = pd.DataFrame(
        {
            "channel": ["a", "b"],
            "customers": [5, 4],
            "revenue_12m": [900.0, 100.0],
            "revenue_lo": [500.0, 50.0],
            "revenue_hi": [1300.0, 150.0],
            "ltv_cac": [np.nan, np.nan],
        }
    )
    assert "stands out beyond the noise" in sv.value_title(val) and "n = 4 to n = 5" in sv.value_title(val)
    big = val.assign(customers=[50, 40])
    assert sv.value_title(big).startswith("a customers are worth most") and "n = 50" in sv.value_title(big)
    s = " ".join(sv.value_sentences(val, "EUR", 0.7))
    assert "worth the most" not in s and "n = 4" in s


def test_ltv_cac_paid_hand_computed():
    # two paid channels and one without spend: (LTV × customers) summed ÷ spend summed
    val = pd.DataFrame(
        {
            "channel": ["ads", "events", "organic"],
            "customers": [10, 5, 20],
            "revenue_12m": [200.0, 80.0, 180.0],
            "ltv": [100.0, 40.0, 90.0],  # gross margin 0.5
            "spend": [500.0, 400.0, np.nan],
            "cac": [50.0, 80.0, np.nan],
            "ltv_cac": [2.0, 0.5, np.nan],
        }
    )
    r = metrics.ltv_cac_paid(val)
    assert r.ratio == pytest.approx((100 * 10 + 40 * 5) / (500 + 400))  # = 1200 / 900 = 1.333…
    assert (r.ltv, r.spend, r.customers) == (1200.0, 900.0, 15)
    # = the spend-weighted mean of the channels' LTV:CAC: (500 × 2 + 400 × 0.5) / 900
    assert r.ratio == pytest.approx((500 * 2.0 + 400 * 0.5) / 900)
    unpaid = metrics.ltv_cac_paid(val.iloc[2:])
    assert unpaid.ratio is None and unpaid.customers == 0
    # 12-month revenue per customer over all channels: (200 × 10 + 80 × 5 + 180 × 20) / 35
    assert metrics.revenue_12m_per_customer(val) == pytest.approx(6000 / 35)
    assert metrics.revenue_12m_per_customer(val.iloc[0:0]) is None


def test_ltv_cac_paid_from_value_by_channel():
    leads = pd.DataFrame({"lead_id": list("abcdef"), "channel": ["ads", "ads", "organic", "ads", "ads", "organic"]})
    spend = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-06-01"]), "channel": "ads", "amount": 300.0})
    v = sv.value_by_channel(orders_frame(), leads, spend, Q.end, gross_margin=0.5)
    # ads: 3 customers, 12-month revenue 460 in all, LTV 0.5 × 460 = 230, spend 600 -> 230 / 600
    r = metrics.ltv_cac_paid(v)
    assert r.ratio == pytest.approx(230 / 600) and r.customers == 3
    # ads 460 over 3 customers, organic: c (300) -> (460 + 300) / 4
    assert metrics.revenue_12m_per_customer(v) == pytest.approx(190.0)
    figs = {f["name"]: f for f in story.value_figures(v, section="06#6")}
    assert figs["ltv_cac_paid"]["value"] == pytest.approx(230 / 600) and figs["ltv_cac_paid"]["n"] == 3
    assert (
        figs["revenue_12m_per_customer"]["value"] == pytest.approx(190.0) and figs["revenue_12m_per_customer"]["n"] == 4
    )
    assert story.value_findings(v, "EUR", 0.5, section="06#6") == []  # 3 customers: below the claim minimum


def test_repeat_drivers_with_and_without_tables():
    tickets = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "opened_at": pd.to_datetime(["2025-02-01", "2025-03-01"]),
            "csat": [5.0, 2.0],
        }
    )
    dr = metrics.repeat_drivers(orders_frame(), tickets, None, Q.end)
    assert dr.by_csat.set_index("group")["rate"].to_dict() == {"high": 1.0, "low": 0.0, "no rating": 0.5}
    assert dr.gap["gap"] == pytest.approx(1.0) and dr.by_nps is None and dr.gap_nps is None
    groups = metrics.combined_groups(dr.by_csat, dr.by_nps)
    assert groups["group"].tolist() == ["CSAT: high", "CSAT: low", "CSAT: no rating"]
    none = metrics.repeat_drivers(orders_frame(), tickets.iloc[0:0], None, Q.end)
    assert (
        none.by_csat is None
        and np.isnan(none.gap["gap"])
        and story.driver_findings(none, orders_frame(), 0.5, "s") == []
    )
    assert metrics.combined_groups(None, None).empty
    figs = {f["name"]: f for f in story.driver_figures(none.by_csat, none.gap, section="s")}
    assert figs["repeat_rate_high_csat"]["value"] is None and np.isnan(figs["repeat_gap_csat"]["value"])


def test_charts_are_figures_closed_in_pyplot():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    val = sv.value_by_channel(
        orders_frame(), pd.DataFrame({"lead_id": list("abcdef"), "channel": "ads"}), None, Q.end, 0.5
    )
    fig = view.fig_value(val, "EUR")
    assert isinstance(fig, Figure) and fig.number not in plt.get_fignums()
    assert fig.axes[0].get_title(loc="left") == story.value_title(val)


def test_package_re_exports_every_public_name():
    import salesaudit.service  # the 0.1 flat name

    for mod in (metrics, story, view):
        for name in mod.__all__:
            assert getattr(sv, name) is getattr(mod, name), name
    assert set(sv.__all__) == set(metrics.__all__) | set(story.__all__) | set(view.__all__)
    assert salesaudit.service is sv and salesaudit.service.nps_score is metrics.nps_score


def test_referrals_without_any_referral_lead_give_no_correlation_and_no_warning():
    """A slice without the referral channel has no referral lead in any month: the slope is 0 and the correlation
    is undefined (NaN), without numpy's divide-by-zero warning reaching the report."""
    import warnings

    svc = sv
    months = pd.date_range("2025-01-01", periods=8, freq="MS")
    leads = pd.DataFrame(
        {"lead_id": [f"L{i}" for i in range(8)], "channel": "paid_search", "created_at": months + pd.Timedelta(days=3)}
    )
    nps = pd.DataFrame(
        {
            "customer_id": [f"L{i}" for i in range(8)],
            "answered_at": months + pd.Timedelta(days=5),
            "score": [10, 9, 10, 7, 9, 10, 9, 10],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monthly, s = svc.referrals_vs_promoters(leads, nps, "referral", months[0], months[-1] + pd.DateOffset(months=1))
    assert s["referrals"] == 0 and np.isnan(s["correlation"]) and monthly["referral_leads"].sum() == 0
