"""Unit tests for step 02, ``salesaudit.steps.tools`` (metrics · story · view): e-mail stream rates and manual-work
metrics, on hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from salesaudit import text
from salesaudit.periods import parse_quarter
from salesaudit.report import record as rec
from salesaudit.steps import tools as eg
from salesaudit.steps.tools import metrics, story, view

Q = parse_quarter("2026Q3")
T = pd.Timestamp


def sends(rows):
    cols = ["send_id", "stream", "sent_at", "recipients", "delivered", "opens", "clicks", "unsubscribes"]
    return pd.DataFrame(rows, columns=cols)


def test_email_rates_pool_over_sends():
    # newsletter: 2 sends, delivered 900 + 100 = 1000, opens 300 + 20 = 320, clicks 30 + 2 = 32, unsubs 3 + 1 = 4
    df = sends(
        [
            ("s1", "newsletter", T("2026-07-01"), 1000, 900, 300, 30, 3),
            ("s2", "newsletter", T("2026-08-01"), 100, 100, 20, 2, 1),
            ("s3", "promo", T("2026-08-01"), 500, 500, 50, 1, 5),
        ]
    )
    r = eg.email_rates(df).set_index("stream")
    assert r.at["newsletter", "open_rate"] == pytest.approx(320 / 1000)
    assert r.at["newsletter", "click_rate"] == pytest.approx(32 / 1000)
    assert r.at["newsletter", "click_to_open"] == pytest.approx(32 / 320)
    assert r.at["newsletter", "unsubscribe_rate"] == pytest.approx(4 / 1000)
    assert r.at["promo", "click_to_open"] == pytest.approx(1 / 50)
    assert r.at["newsletter", "click_to_open_lo"] < 0.1 < r.at["newsletter", "click_to_open_hi"]


def test_email_rates_fall_back_to_recipients_without_delivered():
    df = sends([("s1", "a", T("2026-07-01"), 200, None, 50, 10, None)]).drop(columns=["delivered", "unsubscribes"])
    r = eg.email_rates(df).iloc[0]
    assert r["open_rate"] == pytest.approx(0.25)
    assert r["click_rate"] == pytest.approx(0.05)
    assert r["click_to_open"] == pytest.approx(0.2)
    assert r["unsubscribe_rate"] == 0


def test_stream_scorecard_flags_lagging_stream_and_change():
    rows = []
    for i, (s, clicks) in enumerate([("good", 800), ("mid", 400), ("bad", 50)]):
        rows.append((f"n{i}", s, T("2026-08-01"), 10000, 10000, 3000, clicks, 5))
        rows.append((f"p{i}", s, T("2026-05-01"), 10000, 10000, 3000, 400, 5))
    card = eg.stream_scorecard(sends(rows), Q).set_index("stream")
    assert list(card.index) == ["good", "mid", "bad"]
    assert card.at["bad", "verdict"] == "lags" and card.at["good", "verdict"] == "leads"
    assert card.at["good", "click_rate_change"] == pytest.approx(0.08 - 0.04)
    assert card.at["good", "click_rate_change_lo"] > 0
    assert card.at["mid", "click_rate_change_lo"] < 0 < card.at["mid", "click_rate_change_hi"]
    sentences = " ".join(eg.email_sentences(card.reset_index()))
    assert "**good** engages best" in sentences and "**bad**" in sentences


@settings(max_examples=40, deadline=None)
@given(hst.lists(hst.tuples(hst.integers(0, 500), hst.floats(0, 1), hst.floats(0, 1)), min_size=1, max_size=8))
def test_email_rates_are_shares(rows):
    recs = [r for r, _, _ in rows]
    opens = [int(r * a) for r, a, _ in rows]
    clicks = [int(o * b) for o, (_, _, b) in zip(opens, rows)]
    df = sends(
        [
            (f"s{i}", "x" if i % 2 else "y", T("2026-07-01"), recs[i], recs[i], opens[i], clicks[i], 0)
            for i in range(len(rows))
        ]
    )
    r = eg.email_rates(df)
    for name in eg.EMAIL_RATES:
        ok = r[name].notna()
        v, lo, hi = r.loc[ok, name], r.loc[ok, f"{name}_lo"], r.loc[ok, f"{name}_hi"]
        assert ((v >= 0) & (v <= 1)).all()
        assert ((lo <= v + 1e-12) & (v <= hi + 1e-12)).all()


def opps_and_acts():
    opps = pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3"],
            "lead_id": ["l1", "l2", "l3"],
            "status": ["won", "won", "won"],
            "closed_at": [T("2026-07-10"), T("2026-08-10"), T("2026-04-10")],  # o3 closed last quarter
        }
    )
    acts = pd.DataFrame(
        {
            "activity_id": ["a1", "a2", "a3", "a4", "a5", "a6"],
            "type": ["call", "call", "email", "meeting", "call", "call"],
            "occurred_at": [
                T("2026-07-01"),
                T("2026-07-02"),
                T("2026-07-03"),
                T("2026-08-01"),
                T("2026-09-01"),
                T("2026-04-01"),
            ],
            "opportunity_id": ["o1", None, "o1", "o2", None, "o3"],
            "lead_id": ["l1", "l1", "l1", "l2", "l2", "l3"],
        }
    )
    return opps, acts


def test_activities_per_won_deal_hand_computed():
    opps, acts = opps_and_acts()
    t = eg.activities_per_won_deal(acts, opps, Q).set_index("type")
    # o1: a1 (opp + lead, counted once), a2 (lead, before close), a3 -> 2 calls, 1 email
    # o2: a4 meeting; a5 is on the lead *after* the close -> not counted
    assert t.at["call", "per_deal"] == pytest.approx(1.0)
    assert t.at["email", "per_deal"] == pytest.approx(0.5)
    assert t.at["meeting", "per_deal"] == pytest.approx(0.5)
    assert t.at["total", "per_deal"] == pytest.approx(2.0)
    assert t.at["total", "deals"] == 2 and t.at["total", "activities"] == 4


def test_activities_per_won_deal_without_wins():
    opps, acts = opps_and_acts()
    t = eg.activities_per_won_deal(acts, opps, parse_quarter("2025Q1"))
    assert t["per_deal"].isna().all() and (t["deals"] == 0).all()


def test_first_contact_speed_and_never_contacted():
    base = T("2026-07-01")
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d", "e"],
            "created_at": [base, base, base, base, T("2026-09-29")],
            # a: 2 h, b: 10 h, c: 20 days (late), d: never, e: too young to judge, not contacted yet
            "first_contact_at": [
                base + pd.Timedelta(hours=2),
                base + pd.Timedelta(hours=10),
                base + pd.Timedelta(days=20),
                pd.NaT,
                pd.NaT,
            ],
        }
    )
    r = eg.first_contact(leads, Q)
    assert r["leads"] == 5 and r["contacted"] == 3
    assert r["never_base"] == 4 and r["never_contacted"] == 2  # c (after 14 days) and d
    assert r["never_rate"] == pytest.approx(0.5)
    # Kaplan–Meier: S = 4/5 after 2 h, 3/5 after 10 h; e is censored at 2 days; at 20 days one of the two
    # still at risk (c, d) is contacted -> S = 3/5 × 1/2 = 0.3, so the median is 20 days = 480 h
    # (dropping the uncontacted leads would have given 10 h)
    assert r["median_hours"] == pytest.approx(480.0)
    assert r["within_1_day"] == pytest.approx(2 / 5)


def test_first_contact_ignores_contacts_after_the_cutoff():
    leads = pd.DataFrame({"lead_id": ["a"], "created_at": [T("2026-07-01")], "first_contact_at": [T("2026-10-05")]})
    r = eg.first_contact(leads, Q)
    assert r["contacted"] == 0 and r["never_contacted"] == 1


def test_never_contacted_impact():
    created = pd.date_range("2025-06-01", periods=400, freq="D")[:200]
    contacted = np.arange(200) % 2 == 0
    won = contacted & (np.arange(200) % 4 == 0)  # half of contacted leads win, none of the uncontacted
    leads = pd.DataFrame(
        {
            "lead_id": [f"l{i}" for i in range(200)],
            "created_at": created,
            "first_contact_at": pd.Series(created + pd.Timedelta(hours=3)).where(contacted),
            "customer_at": pd.Series(created + pd.Timedelta(days=30)).where(won),
        }
    )
    imp = eg.never_contacted_impact(leads, Q, never=10, deal_value=1000.0)
    assert imp["rate_contacted"] == pytest.approx(0.5) and imp["rate_never"] == 0
    assert imp["impact"] == pytest.approx(10 * 0.5 * 1000)


def test_fmt_ci():
    s = text.fmt_ci(pd.Series([0.123, np.nan]), pd.Series([0.1, np.nan]), pd.Series([0.15, np.nan]))
    assert s.tolist() == ["12.3% (10.0–15.0)", "n/a"]
    assert (
        text.fmt_ci(pd.Series([0.01]), pd.Series([-0.02]), pd.Series([0.03]), suffix=" pp").iloc[0]
        == "1.0 pp (−2.0 to 3.0)"
    )


# --------------------------------------------------------------------------------------------------
# what notebook 02 used to compute inline: pooled e-mail rates, the quarter's rows, the recorded figures
# --------------------------------------------------------------------------------------------------
def hand_sends():
    # this quarter: a delivers 900, opens 300, clicks 30; b delivers 100, opens 20, clicks 10; 2026Q2: one send of a
    return sends(
        [
            ("s1", "a", T("2026-07-01"), 1000, 900, 300, 30, 3),
            ("s2", "b", T("2026-08-01"), 100, 100, 20, 10, 1),
            ("s3", "a", T("2026-05-01"), 500, 500, 100, 5, 0),
        ]
    )


def test_email_totals_pool_over_all_streams():
    t = metrics.email_totals(metrics.stream_scorecard(hand_sends(), Q))
    # clicks 30 + 10 = 40, opens 300 + 20 = 320, delivered 900 + 100 = 1000
    assert (t["streams"], t["delivered"], t["opens"], t["clicks"]) == (2, 1000, 320, 40)
    assert t["click_rate"] == pytest.approx(40 / 1000)
    assert t["open_rate"] == pytest.approx(320 / 1000)
    assert t["click_to_open"] == pytest.approx(40 / 320)
    for name in ("click_rate", "open_rate", "click_to_open"):
        assert t[f"{name}_lo"] < t[name] < t[f"{name}_hi"], name
    # the Wilson interval of 40 / 1000, z = 1.645: (p + z²/2n ± z·√(p(1 − p)/n + z²/4n²)) / (1 + z²/n)
    assert (t["click_rate_lo"], t["click_rate_hi"]) == pytest.approx((0.0310, 0.0515), abs=2e-4)
    # a's click rate 30 / 900 = 3.3% is below b's 10 / 100 = 10% beyond the noise (−6.7 pp ± 5.0 pp): a lags
    assert t["lagging"] == 1


def test_email_totals_without_opens_has_no_click_to_open():
    card = pd.DataFrame({"stream": ["a"], "base": [50.0], "opens": [0], "clicks": [0], "verdict": ["lags"]})
    t = metrics.email_totals(card)
    assert t["click_rate"] == 0 and t["open_rate"] == 0 and np.isnan(t["click_to_open"]) and t["lagging"] == 1
    figs = story.email_figures(t, "02_tools_and_content#1")
    assert rec.figure("email_click_to_open", **figs["email_click_to_open"])["value"] is None


def test_email_figures_are_what_the_registry_expects():
    t = metrics.email_totals(metrics.stream_scorecard(hand_sends(), Q))
    figs = story.email_figures(t, "02_tools_and_content#1")
    assert set(figs) == {"email_click_rate", "email_open_rate", "email_click_to_open", "lagging_streams"}
    p = rec.figure("email_click_to_open", **figs["email_click_to_open"])
    assert p["value"] == pytest.approx(0.125) and p["n"] == 320 and p["unit"] == "%"
    assert p["label"] == "E-mail click-to-open rate" and p["higher_is_better"] is True
    p = rec.figure("email_click_rate", **figs["email_click_rate"])
    assert p["value"] == pytest.approx(0.04) and p["n"] == 1000 and p["lo"] < 0.04 < p["hi"]
    p = rec.figure("lagging_streams", **figs["lagging_streams"])
    assert (p["value"], p["n"], p["higher_is_better"]) == (1, 2, False)  # a lags (see above)


def test_email_by_quarter_keeps_the_given_quarters():
    t = metrics.email_by_quarter(hand_sends())
    assert sorted(set(t["quarter"])) == ["2026Q2", "2026Q3"]
    t = metrics.email_by_quarter(hand_sends(), quarters=[Q])
    assert t[["stream", "quarter"]].values.tolist() == [["a", "2026Q3"], ["b", "2026Q3"]]
    assert t.set_index("stream").at["b", "click_rate"] == pytest.approx(0.1)


def test_activities_of_a_quarter_and_their_figure():
    opps, acts = opps_and_acts()
    trend = metrics.activities_trend(acts, opps, [Q.previous(), Q])
    now = metrics.activities_in(trend, "2026Q3")
    assert set(now["quarter"]) == {"2026Q3"} and metrics.activities_in(None, "2026Q3") is None
    figs = story.activities_figures(trend, "2026Q3", "02_tools_and_content#4")
    p = rec.figure("activities_per_won_deal", **figs["activities_per_won_deal"])
    assert p["value"] == pytest.approx(2.0) and p["n"] == 2  # 4 activities on 2 deals (see above)
    # 2026Q2: o3 with one call
    assert story.activities_figures(trend, "2026Q2", "s")["activities_per_won_deal"]["value"] == pytest.approx(1.0)
    empty = metrics.activities_trend(acts, opps, [parse_quarter("2025Q1")])
    assert story.activities_figures(empty, "2025Q1", "s")["activities_per_won_deal"]["value"] is None
    s = " ".join(story.manual_work_sentences(now, metrics.activities_in(trend, "2026Q2"), None))
    assert "2.0 logged activities" in s and "(last quarter 1.0)" in s and "**call**" in s


def test_contact_figures_and_finding():
    base = T("2026-07-01")
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d"],
            "created_at": [base] * 4,
            "first_contact_at": [base + pd.Timedelta(hours=2), base + pd.Timedelta(hours=10), pd.NaT, pd.NaT],
        }
    )
    contact = metrics.first_contact_trend(leads, [Q])
    figs = story.contact_figures(contact, "02_tools_and_content#4")
    p = rec.figure("never_contacted_rate", **figs["never_contacted_rate"])
    assert p["value"] == pytest.approx(0.5) and p["n"] == 4 and p["label"] == "Leads not contacted within 14 days"
    p = rec.figure("speed_to_first_contact_hours", **figs["speed_to_first_contact_hours"])
    assert p["value"] == pytest.approx(10.0) and p["n"] == 4  # S = 3/4 after 2 h, 1/2 after 10 h
    imp = {"never": 2, "rate_contacted": 0.2, "rate_never": 0.05, "n_contacted": 400, "n_never": 100}
    assert story.contact_findings(imp | {"impact": 3000.0, "claimable": False}, "s") == []
    assert story.contact_findings(imp | {"impact": 0.0, "claimable": True}, "s") == []
    (f,) = story.contact_findings(imp | {"impact": 3000.0, "claimable": True}, "s")
    assert f.slug == "never_contacted_leads" and f.impact == 3000.0 and f.section == "s"
    assert f.text.startswith("2 of this quarter's leads were never contacted within 14 days")
    assert "20.0% (n = 400)" in f.text and f.basis.startswith("revenue per quarter =")


def test_charts_are_returned_not_left_in_pyplot():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    opps, acts = opps_and_acts()
    card = metrics.stream_scorecard(hand_sends(), Q)
    leads = pd.DataFrame({"lead_id": ["a"], "created_at": [T("2026-07-01")], "first_contact_at": [T("2026-07-02")]})
    before = plt.get_fignums()
    figs = [
        view.fig_streams(card, metrics.email_by_quarter(hand_sends()), "2026Q3"),
        view.fig_manual_work(metrics.activities_trend(acts, opps, [Q]), None, "2026Q3", "2026Q2"),
        view.fig_manual_work(None, metrics.first_contact_trend(leads, [Q]), "2026Q3", "2026Q2"),
    ]
    assert all(isinstance(f, Figure) for f in figs) and plt.get_fignums() == before
    assert len(figs[1].axes) == 1 and len(figs[2].axes) == 2  # one panel; the contact panel has a right axis
