"""Shared statistics: intervals for rates, shrinkage, Kaplan–Meier, AUC. All vectorised.

Conventions: intervals are two-sided at ``level`` (default 0.90, the audit's reporting level).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

DEFAULT_LEVEL = 0.90

#: Minimum cases behind a "best", "worst", "highest", "lowest" or "beyond the noise" claim: each group
#: compared must have at least this many cases (and the intervals must not overlap). docs/assumptions.md.
MIN_CLAIM_N = 30
#: Minimum base of a percentage change: below it the change is given as counts ("from 4 to 2,655"),
#: never as a percentage ("+66275%"). docs/assumptions.md.
MIN_BASE_N = 30


def claimable(n_a, n_b=None, lo_a=None, hi_a=None, lo_b=None, hi_b=None, minimum: int = MIN_CLAIM_N) -> bool:
    """True when a comparison of two groups may be called best/worst/beyond the noise.

    claimable = n_a ≥ minimum ∧ n_b ≥ minimum ∧ the intervals [lo_a, hi_a] and [lo_b, hi_b] do not overlap
    (interval arguments left out are not checked; missing n counts as 0).
    """

    def _n(x) -> float:
        try:
            v = float(x)
        except (TypeError, ValueError):
            return 0.0
        return 0.0 if np.isnan(v) else v

    if _n(n_a) < minimum or (n_b is not None and _n(n_b) < minimum):
        return False
    if None not in (lo_a, hi_a, lo_b, hi_b):
        vals = [float(v) for v in (lo_a, hi_a, lo_b, hi_b)]
        if any(np.isnan(v) for v in vals):
            return False
        return vals[0] > vals[3] or vals[2] > vals[1]
    return True


def extremes(
    groups: pd.DataFrame, value: str = "rate", lo: str = "lo", hi: str = "hi", n: str = "n", minimum: int = MIN_CLAIM_N
) -> tuple[pd.Series, pd.Series] | None:
    """``(highest, lowest)`` rows of ``groups`` that may be named as best and worst, or None.

    Only groups with ``n ≥ minimum`` take part; of those, the highest and lowest ``value`` are returned
    when their intervals do not overlap (:func:`claimable`); otherwise no group stands out (None).
    """
    g = groups[pd.to_numeric(groups[n], errors="coerce").fillna(0) >= minimum]
    g = g[np.isfinite(pd.to_numeric(g[value], errors="coerce").astype(float))]
    if len(g) < 2:
        return None
    top, bottom = g.loc[g[value].idxmax()], g.loc[g[value].idxmin()]
    if not claimable(top[n], bottom[n], top[lo], top[hi], bottom[lo], bottom[hi], minimum):
        return None
    return top, bottom


def z_of(level: float) -> float:
    """The normal quantile of a two-sided interval: z_of(0.9) = 1.645 (Φ⁻¹(½ + level/2))."""
    return float(st.norm.ppf(0.5 + level / 2))


def wilson_interval(k, n, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion k/n (Wilson 1927; Agresti & Coull 1998).

    centre = (p + z²/2n) / (1 + z²/n); half = z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n).
    n = 0 gives (0, 1).
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = z_of(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / n, 0.0)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        # the interval always contains p (rounding can put hi a hair below 1 when k = n)
        lo = np.where(n > 0, np.clip(np.minimum(centre - half, p), 0, 1), 0.0)
        hi = np.where(n > 0, np.clip(np.maximum(centre + half, p), 0, 1), 1.0)
    return lo, hi


def beta_interval(a, b, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval of a Beta(a, b) distribution."""
    lo = st.beta.ppf((1 - level) / 2, a, b)
    hi = st.beta.ppf((1 + level) / 2, a, b)
    return np.asarray(lo), np.asarray(hi)


def jeffreys_interval(k, n, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Jeffreys interval: equal-tailed Beta(k + ½, n − k + ½) posterior interval (Brown, Cai & DasGupta 2001)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    return beta_interval(k + 0.5, n - k + 0.5, level)


def rate_table(k, n, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Columns ``k, n, rate, lo, hi``: rate = k / n with its Wilson interval (NaN rate when n = 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    lo, hi = wilson_interval(k, n, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, k / n, np.nan)
    return pd.DataFrame({"k": k, "n": n, "rate": rate, "lo": lo, "hi": hi})


def add_rate(df: pd.DataFrame, k: str, n: str, name: str, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Add ``name``, ``name_lo``, ``name_hi`` = k/n with Wilson interval to a frame (returns a copy)."""
    r = rate_table(df[k].to_numpy(), df[n].to_numpy(), level)
    return df.assign(**{name: r["rate"].to_numpy(), f"{name}_lo": r["lo"].to_numpy(), f"{name}_hi": r["hi"].to_numpy()})


def diff_interval(k1, n1, k2, n2, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference of two proportions p1 − p2 with Newcombe's hybrid score interval (method 10, 1998).

    Returns (diff, lo, hi). A change is "larger than the noise" when the interval excludes 0.
    """
    k1, n1, k2, n2 = (np.asarray(x, dtype=float) for x in (k1, n1, k2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(n1 > 0, k1 / n1, np.nan)
        p2 = np.where(n2 > 0, k2 / n2, np.nan)
    l1, u1 = wilson_interval(k1, n1, level)
    l2, u2 = wilson_interval(k2, n2, level)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def fit_beta_prior(k, n, min_strength: float = 2.0) -> tuple[float, float]:
    """Beta(α, β) prior for many groups' rates by the method of moments (empirical Bayes).

    μ = Σk/Σn; between-group variance of p_i minus the mean binomial variance gives
    α + β = μ(1−μ)/var − 1, clipped to ≥ ``min_strength`` and to ≤ Σn (the prior never carries more
    information than all groups together).
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    if n.sum() == 0:
        return 1.0, 1.0
    mu = k.sum() / n.sum()
    mu = min(max(mu, 1e-6), 1 - 1e-6)
    if len(n) < 2:
        return mu * min_strength, (1 - mu) * min_strength
    p = k / n
    w = n / n.sum()
    var_obs = float(np.sum(w * (p - mu) ** 2))
    var_binom = float(np.sum(w * mu * (1 - mu) / n))
    var_true = var_obs - var_binom
    if var_true <= 1e-9:
        strength = 1e4
    else:
        strength = max(mu * (1 - mu) / var_true - 1, min_strength)
    # the prior cannot carry more information than all groups together: with few cases in total the
    # pooled rate is itself uncertain, so intervals must stay wide
    strength = min(strength, max(float(n.sum()), min_strength))
    return mu * strength, (1 - mu) * strength


def shrink_rates(k, n, level: float = DEFAULT_LEVEL, prior: tuple[float, float] | None = None) -> pd.DataFrame:
    """Empirical-Bayes shrunk rates: posterior Beta(α + k, β + n − k) per group.

    Columns ``k, n, raw, shrunk, lo, hi, alpha, beta``; shrunk = (α + k) / (α + β + n). A group with
    few cases is pulled toward the pooled rate; one with many keeps its own.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    a, b = prior if prior is not None else fit_beta_prior(k, n)
    pa_, pb_ = a + k, b + n - k
    lo, hi = beta_interval(pa_, pb_, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(n > 0, k / n, np.nan)
    return pd.DataFrame(
        {"k": k, "n": n, "raw": raw, "shrunk": pa_ / (pa_ + pb_), "lo": lo, "hi": hi, "alpha": a, "beta": b}
    )


def kaplan_meier(durations, observed) -> pd.DataFrame:
    """Kaplan–Meier estimate of S(t) = P(T > t) (Kaplan & Meier 1958).

    S(t) = Π_{t_i ≤ t} (1 − d_i / n_i), with d_i events at t_i and n_i at risk just before t_i.
    Censored cases (``observed`` False: still open at the cut-off) stay in the risk set until their
    censoring time and are never counted as failures. Returns columns ``time, at_risk, events,
    censored, survival, lo, hi`` (Greenwood log-log 90% band), starting with a row at time 0.
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(t)
    t, e = t[keep], e[keep]
    if len(t) == 0:
        return pd.DataFrame(
            {"time": [0.0], "at_risk": [0], "events": [0], "censored": [0], "survival": [1.0], "lo": [1.0], "hi": [1.0]}
        )
    times, inv = np.unique(t, return_inverse=True)
    events = np.bincount(inv, weights=e.astype(float), minlength=len(times))
    total = np.bincount(inv, minlength=len(times)).astype(float)
    at_risk = len(t) - np.concatenate([[0.0], np.cumsum(total)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = 1 - events / at_risk
        surv = np.cumprod(factor)
        gw = np.cumsum(np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0))
        z = z_of(DEFAULT_LEVEL)
        log_s = np.log(surv)
        se = np.sqrt(gw) / np.abs(log_s)
        lo = np.where(surv > 0, np.exp(-np.exp(np.log(-log_s) + z * se)), 0.0)
        hi = np.where(surv > 0, np.exp(-np.exp(np.log(-log_s) - z * se)), 0.0)
        lo = np.where(surv >= 1, 1.0, lo)
        hi = np.where(surv >= 1, 1.0, hi)
    df = pd.DataFrame(
        {
            "time": times,
            "at_risk": at_risk.astype(int),
            "events": events.astype(int),
            "censored": (total - events).astype(int),
            "survival": surv,
            "lo": lo,
            "hi": hi,
        }
    )
    start = pd.DataFrame(
        {
            "time": [0.0],
            "at_risk": [len(t)],
            "events": [0],
            "censored": [0],
            "survival": [1.0],
            "lo": [1.0],
            "hi": [1.0],
        }
    )
    if times[0] == 0:
        return df.reset_index(drop=True)
    return pd.concat([start, df], ignore_index=True)


def km_at(curve: pd.DataFrame, t: float) -> float:
    """S(t) read off a Kaplan–Meier table (step function, right-continuous)."""
    idx = np.searchsorted(curve["time"].to_numpy(), t, side="right") - 1
    return float(curve["survival"].iloc[max(idx, 0)])


def km_median(curve: pd.DataFrame, q: float = 0.5) -> float:
    """Smallest t with S(t) ≤ 1 − q (NaN if the curve never gets there: too few events yet)."""
    hit = curve.loc[curve["survival"] <= 1 - q, "time"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def auc(score, label) -> float:
    """Area under the ROC curve = P(score of a positive > score of a negative), ties count ½.

    Computed from ranks (Mann–Whitney U / (n₊ n₋)). NaN when one class is empty.
    """
    s = np.asarray(score, dtype=float)
    y = np.asarray(label, dtype=bool)
    keep = ~np.isnan(s)
    s, y = s[keep], y[keep]
    npos, nneg = y.sum(), (~y).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    ranks = st.rankdata(s)
    return float((ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def poisson_interval(k, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for a Poisson count k."""
    k = np.asarray(k, dtype=float)
    a = 1 - level
    lo = np.where(k > 0, st.chi2.ppf(a / 2, 2 * k) / 2, 0.0)
    hi = st.chi2.ppf(1 - a / 2, 2 * k + 2) / 2
    return lo, hi


def mean_interval(x, level: float = DEFAULT_LEVEL) -> tuple[float, float, float]:
    """Mean with a t interval (NaN when fewer than two values)."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return (float(x.mean()) if len(x) else float("nan")), float("nan"), float("nan")
    m = float(x.mean())
    half = float(st.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - half, m + half


def total_interval(values, level: float = DEFAULT_LEVEL) -> tuple[float, float, float]:
    """A total of event amounts (e.g. won revenue) with its noise interval: (total, lo, hi).

    Deals are taken to arrive as a Poisson process with independent amounts, so the total is compound
    Poisson with Var(T) = Σ aᵢ² and T ± z·√Σaᵢ² is its normal-approximation interval (lo clipped at 0).
    This is the quarter-to-quarter noise of the total, not a measurement error.
    """
    a = np.asarray(values, dtype=float)
    a = a[~np.isnan(a)]
    total = float(a.sum())
    half = z_of(level) * float(np.sqrt(np.sum(a**2)))
    return total, max(total - half, 0.0), total + half
