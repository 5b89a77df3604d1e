"""Step 07 — titles, "What this means" sentences, recorded figures and findings of spend planning.

Every function takes results of :mod:`salesaudit.steps.planning.metrics` and returns text (a title, a line, a
list of sentences), the figures the notebook records (``[{name, value, label, unit, …}]`` for
``report.record.record_many``) or findings (``[Finding, …]`` of :mod:`salesaudit.findings`, for
``report.record.record_findings``). Numbers pass the formatters of :mod:`salesaudit.text`; a "best"/"worst"/"beyond
the noise" claim needs :data:`salesaudit.stats.MIN_CLAIM_N` cases (:mod:`salesaudit.claims`). No charts here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import text
from salesaudit.claims import extremes, n_is, no_standout
from salesaudit.findings import Finding
from salesaudit.periods import Quarter
from salesaudit.stats import MIN_CLAIM_N
from salesaudit.steps.planning.forecast import SERIES, BacktestSummary
from salesaudit.steps.planning.metrics import NewChannel, PlanModel, ResponseFit
from salesaudit.steps.planning.target import TargetPlan

__all__ = [
    "heading",
    "roi_title",
    "roi_sentences",
    "roi_figures",
    "response_title",
    "fit_sentences",
    "fit_figures",
    "conversion_title",
    "cohort_window_line",
    "conversion_sentences",
    "plan_title",
    "baseline_plan_title",
    "plan_sentences",
    "capacity_sentence",
    "plan_figures",
    "scenario_title",
    "scenario_sentences",
    "new_channel_title",
    "new_channel_sentences",
    "forecast_sentences",
    "new_channel_figures",
    "allocation_title",
    "allocation_sentences",
    "allocation_figures",
    "findings",
    "backtest_title",
    "backtest_line",
    "backtest_sentences",
    "trust_sentence",
    "backtest_figures",
    "next_quarter_title",
    "next_quarter_sentences",
    "next_quarter_figures",
    "target_label",
    "target_title",
    "target_sentences",
    "target_figures",
]


def _figure(name: str, value, section: str, **kwargs) -> dict:
    """One ``{name, value, section, label, unit, lo, hi, n, higher_is_better, …}`` entry for ``record_many``."""
    return {"name": name, "value": value, "section": section, **kwargs}


def heading(company: str, quarter: Quarter, gross_margin: float, roi_target: float) -> str:
    """The line under the notebook's setup: whose plan, after which quarter, for which, on what margin and target."""
    return (
        f"{company} — spend planning after {quarter.label}: plan for {quarter.next().label}; "
        f"gross margin {gross_margin:.0%}, ROI target {roi_target:.1f}:1"
    )


# --------------------------------------------------------------------------------------------------
# 1. ROI of the audited quarter
# --------------------------------------------------------------------------------------------------
def roi_title(roi: pd.DataFrame, target: float) -> str:
    """Title of the ROI chart: how many paid channels miss the target, and the return of all paid channels."""
    ch = roi.drop(index="Total (paid)", errors="ignore")
    t = roi.loc["Total (paid)"] if "Total (paid)" in roi.index else None
    below = int((~ch["meets_target"]).sum())
    head = (
        f"{below} of {len(ch)} paid channels below the {target:.0f}:1 target"
        if below
        else f"every paid channel meets the {target:.0f}:1 target"
    )
    total = f"; all paid: {t['return_per_1']:.2f}" if t is not None else ""
    return f"Return per 1 spent this quarter: {head}{total}"


def roi_sentences(roi: pd.DataFrame, target: float, currency: str) -> list[str]:
    """Sentences for "What this means" under the ROI table."""
    if roi.empty:
        return ["No marketing spend was recorded in this quarter."]
    tot = roi.loc["Total (paid)"]
    ch = roi.drop(index="Total (paid)").sort_values("return_per_1", ascending=False)
    out = [
        f"Across paid channels, {text.money(tot['spend'], currency)} of spend was followed by "
        f"{text.money(tot['revenue'], currency)} of won revenue from those channels' leads: "
        f"{tot['return_per_1']:.2f} of gross margin per 1 spent {text.interval(tot['return_lo'], tot['return_hi'], lambda v: f'{v:.2f}')}, "
        f"against a target of {target:.1f}. Revenue is attributed first-touch, to the channel of the lead a deal came from.",
    ]
    below = ch[~ch["meets_target"]]
    if len(ch) > 1:
        c = extremes(ch.reset_index(), "return_per_1", "customers", "return_lo", "return_hi")
        if c.ok:
            out.append(
                f"Best return: {c.top['channel']} at {c.top['return_per_1']:.2f} per 1 spent (CAC "
                f"{text.money(c.top['cac'], currency)}, {n_is(c.top['customers'])} new customers); lowest: "
                f"{c.bottom['channel']} at {c.bottom['return_per_1']:.2f} ({n_is(c.bottom['customers'])})."
            )
        else:
            out.append(no_standout("paid channel's return", c.ns + " new customers"))
    if len(below):
        names = ", ".join(
            f"{c} ({r:.2f}, {n_is(k)})" for c, r, k in zip(below.index, below["return_per_1"], below["customers"])
        )
        out.append(f"Below the {target:.1f}:1 target this quarter: {names}.")
    else:
        out.append(f"Every paid channel met the {target:.1f}:1 target this quarter.")
    new = [c for c in roi.attrs.get("new_channels", []) if c in ch.index]
    if new:
        out.append(
            f"{', '.join(new)} started spending this quarter: its leads have had little time to close, so its "
            "return here understates what it will earn (see the plan in section 3)."
        )
    out.append(
        "This is the flow view: part of this quarter's revenue comes from earlier quarters' leads, and part "
        "of this quarter's leads will only close next quarter."
    )
    return out


def roi_figures(roi: pd.DataFrame, target: float, section: str) -> list[dict]:
    """``roi``, ``marketing_spend``, ``paid_cac`` and ``channels_below_roi_target`` of :func:`metrics.quarter_roi`
    (its ``Total (paid)`` row); none for an empty table."""
    if not len(roi):
        return []
    tot = roi.loc["Total (paid)"]
    return [
        _figure(
            "roi",
            tot["return_per_1"],
            section,
            label="Gross margin returned per 1 spent (paid channels)",
            unit="ratio",
            lo=tot["return_lo"],
            hi=tot["return_hi"],
            n=tot["customers"],
            higher_is_better=True,
            target=target,
        ),
        _figure("marketing_spend", tot["spend"], section, label="Marketing spend in the quarter", unit="money"),
        _figure(
            "paid_cac",
            tot["cac"],
            section,
            label="Cost per new customer, paid channels (CAC)",
            unit="money",
            n=tot["customers"],
            higher_is_better=False,
        ),
        _figure(
            "channels_below_roi_target",
            int((~roi.drop(index="Total (paid)")["meets_target"]).sum()),
            section,
            label="Paid channels below the ROI target",
            unit="count",
            higher_is_better=False,
        ),
    ]


# --------------------------------------------------------------------------------------------------
# 2. Spend→leads curves and conversion
# --------------------------------------------------------------------------------------------------
def response_title() -> str:
    """Title of the spend→leads small multiples."""
    return "More spend buys fewer extra leads per euro: fitted spend→leads curves (grey band = observed spend)"


def fit_sentences(fits: dict[str, ResponseFit], currency: str = "EUR") -> list[str]:
    """Sentences: which channels got a curve, which fell back and why, and the marginal cost per lead."""
    fitted = [f for f in fits.values() if f.method == "hill"]
    fallback = [f for f in fits.values() if f.method != "hill"]
    out = []
    if fitted:
        parts = []
        for f in fitted:
            mid = (f.spend_min + f.spend_max) / 2
            avg_cpl = mid / max(float(f.predict(mid)), 1e-9)
            marg = 0.1 * mid / max(float(f.predict(mid * 1.05) - f.predict(mid * 0.95)), 1e-9)
            parts.append(
                f"{f.channel} {text.money(avg_cpl, currency)} average vs {text.money(marg, currency)} for the next lead"
            )
        out.append(
            "Average vs marginal cost per lead at the middle of each channel's observed spend: "
            + "; ".join(parts)
            + ". Where the next lead costs more than the average, returns are diminishing; where it costs less "
            "(an S-shaped curve below its steep part), more spend still pays off disproportionately."
        )
    for f in fallback:
        out.append(
            f"{f.channel}: no curve was fitted — {f.note.split(' — ')[-1]}; the plan assumes a constant cost per "
            f"lead of {text.money(f.params[0], currency)} (no diminishing returns, so treat large increases "
            "with caution)."
        )
    out.append(
        "Curves are fitted on monthly leads divided by a seasonal index estimated from the channels without "
        "spend; outside a channel's observed spend range the curve is an extrapolation."
    )
    return out


def fit_figures(fits: dict[str, ResponseFit], section: str) -> list[dict]:
    """``channels_fitted`` and ``channels_fallback``: paid channels with a Hill curve / on the cost-per-lead
    fallback (:func:`metrics.fit_responses`)."""
    return [
        _figure(
            "channels_fitted",
            sum(f.method == "hill" for f in fits.values()),
            section,
            label="Paid channels with a fitted spend→leads curve",
            unit="count",
        ),
        _figure(
            "channels_fallback",
            sum(f.method != "hill" for f in fits.values()),
            section,
            label="Paid channels on the cost-per-lead fallback",
            unit="count",
        ),
    ]


def conversion_title(l2c: pd.DataFrame) -> str:
    """Chart title for lead→customer by channel: best and worst only under the claim rule."""
    c = extremes(l2c.reset_index(), "rate", "mature_leads", "lo", "hi")
    if c.ok:
        return (
            f"{c.top['channel']} converts best: {c.top['rate']:.1%} of leads become customers ({n_is(c.top['mature_leads'])}) "
            f"vs {c.bottom['rate']:.1%} for {c.bottom['channel']} ({n_is(c.bottom['mature_leads'])})"
        )
    return f"No channel's lead→customer rate stands out beyond the noise ({c.ns} matured leads)"


def cohort_window_line(window: tuple[pd.Timestamp, pd.Timestamp, float]) -> str:
    """The cohort the conversion rates rest on, from :func:`metrics.conversion_window` (start, end, maturity)."""
    start, end, maturity = window
    return f"Cohort window: leads created {start:%Y-%m-%d} – {end:%Y-%m-%d} (maturity {maturity:.0f} days)"


def conversion_sentences(l2c: pd.DataFrame, delay: pd.DataFrame) -> list[str]:
    """What this means for conversion by channel and the lead→customer delay."""
    c = extremes(l2c.reset_index(), "rate", "mature_leads", "lo", "hi")
    if c.ok:
        out = [
            f"Of a lead from {c.top['channel']}, {c.top['rate']:.1%} become customers (10–90%: {c.top['lo']:.1%}–"
            f"{c.top['hi']:.1%}, {n_is(c.top['mature_leads'])} matured leads); of one from {c.bottom['channel']}, "
            f"{c.bottom['rate']:.1%} ({n_is(c.bottom['mature_leads'])})."
        ]
    else:
        out = [no_standout("channel's lead→customer rate", c.ns + " matured leads")]
    if "All" in delay.index and np.isfinite(delay.loc["All", "median_days"]):
        d = delay.loc["All"]
        out.append(
            f"A lead takes a median of {d['median_days']:.0f} days to become a customer (10–90%: "
            f"{d['p10_days']:.0f}–{d['p90_days']:.0f} days): next quarter's leads will mostly turn into revenue later."
        )
    else:
        out.append("Too few matured leads became customers to measure how long conversion takes.")
    out.append(
        "Channels with few matured leads (a new channel) borrow strength from the others: their interval is wide."
    )
    return out


# --------------------------------------------------------------------------------------------------
# 3. Next quarter's plan and the scenarios
# --------------------------------------------------------------------------------------------------
def plan_title() -> str:
    """Title of the plan chart (the live notebook's slider)."""
    return "Expected return per channel next quarter (green = meets target)"


def baseline_plan_title(next_label: str) -> str:
    """Title of the baseline plan's chart in the report: next quarter at this quarter's spend."""
    return f"Baseline plan for {next_label} (this quarter's spend): return per 1 spent by channel"


def plan_sentences(model: PlanModel, table: pd.DataFrame, cap: dict[str, float], name: str = "This plan") -> list[str]:
    """Sentences: expected return vs target (with interval), customers, CAC, and the capacity verdict."""
    t = table.loc["Total (paid)"]
    cur = model.currency
    verdict = "meets" if t["return_per_1"] >= model.roi_target else "misses"
    out = [
        f"{name}: {text.money(t['spend'], cur)} of paid spend is expected to bring {t['leads']:,.0f} leads and "
        f"{t['customers']:,.0f} eventual customers (10–90%: {t['customers_lo']:,.0f}–{t['customers_hi']:,.0f}), "
        f"{t['return_per_1']:.2f} of gross margin per 1 spent (10–90%: {t['return_per_1_lo']:.2f}–"
        f"{t['return_per_1_hi']:.2f}) — it {verdict} the {model.roi_target:.1f}:1 target; CAC about "
        f"{text.money(t['cac'], cur)}."
    ]
    out.append(capacity_sentence(cap))
    return out


def capacity_sentence(cap: dict[str, float]) -> str:
    """The capacity verdict of a plan, stated with the audit's one rule for reps needed (step 05)."""
    if not np.isfinite(cap.get("forecast_monthly", np.nan)):
        return "There is no lead forecast for next quarter (too little complete history), so rep capacity is not planned here."
    if not np.isfinite(cap.get("capacity", np.nan)):
        return "Rep capacity is unknown (no `reps` table with `monthly_lead_capacity`)."
    need = int(cap["reps_needed"])
    verdict = f"{need} more rep{'s' if need != 1 else ''} needed" if need else "no extra reps needed"
    return (
        f"With next quarter's lead forecast (step 05) adjusted for this plan's paid spend, about "
        f"{cap['leads']:,.0f} leads are expected (10–90%: {cap['leads_lo']:,.0f}–{cap['leads_hi']:,.0f}) against "
        f"the {cap['reps']} reps' capacity of {cap['capacity']:,.0f} a quarter (over capacity in "
        f"{cap['p_over']:.0%} of simulations): {verdict} by the audit's capacity rule (max(0, ⌈leads per month ÷ "
        "mean capacity per rep⌉ − active reps))."
    )


def plan_figures(table: pd.DataFrame, cap: dict[str, float], next_label: str, section: str) -> list[dict]:
    """``plan_return`` and ``plan_customers`` of the baseline plan (:func:`metrics.recompute` at this quarter's
    spend: its ``Total (paid)`` row), and — when reps needed could be computed (:func:`metrics.capacity_check`) —
    ``plan_leads_over_capacity`` and ``plan_reps_needed``."""
    bt = table.loc["Total (paid)"]
    out = [
        _figure(
            "plan_return",
            bt["return_per_1"],
            section,
            label="Expected return per 1 spent next quarter (baseline plan)",
            unit="ratio",
            lo=bt["return_per_1_lo"],
            hi=bt["return_per_1_hi"],
            higher_is_better=True,
        ),
        _figure(
            "plan_customers",
            bt["customers"],
            section,
            label="Expected customers from next quarter's paid leads",
            unit="count",
            lo=bt["customers_lo"],
            hi=bt["customers_hi"],
            higher_is_better=True,
        ),
    ]
    if cap["reps_needed"] is not None and cap["reps_needed"] == cap["reps_needed"]:  # not NaN
        out += [
            _figure(
                "plan_leads_over_capacity",
                cap["p_over"],
                section,
                label="Chance next quarter's leads exceed rep capacity",
                unit="%",
                higher_is_better=False,
            ),
            _figure(
                "plan_reps_needed",
                cap["reps_needed"],
                section,
                label=f"Extra reps needed for {next_label} (baseline plan)",
                unit="count",
                n=cap["reps"],
                higher_is_better=False,
            ),
        ]
    return out


def scenario_title(summary: pd.DataFrame) -> str:
    """Title of the scenario chart: what +20% budget buys against the baseline (first row of
    :func:`metrics.scenarios`)."""
    base = summary.iloc[0]
    up = summary.loc["Total budget +20%"] if "Total budget +20%" in summary.index else base
    return (
        f"+20% budget buys {up['customers'] / base['customers'] - 1:+.0%} customers; "
        f"return per 1 falls to {up['return_per_1']:.2f}"
    )


def scenario_sentences(summary: pd.DataFrame, target: float, currency: str) -> list[str]:
    """Sentences comparing the scenarios."""
    out = []
    for name, r in summary.iterrows():
        v = "meets" if r["meets_target"] else "misses"
        out.append(
            f"{name}: {text.money(r['spend'], currency)} → {r['customers']:,.0f} customers "
            f"({r['customers_lo']:,.0f}–{r['customers_hi']:,.0f}), {r['return_per_1']:.2f} per 1 spent "
            f"({r['return_lo']:.2f}–{r['return_hi']:.2f}), {v} the {target:.1f}:1 target."
        )
    if "Total budget +20%" in summary.index and "Baseline (last quarter's spend)" in summary.index:
        b, u = summary.loc["Baseline (last quarter's spend)"], summary.loc["Total budget +20%"]
        extra_sp = u["spend"] - b["spend"]
        extra_c = u["customers"] - b["customers"]
        if extra_c > 0:
            out.append(
                f"The extra 20% ({text.money(extra_sp, currency)}) buys about {extra_c:,.0f} more customers: "
                f"{text.money(extra_sp / extra_c, currency)} each, against {text.money(b['cac'], currency)} on average now "
                "(diminishing returns)."
            )
    return out


# --------------------------------------------------------------------------------------------------
# 4. A new channel
# --------------------------------------------------------------------------------------------------
def new_channel_title(forecasts: dict[str, dict], target: float) -> str:
    """Title of the new-channel chart: how many of the estimates clear the target."""
    worth = sum(bool(f.get("worth_it")) for f in forecasts.values())
    return f"New channel: {worth} of {len(forecasts)} estimates clear the {target:.0f}:1 target"


def new_channel_sentences(fc: dict[str, float], name: str, currency: str, target: float) -> list[str]:
    """Sentences for the new-channel example."""
    s = [
        f"{name.capitalize()}: {fc['leads']:,.0f} leads × {fc['rate']:.1%} lead→customer = "
        f"{fc['customers']:.2f} expected customers (10–90%: {fc['customers_lo']:.0f}–{fc['customers_hi']:.0f})."
    ]
    if "return_per_1" in fc:
        worth = "is worth it" if fc["worth_it"] else "does not pay back at the target"
        s.append(
            f"At {text.money(fc['revenue_per_customer'], currency)} per customer and our gross margin, that is "
            f"{text.money(fc['margin'], currency)} of margin for {text.money(fc['spend'], currency)} of spend: "
            f"{fc['return_per_1']:.2f} per 1 spent (10–90%: {fc['return_lo']:.2f}–{fc['return_hi']:.2f}); against the "
            f"{target:.1f}:1 target the spend {worth} (target met in {fc['p_meets_target']:.0%} of simulations)."
        )
    return s


def forecast_sentences(forecasts: dict[str, dict], nc: NewChannel, currency: str, target: float) -> list[str]:
    """:func:`new_channel_sentences` of every estimate of :func:`metrics.new_channel_forecasts`, in order."""
    return [
        s for name, f in forecasts.items() for s in new_channel_sentences(f, f"{nc.name}, {name}", currency, target)
    ]


def new_channel_figures(nc: NewChannel, forecasts: dict[str, dict], section: str) -> list[dict]:
    """``new_channel_customers`` (stated rates) and, when the channel resembles a known one,
    ``new_channel_customers_hist`` (that channel's rates), from :func:`metrics.new_channel_forecasts`."""
    stated = forecasts[nc.label]
    hist = forecasts.get(nc.history_label)
    out = [
        _figure(
            "new_channel_customers",
            stated["customers"],
            section,
            label=f"Expected customers from {nc.leads:,.0f} {nc.name} leads (stated rates)",
            unit="count",
            lo=stated["customers_lo"],
            hi=stated["customers_hi"],
            higher_is_better=True,
        )
    ]
    if hist is not None:
        out.append(
            _figure(
                "new_channel_customers_hist",
                hist["customers"],
                section,
                label=f"Expected customers from {nc.leads:,.0f} {nc.name} leads ({nc.resembles}'s rates)",
                unit="count",
                lo=hist["customers_lo"],
                hi=hist["customers_hi"],
                higher_is_better=True,
            )
        )
    return out


# --------------------------------------------------------------------------------------------------
# 5. Allocation
# --------------------------------------------------------------------------------------------------
def allocation_title(alloc: pd.DataFrame, currency: str = "EUR") -> str:
    """Title of the allocation chart: the expected gross margin the re-split adds (:func:`metrics.optimise_split`)."""
    t = alloc.loc["Total"]
    gain = t["margin_optimised"] - t["margin_current"]
    return (
        f"Same budget, re-split: {text.money(gain, currency)} more expected gross margin per quarter "
        f"({gain / max(t['margin_current'], 1e-9):+.1%})"
    )


def allocation_sentences(alloc: pd.DataFrame, currency: str, bounds: tuple[float, float] = (0.5, 2.0)) -> list[str]:
    """Sentences: the expected margin gained by the optimised split and the biggest moves."""
    t = alloc.loc["Total"]
    gain = t["margin_optimised"] - t["margin_current"]
    ch = alloc.drop(index="Total").sort_values("change")
    before, after = text.money(t["margin_current"], currency), text.money(t["margin_optimised"], currency)
    if before == after:  # a gain smaller than the rounding: "from EUR 41k to EUR 41k" says nothing
        out = [
            f"Re-splitting the same {text.money(t['current'], currency)} would leave gross margin at about {before} "
            f"per quarter ({gain / max(t['margin_current'], 1e-9):+.1%}): with each channel kept within "
            f"{bounds[0]:.0%}–{bounds[1]:.0%} of its current spend, today's split is about as good as the fitted "
            "curves can tell."
        ]
    else:
        out = [
            f"Re-splitting the same {text.money(t['current'], currency)} is expected to raise gross margin from "
            f"{before} to {after} ({text.money(gain, currency)}, {gain / max(t['margin_current'], 1e-9):+.1%}) per "
            f"quarter, with each channel kept within {bounds[0]:.0%}–{bounds[1]:.0%} of its current spend."
        ]
    up = ch[ch["change"] > 0.05].iloc[::-1]
    down = ch[ch["change"] < -0.05]
    if len(up):
        out.append("Move money to: " + ", ".join(f"{c} ({r:+.0%})" for c, r in up["change"].items()) + ".")
    if len(down):
        out.append("Move money from: " + ", ".join(f"{c} ({r:+.0%})" for c, r in down["change"].items()) + ".")
    out.append("The gain rests on the fitted curves; moves beyond a channel's observed spend range are extrapolations.")
    return out


def allocation_figures(alloc: pd.DataFrame, section: str) -> list[dict]:
    """``optimised_margin_gain``: optimised − current expected gross margin of :func:`metrics.optimise_split`."""
    gain = alloc.loc["Total", "margin_optimised"] - alloc.loc["Total", "margin_current"]
    return [
        _figure(
            "optimised_margin_gain",
            gain,
            section,
            label="Expected gross margin gained per quarter by re-splitting the budget",
            unit="money",
            higher_is_better=True,
        )
    ]


# --------------------------------------------------------------------------------------------------
# findings
# --------------------------------------------------------------------------------------------------
def findings(
    roi: pd.DataFrame,
    alloc: pd.DataFrame,
    target: float,
    currency: str,
    gross_margin: float | None = None,
    *,
    resplit_section: str | None = None,
    roi_section: str | None = None,
    quarter_leads: pd.DataFrame | None = None,
) -> list[Finding]:
    """1–3 findings: revenue gained by re-splitting, and the paid channel furthest below the target.

    Impact is on the audit's one money scale, **revenue per quarter**: the models give gross margin, so
    revenue = margin ÷ gross margin (``gross_margin``; taken from the allocation when not given). For the
    re-split: expected margin gain ÷ gross margin; for a below-target channel: its margin shortfall
    against the target (spend × target − margin) ÷ gross margin, i.e. the extra revenue that would have
    met the target. A below-target channel is named only when it had n ≥ MIN_CLAIM_N leads and its
    return is below the target beyond the noise (interval under the target, or no revenue at all).
    Channels that started spending in the quarter are left out (their leads have not had time to close).

    ``resplit_section`` / ``roi_section``: the notebook sections the findings point to (the allocation, the ROI of
    the quarter); given, each finding carries its ``section``, as ``report.record.record_findings`` needs
    (not given: ``""``, to be placed with :meth:`~salesaudit.findings.Finding.in_section`). ``quarter_leads``
    (:func:`salesaudit.steps.planning.metrics.quarter_leads`): the below-target finding carries its channel's leads
    of the quarter as evidence — as many rows as the leads its sentence counts.
    """
    gm = float(gross_margin) if gross_margin else float(alloc.attrs.get("gross_margin", 1.0) or 1.0)
    out = []
    t = alloc.loc["Total"]
    gain = float(t["margin_optimised"] - t["margin_current"])
    if gain > 0:
        ch = alloc.drop(index="Total").sort_values("change")
        up, down = ch.index[-1], ch.index[0]
        out.append(
            Finding(
                "spend_resplit",
                f"Re-splitting the same marketing budget (more to {up}, less to {down}) is expected to add "
                f"{text.money(gain, currency)} of gross margin per quarter ({text.money(gain / gm, currency)} of revenue).",
                gain / gm,
                section=resplit_section or "",
                recommendation=f"Shift budget toward {up} and away from {down} within 50–200% of today's spend, then re-check the curves next quarter.",
                basis="revenue per quarter = expected gross-margin gain under the fitted spend→leads curves and "
                f"historical conversion rates ÷ gross margin ({gm:.0%})",
            )
        )
    ch = roi.drop(index=["Total (paid)", *roi.attrs.get("new_channels", [])], errors="ignore")
    clear = (ch["return_hi"] < target) | (ch["revenue"] <= 0)
    below = ch[(~ch["meets_target"]) & (ch["spend"] > 0) & (ch["leads"] >= MIN_CLAIM_N) & clear]
    if len(below):
        gap = (below["spend"] * target - below["margin"]).sort_values(ascending=False)
        worst = gap.index[0]
        r = below.loc[worst]
        out.append(
            Finding(
                "roi_below_target",
                f"{worst} returned {r['return_per_1']:.2f} of gross margin per 1 spent this quarter, below the "
                f"{target:.1f}:1 target beyond the noise ({text.money(r['spend'], currency)} spent, "
                f"{n_is(r['leads'])} leads, {int(r['customers']):,} of them new customers).",
                float(gap.iloc[0]) / gm,
                section=roi_section or "",
                recommendation=f"Cut or rework {worst} spend, or test a lower budget where its curve is steeper.",
                basis="revenue per quarter = (spend × target return − gross margin earned in the quarter, first-touch) "
                f"÷ gross margin ({gm:.0%}): the extra revenue that would have met the target",
                # the channel's leads of the quarter (metrics.quarter_leads): the leads the sentence counts
                evidence=None
                if quarter_leads is None
                else quarter_leads.loc[quarter_leads["channel"] == str(worst)]
                .sort_values(["created_at", "lead_id"])
                .reset_index(drop=True),
            )
        )
    return out


# --------------------------------------------------------------------------------------------------
# 6. The backtest, 7. next quarter's forecast (salesaudit.steps.planning.forecast)
# --------------------------------------------------------------------------------------------------
_IN_A_SENTENCE = {
    "leads": "leads",
    "mql": "MQLs",
    "sql": "SQLs",
    "customers": "new customers",
    "revenue": "won revenue",
}


def _calibration_word(coverage: float) -> str:
    """How an 80% band did: held 65–95% of the actuals = calibrated (the done-when range of issue 13)."""
    if not np.isfinite(coverage):
        return "untested"
    if coverage < 0.65:
        return "too narrow"
    if coverage > 0.95:
        return "wider than needed"
    return "about right"


def backtest_title(summary: BacktestSummary) -> str:
    """Title of the backtest chart: how close the forecasts came, in the reader's terms."""
    m = summary.mape.get("revenue", np.nan)
    if not np.isfinite(m):
        return "Forecast vs actual, quarter by quarter (10–90% band)"
    return f"Won revenue forecasts were off by {m:.0%} on average over {len(summary.quarters)} quarters (10–90% band)"


def backtest_line(summary: BacktestSummary) -> str:
    """Which quarters were backtested — and, when fewer than wanted, why."""
    n, want = len(summary.quarters), summary.wanted
    if n == 0:
        return "No quarter could be backtested."
    span = f"{summary.quarters[0]}–{summary.quarters[-1]}" if n > 1 else summary.quarters[0]
    short = (
        f" (the data allow {n} of the last {want}: each forecast needs at least 4 complete quarters before it)"
        if n < want
        else ""
    )
    return f"Backtest over {n} quarter{'s' if n != 1 else ''}, {span}{short}."


def backtest_sentences(summary: BacktestSummary) -> list[str]:
    """Sentences: the typical error (MAPE) and bias of each company-level series, the calibration of the 80%
    bands, and how far to trust next quarter's forecast."""
    n = len(summary.quarters)
    if n == 0:
        return ["No quarter could be backtested: each forecast needs at least 4 complete quarters before it."]
    out = [backtest_line(summary)]
    parts = []
    for s in SERIES:
        if s in summary.mape and np.isfinite(summary.mape[s]):
            b = summary.bias.get(s, np.nan)
            lean = f", running {abs(b):.0%} {'high' if b > 0 else 'low'}" if np.isfinite(b) and abs(b) >= 0.02 else ""
            parts.append(f"{_IN_A_SENTENCE[s]} {summary.mape[s]:.0%}{lean}")
    if parts:
        out.append("Mean absolute percentage error (MAPE) of the company-level forecasts: " + "; ".join(parts) + ".")
    cov = summary.coverage_all
    out.append(
        f"The 10–90% bands held the actual in {cov:.0%} of the {summary.points} quarter × series forecasts "
        f"(80% if calibrated): {_calibration_word(cov)}."
    )
    out.append(trust_sentence(summary))
    return out


def trust_sentence(summary: BacktestSummary) -> str:
    """One sentence on how far to trust next quarter's forecast of won revenue, from the backtest."""
    m = summary.mape.get("revenue", np.nan)
    n = len(summary.quarters)
    if not np.isfinite(m):
        return "There is no won-revenue backtest to judge next quarter's forecast by."
    few = " — but the backtest has only a few quarters, so treat that as a rough guide" if n < 4 else ""
    word = _calibration_word(summary.coverage.get("revenue", np.nan))
    return (
        f"Expect next quarter's won revenue within about ±{m:.0%} of the forecast in a typical quarter; its band "
        f"held the actual in {summary.coverage.get('revenue', np.nan):.0%} of the backtested quarters ({word}){few}."
    )


def backtest_figures(summary: BacktestSummary, section: str) -> list[dict]:
    """``forecast_backtest_quarters``, ``forecast_mape_customers`` / ``_revenue``, ``forecast_bias_customers`` /
    ``_revenue`` and ``forecast_coverage`` (company level); nothing when no quarter was backtested. MAPE and
    bias are percentages but not shares of ``n`` cases: recorded with ``proportion=False``, so the executive
    summary gives their change no binomial interval."""
    n = len(summary.quarters)
    if n == 0:
        return []
    out = [_figure("forecast_backtest_quarters", n, section, n=n)]
    for s in ("customers", "revenue"):
        if s in summary.mape and np.isfinite(summary.mape[s]):
            out.append(_figure(f"forecast_mape_{s}", float(summary.mape[s]), section, n=n, proportion=False))
        if s in summary.bias and np.isfinite(summary.bias[s]):
            out.append(_figure(f"forecast_bias_{s}", summary.bias[s], section, n=n, proportion=False))
    if np.isfinite(summary.coverage_all):
        out.append(_figure("forecast_coverage", summary.coverage_all, section, n=summary.points))
    od = summary.open_deals
    if np.isfinite(od.get("mape", np.nan)):
        out.append(_figure("forecast_mape_open_deals", od["mape"], section, n=od["quarters"], proportion=False))
    return out


def next_quarter_title(nq: pd.DataFrame, currency: str = "EUR") -> str:
    """Title of next quarter's forecast chart: the revenue and how much of it is already in the pipeline."""
    r = nq.loc[(nq["series"] == "revenue") & (nq["channel"] == "Total")]
    if r.empty or not r.iloc[0]["forecast"] > 0:
        return f"Next quarter's forecast ({nq['quarter'].iloc[0] if len(nq) else ''})"
    r = r.iloc[0]
    share = r["from_pipeline"] / r["forecast"]
    return (
        f"{r['quarter']}: {text.money(r['forecast'], currency)} of won revenue expected, "
        f"{share:.0%} of it from today's pipeline"
    )


def next_quarter_sentences(nq: pd.DataFrame, currency: str, summary: BacktestSummary | None = None) -> list[str]:
    """Sentences: next quarter's won revenue and new customers with their 10–90% band, split into open deals,
    the earlier pipeline and next quarter's new leads; and the backtest's word on trusting it."""
    t = nq.loc[nq["channel"] == "Total"].set_index("series")
    if "revenue" not in t.index:
        return ["No forecast could be made: there is no complete quarter of history."]
    r, c = t.loc["revenue"], t.loc["customers"]
    q = nq["quarter"].iloc[0]
    out = [
        f"{q}: {text.money(r['forecast'], currency)} of won revenue expected (10–90%: "
        f"{text.money(r['lo'], currency)}–{text.money(r['hi'], currency)}) from {c['forecast']:,.0f} new customers "
        f"({c['lo']:,.0f}–{c['hi']:,.0f}).",
        f"Of that revenue, {text.money(r['from_open_deals'], currency)} is expected from the deals open at the quarter "
        f"end (win rates by deal age), {text.money(r['from_pipeline'] - r['from_open_deals'], currency)} from leads "
        f"earlier in the funnel and {text.money(r['from_new'], currency)} from next quarter's new leads "
        f"({t.loc['leads', 'forecast']:,.0f} expected).",
    ]
    if r["from_open_deals"] <= 0:
        out[1] = (
            f"No deal was open at the quarter end: the revenue comes from leads earlier in the funnel "
            f"({text.money(r['from_pipeline'], currency)}) and next quarter's new leads "
            f"({text.money(r['from_new'], currency)})."
        )
    if summary is not None and len(summary.quarters):
        od = summary.open_deals
        if np.isfinite(od.get("mape", np.nan)):
            b = od["bias"]
            lean = f"running {abs(b):.0%} {'high' if b > 0 else 'low'}" if abs(b) >= 0.02 else "with a bias under 2%"
            out.append(
                f"Backtested the same way, the open-deal part of the won-revenue forecast was off by "
                f"{od['mape']:.0%} on average over {od['quarters']} quarters ({lean})."
            )
        out.append(trust_sentence(summary))
    return out


def next_quarter_figures(nq: pd.DataFrame, section: str) -> list[dict]:
    """``forecast_revenue_next`` and ``forecast_customers_next`` (with their 10–90% band) and
    ``forecast_revenue_open_deals``; nothing when no forecast could be made."""
    t = nq.loc[nq["channel"] == "Total"].set_index("series") if len(nq) else pd.DataFrame()
    if "revenue" not in t.index:
        return []
    q = nq["quarter"].iloc[0]
    r, c = t.loc["revenue"], t.loc["customers"]
    return [
        _figure(
            "forecast_revenue_next",
            float(r["forecast"]),
            section,
            label=f"Won revenue forecast for {q}",
            lo=float(r["lo"]),
            hi=float(r["hi"]),
        ),
        _figure(
            "forecast_customers_next",
            float(c["forecast"]),
            section,
            label=f"New customers forecast for {q}",
            lo=float(c["lo"]),
            hi=float(c["hi"]),
        ),
        _figure(
            "forecast_revenue_open_deals",
            float(r["from_open_deals"]),
            section,
            label=f"Won revenue expected in {q} from the deals open now",
        ),
    ]


# --------------------------------------------------------------------------------------------------
# the plan from the revenue target (salesaudit.steps.planning.target)
# --------------------------------------------------------------------------------------------------
def target_label(amount: float, period: str, currency: str) -> str:
    """``EUR 20.0M per year (EUR 5.0M per quarter)`` or ``EUR 250,000 per quarter``."""
    if period == "year":
        return f"{text.money(amount, currency)} per year ({text.money(amount / 4, currency)} per quarter)"
    return f"{text.money(amount, currency)} per quarter"


def target_title(plan: TargetPlan) -> str:
    """The chart's title: what the target needs, and whether the spend can get there."""
    t = plan.total
    head = f"{plan.quarter + ': ' if plan.quarter else ''}the target needs {t['leads']:,.0f} leads and {t['customers']:,.0f} customers"
    if plan.gap <= 0:
        return head + " — the unpaid channels alone bring it"
    n = len(plan.unreachable)
    return head + (
        f"; {n} channel{'s' if n != 1 else ''} cannot get there within {plan.limit:g}× today's spend"
        if n
        else "; every paid channel can get there"
    )


def target_sentences(
    plan: TargetPlan,
    reps: dict,
    model: PlanModel,
    stated: str,
    delay: pd.DataFrame | None = None,
) -> list[str]:
    """What the target means: the reverse funnel, the spend, reachability, ROI, reps and when the revenue lands."""
    cur, tab = model.currency, plan.table
    t, p = plan.total, plan.paid
    paid = [c for c in model.paid]
    out = [
        f"A revenue target of {stated} for {plan.quarter or 'next quarter'} needs, at today's stage rates and "
        f"revenue per new customer, about {text.num_interval(t['customers'], t['customers_lo'], t['customers_hi'])} "
        f"new customers, {text.num_interval(t['sql'], t['sql_lo'], t['sql_hi'])} SQLs, "
        f"{text.num_interval(t['mql'], t['mql_lo'], t['mql_hi'])} MQLs and "
        f"{text.num_interval(t['leads'], t['leads_lo'], t['leads_hi'])} leads (10–90% in brackets)."
    ]
    unpaid = [c for c in model.channels if c not in paid]
    if plan.gap <= 0:
        out.append(
            f"The channels without spend ({', '.join(unpaid)}) are expected to bring "
            f"{text.money(plan.unpaid_revenue, cur)} at today's level — the whole target — so it needs no paid spend."
        )
    else:
        out.append(
            f"The channels without spend ({', '.join(unpaid) or 'none'}) bring about "
            f"{text.money(plan.unpaid_revenue, cur)} at today's level; the paid channels must bring the other "
            f"{text.money(plan.gap, cur)}, shared as today's expected revenue mix."
        )
        reach = [c for c in paid if c not in plan.unreachable]
        if plan.unreachable:
            out.append(
                f"Not reachable within {plan.limit:g}× the observed spend: {', '.join(plan.unreachable)} — their share "
                f"of the target needs more than {plan.limit:g}× this quarter's spend, or more leads than the fitted "
                "curve ever gives; reaching the target needs another channel, better conversion or larger deals "
                "rather than more of this spend."
            )
        if reach and np.isfinite(p["spend"]):
            band = (
                f"{text.money(p['spend_lo'], cur)}–{text.money(p['spend_hi'], cur)}"
                if np.isfinite(p["spend_hi"])
                else f"at least {text.money(p['spend_lo'], cur)}; in some draws a curve cannot get there"
            )
            out.append(
                f"The paid spend it needs is {text.money(p['spend'], cur)} a quarter (10–90%: {band}) against "
                f"{text.money(p['current_spend'], cur)} this quarter ({p['spend'] / p['current_spend'] - 1:+.0%}); "
                f"return per 1 spent {p['return_per_1']:.2f}."
            )
        elif reach:
            sp = tab.loc[reach, "spend"]
            out.append(
                f"The channels that can get there ({', '.join(reach)}) need {text.money(sp.sum(), cur)} a quarter "
                f"against {text.money(tab.loc[reach, 'current_spend'].sum(), cur)} this quarter."
            )
        meets = [c for c in reach if bool(tab.loc[c, "meets_target"])]
        misses = [c for c in reach if not bool(tab.loc[c, "meets_target"])]
        if reach:
            out.append(
                f"At that spend, {', '.join(meets) if meets else 'no channel'} still "
                f"{'meets' if len(meets) == 1 else 'meet'} the {model.roi_target:.1f}:1 ROI target"
                + (
                    f"; {', '.join(misses)} would not (return per 1 spent below {model.roi_target:.1f})."
                    if misses
                    else "."
                )
            )
    if reps.get("reps_needed") is None:
        out.append(
            "Rep capacity is unknown (no `reps` table with `monthly_lead_capacity`), so reps needed are not planned."
        )
    else:
        n = int(reps["reps_needed"])
        out.append(
            f"With step 05's lead forecast adjusted for the plan's paid leads, about {reps['leads']:,.0f} leads "
            f"arrive ({reps['monthly_leads']:,.0f} a month): {n} more rep{'s' if n != 1 else ''} than the "
            f"{reps['reps']} of today by the audit's one capacity rule ({reps['formula']})."
        )
    if delay is not None and "All" in delay.index and np.isfinite(delay.loc["All", "median_days"]):
        d = delay.loc["All"]
        out.append(
            "The plan counts the eventual revenue of the quarter's leads: customers come a median "
            f"{d['median_days']:,.0f} days after the lead (10–90%: {d['p10_days']:,.0f}–{d['p90_days']:,.0f} days), "
            "so part of it books in the following quarter — leads meant to close within the quarter must arrive "
            "that much earlier."
        )
    return out


def target_figures(plan: TargetPlan, reps: dict, section: str) -> list[dict]:
    """The target plan's recorded figures: ``target_revenue``, ``target_customers``, ``target_sqls``,
    ``target_mqls``, ``target_leads`` (All channels, 10–90%), ``target_channels_unreachable``, and — when every
    paid channel can get there — ``target_spend``; ``target_reps_needed`` when capacities are known."""
    t = plan.total
    out = [_figure("target_revenue", plan.target, section)]
    for name, col in [
        ("target_customers", "customers"),
        ("target_sqls", "sql"),
        ("target_mqls", "mql"),
        ("target_leads", "leads"),
    ]:
        out.append(_figure(name, float(t[col]), section, lo=float(t[f"{col}_lo"]), hi=float(t[f"{col}_hi"])))
    out.append(_figure("target_channels_unreachable", len(plan.unreachable), section))
    p = plan.paid
    if np.isfinite(p["spend"]):
        lo, hi = float(p["spend_lo"]), float(p["spend_hi"])
        out.append(_figure("target_spend", float(p["spend"]), section, lo=lo, hi=hi if np.isfinite(hi) else None))
    if reps.get("reps_needed") is not None:
        out.append(_figure("target_reps_needed", int(reps["reps_needed"]), section))
    return out
