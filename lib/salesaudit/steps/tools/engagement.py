"""Step 02 — the team's tools: e-mail stream engagement and the manual work of the sales team.

E-mail rates are pooled over the sends of a stream (Σ numerator / Σ denominator), so a big send
weighs more than a small one; every rate comes with its counts and a 90% Wilson interval. The
interval treats each recipient of each send as one trial, which understates the noise when sends
differ a lot from each other (state it when comparing close streams).

Manual work is read from ``activities`` (call / email / meeting / demo / other) and the contact
timestamps on ``leads``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import text
from salesaudit.claims import extremes, n_is, no_standout
from salesaudit.periods import Quarter, quarter_labels
from salesaudit.stats import (
    DEFAULT_LEVEL,
    MIN_CLAIM_N,
    claimable,
    diff_interval,
    mean_interval,
    rate_table,
    wilson_interval,
)

#: e-mail rates: name → (numerator column, denominator column)
EMAIL_RATES: dict[str, tuple[str, str]] = {
    "open_rate": ("opens", "base"),
    "click_rate": ("clicks", "base"),
    "click_to_open": ("clicks", "opens"),
    "unsubscribe_rate": ("unsubscribes", "base"),
}
#: a lead not contacted within this many days of creation counts as "never contacted"
NEVER_CONTACTED_DAYS = 14


# --------------------------------------------------------------------------------------------------
# e-mail streams
# --------------------------------------------------------------------------------------------------
def _with_base(sends: pd.DataFrame) -> pd.DataFrame:
    """Add ``base`` = delivered when given (else recipients) and ``unsubscribes`` (0 when absent)."""
    base = sends["recipients"].astype(float)
    if "delivered" in sends.columns:
        base = sends["delivered"].astype(float).fillna(base)
    unsub = sends["unsubscribes"].astype(float).fillna(0.0) if "unsubscribes" in sends.columns else 0.0
    return sends.assign(base=base, unsubscribes=unsub)


def email_rates(sends: pd.DataFrame, by: list[str] | str = "stream", level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Pooled e-mail engagement rates per group, each with a Wilson interval.

    open rate = Σ unique opens / Σ delivered; click rate = Σ unique clicks / Σ delivered;
    click-to-open (CTOR) = Σ clicks / Σ opens; unsubscribe rate = Σ unsubscribes / Σ delivered.
    Delivered falls back to recipients when the ``delivered`` column is absent or empty (the usual
    ESP convention, e.g. Mailchimp's "opens / successful deliveries").

    Returns one row per group with ``sends, recipients, base, opens, clicks, unsubscribes`` and for each
    rate ``<rate>, <rate>_lo, <rate>_hi``.
    """
    by = [by] if isinstance(by, str) else list(by)
    d = _with_base(sends)
    g = (
        d.groupby(by, observed=True, sort=True)
        .agg(
            sends=("send_id", "size"),
            recipients=("recipients", "sum"),
            base=("base", "sum"),
            opens=("opens", "sum"),
            clicks=("clicks", "sum"),
            unsubscribes=("unsubscribes", "sum"),
        )
        .reset_index()
    )
    out = g
    for name, (k, n) in EMAIL_RATES.items():
        r = rate_table(g[k].to_numpy(), g[n].to_numpy(), level)
        out = out.assign(
            **{name: r["rate"].to_numpy(), f"{name}_lo": r["lo"].to_numpy(), f"{name}_hi": r["hi"].to_numpy()}
        )
    return out


def email_by_quarter(sends: pd.DataFrame, fy_start_month: int = 1, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """:func:`email_rates` per stream and fiscal quarter of ``sent_at`` (column ``quarter``)."""
    return email_rates(
        sends.assign(quarter=quarter_labels(sends["sent_at"], fy_start_month)), ["stream", "quarter"], level
    )


def stream_scorecard(sends: pd.DataFrame, quarter: Quarter, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """This quarter's rates per stream, the change against the previous quarter and a verdict.

    change = rate(this quarter) − rate(previous quarter), Newcombe interval (``*_change_lo/hi``);
    ``vs_others`` = click rate of the stream − pooled click rate of all other streams this quarter
    (Newcombe interval). ``verdict``: *leads* / *lags* when that interval excludes 0, else *average*.
    Sorted by click rate, best first.
    """
    now = sends[quarter.contains(sends["sent_at"])]
    before = sends[quarter.previous().contains(sends["sent_at"])]
    cur = email_rates(now, "stream", level)
    if cur.empty:
        return cur
    prev = email_rates(before, "stream", level).set_index("stream").reindex(cur["stream"])
    out = cur.copy()
    for name, (k, n) in EMAIL_RATES.items():
        d, lo, hi = diff_interval(
            cur[k].to_numpy(), cur[n].to_numpy(), prev[k].fillna(0).to_numpy(), prev[n].fillna(0).to_numpy(), level
        )
        out[f"{name}_prev"] = prev[name].to_numpy()
        out[f"{name}_change"] = d
        out[f"{name}_change_lo"] = lo
        out[f"{name}_change_hi"] = hi
    out["base_prev"] = prev["base"].fillna(0).to_numpy()
    tot_k, tot_n = cur["clicks"].sum(), cur["base"].sum()
    d, lo, hi = diff_interval(cur["clicks"], cur["base"], tot_k - cur["clicks"], tot_n - cur["base"], level)
    verdict = np.where(lo > 0, "leads", np.where(hi < 0, "lags", "average"))
    return (
        out.assign(vs_others=d, vs_others_lo=lo, vs_others_hi=hi, verdict=verdict)
        .sort_values("click_rate", ascending=False)
        .reset_index(drop=True)
    )


def email_sentences(card: pd.DataFrame) -> list[str]:
    """ "What this means" sentences for the stream scorecard (best / lagging streams, biggest moves).

    "Engages best", "lags" and "highest unsubscribe rate" follow the claim rule (:mod:`salesaudit.claims`:
    n ≥ MIN_CLAIM_N delivered e-mails in each stream compared, intervals apart), with their n.
    """
    if card.empty:
        return ["No e-mails were sent this quarter."]
    c = extremes(card, "click_rate", "base", "click_rate_lo", "click_rate_hi")
    if c.ok:
        best, worst = c.top, c.bottom
        out = [
            f"**{best['stream']}** engages best: click rate {text.pct(best['click_rate'])} "
            f"{text.interval(best['click_rate_lo'], best['click_rate_hi'])}, click-to-open {text.pct(best['click_to_open'])}, "
            f"{n_is(best['base'])} delivered e-mails; **{worst['stream']}** the least: "
            f"{text.pct(worst['click_rate'])}, {n_is(worst['base'])}."
        ]
    else:
        out = [no_standout("stream's click rate", c.ns)]
    lag = card[(card["verdict"] == "lags") & (card["base"] >= MIN_CLAIM_N)]
    if len(lag):
        names = ", ".join(
            f"**{s}** ({text.pct(r)}, {n_is(b)})" for s, r, b in zip(lag["stream"], lag["click_rate"], lag["base"])
        )
        out.append(f"Lagging (click rate below the other streams beyond the noise): {names}.")
    else:
        out.append("No stream's click rate is below the others by more than the noise.")
    u = extremes(card, "unsubscribe_rate", "base", "unsubscribe_rate_lo", "unsubscribe_rate_hi")
    if u.ok:
        unsub = u.top
        out.append(
            f"Highest unsubscribe rate: **{unsub['stream']}** at {text.pct(unsub['unsubscribe_rate'], 2)} of delivered "
            f"e-mails {text.interval(unsub['unsubscribe_rate_lo'], unsub['unsubscribe_rate_hi'], lambda x: text.pct(x, 2))}, "
            f"{n_is(unsub['base'])}."
        )
    prev_n = card["base_prev"] if "base_prev" in card.columns else card["base"]
    moved = card[
        ((card["click_rate_change_lo"] > 0) | (card["click_rate_change_hi"] < 0))
        & (card["base"] >= MIN_CLAIM_N)
        & (prev_n.fillna(0) >= MIN_CLAIM_N)
    ]
    for _, r in moved.iterrows():
        out.append(
            f"**{r['stream']}** click rate moved {text.pp(r['click_rate_change'])} against last quarter "
            f"{text.interval(r['click_rate_change_lo'], r['click_rate_change_hi'], text.pp)}."
        )
    if moved.empty:
        out.append("No stream's click rate changed against last quarter by more than the noise.")
    return out


def stream_title(card: pd.DataFrame, quarter_label: str) -> str:
    """Chart title: the best and the lagging stream only when the claim rule allows it."""
    c = extremes(card, "click_rate", "base", "click_rate_lo", "click_rate_hi")
    if c.ok:
        return (
            f"{c.top['stream']} engages best ({n_is(c.top['base'])}), {c.bottom['stream']} least "
            f"({n_is(c.bottom['base'])}): click rate, {quarter_label}"
        )
    return f"No stream's click rate stands out beyond the noise in {quarter_label} ({c.ns} delivered)"


# --------------------------------------------------------------------------------------------------
# manual work: activities per won deal, speed to first contact, leads never contacted
# --------------------------------------------------------------------------------------------------
def won_deals_in(opportunities: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    """Opportunities won (``status == "won"``) with ``closed_at`` in the quarter."""
    status = (
        opportunities["status"]
        if "status" in opportunities.columns
        else np.where(opportunities["is_won"].fillna(False), "won", "")
    )
    won = (pd.Series(status, index=opportunities.index) == "won") & quarter.contains(opportunities["closed_at"])
    return opportunities[won.to_numpy()]


def deal_activities(activities: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Activities that worked each deal: on the opportunity, or on its lead up to the close date.

    An activity is counted once (by ``activity_id``) even when it names both the lead and the deal.
    Returns the activities with the deal's ``opportunity_id`` in column ``deal_id``.
    """
    cols = ["activity_id", "type", "occurred_at"]
    parts = [pd.DataFrame(columns=cols + ["deal_id"])]
    if "opportunity_id" in activities.columns:
        parts.append(
            activities[cols + ["opportunity_id"]]
            .merge(deals[["opportunity_id"]], on="opportunity_id", how="inner")
            .rename(columns={"opportunity_id": "deal_id"})
        )
    if "lead_id" in activities.columns and "lead_id" in deals.columns:
        on_lead = (
            activities[cols + ["lead_id"]]
            .dropna(subset=["lead_id"])
            .merge(
                deals[["opportunity_id", "lead_id", "closed_at"]].dropna(subset=["lead_id"]), on="lead_id", how="inner"
            )
        )
        on_lead = on_lead[on_lead["occurred_at"] <= on_lead["closed_at"]]
        parts.append(on_lead.rename(columns={"opportunity_id": "deal_id"})[cols + ["deal_id"]])
    return pd.concat(parts, ignore_index=True).drop_duplicates(["activity_id", "deal_id"])


def activities_per_won_deal(
    activities: pd.DataFrame, opportunities: pd.DataFrame, quarter: Quarter, level: float = DEFAULT_LEVEL
) -> pd.DataFrame:
    """Mean activities per deal won in the quarter, by activity type (plus ``total``).

    activities per won deal (type) = Σ activities of that type on won deals / number of won deals,
    with a t interval over deals (deals with none count as 0). Activities are attached as in
    :func:`deal_activities`. Columns ``type, per_deal, lo, hi, deals, activities``.
    """
    deals = won_deals_in(opportunities, quarter)
    n = len(deals)
    types = sorted(activities["type"].dropna().unique())
    if n == 0:
        return pd.DataFrame(
            {"type": types + ["total"], "per_deal": np.nan, "lo": np.nan, "hi": np.nan, "deals": 0, "activities": 0}
        )
    acts = deal_activities(activities, deals)
    counts = pd.crosstab(acts["deal_id"], acts["type"]).reindex(index=deals["opportunity_id"], columns=types).fillna(0)
    counts = counts.assign(total=counts.sum(axis=1))
    rows = [(t, *mean_interval(counts[t].to_numpy(), level), n, int(counts[t].sum())) for t in counts.columns]
    return pd.DataFrame(rows, columns=["type", "per_deal", "lo", "hi", "deals", "activities"])


def activities_trend(
    activities: pd.DataFrame, opportunities: pd.DataFrame, quarters: list[Quarter], level: float = DEFAULT_LEVEL
) -> pd.DataFrame:
    """:func:`activities_per_won_deal` for each quarter (column ``quarter``), oldest first."""
    return pd.concat(
        [activities_per_won_deal(activities, opportunities, q, level).assign(quarter=q.label) for q in quarters],
        ignore_index=True,
    )


def first_contact(
    leads: pd.DataFrame,
    quarter: Quarter,
    never_days: int = NEVER_CONTACTED_DAYS,
    level: float = DEFAULT_LEVEL,
    activities: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> dict:
    """Speed to first contact and leads never contacted, for leads created in the quarter.

    Observation stops at the end of the quarter (no later data is used, so past quarters read as they
    did then), or at ``as_of`` (the extraction date) when that comes first — a partial quarter. Speed: :func:`salesaudit.speed.speed_to_first_contact` — the audit's one definition,
    shared with step 05: Kaplan–Meier median hours from ``created_at`` to the first contact, leads not
    yet contacted censored at the cut-off (not dropped), with a 90% interval (``median_lo``,
    ``median_hi``); ``within_1_day`` = 1 − S(24 h).
    Never contacted = leads with no contact within ``never_days`` of creation, among the leads created
    at least ``never_days`` before the cut-off (Wilson interval).
    """
    from salesaudit.speed import contact_durations, speed_to_first_contact

    cut = quarter.end if as_of is None or pd.isna(as_of) else min(quarter.end, pd.Timestamp(as_of))
    speed = speed_to_first_contact(leads, quarter.start, cut, activities)
    d = contact_durations(leads, quarter.start, cut, activities)
    created = leads.loc[(leads["created_at"] >= quarter.start) & (leads["created_at"] < cut), "created_at"]
    old = (created <= cut - pd.Timedelta(days=never_days)).to_numpy()
    in_time = d["observed"].to_numpy() & (d["hours"].to_numpy() <= never_days * 24)
    never = int((old & ~in_time).sum())
    n_old = int(old.sum())
    r = rate_table([never], [n_old], level).iloc[0]
    return {
        "quarter": quarter.label,
        "leads": speed["leads"],
        "contacted": speed["contacted"],
        "censored": speed["censored"],
        "median_hours": speed["median_hours"],
        "median_lo": speed["lo_hours"],
        "median_hi": speed["hi_hours"],
        "within_1_day": speed["within_1_day"],
        "never_contacted": never,
        "never_base": n_old,
        "never_rate": r["rate"] if n_old else float("nan"),
        "never_lo": r["lo"] if n_old else float("nan"),
        "never_hi": r["hi"] if n_old else float("nan"),
    }


def first_contact_trend(
    leads: pd.DataFrame,
    quarters: list[Quarter],
    never_days: int = NEVER_CONTACTED_DAYS,
    level: float = DEFAULT_LEVEL,
    activities: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """:func:`first_contact` for each quarter, one row each, oldest first (observation stops at ``as_of``)."""
    return pd.DataFrame([first_contact(leads, q, never_days, level, activities, as_of) for q in quarters])


def manual_work_sentences(
    per_deal: pd.DataFrame | None, per_deal_prev: pd.DataFrame | None, contact: pd.DataFrame | None
) -> list[str]:
    """Sentences on activities per won deal (this vs previous quarter) and first-contact speed (None = no data)."""
    out: list[str] = []
    if per_deal is None:
        out.append("No activities or opportunities data, so activities per won deal cannot be measured.")
    elif len(per_deal) and per_deal["deals"].iloc[0] > 0:
        tot = per_deal.set_index("type").loc["total"]
        prev = per_deal_prev.set_index("type")["per_deal"] if per_deal_prev is not None else pd.Series(dtype=float)
        top = per_deal[per_deal["type"] != "total"].sort_values("per_deal", ascending=False).iloc[0]
        change = ""
        if "total" in prev.index and not np.isnan(prev["total"]):
            change = f" (last quarter {text.num(prev['total'], 1)})"
        iv = text.interval(tot["lo"], tot["hi"], lambda x: text.num(x, 1)) or "(one won deal: no interval)"
        out.append(
            f"A deal won this quarter took {text.num(tot['per_deal'], 1)} logged activities on average "
            f"{iv}{change}; the most frequent kind is "
            f"**{top['type']}** ({text.num(top['per_deal'], 1)} per deal)."
        )
    else:
        out.append("No deals were won this quarter, so activities per won deal cannot be measured.")
    if contact is None:
        out.append("The leads have no first_contact_at column, so speed to first contact cannot be measured.")
    elif len(contact):
        cur = contact.iloc[-1]
        if "leads" in cur.index:
            from salesaudit.speed import speed_sentence

            out.append(
                speed_sentence(
                    {
                        "leads": int(cur["leads"]),
                        "contacted": int(cur["contacted"]),
                        "censored": int(cur["censored"]),
                        "median_hours": cur["median_hours"],
                        "lo_hours": cur.get("median_lo", np.nan),
                        "hi_hours": cur.get("median_hi", np.nan),
                        "within_1_day": cur["within_1_day"],
                    }
                )
            )
        else:
            out.append(
                f"Half of this quarter's new leads were contacted within {text.num(cur['median_hours'], 1)} hours; "
                f"{text.pct(cur['within_1_day'])} within a day."
            )
        if pd.isna(cur["never_rate"]):
            out.append(
                f"No lead of this quarter is {NEVER_CONTACTED_DAYS} days old yet, so leads never contacted are not "
                "measured."
            )
            return out
        out.append(
            f"{text.pct(cur['never_rate'])} of the leads old enough to judge were not contacted within "
            f"{NEVER_CONTACTED_DAYS} days {text.interval(cur['never_lo'], cur['never_hi'])}"
            + (
                f", against {text.pct(contact.iloc[-2]['never_rate'])} the quarter before."
                if len(contact) > 1 and pd.notna(contact.iloc[-2]["never_rate"])
                else "."
            )
        )
    return out


# --------------------------------------------------------------------------------------------------
# tables for the notebook and findings
# --------------------------------------------------------------------------------------------------


def stream_table(card: pd.DataFrame) -> pd.DataFrame:
    """The stream scorecard as a compact, readable table (rates with 90% intervals)."""
    return pd.DataFrame(
        {
            "Stream": card["stream"],
            "Sends": card["sends"].astype(int),
            "Delivered": card["base"].map("{:,.0f}".format),
            "Open rate": text.fmt_ci(card["open_rate"], card["open_rate_lo"], card["open_rate_hi"]),
            "Click rate": text.fmt_ci(card["click_rate"], card["click_rate_lo"], card["click_rate_hi"], 2),
            "Click-to-open": text.fmt_ci(card["click_to_open"], card["click_to_open_lo"], card["click_to_open_hi"]),
            "Unsubscribes": text.fmt_ci(
                card["unsubscribe_rate"], card["unsubscribe_rate_lo"], card["unsubscribe_rate_hi"], 2
            ),
            "Click rate vs last quarter": text.fmt_ci(
                card["click_rate_change"], card["click_rate_change_lo"], card["click_rate_change_hi"], 2, suffix=" pp"
            ),
            "Verdict": card["verdict"],
        }
    ).set_index("Stream")


def activities_table(trend: pd.DataFrame) -> pd.DataFrame:
    """Activities per won deal: one row per type, one column per quarter (plus won deals)."""
    t = trend.pivot(index="type", columns="quarter", values="per_deal").round(1)
    order = [x for x in t.index if x != "total"] + ["total"]
    t = t.reindex(order)
    deals = trend.drop_duplicates("quarter").set_index("quarter")["deals"].reindex(t.columns)
    t = t.map(lambda x: f"{x:.1f}")
    return pd.concat([t, deals.map(lambda x: f"{x:,.0f}").to_frame("won deals").T]).rename_axis(
        "activities per won deal"
    )


def contact_table(trend: pd.DataFrame) -> pd.DataFrame:
    """Speed to first contact and never-contacted share per quarter."""
    return pd.DataFrame(
        {
            "Quarter": trend["quarter"],
            "New leads": trend["leads"],
            "Median hours to first contact (Kaplan–Meier)": text.fmt_ci(
                trend["median_hours"],
                trend.get("median_lo", pd.Series(np.nan, index=trend.index)),
                trend.get("median_hi", pd.Series(np.nan, index=trend.index)),
                1,
                1.0,
                " h",
            ),
            "Contacted within 1 day": trend["within_1_day"].map(text.pct),
            f"Not contacted within {NEVER_CONTACTED_DAYS} days": text.fmt_ci(
                trend["never_rate"], trend["never_lo"], trend["never_hi"]
            ),
        }
    ).set_index("Quarter")


def never_contacted_impact(
    leads: pd.DataFrame,
    quarter: Quarter,
    never: int,
    deal_value: float,
    window_days: int = 180,
    never_days: int = NEVER_CONTACTED_DAYS,
) -> dict:
    """Revenue per quarter lost to leads that are never contacted.

    impact = never-contacted leads of the quarter × (lead → customer rate of contacted leads − rate of
    never-contacted leads) × average won deal. Rates from the mature cohort created in the year before
    ``quarter.end − window_days`` (customer within ``window_days`` of creation); contacted = first contact
    within ``never_days``.
    """
    w = pd.Timedelta(days=window_days)
    end = quarter.end - w
    d = leads[(leads["created_at"] < end) & (leads["created_at"] >= end - pd.Timedelta(days=365))]
    contacted = d["first_contact_at"].notna() & (
        d["first_contact_at"] <= d["created_at"] + pd.Timedelta(days=never_days)
    )
    won = (
        d["customer_at"].notna() & (d["customer_at"] <= d["created_at"] + w)
        if "customer_at" in d.columns
        else pd.Series(False, index=d.index)
    )
    r1 = float(won[contacted].mean()) if contacted.any() else float("nan")
    r0 = float(won[~contacted].mean()) if (~contacted).any() else float("nan")
    impact = (
        never * max(r1 - r0, 0.0) * deal_value
        if np.isfinite(r1) and np.isfinite(r0) and np.isfinite(deal_value)
        else 0.0
    )
    n1, n0 = int(contacted.sum()), int((~contacted).sum())
    (lo1, lo0), (hi1, hi0) = wilson_interval([won[contacted].sum(), won[~contacted].sum()], [n1, n0])
    return {
        "rate_contacted": r1,
        "rate_never": r0,
        "n_contacted": n1,
        "n_never": n0,
        # the comparison may be stated only under the claim rule (n ≥ MIN_CLAIM_N each, intervals apart)
        "claimable": bool(claimable(n1, n0, lo1, hi1, lo0, hi0)),
        "never": never,
        "deal_value": deal_value,
        "impact": float(impact),
    }


def average_won_deal(opportunities: pd.DataFrame | None, quarter: Quarter, quarters: int = 4) -> float:
    """Mean ``amount`` of deals won in the ``quarters`` quarters ending with ``quarter`` (NaN when unknown)."""
    if opportunities is None or "amount" not in opportunities.columns:
        return float("nan")
    start = quarter.previous(quarters - 1).start
    won = opportunities[
        (opportunities["status"] == "won")
        & (opportunities["closed_at"] >= start)
        & (opportunities["closed_at"] < quarter.end)
    ]
    return float(won["amount"].mean()) if len(won) else float("nan")


def activities_title(trend: pd.DataFrame, quarter_label: str, previous_label: str) -> str:
    """Chart title for activities per won deal: this quarter against the previous one (when it had won deals)."""
    tot = trend[trend["type"] == "total"].set_index("quarter")
    now = tot["per_deal"].get(quarter_label, np.nan)
    before = tot["per_deal"].get(previous_label, np.nan)
    if not np.isfinite(now):
        return f"No deals won in {quarter_label}"
    n = int(tot["deals"].get(quarter_label, 0))
    head = f"{now:.1f} activities per won deal in {quarter_label} ({n_is(n)} won deals"
    return head + (f"; {before:.1f} before)" if np.isfinite(before) else ")")


def contact_title(contact: pd.DataFrame, quarter_label: str) -> str:
    """Chart title for the first-contact panel (says so when the quarter's leads are too young to judge)."""
    cur = contact.iloc[-1]
    if not cur["never_base"]:
        return f"No {quarter_label} lead is {NEVER_CONTACTED_DAYS} days old yet"
    return f"{text.pct(cur['never_rate'])} of {quarter_label} leads never contacted ({n_is(cur['never_base'])})"
