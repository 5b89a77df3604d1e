"""Lead volume: leads created per month and per quarter by channel, trend, seasonality, and this
quarter against the previous four.

A lead counts in the period of its ``created_at`` (``start ≤ t < end``). Only leads created before the
audit cut-off (the end of the audited quarter) are used, so re-running an old quarter gives the same
answer whatever data arrived later.
"""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd

from salesaudit import stats, text
from salesaudit.claims import n_is
from salesaudit.periods import Quarter, quarter_labels


def spct(x, digits: int = 0) -> str:
    """A signed relative change: 0.123 → ``+12%``; missing → ``n/a``."""
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * float(x):+.{digits}f}%"


def monthly_leads(leads: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Leads created per calendar month and channel before ``as_of``: wide, month × channel (0 filled),
    months in order without gaps."""
    sub = leads[leads["created_at"] < as_of]
    month = sub["created_at"].dt.to_period("M").dt.to_timestamp()
    wide = pd.crosstab(month, sub["channel"]).rename_axis(index="month", columns="channel")
    if len(wide):
        full = pd.date_range(wide.index.min(), wide.index.max(), freq="MS")
        wide = wide.reindex(full, fill_value=0).rename_axis("month")
    return wide


def quarterly_leads(leads: pd.DataFrame, quarters: list[Quarter]) -> pd.DataFrame:
    """Leads created per quarter (rows, in the given order) and channel (columns) plus ``total``."""
    if not quarters:
        return pd.DataFrame()
    lo, hi = quarters[0].start, quarters[-1].end
    sub = leads[(leads["created_at"] >= lo) & (leads["created_at"] < hi)]
    label = quarter_labels(sub["created_at"], quarters[0].fy_start_month)
    wide = pd.crosstab(label, sub["channel"]).reindex([q.label for q in quarters], fill_value=0)
    return wide.assign(total=wide.sum(axis=1)).rename_axis(index="quarter", columns="channel")


def rate_ratio(k_now, k_ref, m: float, level: float = stats.DEFAULT_LEVEL) -> pd.DataFrame:
    """Count this period against the mean of ``m`` reference periods, as a rate ratio with an interval.

    ratio = k_now / (k_ref / m). Conditional on the total, k_now ~ Binomial(k_now + k_ref, p) with
    p = ratio / (ratio + m) (two Poisson counts), so the Wilson interval of p maps to an interval of the
    ratio: ratio = m·p / (1 − p). Columns ``now, ref_mean, change, lo, hi`` with change = ratio − 1.
    Poisson noise only: seasonality and trend are not in the interval (compare with the same quarter
    last year for those). Without reference counts (``k_ref`` = 0, e.g. the first quarter of the data)
    there is nothing to compare against: change, lo and hi are NaN.
    """
    k_now = np.asarray(k_now, dtype=float)
    k_ref = np.asarray(k_ref, dtype=float)
    n = k_now + k_ref
    p_lo, p_hi = stats.wilson_interval(k_now, n, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(k_ref > 0, k_now * m / k_ref, np.nan)
        lo = np.where(k_ref > 0, np.where(p_lo < 1, m * p_lo / (1 - p_lo), np.inf), np.nan)
        hi = np.where(k_ref > 0, np.where(p_hi < 1, m * p_hi / (1 - p_hi), np.inf), np.nan)
    return pd.DataFrame({"now": k_now, "ref_mean": k_ref / m, "change": ratio - 1, "lo": lo - 1, "hi": hi - 1})


def volume_comparison(
    leads: pd.DataFrame, quarter: Quarter, n_prev: int = 4, level: float = stats.DEFAULT_LEVEL
) -> pd.DataFrame:
    """Per channel (and ``total``): leads this quarter, the mean of the previous ``n_prev`` quarters,
    the change with its interval (:func:`rate_ratio`), and the same quarter a year earlier with the
    year-on-year change ``yoy`` = now / last year − 1 (NaN when that quarter has no leads)."""
    qs = [quarter.previous(i) for i in range(max(n_prev, 4), 0, -1)] + [quarter]
    wide = quarterly_leads(leads, qs)
    now = wide.loc[quarter.label]
    prev = wide.loc[[q.label for q in qs[-1 - n_prev : -1]]].sum()
    rr = rate_ratio(now.to_numpy(), prev.to_numpy(), n_prev, level)
    ly = wide.loc[quarter.previous(4).label]
    with np.errstate(divide="ignore", invalid="ignore"):
        yoy = np.where(ly.to_numpy() > 0, now.to_numpy() / ly.to_numpy() - 1, np.nan)
    out = rr.assign(channel=wide.columns.to_numpy(), last_year=ly.to_numpy(), yoy=yoy)
    return out[["channel", "now", "ref_mean", "change", "lo", "hi", "last_year", "yoy"]]


def trend_seasonality(monthly_total: pd.Series) -> dict:
    """Log-linear trend and month-of-year seasonality of monthly lead counts.

    Fit log(leads per day in month t) = a + b·t + s_month(t) by least squares (per day, so February's
    three missing days are not mistaken for seasonality) (months with 0 leads dropped), with the
    seasonal effects s constrained to mean 0. growth per year = exp(12·b) − 1; seasonal index of a
    calendar month = exp(s_month) (1.10 = 10% above trend). Seasonality needs ≥ 24 months (two of each
    calendar month); with fewer only the trend is fitted (≥ 6 months) and the index is empty.
    Returns ``{"growth_per_year", "months", "index": Series(month 1–12 → index), "fitted": Series}`` where
    ``fitted`` is the trend (without seasonality) in leads per month.
    """
    y = monthly_total[monthly_total > 0].astype(float)
    out: dict = {
        "growth_per_year": float("nan"),
        "months": int(len(y)),
        "index": pd.Series(dtype=float),
        "fitted": pd.Series(dtype=float),
    }
    if len(y) < 6:
        return out
    y = y / y.index.days_in_month.to_numpy()
    t = ((y.index.year - y.index[0].year) * 12 + (y.index.month - y.index[0].month)).to_numpy(float)
    cols = [np.ones(len(y)), t]
    seasonal = len(y) >= 24
    if seasonal:
        m = y.index.month.to_numpy()
        # effect coding: months 1–11 get ±1 columns, month 12 = −(sum of the others)
        for k in range(1, 12):
            cols.append((m == k).astype(float) - (m == 12).astype(float))
    x = np.column_stack(cols)
    beta, *_ = np.linalg.lstsq(x, np.log(y.to_numpy()), rcond=None)
    out["growth_per_year"] = float(np.exp(12 * beta[1]) - 1)
    out["fitted"] = pd.Series(np.exp(x[:, :2] @ beta[:2]) * y.index.days_in_month.to_numpy(), index=y.index)
    if seasonal:
        s = np.append(beta[2:], -beta[2:].sum())
        out["index"] = pd.Series(np.exp(s), index=range(1, 13))
    return out


def volume_title(cmp: pd.DataFrame, quarter: Quarter, partial: str | None = None) -> str:
    """Chart title from the numbers: total leads this quarter and the change on the previous four
    (``partial``: why the quarter is not complete — then no change is given)."""
    tot = cmp.set_index("channel").loc["total"]
    if partial:
        return f"{quarter.label} (partial): {text.num(tot['now'])} leads so far — not compared with full quarters"
    if not tot["ref_mean"] > 0:
        return f"{quarter.label}: {text.num(tot['now'])} leads (no earlier quarters to compare against)"
    if tot["ref_mean"] < stats.MIN_BASE_N:
        return f"{quarter.label}: {text.num(tot['now'])} leads, {text.change_pct(tot['now'], tot['ref_mean'])} on the previous four quarters' average"
    return (
        f"{quarter.label}: {text.num(tot['now'])} leads, {spct(tot['change'])} on the previous four quarters' average"
    )


def volume_sentences(cmp: pd.DataFrame, ts: dict, quarter: Quarter, partial: str | None = None) -> list[str]:
    """ "What this means" sentences for lead volume, built from :func:`volume_comparison` and
    :func:`trend_seasonality`. ``partial`` (why the audited quarter is not complete) suppresses every
    comparison of its totals: a part of a quarter against whole quarters is no verdict."""
    c = cmp.set_index("channel")
    tot = c.loc["total"]
    real = tot["lo"] > 0 or tot["hi"] < 0
    if partial:
        out = [
            f"{quarter.label} is a partial quarter ({partial}): its {text.num(tot['now'])} leads so far are not "
            "compared with whole quarters, so no better-or-worse verdict is drawn from them."
        ]
        if not np.isnan(ts["growth_per_year"]):
            out.append(f"The trend over the last {ts['months']} months is {spct(ts['growth_per_year'])} a year.")
        return out
    if not tot["ref_mean"] > 0:
        out = [
            f"{quarter.label} brought {text.num(tot['now'])} leads; the data has no leads in the previous "
            "four quarters, so there is nothing to compare this quarter against."
        ]
    elif tot["ref_mean"] < stats.MIN_BASE_N:
        out = [
            f"{quarter.label} brought {text.num(tot['now'])} leads against an average of "
            f"{text.num(tot['ref_mean'])} in the previous four quarters — too few before to give the change as a "
            "percentage."
        ]
    else:
        out = [
            f"{quarter.label} brought {text.num(tot['now'])} leads against an average of "
            f"{text.num(tot['ref_mean'])} in the previous four quarters: {spct(tot['change'])} (90% interval "
            f"{spct(tot['lo'])} to {spct(tot['hi'])}), "
            + (f"a change beyond the noise ({n_is(tot['now'])} leads)." if real else "within the noise.")
        ]
    if not np.isnan(tot["yoy"]):
        if tot["last_year"] >= stats.MIN_BASE_N:
            out.append(
                f"Against the same quarter last year ({text.num(tot['last_year'])} leads), volume is "
                f"{spct(tot['yoy'])} — this comparison is free of seasonality."
            )
        else:
            out.append(
                f"The same quarter last year had only {text.num(tot['last_year'])} leads, too few to give the "
                "year-on-year change as a percentage."
            )
    if not np.isnan(ts["growth_per_year"]):
        out.append(f"The trend over the last {ts['months']} months is {spct(ts['growth_per_year'])} a year.")
    idx = ts["index"]
    if len(idx):
        hi_m, lo_m = int(idx.idxmax()), int(idx.idxmin())
        out.append(
            f"Seasonality: {calendar.month_name[hi_m]} is typically the busiest month "
            f"({spct(idx[hi_m] - 1)} against trend) and {calendar.month_name[lo_m]} "
            f"the quietest ({spct(idx[lo_m] - 1)})."
        )
    ch = c.drop(index="total")
    if len(ch) < 2:  # one channel: its change is the total's, said above
        return out
    real = ch[((ch["lo"] > 0) | (ch["hi"] < 0)) & np.isfinite(ch["change"]) & (ch["ref_mean"] >= stats.MIN_BASE_N)]
    if not (ch["ref_mean"] > 0).any():
        pass
    elif len(real):
        up = real["change"].idxmax()
        down = real["change"].idxmin()
        if real.loc[up, "change"] > 0:
            out.append(
                f"Biggest rise: {up} ({text.num(ch.loc[up, 'now'])} leads, "
                f"{spct(ch.loc[up, 'change'])} on its four-quarter average)."
            )
        if real.loc[down, "change"] < 0:
            out.append(f"Biggest fall: {down} ({text.num(ch.loc[down, 'now'])} leads, {spct(ch.loc[down, 'change'])}).")
    else:
        out.append("No channel's volume moved by more than the noise against its four-quarter average.")
    return out


def volume_table(cmp: pd.DataFrame, wide: pd.DataFrame, partial: bool = False) -> pd.DataFrame:
    """Compact display table: leads per quarter (columns) by channel, plus change vs the previous four
    (with interval) and vs the same quarter last year, as signed percentages (``new`` for a channel
    without history; ``few`` when the base is below ``stats.MIN_BASE_N``; no change columns at all for a
    partial quarter)."""
    t = wide.T.copy()
    if partial:
        return t.rename_axis(index="channel", columns=None)
    c = cmp.set_index("channel").reindex(t.index)
    new = ~(c["ref_mean"] > 0)
    few = c["ref_mean"] < stats.MIN_BASE_N
    t["vs prev 4"] = np.where(new, "new", np.where(few, "few before", [spct(x) for x in c["change"]]))
    t["90% interval"] = np.where(new | few, "", [f"{spct(a)} to {spct(b)}" for a, b in zip(c["lo"], c["hi"])])
    t["vs last year"] = np.where(
        c["last_year"] >= stats.MIN_BASE_N,
        [spct(x) for x in c["yoy"]],
        np.where(c["last_year"] > 0, "few before", "new"),
    )
    return t.rename_axis(index="channel", columns=None)
