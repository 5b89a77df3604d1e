"""Spend planning: ROI by channel, fitted spend→leads curves, conversion posteriors and a what-if.

The pieces, in the order the notebook ``07_spend_planning`` uses them:

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
* :func:`optimise_split` — the split of a total budget maximising expected gross margin.
* :func:`what_if_widget` — the ipywidgets front end (interactive notebook only).

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

from salesaudit import stats, text
from salesaudit.claims import extremes, n_is, no_standout
from salesaudit.stats import MIN_CLAIM_N

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


def fits_table(fits: dict[str, ResponseFit], currency: str = "EUR") -> pd.DataFrame:
    """Readable table, one row per channel: model, months, spend range, fitted parameters, fit error
    (mean absolute % error on the observed months) and why a channel fell back."""
    rows = []
    for ch, f in fits.items():
        hillp = np.exp(f.params) if f.method == "hill" else [np.nan] * 3
        hill_ = f.method == "hill"
        rows.append(
            {
                "channel": ch,
                "model": "Hill curve" if hill_ else "fallback: cost per lead",
                "months": f.n_months,
                "spend CV": f"{f.spend_cv:.2f}",
                f"monthly spend ({currency})": f"{f.spend_min:,.0f}–{f.spend_max:,.0f}",
                "vmax (leads/month)": f"{hillp[0]:,.0f}" if hill_ else "",
                f"k ({currency}/month)": f"{hillp[1]:,.0f}" if hill_ else "",
                "h": f"{hillp[2]:.2f}" if hill_ else "",
                f"cost per lead ({currency})": "" if hill_ else f"{f.params[0]:,.0f}",
                "fit error": f"{f.fit_error:.1%}" if hill_ else "",
                "why": "" if hill_ else f.note.split(" — ")[-1],
            }
        )
    return pd.DataFrame(rows).set_index("channel")


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


def rates_wide(rates: pd.DataFrame) -> pd.DataFrame:
    """Readable table: one row per channel, per step ``rate (lo–hi), k/n``."""
    f = rates.assign(
        cell=[
            f"{r:.1%} ({lo:.1%}–{hi:.1%}), {k:,.0f}/{n:,.0f}"
            for r, lo, hi, k, n in zip(rates["rate"], rates["lo"], rates["hi"], rates["k"], rates["n"])
        ]
    )
    return f.pivot(index="channel", columns="step", values="cell")[[f"{a}→{b}" for a, b in STAGE_STEPS]]


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
    """Reps employed at ``as_of`` (started before, not ended) — all reps when dates are absent."""
    if reps is None or reps.empty:
        return pd.DataFrame(columns=["rep_id", "monthly_lead_capacity"])
    start = reps["start_date"] if "start_date" in reps.columns else pd.Series(pd.NaT, index=reps.index)
    end = reps["end_date"] if "end_date" in reps.columns else pd.Series(pd.NaT, index=reps.index)
    ok = (start.isna() | (start < as_of)) & (end.isna() | (end >= as_of))
    return reps.loc[ok]


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
    from salesaudit.capacity import next_quarter_forecast, next_quarter_team

    n_reps, _, cap = next_quarter_team(data.reps if data.has("reps") else None, quarter)
    forecast = next_quarter_forecast(data.leads, quarter, data.config.fiscal_year_start_month)
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
    from salesaudit.capacity import reps_needed

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
    need = reps_needed(mean / 3, model.rep_capacity, n)
    return {**out, "capacity": cap, "p_over": float(np.mean(total > cap)), "reps_needed": need}


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


def display_table(table: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Formatted plan table: each output as ``mean (10%–90%)`` text (revenue in thousands)."""
    table = table.assign(
        revenue_k=table["revenue"] / 1000,
        revenue_k_lo=table["revenue_lo"] / 1000,
        revenue_k_hi=table["revenue_hi"] / 1000,
    )

    def one(v, lo, hi, d):
        if not np.isfinite(v):
            return "n/a"
        if not np.isfinite(lo):  # no lower bound: the value alone (never "nan–…")
            return f"{v:,.{d}f}"
        if not np.isfinite(hi):  # no upper bound (e.g. CAC when some draws win no customer)
            return f"{v:,.{d}f} (at least {lo:,.{d}f})"
        return f"{v:,.{d}f} ({lo:,.{d}f}–{hi:,.{d}f})"

    def fmt(m, d=0):
        return [one(v, lo, hi, d) for v, lo, hi in zip(table[m], table[f"{m}_lo"], table[f"{m}_hi"])]

    return pd.DataFrame(
        {
            f"spend ({currency})": ["" if not np.isfinite(v) else f"{v:,.0f}" for v in table["spend"]],
            "leads": fmt("leads"),
            "MQL": fmt("mql"),
            "SQL": fmt("sql"),
            "customers": fmt("customers"),
            f"revenue ({currency} k)": fmt("revenue_k"),
            "return per 1": fmt("return_per_1", 2),
            f"CAC ({currency})": fmt("cac"),
        },
        index=table.index,
    )


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
    from salesaudit.errors import DataContractError

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
        out[f"{nc.resembles}'s historical rates"] = new_channel_forecast(
            nc.leads, spend=spend, model=model, resembles=nc.resembles
        )
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


# --------------------------------------------------------------------------------------------------
# 5. Allocation
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


def allocation_sentences(alloc: pd.DataFrame, currency: str, bounds: tuple[float, float] = (0.5, 2.0)) -> list[str]:
    """Sentences: the expected margin gained by the optimised split and the biggest moves."""
    t = alloc.loc["Total"]
    gain = t["margin_optimised"] - t["margin_current"]
    ch = alloc.drop(index="Total").sort_values("change")
    out = [
        f"Re-splitting the same {text.money(t['current'], currency)} is expected to raise gross margin from "
        f"{text.money(t['margin_current'], currency)} to {text.money(t['margin_optimised'], currency)} "
        f"({text.money(gain, currency)}, {gain / max(t['margin_current'], 1e-9):+.1%}) per quarter, with each channel "
        f"kept within {bounds[0]:.0%}–{bounds[1]:.0%} of its current spend."
    ]
    up = ch[ch["change"] > 0.05].iloc[::-1]
    down = ch[ch["change"] < -0.05]
    if len(up):
        out.append("Move money to: " + ", ".join(f"{c} ({r:+.0%})" for c, r in up["change"].items()) + ".")
    if len(down):
        out.append("Move money from: " + ", ".join(f"{c} ({r:+.0%})" for c, r in down["change"].items()) + ".")
    out.append("The gain rests on the fitted curves; moves beyond a channel's observed spend range are extrapolations.")
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
# findings
# --------------------------------------------------------------------------------------------------
def findings(
    roi: pd.DataFrame, alloc: pd.DataFrame, target: float, currency: str, gross_margin: float | None = None
) -> list[dict[str, Any]]:
    """1–3 findings: revenue gained by re-splitting, and the paid channel furthest below the target.

    Impact is on the audit's one money scale, **revenue per quarter**: the models give gross margin, so
    revenue = margin ÷ gross margin (``gross_margin``; taken from the allocation when not given). For the
    re-split: expected margin gain ÷ gross margin; for a below-target channel: its margin shortfall
    against the target (spend × target − margin) ÷ gross margin, i.e. the extra revenue that would have
    met the target. A below-target channel is named only when it had n ≥ MIN_CLAIM_N leads and its
    return is below the target beyond the noise (interval under the target, or no revenue at all).
    Channels that started spending in the quarter are left out (their leads have not had time to close).
    """
    gm = float(gross_margin) if gross_margin else float(alloc.attrs.get("gross_margin", 1.0) or 1.0)
    out = []
    t = alloc.loc["Total"]
    gain = float(t["margin_optimised"] - t["margin_current"])
    if gain > 0:
        ch = alloc.drop(index="Total").sort_values("change")
        up, down = ch.index[-1], ch.index[0]
        out.append(
            {
                "slug": "spend_resplit",
                "text": f"Re-splitting the same marketing budget (more to {up}, less to {down}) is expected to add "
                f"{text.money(gain, currency)} of gross margin per quarter ({text.money(gain / gm, currency)} of revenue).",
                "impact": gain / gm,
                "recommendation": f"Shift budget toward {up} and away from {down} within 50–200% of today's spend, then re-check the curves next quarter.",
                "basis": "revenue per quarter = expected gross-margin gain under the fitted spend→leads curves and "
                f"historical conversion rates ÷ gross margin ({gm:.0%})",
            }
        )
    ch = roi.drop(index=["Total (paid)", *roi.attrs.get("new_channels", [])], errors="ignore")
    clear = (ch["return_hi"] < target) | (ch["revenue"] <= 0)
    below = ch[(~ch["meets_target"]) & (ch["spend"] > 0) & (ch["leads"] >= MIN_CLAIM_N) & clear]
    if len(below):
        gap = (below["spend"] * target - below["margin"]).sort_values(ascending=False)
        worst = gap.index[0]
        r = below.loc[worst]
        out.append(
            {
                "slug": "roi_below_target",
                "text": f"{worst} returned {r['return_per_1']:.2f} of gross margin per 1 spent this quarter, below the "
                f"{target:.1f}:1 target beyond the noise ({text.money(r['spend'], currency)} spent, "
                f"{n_is(r['leads'])} leads, {int(r['customers']):,} of them new customers).",
                "impact": float(gap.iloc[0]) / gm,
                "recommendation": f"Cut or rework {worst} spend, or test a lower budget where its curve is steeper.",
                "basis": "revenue per quarter = (spend × target return − gross margin earned in the quarter, first-touch) "
                f"÷ gross margin ({gm:.0%}): the extra revenue that would have met the target",
            }
        )
    return out


# --------------------------------------------------------------------------------------------------
# widget (interactive notebook only)
# --------------------------------------------------------------------------------------------------
def what_if_widget(model: PlanModel):
    """Sliders for next quarter's spend per paid channel, the total budget, the number of reps and an
    SQL→customer rate override; the output table and chart update on every move."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    cur = model.current_spend
    style = {"description_width": "150px"}
    layout = w.Layout(width="520px")
    sliders = {
        c: w.FloatSlider(
            value=round(float(cur[c]), -2),
            min=0.0,
            max=round(float(cur[c]) * 2.5, -2),
            step=max(round(float(cur[c]) / 50, -2), 100.0),
            description=f"{c} spend",
            readout_format=",.0f",
            continuous_update=False,
            style=style,
            layout=layout,
        )
        for c in model.paid
    }
    total = w.FloatSlider(
        value=round(float(cur.sum()), -2),
        min=0.0,
        max=round(float(cur.sum()) * 2.5, -2),
        step=max(round(float(cur.sum()) / 100, -2), 100.0),
        description="total budget",
        readout_format=",.0f",
        continuous_update=False,
        style=style,
        layout=layout,
    )
    reps = w.IntSlider(
        value=max(model.n_reps, 1),
        min=1,
        max=max(3 * model.n_reps, 10),
        description="reps",
        continuous_update=False,
        style=style,
        layout=layout,
    )
    close = w.FloatSlider(
        value=0.0,
        min=0.0,
        max=0.8,
        step=0.01,
        description="SQL→customer override",
        readout_format=".0%",
        continuous_update=False,
        style=style,
        layout=layout,
    )
    note = w.HTML("<small>SQL→customer override 0% = use each channel's history.</small>")
    table_out = w.HTML()
    table_out.add_class("plan-table")
    chart_out = w.Output()
    busy = {"total": False}

    def update(_=None) -> None:
        spend = {c: s.value for c, s in sliders.items()}
        ov = {"sql→customer": close.value} if close.value > 0 else None
        t0 = time.perf_counter()
        tab, cap = recompute(model, spend, reps.value, ov)
        ms = (time.perf_counter() - t0) * 1000
        sent = plan_sentences(model, tab, cap, "Plan")
        table_out.value = (
            display_table(tab, model.currency).to_html(classes="plan")
            + "<ul>"
            + "".join(f"<li>{s}</li>" for s in sent)
            + "</ul>"
            + f"<small>recomputed in {ms:.0f} ms ({model.n_draws:,} simulations)</small>"
        )
        with chart_out:
            chart_out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(8, 3.2))
            plan_chart(ax, tab.loc[model.paid + ["Total (paid)"]], model.roi_target)
            display(fig)
            plt.close(fig)

    def on_total(change) -> None:
        if busy["total"]:
            return
        busy["total"] = True
        old = sum(s.value for s in sliders.values())
        for s in sliders.values():
            s.value = s.value * change["new"] / old if old > 0 else change["new"] / len(sliders)
        busy["total"] = False
        update()

    def on_channel(_change) -> None:
        if busy["total"]:
            return
        busy["total"] = True
        total.value = sum(s.value for s in sliders.values())
        busy["total"] = False
        update()

    for s in sliders.values():
        s.observe(on_channel, names="value")
    total.observe(on_total, names="value")
    reps.observe(update, names="value")
    close.observe(update, names="value")
    update()
    controls = w.VBox([*sliders.values(), total, reps, close, note])
    return w.VBox([controls, table_out, chart_out])


def plan_chart(ax, table: pd.DataFrame, target: float):
    """Return per 1 spent per channel with its 10–90% interval and the target line."""
    y = np.arange(len(table))[::-1]
    v = table["return_per_1"].to_numpy(float)
    lo, hi = table["return_per_1_lo"].to_numpy(float), table["return_per_1_hi"].to_numpy(float)
    colors = ["#1b7837" if x >= target else "#b2182b" for x in v]
    ax.barh(y, v, color=colors, alpha=0.6)
    ax.errorbar(
        v, y, xerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)], fmt="none", ecolor="#333333", capsize=3
    )
    ax.axvline(target, color="black", linestyle="--", linewidth=1)
    ax.text(target, y.max() + 0.55, f" target {target:.1f}:1", fontsize=8, va="bottom")
    ax.set_yticks(y, list(table.index))
    ax.set_xlabel("gross margin returned per 1 spent (10–90% interval)")
    ax.set_title("Expected return per channel next quarter (green = meets target)", loc="left")
    return ax


# --------------------------------------------------------------------------------------------------
# display helpers and charts
# --------------------------------------------------------------------------------------------------
def roi_display(roi: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Readable ROI table (rounded; return with its 90% interval)."""
    return pd.DataFrame(
        {
            f"spend ({currency})": [f"{v:,.0f}" for v in roi["spend"]],
            "leads": [f"{v:,.0f}" for v in roi["leads"]],
            "new customers": [f"{v:,.0f}" for v in roi["customers"]],
            f"won revenue ({currency})": [f"{v:,.0f}" for v in roi["revenue"]],
            "return per 1 spent": [
                f"{r:.2f} ({lo:.2f}–{hi:.2f})" if np.isfinite(lo) else f"{r:.2f}"
                for r, lo, hi in zip(roi["return_per_1"], roi["return_lo"], roi["return_hi"])
            ],
            f"CAC ({currency})": [f"{v:,.0f}" if np.isfinite(v) else "n/a" for v in roi["cac"]],
            "meets target": np.where(roi["meets_target"], "yes", "no"),
        },
        index=roi.index,
    )


def roi_chart(ax, roi: pd.DataFrame, target: float):
    """Return per 1 spent by paid channel (90% interval) against the target line."""
    ch = roi.drop(index="Total (paid)", errors="ignore").sort_values("return_per_1")
    t = roi.loc["Total (paid)"] if "Total (paid)" in roi.index else None
    y = np.arange(len(ch))
    v = ch["return_per_1"].to_numpy(float)
    lo = np.nan_to_num(ch["return_lo"].to_numpy(float), nan=0.0)
    hi = np.where(np.isfinite(ch["return_hi"]), ch["return_hi"], v)
    ax.barh(y, v, color=["#1b7837" if x >= target else "#b2182b" for x in v], alpha=0.65)
    ax.errorbar(
        v, y, xerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)], fmt="none", ecolor="#333333", capsize=3
    )
    ax.axvline(target, color="black", linestyle="--", linewidth=1)
    ax.text(target, len(ch) - 0.4, f" target {target:.1f}:1", fontsize=8, va="bottom")
    ax.set_yticks(y, list(ch.index))
    ax.set_xlabel("gross margin returned per 1 spent (90% interval)")
    below = int((~ch["meets_target"]).sum())
    head = (
        f"{below} of {len(ch)} paid channels below the {target:.0f}:1 target"
        if below
        else f"every paid channel meets the {target:.0f}:1 target"
    )
    total = f"; all paid: {t['return_per_1']:.2f}" if t is not None else ""
    ax.set_title(f"Return per 1 spent this quarter: {head}{total}", loc="left")
    return ax


def response_chart(fits: dict[str, ResponseFit], monthly: pd.DataFrame, season: pd.Series, currency: str = "EUR"):
    """Small multiples: deseasonalised monthly leads vs monthly spend, with the fitted curve (or the
    fallback line, dashed red) per paid channel. Returns the Figure."""
    import matplotlib.pyplot as plt

    chans = list(fits)
    ncol = 3
    nrow = max(int(np.ceil(len(chans) / ncol)), 1)
    fig, axes = plt.subplots(nrow, ncol, figsize=(10, 2.5 * nrow + 0.4), squeeze=False)
    adj = deseasonalised(monthly, season)
    for ax, ch in zip(axes.ravel(), chans):
        f = fits[ch]
        d = adj.loc[adj["channel"] == ch]
        grid = np.linspace(0, f.spend_max * 1.3, 80)
        ax.scatter(d["spend"] / 1000, d["leads_adj"], s=14, color="#4c72b0", alpha=0.8)
        hill_ = f.method == "hill"
        ax.plot(grid / 1000, f.predict(grid), color="#222222" if hill_ else "#b2182b", linestyle="-" if hill_ else "--")
        ax.axvspan(f.spend_min / 1000, f.spend_max / 1000, color="#cccccc", alpha=0.25, lw=0)
        ax.set_title(
            f"{ch}: {'Hill fit' if hill_ else 'fallback (cost per lead)'}",
            fontsize=10,
            loc="left",
            color="black" if hill_ else "#b2182b",
        )
        ax.set_xlabel(f"monthly spend ({currency} k)", fontsize=8)
        ax.set_ylabel("leads / month", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    for ax in axes.ravel()[len(chans) :]:
        ax.axis("off")
    fig.suptitle(
        "More spend buys fewer extra leads per euro: fitted spend→leads curves (grey band = observed spend)",
        fontweight="bold",
        x=0.01,
        ha="left",
        fontsize=11,
    )
    return fig


def lead_to_customer(model: PlanModel) -> pd.DataFrame:
    """Lead→customer rate per channel = product of the three step posteriors (mean, 10–90% of draws)."""
    p = model.rate_draws.prod(axis=2)
    lo, hi = np.quantile(p, [LO_Q, HI_Q], axis=0)
    n = model.rates.loc[model.rates["step"] == "lead→mql"].set_index("channel")["n"].reindex(model.channels)
    return pd.DataFrame(
        {"rate": p.mean(axis=0), "lo": lo, "hi": hi, "mature_leads": n.to_numpy()},
        index=pd.Index(model.channels, name="channel"),
    ).sort_values("rate", ascending=False)


def delay_display(delay: pd.DataFrame) -> pd.DataFrame:
    """The lead→customer delay as whole days ("—" where too few customers to measure)."""
    names = {"p10_days": "10th pct (days)", "median_days": "median (days)", "p90_days": "90th pct (days)"}
    return delay.apply(lambda c: c.map(lambda v: f"{v:,.0f}" if np.isfinite(v) else "—")).rename(columns=names)


def conversion_title(l2c: pd.DataFrame) -> str:
    """Chart title for lead→customer by channel: best and worst only under the claim rule."""
    c = extremes(l2c.reset_index(), "rate", "mature_leads", "lo", "hi")
    if c.ok:
        return (
            f"{c.top['channel']} converts best: {c.top['rate']:.1%} of leads become customers ({n_is(c.top['mature_leads'])}) "
            f"vs {c.bottom['rate']:.1%} for {c.bottom['channel']} ({n_is(c.bottom['mature_leads'])})"
        )
    return f"No channel's lead→customer rate stands out beyond the noise ({c.ns} matured leads)"


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


def scenario_chart(axes, summary: pd.DataFrame, target: float, currency: str = "EUR"):
    """Two panels: expected customers and return per 1 spent per scenario (10–90% interval), target line."""
    names = list(summary.index)
    y = np.arange(len(names))[::-1]
    for ax, (m, lo, hi, label) in zip(
        axes,
        [
            ("customers", "customers_lo", "customers_hi", "new customers (eventual)"),
            ("return_per_1", "return_lo", "return_hi", "gross margin per 1 spent"),
        ],
    ):
        v = summary[m].to_numpy(float)
        ax.barh(y, v, color="#4c72b0", alpha=0.6)
        ax.errorbar(
            v,
            y,
            xerr=[v - summary[lo].to_numpy(float), summary[hi].to_numpy(float) - v],
            fmt="none",
            ecolor="#333333",
            capsize=3,
        )
        ax.set_xlabel(f"{label} (10–90% interval)")
        ax.set_yticks(y, names if ax is axes[0] else [""] * len(names))
    axes[1].axvline(target, color="black", linestyle="--", linewidth=1)
    axes[1].text(target, len(names) - 0.45, f" target {target:.0f}:1", fontsize=8)
    base = summary.iloc[0]
    up = summary.loc["Total budget +20%"] if "Total budget +20%" in summary.index else base
    axes[0].set_title(
        f"+20% budget buys {up['customers'] / base['customers'] - 1:+.0%} customers; "
        f"return per 1 falls to {up['return_per_1']:.2f}",
        loc="left",
    )
    return axes


def allocation_chart(ax, alloc: pd.DataFrame, currency: str = "EUR"):
    """Grouped bars: current vs optimised quarterly spend per paid channel (in thousands)."""
    a = alloc.drop(index="Total")
    x = np.arange(len(a))
    ax.bar(x - 0.2, a["current"] / 1000, width=0.4, label="current split", color="#999999")
    ax.bar(x + 0.2, a["optimised"] / 1000, width=0.4, label="optimised split", color="#1b7837")
    ax.set_xticks(x, [f"{c}{' (held)' if h else ''}" for c, h in zip(a.index, a["held"])], fontsize=9)
    ax.set_ylabel(f"quarterly spend ({currency} k)")
    t = alloc.loc["Total"]
    gain = t["margin_optimised"] - t["margin_current"]
    ax.set_title(
        f"Same budget, re-split: {text.money(gain, currency)} more expected gross margin per quarter "
        f"({gain / max(t['margin_current'], 1e-9):+.1%})",
        loc="left",
    )
    ax.legend(fontsize=8)
    return ax


def new_channel_table(forecasts: dict[str, dict], currency: str = "EUR") -> pd.DataFrame:
    """One row per new-channel variant: leads, rate, customers (10–90%), margin, return, worth it."""
    rows = {}
    for name, f in forecasts.items():
        rows[name] = {
            "leads": f"{f['leads']:,.0f}",
            "lead→customer": f"{f['rate']:.1%}",
            "customers (10–90%)": f"{f['customers']:.2f} ({f['customers_lo']:.0f}–{f['customers_hi']:.0f})",
            f"spend ({currency})": f"{f['spend']:,.0f}" if np.isfinite(f.get("spend", np.nan)) else "not given",
            f"gross margin ({currency})": f"{f['margin']:,.0f}" if np.isfinite(f.get("margin", np.nan)) else "unknown",
            "return per 1 (10–90%)": (
                f"{f['return_per_1']:.2f} ({f['return_lo']:.2f}–{f['return_hi']:.2f})" if "return_per_1" in f else "n/a"
            ),
            "worth it": ("yes" if f.get("worth_it") else "no") if "worth_it" in f else "n/a",
        }
    return pd.DataFrame(rows).T


def new_channel_chart(ax, forecasts: dict[str, dict], target: float):
    """Return per 1 spent of each new-channel variant with its 10–90% interval and the target."""
    names = list(forecasts)
    y = np.arange(len(names))[::-1]
    v = np.array([forecasts[n].get("return_per_1", np.nan) for n in names])
    lo = np.array([forecasts[n].get("return_lo", np.nan) for n in names])
    hi = np.array([forecasts[n].get("return_hi", np.nan) for n in names])
    ax.barh(y, v, color=["#1b7837" if x >= target else "#b2182b" for x in v], alpha=0.6)
    ax.errorbar(
        v, y, xerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)], fmt="none", ecolor="#333333", capsize=3
    )
    ax.axvline(target, color="black", linestyle="--", linewidth=1)
    ax.set_yticks(y, names)
    ax.set_xlabel("gross margin per 1 spent (10–90% interval)")
    worth = sum(bool(forecasts[n].get("worth_it")) for n in names)
    ax.set_title(f"New channel: {worth} of {len(names)} estimates clear the {target:.0f}:1 target", loc="left")
    return ax


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


def scenario_display(summary: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Readable scenario table: paid spend, leads, customers and return (10–90%), CAC, capacity."""
    return pd.DataFrame(
        {
            f"paid spend ({currency})": [f"{v:,.0f}" for v in summary["spend"]],
            "paid leads": [f"{v:,.0f}" for v in summary["leads"]],
            "customers (10–90%)": [
                f"{v:,.0f} ({lo:,.0f}–{hi:,.0f})"
                for v, lo, hi in zip(summary["customers"], summary["customers_lo"], summary["customers_hi"])
            ],
            "return per 1 (10–90%)": [
                f"{v:.2f} ({lo:.2f}–{hi:.2f})"
                for v, lo, hi in zip(summary["return_per_1"], summary["return_lo"], summary["return_hi"])
            ],
            f"CAC ({currency})": [f"{v:,.0f}" if np.isfinite(v) else "—" for v in summary["cac"]],
            "meets target": np.where(summary["meets_target"], "yes", "no"),
            "all leads vs rep capacity": [
                f"{a:,.0f} / {c:,.0f}" if np.isfinite(c) else f"{a:,.0f} / n/a"
                for a, c in zip(summary["all_leads"], summary["capacity"])
            ],
        },
        index=summary.index,
    )


def allocation_display(alloc: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Readable allocation table: current and optimised spend, change, expected gross margin."""
    return pd.DataFrame(
        {
            f"current ({currency})": [f"{v:,.0f}" for v in alloc["current"]],
            f"optimised ({currency})": [f"{v:,.0f}" for v in alloc["optimised"]],
            "change": [
                f"{v:+.0%}" + (" (held: fallback)" if h else "") for v, h in zip(alloc["change"], alloc["held"])
            ],
            f"expected margin now ({currency})": [f"{v:,.0f}" for v in alloc["margin_current"]],
            f"expected margin optimised ({currency})": [f"{v:,.0f}" for v in alloc["margin_optimised"]],
        },
        index=alloc.index,
    )
