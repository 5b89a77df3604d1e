"""Unit tests for salesaudit.steps.tools.engagement: e-mail stream rates and manual-work metrics, on hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from salesaudit import text
from salesaudit.periods import parse_quarter
from salesaudit.steps.tools import engagement as eg

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
