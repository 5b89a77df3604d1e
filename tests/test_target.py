"""Step 07's plan from a revenue target (``salesaudit.steps.planning.target``): the reverse funnel, the inverse
of the spend→leads curves (an unreachable channel included), the reps by step 05's rule, and the planner inputs.

The hand-computed company: paid channel A on a Hill curve (vmax 100 leads a month, k 2,000, h 1), paid channel
B at a constant 50 per lead, unpaid channel U at 10 leads a month; no seasonality; every stage converts 50%
(lead→customer 12.5%) and every customer pays 1,000. This quarter A spent 6,000 (2,000 a month → 50 leads a
month → 150 leads → 18.75 customers → 18,750) and B 3,000 (60 leads → 7,500); U brings 30 leads → 3,750.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from salesaudit import capacity
from salesaudit.data import io
from salesaudit.periods import parse_quarter
from salesaudit.steps.planning import metrics, story, target, view
from salesaudit.steps.planning.metrics import PlanModel, ResponseFit

D = 4


def _fit(ch: str, method: str, params) -> ResponseFit:
    return ResponseFit(ch, method, 12, 0.3, 1000.0, 3000.0, np.asarray(params, float), None, 100.0)


def _model(n_reps: int = 1) -> PlanModel:
    channels = ["A", "B", "U"]
    return PlanModel(
        channels=channels,
        paid=["A", "B"],
        fits={"A": _fit("A", "hill", np.log([100.0, 2000.0, 1.0])), "B": _fit("B", "cost_per_lead", [50.0])},
        rates=pd.DataFrame(),
        deals=pd.DataFrame({"mean": [1000.0] * 3}, index=pd.Index(channels, name="channel")),
        season=pd.Series(1.0, index=pd.RangeIndex(1, 13, name="month")),
        next_months=list(pd.date_range("2026-10-01", periods=3, freq="MS")),
        current_spend=pd.Series({"A": 6000.0, "B": 3000.0}),
        unpaid_monthly=pd.Series({"U": 10.0}),
        gross_margin=0.7,
        roi_target=1.5,
        currency="EUR",
        rep_capacity=50.0,
        n_reps=n_reps,
        seed=1,
        forecast_monthly=80.0,
        mult=np.ones((D, 3)),
        curve_draws={},
        rate_draws=np.full((D, 3, 3), 0.5),
        deal_draws=np.full((D, 3), 1000.0),
    )


def test_hill_inverse_undoes_the_curve_and_is_infinite_beyond_vmax():
    s = np.array([10.0, 500.0, 2000.0, 9000.0])
    for h in (0.5, 1.0, 2.3):
        y = metrics.hill(s, 80.0, 1500.0, h)
        assert target.hill_inverse(y, 80.0, 1500.0, h) == pytest.approx(s)
    assert target.hill_inverse(50.0, 100.0, 2000.0, 1.0) == pytest.approx(2000.0)
    assert target.hill_inverse(0.0, 100.0, 2000.0, 1.0) == 0.0
    assert np.isinf(target.hill_inverse([100.0, 250.0], 100.0, 2000.0, 1.0)).all()


def test_spend_for_leads_inverts_step_07s_forecast():
    m = _model()
    # A: 180 leads a quarter = 60 a month → 2,000 × 60 / 40 = 3,000 a month = 9,000 a quarter
    assert float(target.spend_for_leads(m.fits["A"], 180.0, 3.0)) == pytest.approx(9000.0)
    assert float(target.spend_for_leads(m.fits["B"], 72.0, 3.0)) == pytest.approx(3600.0)  # 72 leads × 50
    lam = metrics.expected_leads(m, {"A": 9000.0, "B": 3600.0}, draws=False)  # and back through the forecast
    assert lam[:2] == pytest.approx([180.0, 72.0])


def test_reverse_funnel_by_hand():
    m = _model()
    # target 35,250 = U's 3,750 + 1.2 × the paid channels' 26,250 (A 18,750 : B 7,500)
    plan = target.target_plan(m, 35_250.0, "2026Q4")
    t = plan.table
    assert plan.unpaid_revenue == pytest.approx(3750.0) and plan.gap == pytest.approx(31_500.0)
    a, b, u = t.loc["A"], t.loc["B"], t.loc["U"]
    assert (a["revenue"], a["customers"], a["sql"], a["mql"], a["leads"]) == pytest.approx((22_500, 22.5, 45, 90, 180))
    assert (b["revenue"], b["customers"], b["leads"]) == pytest.approx((9000, 9, 72))
    assert (u["revenue"], u["leads"], bool(u["paid"])) == pytest.approx((3750, 30, False))
    assert (a["spend"], b["spend"]) == pytest.approx((9000.0, 3600.0))
    assert a["reachable"] and b["reachable"] and plan.unreachable == []
    assert a["return_per_1"] == pytest.approx(0.7 * 22_500 / 9000) and bool(a["meets_target"])  # 1.75 ≥ 1.5
    assert t.loc["All channels", "customers"] == pytest.approx(22.5 + 9 + 3.75)
    assert t.loc["Total (paid)", "spend"] == pytest.approx(12_600.0)
    # identical draws: the intervals collapse onto the point values
    assert t.loc["All channels", "leads_lo"] == pytest.approx(t.loc["All channels", "leads_hi"])
    # funnel counts never increase down the stages
    for stage_above, stage_below in [("leads", "mql"), ("mql", "sql"), ("sql", "customers")]:
        assert (t[stage_above] >= t[stage_below] - 1e-9).all()


def test_an_unreachable_channel_is_named_and_no_total_spend_is_claimed():
    m = _model()
    plan = target.target_plan(m, 3750.0 + 3 * 26_250.0)  # 3× the paid revenue
    t = plan.table
    assert np.isinf(t.loc["A", "spend"]) and not t.loc["A", "reachable"]  # 150 leads a month ≥ vmax 100
    assert t.loc["B", "spend"] == pytest.approx(9000.0) and not t.loc["B", "reachable"]  # > 2 × 3,000
    assert plan.unreachable == ["A", "B"] and not t.loc["Total (paid)", "reachable"]
    figs = {f["name"]: f for f in story.target_figures(plan, target.target_reps(m, plan), "s")}
    assert figs["target_channels_unreachable"]["value"] == 2 and "target_spend" not in figs
    shown = view.target_display(plan)
    assert shown.loc["A", "reachable"] == "not reachable within 2× the observed spend"
    assert shown.loc["A", "spend needed (EUR per quarter)"] == "n/a"
    text = " ".join(story.target_sentences(plan, target.target_reps(m, plan), m, "EUR 82,500 per quarter"))
    assert "Not reachable within 2× the observed spend: A, B" in text and "nan" not in text and "inf" not in text


def test_a_target_the_unpaid_channels_already_bring_needs_no_spend():
    plan = target.target_plan(_model(), 2000.0)
    assert plan.gap == 0 and plan.table.loc[["A", "B"], "spend"].tolist() == [0.0, 0.0]
    assert plan.unreachable == []


def test_reps_follow_step_05s_rule():
    m = _model(n_reps=1)
    plan = target.target_plan(m, 35_250.0)
    r = target.target_reps(m, plan)
    # step 05's forecast 240 + the plan's paid leads 252 − today's 210 = 282 leads = 94 a month
    assert r["leads"] == pytest.approx(282.0)
    assert r["reps_needed"] == capacity.reps_needed(94.0, 50.0, 1) == 1
    assert target.target_reps(_model(n_reps=4), plan)["reps_needed"] == 0


def test_planner_amount_inputs_accept_what_they_show():
    assert view.parse_amount("12,000") == 12_000.0
    assert view.parse_amount("EUR 1,250,000") == 1_250_000.0
    assert view.parse_amount("12 000.5") == 12_000.5
    assert view.parse_amount("lots") is None and view.parse_amount("-5") is None
    import ipywidgets as w

    s = w.FloatSlider(value=12_000.0, min=0, max=50_000, step=100)
    box = view.amount_input(s).children[1]
    assert box.value == "12,000"
    box.value = "24,500"
    assert s.value == 24_500.0 and box.value == "24,500"
    box.value = "nonsense"
    assert s.value == 24_500.0 and box.value == "24,500"


def test_target_plan_on_the_small_demo_round_trips_through_the_forecast(small_data):
    data = io.load(small_data)
    m = metrics.build_model(data, parse_quarter("2026Q3"), draws=400)
    assert target.plannable(m)
    goal = target.target_settings(data.config)
    assert (goal.period, goal.per_quarter) == ("year", 750_000.0)  # the demo's 3,000 leads a year × 1,000 ÷ 4
    plan = target.target_plan(m, goal.per_quarter, "2026Q4")
    t = plan.table
    assert t.loc["All channels", "revenue"] == pytest.approx(750_000.0)
    reach = [c for c in m.paid if t.loc[c, "reachable"]]
    assert reach and plan.unreachable
    lam = metrics.expected_leads(m, t.loc[m.paid, "spend"].replace(np.inf, 0.0), draws=False)
    for c in reach:  # the spend found gives the leads asked for
        assert lam[m.channels.index(c)] == pytest.approx(t.loc[c, "leads"], rel=1e-6)
    # a bigger target never needs fewer leads or less spend
    more = target.target_plan(m, 1.2 * goal.per_quarter).table
    assert (more.loc[m.paid, "leads"] >= t.loc[m.paid, "leads"]).all()
    assert (more.loc[m.paid, "spend"] >= t.loc[m.paid, "spend"]).all()
    words = " ".join(story.target_sentences(plan, target.target_reps(m, plan), m, "EUR 750k per quarter"))
    assert "inf" not in words.replace("infer", "") and "nan" not in words
    assert target.starting_target(m, None) > 0 and target.starting_target(m, goal) == 750_000.0
