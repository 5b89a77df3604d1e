"""Step 06 — titles, "What this means" sentences, recorded figures and findings of the customer-service audit.

Every function takes results of :mod:`salesaudit.steps.service.metrics` and returns text (a title, a list of
sentences), the figures the notebook records (``[{name, value, label, unit, …}]`` for
``report.record.record_many``) or findings (``[Finding, …]`` of :mod:`salesaudit.findings`, for
``report.record.record_findings``). Data-derived words pass the formatters of :mod:`salesaudit.text`; a
"best"/"worst"/"beyond the noise" claim needs :data:`salesaudit.stats.MIN_CLAIM_N` cases. No charts here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import text
from salesaudit.claims import extremes, n_is, no_standout
from salesaudit.findings import Finding
from salesaudit.stats import DEFAULT_LEVEL, MIN_CLAIM_N, claimable, diff_interval, wilson_interval, z_of
from salesaudit.steps.service import metrics

__all__ = [
    "ticket_title",
    "ticket_sentences",
    "ticket_figures",
    "nps_title",
    "nps_sentences",
    "nps_figures",
    "repeat_title",
    "existing_revenue_title",
    "repeat_sentences",
    "repeat_figures",
    "driver_title",
    "driver_sentences",
    "driver_figures",
    "driver_findings",
    "referral_title",
    "referral_sentences",
    "referral_figures",
    "value_title",
    "value_sentences",
    "value_figures",
    "ltv_cac_finding",
    "value_findings",
]


def _figure(name: str, value, section: str, **kwargs) -> dict:
    """One ``{name, value, section, label, unit, lo, hi, n, higher_is_better}`` entry for ``record_many``."""
    return {"name": name, "value": value, "section": section, **kwargs}


def ticket_sentences(by_cat: pd.DataFrame, trend: pd.DataFrame) -> list[str]:
    """Volume, speed and CSAT, worst category, change against last quarter."""
    allrow = by_cat[by_cat["category"] == "all"]
    if not len(allrow) or not allrow["tickets"].iloc[0] > 0:
        return ["No tickets were opened this quarter, so response times and CSAT cannot be measured."]
    allrow = allrow.iloc[0]
    out = [
        f"{text.num(allrow['tickets'])} tickets this quarter; half got a first response within "
        f"{text.num(allrow['first_response_hours'], 1)} hours and were resolved within "
        f"{text.num(allrow['resolution_hours'], 1)} hours. CSAT {text.pct(allrow['csat'])} "
        f"{text.interval(allrow['csat_lo'], allrow['csat_hi'])} of {text.num(allrow['rated'])} rated tickets."
    ]
    cats = by_cat[(by_cat["category"] != "all") & (by_cat["rated"] > 0)]
    if len(cats) > 1:
        c = extremes(cats, "csat", "rated", "csat_lo", "csat_hi")
        if c.ok:
            w, b = c.bottom, c.top
            out.append(
                f"Lowest CSAT: **{w['category']}** ({text.pct(w['csat'])} "
                f"{text.interval(w['csat_lo'], w['csat_hi'])}, {n_is(w['rated'])} rated, resolution median "
                f"{text.num(w['resolution_hours'], 1)} h); highest: **{b['category']}** ({text.pct(b['csat'])}, "
                f"{n_is(b['rated'])})."
            )
        else:
            out.append(no_standout("ticket category's CSAT", c.ns + " rated tickets"))
    if len(trend) >= 2 and trend.iloc[-1]["rated"] > 0 and trend.iloc[-2]["rated"] > 0:
        a, b = trend.iloc[-1], trend.iloc[-2]
        ka, kb = a["csat"] * a["rated"], b["csat"] * b["rated"]
        d, lo, hi = diff_interval(ka, a["rated"], kb, b["rated"])
        out.append(
            f"CSAT is {text.change_word(float(d), float(lo), float(hi))} against last quarter: "
            f"{text.pp(float(d))} {text.interval(float(lo), float(hi), text.pp)}; volume "
            f"{text.num(b['tickets'])} → {text.num(a['tickets'])}."
        )
    return out


def nps_sentences(cur: dict, trend: pd.DataFrame) -> list[str]:
    """NPS with its interval, the split, and the change against last quarter."""
    if cur["n"] == 0:
        return ["No NPS answers this quarter."]
    iv = (
        f"90% interval {text.num(cur['lo'])} to {text.num(cur['hi'])}"
        if cur["hi"] > cur["lo"]
        else "too few, or too uniform, answers for an interval"
    )
    who = "customer" if cur["n"] == 1 else "customers"
    out = [
        f"NPS {text.num(cur['nps'])} ({iv}) from "
        f"{text.num(cur['n'])} {who}: {text.pct(cur['promoters'] / cur['n'])} promoters, "
        f"{text.pct(cur['detractors'] / cur['n'])} detractors."
    ]
    if len(trend) >= 2 and trend.iloc[-2]["n"] > 0:
        p = trend.iloc[-2]
        se = np.hypot(
            (cur["hi"] - cur["lo"]) / (2 * z_of(DEFAULT_LEVEL)), (p["hi"] - p["lo"]) / (2 * z_of(DEFAULT_LEVEL))
        )
        d = cur["nps"] - p["nps"]
        lo, hi = d - z_of(DEFAULT_LEVEL) * se, d + z_of(DEFAULT_LEVEL) * se
        out.append(
            f"Against last quarter ({text.num(p['nps'])}) NPS is {text.change_word(d, lo, hi)}: "
            f"{d:+.0f} points, 90% interval {lo:+.0f} to {hi:+.0f}."
        )
    return out


def nps_title(cur: dict, quarter_label: str) -> str:
    """Chart title for the NPS section from :func:`nps_score` of the quarter (no NaN when nobody answered,
    no zero-width interval from a single answer)."""
    if not cur["n"] > 0:
        return f"No NPS answers in {quarter_label}"
    who = "customer" if cur["n"] == 1 else "customers"
    if cur["hi"] > cur["lo"]:
        return (
            f"NPS {cur['nps']:+.0f} in {quarter_label} (90% interval {cur['lo']:+.0f} to {cur['hi']:+.0f}, "
            f"{cur['n']:,.0f} {who})"
        )
    return f"NPS {cur['nps']:+.0f} in {quarter_label} ({cur['n']:,.0f} {who}: too few for an interval)"


def repeat_title(rr: dict) -> str:
    """Chart title for the repeat-purchase section from :func:`repeat_purchase_rate`."""
    if not rr["n"] > 0:
        return "Repeat purchase: no customer has a full year of history yet"
    return f"{text.pct(rr['rate'], 0)} of customers buy again within a year"


def repeat_sentences(rr: dict, t2: dict, rev: pd.DataFrame, currency: str) -> list[str]:
    """Repeat rate, time to second purchase, revenue from existing customers."""
    if not rr["n"] > 0:
        out = [
            f"No customer first bought between {rr['cohort_start']:%b %Y} and {rr['cohort_end']:%b %Y}, so the "
            "12-month repeat rate cannot be measured yet."
        ]
    else:
        out = [
            f"{text.pct(rr['rate'])} {text.interval(rr['lo'], rr['hi'])} of the {text.num(rr['n'])} customers who first "
            f"bought between {rr['cohort_start']:%b %Y} and {rr['cohort_end']:%b %Y} bought again within 12 months."
        ]
    if np.isfinite(t2["median_days"]):
        out.append(f"Half of all customers reorder within {text.days(t2['median_days'])} of their first order.")
    else:
        out.append(
            f"Fewer than half of customers ever reorder; {text.pct(t2['repeat_within_year'])} do so within a year "
            "(Kaplan–Meier, recent customers counted for the time observed)."
        )
    if len(rev):
        r = rev.iloc[-1]
        out.append(
            f"Existing customers brought {text.money(r['existing'], currency)} this quarter, "
            f"{text.pct(r['existing_share'])} of order revenue."
        )
    return out


def driver_sentences(
    by_csat: pd.DataFrame | None, gap: dict | None, by_nps: pd.DataFrame | None, gap_nps: dict | None
) -> list[str]:
    """Does service drive repeat purchase: the high − low CSAT gap and the promoter − detractor gap (None = no data)."""
    out = []
    tables = [t for t in (by_csat, by_nps) if t is not None]
    if not any(len(t) and t["n"].sum() > 0 for t in tables):
        return [
            "No customer first bought 12–24 months before the end of the quarter, so repeat purchase cannot be "
            "related to service yet."
        ]
    if (gap is None or not np.isfinite(gap["gap"])) and (gap_nps is None or not np.isfinite(gap_nps["gap"])):
        out.append("Too few customers in the groups to compare (high vs low CSAT, promoters vs detractors).")
    if by_csat is not None and gap is not None and np.isfinite(gap["gap"]):
        t = by_csat.set_index("group")
        word = "higher" if gap["gap"] > 0 else "lower"
        real = "larger than the noise" if gap["lo"] > 0 or gap["hi"] < 0 else "within the noise"
        out.append(
            f"Customers with high CSAT (mean ≥ 4) repeat at {text.pct(t.at['high', 'rate'])}, low-CSAT customers at "
            f"{text.pct(t.at['low', 'rate'])}: {text.pp(abs(gap['gap']))} {word} "
            f"{text.interval(gap['lo'], gap['hi'], text.pp)}, {real}."
        )
    if gap_nps is not None and by_nps is not None and np.isfinite(gap_nps["gap"]):
        out.append(
            f"Promoters repeat {text.pp(gap_nps['gap'])} more often than detractors "
            f"{text.interval(gap_nps['lo'], gap_nps['hi'], text.pp)}."
        )
    out.append("This is an association: happier customers may both rate better and buy more for other reasons.")
    return out


def referral_sentences(summary: dict, conv: pd.DataFrame, referral_channel: str) -> list[str]:
    """Referral leads per promoter per month and how referral leads convert against the other channels."""
    out = []
    if np.isfinite(summary["per_promoter_month"]):
        real = summary["lo"] > 0
        out.append(
            f"Each promoter brings about {summary['per_promoter_month']:.2f} referral leads a month "
            f"(90% interval {summary['lo']:.2f}–{summary['hi']:.2f}; "
            f"{'a real link' if real else 'not distinguishable from no link'}); "
            f"{text.num(summary['baseline'], 0)} referral leads a month come regardless. "
            f"{text.num(summary['referrals'])} referral leads in {summary['months']} months, "
            f"{text.num(summary['promoters_now'])} promoters at the latest month."
        )
    else:
        out.append("Too few months with promoters to relate referrals to them.")
    r = conv[conv["channel"] == referral_channel]
    if len(r) and r.iloc[0]["n"] > 0:
        x = r.iloc[0]
        rest = conv[conv["channel"] != referral_channel]
        k0, n0 = float(rest["k"].sum()), float(rest["n"].sum())
        sent = (
            f"Referral leads become customers at {text.pct(x['rate'])} {text.interval(x['lo'], x['hi'])}, "
            f"{n_is(x['n'])} leads"
        )
        if n0 > 0:
            (lo0,), (hi0,) = (np.atleast_1d(v) for v in wilson_interval(k0, n0))
            apart = claimable(x["n"], n0, x["lo"], x["hi"], lo0, hi0)
            word = ("higher than" if x["rate"] > k0 / n0 else "lower than") if apart else "not beyond the noise from"
            sent += f" — {word} the other channels' {text.pct(k0 / n0)} ({n_is(n0)})"
        out.append(sent + ".")
    return out


def value_sentences(val: pd.DataFrame, currency: str, gross_margin: float) -> list[str]:
    """Most and least valuable channels, and LTV:CAC where spend exists."""
    if val.empty:
        return [
            "No customers whose first order falls 12–24 months before the end of the quarter, so the value "
            "of a customer by channel cannot be measured yet (it needs a full year of orders)."
        ]
    c = extremes(val, "revenue_12m", "customers", "revenue_lo", "revenue_hi")
    if c.ok:
        top, low = c.top, c.bottom
        out = [
            f"**{top['channel']}** customers are worth the most: {text.money(top['revenue_12m'], currency)} in their "
            f"first 12 months ({n_is(top['customers'])}); **{low['channel']}** the least "
            f"({text.money(low['revenue_12m'], currency)}, {n_is(low['customers'])})."
        ]
    else:
        out = [no_standout("channel's 12-month revenue per customer", c.ns + " customers")]
    ratio = pd.to_numeric(val["ltv_cac"], errors="coerce").astype(float)
    paid = val.loc[np.isfinite(ratio)].sort_values("ltv_cac")
    if len(paid):
        w, b = paid.iloc[0], paid.iloc[-1]
        rng = (
            f"from {w['ltv_cac']:.1f} (**{w['channel']}**, {n_is(w['customers'])}) to {b['ltv_cac']:.1f} "
            f"(**{b['channel']}**, {n_is(b['customers'])})"
            if len(paid) > 1
            else f"{w['ltv_cac']:.1f} (**{w['channel']}**, {n_is(w['customers'])})"
        )
        out.append(
            f"LTV:CAC (LTV = {text.pct(gross_margin, 0)} gross margin × 12-month revenue) runs {rng}"
            + (
                f" — below 1, {w['channel']} customers do not pay back their acquisition cost in a year."
                if w["ltv_cac"] < 1 and w["customers"] >= MIN_CLAIM_N
                else "."
            )
        )
    return out


def value_title(val: pd.DataFrame) -> str:
    """Chart title for the value by channel: the most valuable channel only under the claim rule."""
    c = extremes(val, "revenue_12m", "customers", "revenue_lo", "revenue_hi")
    if c.ok:
        return f"{c.top['channel']} customers are worth most in their first year ({n_is(c.top['customers'])})"
    return f"No channel's first-year customer value stands out beyond the noise ({c.ns} customers)"


def ticket_title(by_cat: pd.DataFrame, quarter_label: str) -> str:
    """Chart title: CSAT of the quarter and the lowest category only under the claim rule."""
    a = by_cat[by_cat["category"] == "all"].iloc[0]
    head = f"CSAT {text.pct(a['csat'], 0)} in {quarter_label} ({n_is(a['rated'])} rated)"
    cats = by_cat[(by_cat["category"] != "all") & (by_cat["rated"] > 0)]
    c = extremes(cats, "csat", "rated", "csat_lo", "csat_hi")
    if c.ok:
        return head + f"; lowest in {c.bottom['category']} ({text.pct(c.bottom['csat'], 0)}, {n_is(c.bottom['rated'])})"
    return head + "; no category stands out beyond the noise"


def ltv_cac_finding(
    val: pd.DataFrame, currency: str, gross_margin: float | None = None, minimum: int = MIN_CLAIM_N
) -> dict | None:
    """The paid channel with the lowest LTV:CAC, when below 1: quarterly spend not paid back in a year.

    Only channels with at least ``minimum`` cohort customers are judged (the claim rule). impact, on the
    audit's revenue scale = (CAC − LTV) × the channel's cohort customers ÷ 4 (the cohort spans a year)
    ÷ gross margin: the extra revenue per quarter whose margin would pay the spend back (the margin
    gap itself when ``gross_margin`` is not given).
    """
    if val.empty or "ltv_cac" not in val.columns:
        return None
    ratio = pd.to_numeric(val["ltv_cac"], errors="coerce").astype(float)
    paid = val.loc[np.isfinite(ratio) & (val["customers"] >= minimum)].sort_values("ltv_cac")
    if paid.empty or paid.iloc[0]["ltv_cac"] >= 1:
        return None
    w = paid.iloc[0]
    gm = gross_margin if gross_margin and gross_margin > 0 else 1.0
    impact = float((w["cac"] - w["ltv"]) * w["customers"] / 4 / gm)
    return {
        "channel": w["channel"],
        "ltv_cac": float(w["ltv_cac"]),
        "impact": impact,
        "text": f"{w['channel']} customers return {w['ltv_cac']:.1f} in first-year margin per 1 spent to win them "
        f"(CAC {text.money(w['cac'], currency)}, LTV {text.money(w['ltv'], currency)}, {n_is(w['customers'])} customers).",
    }


# --------------------------------------------------------------------------------------------------
# chart titles the notebook used to build inline
# --------------------------------------------------------------------------------------------------
def existing_revenue_title(rev: pd.DataFrame, quarter_label: str) -> str:
    """Panel title: existing customers' share of the quarter's order revenue (:func:`metrics.existing_customer_revenue`)."""
    return f"Existing customers: {text.pct(rev['existing_share'].iloc[-1], 0)} of {quarter_label} revenue"


def driver_title(gap: dict) -> str:
    """Chart title of the repeat rate by service group: the high − low CSAT gap when it is measured."""
    if np.isfinite(gap["gap"]):
        return f"High-CSAT customers repeat {text.pp(gap['gap'])} more often than low-CSAT ones"
    return "Repeat purchase by NPS group"


def referral_title(summary: dict) -> str:
    """Chart title of the word-of-mouth section from :func:`metrics.referrals_vs_promoters`."""
    if np.isfinite(summary["per_promoter_month"]):
        return f"Each promoter brings ~{summary['per_promoter_month']:.2f} referral leads a month"
    return "Referral leads and promoters"


# --------------------------------------------------------------------------------------------------
# recorded figures (``record_many``) and findings (``record_findings``), one list per section
# --------------------------------------------------------------------------------------------------
def ticket_figures(by_cat: pd.DataFrame, section: str) -> list[dict]:
    """``csat``, ``tickets``, ``ticket_first_response_hours``, ``ticket_resolution_hours`` of the quarter
    (the ``all`` row, last, of :func:`metrics.tickets_by_category`); CSAT None when nothing was rated."""
    a = by_cat.iloc[-1]
    return [
        _figure(
            "csat",
            a["csat"] if a["rated"] else None,
            section,
            label="CSAT (share of rated tickets scored 4–5)",
            unit="%",
            lo=a["csat_lo"],
            hi=a["csat_hi"],
            n=a["rated"],
            higher_is_better=True,
        ),
        _figure("tickets", a["tickets"], section, label="Tickets opened", unit="count", higher_is_better=None),
        _figure(
            "ticket_first_response_hours",
            a["first_response_hours"],
            section,
            label="First response (median hours)",
            unit="hours",
            n=a["tickets"],
            higher_is_better=False,
        ),
        _figure(
            "ticket_resolution_hours",
            a["resolution_hours"],
            section,
            label="Resolution (median hours)",
            unit="hours",
            n=a["tickets"],
            higher_is_better=False,
        ),
    ]


def nps_figures(cur: dict, section: str) -> list[dict]:
    """``nps`` of the quarter from :func:`metrics.nps_score` (None when nobody answered)."""
    return [
        _figure(
            "nps",
            cur["nps"] if cur["n"] else None,
            section,
            label="NPS (% promoters − % detractors)",
            unit="score",
            lo=cur["lo"],
            hi=cur["hi"],
            n=cur["n"],
            higher_is_better=True,
        )
    ]


def repeat_figures(rr: dict, t2: dict, rev: pd.DataFrame, section: str) -> list[dict]:
    """``repeat_purchase_rate`` (None for an empty cohort), ``repeat_within_year_km``,
    ``existing_customer_revenue`` and its share (the last quarter of ``rev``)."""
    return [
        _figure(
            "repeat_purchase_rate",
            rr["rate"] if rr["n"] else None,
            section,
            label="Repeat purchase rate (2nd order within 12 months, first-order cohort 12–24 months back)",
            unit="%",
            lo=rr["lo"],
            hi=rr["hi"],
            n=rr["n"],
            higher_is_better=True,
        ),
        _figure(
            "repeat_within_year_km",
            t2["repeat_within_year"],
            section,
            label="Customers reordering within 365 days (Kaplan–Meier)",
            unit="%",
            n=t2["customers"],
            higher_is_better=True,
        ),
        _figure(
            "existing_customer_revenue",
            rev["existing"].iloc[-1],
            section,
            label="Order revenue from existing customers",
            unit="money",
            higher_is_better=True,
        ),
        _figure(
            "existing_customer_revenue_share",
            rev["existing_share"].iloc[-1],
            section,
            label="Share of order revenue from existing customers",
            unit="%",
            higher_is_better=True,
        ),
    ]


def driver_figures(by_csat: pd.DataFrame | None, gap: dict, section: str) -> list[dict]:
    """``repeat_rate_high_csat``, ``repeat_rate_low_csat`` (None without the group) and ``repeat_gap_csat``."""
    t = by_csat.set_index("group") if by_csat is not None else None
    out = []
    for grp in ("high", "low"):
        ok = t is not None and grp in t.index
        out.append(
            _figure(
                f"repeat_rate_{grp}_csat",
                t.at[grp, "rate"] if ok else None,
                section,
                label=f"Repeat purchase rate, {grp}-CSAT customers",
                unit="%",
                lo=t.at[grp, "lo"] if ok else None,
                hi=t.at[grp, "hi"] if ok else None,
                n=t.at[grp, "n"] if ok else None,
                higher_is_better=True,
            )
        )
    out.append(
        _figure(
            "repeat_gap_csat",
            gap["gap"],
            section,
            label="Repeat rate gap, high − low CSAT",
            unit="%",
            lo=gap["lo"],
            hi=gap["hi"],
            higher_is_better=None,
        )
    )
    return out


def driver_findings(
    drivers: metrics.Drivers, orders: pd.DataFrame, gross_margin: float, section: str, minimum: int = MIN_CLAIM_N
) -> list[Finding]:
    """Finding ``service_repeat_gap``: revenue at stake if low-CSAT customers repeated like high-CSAT ones.

    impact as :func:`metrics.repeat_gap_impact`; only when it is positive (the gap's interval excludes 0)
    and both groups have at least ``minimum`` customers. Empty without tickets.
    """
    if drivers.csat_groups is None:
        return []
    gap, t = drivers.gap, drivers.by_csat.set_index("group")
    impact = metrics.repeat_gap_impact(drivers.cohort, drivers.csat_groups, gap, orders, gross_margin)
    n_hi, n_lo = (int(t.at[g, "n"]) if g in t.index else 0 for g in ("high", "low"))
    if not (impact > 0 and min(n_hi, n_lo) >= minimum):
        return []
    c = drivers.cohort.assign(csat_group=drivers.csat_groups.to_numpy())
    rated = (
        c.loc[c["csat_group"].isin(["high", "low"])]
        .rename(columns={"first_order": "first_order_at", "second_order": "second_order_at"})
        .sort_values("customer_id")
    )
    return [
        Finding(
            "service_repeat_gap",
            f"Customers with high CSAT buy again {text.pp(gap['gap'])} more often than low-CSAT customers "
            f"({text.pct(t.at['high', 'rate'], 0)}, n = {n_hi:,}, vs {text.pct(t.at['low', 'rate'], 0)}, "
            f"n = {n_lo:,}; {len(rated):,} rated customers in all).",
            impact,
            section=section,
            recommendation="Follow up every ticket rated 1–3 within a week and fix the causes the low ratings name.",
            basis="revenue per quarter = gap × low-CSAT customers per quarter × mean repeat order",
            evidence=rated,
        )
    ]


def referral_figures(summary: dict, conv: pd.DataFrame, referral_channel: str, section: str) -> list[dict]:
    """``referrals_per_promoter_month`` (:func:`metrics.referrals_vs_promoters`) and
    ``referral_conversion_rate`` (the referral channel's row of :func:`metrics.conversion_by_channel`; None
    when the channel has no lead)."""
    r = conv[conv["channel"] == referral_channel]
    has = len(r) > 0
    return [
        _figure(
            "referrals_per_promoter_month",
            summary["per_promoter_month"],
            section,
            label="Referral leads per promoter per month",
            unit="ratio",
            lo=summary["lo"],
            hi=summary["hi"],
            n=summary["months"],
            higher_is_better=True,
        ),
        _figure(
            "referral_conversion_rate",
            r["rate"].iloc[0] if has else None,
            section,
            label="Referral leads → customer within 180 days",
            unit="%",
            lo=r["lo"].iloc[0] if has else None,
            hi=r["hi"].iloc[0] if has else None,
            n=r["n"].iloc[0] if has else None,
            higher_is_better=True,
        ),
    ]


def value_figures(val: pd.DataFrame, section: str) -> list[dict]:
    """``ltv_cac_paid`` (:func:`metrics.ltv_cac_paid`) and ``revenue_12m_per_customer``
    (:func:`metrics.revenue_12m_per_customer`) of :func:`metrics.value_by_channel`."""
    paid = metrics.ltv_cac_paid(val)
    return [
        _figure(
            "ltv_cac_paid",
            paid.ratio,
            section,
            label="LTV:CAC, all paid channels (1-year gross-margin LTV)",
            unit="ratio",
            n=paid.customers,
            higher_is_better=True,
        ),
        _figure(
            "revenue_12m_per_customer",
            metrics.revenue_12m_per_customer(val),
            section,
            label="12-month revenue per customer",
            unit="money",
            n=int(val["customers"].sum()),
            higher_is_better=True,
        ),
    ]


def value_findings(val: pd.DataFrame, currency: str, gross_margin: float, section: str) -> list[Finding]:
    """Finding ``ltv_cac_below_one`` from :func:`ltv_cac_finding`, when its impact is positive."""
    worst = ltv_cac_finding(val, currency, gross_margin)
    if worst is None or not worst["impact"] > 0:
        return []
    return [
        Finding(
            "ltv_cac_below_one",
            worst["text"],
            worst["impact"],
            section=section,
            recommendation=f"Cut or rework {worst['channel']} spend until its customers pay back within a year.",
            basis="revenue per quarter = (CAC − LTV) × the channel's customers per quarter ÷ gross margin: the "
            "extra revenue whose margin would pay the spend back",
        )
    ]
