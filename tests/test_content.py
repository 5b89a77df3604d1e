"""Unit tests for step 02, ``salesaudit.steps.tools`` (metrics · story · view): Mantel–Haenszel lifts, exposure
windows, ranking and freshness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from salesaudit.periods import parse_quarter
from salesaudit.report import record as rec
from salesaudit.steps import tools as ct
from salesaudit.steps.tools import metrics, story, view

T = pd.Timestamp
Q = parse_quarter("2026Q3")


def table(rows):
    return pd.DataFrame(rows, columns=["content_id", "stratum", "k1", "n1", "k0", "n0"])


def test_mh_risk_difference_one_stratum_is_the_crude_difference():
    r = ct.mh_risk_difference(table([("a", "s", 30, 100, 20, 100)])).iloc[0]
    assert r["rd"] == pytest.approx(0.10)
    # one stratum: Sato's variance equals the Wald variance p1(1-p1)/n1 + p0(1-p0)/n0 up to O(1/n²)
    wald = np.sqrt(0.3 * 0.7 / 100 + 0.2 * 0.8 / 100)
    assert r["se"] == pytest.approx(wald, rel=0.05)
    assert r["lo"] < 0.10 < r["hi"]


def test_mh_risk_difference_adjusts_for_strata():
    # Within each stratum the touched convert exactly as the untouched (RD 0), but the asset is mostly
    # touched in the high-converting stratum: crude difference is positive, the adjusted one is 0.
    rows = [("a", "hi", 48, 60, 24, 30), ("a", "lo", 4, 40, 7, 70)]
    r = ct.mh_risk_difference(table(rows)).iloc[0]
    crude = (48 + 4) / 100 - (24 + 7) / 100
    assert crude > 0.15
    assert r["rd"] == pytest.approx(0.0, abs=1e-12)
    # hand computation with a real effect: RD_MH = Σ (k1 n0 − k0 n1)/N ÷ Σ n1 n0/N
    rows = [("b", "hi", 54, 60, 24, 30), ("b", "lo", 8, 40, 7, 70)]
    num = (54 * 30 - 24 * 60) / 90 + (8 * 70 - 7 * 40) / 110
    den = 60 * 30 / 90 + 40 * 70 / 110
    assert ct.mh_risk_difference(table(rows)).iloc[0]["rd"] == pytest.approx(num / den)


def test_mh_strata_without_contrast_carry_no_weight():
    r = ct.mh_risk_difference(table([("a", "s1", 5, 10, 0, 0), ("a", "s2", 0, 0, 3, 10)])).iloc[0]
    assert np.isnan(r["rd"]) and r["weight"] == 0


def test_mh_odds_ratio_one_stratum():
    r = ct.mh_odds_ratio(table([("a", "s", 30, 100, 20, 100)])).iloc[0]
    assert r["or"] == pytest.approx((30 * 80) / (70 * 20))
    # one stratum: RGB variance = 1/a + 1/b + 1/c + 1/d (Woolf)
    se = np.sqrt(1 / 30 + 1 / 70 + 1 / 20 + 1 / 80)
    assert np.log(r["or_hi"] / r["or"]) == pytest.approx(1.6448536 * se, rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(
    hst.lists(
        hst.tuples(hst.integers(1, 60), hst.integers(1, 60), hst.floats(0, 1), hst.floats(0, 1)), min_size=1, max_size=6
    )
)
def test_mh_risk_difference_lies_between_stratum_differences(strata):
    rows = [("a", f"s{i}", int(p1 * n1), n1, int(p0 * n0), n0) for i, (n1, n0, p1, p0) in enumerate(strata)]
    t = table(rows)
    d = t["k1"] / t["n1"] - t["k0"] / t["n0"]
    r = ct.mh_risk_difference(t).iloc[0]
    assert d.min() - 1e-9 <= r["rd"] <= d.max() + 1e-9
    assert -1 <= r["lo"] <= r["rd"] + 1e-12 and r["rd"] - 1e-12 <= r["hi"] <= 1


def tiny_leads():
    m = T("2025-01-10")
    return pd.DataFrame(
        {
            "lead_id": ["l1", "l2", "l3", "l4", "l5"],
            "channel": ["web"] * 5,
            "created_at": [m - pd.Timedelta(days=5)] * 5,
            "mql_at": [m, m, m, m, T("2026-09-01")],  # l5 is not mature at the cut-off
            "sql_at": [
                m + pd.Timedelta(days=10),
                m + pd.Timedelta(days=20),
                pd.NaT,
                m + pd.Timedelta(days=200),
                pd.NaT,
            ],
            "customer_at": [pd.NaT] * 5,
        }
    )


def test_stage_cohort_maturity_and_window():
    c = ct.stage_cohort(tiny_leads(), "mql_sql", Q.end).set_index("lead_id")
    assert "l5" not in c.index  # window not complete by the cut-off
    assert c.at["l1", "converted"] and c.at["l2", "converted"]
    assert not c.at["l4", "converted"]  # SQL after the 90-day window counts as not converted
    assert c.at["l4", "horizon"] == T("2025-01-10") + pd.Timedelta(days=90)


def test_exposures_count_only_touches_at_the_stage_before_the_outcome():
    c = ct.stage_cohort(tiny_leads(), "mql_sql", Q.end)
    m = T("2025-01-10")
    touches = pd.DataFrame(
        {
            "lead_id": ["l1", "l1", "l2", "l3", "l3", "l4"],
            "content_id": ["A", "A", "A", "A", "B", "B"],
            "touched_at": [
                m + pd.Timedelta(days=1),
                m + pd.Timedelta(days=2),  # l1 twice: one exposure
                m + pd.Timedelta(days=25),  # l2 after its SQL: not counted
                m - pd.Timedelta(days=1),  # l3 before MQL: not counted
                m + pd.Timedelta(days=30),
                m + pd.Timedelta(days=100),
            ],  # l4 after the window: not counted
        }
    )
    e = ct.exposures(c, touches)
    assert sorted(map(tuple, e[["lead_id", "content_id"]].to_numpy())) == [("l1", "A"), ("l3", "B")]


def simulated(n=4000, seed=1):
    """Two channels with different conversion; asset A lifts MQL→SQL by 20 pp, B does nothing, and B is
    mostly read in the better channel (so its crude lift is positive)."""
    rng = np.random.default_rng(seed)
    ch = rng.choice(["good", "bad"], n)
    base = np.where(ch == "good", 0.5, 0.2)
    a = rng.random(n) < 0.3
    b = rng.random(n) < np.where(ch == "good", 0.5, 0.05)
    conv = rng.random(n) < base + 0.2 * a
    mql = T("2025-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    leads = pd.DataFrame(
        {
            "lead_id": [f"l{i}" for i in range(n)],
            "channel": ch,
            "mql_at": mql,
            "sql_at": pd.Series(mql + pd.Timedelta(days=20)).where(conv),
            "customer_at": pd.NaT,
        }
    )
    touches = pd.concat(
        [
            pd.DataFrame(
                {"lead_id": leads["lead_id"][a], "content_id": "A", "touched_at": mql[a] + pd.Timedelta(days=5)}
            ),
            pd.DataFrame(
                {"lead_id": leads["lead_id"][b], "content_id": "B", "touched_at": mql[b] + pd.Timedelta(days=5)}
            ),
        ]
    )
    return leads, touches


def test_content_lift_recovers_effect_and_removes_channel_confounding():
    leads, touches = simulated()
    lift = ct.content_lift(leads, touches, "mql_sql", Q.end).set_index("content_id")
    assert lift.at["A", "lift_lo"] < 0.2 < lift.at["A", "lift_hi"]
    assert lift.at["B", "rate_touched"] - lift.at["B", "rate_untouched"] > 0.1  # confounded crude gap
    assert lift.at["B", "lift_lo"] < 0 < lift.at["B", "lift_hi"]  # adjusted: no effect
    assert lift.at["A", "or"] > 1.5


def test_content_ranking_and_verdicts():
    leads, touches = simulated()
    l1 = ct.content_lift(leads, touches, "mql_sql", Q.end)
    l2 = ct.content_lift(leads, touches, "sql_customer", Q.end)
    content = pd.DataFrame({"content_id": ["A", "B", "C"], "title": ["Asset A", "Asset B", "Never read"], "type": "x"})
    r = ct.content_ranking(l1, l2, content)
    assert r["content_id"].tolist() == ["A", "B", "C"]
    assert r.set_index("content_id")["verdict"].to_dict() == {
        "A": "helps",
        "B": "no evidence it helps",
        "C": "no evidence it helps",
    }
    text = " ".join(ct.content_sentences(r))
    assert "**Asset A** helps" in text and "Never read" in text
    assert len(ct.ranking_table(r)) == 3


def test_content_freshness_flags_stale_assets():
    content = pd.DataFrame(
        {
            "content_id": ["A", "B", "C", "D"],
            "title": ["a", "b", "c", "d"],
            "type": "x",
            "published_at": [T("2020-01-01"), T("2020-01-01"), T("2026-01-01"), pd.NaT],
            "updated_at": [T("2026-06-01"), pd.NaT, pd.NaT, pd.NaT],
        }
    )
    touches = pd.DataFrame(
        {
            "lead_id": ["1", "2", "3", "4"],
            "content_id": ["B", "B", "A", "B"],
            "touched_at": [T("2026-07-05"), T("2026-08-05"), T("2026-08-06"), T("2025-01-01")],
        }
    )
    f = ct.content_freshness(content, touches, Q, stale_days=365).set_index("content_id")
    assert f["stale"].to_dict() == {"A": False, "B": True, "C": False, "D": False}
    assert f.at["B", "touches"] == 2 and f.at["B", "share"] == pytest.approx(2 / 3)
    assert f.at["A", "age_days"] == pytest.approx((Q.end - T("2026-06-01")).days)
    s = ct.stale_summary(f.reset_index(), 365)
    assert s["stale_assets"] == 1 and s["stale_share"] == pytest.approx(2 / 3)
    assert ct.content_freshness(content, touches, Q, stale_days=5000)["stale"].sum() == 0


# --------------------------------------------------------------------------------------------------
# what notebook 02 used to compute inline: judged assets, verdict counts, titles and recorded figures
# --------------------------------------------------------------------------------------------------
def ranked():
    leads, touches = simulated()
    l1 = ct.content_lift(leads, touches, "mql_sql", Q.end)
    l2 = ct.content_lift(leads, touches, "sql_customer", Q.end)
    content = pd.DataFrame({"content_id": ["A", "B", "C"], "title": ["Asset A", "Asset B", "Never read"], "type": "x"})
    return ct.content_ranking(l1, l2, content)


def test_content_verdicts_and_judged_assets():
    r = ranked()
    v = metrics.content_verdicts(r)
    assert v == {"assets": 3, "helpful": 1, "unhelpful": 2, "ranking": ["A", "B", "C"], "helpful_ids": ["A"]}
    assert metrics.judged_assets(r)["content_id"].tolist() == ["A", "B"]  # nobody read C: no lift to show
    assert story.content_title(r) == "1 of 3 assets lift conversion; the rest show no lift beyond the noise"


def test_content_figures():
    r = ranked()
    figs = story.content_figures(r, "02_tools_and_content#2")
    p = rec.figure("helpful_content_assets", **figs["helpful_content_assets"])
    assert (p["value"], p["n"], p["unit"], p["higher_is_better"]) == (1, 3, "count", True)
    p = rec.figure("unhelpful_content_assets", **figs["unhelpful_content_assets"])
    assert (p["value"], p["n"], p["higher_is_better"]) == (2, 3, False)
    p = rec.figure("best_content_lift", **figs["best_content_lift"])
    assert p["label"] == "Largest content lift (pp): Asset A" and p["unit"] == "%"
    assert p["value"] == pytest.approx(r.iloc[0]["best_lift"]) and p["n"] == r.iloc[0]["mql_sql_touched"]
    assert p["content_ranking"] == ["A", "B", "C"] and p["helpful_ids"] == ["A"]


def test_content_findings():
    assert story.content_findings(None, "s") == []
    imp = {"name": "Guide", "lift": 0.1, "touched": 1200, "reach": 40, "impact": 5000.0}
    assert story.content_findings(imp | {"impact": 0.0}, "s") == []
    (f,) = story.content_findings(imp, "02_tools_and_content#2")
    assert f.slug == "content_best_asset" and f.impact == 5000.0 and f.section == "02_tools_and_content#2"
    assert f.text == (
        "Leads who read 'Guide' reach SQL +10.0 pp more often than comparable leads (n = 1,200 touched); "
        "only 40 of this quarter's MQLs touched it."
    )
    assert "'Guide' into the nurture stream" in f.recommendation and f.basis.startswith("revenue per quarter =")


def freshness_example():
    content = pd.DataFrame(
        {
            "content_id": ["A", "B", "C"],
            "title": ["a", "b", "c"],
            "type": "x",
            "published_at": [T("2026-01-01"), T("2020-01-01"), T("2020-01-01")],
        }
    )
    # this quarter: B (stale) touched twice, A once; C (stale) not at all
    touches = pd.DataFrame(
        {
            "lead_id": ["1", "2", "3"],
            "content_id": ["B", "B", "A"],
            "touched_at": [T("2026-07-05"), T("2026-08-05"), T("2026-08-06")],
        }
    )
    fresh = ct.content_freshness(content, touches, Q, stale_days=365)
    return fresh, ct.stale_summary(fresh, 365)


def test_freshness_figures_and_title():
    fresh, summ = freshness_example()
    figs = story.freshness_figures(fresh, summ, "02_tools_and_content#3")
    p = rec.figure("stale_content_assets", **figs["stale_content_assets"])
    assert (p["value"], p["n"], p["label"]) == (2, 3, "Content assets not updated for > 365 days")
    assert sorted(p["stale_ids"]) == ["B", "C"]
    p = rec.figure("stale_content_touch_share", **figs["stale_content_touch_share"])
    assert p["value"] == pytest.approx(2 / 3) and p["n"] == 3 and p["lo"] < 2 / 3 < p["hi"]
    assert story.freshness_title(summ, "2026Q3") == "2 stale asset(s) still draw 66.7% of this quarter's touches"
    quiet = ct.stale_summary(fresh.assign(touches=0), 365)
    assert story.freshness_title(quiet, "2026Q3") == "2 stale asset(s); no content touches in 2026Q3"
    assert story.freshness_figures(fresh, quiet, "s")["stale_content_touch_share"]["value"] is None


def test_content_charts_are_returned_not_left_in_pyplot():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fresh, summ = freshness_example()
    before = plt.get_fignums()
    lift, bars = view.fig_content_lift(ranked()), view.fig_freshness(fresh, summ, "2026Q3")
    assert isinstance(lift, Figure) and isinstance(bars, Figure) and plt.get_fignums() == before
    assert [t.get_text() for t in lift.axes[0].get_yticklabels()] == ["Asset A", "Asset B"]
    assert bars.axes[0].get_title(loc="left") == "2 stale asset(s) still draw 66.7% of this quarter's touches"
