"""Step 05 · words: chart titles, "What this means" sentences, findings and the payloads of the recorded
figures, built from the results of :mod:`.metrics`. Strings, lists, dicts and findings
(:class:`salesaudit.findings.Finding`, re-exported here as ``Finding``) out; no charts.

Every data-derived word reaches the reader through ``text.what_this_means`` (one escape). The
``*_figures`` functions return the keyword arguments of ``record.record`` per figure name (``value``
included; label, unit and direction from ``salesaudit.report.figures`` unless the label is more specific),
so the notebook records each figure in one line: ``rec.record("win_rate", **figs["win_rate"])``. A figure
that must not be recorded (e.g. totals of a partial quarter) is left out of the dict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import text
from salesaudit.capacity import LeadForecast
from salesaudit.claims import extremes, n_is, no_standout
from salesaudit.findings import Finding
from salesaudit.stats import rate_table
from salesaudit.steps.sales.metrics import (
    MAX_TENURE_MONTH,
    RAMP_MONTHS,
    UNKNOWN_REP,
    CapacityPlan,
    TeamFigures,
    lead_to_win,
    new_rep_deals,
    placed_reps,
    ramp_month,
    reps_at_quota,
    win_rate_spread,
)

__all__ = [
    "Finding",  # salesaudit.findings.Finding, the one finding type of every step (0.2 had step 05's own)
    "speed_title",
    "win_rate_title",
    "win_rate_claim",
    "scorecard_sentences",
    "partial_sentences",
    "archetype_title",
    "archetype_sentences",
    "ramp_title",
    "ramp_sentences",
    "capacity_title",
    "load_title",
    "capacity_sentences",
    "win_rate_gap_finding",
    "capacity_finding",
    "archetype_findings",
    "capacity_findings",
    "scorecard_figures",
    "archetype_figures",
    "ramp_figures",
    "capacity_figures",
]


# --------------------------------------------------------------------------------------------------
# titles and sentences
# --------------------------------------------------------------------------------------------------
def speed_title(speed: pd.DataFrame) -> str:
    """Chart title contrasting the fastest contact bucket with the slowest contacted one.

    Falls back to a plain statement when fewer than two contacted buckets have leads (e.g. an export
    without first-contact times).
    """
    contacted = speed.loc[(speed["bucket"] != "never contacted") & (speed["leads"] > 0)]
    if len(contacted) < 2:
        return "No first-contact times recorded: speed to lead cannot be compared"
    first, last = contacted.iloc[0], contacted.iloc[-1]
    return (
        f"Contacted within {str(first['bucket']).lstrip('≤')}: {text.pct(first['sql_rate'], 0)} reach SQL; "
        f"{last['bucket']}: {text.pct(last['sql_rate'], 0)}"
    )


def win_rate_title(card: pd.DataFrame, quarter_label: str) -> str:
    """Chart title for the win-rate bars: best and worst rep only when the claim rule allows it."""
    k = card.loc[(card["rep_id"] != UNKNOWN_REP) & (card["closed"] > 0)]
    c = extremes(k, "win_rate_shrunk", "closed", "win_rate_shrunk_lo", "win_rate_shrunk_hi")
    if c.ok:
        return (
            f"{c.top['name']} wins most ({text.pct(c.top['win_rate_shrunk'], 0)}, {n_is(c.top['closed'])}), "
            f"{c.bottom['name']} least ({text.pct(c.bottom['win_rate_shrunk'], 0)}, {n_is(c.bottom['closed'])}) "
            f"of deals closed in {quarter_label}"
        )
    return f"No rep's win rate stands out beyond the noise in {quarter_label} ({c.ns} closed deals per rep)"


def win_rate_claim(card: pd.DataFrame) -> str:
    """Best vs worst rep by shrunk win rate — claimed only when both have n ≥ MIN_CLAIM_N closed deals and
    their intervals do not overlap (:mod:`salesaudit.claims`); else "no rep stands out"."""
    k = card.loc[(card["rep_id"] != UNKNOWN_REP) & (card["closed"] > 0)]
    c = extremes(k, "win_rate_shrunk", "closed", "win_rate_shrunk_lo", "win_rate_shrunk_hi")
    if c.top is None:
        return "No rep closed a deal, so no rep can be compared."
    if not c.ok:
        return no_standout("rep's win rate", c.ns)
    return (
        f"{c.top['name']} wins the most ({text.pct(c.top['win_rate_shrunk'], 0)}, {n_is(c.top['closed'])} closed) and "
        f"{c.bottom['name']} the least ({text.pct(c.bottom['win_rate_shrunk'], 0)}, {n_is(c.bottom['closed'])}) — "
        "apart beyond the noise."
    )


def scorecard_sentences(
    team: TeamFigures, prev: TeamFigures | None, card: pd.DataFrame, currency: str = "EUR"
) -> list[str]:
    """What this means for the per-rep scorecard."""
    if team.won + team.lost == 0:
        out = [
            "No deals were closed (won or lost) this quarter, so the win rate, won revenue and sales cycle "
            "cannot be measured."
        ]
    else:
        out = [
            f"The team won {team.won:,} of {team.won + team.lost:,} deals closed this quarter: a win rate of "
            f"{text.pct(team.win_rate)} {text.interval(team.win_rate_lo, team.win_rate_hi)}, "
            + (
                f"{text.money(team.won_revenue, currency)} won"
                if np.isfinite(team.won_revenue)
                else "won revenue not measured (the deals carry no amounts)"
            )
            + f", median cycle {text.days(team.cycle_days)}."
        ]
    if prev is not None and prev.won + prev.lost > 0 and team.won + team.lost > 0:
        from salesaudit.stats import diff_interval

        d, lo, hi = diff_interval(team.won, team.won + team.lost, prev.won, prev.won + prev.lost)
        out.append(
            f"Against last quarter ({text.pct(prev.win_rate)}) the win rate is "
            f"{text.change_word(float(d), float(lo), float(hi))} ({text.pp(float(d))})."
        )
    if "win_rate_shrunk" in card.columns:
        k = card.loc[(card["rep_id"] != UNKNOWN_REP) & (card["closed"] > 0)].sort_values("win_rate_shrunk")
        if len(k) >= 2:
            top, bot = k.iloc[-1], k.iloc[0]
            out.append(
                f"Shrunk toward the team, win rates run from {text.pct(bot['win_rate_shrunk'])} ({bot['name']}, "
                f"{int(bot['won'])} won, {n_is(bot['closed'])} closed) to {text.pct(top['win_rate_shrunk'])} "
                f"({top['name']}, {int(top['won'])} won, {n_is(top['closed'])} closed); reps with few closed deals "
                "sit near the team rate."
            )
            out.append(win_rate_claim(k))
    if "quota_attainment" in card.columns and card["quota_attainment"].notna().any() and np.isfinite(team.won_revenue):
        qa = card["quota_attainment"].dropna()
        out.append(
            f"{int((qa >= 1).sum())} of {len(qa)} reps reached quota (median attainment {text.pct(qa.median(), 0)})."
        )
    unk = card.loc[card["rep_id"] == UNKNOWN_REP]
    if len(unk) and (unk[[c for c in ("leads", "closed") if c in unk.columns]].sum(axis=1) > 0).any():
        u = unk.iloc[0]
        nl, nc = int(u.get("leads", 0) or 0), int(u.get("closed", 0) or 0)
        out.append(
            f"Some records belong to owners missing from the reps table ({nl:,} lead{'s' if nl != 1 else ''}, "
            f"{nc:,} closed deal{'s' if nc != 1 else ''}); they are pooled as “unknown rep”."
        )
    return out


def partial_sentences(quarter_label: str, reason: str | None) -> list[str]:
    """The sentence of a partial quarter (``reason``: ``Coverage.partial_reason``; None = complete: none)."""
    if not reason:
        return []
    return [
        f"The data ends before {quarter_label} does ({reason}): these are the quarter's figures so far; totals are "
        "not recorded."
    ]


def archetype_title(skill: pd.DataFrame) -> str:
    """Chart title of the archetype quadrant: how many placed reps are Stars."""
    known = placed_reps(skill)
    stars = int(known["archetype"].str.startswith("Star").sum())
    return f"{stars} of {len(known)} reps combine above-median volume and win rate"


def archetype_sentences(skill: pd.DataFrame, contrast: pd.DataFrame, window: str) -> list[str]:
    """What this means for the archetypes and the top-quartile contrast."""
    known = skill.loc[skill["archetype"].notna()] if "archetype" in skill.columns else skill.iloc[0:0]
    out = []
    if len(known):
        counts = known["archetype"].str.split(" ").str[0].value_counts()
        out.append(f"Over {window}, reps by archetype: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".")
        c = extremes(known, "win_rate_shrunk", "closed", "win_rate_shrunk_lo", "win_rate_shrunk_hi")
        if c.ok:
            out.append(
                f"Highest shrunk win rate: {c.top['name']} {text.pct(c.top['win_rate_shrunk'])} "
                f"{text.interval(c.top['win_rate_shrunk_lo'], c.top['win_rate_shrunk_hi'])}, {n_is(c.top['closed'])} "
                f"closed deals; lowest: {c.bottom['name']} {text.pct(c.bottom['win_rate_shrunk'])}, "
                f"{n_is(c.bottom['closed'])} — apart beyond the noise."
            )
        else:
            out.append(no_standout("rep's shrunk win rate", c.ns))
    for _, r in contrast.iterrows():
        if r["metric"] == "speed_to_lead_h" and np.isfinite(r["difference"]):
            word = "faster" if r["difference"] < 0 else "slower"
            out.append(
                f"The top quartile contacts new leads {word}: median {r['top_quartile']:.1f} h vs {r['others']:.1f} h for the others."
            )
        elif r["metric"].startswith("share_") and np.isfinite(r["difference"]) and abs(r["difference"]) >= 0.03:
            what = r["label"].lower().replace("share of ", "")
            more = "more" if r["difference"] > 0 else "fewer"
            out.append(
                f"A larger share of their activities are {what}: {text.pct(r['top_quartile'])} vs {text.pct(r['others'])}."
                if more == "more"
                else f"A smaller share of their activities are {what}: {text.pct(r['top_quartile'])} vs {text.pct(r['others'])}."
            )
    return out


def ramp_title(ramp: pd.DataFrame, reference: float) -> str:
    """Chart title of the ramp curve: the month new reps reach 90% of the mature rate (:func:`.metrics.ramp_month`)."""
    m = ramp_month(ramp, reference)
    return (
        f"New reps win at ≥ 90% of the mature rate from month {m}" if m else "New reps' win rate by month since start"
    )


def ramp_sentences(ramp: pd.DataFrame, reference: float) -> list[str]:
    """What this means for the new-rep ramp (``reference`` = the mature win rate)."""
    if not len(ramp):
        return ["No reps with a start date and closed deals: the ramp cannot be measured."]
    early = ramp.loc[ramp["tenure_month"] < RAMP_MONTHS]
    late = ramp.loc[ramp["tenure_month"] >= RAMP_MONTHS]
    out = []
    if len(early) and early["closed"].sum() > 0:
        e = rate_table([early["won"].sum()], [early["closed"].sum()]).iloc[0]
        out.append(
            f"Deals reps open in their first {RAMP_MONTHS} months are won {text.pct(e['rate'])} "
            f"{text.interval(e['lo'], e['hi'])} of the time ({int(e['n']):,} closed deals)."
        )
    if len(late) and late["closed"].sum() > 0:
        l_ = rate_table([late["won"].sum()], [late["closed"].sum()]).iloc[0]
        out.append(
            f"Deals opened from month {RAMP_MONTHS + 1} on: {text.pct(l_['rate'])} {text.interval(l_['lo'], l_['hi'])}."
        )
    m = ramp_month(ramp, reference)
    if m is not None:
        out.append(
            f"New reps reach 90% of the mature win rate ({text.pct(reference)}) with the deals they open from "
            f"month {m} on: plan new hires at reduced quota before that."
        )
    elif np.isfinite(reference):
        out.append(
            f"New reps' deals have not yet reached 90% of the mature win rate ({text.pct(reference)}) in their first year."
        )
    if ramp.loc[ramp["tenure_month"] < MAX_TENURE_MONTH, "closed"].sum() < 100:
        out.append("Few deals come from reps in their first year, so the month-by-month rates are noisy.")
    return out


def capacity_title(plan: CapacityPlan, forecast: LeadForecast) -> str:
    """Chart title of the lead forecast against capacity: how many more reps next quarter needs."""
    if plan.reps_needed:
        return f"{forecast.quarter} needs {plan.reps_needed} more rep(s)"
    return f"{plan.active_reps} reps cover {forecast.quarter}'s forecast"


def load_title(load: pd.DataFrame, quarter_label: str) -> str:
    """Chart title of the per-rep load (:func:`.metrics.rep_load`): reps given more leads than their capacity."""
    return f"{int((load['utilisation'] > 1).sum())} reps over capacity in {quarter_label}"


def capacity_sentences(plan: CapacityPlan | None, forecast: LeadForecast, load: pd.DataFrame) -> list[str]:
    """What this means for capacity."""
    if not np.isfinite(forecast.leads):
        return [
            f"No complete quarter of leads before {forecast.quarter}, so there is no lead forecast to plan against."
        ]
    out = [
        f"Lead forecast for {forecast.quarter}: {forecast.leads:,.0f} leads ({forecast.monthly_leads:,.0f} a month), "
        f"by {forecast.method}: {forecast.formula}."
    ]
    if plan is None:
        out.append("Without reps and their monthly_lead_capacity the team's capacity cannot be assessed.")
        return out
    over = load.loc[load["utilisation"] > 1]
    now = (
        f"{plan.current_gap:,.0f} leads a month more than the team's capacity of {plan.current_capacity:,.0f} — "
        f"{plan.current_reps_short} rep(s) short"
        if plan.current_gap > 0
        else f"within the team's capacity of {plan.current_capacity:,.0f} ({-plan.current_gap:,.0f} a month to spare)"
    )
    out.append(
        f"In {plan.audited_quarter} the team received {plan.current_monthly_leads:,.0f} leads a month, {now}; "
        f"{len(over)} of {int(load['monthly_lead_capacity'].notna().sum())} active reps got more leads than they can work."
    )
    if plan.shortfall > 0:
        out.append(
            f"The {plan.active_reps} reps can work {plan.team_monthly_capacity:,.0f} leads a month — "
            f"{plan.shortfall:,.0f} short of the forecast: {plan.formula}."
        )
    else:
        out.append(
            f"The {plan.active_reps} reps can work {plan.team_monthly_capacity:,.0f} leads a month, "
            f"{-plan.shortfall:,.0f} more than forecast (utilisation {text.pct(plan.utilisation, 0)}): no extra reps are "
            f"needed; the team could take more leads."
        )
    return out


# --------------------------------------------------------------------------------------------------
# findings (built from the numbers)
# --------------------------------------------------------------------------------------------------
def win_rate_gap_finding(skill: pd.DataFrame, card: pd.DataFrame, currency: str = "EUR") -> Finding | None:
    """Revenue a quarter if the bottom half of reps (by shrunk win rate) won at the team median.

    impact = Σ over bottom-half reps of (median shrunk rate − rep's shrunk rate) × deals the rep closed
    in the quarter × the team's average won deal size in the quarter. Shrunk rates from the long window.
    """
    known = skill.loc[skill["rep_id"] != UNKNOWN_REP]
    if len(known) < 4 or card is None or "closed" not in card.columns:
        return None
    med = float(known["win_rate_shrunk"].median())
    bottom = known.loc[known["win_rate_shrunk"] < med, ["rep_id", "name", "win_rate_shrunk"]]
    q = card.set_index("rep_id")
    closed = bottom["rep_id"].map(q["closed"]).fillna(0)
    avg = float(q["won_revenue"].sum() / max(q["won"].sum(), 1))
    gain = float(((med - bottom["win_rate_shrunk"]) * closed).sum() * avg)
    extra_wins = float(((med - bottom["win_rate_shrunk"]) * closed).sum())
    if gain <= 0:
        return None
    rows = bottom[["rep_id", "win_rate_shrunk"]].assign(
        closed=closed.astype(int).to_numpy(), extra_wins=((med - bottom["win_rate_shrunk"]) * closed).to_numpy()
    )
    txt = (
        f"The {len(bottom)} reps below the median win rate ({text.pct(med)}) would have won about "
        f"{extra_wins:,.0f} more deals this quarter at the median, worth about {text.money(gain, currency)}."
    )
    return Finding(
        "rep_win_rate_gap",
        txt,
        gain,
        recommendation="Pair the bottom-half reps with the top quartile (deal reviews, call shadowing) and track their shrunk win rate quarterly.",
        basis="extra wins = Σ (team median − rep shrunk win rate) × rep's closed deals this quarter; × team average won deal size",
        evidence=rows.sort_values("rep_id").reset_index(drop=True),
    )


def capacity_finding(
    plan: CapacityPlan | None,
    lead_to_win: float,
    avg_deal: float,
    currency: str = "EUR",
    team_rows: pd.DataFrame | None = None,
) -> Finding | None:
    """Revenue at stake next quarter when forecast leads exceed the team's capacity.

    impact = shortfall (leads a month) × 3 × lead→won rate of the audited quarter × average won deal
    size: the revenue of the leads nobody can work properly (an upper bound — some are still worked).
    """
    if plan is None or plan.shortfall <= 0 or not np.isfinite(lead_to_win) or not np.isfinite(avg_deal):
        return None
    impact = plan.shortfall * 3 * lead_to_win * avg_deal
    txt = (
        f"Next quarter ({plan.quarter}) about {plan.forecast_monthly_leads:,.0f} leads a month are expected against a "
        f"capacity of {plan.team_monthly_capacity:,.0f} from {plan.active_reps:,} reps: {plan.reps_needed} more "
        "rep(s) are needed; up to "
        f"{text.money(impact, currency)} of revenue a quarter is at stake."
    )
    return Finding(
        "rep_capacity_shortfall",
        txt,
        impact,
        recommendation=f"Hire or reassign {plan.reps_needed} rep(s) before {plan.quarter}, or route leads scoring below the MQL threshold to nurture.",
        basis="uncovered leads (shortfall × 3 months) × lead→won rate this quarter × average won deal size; an upper bound",
        evidence=team_rows,
    )


def archetype_findings(
    skill: pd.DataFrame, card: pd.DataFrame, section: str, currency: str = "EUR", partial: bool = False
) -> list[Finding]:
    """``rep_win_rate_gap`` (:func:`win_rate_gap_finding`) in ``section`` when it has an impact; none for a
    partial quarter."""
    gap = win_rate_gap_finding(skill, card, currency)
    return [] if gap is None or partial else [gap.in_section(section)]


def capacity_findings(
    plan: CapacityPlan | None,
    team: TeamFigures,
    avg_deal: float,
    section: str,
    currency: str = "EUR",
    team_rows: pd.DataFrame | None = None,
) -> list[Finding]:
    """``rep_capacity_shortfall`` (:func:`capacity_finding`, priced with the quarter's
    :func:`.metrics.lead_to_win` rate) in ``section`` when next quarter's forecast exceeds the team's capacity;
    ``team_rows`` (:func:`salesaudit.capacity.next_quarter_reps`): the reps whose capacity it counts."""
    short = capacity_finding(plan, lead_to_win(team), avg_deal, currency, team_rows)
    return [] if short is None else [short.in_section(section)]


# --------------------------------------------------------------------------------------------------
# the recorded figures: ``record.record`` keyword arguments per figure name
# --------------------------------------------------------------------------------------------------
def scorecard_figures(
    team: TeamFigures,
    card: pd.DataFrame,
    section: str,
    revenue_interval: tuple[float | None, float | None] | None = None,
    partial: bool = False,
) -> dict[str, dict]:
    """The team's figures of the quarter (:func:`.metrics.team_figures`): ``win_rate``, ``sales_cycle_days``,
    ``avg_deal_size``, ``speed_to_lead_hours``, ``contact_rate``; ``won_revenue`` with its noise interval
    (:func:`.metrics.won_revenue_interval`, given as ``revenue_interval``) when the deals carry amounts and
    the quarter is complete; ``reps_at_quota_share`` (:func:`.metrics.reps_at_quota`) when reps have a quota
    and the quarter is complete. Win rate and cycle are None without closed / won deals."""
    closed = team.won + team.lost
    figs = {
        "win_rate": dict(
            value=team.win_rate if closed else None,
            lo=team.win_rate_lo if closed else None,
            hi=team.win_rate_hi if closed else None,
            n=closed,
            section=section,
        ),
        "sales_cycle_days": dict(
            value=team.cycle_days if team.won else None, lo=team.cycle_lo, hi=team.cycle_hi, n=team.won, section=section
        ),
    }
    if revenue_interval is not None and not partial and np.isfinite(team.won_revenue):
        lo, hi = revenue_interval
        figs["won_revenue"] = dict(value=team.won_revenue, n=team.won, lo=lo, hi=hi, section=section)
    figs["avg_deal_size"] = dict(value=team.avg_deal_size, n=team.won, section=section)
    figs["speed_to_lead_hours"] = dict(value=team.speed_to_lead_h, n=team.leads, section=section)
    figs["contact_rate"] = dict(value=team.contact_rate, n=team.leads, section=section)
    quota = reps_at_quota(card)
    if quota is not None and not partial:
        figs["reps_at_quota_share"] = dict(value=quota[0], n=quota[1], section=section)
    return figs


def archetype_figures(skill: pd.DataFrame, contrast: pd.DataFrame, window: str, section: str) -> dict[str, dict]:
    """``rep_win_rate_spread`` (:func:`.metrics.win_rate_spread` over ``window``, with the skill ranking of
    the placed reps, best first) and ``top_quartile_speed_to_lead_hours`` (from
    :func:`.metrics.top_quartile_contrast`)."""
    known = placed_reps(skill)
    sp = contrast.set_index("metric")
    return {
        "rep_win_rate_spread": dict(
            value=win_rate_spread(skill),
            label=f"Spread of shrunk rep win rates (top − bottom rep, {window})",
            n=len(known),
            section=section,
            ranking=known.sort_values("rank")["rep_id"].tolist(),
            window=window,
        ),
        "top_quartile_speed_to_lead_hours": dict(
            value=sp["top_quartile"].get("speed_to_lead_h"),
            n=int(sp["n_top"].iloc[0]) if len(sp) else 0,
            section=section,
        ),
    }


def ramp_figures(ramp: pd.DataFrame, reference: float, section: str) -> dict[str, dict]:
    """``ramp_months`` (:func:`.metrics.ramp_month` against the mature rate ``reference``; None when never)
    and ``new_rep_win_rate`` (won / closed of :func:`.metrics.new_rep_deals`; None without such deals)."""
    won, closed = new_rep_deals(ramp)
    return {
        "ramp_months": dict(value=ramp_month(ramp, reference), section=section),
        "new_rep_win_rate": dict(
            value=won / closed if closed else None,
            label=f"Win rate of deals opened in a rep's first {RAMP_MONTHS} months",
            n=closed,
            section=section,
        ),
    }


def capacity_figures(plan: CapacityPlan, forecast: LeadForecast, quarter_label: str, section: str) -> dict[str, dict]:
    """The capacity plan (:func:`.metrics.capacity_plan`): ``reps_needed`` next quarter (with its formula),
    ``lead_forecast_monthly``, ``team_monthly_capacity``, ``monthly_leads`` and ``reps_short_now`` of the
    audited quarter, and ``capacity_shortfall``; labels name the quarters."""
    return {
        "reps_needed": dict(
            value=plan.reps_needed,
            label=f"Extra reps needed for {forecast.quarter}",
            n=plan.active_reps,
            section=section,
            formula=plan.formula,
        ),
        "lead_forecast_monthly": dict(
            value=forecast.monthly_leads,
            label=f"Lead forecast per month, {forecast.quarter}",
            section=section,
            formula=forecast.formula,
        ),
        "team_monthly_capacity": dict(value=plan.team_monthly_capacity, section=section),
        "monthly_leads": dict(
            value=plan.current_monthly_leads, label=f"Leads per month, {quarter_label}", section=section
        ),
        "reps_short_now": dict(
            value=plan.current_reps_short,
            label=f"Reps short of the leads received in {quarter_label}",
            section=section,
            capacity=plan.current_capacity,
        ),
        "capacity_shortfall": dict(value=plan.shortfall, section=section),
    }
