"""Step 06 — the numbers: tickets, CSAT, NPS, repeat purchases, referrals, customer value.

DataFrame in → DataFrame, dict or small dataclass out; no text, no charts (those are
:mod:`salesaudit.steps.service.story` and :mod:`salesaudit.steps.service.view`). Each function's docstring
gives its formula:

* CSAT = share of rated tickets scored 4 or 5 on the 1–5 scale ("top-two-box", the ACSI/Zendesk
  convention), with a Wilson interval.
* NPS = % promoters (9–10) − % detractors (0–6) (Reichheld 2003), one answer per customer (the latest
  in the period); interval from the variance of the per-answer score s ∈ {+1, 0, −1}:
  Var(NPS) = (p₊ + p₋ − (p₊ − p₋)²) / n, normal approximation, ×100.
* Repeat purchase rate = customers with a second order within 12 months of their first, among customers
  whose first order was 12–24 months before the cut-off (a fully observed one-year cohort).
* Customer value = revenue in the 12 months from the first order; LTV = gross margin × that; CAC =
  channel spend in the cohort's acquisition year ÷ new customers from the channel in it; the paid
  channels' pooled LTV:CAC = Σ LTV × customers ÷ Σ spend (:func:`ltv_cac_paid`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit.periods import Quarter
from salesaudit.stats import (
    DEFAULT_LEVEL,
    diff_interval,
    kaplan_meier,
    km_at,
    km_median,
    mean_interval,
    rate_table,
    z_of,
)

__all__ = [
    "YEAR",
    "GROUP_ORDER",
    "Drivers",
    "PaidLtvCac",
    "csat_share",
    "ticket_stats",
    "tickets_by_category",
    "tickets_trend",
    "nps_group",
    "nps_score",
    "latest_answers",
    "nps_trend",
    "customer_orders",
    "repeat_cohort",
    "repeat_purchase_rate",
    "time_to_second_purchase",
    "existing_customer_revenue",
    "customer_csat_group",
    "customer_nps_group",
    "repeat_by_group",
    "group_gap",
    "repeat_drivers",
    "combined_groups",
    "repeat_gap_impact",
    "promoter_stock",
    "last_months",
    "referrals_vs_promoters",
    "conversion_by_channel",
    "value_by_channel",
    "ltv_cac_paid",
    "revenue_12m_per_customer",
]

YEAR = pd.Timedelta(days=365)


# --------------------------------------------------------------------------------------------------
# tickets and CSAT
# --------------------------------------------------------------------------------------------------
def csat_share(csat: pd.Series, level: float = DEFAULT_LEVEL) -> dict:
    """CSAT = #(ratings 4–5) / #(ratings), unrated tickets excluded; Wilson interval."""
    rated = csat.dropna()
    k, n = int((rated >= 4).sum()), int(len(rated))
    r = rate_table([k], [n], level).iloc[0]
    return {"csat": r["rate"], "lo": r["lo"], "hi": r["hi"], "k": k, "n": n}


def _hours(a: pd.Series, b: pd.Series) -> pd.Series:
    return (b - a).dt.total_seconds() / 3600


def ticket_stats(tickets: pd.DataFrame, as_of: pd.Timestamp, level: float = DEFAULT_LEVEL) -> dict:
    """Volume, first-response and resolution time (Kaplan–Meier medians, hours) and CSAT of tickets.

    Response / resolution times of tickets still waiting at ``as_of`` are censored at ``as_of`` rather than
    dropped (dropping them would flatter the team). CSAT as in :func:`csat_share`.
    """
    out = {"tickets": int(len(tickets))}
    for name, col in (("first_response_hours", "first_response_at"), ("resolution_hours", "resolved_at")):
        if col in tickets.columns and len(tickets):
            done = tickets[col].notna() & (tickets[col] <= as_of)
            t = _hours(tickets["opened_at"], tickets[col].where(done, as_of)).clip(lower=0)
            out[name] = km_median(kaplan_meier(t.to_numpy(), done.to_numpy()))
        else:
            out[name] = float("nan")
    c = csat_share(tickets["csat"] if "csat" in tickets.columns else pd.Series(dtype=float), level)
    return out | {"csat": c["csat"], "csat_lo": c["lo"], "csat_hi": c["hi"], "rated": c["n"]}


def tickets_by_category(tickets: pd.DataFrame, quarter: Quarter, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """:func:`ticket_stats` per ``category`` for tickets opened in the quarter, plus an ``all`` row."""
    q = tickets[quarter.contains(tickets["opened_at"])]
    cat = q["category"].fillna("uncategorised") if "category" in q.columns else pd.Series("all", index=q.index)
    rows = [{"category": c} | ticket_stats(g, quarter.end, level) for c, g in q.groupby(cat, sort=True)]
    rows.append({"category": "all"} | ticket_stats(q, quarter.end, level))
    return pd.DataFrame(rows)


def tickets_trend(tickets: pd.DataFrame, quarters: list[Quarter], level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """:func:`ticket_stats` of all tickets opened in each quarter (column ``quarter``), oldest first."""
    return pd.DataFrame(
        [{"quarter": q.label} | ticket_stats(tickets[q.contains(tickets["opened_at"])], q.end, level) for q in quarters]
    )


# --------------------------------------------------------------------------------------------------
# NPS
# --------------------------------------------------------------------------------------------------
def nps_group(score: pd.Series) -> pd.Series:
    """promoter (9–10) / passive (7–8) / detractor (0–6)."""
    return pd.Series(
        np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor")), index=score.index
    ).where(score.notna())


def nps_score(scores, level: float = DEFAULT_LEVEL) -> dict:
    """NPS = 100 × (p₊ − p₋), p₊ = share of scores 9–10, p₋ = share 0–6 (Reichheld 2003).

    Interval: NPS ± z·100·√((p₊ + p₋ − (p₊ − p₋)²)/n) — the standard error of the mean of the per-answer
    score (+1 promoter, 0 passive, −1 detractor); clipped to [−100, 100]. n = 0 gives NaN.
    """
    s = np.asarray(scores, dtype=float)
    s = s[~np.isnan(s)]
    n = len(s)
    if n == 0:
        return {
            "nps": float("nan"),
            "lo": float("nan"),
            "hi": float("nan"),
            "n": 0,
            "promoters": 0,
            "passives": 0,
            "detractors": 0,
        }
    prom, det = int((s >= 9).sum()), int((s <= 6).sum())
    pp_, pd_ = prom / n, det / n
    v = 100 * (pp_ - pd_)
    se = 100 * np.sqrt(max(pp_ + pd_ - (pp_ - pd_) ** 2, 0.0) / n)
    z = z_of(level)
    return {
        "nps": v,
        "lo": max(v - z * se, -100.0),
        "hi": min(v + z * se, 100.0),
        "n": n,
        "promoters": prom,
        "passives": n - prom - det,
        "detractors": det,
    }


def latest_answers(nps: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp) -> pd.DataFrame:
    """The latest answer of each customer answered in ``start ≤ t < end`` (``start`` None = from the beginning)."""
    m = nps["answered_at"] < end
    if start is not None:
        m &= nps["answered_at"] >= start
    return nps[m].sort_values("answered_at").drop_duplicates("customer_id", keep="last")


def nps_trend(nps: pd.DataFrame, quarters: list[Quarter], level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """:func:`nps_score` per quarter (latest answer per customer within the quarter)."""
    return pd.DataFrame(
        [{"quarter": q.label} | nps_score(latest_answers(nps, q.start, q.end)["score"], level) for q in quarters]
    )


# --------------------------------------------------------------------------------------------------
# repeat purchases
# --------------------------------------------------------------------------------------------------
def customer_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: ``first_order``, ``second_order`` (NaT when none), ``orders``."""
    o = orders.sort_values(["customer_id", "ordered_at"])
    rank = o.groupby("customer_id").cumcount()
    first = o[rank == 0].set_index("customer_id")["ordered_at"]
    second = o[rank == 1].set_index("customer_id")["ordered_at"]
    n = o.groupby("customer_id").size()
    return (
        pd.DataFrame({"first_order": first, "second_order": second.reindex(first.index), "orders": n})
        .rename_axis("customer_id")
        .reset_index()
    )


def repeat_cohort(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Customers whose first order was in [as_of − 24 months, as_of − 12 months), with ``repeat``.

    repeat = a second order within 365 days of the first (and before ``as_of``).
    """
    c = customer_orders(orders[orders["ordered_at"] < as_of])
    c = c[(c["first_order"] >= as_of - 2 * YEAR) & (c["first_order"] < as_of - YEAR)]
    return c.assign(repeat=(c["second_order"] - c["first_order"] <= YEAR).fillna(False).to_numpy(bool))


def repeat_purchase_rate(orders: pd.DataFrame, as_of: pd.Timestamp, level: float = DEFAULT_LEVEL) -> dict:
    """Repeat purchase rate = customers with ≥ 2 orders within 12 months of the first ÷ customers of the cohort.

    Cohort: first order between 24 and 12 months before ``as_of`` (every customer observed for a full
    year). Wilson interval.
    """
    c = repeat_cohort(orders, as_of)
    r = rate_table([c["repeat"].sum()], [len(c)], level).iloc[0]
    return {
        "rate": r["rate"],
        "lo": r["lo"],
        "hi": r["hi"],
        "k": int(r["k"]),
        "n": int(r["n"]),
        "cohort_start": as_of - 2 * YEAR,
        "cohort_end": as_of - YEAR,
    }


def time_to_second_purchase(orders: pd.DataFrame, as_of: pd.Timestamp) -> dict:
    """Kaplan–Meier of days from first to second order, all customers, censored at ``as_of``.

    Returns the curve, its median (NaN when fewer than half ever reorder) and S(365).
    """
    c = customer_orders(orders[orders["ordered_at"] < as_of])
    done = c["second_order"].notna()
    d = (c["second_order"].where(done, as_of) - c["first_order"]).dt.total_seconds() / 86400
    curve = kaplan_meier(d.to_numpy(), done.to_numpy())
    return {
        "curve": curve,
        "median_days": km_median(curve),
        "repeat_within_year": 1 - km_at(curve, 365.0),
        "customers": int(len(c)),
    }


def existing_customer_revenue(orders: pd.DataFrame, quarters: list[Quarter]) -> pd.DataFrame:
    """Order revenue per quarter split into new customers (first order in the quarter) and existing ones.

    existing share = revenue from customers whose first order came before the quarter ÷ all order revenue.
    """
    first = orders.groupby("customer_id")["ordered_at"].transform("min")
    rows = []
    for q in quarters:
        m = q.contains(orders["ordered_at"])
        existing = m & (first < q.start)
        rev, ex = float(orders.loc[m, "amount"].sum()), float(orders.loc[existing, "amount"].sum())
        rows.append(
            {
                "quarter": q.label,
                "revenue": rev,
                "existing": ex,
                "new": rev - ex,
                "existing_share": ex / rev if rev > 0 else float("nan"),
                "existing_customers": int(orders.loc[existing, "customer_id"].nunique()),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# does service drive repeat purchase?
# --------------------------------------------------------------------------------------------------
def customer_csat_group(tickets: pd.DataFrame, customers: pd.DataFrame) -> pd.Series:
    """Per cohort customer: ``high`` (mean CSAT ≥ 4), ``low`` (< 4) or ``no rating``.

    Only tickets rated within 12 months of the first order count (the period in which the repeat
    purchase is measured).
    """
    t = tickets.dropna(subset=["csat"]).merge(customers[["customer_id", "first_order"]], on="customer_id")
    t = t[(t["opened_at"] >= t["first_order"]) & (t["opened_at"] < t["first_order"] + YEAR)]
    mean = t.groupby("customer_id")["csat"].mean()
    g = pd.Series(np.where(mean >= 4, "high", "low"), index=mean.index)
    return customers["customer_id"].map(g).fillna("no rating").set_axis(customers.index)


def customer_nps_group(nps: pd.DataFrame, customers: pd.DataFrame) -> pd.Series:
    """Per cohort customer: promoter / passive / detractor from the latest answer within 12 months of the
    first order, else ``no answer``."""
    a = nps.merge(customers[["customer_id", "first_order"]], on="customer_id")
    a = a[(a["answered_at"] >= a["first_order"]) & (a["answered_at"] < a["first_order"] + YEAR)]
    last = a.sort_values("answered_at").drop_duplicates("customer_id", keep="last").set_index("customer_id")["score"]
    return customers["customer_id"].map(nps_group(last)).fillna("no answer").set_axis(customers.index)


GROUP_ORDER = ["high", "low", "no rating", "promoter", "passive", "detractor", "no answer"]


def repeat_by_group(cohort: pd.DataFrame, group: pd.Series, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Repeat purchase rate per group (Wilson interval): ``group, k, n, rate, lo, hi``.

    rate = customers of the group with a repeat order within 12 months ÷ customers of the group.
    Groups in :data:`GROUP_ORDER` order (others after, alphabetically).
    """
    g = cohort.assign(group=group.to_numpy()).groupby("group")["repeat"].agg(k="sum", n="size").reset_index()
    rank = g["group"].map({x: i for i, x in enumerate(GROUP_ORDER)}).fillna(len(GROUP_ORDER))
    g = g.assign(_r=rank.to_numpy()).sort_values(["_r", "group"]).drop(columns="_r").reset_index(drop=True)
    r = rate_table(g["k"], g["n"], level)
    return g.assign(rate=r["rate"].to_numpy(), lo=r["lo"].to_numpy(), hi=r["hi"].to_numpy())


def group_gap(table: pd.DataFrame, a: str, b: str, level: float = DEFAULT_LEVEL) -> dict:
    """rate(a) − rate(b) with Newcombe's interval (NaN when a group is missing)."""
    t = table.set_index("group")
    if a not in t.index or b not in t.index:
        return {"gap": float("nan"), "lo": float("nan"), "hi": float("nan")}
    d, lo, hi = diff_interval(t.at[a, "k"], t.at[a, "n"], t.at[b, "k"], t.at[b, "n"], level)
    return {"gap": float(d), "lo": float(lo), "hi": float(hi)}


def repeat_gap_impact(
    cohort: pd.DataFrame, groups: pd.Series, gap: dict, orders: pd.DataFrame, gross_margin: float
) -> float:
    """Quarterly revenue at stake if low-CSAT customers repeated like high-CSAT ones.

    impact = gap(high − low) × low-CSAT cohort customers ÷ 4 (cohort spans a year) × mean revenue of a
    repeat order — revenue, the audit's one money scale for findings (``gross_margin`` is no longer
    applied; kept in the signature for callers); 0 when the gap is not larger than the noise.
    """
    if not np.isfinite(gap["gap"]) or gap["lo"] <= 0:
        return 0.0
    n_low = int((groups == "low").sum())
    repeat_orders = orders.merge(cohort[["customer_id", "first_order"]], on="customer_id")
    repeat_orders = repeat_orders[repeat_orders["ordered_at"] > repeat_orders["first_order"]]
    avg = float(repeat_orders["amount"].mean()) if len(repeat_orders) else 0.0
    return float(gap["gap"] * n_low / 4 * avg)


# --------------------------------------------------------------------------------------------------
# word of mouth
# --------------------------------------------------------------------------------------------------
def promoter_stock(nps: pd.DataFrame, months: pd.DatetimeIndex) -> pd.Series:
    """Customers whose latest answer so far is a promoter (9–10), at the start of each month.

    Each answer holds from its month until the customer's next answer.
    """
    a = nps.sort_values(["customer_id", "answered_at"])
    start = a["answered_at"].dt.to_period("M").dt.to_timestamp() + pd.DateOffset(months=1)
    end = start.groupby(a["customer_id"]).shift(-1)
    prom = a["score"] >= 9
    on = start[prom].value_counts()
    off = end[prom].dropna().value_counts()
    delta = on.sub(off, fill_value=0).sort_index()
    stock = delta.cumsum()
    return stock.reindex(stock.index.union(months)).ffill().fillna(0).reindex(months).rename("promoters")


def last_months(end: pd.Timestamp, months: int = 24) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ``[end − months calendar months, end)`` (the referral fit uses the last 24 months)."""
    return end - pd.DateOffset(months=months), end


def referrals_vs_promoters(
    leads: pd.DataFrame,
    nps: pd.DataFrame,
    referral_channel: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    level: float = DEFAULT_LEVEL,
) -> tuple[pd.DataFrame, dict]:
    """Referral leads per month against the promoters at the start of the month.

    Model: referral leads in month m = a + b × promoters(m) + noise, fitted by least squares over the
    months in [start, end); b = extra referral leads per promoter per month (t interval), a = referral
    leads that promoters do not explain. Promoters as in :func:`promoter_stock`. Also the Pearson
    correlation of the two monthly series.
    """
    months = pd.date_range(start, end - pd.Timedelta(days=1), freq="MS")
    ref = leads[(leads["channel"] == referral_channel) & (leads["created_at"] >= start) & (leads["created_at"] < end)]
    per_month = ref["created_at"].dt.to_period("M").dt.to_timestamp().value_counts().reindex(months, fill_value=0)
    stock = promoter_stock(nps, months)
    monthly = pd.DataFrame({"month": months, "referral_leads": per_month.to_numpy(), "promoters": stock.to_numpy()})
    summary = {
        "referrals": int(monthly["referral_leads"].sum()),
        "months": len(monthly),
        "promoters_now": float(monthly["promoters"].iloc[-1]) if len(monthly) else float("nan"),
        "per_promoter_month": float("nan"),
        "lo": float("nan"),
        "hi": float("nan"),
        "baseline": float("nan"),
        "correlation": float("nan"),
    }
    x, y = monthly["promoters"].to_numpy(float), monthly["referral_leads"].to_numpy(float)
    if len(x) >= 4 and x.std() > 0:
        b, a = np.polyfit(x, y, 1)
        resid = y - (a + b * x)
        se = np.sqrt(resid @ resid / (len(x) - 2) / ((x - x.mean()) @ (x - x.mean())))
        half = float(st.t.ppf(0.5 + level / 2, len(x) - 2) * se)
        summary |= {
            "per_promoter_month": float(b),
            "lo": float(b) - half,
            "hi": float(b) + half,
            "baseline": float(a),
            # no referral lead at all (y constant, e.g. a slice without the referral channel): no correlation
            "correlation": float(np.corrcoef(x, y)[0, 1]) if y.std() > 0 else float("nan"),
        }
    return monthly, summary


def conversion_by_channel(
    leads: pd.DataFrame, as_of: pd.Timestamp, window_days: int = 180, level: float = DEFAULT_LEVEL
) -> pd.DataFrame:
    """Lead → customer within ``window_days`` of creation, by channel, for leads created in the year before
    ``as_of − window_days`` (mature cohort). Wilson interval; sorted by rate."""
    w = pd.Timedelta(days=window_days)
    d = leads[(leads["created_at"] < as_of - w) & (leads["created_at"] >= as_of - w - YEAR)]
    won = d["customer_at"].notna() & (d["customer_at"] <= d["created_at"] + w) if "customer_at" in d.columns else False
    g = d.assign(won=won).groupby("channel")["won"].agg(k="sum", n="size").reset_index()
    r = rate_table(g["k"], g["n"], level)
    return (
        g.assign(rate=r["rate"].to_numpy(), lo=r["lo"].to_numpy(), hi=r["hi"].to_numpy())
        .sort_values("rate", ascending=False)
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------------------------------
# customer value by acquisition channel
# --------------------------------------------------------------------------------------------------
def value_by_channel(
    orders: pd.DataFrame,
    leads: pd.DataFrame,
    spend: pd.DataFrame | None,
    as_of: pd.Timestamp,
    gross_margin: float,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """12-month revenue per customer, LTV and LTV:CAC by acquisition channel.

    Cohort: customers whose first order was in [as_of − 24 months, as_of − 12 months), so each has a full
    year of orders. revenue_12m = mean over the cohort's customers of Σ order amounts in the 365 days from
    the first order (t interval); LTV = gross_margin × revenue_12m (a one-year, undiscounted LTV);
    CAC = channel spend in the cohort's year ÷ the channel's cohort customers; LTV:CAC = LTV ÷ CAC
    (NaN for channels without spend).
    """
    start, end = as_of - 2 * YEAR, as_of - YEAR
    c = customer_orders(orders[orders["ordered_at"] < as_of])
    c = c[(c["first_order"] >= start) & (c["first_order"] < end)]
    o = orders.merge(c[["customer_id", "first_order"]], on="customer_id")
    o = o[o["ordered_at"] < o["first_order"] + YEAR]
    rev = o.groupby("customer_id")["amount"].sum()
    ch = leads.set_index("lead_id")["channel"]
    c = c.assign(
        revenue=c["customer_id"].map(rev).fillna(0.0).to_numpy(),
        channel=c["customer_id"].map(ch).fillna("unknown").to_numpy(),
    )
    rows = []
    for chan, g in c.groupby("channel", sort=True):
        m, lo, hi = mean_interval(g["revenue"].to_numpy(), level)
        rows.append({"channel": chan, "customers": len(g), "revenue_12m": m, "revenue_lo": lo, "revenue_hi": hi})
    out = pd.DataFrame(rows, columns=["channel", "customers", "revenue_12m", "revenue_lo", "revenue_hi"])
    if spend is not None and len(spend):
        s = spend[(spend["month"] >= start.to_period("M").to_timestamp()) & (spend["month"] < end)]
        out = out.merge(
            s.groupby("channel")["amount"].sum().rename("spend"), left_on="channel", right_index=True, how="left"
        )
    else:
        out = out.assign(spend=np.nan)
    out = out.assign(
        ltv=gross_margin * out["revenue_12m"],
        ltv_lo=gross_margin * out["revenue_lo"],
        ltv_hi=gross_margin * out["revenue_hi"],
    )
    cac = out["spend"].where(out["spend"] > 0) / out["customers"]
    return (
        out.assign(cac=cac, ltv_cac=out["ltv"] / cac).sort_values("revenue_12m", ascending=False).reset_index(drop=True)
    )


# --------------------------------------------------------------------------------------------------
# does service drive repeat purchase: the section's numbers in one call
# --------------------------------------------------------------------------------------------------
_NO_GAP = {"gap": float("nan"), "lo": float("nan"), "hi": float("nan")}


@dataclass(frozen=True, eq=False)
class Drivers:
    """Repeat purchase of the one-year cohort (:func:`repeat_cohort`) by service group.

    ``csat_groups`` / ``by_csat`` are None without tickets, ``nps_groups`` / ``by_nps`` / ``gap_nps`` None
    without NPS answers; ``gap`` (high − low CSAT) is NaN without tickets.
    """

    cohort: pd.DataFrame
    csat_groups: pd.Series | None
    by_csat: pd.DataFrame | None
    gap: dict
    nps_groups: pd.Series | None
    by_nps: pd.DataFrame | None
    gap_nps: dict | None


def _given(df: pd.DataFrame | None) -> bool:
    return df is not None and len(df) > 0


def repeat_drivers(
    orders: pd.DataFrame,
    tickets: pd.DataFrame | None,
    nps: pd.DataFrame | None,
    as_of: pd.Timestamp,
    level: float = DEFAULT_LEVEL,
) -> Drivers:
    """Repeat rate by CSAT group and by NPS group for the cohort of :func:`repeat_cohort` at ``as_of``.

    by_csat = :func:`repeat_by_group` of :func:`customer_csat_group`; gap = rate(high) − rate(low)
    (:func:`group_gap`, Newcombe interval); by_nps and gap_nps = rate(promoter) − rate(detractor) likewise
    from :func:`customer_nps_group`. A table that is None or empty leaves its part None (gap: NaN).
    """
    cohort = repeat_cohort(orders, as_of)
    g_csat = customer_csat_group(tickets, cohort) if _given(tickets) else None
    by_csat = repeat_by_group(cohort, g_csat, level) if g_csat is not None else None
    gap = group_gap(by_csat, "high", "low", level) if by_csat is not None else dict(_NO_GAP)
    g_nps = customer_nps_group(nps, cohort) if _given(nps) else None
    by_nps = repeat_by_group(cohort, g_nps, level) if g_nps is not None else None
    gap_nps = group_gap(by_nps, "promoter", "detractor", level) if by_nps is not None else None
    return Drivers(cohort, g_csat, by_csat, gap, g_nps, by_nps, gap_nps)


def combined_groups(by_csat: pd.DataFrame | None, by_nps: pd.DataFrame | None) -> pd.DataFrame:
    """The CSAT and the NPS group tables of :func:`repeat_by_group` stacked, groups prefixed ``CSAT: `` /
    ``NPS: `` (a missing table is left out; neither gives an empty table)."""
    parts = [
        t.assign(group=label + t["group"]) for t, label in ((by_csat, "CSAT: "), (by_nps, "NPS: ")) if t is not None
    ]
    if not parts:
        return pd.DataFrame(columns=["group", "k", "n", "rate", "lo", "hi"])
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------------
# headline value figures
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaidLtvCac:
    """Pooled LTV:CAC of the paid channels (:func:`ltv_cac_paid`)."""

    ratio: float | None  #: None when no channel has spend
    ltv: float  #: Σ LTV × customers over the paid channels
    spend: float  #: Σ spend over the paid channels
    customers: int  #: cohort customers of the paid channels


def ltv_cac_paid(val: pd.DataFrame) -> PaidLtvCac:
    """LTV:CAC of all paid channels together, from :func:`value_by_channel`.

    paid = channels with a LTV:CAC (spend > 0 in the cohort's year);
    LTV:CAC(paid) = Σ_c LTV_c × customers_c ÷ Σ_c spend_c — the cohort's first-year gross margin over what
    was spent to win it; equivalently the spend-weighted mean of the channels' LTV:CAC (LTV_c × customers_c
    ÷ spend_c). None without a paid channel.

    >>> v = pd.DataFrame({"customers": [10, 5, 20], "ltv": [100.0, 40.0, 90.0], "spend": [500.0, 400.0, np.nan],
    ...                   "ltv_cac": [2.0, 0.5, np.nan]})
    >>> r = ltv_cac_paid(v)
    >>> round(r.ratio, 4), r.customers    # (100 × 10 + 40 × 5) ÷ (500 + 400) = 1200 ÷ 900
    (1.3333, 15)
    """
    paid = val.dropna(subset=["ltv_cac"])
    ltv, spend = (paid["ltv"] * paid["customers"]).sum(), paid["spend"].sum()
    ratio = float(ltv / spend) if len(paid) else None
    return PaidLtvCac(ratio=ratio, ltv=float(ltv), spend=float(spend), customers=int(paid["customers"].sum()))


def revenue_12m_per_customer(val: pd.DataFrame) -> float | None:
    """12-month revenue per cohort customer over all channels, from :func:`value_by_channel`.

    = Σ_c revenue_12m_c × customers_c ÷ Σ_c customers_c (the customer-weighted mean of the channels, i.e. the
    mean over every cohort customer); None for an empty cohort.
    """
    if not len(val):
        return None
    return float((val["revenue_12m"] * val["customers"]).sum() / val["customers"].sum())
