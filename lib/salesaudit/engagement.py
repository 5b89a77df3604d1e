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

from . import text
from .periods import Quarter, quarter_labels
from .stats import DEFAULT_LEVEL, diff_interval, kaplan_meier, km_at, km_median, mean_interval, rate_table

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
    tot_k, tot_n = cur["clicks"].sum(), cur["base"].sum()
    d, lo, hi = diff_interval(cur["clicks"], cur["base"], tot_k - cur["clicks"], tot_n - cur["base"], level)
    verdict = np.where(lo > 0, "leads", np.where(hi < 0, "lags", "average"))
    return (
        out.assign(vs_others=d, vs_others_lo=lo, vs_others_hi=hi, verdict=verdict)
        .sort_values("click_rate", ascending=False)
        .reset_index(drop=True)
    )


def email_sentences(card: pd.DataFrame) -> list[str]:
    """ "What this means" sentences for the stream scorecard (best / lagging streams, biggest moves)."""
    if card.empty:
        return ["No e-mails were sent this quarter."]
    best = card.iloc[0]
    out = [
        f"**{best['stream']}** engages best: click rate {text.pct(best['click_rate'])} "
        f"{text.interval(best['click_rate_lo'], best['click_rate_hi'])}, click-to-open {text.pct(best['click_to_open'])}, "
        f"on {text.num(best['base'])} delivered e-mails."
    ]
    lag = card[card["verdict"] == "lags"]
    if len(lag):
        names = ", ".join(f"**{s}** ({text.pct(c)})" for s, c in zip(lag["stream"], lag["click_rate"]))
        out.append(f"Lagging (click rate below the other streams beyond the noise): {names}.")
    else:
        out.append("No stream's click rate is below the others by more than the noise.")
    unsub = card.sort_values("unsubscribe_rate", ascending=False).iloc[0]
    out.append(
        f"Highest unsubscribe rate: **{unsub['stream']}** at {text.pct(unsub['unsubscribe_rate'], 2)} of delivered e-mails "
        f"{text.interval(unsub['unsubscribe_rate_lo'], unsub['unsubscribe_rate_hi'], lambda x: text.pct(x, 2))}."
    )
    moved = card[(card["click_rate_change_lo"] > 0) | (card["click_rate_change_hi"] < 0)]
    for _, r in moved.iterrows():
        out.append(
            f"**{r['stream']}** click rate moved {text.pp(r['click_rate_change'])} against last quarter "
            f"{text.interval(r['click_rate_change_lo'], r['click_rate_change_hi'], text.pp)}."
        )
    if moved.empty:
        out.append("No stream's click rate changed against last quarter by more than the noise.")
    return out


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
    leads: pd.DataFrame, quarter: Quarter, never_days: int = NEVER_CONTACTED_DAYS, level: float = DEFAULT_LEVEL
) -> dict:
    """Speed to first contact and leads never contacted, for leads created in the quarter.

    Observation stops at the end of the quarter (no later data is used, so past quarters read as they
    did then). Speed: Kaplan–Meier of days from ``created_at`` to ``first_contact_at``; leads not yet
    contacted are censored at the cut-off, not dropped (dropping them would flatter the speed).
    ``median_hours`` = KM median × 24; ``within_1_day`` = 1 − S(1 day).
    Never contacted = leads with no contact within ``never_days`` of creation, among the leads created
    at least ``never_days`` before the cut-off (Wilson interval).
    """
    created = leads[quarter.contains(leads["created_at"])]
    cut = quarter.end
    fc = created["first_contact_at"].where(created["first_contact_at"] < cut)
    observed = fc.notna()
    dur = ((fc.fillna(cut) - created["created_at"]).dt.total_seconds() / 86400).clip(lower=0)
    curve = kaplan_meier(dur.to_numpy(), observed.to_numpy())
    old = created["created_at"] <= cut - pd.Timedelta(days=never_days)
    in_time = observed & (dur <= never_days)
    never = int((old & ~in_time).sum())
    n_old = int(old.sum())
    r = rate_table([never], [n_old], level).iloc[0]
    return {
        "quarter": quarter.label,
        "leads": int(len(created)),
        "contacted": int(observed.sum()),
        "median_hours": km_median(curve) * 24 if len(created) else float("nan"),
        "within_1_day": 1 - km_at(curve, 1.0) if len(created) else float("nan"),
        "never_contacted": never,
        "never_base": n_old,
        "never_rate": r["rate"],
        "never_lo": r["lo"],
        "never_hi": r["hi"],
    }


def first_contact_trend(
    leads: pd.DataFrame, quarters: list[Quarter], never_days: int = NEVER_CONTACTED_DAYS, level: float = DEFAULT_LEVEL
) -> pd.DataFrame:
    """:func:`first_contact` for each quarter, one row each, oldest first."""
    return pd.DataFrame([first_contact(leads, q, never_days, level) for q in quarters])


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
        out.append(
            f"Half of this quarter's new leads were contacted within {text.num(cur['median_hours'], 1)} hours; "
            f"{text.pct(cur['within_1_day'])} within a day."
        )
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
def fmt_ci(value, lo, hi, digits: int = 1, scale: float = 100.0, suffix: str = "%") -> pd.Series:
    """``12.3% (11.0–13.5)`` strings for a column of values with their interval (``n/a`` when missing)."""
    v, lo, hi = (pd.Series(np.asarray(x, dtype=float)) * scale for x in (value, lo, hi))

    def f(x: float) -> str:
        return f"{x:.{digits}f}".replace("-", "−")

    if not len(v):  # an empty column: string arithmetic on an empty float Series would fail
        return pd.Series([], dtype=object, index=value.index if isinstance(value, pd.Series) else None)
    sep = pd.Series(np.where(lo < 0, " to ", "–"))
    s = v.map(f) + suffix + " (" + lo.map(f) + sep + hi.map(f) + ")"
    return s.where(v.notna(), "n/a").set_axis(value.index if isinstance(value, pd.Series) else s.index)


def stream_table(card: pd.DataFrame) -> pd.DataFrame:
    """The stream scorecard as a compact, readable table (rates with 90% intervals)."""
    return pd.DataFrame(
        {
            "Stream": card["stream"],
            "Sends": card["sends"].astype(int),
            "Delivered": card["base"].map("{:,.0f}".format),
            "Open rate": fmt_ci(card["open_rate"], card["open_rate_lo"], card["open_rate_hi"]),
            "Click rate": fmt_ci(card["click_rate"], card["click_rate_lo"], card["click_rate_hi"], 2),
            "Click-to-open": fmt_ci(card["click_to_open"], card["click_to_open_lo"], card["click_to_open_hi"]),
            "Unsubscribes": fmt_ci(
                card["unsubscribe_rate"], card["unsubscribe_rate_lo"], card["unsubscribe_rate_hi"], 2
            ),
            "Click rate vs last quarter": fmt_ci(
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
            "Median hours to first contact": trend["median_hours"].round(1),
            "Contacted within 1 day": (100 * trend["within_1_day"]).round(1).astype(str) + "%",
            f"Not contacted within {NEVER_CONTACTED_DAYS} days": fmt_ci(
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
    return {"rate_contacted": r1, "rate_never": r0, "never": never, "deal_value": deal_value, "impact": float(impact)}


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
