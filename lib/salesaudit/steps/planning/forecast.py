"""Step 07 — forecasts you can check: next quarter's flow from the pipeline as it stands, and its backtest.

What a quarter brings (leads created, MQLs, SQLs, new customers and won revenue in the quarter — the *flow*
view of step 01) is forecast from the data **as it stood at the quarter's start** (the cut):

* **leads** of each channel: seasonal naive with drift on the channel's complete quarters before the cut
  (:func:`lead_level` — with ≥ 8 quarters exactly :func:`salesaudit.capacity.forecast_leads`);
* **the pipeline at the cut** (:func:`pipeline_snapshot`): every lead created before the cut that has not
  reached the series' stage, by channel, the stage it stands at (lead, MQL, SAL, SQL = an open deal) and
  its age in that stage; closed ones (disqualified, or a lost deal) drop out. Each such cell converts within
  the quarter at the rate the same cells converted within each of the (up to) 4 quarters before the cut
  (:func:`cell_rates`) — an empirical, censoring-free rate: a lead still open at a past quarter's start is
  counted in that quarter's denominator whether or not it ever converted (the "open leads" of step 01
  stay in the cohort);
* **the new pipeline**: expected leads × the share of a quarter's new leads that reached the stage within
  their own quarter, in those same past quarters.

Expected value = Σ cells N·r + L̂·r_new, per channel; won revenue the same with each lead's won amount in
the window as its outcome. Variance: the Bernoulli (or compound) variance of each cell plus the uncertainty
of its rate (N²·Var(r̂)), the lead forecast's own past error, and an over-dispersion factor measured on
the past quarters; the 10–90% interval is the Gamma distribution with that mean and variance.

:func:`backtest` runs :func:`forecast_quarter` for each of the last 8 complete quarters before the
audited one and joins what happened; :func:`accuracy` gives MAPE, bias and the 80% coverage;
:func:`next_quarter` is the forecast of the quarter after the audited one (point 2 of issue 13: open deals
+ earlier pipeline + new pipeline).

No leakage: :func:`as_of` keeps only rows created before the cut and blanks every date on or after it;
everything a forecast uses is computed on that frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit.data.derived import cached_frame
from salesaudit.periods import Quarter, quarter_of

__all__ = [
    "SERIES",
    "SERIES_LABELS",
    "AGE_EDGES",
    "REFERENCE_QUARTERS",
    "BACKTEST_QUARTERS",
    "MIN_HISTORY_QUARTERS",
    "as_of",
    "effective_dates",
    "pipeline_snapshot",
    "window_outcomes",
    "cell_rates",
    "lead_level",
    "forecast_quarter",
    "actuals",
    "backtest",
    "accuracy",
    "open_deal_actuals",
    "open_deal_accuracy",
    "BacktestSummary",
    "backtest_summary",
    "next_quarter",
    "open_deals",
    "gamma_band",
]

SERIES: tuple[str, ...] = ("leads", "mql", "sql", "customers", "revenue")
SERIES_LABELS = {
    "leads": "Leads",
    "mql": "MQLs",
    "sql": "SQLs",
    "customers": "New customers",
    "revenue": "Won revenue",
}
_STAGE_OF = {"mql": "mql", "sql": "sql", "customers": "customer", "revenue": "customer"}
_STATES = ("lead", "mql", "sal", "sql")
AGE_EDGES: tuple[float, ...] = (0, 30, 60, 90, 180, 365, np.inf)
REFERENCE_QUARTERS = 4
BACKTEST_QUARTERS = 8
MIN_HISTORY_QUARTERS = 4
LO_Q, HI_Q = 0.10, 0.90
_PRIOR_LEAD_CV = 0.10
_PRIOR_WEIGHT = 2.0
_POOL_MIN = 30


# --------------------------------------------------------------------------------------------------
# the data as it stood
# --------------------------------------------------------------------------------------------------
def _date_cols(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])]


def as_of(
    leads: pd.DataFrame, opps: pd.DataFrame | None, cut: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The leads (and opportunities) as they stood at ``cut``: rows created before it, every date on or
    after it blanked (a stage reached later was not reached yet), and an opportunity's outcome (``is_won``)
    blanked unless it closed before the cut. Nothing else is read by a forecast."""
    ld = leads.loc[leads["created_at"] < cut]
    ld = ld.assign(**{c: ld[c].where(ld[c] < cut) for c in _date_cols(ld) if c != "created_at"})
    if opps is None:
        return ld, None
    op = opps.loc[opps["created_at"] < cut] if "created_at" in opps.columns else opps.iloc[0:0]
    op = op.assign(**{c: op[c].where(op[c] < cut) for c in _date_cols(op) if c != "created_at"})
    if "is_won" in op.columns and "closed_at" in op.columns:
        op = op.assign(is_won=op["is_won"].where(op["closed_at"].notna()))
    return ld, op


def effective_dates(leads: pd.DataFrame) -> pd.DataFrame:
    """The date each lead reached ``mql``, ``sal``, ``sql`` and ``customer`` — the stage's own date or, when
    missing, the earliest later stage's (a lead that skipped MQL counts as MQL when it became SQL, as in
    the funnel). Columns absent from the data are all NaT."""
    cols = ["mql", "sal", "sql", "customer"]
    nat = pd.Series(pd.NaT, index=leads.index, dtype="datetime64[ns]")
    raw = {s: (leads[f"{s}_at"].astype("datetime64[ns]") if f"{s}_at" in leads.columns else nat) for s in cols}
    out, later = {}, nat
    for s in reversed(cols):
        later = raw[s].where(raw[s].notna() & (later.isna() | (raw[s] <= later)), later)
        out[s] = later
    return pd.DataFrame({s: out[s] for s in cols}, index=leads.index)


def _closed_lost(leads: pd.DataFrame, opps: pd.DataFrame | None, t: pd.Timestamp) -> pd.Series:
    """Leads closed at ``t`` without becoming customers: disqualified before ``t``, or a deal lost before ``t``."""
    dq = leads["disqualified_at"] < t if "disqualified_at" in leads.columns else pd.Series(False, index=leads.index)
    if opps is not None and {"lead_id", "closed_at", "is_won"} <= set(opps.columns):
        lost = opps.loc[(opps["closed_at"] < t) & ~opps["is_won"].fillna(False).astype(bool), "lead_id"]
        dq = dq | leads["lead_id"].isin(lost)
    return dq.fillna(False).astype(bool)


def pipeline_snapshot(
    leads: pd.DataFrame, opps: pd.DataFrame | None, t: pd.Timestamp, eff: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each lead created before ``t``: ``channel``, the highest stage it stood at (``lead``, ``mql``, ``sal``,
    ``sql``; ``customer`` once won), its age in that stage in days (``age``, bucketed by :data:`AGE_EDGES`
    into ``bucket``) and ``closed`` (disqualified or a lost deal before ``t``). Only dates before ``t`` count."""
    eff = effective_dates(leads) if eff is None else eff
    ld = leads.loc[leads["created_at"] < t]
    e = eff.loc[ld.index]
    state = pd.Series("lead", index=ld.index)
    since = ld["created_at"]
    for s in ("mql", "sal", "sql", "customer"):
        hit = e[s] < t
        state = state.where(~hit, s)
        since = since.where(~hit, e[s])
    age = (t - since).dt.total_seconds() / 86400
    bucket = np.searchsorted(np.asarray(AGE_EDGES[1:-1]), age.to_numpy(float), side="right")
    return pd.DataFrame(
        {
            "lead_id": ld["lead_id"].to_numpy(),
            "channel": ld["channel"].astype(str).to_numpy(),
            "state": state.to_numpy(),
            "age": age.to_numpy(),
            "bucket": bucket,
            "closed": _closed_lost(ld, opps, t).to_numpy(),
        },
        index=ld.index,
    )


def _won_amount(leads: pd.DataFrame, opps: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Won revenue per lead from deals closed in ``[start, end)`` (0 without one)."""
    if opps is None or not {"lead_id", "closed_at", "is_won", "amount"} <= set(opps.columns):
        return pd.Series(0.0, index=leads.index)
    w = opps.loc[
        (opps["closed_at"] >= start) & (opps["closed_at"] < end) & opps["is_won"].fillna(False).astype(bool),
        ["lead_id", "amount"],
    ]
    per = w.groupby("lead_id")["amount"].sum()
    return leads["lead_id"].map(per).fillna(0.0).astype(float)


def window_outcomes(
    leads: pd.DataFrame, opps: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp, eff: pd.DataFrame
) -> pd.DataFrame:
    """Per lead: 1 when it reached MQL / SQL / customer in ``[start, end)`` (columns ``mql, sql, customers``),
    and its won revenue closed in the window (``revenue``)."""
    out = {
        k: ((eff[_STAGE_OF[k]] >= start) & (eff[_STAGE_OF[k]] < end)).astype(float) for k in ("mql", "sql", "customers")
    }
    out["revenue"] = _won_amount(leads, opps, start, end)
    return pd.DataFrame(out, index=leads.index)


# --------------------------------------------------------------------------------------------------
# rates from the past quarters
# --------------------------------------------------------------------------------------------------
def _eligible(snap: pd.DataFrame, series: str) -> pd.Series:
    """Leads still able to reach the series' stage: not closed, below the stage."""
    below = {"mql": ("lead",), "sql": ("lead", "mql", "sal"), "customers": _STATES, "revenue": _STATES}[series]
    return snap["state"].isin(below) & ~snap["closed"]


def cell_rates(
    leads: pd.DataFrame, opps: pd.DataFrame | None, quarters: list[Quarter], eff: pd.DataFrame | None = None
) -> pd.DataFrame:
    """How the pipeline converted within each of ``quarters`` (all ending at or before the cut).

    For every past quarter P: the snapshot at P's start (:func:`pipeline_snapshot`) and what each open lead
    reached within P; summed over the quarters per ``series, channel, state, bucket``: ``n`` open leads,
    ``k`` = Σ outcome, ``k2`` = Σ outcome² (outcome 0/1, or the won amount for revenue). New leads are the
    cells with ``state = "new"`` (leads created in P, outcome within P). Rate r = k ÷ n.
    """
    eff = effective_dates(leads) if eff is None else eff
    rows = []
    for p in quarters:
        snap = pipeline_snapshot(leads, opps, p.start, eff)
        new = leads.index[(leads["created_at"] >= p.start) & (leads["created_at"] < p.end)]
        idx = snap.index.append(new)
        y = window_outcomes(leads.loc[idx], opps, p.start, p.end, eff.loc[idx])
        cells = pd.concat(
            [
                snap[["channel", "state", "bucket", "closed"]],
                pd.DataFrame(
                    {"channel": leads.loc[new, "channel"].astype(str), "state": "new", "bucket": 0, "closed": False},
                    index=new,
                ),
            ]
        )
        for s in ("mql", "sql", "customers", "revenue"):
            ok = pd.concat([_eligible(snap, s), pd.Series(True, index=new)]).to_numpy()
            c = cells.loc[ok]
            v = y[s].to_numpy()[ok]
            g = (
                c.assign(n=1.0, k=v, k2=v * v)
                .groupby(["channel", "state", "bucket"], sort=True)[["n", "k", "k2"]]
                .sum()
                .reset_index()
                .assign(series=s, quarter=p.label)
            )
            rows.append(g)
    cols = ["series", "quarter", "channel", "state", "bucket", "n", "k", "k2"]
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.concat(rows, ignore_index=True)[cols]


# --------------------------------------------------------------------------------------------------
# leads
# --------------------------------------------------------------------------------------------------
def _complete_quarters(leads: pd.DataFrame, cut: pd.Timestamp, fy: int) -> list[Quarter]:
    """Complete quarters of leads before ``cut``, oldest first (the first quarter counts only when the
    data start within a week of its start)."""
    if not len(leads):
        return []
    first = leads["created_at"].min()
    q0 = quarter_of(first, fy)
    if first > q0.start + pd.Timedelta(days=7):
        q0 = q0.next()
    out, q = [], quarter_of(cut - pd.Timedelta(days=1), fy)
    while q.start >= q0.start and q.end <= cut:
        out.append(q)
        q = q.previous()
    return out[::-1]


def lead_level(counts: list[float]) -> tuple[float, str]:
    """Expected leads of the next quarter from complete quarterly ``counts`` (oldest first).

    * ≥ 8 quarters: same quarter last year × (last 4 quarters ÷ the 4 before) — seasonal naive with drift,
      the rule of :func:`salesaudit.capacity.forecast_leads`;
    * 5–7 quarters (m = n − 4): same quarter last year × (last m quarters ÷ the same m a year earlier);
    * 4 quarters: same quarter last year; 1–3: their mean;
    * a channel with no leads a year ago but leads now (a new one): the mean of its recent non-empty quarters.

    >>> lead_level([100, 120, 140, 160, 110, 132, 154, 176])[0]
    121.0
    """
    c = [float(x) for x in counts][-8:]
    n = len(c)
    if n == 0:
        return 0.0, "no history"
    if n >= 4 and c[-4] > 0:
        m = min(n - 4, 4)
        if m >= 1:
            before = sum(c[-4 - m : -4])
            growth = sum(c[-m:]) / before if before > 0 else 1.0
            return c[-4] * growth, f"same quarter last year × growth of the last {m} quarter(s)"
        return c[-4], "same quarter last year"
    recent = [x for x in c[-4:] if x > 0]
    return (float(np.mean(recent)) if recent else 0.0), f"mean of the last {len(recent)} quarter(s)"


def _lead_counts(leads: pd.DataFrame, quarters: list[Quarter]) -> pd.DataFrame:
    """Leads created per quarter (rows, labels) and channel (columns)."""
    if not quarters:
        return pd.DataFrame()
    edges = [q.start for q in quarters] + [quarters[-1].end]
    ld = leads.loc[(leads["created_at"] >= edges[0]) & (leads["created_at"] < edges[-1])]
    pos = (
        np.searchsorted(np.array(edges, dtype="datetime64[ns]"), ld["created_at"].to_numpy("datetime64[ns]"), "right")
        - 1
    )
    t = pd.crosstab(pd.Series(pos, index=ld.index), ld["channel"].astype(str))
    t = t.reindex(range(len(quarters)), fill_value=0)
    t.index = [q.label for q in quarters]
    return t.astype(float)


def _lead_forecast(counts: pd.DataFrame) -> pd.DataFrame:
    """Per channel (and ``Total``): expected leads of the next quarter, and the relative variance of the
    method's error (squared relative errors of the same rule on the channel's own past quarters, less their
    Poisson part, shrunk toward a 10% error)."""
    rows = {}
    for ch in [*counts.columns, "Total"]:
        s = counts.sum(axis=1) if ch == "Total" else counts[ch]
        vals = s.to_list()
        f, method = lead_level(vals)
        errs = []
        for j in range(MIN_HISTORY_QUARTERS, len(vals)):
            fj, _ = lead_level(vals[:j])
            if fj > 0:
                errs.append((vals[j] / fj - 1) ** 2 - 1 / fj)
        k = len(errs)
        cv2 = max((sum(errs) + _PRIOR_WEIGHT * _PRIOR_LEAD_CV**2) / (k + _PRIOR_WEIGHT), 0.0)
        rows[ch] = {"leads": f, "cv2": cv2, "method": method}
    return pd.DataFrame(rows).T.astype({"leads": float, "cv2": float})


# --------------------------------------------------------------------------------------------------
# one quarter
# --------------------------------------------------------------------------------------------------
def gamma_band(mean, var, lo: float = LO_Q, hi: float = HI_Q) -> tuple[np.ndarray, np.ndarray]:
    """The ``lo``–``hi`` quantiles of a Gamma distribution with this mean and variance (0 when the mean is 0).

    >>> [round(float(x), 1) for x in gamma_band(100.0, 100.0)]
    [87.4, 113.0]
    """
    m = np.asarray(mean, dtype=float)
    v = np.maximum(np.asarray(var, dtype=float), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = np.where(m > 0, m * m / v, 1.0)
        scale = np.where(m > 0, v / np.maximum(m, 1e-12), 1.0)
    a = np.where(m > 0, st.gamma.ppf(lo, shape, scale=scale), 0.0)
    b = np.where(m > 0, st.gamma.ppf(hi, shape, scale=scale), 0.0)
    return a, b


def _pooled(rates: pd.DataFrame) -> pd.DataFrame:
    """Rates per cell with the channel's own counts, falling back to all channels' when the channel has fewer
    than 30 cases in the cell."""
    own = rates.groupby(["series", "channel", "state", "bucket"], as_index=False)[["n", "k", "k2"]].sum()
    allc = rates.groupby(["series", "state", "bucket"], as_index=False)[["n", "k", "k2"]].sum()
    m = own.merge(allc, on=["series", "state", "bucket"], suffixes=("", "_all"))
    use_all = m["n"] < _POOL_MIN
    for c in ("n", "k", "k2"):
        m[c] = m[c].where(~use_all, m[f"{c}_all"])
    return m[["series", "channel", "state", "bucket", "n", "k", "k2"]]


def _overdispersion(rates: pd.DataFrame) -> pd.Series:
    """Per series: how much more the past quarters' outcomes varied than the cell model says — the mean of
    (k_P − n_P·r)² ÷ (n_P·(k2/n − r²)) over quarters P and channels, at least 1."""
    pooled = rates.groupby(["series", "channel", "state", "bucket"])[["n", "k", "k2"]].transform("sum")
    r = pooled["k"] / pooled["n"]
    v_item = (pooled["k2"] / pooled["n"] - r * r).clip(lower=0)
    d = rates.assign(exp=rates["n"] * r, var=rates["n"] * v_item)
    g = d.groupby(["series", "quarter", "channel"])[["k", "exp", "var"]].sum()
    g = g.loc[g["var"] > 0]
    phi = ((g["k"] - g["exp"]) ** 2 / g["var"]).groupby(level="series").mean()
    n_q = rates["quarter"].nunique()
    if n_q < 2:
        return pd.Series(1.0, index=list(SERIES))
    return phi.clip(lower=1.0).reindex(list(SERIES), fill_value=1.0)


def _quarter_params(q: Quarter, fy: int) -> dict:
    return {"label": q.label, "start": str(q.start), "end": str(q.end), "fy": fy}


def forecast_quarter(data: Any, target: Quarter, fy_start_month: int | None = None) -> pd.DataFrame:
    """Forecast ``target`` (leads, MQLs, SQLs, new customers, won revenue — flow in the quarter) from the data as
    it stood at ``target.start``, by channel and ``Total``.

    Long frame: ``quarter, series, channel, forecast, lo, hi, var, from_pipeline, from_open_deals, from_new``
    (lo/hi = the 10–90% band, :func:`gamma_band`); ``attrs``: ``history_quarters`` (complete quarters before
    the cut), ``reference_quarters``. Empty when there is no complete quarter before the cut. Computed once per
    data and quarter (:func:`salesaudit.data.derived.cached_frame`): the backtest of the audited quarter and the
    previous quarter's comparison share seven of their eight quarters.
    """
    fy = data.config.fiscal_year_start_month if fy_start_month is None else fy_start_month
    return cached_frame(
        getattr(data, "cache_key", ""),
        "forecast_quarter",
        _quarter_params(target, fy),
        lambda: _forecast_quarter(data, target, fy),
    )


def _forecast_quarter(data: Any, target: Quarter, fy: int) -> pd.DataFrame:
    cut = target.start
    opps = data.opportunities if data.has("opportunities") else None
    leads, opps = as_of(data.leads, opps, cut)
    hist = _complete_quarters(leads, cut, fy)
    if not hist:
        return pd.DataFrame()
    refs = hist[-REFERENCE_QUARTERS:]
    eff = effective_dates(leads)
    rates = _reference_rates(data, refs, fy)
    pooled = _pooled(rates)
    phi = _overdispersion(rates)
    lf = _lead_forecast(_lead_counts(leads, hist[-8:] if len(hist) > 8 else hist))
    snap = pipeline_snapshot(leads, opps, cut, eff)
    channels = sorted(set(leads["channel"].astype(str)))
    rows = []
    for ch in channels:
        L = float(lf.loc[ch, "leads"]) if ch in lf.index else 0.0
        cv2 = float(lf.loc[ch, "cv2"]) if ch in lf.index else _PRIOR_LEAD_CV**2
        rows.append({"series": "leads", "channel": ch, "forecast": L, "var": L + cv2 * L * L, "from_new": L})
    for s in ("mql", "sql", "customers", "revenue"):
        p = pooled.loc[pooled["series"] == s]
        sn = snap.loc[_eligible(snap, s)]
        open_n = sn.groupby(["channel", "state", "bucket"]).size().rename("N").reset_index()
        new_n = pd.DataFrame(
            {
                "channel": channels,
                "state": "new",
                "bucket": 0,
                "N": [float(lf.loc[c, "leads"]) if c in lf.index else 0.0 for c in channels],
            }
        )
        cells = pd.concat([open_n, new_n], ignore_index=True).merge(p, on=["channel", "state", "bucket"], how="left")
        cells = _fill_from_all(cells, rates.loc[rates["series"] == s])
        r = np.where(cells["n"] > 0, cells["k"] / cells["n"].where(cells["n"] > 0, 1), 0.0)
        v_item = np.clip(
            np.where(cells["n"] > 0, cells["k2"] / cells["n"].where(cells["n"] > 0, 1), 0.0) - r * r, 0, None
        )
        N = cells["N"].to_numpy(float)
        mean = N * r
        var = (N * v_item + N * N * v_item / np.maximum(cells["n"].to_numpy(float), 1.0)) * float(phi.get(s, 1.0))
        is_new = (cells["state"] == "new").to_numpy()
        cv2 = np.array([float(lf.loc[c, "cv2"]) if c in lf.index else _PRIOR_LEAD_CV**2 for c in cells["channel"]])
        var = var + np.where(is_new, cv2 * (N * r) ** 2 + (N * r * r if s == "revenue" else 0.0), 0.0)
        c = cells.assign(
            mean=mean,
            var=var,
            new=np.where(is_new, mean, 0.0),
            deals=np.where(cells["state"] == "sql", mean, 0.0),
        )
        g = c.groupby("channel")[["mean", "var", "new", "deals"]].sum().reindex(channels, fill_value=0.0)
        for ch, row in g.iterrows():
            rows.append(
                {
                    "series": s,
                    "channel": ch,
                    "forecast": row["mean"],
                    "var": row["var"],
                    "from_new": row["new"],
                    "from_open_deals": row["deals"],
                }
            )
    out = pd.DataFrame(rows).fillna({"from_open_deals": 0.0})
    tot = out.groupby("series", sort=False)[["forecast", "var", "from_new", "from_open_deals"]].sum().reset_index()
    # the total's lead error comes from the total series (channels' errors are correlated: one season)
    cv = {c: float(lf.loc[c, "cv2"]) if c in lf.index else _PRIOR_LEAD_CV**2 for c in [*channels, "Total"]}
    own = out.assign(x=out["channel"].map(cv) * out["from_new"] ** 2).groupby("series", sort=False)["x"].sum()
    new = out.groupby("series", sort=False)["from_new"].sum()
    tot["var"] = tot["var"] - tot["series"].map(own) + cv["Total"] * tot["series"].map(new) ** 2
    tot["channel"] = "Total"
    out = pd.concat([out, tot], ignore_index=True)
    out["var"] = out["var"].clip(lower=0)
    lo, hi = gamma_band(out["forecast"], out["var"])
    out = out.assign(
        quarter=target.label,
        lo=lo,
        hi=hi,
        from_pipeline=out["forecast"] - out["from_new"],
    )
    out.attrs["history_quarters"] = len(hist)
    out.attrs["reference_quarters"] = [q.label for q in refs]
    cols = [
        "quarter",
        "series",
        "channel",
        "forecast",
        "lo",
        "hi",
        "var",
        "from_pipeline",
        "from_open_deals",
        "from_new",
    ]
    return out[cols]


def _reference_rates(data: Any, refs: list[Quarter], fy: int) -> pd.DataFrame:
    """:func:`cell_rates` of each reference quarter P from the data as it stood at P's end — what a forecast
    made at any later cut sees of P (dates after P do not enter P's snapshot or outcomes) — so the eight
    backtested forecasts share their reference quarters (11 distinct instead of 32), each computed once per
    data (:func:`salesaudit.data.derived.cached_frame`). The same numbers as P seen from the cut, but for a deal
    recorded as closed in P yet created after P (a data error step 04 reports), which only the cut's data hold."""
    opps_all = data.opportunities if data.has("opportunities") else None

    def one(p: Quarter) -> pd.DataFrame:
        ld, op = as_of(data.leads, opps_all, p.end)
        return cell_rates(ld, op, [p])

    frames = [
        cached_frame(getattr(data, "cache_key", ""), "cell_rates", _quarter_params(p, fy), lambda p=p: one(p))
        for p in refs
    ]
    if not frames:
        return cell_rates(data.leads.iloc[0:0], None, [])
    return pd.concat(frames, ignore_index=True)


def _fill_from_all(cells: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """Cells the channel's past quarters never saw take all channels' counts for that stage and age."""
    allc = rates.groupby(["state", "bucket"], as_index=False)[["n", "k", "k2"]].sum()
    m = cells.merge(allc, on=["state", "bucket"], how="left", suffixes=("", "_all"))
    miss = m["n"].isna()
    for c in ("n", "k", "k2"):
        m[c] = m[c].where(~miss, m[f"{c}_all"]).fillna(0.0)
    return m.drop(columns=["n_all", "k_all", "k2_all"])


def actuals(data: Any, q: Quarter) -> pd.DataFrame:
    """What happened in ``q``, by channel and ``Total``: leads created, MQLs / SQLs / new customers reached
    (effective dates, :func:`effective_dates`) and won revenue closed in the quarter. Long frame
    ``quarter, series, channel, actual``."""
    leads = data.leads
    opps = data.opportunities if data.has("opportunities") else None
    eff = effective_dates(leads)
    y = window_outcomes(leads, opps, q.start, q.end, eff)
    y["leads"] = ((leads["created_at"] >= q.start) & (leads["created_at"] < q.end)).astype(float)
    g = y.assign(channel=leads["channel"].astype(str)).groupby("channel")[list(SERIES)].sum()
    g.loc["Total"] = g.sum()
    return (
        g.reset_index()
        .melt(id_vars="channel", var_name="series", value_name="actual")
        .assign(quarter=q.label)[["quarter", "series", "channel", "actual"]]
    )


# --------------------------------------------------------------------------------------------------
# the backtest
# --------------------------------------------------------------------------------------------------
def open_deal_actuals(data: Any, q: Quarter) -> pd.DataFrame:
    """What the deals open at ``q``'s start brought in ``q``: new customers and won revenue of the leads at the
    SQL stage at the cut (not closed), by channel and ``Total`` — the actual to hold ``from_open_deals`` against.
    Long frame ``quarter, series, channel, actual_open_deals`` (series ``customers`` and ``revenue``)."""
    opps = data.opportunities if data.has("opportunities") else None
    ld, op = as_of(data.leads, opps, q.start)
    snap = pipeline_snapshot(ld, op, q.start)
    ids = snap.loc[(snap["state"] == "sql") & ~snap["closed"], "lead_id"]
    leads = data.leads.loc[data.leads["lead_id"].isin(ids)]
    y = window_outcomes(leads, opps, q.start, q.end, effective_dates(leads))[["customers", "revenue"]]
    g = y.assign(channel=leads["channel"].astype(str)).groupby("channel")[["customers", "revenue"]].sum()
    g.loc["Total"] = g.sum()
    return (
        g.reset_index()
        .melt(id_vars="channel", var_name="series", value_name="actual_open_deals")
        .assign(quarter=q.label)[["quarter", "series", "channel", "actual_open_deals"]]
    )


def backtest(data: Any, quarter: Quarter, n_quarters: int = BACKTEST_QUARTERS) -> pd.DataFrame:
    """:func:`forecast_quarter` for each of the last ``n_quarters`` complete quarters before the audited
    ``quarter`` that have at least :data:`MIN_HISTORY_QUARTERS` complete quarters of history before them,
    joined with :func:`actuals`. Long frame: the forecast columns + ``actual, error`` (forecast − actual),
    ``ape`` (|error| ÷ actual; NaN when actual = 0) and ``inside`` (lo ≤ actual ≤ hi). ``attrs["quarters"]``:
    the quarters backtested; ``attrs["wanted"]``: ``n_quarters``."""
    fy = data.config.fiscal_year_start_month
    frames = []
    done = []
    for i in range(n_quarters, 0, -1):
        q = quarter.previous(i)
        hist = _complete_quarters(data.leads.loc[data.leads["created_at"] < q.start], q.start, fy)
        if len(hist) < MIN_HISTORY_QUARTERS:
            continue
        f = forecast_quarter(data, q, fy)
        if f.empty:
            continue
        a = cached_frame(
            getattr(data, "cache_key", ""),
            "backtest_actuals",
            _quarter_params(q, fy),
            lambda q=q: actuals(data, q).merge(
                open_deal_actuals(data, q), on=["quarter", "series", "channel"], how="left"
            ),
        )
        frames.append(f.merge(a, on=["quarter", "series", "channel"], how="left"))
        done.append(q.label)
    if not frames:
        out = pd.DataFrame(
            columns=["quarter", "series", "channel", "forecast", "lo", "hi", "actual", "error", "ape", "inside"]
        )
    else:
        out = pd.concat(frames, ignore_index=True)
        out["actual"] = out["actual"].fillna(0.0)
        err = out["forecast"] - out["actual"]
        out = out.assign(
            error=err,
            ape=np.where(out["actual"] > 0, err.abs() / out["actual"].where(out["actual"] > 0, 1), np.nan),
            inside=(out["actual"] >= out["lo"]) & (out["actual"] <= out["hi"]),
        )
    out.attrs["quarters"] = done
    out.attrs["wanted"] = n_quarters
    return out


def accuracy(bt: pd.DataFrame) -> pd.DataFrame:
    """Per ``series, channel``: ``quarters``, ``mape`` = mean |forecast − actual| ÷ actual (quarters with
    actual > 0), ``bias`` = Σ (forecast − actual) ÷ Σ actual (> 0: forecasts ran high) and ``coverage`` =
    share of quarters whose actual lies inside the 10–90% band (80% when calibrated)."""
    if bt.empty:
        return pd.DataFrame(columns=["series", "channel", "quarters", "mape", "bias", "coverage"])
    g = bt.groupby(["series", "channel"], sort=False)
    out = pd.DataFrame(
        {
            "quarters": g.size(),
            "mape": g["ape"].mean(),
            "bias": g["error"].sum() / g["actual"].sum().where(g["actual"].sum() > 0),
            "coverage": g["inside"].mean(),
        }
    ).reset_index()
    order = {s: i for i, s in enumerate(SERIES)}
    key = out["series"].map(order) * 1000 + out["channel"].eq("Total").astype(int) * 100
    return out.assign(_k=key).sort_values(["_k", "channel"]).drop(columns="_k").reset_index(drop=True)


def open_deal_accuracy(bt: pd.DataFrame, series: str = "revenue") -> dict[str, float]:
    """How the open-deal part of the forecast did (company level): ``mape`` = mean |from_open_deals −
    actual_open_deals| ÷ actual_open_deals and ``bias`` = Σ(from_open_deals − actual) ÷ Σ actual over the backtested
    quarters, ``quarters`` = how many had open deals with an outcome; NaN without any."""
    nan = float("nan")
    if bt.empty or "actual_open_deals" not in bt.columns:
        return {"mape": nan, "bias": nan, "quarters": 0}
    t = bt.loc[(bt["channel"] == "Total") & (bt["series"] == series)].dropna(subset=["actual_open_deals"])
    t = t.loc[t["actual_open_deals"] > 0]
    if t.empty:
        return {"mape": nan, "bias": nan, "quarters": 0}
    err = t["from_open_deals"] - t["actual_open_deals"]
    return {
        "mape": float((err.abs() / t["actual_open_deals"]).mean()),
        "bias": float(err.sum() / t["actual_open_deals"].sum()),
        "quarters": int(len(t)),
    }


@dataclass(frozen=True)
class BacktestSummary:
    """The company-level backtest in numbers: quarters, MAPE and bias of each series, 80% coverage."""

    quarters: list[str]
    wanted: int
    mape: dict[str, float]
    bias: dict[str, float]
    coverage: dict[str, float]
    coverage_all: float  # over the company-level quarters × series
    points: int
    open_deals: dict[str, float] = field(default_factory=dict)  # open_deal_accuracy of won revenue


def backtest_summary(bt: pd.DataFrame) -> BacktestSummary:
    """The ``Total`` rows of :func:`accuracy`, the coverage over all company-level quarters × series, and how the
    open-deal part of the won-revenue forecast did (:func:`open_deal_accuracy`)."""
    acc = accuracy(bt)
    t = acc.loc[acc["channel"] == "Total"].set_index("series") if len(acc) else pd.DataFrame()
    tot = bt.loc[bt["channel"] == "Total"] if len(bt) else bt
    get = lambda col: {s: float(t.loc[s, col]) for s in SERIES if s in t.index}  # noqa: E731
    return BacktestSummary(
        quarters=list(bt.attrs.get("quarters", [])),
        wanted=int(bt.attrs.get("wanted", BACKTEST_QUARTERS)),
        mape=get("mape"),
        bias=get("bias"),
        coverage=get("coverage"),
        coverage_all=float(tot["inside"].mean()) if len(tot) else float("nan"),
        points=int(len(tot)),
        open_deals=open_deal_accuracy(bt),
    )


def next_quarter(data: Any, quarter: Quarter) -> pd.DataFrame:
    """Next quarter's forecast from the data at the end of the audited ``quarter`` (:func:`forecast_quarter`
    of ``quarter.next()``): won revenue and new customers expected from the deals open at the quarter end
    (``from_open_deals``: SQL leads by deal age), from the earlier pipeline (``from_pipeline`` −
    ``from_open_deals``) and from next quarter's new leads (``from_new``), with the 10–90% band. Only the
    data up to the audited quarter's end are used."""
    return forecast_quarter(data, quarter.next())


def open_deals(data: Any, quarter: Quarter) -> int:
    """Deals open at the end of ``quarter``: leads at the SQL stage (an SQL date before the quarter end, no customer
    date before it) that were not disqualified and whose deal was not lost before it. 0 when the data cannot say
    (no lead dates, no SQL stage) — the notebook's precondition for next quarter's open-pipeline forecast."""
    leads = getattr(data, "leads", None)
    if leads is None or "created_at" not in leads.columns or not leads["created_at"].notna().any():
        return 0
    opps = data.opportunities if data.has("opportunities") else None
    ld, op = as_of(leads, opps, quarter.end)
    snap = pipeline_snapshot(ld, op, quarter.end)
    return int(((snap["state"] == "sql") & ~snap["closed"]).sum())
