"""Step 07 — the numbers of spend planning: ROI by channel, spend→leads curves, conversion posteriors, the
Monte Carlo plan, a new channel and the optimised split.

DataFrame / arrays in → DataFrame, dict or small dataclass out; no sentences, no charts (those are
:mod:`salesaudit.steps.planning.story` and :mod:`salesaudit.steps.planning.view`). The pieces, in the order the
notebook ``07_spend_planning`` uses them:

* :func:`quarter_roi` — spend, leads, customers, attributed revenue and the gross-margin-adjusted
  return per 1 spent by channel in the audited quarter (first-touch: a deal's revenue goes to the
  channel of the lead it came from).
* :func:`monthly_spend_leads`, :func:`seasonal_index`, :func:`fit_responses` — a saturating (Hill)
  curve of monthly leads vs monthly spend per paid channel, fitted on the channel's own history after
  dividing out seasonality; channels with too little or too flat history fall back to a constant cost
  per lead.
* :func:`stage_rates`, :func:`conversion_delay`, :func:`deal_values` — Beta posteriors of the stage
  conversion rates, the lead→customer delay and the revenue per new customer.
* :func:`build_model` + :func:`simulate` + :func:`plan_table` — a vectorised Monte Carlo of next
  quarter's leads, MQL, SQL, customers, revenue, return per 1 spent and CAC, with 10–90% intervals.
  :func:`recompute` is the slider's compute step (benchmarked: ``make bench-planning``).
* :func:`new_channel_settings` + :func:`new_channel_forecasts` — a new channel configured in ``audit.yaml``
  ``new_channel:`` (worked example: 150 leads × 50% reached × 25% closed = 18.75 customers).
* :func:`optimise_split` — the split of a total budget maximising expected gross margin; :func:`scenarios`.

The team and its capacity come from :mod:`salesaudit.capacity` (one rule with step 05).

Conventions: money in the configured currency; "return per 1 spent" = gross margin × revenue ÷ spend
(so the 2:1 target means 2 of gross margin back per 1 of spend); CAC = spend ÷ new customers.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as st

from salesaudit import capacity, stats
from salesaudit.errors import DataContractError

__all__ = [
    "LO_Q",
    "HI_Q",
    "STAGES",
    "STAGE_STEPS",
    "MIN_MONTHS",
    "MIN_SPEND_CV",
    "HILL_H_BOUNDS",
    "DEFAULT_DRAWS",
    "NEW_CHANNEL_KEYS",
    # 1. ROI of the audited quarter
    "reached_stages",
    "won_deals",
    "quarterly_spend",
    "quarter_roi",
    # 2. fitted models from history
    "monthly_spend_leads",
    "seasonal_index",
    "hill",
    "ResponseFit",
    "fit_response",
    "fit_responses",
    "curve_grid",
    "deseasonalised",
    "conversion_window",
    "stage_rates",
    "conversion_delay",
    "deal_values",
    # 3. the what-if
    "PlanModel",
    "active_reps",
    "rep_capacity",
    "curve_parameter_draws",
    "build_model",
    "expected_leads",
    "simulate",
    "plan_table",
    "capacity_check",
    "recompute",
    "time_recompute",
    "lead_to_customer",
    # 4. a new channel
    "NewChannel",
    "new_channel_settings",
    "new_channel_forecasts",
    "new_channel_forecast",
    "new_channel_spend",
    "forecasts_priced",
    # 5. allocation and scenarios
    "expected_margin",
    "optimise_split",
    "scenarios",
]

LO_Q, HI_Q = 0.10, 0.90
STAGES: tuple[str, ...] = ("mql", "sql", "customer")
STAGE_STEPS: tuple[tuple[str, str], ...] = (("lead", "mql"), ("mql", "sql"), ("sql", "customer"))
MIN_MONTHS = 9
MIN_SPEND_CV = 0.10
HILL_H_BOUNDS = (0.3, 3.0)
DEFAULT_DRAWS = 2000
_Z90 = float(st.norm.ppf(0.95))
_Z80 = float(st.norm.ppf(0.90))


# --------------------------------------------------------------------------------------------------
# 1. ROI of the audited quarter
# --------------------------------------------------------------------------------------------------
def reached_stages(leads: pd.DataFrame) -> pd.DataFrame:
    """Boolean columns ``mql, sql, customer``: the lead reached the stage *or any later one*.

    reached(stage) = stage date present, or a later stage date present (a lead that skipped MQL
    and became SQL counts as MQL), so the counts never increase down the funnel.
    """
    out = {}
    later = pd.Series(False, index=leads.index)
    for stage in reversed(STAGES):
        col = f"{stage}_at"
        here = leads[col].notna() if col in leads.columns else pd.Series(False, index=leads.index)
        later = later | here
        out[stage] = later
    return pd.DataFrame({s: out[s].to_numpy() for s in STAGES}, index=leads.index)


def won_deals(data: Any) -> pd.DataFrame:
    """Won first deals with their lead's channel: columns ``lead_id, channel, closed_at, amount``.

    Source: won opportunities (``is_won``) with an ``amount``; when there are no opportunities,
    orders (``customer_id`` = the converted lead's ``lead_id``). First-touch attribution: the deal's
    revenue goes to the channel of the lead it came from. Empty frame when neither table exists.
    """
    leads = data.leads[["lead_id", "channel"]]
    opps = data.opportunities if data.has("opportunities") else None
    if opps is not None and "amount" in opps.columns and "lead_id" in opps.columns:
        won = opps.loc[
            opps["is_won"].fillna(False).astype(bool) & opps["closed_at"].notna() & opps["lead_id"].notna(),
            ["lead_id", "closed_at", "amount"],
        ]
    elif data.has("orders"):
        o = data.orders
        won = o.rename(columns={"customer_id": "lead_id", "ordered_at": "closed_at"})[
            ["lead_id", "closed_at", "amount"]
        ]
    else:
        return pd.DataFrame(
            {
                "lead_id": pd.Series(dtype="string"),
                "channel": pd.Series(dtype="string"),
                "closed_at": pd.Series(dtype="datetime64[ns]"),
                "amount": pd.Series(dtype=float),
            }
        )
    return won.merge(leads, on="lead_id", how="inner").astype({"amount": float})


def quarterly_spend(spend: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Spend per channel with ``start <= month < end`` (Series, channel → money)."""
    m = spend.loc[(spend["month"] >= start) & (spend["month"] < end)]
    return m.groupby("channel", observed=True)["amount"].sum().astype(float)


def quarter_roi(
    data: Any, start: pd.Timestamp, end: pd.Timestamp, gross_margin: float, roi_target: float
) -> pd.DataFrame:
    """ROI by paid channel in one period (``start <= t < end``), plus a ``Total (paid)`` row.

    ``attrs["new_channels"]``: paid channels whose first spend falls in the period.

    Columns: ``spend, leads, customers, revenue, margin, return_per_1, return_lo, return_hi, cac,
    meets_target``.

    * leads = leads created in the period; customers = leads whose ``customer_at`` is in the period
      (the *flow* view: this quarter's customers partly come from last quarter's leads);
    * revenue = amount of won deals closed in the period, first-touch by the lead's channel;
    * return per 1 spent = gross_margin × revenue ÷ spend; target met when ≥ ``roi_target``;
    * 90% interval of the return: revenue treated as a compound-Poisson sum of deals, relative
      SE = √Σa² ÷ Σa (normal approximation; none when there are no deals);
    * CAC = spend ÷ customers (customer acquisition cost).
    """
    sp = quarterly_spend(data.spend, start, end)
    sp = sp[sp > 0]
    paid = list(sp.index)
    leads = data.leads
    in_q = (leads["created_at"] >= start) & (leads["created_at"] < end)
    n_leads = leads.loc[in_q].groupby("channel", observed=True).size()
    cust = leads["customer_at"] if "customer_at" in leads.columns else pd.Series(pd.NaT, index=leads.index)
    n_cust = leads.loc[(cust >= start) & (cust < end)].groupby("channel", observed=True).size()
    deals = won_deals(data)
    deals = deals.loc[(deals["closed_at"] >= start) & (deals["closed_at"] < end)]
    rev = deals.groupby("channel", observed=True)["amount"].agg(["sum", lambda a: float(np.sum(np.square(a)))])
    rev.columns = ["revenue", "sumsq"]
    df = pd.DataFrame(index=pd.Index(paid, name="channel"))
    df = df.assign(
        spend=sp.reindex(paid).to_numpy(),
        leads=n_leads.reindex(paid).fillna(0).to_numpy(dtype=float),
        customers=n_cust.reindex(paid).fillna(0).to_numpy(dtype=float),
        revenue=rev["revenue"].reindex(paid).fillna(0.0).to_numpy(),
        sumsq=rev["sumsq"].reindex(paid).fillna(0.0).to_numpy(),
    )
    total = df.sum().to_frame("Total (paid)").T
    df = pd.concat([df, total])
    df.index.name = "channel"
    first = data.spend.loc[data.spend["amount"] > 0].groupby("channel", observed=True)["month"].min()
    out = _finish_roi(df, gross_margin, roi_target)
    out.attrs["new_channels"] = [str(c) for c in paid if first.get(c, start) >= start]
    return out


def quarter_leads(data: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The leads created in the period (``start <= created_at < end``) — the ``leads`` :func:`quarter_roi` counts
    per channel: ``lead_id, channel, owner_id, created_at, customer_at`` (those present), the evidence behind a
    channel's ROI finding."""
    leads = data.leads
    rows = leads.loc[(leads["created_at"] >= start) & (leads["created_at"] < end)]
    cols = [c for c in ("lead_id", "channel", "owner_id", "created_at", "customer_at") if c in rows.columns]
    return rows[cols].assign(channel=rows["channel"].astype(str))


def _finish_roi(df: pd.DataFrame, gm: float, target: float) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = gm * df["revenue"]
        ret = margin / df["spend"]
        rel = np.sqrt(df["sumsq"]) / df["revenue"]
        lo = np.where(df["revenue"] > 0, np.clip(ret * (1 - _Z90 * rel), 0, None), np.nan)
        hi = np.where(df["revenue"] > 0, ret * (1 + _Z90 * rel), np.nan)
        cac = np.where(df["customers"] > 0, df["spend"] / df["customers"], np.nan)
    return df.drop(columns="sumsq").assign(
        margin=margin, return_per_1=ret, return_lo=lo, return_hi=hi, cac=cac, meets_target=ret >= target
    )


# --------------------------------------------------------------------------------------------------
# 2. Fitted models from history
# --------------------------------------------------------------------------------------------------
def monthly_spend_leads(leads: pd.DataFrame, spend: pd.DataFrame, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Monthly ``month, channel, spend, leads`` for every channel with spend, months before ``end``.

    One row per month in which the channel had positive spend; leads = leads created in that month.
    """
    sp = spend if end is None else spend.loc[spend["month"] < end]
    sp = (
        sp.assign(month=sp["month"].dt.to_period("M").dt.to_timestamp())
        .groupby(["month", "channel"], observed=True, as_index=False)["amount"]
        .sum()
        .rename(columns={"amount": "spend"})
    )
    sp = sp.loc[sp["spend"] > 0]
    ld = (
        leads.assign(month=leads["created_at"].dt.to_period("M").dt.to_timestamp())
        .groupby(["month", "channel"], observed=True)
        .size()
        .rename("leads")
        .reset_index()
    )
    out = sp.merge(ld, on=["month", "channel"], how="left").fillna({"leads": 0})
    return out.astype({"channel": str, "leads": float}).sort_values(["channel", "month"]).reset_index(drop=True)


def seasonal_index(
    leads: pd.DataFrame, paid: list[str], end: pd.Timestamp | None = None, exclude: tuple[str, ...] = ()
) -> pd.Series:
    """Multiplicative seasonal index by calendar month (1–12, mean 1), from the *unpaid* channels.

    Classical decomposition: leads of the channels without spend per month ÷ their centred 12-month
    moving average (when ≥ 24 months; else ÷ the overall mean), averaged by calendar month and
    normalised to mean 1. Unpaid channels (organic, referral …) see the same seasons but no spend
    changes, so the index is not confounded with spend. ``exclude``: unpaid channels that do not follow
    the buying season (the referral channel follows the customer base). All ones when there are fewer
    than 12 full months or no unpaid channels.
    """
    ones = pd.Series(1.0, index=pd.RangeIndex(1, 13, name="month"))
    ld = leads if end is None else leads.loc[leads["created_at"] < end]
    ld = ld.loc[~ld["channel"].astype(str).isin([*paid, *exclude])]
    if ld.empty:
        return ones
    m = ld["created_at"].dt.to_period("M")
    counts = m.value_counts().sort_index()
    full = pd.period_range(counts.index.min(), counts.index.max(), freq="M")
    counts = counts.reindex(full, fill_value=0).astype(float)
    first, last = ld["created_at"].min(), ld["created_at"].max()
    keep = (full.to_timestamp() >= first.normalize() - pd.Timedelta(days=2)) & (
        (full + 1).to_timestamp() <= last.normalize() + pd.Timedelta(days=3)
    )
    counts = counts[keep]
    if len(counts) < 12:
        return ones
    if len(counts) >= 24:
        cma = counts.rolling(12, center=True).mean().rolling(2).mean().shift(-1)
        ratio = (counts / cma).dropna()
    else:
        ratio = counts / counts.mean()
    idx = ratio.groupby(ratio.index.month).mean().reindex(range(1, 13))
    idx = idx.fillna(idx.mean())
    return (idx / idx.mean()).rename_axis("month")


def hill(s, vmax, k, h):
    """Hill curve: expected monthly leads = vmax · sᴴ ÷ (kᴴ + sᴴ) for monthly spend s ≥ 0."""
    s = np.maximum(np.asarray(s, dtype=float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.power(s / k, h)
        return np.where(s > 0, vmax * r / (1 + r), 0.0)


def _hill_log(s, lv, lk, lh):
    return hill(s, np.exp(lv), np.exp(lk), np.exp(lh))


@dataclass
class ResponseFit:
    """Expected monthly leads of one paid channel as a function of its monthly spend."""

    channel: str
    method: str  # "hill" or "cost_per_lead"
    n_months: int
    spend_cv: float
    spend_min: float
    spend_max: float
    params: np.ndarray  # hill: log(vmax, k, h); cost_per_lead: [cpl]
    cov: np.ndarray | None
    leads_observed: float  # total deseasonalised leads used
    note: str = ""
    fit_error: float = float("nan")  # mean absolute % error of the fit on the observed months
    bounds: tuple | None = None  # (lower, upper) of the log-parameters used in the fit
    observed: tuple | None = field(default=None, repr=False)  # (spend, deseasonalised leads, sigma) fitted on

    def predict(self, monthly_spend) -> np.ndarray:
        """Expected monthly leads (before seasonality) at ``monthly_spend``."""
        if self.method == "hill":
            return _hill_log(monthly_spend, *self.params)
        return np.maximum(np.asarray(monthly_spend, dtype=float), 0) / self.params[0]


def fit_response(
    monthly: pd.DataFrame, season: pd.Series, min_months: int = MIN_MONTHS, min_cv: float = MIN_SPEND_CV
) -> ResponseFit:
    """Fit monthly leads ÷ seasonal index = vmax·sᴴ/(kᴴ+sᴴ) for one channel (bounded least squares).

    ``monthly``: one channel's rows of :func:`monthly_spend_leads`. The fit is
    ``scipy.optimize.curve_fit`` on log-parameters with bounds (k within [min spend ÷ 20, max spend ×
    50], h in [0.3, 3], vmax ≤ 50 × max leads), weights σ = √(leads + 1) (Poisson noise). Enough
    history = ≥ ``min_months`` months with spend and a spend coefficient of variation ≥ ``min_cv``;
    otherwise — or when the fit fails — the stated fallback is a constant cost per lead:
    leads = spend ÷ (Σ spend ÷ Σ deseasonalised leads), i.e. no diminishing returns.
    """
    ch = str(monthly["channel"].iloc[0])
    s = monthly["spend"].to_numpy(dtype=float)
    y = monthly["leads"].to_numpy(dtype=float) / season.reindex(monthly["month"].dt.month).to_numpy(dtype=float)
    n = len(s)
    cv = float(np.std(s, ddof=1) / np.mean(s)) if n > 1 and np.mean(s) > 0 else 0.0
    base = dict(
        channel=ch,
        n_months=n,
        spend_cv=cv,
        spend_min=float(s.min()),
        spend_max=float(s.max()),
        leads_observed=float(y.sum()),
    )
    reason = ""
    if n < min_months:
        reason = f"only {n} month{'s' if n != 1 else ''} of spend history (need {min_months})"
    elif cv < min_cv:
        reason = f"spend barely varied (coefficient of variation {cv:.2f} < {min_cv:.2f})"
    else:
        lo = [np.log(max(y.max(), 1) * 0.5), np.log(s.min() / 20), np.log(HILL_H_BOUNDS[0])]
        hi = [np.log(max(y.max(), 1) * 50), np.log(s.max() * 50), np.log(HILL_H_BOUNDS[1])]
        p0 = [np.log(max(y.max(), 1) * 2), np.log(np.median(s) * 1.5), 0.0]
        try:
            popt, pcov = optimize.curve_fit(_hill_log, s, y, p0=p0, bounds=(lo, hi), sigma=np.sqrt(y + 1), maxfev=5000)
            pred = _hill_log(s, *popt)
            mape = float(np.mean(np.abs(pred - y) / np.maximum(y, 1)))
            cov = pcov if np.all(np.isfinite(pcov)) else None
            return ResponseFit(
                method="hill",
                params=popt,
                cov=cov,
                fit_error=mape,
                bounds=(np.array(lo), np.array(hi)),
                observed=(s, y, np.sqrt(y + 1)),
                note=f"Hill curve fitted on {n} months",
                **base,
            )
        except (RuntimeError, ValueError) as exc:  # pragma: no cover - defensive
            reason = f"the curve fit failed ({exc.__class__.__name__})"
    cpl = float(s.sum() / max(y.sum(), 0.5))
    return ResponseFit(
        method="cost_per_lead",
        params=np.array([cpl]),
        cov=None,
        note=f"fallback: constant cost per lead {cpl:,.0f} — {reason}",
        **base,
    )


def fit_responses(monthly: pd.DataFrame, season: pd.Series, **kwargs: Any) -> dict[str, ResponseFit]:
    """:func:`fit_response` for every channel in ``monthly`` (dict channel → fit)."""
    return {str(ch): fit_response(g, season, **kwargs) for ch, g in monthly.groupby("channel", sort=True)}


def curve_grid(fits: dict[str, ResponseFit], monthly: pd.DataFrame, season: pd.Series, n: int = 60) -> pd.DataFrame:
    """Long frame for the response chart: ``channel, spend, leads_fit`` over 0–1.3 × max observed spend."""
    rows = []
    for ch, f in fits.items():
        grid = np.linspace(0, f.spend_max * 1.3, n)
        rows.append(pd.DataFrame({"channel": ch, "spend": grid, "leads_fit": f.predict(grid), "method": f.method}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["channel", "spend", "leads_fit"])


def deseasonalised(monthly: pd.DataFrame, season: pd.Series) -> pd.DataFrame:
    """``monthly`` plus ``leads_adj`` = leads ÷ seasonal index of the month."""
    return monthly.assign(leads_adj=monthly["leads"].to_numpy() / season.reindex(monthly["month"].dt.month).to_numpy())


def conversion_window(
    leads: pd.DataFrame, as_of: pd.Timestamp, months: int = 12
) -> tuple[pd.Timestamp, pd.Timestamp, float]:
    """The cohort window for conversion rates: leads created ``months`` months before ``as_of − maturity``.

    maturity = 90th percentile of lead→customer days among leads that became customers before
    ``as_of`` (rounded up to whole 30-day months, between 30 and 270 days), so that the cohort had time
    to convert. Returns (start, end, maturity_days).
    """
    cust = leads["customer_at"] if "customer_at" in leads.columns else pd.Series(pd.NaT, index=leads.index)
    d = (cust - leads["created_at"]).dt.days[cust.notna() & (cust < as_of)]
    p90 = float(np.nanquantile(d, 0.9)) if len(d) else 90.0
    maturity = float(min(max(np.ceil(p90 / 30) * 30, 30), 270))
    end = (as_of - pd.Timedelta(days=maturity)).normalize()
    return end - pd.DateOffset(months=months), end, maturity


def stage_rates(
    leads: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp, level: float = 0.8
) -> pd.DataFrame:
    """Stage conversion rates per channel with Beta posteriors, for leads created in ``[start, end)``.

    Steps lead→MQL, MQL→SQL, SQL→customer; reached = stage (or a later one) reached before ``as_of``.
    Posterior per channel and step: Beta(α + k, β + n − k) with an empirical-Bayes prior fitted across
    channels (:func:`salesaudit.stats.shrink_rates`), so a channel with few leads (a new one) is pulled
    toward the others. Long frame: ``channel, step, k, n, raw, rate, lo, hi, a, b`` (interval at
    ``level``, default 80% = the 10–90% band of the plan).
    """
    c = leads.loc[(leads["created_at"] >= start) & (leads["created_at"] < end)]
    masked = c.assign(**{f"{s}_at": c[f"{s}_at"].where(c[f"{s}_at"] < as_of) for s in STAGES if f"{s}_at" in c.columns})
    r = reached_stages(masked).assign(lead=True, channel=c["channel"].astype(str).to_numpy())
    counts = r.groupby("channel")[["lead", *STAGES]].sum()
    all_channels = sorted(leads["channel"].astype(str).unique())
    counts = counts.reindex(all_channels, fill_value=0)
    rows = []
    for frm, to in STAGE_STEPS:
        k, n = counts[to].to_numpy(float), counts[frm].to_numpy(float)
        sr = stats.shrink_rates(k, n, level=level)
        a = sr["alpha"].to_numpy() + k
        b = sr["beta"].to_numpy() + n - k
        rows.append(
            pd.DataFrame(
                {
                    "channel": counts.index,
                    "step": f"{frm}→{to}",
                    "k": k,
                    "n": n,
                    "raw": sr["raw"],
                    "rate": a / (a + b),
                    "lo": sr["lo"],
                    "hi": sr["hi"],
                    "a": a,
                    "b": b,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def conversion_delay(leads: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """Days from lead creation to customer, per channel: median and 10th/90th percentiles, n customers.

    Among leads created in ``[start, end)`` that became customers before ``as_of``.
    """
    c = leads.loc[
        (leads["created_at"] >= start)
        & (leads["created_at"] < end)
        & leads["customer_at"].notna()
        & (leads["customer_at"] < as_of)
    ]
    d = c.assign(days=(c["customer_at"] - c["created_at"]).dt.total_seconds() / 86400, channel=c["channel"].astype(str))
    g = d.groupby("channel")["days"]
    out = pd.DataFrame(
        {"customers": g.size(), "p10_days": g.quantile(0.1), "median_days": g.median(), "p90_days": g.quantile(0.9)}
    )
    allrow = pd.DataFrame(
        {
            "customers": [len(d)],
            "p10_days": [d["days"].quantile(0.1)],
            "median_days": [d["days"].median()],
            "p90_days": [d["days"].quantile(0.9)],
        },
        index=["All"],
    )
    return pd.concat([out, allrow]).rename_axis("channel")


def deal_values(data: Any, start: pd.Timestamp, end: pd.Timestamp, min_deals: int = 10) -> pd.DataFrame:
    """Revenue per new customer by channel: mean won first-deal amount with its standard error.

    Deals closed in ``[start, end)``. A channel with fewer than ``min_deals`` deals takes the pooled
    mean and SE (stated in column ``source``). Columns ``deals, mean, se, source``.
    """
    d = won_deals(data)
    d = d.loc[(d["closed_at"] >= start) & (d["closed_at"] < end)].sort_values("closed_at").drop_duplicates("lead_id")
    channels = sorted(data.leads["channel"].astype(str).unique())
    if d.empty:
        return pd.DataFrame(
            {"deals": 0, "mean": np.nan, "se": np.nan, "source": "no revenue data"},
            index=pd.Index(channels, name="channel"),
        )
    g = d.assign(channel=d["channel"].astype(str)).groupby("channel")["amount"]
    out = pd.DataFrame({"deals": g.size(), "mean": g.mean(), "se": g.std(ddof=1) / np.sqrt(g.size())}).reindex(channels)
    pooled_mean = float(d["amount"].mean())
    pooled_se = float(d["amount"].std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else pooled_mean * 0.2
    few = out["deals"].fillna(0) < min_deals
    return out.assign(
        deals=out["deals"].fillna(0).astype(int),
        mean=out["mean"].where(~few, pooled_mean),
        se=out["se"].where(~few, pooled_se * np.sqrt(len(d) / max(min_deals, 1))).fillna(pooled_se),
        source=np.where(few, "pooled (few deals)", "own deals"),
    ).rename_axis("channel")


# --------------------------------------------------------------------------------------------------
# 3. The what-if: model + vectorised Monte Carlo
# --------------------------------------------------------------------------------------------------
@dataclass
class PlanModel:
    """Everything the what-if needs, with the parameter uncertainty pre-drawn (``draws`` rows)."""

    channels: list[str]  # all channels: paid first, then unpaid
    paid: list[str]
    fits: dict[str, ResponseFit]
    rates: pd.DataFrame
    deals: pd.DataFrame
    season: pd.Series
    next_months: list[pd.Timestamp]
    current_spend: pd.Series  # audited quarter's spend per paid channel
    unpaid_monthly: pd.Series  # deseasonalised monthly leads of unpaid channels (last 12 months)
    gross_margin: float
    roi_target: float
    currency: str
    rep_capacity: float  # mean monthly lead capacity per rep of next quarter's team (capacity.next_quarter_team)
    n_reps: int
    seed: int
    forecast_monthly: float = float("nan")  # next quarter's lead forecast per month (capacity.next_quarter_forecast)
    baseline_leads: float = float("nan")  # expected leads of all channels at the audited quarter's spend
    # pre-drawn, shape (D, C) unless stated
    mult: np.ndarray = field(repr=False, default=None)  # multiplies the point curve (paid) / level (unpaid)
    curve_draws: dict = field(repr=False, default_factory=dict)  # channel → (D, 3) log-params of hill draws
    rate_draws: np.ndarray = field(repr=False, default=None)  # (D, C, 3)
    deal_draws: np.ndarray = field(repr=False, default=None)

    @property
    def n_draws(self) -> int:
        return int(self.rate_draws.shape[0])

    def season_next(self) -> np.ndarray:
        return self.season.reindex([m.month for m in self.next_months]).to_numpy(dtype=float)


def active_reps(reps: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """Reps employed at ``as_of`` (started before, not ended) — all reps when dates are absent.

    The team rule of :func:`salesaudit.capacity.active_reps` (steps 05 and 07) over the instant ``as_of``:
    start_date < as_of and (no end_date or end_date ≥ as_of).
    """
    return capacity.active_reps(reps, as_of, as_of)


def rep_capacity(reps: pd.DataFrame | None, as_of: pd.Timestamp) -> tuple[float, int]:
    """(median monthly lead capacity per rep, number of reps with a capacity) among active reps."""
    a = active_reps(reps, as_of)
    if "monthly_lead_capacity" not in a.columns:
        return float("nan"), 0
    cap = a["monthly_lead_capacity"].dropna().astype(float)
    return (float(cap.median()) if len(cap) else float("nan")), int(len(cap))


def curve_parameter_draws(fit: ResponseFit, draws: int, rng: np.random.Generator, level: float = 0.99) -> np.ndarray:
    """Draws of a Hill fit's log-parameters: N(θ̂, Σ̂) clipped to the fit bounds, keeping only draws
    inside the approximate likelihood region.

    A draw is kept when its weighted residual sum of squares on the observed months exceeds the best
    fit's by at most σ̂²·χ²₃(``level``) (σ̂² = RSS ÷ (n − 3)); rejected draws are replaced by kept ones.
    This stops the normal approximation from producing curves the data rule out (poorly identified
    Hill fits are strongly non-linear in their parameters). Shape (draws, 3).
    """
    th = np.clip(rng.multivariate_normal(fit.params, fit.cov, size=draws, method="eigh"), fit.bounds[0], fit.bounds[1])
    s, y, sig = fit.observed
    pred = _hill_log(s[None, :], th[:, :1], th[:, 1:2], th[:, 2:3])
    rss = np.sum(((pred - y) / sig) ** 2, axis=1)
    rss0 = float(np.sum(((fit.predict(s) - y) / sig) ** 2))
    scale = rss0 / max(len(s) - 3, 1)
    keep = (rss - rss0) <= scale * st.chi2.ppf(level, 3)
    if keep.sum() == 0:
        return np.repeat(fit.params[None, :], draws, axis=0)
    kept = th[keep]
    return np.vstack([kept, kept[rng.integers(0, len(kept), draws - len(kept))]]) if len(kept) < draws else kept


def build_model(data: Any, quarter: Any, draws: int = DEFAULT_DRAWS, seed: int = 7) -> PlanModel:
    """Fit everything on the history up to the end of ``quarter`` and pre-draw the uncertainty.

    * curves: :func:`fit_responses` on all months before the quarter's end; Hill parameters drawn from
      the fit's normal approximation (log-parameters ~ N(θ̂, Σ̂)), fallback cost per lead from
      Gamma(leads + ½) (Poisson uncertainty of the leads it rests on);
    * unpaid channels: mean deseasonalised monthly leads of the last 12 months (level uncertainty
      Gamma(Σ leads + ½));
    * rates: Beta posteriors of :func:`stage_rates` on the matured cohort window;
    * revenue per customer: N(mean, se) of :func:`deal_values` over the last 12 months.
    """
    as_of = quarter.end
    rng = np.random.default_rng(seed)
    spend = data.spend.loc[data.spend["month"] < as_of]
    monthly = monthly_spend_leads(data.leads, spend)
    current = quarterly_spend(spend, quarter.start, as_of)
    paid = sorted(c for c in current.index[current > 0].astype(str))
    season = seasonal_index(
        data.leads, sorted(monthly["channel"].unique()), as_of, exclude=(data.config.referral_channel,)
    )
    fits = fit_responses(monthly.loc[monthly["channel"].isin(paid)], season)
    all_ch = sorted(data.leads["channel"].astype(str).unique())
    unpaid = [c for c in all_ch if c not in set(monthly["channel"])]
    channels = paid + unpaid
    # unpaid level: last 12 months
    recent = data.leads.loc[
        (data.leads["created_at"] >= as_of - pd.DateOffset(months=12)) & (data.leads["created_at"] < as_of)
    ]
    rm = recent.assign(m=recent["created_at"].dt.month, channel=recent["channel"].astype(str))
    by = rm.loc[rm["channel"].isin(unpaid)].groupby(["channel", "m"]).size().rename("n").reset_index()
    by = by.assign(adj=by["n"] / season.reindex(by["m"]).to_numpy())
    unpaid_monthly = (by.groupby("channel")["adj"].sum() / 12).reindex(unpaid).fillna(0.0)
    # uncertainty multipliers for levels
    D = int(draws)
    curve_draws = {}
    mult = np.ones((D, len(channels)))
    for j, ch in enumerate(channels):
        if ch in fits and fits[ch].method == "hill" and fits[ch].cov is not None:
            f = fits[ch]
            curve_draws[ch] = curve_parameter_draws(f, D, rng)
        elif ch in fits:
            L = max(fits[ch].leads_observed, 0.5)
            mult[:, j] = rng.gamma(L + 0.5, 1.0, size=D) / (L + 0.5)
        else:
            L = max(float(unpaid_monthly.get(ch, 0.0)) * 12, 0.5)
            mult[:, j] = rng.gamma(L + 0.5, 1.0, size=D) / (L + 0.5)
    # rates
    ws, we, _ = conversion_window(data.leads, as_of)
    rates = stage_rates(data.leads, ws, we, as_of)
    a = rates.pivot(index="channel", columns="step", values="a").reindex(channels)[[f"{x}→{y}" for x, y in STAGE_STEPS]]
    b = rates.pivot(index="channel", columns="step", values="b").reindex(channels)[[f"{x}→{y}" for x, y in STAGE_STEPS]]
    rate_draws = rng.beta(a.to_numpy()[None, :, :].repeat(D, 0), b.to_numpy()[None, :, :].repeat(D, 0))
    deals = deal_values(data, as_of - pd.DateOffset(months=12), as_of).reindex(channels)
    mean = deals["mean"].to_numpy(float)
    se = deals["se"].to_numpy(float)
    deal_draws = np.maximum(mean[None, :] + se[None, :] * rng.standard_normal((D, len(channels))), 0.0)
    n_reps, _, cap = capacity.next_quarter_team(data.reps if data.has("reps") else None, quarter)
    forecast = capacity.next_quarter_forecast(data.leads, quarter, data.config.fiscal_year_start_month)
    nxt = quarter.next()
    model = PlanModel(
        channels=channels,
        paid=paid,
        fits=fits,
        rates=rates,
        deals=deals,
        season=season,
        next_months=nxt.months(),
        current_spend=current.reindex(paid).astype(float),
        unpaid_monthly=unpaid_monthly,
        gross_margin=float(data.config.gross_margin),
        roi_target=float(data.config.roi_target),
        currency=data.config.currency,
        rep_capacity=cap,
        n_reps=n_reps,
        seed=seed,
        mult=mult,
        curve_draws=curve_draws,
        rate_draws=rate_draws,
        deal_draws=deal_draws,
        forecast_monthly=float(forecast.monthly_leads),
    )
    model.baseline_leads = float(expected_leads(model, model.current_spend).sum(axis=1).mean())
    return model


def expected_leads(model: PlanModel, spend: dict[str, float] | pd.Series, draws: bool = True) -> np.ndarray:
    """Expected quarterly leads per channel, shape (D, C) (or (C,) with ``draws=False``: point fit).

    Quarterly spend is split evenly over the three months; leads = Σ_months curve(spend ÷ 3) ×
    seasonal index of the month. Unpaid channels: deseasonalised monthly level × Σ seasonal index.
    """
    sn = model.season_next()
    out = []
    for j, ch in enumerate(model.channels):
        if ch in model.fits:
            s = float(spend.get(ch, 0.0)) / 3.0
            f = model.fits[ch]
            if draws and ch in model.curve_draws:
                th = model.curve_draws[ch]
                lam = _hill_log(s, th[:, 0], th[:, 1], th[:, 2]) * sn.sum()
            else:
                lam = float(f.predict(s)) * sn.sum() * (model.mult[:, j] if draws else 1.0)
        else:
            lam = float(model.unpaid_monthly.get(ch, 0.0)) * sn.sum() * (model.mult[:, j] if draws else 1.0)
        out.append(np.broadcast_to(lam, (model.n_draws,)) if draws else lam)
    return np.column_stack(out) if draws else np.asarray(out, dtype=float)


def simulate(
    model: PlanModel, spend: dict[str, float] | pd.Series, rate_overrides: dict | None = None, seed: int | None = None
) -> dict[str, np.ndarray]:
    """Monte Carlo of next quarter per channel: arrays (D, C) of leads, mql, sql, customers, revenue.

    leads ~ Poisson(curve draw); mql ~ Binomial(leads, p₁); sql ~ Binomial(mql, p₂); customers ~
    Binomial(sql, p₃) with p drawn from the Beta posteriors; revenue = customers × revenue-per-customer
    draw. ``rate_overrides``: ``{step: rate}`` for all channels or ``{channel: {step: rate}}``, steps
    ``"lead→mql"``, ``"mql→sql"``, ``"sql→customer"``; an override replaces the posterior draw.
    Customers are the *eventual* customers of next quarter's leads (cohort view; see the delay).
    Common random numbers (same ``seed`` every call) so that moving a slider changes only what moved.
    """
    rng = np.random.default_rng(model.seed if seed is None else seed)
    lam = expected_leads(model, spend)
    p = model.rate_draws
    if rate_overrides:
        p = p.copy()
        steps = [f"{a}→{b}" for a, b in STAGE_STEPS]
        for key, val in rate_overrides.items():
            if isinstance(val, dict):
                if key in model.channels:
                    j = model.channels.index(key)
                    for step, r in val.items():
                        if r is not None:
                            p[:, j, steps.index(step)] = float(r)
            elif val is not None:
                p[:, :, steps.index(key)] = float(val)
    leads = rng.poisson(np.clip(lam, 0, 1e9))
    mql = rng.binomial(leads, p[:, :, 0])
    sql = rng.binomial(mql, p[:, :, 1])
    cust = rng.binomial(sql, p[:, :, 2])
    revenue = cust * model.deal_draws
    return {"lam": lam, "leads": leads, "mql": mql, "sql": sql, "customers": cust, "revenue": revenue}


def _q(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = np.nanquantile(x, [LO_Q, HI_Q], axis=axis)
    return np.nanmean(x, axis=axis), lo, hi


def plan_table(model: PlanModel, spend: dict[str, float] | pd.Series, sim: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per channel + ``Total (paid)`` + ``All channels``: mean and 10–90% interval of each output.

    Columns ``spend`` and, for each of leads, mql, sql, customers, revenue, return_per_1, cac:
    ``<m>``, ``<m>_lo``, ``<m>_hi``. return per 1 spent = gross_margin × revenue ÷ spend (paid rows
    only); CAC = spend ÷ customers (median over draws; draws with 0 customers count as ∞ and push
    the upper bound up).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (unpaid rows of return and CAC)
        return _plan_table(model, spend, sim)


def _plan_table(model: PlanModel, spend: dict[str, float] | pd.Series, sim: dict[str, np.ndarray]) -> pd.DataFrame:
    sp = np.array([float(spend.get(c, 0.0)) if c in model.paid else 0.0 for c in model.channels])
    paid_mask = np.array([c in model.paid for c in model.channels])
    cols = {m: sim[m].astype(float) for m in ("leads", "mql", "sql", "customers", "revenue")}
    tot_paid = {m: v[:, paid_mask].sum(axis=1, keepdims=True) for m, v in cols.items()}
    tot_all = {m: v.sum(axis=1, keepdims=True) for m, v in cols.items()}
    full = {m: np.hstack([cols[m], tot_paid[m], tot_all[m]]) for m in cols}
    sp_full = np.concatenate([sp, [sp.sum(), sp.sum()]])
    gm = model.gross_margin
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.where(sp_full > 0, gm * full["revenue"] / sp_full, np.nan)
        cac = np.where(sp_full > 0, np.where(full["customers"] > 0, sp_full / full["customers"], np.inf), np.nan)
    full["return_per_1"] = ret
    full["cac"] = cac
    index = [*model.channels, "Total (paid)", "All channels"]
    data = {"spend": sp_full}
    for m, v in full.items():
        if m == "cac":
            lo, hi = np.nanquantile(v, [LO_Q, HI_Q], axis=0)
            finite = np.where(np.isfinite(v), v, np.nan)
            with np.errstate(all="ignore"):
                mean = np.nanmedian(finite, axis=0) if np.isfinite(finite).any() else np.full(v.shape[1], np.nan)
            data.update({m: mean, f"{m}_lo": lo, f"{m}_hi": hi})
        else:
            mean, lo, hi = _q(v)
            data.update({m: mean, f"{m}_lo": lo, f"{m}_hi": hi})
    df = pd.DataFrame(data, index=pd.Index(index, name="channel"))
    df.loc["All channels", ["return_per_1", "return_per_1_lo", "return_per_1_hi", "cac", "cac_lo", "cac_hi"]] = np.nan
    df["spend"] = df["spend"].where(df.index != "All channels", np.nan)
    return df


def capacity_check(model: PlanModel, sim: dict[str, np.ndarray], n_reps: int | None = None) -> dict[str, float]:
    """Can the reps handle next quarter's leads under this plan? One rule with step 05.

    All leads = next quarter's lead forecast (:func:`salesaudit.capacity.next_quarter_forecast`, the one step
    05 plans against) + the change in expected leads this plan's paid spend brings against the audited
    quarter's spend (0 for the baseline plan); capacity = reps × mean monthly capacity per rep × 3 (the
    team of :func:`salesaudit.capacity.next_quarter_team`); ``reps_needed`` =
    :func:`salesaudit.capacity.reps_needed` of the plan's leads per month — so the baseline plan gives
    exactly step 05's number. ``p_over`` = share of draws whose leads exceed capacity. Returns
    ``capacity, leads, leads_lo, leads_hi, p_over, reps, reps_needed, forecast_monthly``.
    """
    n = model.n_reps if n_reps is None else int(n_reps)
    plan_mean = float(sim["lam"].sum(axis=1).mean())
    delta = plan_mean - model.baseline_leads
    base = model.forecast_monthly * 3 if np.isfinite(model.forecast_monthly) else model.baseline_leads
    total = base + (sim["leads"].sum(axis=1) - plan_mean) + delta
    mean = float(base + delta)
    lo, hi = np.quantile(total, [LO_Q, HI_Q])
    out = {
        "capacity": np.nan,
        "leads": mean,
        "leads_lo": float(lo),
        "leads_hi": float(hi),
        "p_over": np.nan,
        "reps": n,
        "reps_needed": np.nan,
        "forecast_monthly": float(model.forecast_monthly),
    }
    if not (np.isfinite(model.rep_capacity) and np.isfinite(model.forecast_monthly)):
        return out
    cap = n * model.rep_capacity * 3
    need = capacity.reps_needed(mean / 3, model.rep_capacity, n)
    return {**out, "capacity": cap, "p_over": float(np.mean(total > cap)), "reps_needed": need}


def recompute(
    model: PlanModel, spend: dict[str, float], n_reps: int | None = None, rate_overrides: dict | None = None
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The slider callback's compute step: simulate, tabulate, check capacity. (table, capacity)."""
    sim = simulate(model, spend, rate_overrides)
    return plan_table(model, spend, sim), capacity_check(model, sim, n_reps)


def time_recompute(model: PlanModel, spend: dict[str, float], repeats: int = 20) -> dict[str, float]:
    """Wall time of :func:`recompute` in ms over ``repeats`` runs: min (what the code costs on an idle
    core), median, max (what a busy machine adds)."""
    times = []
    for i in range(repeats):
        s = {k: v * (1 + 0.01 * (i % 5)) for k, v in spend.items()}
        t0 = time.perf_counter()
        recompute(model, s)
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "min_ms": float(np.min(times)),
        "median_ms": float(np.median(times)),
        "max_ms": float(np.max(times)),
        "repeats": repeats,
    }


def lead_to_customer(model: PlanModel) -> pd.DataFrame:
    """Lead→customer rate per channel = product of the three step posteriors (mean, 10–90% of draws)."""
    p = model.rate_draws.prod(axis=2)
    lo, hi = np.quantile(p, [LO_Q, HI_Q], axis=0)
    n = model.rates.loc[model.rates["step"] == "lead→mql"].set_index("channel")["n"].reindex(model.channels)
    return pd.DataFrame(
        {"rate": p.mean(axis=0), "lo": lo, "hi": hi, "mature_leads": n.to_numpy()},
        index=pd.Index(model.channels, name="channel"),
    ).sort_values("rate", ascending=False)


# --------------------------------------------------------------------------------------------------
# 4. A new channel
# --------------------------------------------------------------------------------------------------
#: ``audit.yaml`` ``new_channel:`` keys → (required, what). docs/assumptions.md, "New channel".
NEW_CHANNEL_KEYS: dict[str, tuple[bool, str]] = {
    "name": (True, "the channel's label in the report"),
    "leads": (True, "leads expected per quarter (> 0)"),
    "reach_rate": (True, "share of those leads reached by sales, 0–1"),
    "close_rate": (True, "share of reached leads that become customers, 0–1"),
    "spend": (False, "quarterly cost of the channel, in the configured currency"),
    "cost_per_lead": (False, "assumed cost per lead (spend = leads × cost_per_lead) when spend is not given"),
    "resembles": (False, "a known channel whose historical rates give a second estimate"),
}


@dataclass(frozen=True)
class NewChannel:
    """A new channel to evaluate, from ``audit.yaml`` ``new_channel:`` (see :data:`NEW_CHANNEL_KEYS`)."""

    name: str
    leads: float
    reach_rate: float
    close_rate: float
    spend: float | None = None
    cost_per_lead: float | None = None
    resembles: str | None = None

    @property
    def rates(self) -> dict[str, float]:
        return {"reached": self.reach_rate, "closed": self.close_rate}

    @property
    def label(self) -> str:
        return f"stated rates ({self.reach_rate:.0%} × {self.close_rate:.0%})"

    @property
    def history_label(self) -> str:
        """The key of the estimate on the historical rates of the channel it ``resembles``."""
        return f"{self.resembles}'s historical rates"


def new_channel_settings(cfg: Any) -> NewChannel | None:
    """The ``new_channel:`` entry of ``audit.yaml`` as a :class:`NewChannel`; None when not configured.

    Example (the demo company's)::

        new_channel:
          name: podcast
          leads: 150
          reach_rate: 0.5
          close_rate: 0.25
          resembles: webinar

    A bad entry raises :class:`~salesaudit.data.contract.DataContractError` naming the key and what was expected.
    """
    raw = (getattr(cfg, "extra", None) or {}).get("new_channel")
    if not raw:
        return None
    where = f"audit.yaml ({cfg.source})" if getattr(cfg, "source", None) else "audit.yaml"
    if not isinstance(raw, dict):
        raise DataContractError(f"{where}: `new_channel` must be a mapping with keys {', '.join(NEW_CHANNEL_KEYS)}.")
    unknown = sorted(set(raw) - set(NEW_CHANNEL_KEYS))
    missing = [k for k, (req, _) in NEW_CHANNEL_KEYS.items() if req and raw.get(k) in (None, "")]
    if unknown or missing:
        parts = ([f"unknown key(s) {', '.join(unknown)}"] if unknown else []) + (
            [f"missing {', '.join(f'{k} ({NEW_CHANNEL_KEYS[k][1]})' for k in missing)}"] if missing else []
        )
        raise DataContractError(f"{where}: `new_channel` has {'; '.join(parts)}.")

    def num(key: str, lo: float, hi: float | None) -> float | None:
        v = raw.get(key)
        if v in (None, ""):
            return None
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise DataContractError(
                f"{where}: `new_channel.{key}` = {v!r} is not a number ({NEW_CHANNEL_KEYS[key][1]})."
            ) from None
        if not (x > lo if hi is None else lo <= x <= hi):
            raise DataContractError(
                f"{where}: `new_channel.{key}` = {v!r} is out of range ({NEW_CHANNEL_KEYS[key][1]})."
            )
        return x

    return NewChannel(
        name=str(raw["name"]),
        leads=num("leads", 0, None),
        reach_rate=num("reach_rate", 0, 1),
        close_rate=num("close_rate", 0, 1),
        spend=num("spend", 0, None),
        cost_per_lead=num("cost_per_lead", 0, None),
        resembles=str(raw["resembles"]) if raw.get("resembles") else None,
    )


def new_channel_forecasts(nc: NewChannel, model: PlanModel | None = None) -> dict[str, dict]:
    """The estimates for a configured new channel: stated rates, and (with a spend model and a known
    ``resembles`` channel) that channel's historical rates.

    Spend: ``nc.spend``, else leads × ``cost_per_lead``, else the channel's own observed cost per lead
    when it already has spend history (:func:`new_channel_spend`), else unknown (no return computed).
    """
    spend = nc.spend
    if spend is None and nc.cost_per_lead:
        spend = nc.leads * nc.cost_per_lead
    if spend is None and model is not None:
        spend = new_channel_spend(model, nc.name, nc.leads)
    known = model is not None and nc.resembles in model.channels
    out = {
        nc.label: new_channel_forecast(
            nc.leads, spend=spend, rates=nc.rates, model=model, resembles=nc.resembles if known else None
        )
        if model is not None
        else new_channel_forecast(nc.leads, rates=nc.rates)
    }
    if known:
        out[nc.history_label] = new_channel_forecast(nc.leads, spend=spend, model=model, resembles=nc.resembles)
    return out


def new_channel_forecast(
    leads: float | None = None,
    *,
    spend: float | None = None,
    cost_per_lead: float | None = None,
    rates: dict[str, float] | None = None,
    resembles: str | None = None,
    model: PlanModel | None = None,
    revenue_per_customer: float | None = None,
    gross_margin: float | None = None,
    roi_target: float | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 7,
) -> dict[str, float]:
    """Expected customers (and margin) from a new channel, with a 10–90% interval.

    expected customers = leads × Π rates (the seed's example: 150 × 50% × 25% = 18.75). leads =
    ``leads`` or ``spend ÷ cost_per_lead``. Rates: explicit ``rates`` (a chain of step rates, taken as
    known: the interval then reflects only Poisson/Binomial chance), or the Beta posteriors of the
    known channel it ``resembles`` (lead→customer through all steps: the interval adds rate
    uncertainty). Margin = gross_margin × customers × revenue per customer; return per 1 spent =
    margin ÷ spend; worth it when the return meets ``roi_target``.
    """
    if leads is None:
        if spend is None or not cost_per_lead:
            raise ValueError("give expected leads, or spend and an assumed cost per lead")
        leads = spend / cost_per_lead
    rng = np.random.default_rng(seed)
    n = rng.poisson(leads, size=draws)
    if rates:
        p_chain = np.prod(list(rates.values()))
        cust = n
        for r in rates.values():
            cust = rng.binomial(cust, r)
        basis = "stated rates " + " × ".join(f"{v:.0%}" for v in rates.values())
    else:
        if model is None or resembles not in model.channels:
            raise ValueError("give explicit rates, or a model and the known channel the new one resembles")
        j = model.channels.index(resembles)
        p = model.rate_draws[:, j, :]
        p_draw = p.prod(axis=1)
        p_chain = float(p_draw.mean())
        cust = rng.binomial(n, p_draw)
        basis = f"{resembles}'s historical rates (Beta posteriors)"
    if model is not None:
        gross_margin = model.gross_margin if gross_margin is None else gross_margin
        roi_target = model.roi_target if roi_target is None else roi_target
        if revenue_per_customer is None:
            if resembles in model.deals.index:
                revenue_per_customer = float(model.deals.loc[resembles, "mean"])
            else:  # no similar channel named: the pooled revenue per new customer of all channels
                d = model.deals.dropna(subset=["mean"])
                w = d["deals"].clip(lower=0).astype(float)
                revenue_per_customer = float(np.average(d["mean"], weights=w)) if w.sum() > 0 else float("nan")
    out = {
        "leads": float(leads),
        "rate": float(p_chain),
        "customers": float(leads * p_chain),
        "customers_lo": float(np.quantile(cust, LO_Q)),
        "customers_hi": float(np.quantile(cust, HI_Q)),
        "basis": basis,
    }
    if revenue_per_customer is not None and gross_margin is not None:
        margin = gross_margin * revenue_per_customer * cust
        out.update(
            revenue_per_customer=float(revenue_per_customer),
            margin=float(gross_margin * revenue_per_customer * out["customers"]),
            margin_lo=float(np.quantile(margin, LO_Q)),
            margin_hi=float(np.quantile(margin, HI_Q)),
        )
        if spend:
            out.update(
                spend=float(spend),
                return_per_1=out["margin"] / spend,
                return_lo=out["margin_lo"] / spend,
                return_hi=out["margin_hi"] / spend,
                cac=spend / out["customers"] if out["customers"] > 0 else np.nan,
                p_meets_target=float(np.mean(margin / spend >= (roi_target or 0))),
            )
            out["worth_it"] = bool(out["return_per_1"] >= (roi_target or 0))
    return out


def new_channel_spend(model: PlanModel, channel: str, leads: float) -> float | None:
    """Spend for ``leads`` at the channel's average cost per lead: the fallback's constant cost per lead,
    or spend ÷ leads of the fitted curve at the middle of its observed spend range. None if unknown."""
    f = model.fits.get(channel)
    if f is None:
        return None
    if f.method != "hill":
        return float(leads * f.params[0])
    mid = (f.spend_min + f.spend_max) / 2
    return float(leads * mid / max(float(f.predict(mid)), 1e-9))


def forecasts_priced(forecasts: dict[str, dict]) -> bool:
    """True when the new-channel estimates of :func:`new_channel_forecasts` carry a return per 1 spent (a spend
    and a revenue per customer were known), i.e. when there is a return to chart."""
    return bool(forecasts) and "return_per_1" in next(iter(forecasts.values()))


# --------------------------------------------------------------------------------------------------
# 5. Allocation and scenarios
# --------------------------------------------------------------------------------------------------
def expected_margin(model: PlanModel, spend: dict[str, float] | pd.Series) -> pd.Series:
    """Expected gross margin per paid channel at point estimates: gm × E[revenue per customer] ×
    E[lead→customer rate] × expected leads(spend)."""
    lam = expected_leads(model, spend, draws=False)
    p = model.rate_draws.mean(axis=0).prod(axis=1)
    val = model.deal_draws.mean(axis=0)
    m = model.gross_margin * lam * p * val
    return pd.Series(m, index=model.channels).reindex(model.paid)


def optimise_split(
    model: PlanModel,
    total: float | None = None,
    bounds: tuple[float, float] = (0.5, 2.0),
    objective: str = "margin",
    hold_fallback: bool = True,
) -> pd.DataFrame:
    """Split ``total`` (default: the current quarter's paid spend) across paid channels to maximise
    expected gross margin (``objective="margin"``) or expected customers, under the fitted curves.

    Constraint Σ spend = total; each channel within ``bounds`` × its current spend (SLSQP, started
    from the current split scaled to the total). Channels on the constant-cost-per-lead fallback have
    no diminishing returns, so an optimiser would push them to a bound: with ``hold_fallback`` they
    keep their (scaled) current spend. Returns per channel ``current, optimised, change,
    margin_current, margin_optimised`` plus a ``Total`` row.
    """
    cur = model.current_spend.reindex(model.paid).astype(float)
    total = float(cur.sum()) if total is None else float(total)
    base = cur * total / max(float(cur.sum()), 1e-9)
    p = model.rate_draws.mean(axis=0).prod(axis=1)
    val = model.deal_draws.mean(axis=0)
    idx = [model.channels.index(c) for c in model.paid]
    weight = np.nan_to_num((model.gross_margin * p * val)[idx] if objective == "margin" else p[idx])
    held = np.array([hold_fallback and model.fits[c].method != "hill" for c in model.paid])
    scale = max(total, 1.0)

    def value(x: np.ndarray) -> float:
        lam = expected_leads(model, dict(zip(model.paid, x * scale)), draws=False)[idx]
        return float(np.sum(weight * lam))

    x0 = base.to_numpy() / scale
    lb = np.where(held, x0, cur.to_numpy() * bounds[0] / scale)
    ub = np.where(held, x0, cur.to_numpy() * bounds[1] / scale)
    x0 = np.clip(x0, lb, ub)
    v0 = max(value(x0), 1e-9)
    res = optimize.minimize(
        lambda x: -value(x) / v0,
        x0,
        method="SLSQP",
        bounds=list(zip(lb, ub)),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - total / scale}],
        options={"maxiter": 300, "ftol": 1e-12},
    )
    x = np.clip(res.x, lb, ub)
    feasible = abs(x.sum() - total / scale) < 1e-6 * max(total / scale, 1.0)
    if not feasible or value(x) < value(x0):  # SLSQP may stop on precision; keep only an improvement
        x = x0
    opt = pd.Series(x * scale, index=model.paid)
    m_cur = expected_margin(model, base)
    m_opt = expected_margin(model, opt)
    df = pd.DataFrame({"current": base, "optimised": opt})
    df = df.assign(change=df["optimised"] / df["current"] - 1, margin_current=m_cur, margin_optimised=m_opt, held=held)
    tot = pd.DataFrame(
        {
            "current": [df["current"].sum()],
            "optimised": [df["optimised"].sum()],
            "change": [0.0],
            "margin_current": [m_cur.sum()],
            "margin_optimised": [m_opt.sum()],
            "held": [False],
        },
        index=["Total"],
    )
    out = pd.concat([df, tot]).rename_axis("channel")
    out.attrs["gross_margin"] = model.gross_margin
    return out


def scenarios(
    model: PlanModel, changes: tuple[float, ...] = (0.0, 0.2, -0.2), include_optimised: bool = True
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Baseline (current split), ±20% total budget (same split) and the optimised split, simulated.

    Returns (summary: one row per scenario with the paid totals and their 10–90% intervals, {name:
    plan table}).
    """
    cur = model.current_spend
    plans: dict[str, pd.Series] = {}
    for c in changes:
        name = "Baseline (last quarter's spend)" if c == 0 else f"Total budget {c:+.0%}"
        plans[name] = cur * (1 + c)
    if include_optimised:
        plans["Optimised split (same total)"] = optimise_split(model)["optimised"].drop("Total")
    tables, rows = {}, []
    for name, sp in plans.items():
        tab, cap = recompute(model, sp.to_dict())
        tables[name] = tab
        t = tab.loc["Total (paid)"]
        rows.append(
            {
                "scenario": name,
                "spend": t["spend"],
                "leads": t["leads"],
                "customers": t["customers"],
                "customers_lo": t["customers_lo"],
                "customers_hi": t["customers_hi"],
                "revenue": t["revenue"],
                "return_per_1": t["return_per_1"],
                "return_lo": t["return_per_1_lo"],
                "return_hi": t["return_per_1_hi"],
                "cac": t["cac"],
                "meets_target": t["return_per_1"] >= model.roi_target,
                "all_leads": cap["leads"],
                "capacity": cap["capacity"],
                "p_over_capacity": cap["p_over"],
            }
        )
    return pd.DataFrame(rows).set_index("scenario"), tables
