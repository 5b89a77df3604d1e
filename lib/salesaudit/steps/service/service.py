"""Step 06 — the customers we already have: tickets, CSAT, NPS, repeat purchases, referrals, value.

Conventions (each function's docstring gives its formula):

* CSAT = share of rated tickets scored 4 or 5 on the 1–5 scale ("top-two-box", the ACSI/Zendesk
  convention), with a Wilson interval.
* NPS = % promoters (9–10) − % detractors (0–6) (Reichheld 2003), one answer per customer (the latest
  in the period); interval from the variance of the per-answer score s ∈ {+1, 0, −1}:
  Var(NPS) = (p₊ + p₋ − (p₊ − p₋)²) / n, normal approximation, ×100.
* Repeat purchase rate = customers with a second order within 12 months of their first, among customers
  whose first order was 12–24 months before the cut-off (a fully observed one-year cohort).
* Customer value = revenue in the 12 months from the first order; LTV = gross margin × that; CAC =
  channel spend in the cohort's acquisition year ÷ new customers from the channel in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit import text
from salesaudit.claims import extremes, n_is, no_standout
from salesaudit.periods import Quarter
from salesaudit.stats import (
    DEFAULT_LEVEL,
    MIN_CLAIM_N,
    claimable,
    diff_interval,
    kaplan_meier,
    km_at,
    km_median,
    mean_interval,
    rate_table,
    wilson_interval,
    z_of,
)

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
            "correlation": float(np.corrcoef(x, y)[0, 1]),
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
# sentences and findings
# --------------------------------------------------------------------------------------------------
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
# tables
# --------------------------------------------------------------------------------------------------
def ticket_table(by_cat: pd.DataFrame) -> pd.DataFrame:
    """Tickets by category: volume, median hours to first response / resolution, CSAT with interval."""
    from salesaudit.text import fmt_ci

    def hours(s: pd.Series) -> list[str]:
        return ["not in the data" if pd.isna(v) else f"{v:,.1f}" for v in s]

    out = pd.DataFrame(
        {
            "Category": by_cat["category"],
            "Tickets": by_cat["tickets"],
            "First response (median h)": hours(by_cat["first_response_hours"]),
            "Resolution (median h)": hours(by_cat["resolution_hours"]),
            "Rated": by_cat["rated"],
            "CSAT (share 4–5)": fmt_ci(by_cat["csat"], by_cat["csat_lo"], by_cat["csat_hi"], 0),
        }
    )
    # a column the export does not hold at all is left out rather than filled with "not in the data"
    out = out.drop(columns=[c for c in out.columns[2:4] if (out[c] == "not in the data").all()])
    return out.set_index("Category")


def rate_group_table(t: pd.DataFrame, label: str = "Group") -> pd.DataFrame:
    """``group, k, n, rate, lo, hi`` as a readable table."""
    from salesaudit.text import fmt_ci

    return pd.DataFrame(
        {
            label: t["group"],
            "Customers": t["n"].astype(int),
            "Repeat within 12 months": t["k"].astype(int),
            "Repeat rate": fmt_ci(t["rate"], t["lo"], t["hi"], 0),
        }
    ).set_index(label)


def value_table(val: pd.DataFrame, currency: str) -> pd.DataFrame:
    """12-month revenue, LTV, CAC and LTV:CAC by channel."""

    def m(x):
        return x.map(lambda v: "n/a" if pd.isna(v) else f"{v:,.0f}")

    return pd.DataFrame(
        {
            "Channel": val["channel"],
            "Customers": val["customers"],
            f"12-month revenue per customer ({currency})": m(val["revenue_12m"]),
            "90% interval": (m(val["revenue_lo"]) + "–" + m(val["revenue_hi"])).where(
                val["revenue_lo"].notna() & val["revenue_hi"].notna(), "too few customers"
            ),
            f"LTV ({currency})": m(val["ltv"]),
            f"CAC ({currency})": m(val["cac"]),
            "LTV:CAC": val["ltv_cac"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.1f}"),
        }
    ).set_index("Channel")


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


def nps_table(trend: pd.DataFrame) -> pd.DataFrame:
    """NPS per quarter with its interval and the answer split."""
    return pd.DataFrame(
        {
            "Quarter": trend["quarter"],
            "NPS": trend["nps"].map(lambda v: "—" if pd.isna(v) else f"{v:.0f}"),
            "90% interval": [
                "—" if pd.isna(lo) or pd.isna(hi) else f"{lo:.0f} to {hi:.0f}"
                for lo, hi in zip(trend["lo"], trend["hi"])
            ],
            "Customers answering": trend["n"],
            "Promoters": trend["promoters"],
            "Passives": trend["passives"],
            "Detractors": trend["detractors"],
        }
    ).set_index("Quarter")


def revenue_table(rev: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Order revenue per quarter: new vs existing customers."""

    def m(x):
        return x.map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}")

    return pd.DataFrame(
        {
            "Quarter": rev["quarter"],
            f"Revenue ({currency})": m(rev["revenue"]),
            f"New customers ({currency})": m(rev["new"]),
            f"Existing customers ({currency})": m(rev["existing"]),
            "Existing share": rev["existing_share"].map(lambda v: "—" if pd.isna(v) else text.pct(v)),
            "Existing customers ordering": rev["existing_customers"],
        }
    ).set_index("Quarter")


def conversion_table(conv: pd.DataFrame) -> pd.DataFrame:
    """Lead → customer by channel with intervals."""
    from salesaudit.text import fmt_ci

    return pd.DataFrame(
        {
            "Channel": conv["channel"],
            "Leads": conv["n"].astype(int),
            "Customers": conv["k"].astype(int),
            "Lead → customer (180 days)": fmt_ci(conv["rate"], conv["lo"], conv["hi"]),
        }
    ).set_index("Channel")
