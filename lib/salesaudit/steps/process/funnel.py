"""The lead funnel: lead → MQL → SAL → SQL → customer, its conversion, timing and leaks.

Conventions used by every function here:

* **Effective stage dates.** A lead that has a later stage date but not an earlier one (e.g. ``sql_at``
  without ``sal_at``) counts as having passed the earlier stage: its effective date for the skipped
  stage is the earliest later stage date. Stage dates out of order (an injected or real data fault,
  e.g. ``sql_at`` before ``sal_at``) are resolved the same way: the effective date of stage *k* is
  ``max(created_at, min(date_j for j ≥ k))``. Effective dates therefore never decrease down the stages,
  and a lead that reached a stage counts for every earlier one, so cohort funnel counts never increase
  down the stages *by construction*.
* **As-of cut-off.** Everything is seen as at ``as_of`` (the end of the audited quarter): events on or
  after ``as_of`` have not happened yet.
* **Open leads are censored, not lost.** A lead that has not reached the next stage by ``as_of`` and
  has not been disqualified is *open*. Time-to-stage is estimated with Kaplan–Meier, with every lead
  that has not reached the stage censored at ``as_of`` (its follow-up time). So 1 − S(t) estimates the
  share of leads reaching the stage within t days of creation, using recent leads only for as long as
  they have been observed.
* Rates come with their counts (k, n) and a 90% Wilson interval (:mod:`salesaudit.stats`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import stats
from salesaudit.claims import n_is
from salesaudit.data.contract import LEAD_STAGE_COLUMNS
from salesaudit.periods import Quarter

STAGES: tuple[str, ...] = ("lead", "mql", "sal", "sql", "customer")
STAGE_COLUMNS: dict[str, str] = dict(zip(STAGES, LEAD_STAGE_COLUMNS))
STEPS: tuple[str, ...] = ("lead_mql", "mql_sal", "sal_sql", "sql_customer")
STAGE_LABELS: dict[str, str] = {"lead": "Lead", "mql": "MQL", "sal": "SAL", "sql": "SQL", "customer": "Customer"}
WINDOW_DAYS = 90
MATURE_DAYS = 180
HORIZON_DAYS = 365
_DAY_NS = 86_400 * 10**9


def step_label(step: str) -> str:
    """``"mql_sal"`` → ``"MQL → SAL"``."""
    a, b = step.split("_")
    return f"{STAGE_LABELS[a]} → {STAGE_LABELS[b]}"


def stages_of(dates: pd.DataFrame) -> list[str]:
    """The stages a :func:`stage_dates` frame records, in funnel order (``lead`` always first)."""
    return [s for s in STAGES if s in dates.columns]


def _steps(stages: list[str] | tuple[str, ...] = STAGES) -> list[tuple[str, str, str]]:
    """``(name, from, to)`` for each pair of consecutive recorded stages (``mql_sql`` when SAL is not recorded)."""
    return [(f"{a}_{b}", a, b) for a, b in zip(stages[:-1], stages[1:])]


def steps_of(dates: pd.DataFrame) -> list[str]:
    """Step names between the recorded stages of ``dates``."""
    return [name for name, _, _ in _steps(stages_of(dates))]


def _step_key(step: str) -> tuple[int, int]:
    a, b = step.split("_")
    return STAGES.index(a), STAGES.index(b)


def not_recorded(dates: pd.DataFrame) -> list[str]:
    """Stages of the funnel that the data does not record (no date column with values)."""
    return [s for s in STAGES if s not in dates.columns]


# --------------------------------------------------------------------------------------------------
# effective stage dates
# --------------------------------------------------------------------------------------------------
def stage_dates(leads: pd.DataFrame, stages: list[str] | None = None) -> pd.DataFrame:
    """Effective stage-entry dates, one row per lead (same index as ``leads``).

    Columns: ``lead_id``, ``channel``, ``lead`` and one column per *recorded* stage among ``mql``,
    ``sal``, ``sql``, ``customer`` (timestamps, NaT = not reached), and ``disqualified_at``. A stage is
    recorded when its date column has at least one value (or it is listed in ``stages``); a stage the
    export does not record gets no column — it is "not in the data", never derived from a later stage.

    Definition: eff(k) = max(created_at, min{date(j) : j ≥ k, date(j) present}); eff(lead) = created_at.
    A skipped stage takes the earliest later date (the lead passed it); dates out of order are pulled
    back to the earliest later date, so eff(lead) ≤ eff(mql) ≤ … ≤ eff(customer). The skipped-stage rule
    applies across the recorded stages only.
    """
    if stages is None:
        stages = [s for s in STAGES[1:] if STAGE_COLUMNS[s] in leads.columns and leads[STAGE_COLUMNS[s]].notna().any()]
    recorded = [s for s in STAGES[1:] if s in stages]
    created = leads["created_at"].to_numpy("datetime64[ns]").astype("int64")
    cols = [STAGE_COLUMNS[s] for s in recorded]
    raw = np.full((len(leads), len(cols)), np.inf)
    for j, c in enumerate(cols):  # loop over the four stage columns, not over leads
        if c in leads.columns:
            v = leads[c].to_numpy("datetime64[ns]")
            raw[:, j] = np.where(np.isnat(v), np.inf, v.astype("int64").astype("float64"))
    revmin = np.minimum.accumulate(raw[:, ::-1], axis=1)[:, ::-1]
    eff = np.maximum(revmin, created.astype("float64")[:, None])
    out = pd.DataFrame(index=leads.index)
    out["lead_id"] = leads["lead_id"] if "lead_id" in leads.columns else leads.index.astype(str)
    out["channel"] = leads["channel"] if "channel" in leads.columns else "all"
    if "segment" in leads.columns:
        out["segment"] = leads["segment"]
    out["lead"] = leads["created_at"].astype("datetime64[ns]")
    for j, s in enumerate(recorded):
        col = eff[:, j]
        ns = np.where(np.isfinite(col), col, 0).astype("int64")
        out[s] = pd.Series(ns.astype("datetime64[ns]"), index=leads.index).where(np.isfinite(col))
    dq = leads["disqualified_at"] if "disqualified_at" in leads.columns else pd.Series(pd.NaT, index=leads.index)
    out["disqualified_at"] = dq.astype("datetime64[ns]")
    return out


def reached(dates: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Boolean per lead and stage: the effective stage date is before ``as_of``.

    Monotone by construction: reached(k + 1) implies reached(k).
    """
    return pd.DataFrame({s: (dates[s] < as_of).to_numpy() for s in stages_of(dates)}, index=dates.index)


def in_period(ts: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """``start ≤ ts < end`` (NaT → False)."""
    return ((ts >= start) & (ts < end)).fillna(False).astype(bool)


# --------------------------------------------------------------------------------------------------
# funnel counts: flow and cohort
# --------------------------------------------------------------------------------------------------
def flow_counts(dates: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Flow view: number of stage entries whose effective date falls in ``[start, end)``, per stage.

    flow(k) = #{leads : start ≤ eff(k) < end}. Different leads feed different stages (an SQL this
    quarter may be a lead from last quarter), so the ratio flow(k+1)/flow(k) is a throughput ratio, not
    a conversion probability, and can exceed 1.
    """
    return pd.Series({s: int(in_period(dates[s], start, end).sum()) for s in stages_of(dates)}, name="flow")


def cohort_funnel(
    dates: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp, level: float = stats.DEFAULT_LEVEL
) -> pd.DataFrame:
    """Cohort view: leads created in ``[start, end)``, followed up to ``as_of``.

    One row per stage with ``reached`` (leads of the cohort with eff(stage) < as_of), ``open`` (reached
    this stage, not the next, not disqualified before as_of: still in play), ``step`` = reached(k) /
    reached(k−1) with Wilson interval ``step_lo/step_hi`` and ``cum`` = reached(k) / reached(lead) with
    ``cum_lo/cum_hi``. Counts never increase down the stages (a lead reaching a stage counts for all
    earlier ones). Open leads are in the denominator of these as-of rates: for recent cohorts use
    :func:`window_conversion`, which does not count them as lost.
    """
    cohort = dates[in_period(dates["lead"], start, end)]
    r = reached(cohort, as_of)
    dq = (cohort["disqualified_at"] < as_of).fillna(False).to_numpy(bool)
    counts = r.sum().astype(int)
    stages = stages_of(dates)
    nxt = list(stages[1:]) + [None]
    open_ = [
        int((r[s].to_numpy() & ~(r[n].to_numpy() if n else np.zeros(len(r), bool)) & ~dq).sum()) if n else 0
        for s, n in zip(stages, nxt)
    ]
    k = counts.to_numpy(float)
    prev = np.concatenate([[k[0]], k[:-1]])
    step = stats.rate_table(k, prev, level)
    cum = stats.rate_table(k, np.full(len(k), k[0]), level)
    return pd.DataFrame(
        {
            "stage": stages,
            "reached": counts.to_numpy(),
            "open": open_,
            "step": step["rate"].to_numpy(),
            "step_lo": step["lo"].to_numpy(),
            "step_hi": step["hi"].to_numpy(),
            "cum": cum["rate"].to_numpy(),
            "cum_lo": cum["lo"].to_numpy(),
            "cum_hi": cum["hi"].to_numpy(),
        }
    )


def funnel_table(
    dates: pd.DataFrame, quarter: Quarter, as_of: pd.Timestamp | None = None, level: float = stats.DEFAULT_LEVEL
) -> pd.DataFrame:
    """Both views of the audited quarter, one row per stage.

    ``flow`` = stage entries in the quarter (:func:`flow_counts`) and ``flow_ratio`` = flow(k)/flow(k−1);
    ``cohort`` = leads created in the quarter that reached the stage by ``as_of`` (default: quarter end),
    with ``step``/``cum`` conversion and intervals and ``open`` (see :func:`cohort_funnel`).
    """
    as_of = quarter.end if as_of is None else as_of
    flow = flow_counts(dates, quarter.start, quarter.end)
    coh = cohort_funnel(dates, quarter.start, quarter.end, as_of, level)
    f = flow.to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.concatenate([[np.nan], np.where(f[:-1] > 0, f[1:] / f[:-1], np.nan)])
    return coh.rename(columns={"reached": "cohort"}).assign(flow=flow.to_numpy(), flow_ratio=ratio)[
        ["stage", "flow", "flow_ratio", "cohort", "open", "step", "step_lo", "step_hi", "cum", "cum_lo", "cum_hi"]
    ]


# --------------------------------------------------------------------------------------------------
# time to stage (Kaplan–Meier) and windowed conversion
# --------------------------------------------------------------------------------------------------
def time_to_stage(dates: pd.DataFrame, stage: str, as_of: pd.Timestamp, origin: str = "lead") -> pd.DataFrame:
    """Days from entering ``origin`` to entering ``stage``, censored at ``as_of``.

    Only leads that entered ``origin`` before ``as_of`` take part. ``observed`` is True when the lead
    entered ``stage`` before ``as_of``; otherwise ``days`` is the follow-up (as_of − origin date) and
    the lead is censored — still open, or lost, it has simply not reached the stage by then.
    Returns columns ``days, observed, channel`` (index of ``dates``).
    """
    o = dates[origin]
    at_risk = (o < as_of).fillna(False).to_numpy(bool)
    sub = dates[at_risk]
    obs = (sub[stage] < as_of).fillna(False).to_numpy(bool)
    end = sub[stage].where(obs, as_of)
    d = (end - sub[origin]).to_numpy("timedelta64[ns]").astype("int64") / _DAY_NS
    return pd.DataFrame(
        {"days": np.clip(d, 0, None), "observed": obs, "channel": sub["channel"].to_numpy()}, index=sub.index
    )


def km_conversion(durations: pd.DataFrame) -> pd.DataFrame:
    """Kaplan–Meier cumulative conversion F(t) = 1 − S(t) of a :func:`time_to_stage` frame.

    Columns ``days, at_risk, events, conv, conv_lo, conv_hi, var`` where ``var`` is Greenwood's variance
    Var F(t) = S(t)² Σ_{tᵢ ≤ t} dᵢ / (nᵢ (nᵢ − dᵢ)) and the band is the log-log 90% band of
    :func:`salesaudit.stats.kaplan_meier`, flipped.
    """
    km = stats.kaplan_meier(durations["days"].to_numpy(), durations["observed"].to_numpy())
    n, d = km["at_risk"].to_numpy(float), km["events"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
    s = km["survival"].to_numpy()
    return pd.DataFrame(
        {
            "days": km["time"].to_numpy(),
            "at_risk": km["at_risk"].to_numpy(),
            "events": km["events"].to_numpy(),
            "conv": 1 - s,
            "conv_lo": 1 - km["hi"].to_numpy(),
            "conv_hi": 1 - km["lo"].to_numpy(),
            "var": s**2 * gw,
        }
    )


def conversion_at(curve: pd.DataFrame, t: float) -> pd.Series:
    """Read a :func:`km_conversion` curve at ``t`` days (step function): conv, conv_lo, conv_hi, var,
    plus the effective sample size n_eff = F(1 − F) / Var F (the binomial n giving the same variance;
    the number at risk at time 0 when F is 0 or 1)."""
    idx = max(int(np.searchsorted(curve["days"].to_numpy(), t, side="right")) - 1, 0)
    row = curve.iloc[idx]
    f, var = float(row["conv"]), float(row["var"])
    n0 = float(curve["at_risk"].iloc[0])
    n_eff = f * (1 - f) / var if var > 0 and 0 < f < 1 else n0
    return pd.Series(
        {
            "conv": f,
            "conv_lo": float(row["conv_lo"]),
            "conv_hi": float(row["conv_hi"]),
            "var": var,
            "n_eff": min(n_eff, n0),
            "n": n0,
        }
    )


def window_conversion(
    dates: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    as_of: pd.Timestamp,
    window: int = WINDOW_DAYS,
    level: float = stats.DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Share of the leads created in ``[start, end)`` that reached each stage within ``window`` days.

    When the cohort is old enough (end + window ≤ as_of) every lead has been observed for the whole
    window: conv = #{eff(k) − created ≤ window} / #cohort with a Wilson interval (``method = "observed"``).
    Otherwise the leads created late have not had ``window`` days yet, so the Kaplan–Meier estimate
    F(window) of :func:`km_conversion` is used (``method = "km"``): open leads are censored at as_of,
    never counted as lost. Columns ``stage, n, k, conv, lo, hi, method`` (k is the count observed so far).
    """
    cohort = dates[in_period(dates["lead"], start, end)]
    n = len(cohort)
    mature = end + pd.Timedelta(days=window) <= as_of
    rows = []
    for s in stages_of(dates):  # up to five stages
        dur = time_to_stage(cohort, s, as_of)
        hit = dur["observed"].to_numpy() & (dur["days"].to_numpy() <= window)
        k = int(hit.sum())
        if mature or n == 0:
            r = stats.rate_table([k], [n], level).iloc[0]
            rows.append(
                {"stage": s, "n": n, "k": k, "conv": r["rate"], "lo": r["lo"], "hi": r["hi"], "method": "observed"}
            )
        else:
            c = conversion_at(km_conversion(dur), window)
            rows.append(
                {"stage": s, "n": n, "k": k, "conv": c["conv"], "lo": c["conv_lo"], "hi": c["conv_hi"], "method": "km"}
            )
    return pd.DataFrame(rows)


def cohort_window_table(
    dates: pd.DataFrame,
    quarters: list[Quarter],
    as_of: pd.Timestamp,
    window: int = WINDOW_DAYS,
    level: float = stats.DEFAULT_LEVEL,
) -> pd.DataFrame:
    """:func:`window_conversion` for several cohort quarters, stacked with a ``cohort`` column."""
    parts = [window_conversion(dates, q.start, q.end, as_of, window, level).assign(cohort=q.label) for q in quarters]
    return pd.concat(parts, ignore_index=True)[["cohort", "stage", "n", "k", "conv", "lo", "hi", "method"]]


def conditional_median(curve: pd.DataFrame, horizon: float = HORIZON_DAYS) -> tuple[float, float, float]:
    """Median days to the stage among leads that reach it within ``horizon`` days, from a KM curve.

    median = min{t : F(t) ≥ F(horizon) / 2}. Unlike the plain KM median (S(t) ≤ ½), it exists when fewer
    than half the leads ever convert. The interval (lo, hi) is where the 90% band of F crosses the same
    level — approximate (it ignores the uncertainty of F(horizon)). NaN when nobody converts.
    """
    f_h = float(conversion_at(curve, horizon)["conv"])
    if not f_h > 0:
        return float("nan"), float("nan"), float("nan")
    target = f_h / 2
    t = curve["days"].to_numpy()

    def first(col: str) -> float:
        hit = np.flatnonzero(curve[col].to_numpy() >= target - 1e-12)
        return float(t[hit[0]]) if len(hit) else float("nan")

    return first("conv"), first("conv_hi"), first("conv_lo")


def km_curves(
    dates: pd.DataFrame,
    stage: str,
    as_of: pd.Timestamp,
    created_from: pd.Timestamp,
    by: str | None = "channel",
    max_days: float = HORIZON_DAYS,
) -> pd.DataFrame:
    """KM cumulative-conversion curves to ``stage`` for leads created in ``[created_from, as_of)``.

    One curve per value of ``by`` plus ``all``; columns ``group, days, conv, conv_lo, conv_hi, at_risk``,
    cut at ``max_days``.
    """
    sub = dates[in_period(dates["lead"], created_from, as_of)]
    dur = time_to_stage(sub, stage, as_of)
    groups = [("all", dur)]
    if by is not None:
        groups += [(g, d) for g, d in dur.groupby(by, sort=True)]
    parts = [km_conversion(d).assign(group=g) for g, d in groups]
    out = pd.concat(parts, ignore_index=True)
    return out[out["days"] <= max_days][["group", "days", "conv", "conv_lo", "conv_hi", "at_risk"]]


def median_days_table(
    dates: pd.DataFrame, as_of: pd.Timestamp, created_from: pd.Timestamp, horizon: float = HORIZON_DAYS
) -> pd.DataFrame:
    """Median days from lead creation to each stage, by channel and overall (:func:`conditional_median`).

    Leads created in ``[created_from, as_of)``, followed to ``as_of``; leads that have not reached a
    stage are censored. Columns ``channel, stage, median_days, lo, hi, reached, conv_horizon`` where
    ``conv_horizon`` is the KM share reaching the stage within ``horizon`` days.
    """
    sub = dates[in_period(dates["lead"], created_from, as_of)]
    rows = []
    for s in stages_of(dates)[1:]:  # up to four stages × channels: small loops over groups, not leads
        dur = time_to_stage(sub, s, as_of)
        for g, d in [("all", dur)] + list(dur.groupby("channel", sort=True)):
            curve = km_conversion(d)
            med, lo, hi = conditional_median(curve, horizon)
            rows.append(
                {
                    "channel": g,
                    "stage": s,
                    "median_days": med,
                    "lo": lo,
                    "hi": hi,
                    "reached": int(d["observed"].sum()),
                    "conv_horizon": float(conversion_at(curve, horizon)["conv"]),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# conversion by channel (mature cohorts)
# --------------------------------------------------------------------------------------------------
def mature_quarters(quarter: Quarter, mature_days: int = MATURE_DAYS, n: int = 4) -> list[Quarter]:
    """The ``n`` latest cohort quarters whose leads have all had ``mature_days`` days by the audited
    quarter's end (q.end + mature_days ≤ quarter.end), oldest first."""
    out, q = [], quarter
    while q.end + pd.Timedelta(days=mature_days) > quarter.end:
        q = q.previous()
    for _ in range(n):
        out.append(q)
        q = q.previous()
    return out[::-1]


def step_rates(
    dates: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    as_of: pd.Timestamp,
    by: str | None = "channel",
    level: float = stats.DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Step conversion of the leads created in ``[start, end)``, followed to ``as_of``, by ``by``.

    step(a → b) = #{reached b} / #{reached a} (reached = effective date before as_of), with a Wilson
    interval. Meant for *mature* cohorts (:func:`mature_quarters`) whose outcomes are (almost) complete;
    for them it estimates the conditional probability P(reach b | reached a). One row per group and
    step plus ``lead_customer`` (whole funnel); columns ``group, step, k, n, rate, lo, hi``.
    Groups always include ``all``.
    """
    cohort = dates[in_period(dates["lead"], start, end)]
    return _rates_from_reached(reached(cohort, as_of), cohort[by] if by is not None else None, level)


def snapshot_rates(leads: pd.DataFrame, by: str | None = "channel", level: float = stats.DEFAULT_LEVEL) -> pd.DataFrame:
    """Step conversion of an undated snapshot: the share of leads at or beyond each stage.

    reached(s) = the lead's ``stage_reached`` is s or later, or a date column of s or a later stage has a
    value (:func:`salesaudit.data.coverage.reached_mask`); step(a → b) = #{reached b} / #{reached a} with a
    Wilson interval, over the stages the data records. Every lead is taken as it stands at the export: leads
    still open count as not (yet) converted, so recent leads pull the rates down — the snapshot has no dates
    to tell them apart. Same columns as :func:`step_rates`.
    """
    from salesaudit.data.coverage import reached_mask, stage_statuses

    status = stage_statuses(leads)
    stages = ["lead"] + [s for s in STAGES[1:] if status.get(s) != "not recorded"]
    r = pd.DataFrame({s: reached_mask(leads, s).to_numpy() for s in stages}, index=leads.index)
    return _rates_from_reached(r, leads[by] if by is not None and by in leads.columns else None, level)


def _rates_from_reached(r: pd.DataFrame, group: pd.Series | None, level: float) -> pd.DataFrame:
    stages = [s for s in STAGES if s in r.columns]
    if group is not None:
        r = r.assign(group=group.to_numpy())
        counts = pd.concat([r.groupby("group", sort=True)[stages].sum(), r[stages].sum().to_frame("all").T])
    else:
        counts = r[stages].sum().to_frame("all").T
    parts = []
    last = (
        [("lead_customer", "lead", "customer")] if "customer" in stages and stages[-2:] != ["lead", "customer"] else []
    )
    for name, a, b in _steps(stages) + last:
        t = stats.rate_table(counts[b].to_numpy(), counts[a].to_numpy(), level)
        parts.append(t.assign(group=counts.index.to_numpy(), step=name))
    out = pd.concat(parts, ignore_index=True)
    out[["k", "n"]] = out[["k", "n"]].astype(int)
    return out[["group", "step", "k", "n", "rate", "lo", "hi"]]


def rate_matrix(rates: pd.DataFrame, value: str = "rate") -> pd.DataFrame:
    """Pivot :func:`step_rates` to group × step (steps in funnel order, ``all`` last)."""
    order = sorted(set(rates["step"]) - {"lead_customer"}, key=_step_key) + (
        ["lead_customer"] if "lead_customer" in set(rates["step"]) else []
    )
    m = rates.pivot(index="group", columns="step", values=value)[order]
    groups = [g for g in m.index if g != "all"] + (["all"] if "all" in m.index else [])
    return m.loc[groups]


# --------------------------------------------------------------------------------------------------
# where leads fall through: step loss this quarter vs the previous four
# --------------------------------------------------------------------------------------------------
def step_window_rates(
    dates: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp, window: int = WINDOW_DAYS
) -> pd.DataFrame:
    """For each step a → b: of the leads entering a in ``[start, end)``, the KM share that reached b
    within ``window`` days of entering a (censored at as_of, so late entries are not counted as lost).

    Columns ``step, entered, conv, var, n_eff, k_eff`` where n_eff = F(1 − F)/Var F (Greenwood) is the
    binomial sample size with the same precision and k_eff = F · n_eff; when every entry had the full
    window, n_eff = entered and k_eff is the plain count.
    """
    rows = []
    for name, a, b in _steps(stages_of(dates)):
        sub = dates[in_period(dates[a], start, end)]
        dur = time_to_stage(sub, b, as_of, origin=a)
        if len(dur) == 0:
            rows.append({"step": name, "entered": 0, "conv": np.nan, "var": np.nan, "n_eff": 0.0, "k_eff": 0.0})
            continue
        c = conversion_at(km_conversion(dur), window)
        rows.append(
            {
                "step": name,
                "entered": len(dur),
                "conv": c["conv"],
                "var": c["var"],
                "n_eff": c["n_eff"],
                "k_eff": c["conv"] * c["n_eff"],
            }
        )
    return pd.DataFrame(rows)


def _standardised(now: pd.DataFrame, prev: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per step, the stratified now-rate and the previous rate re-weighted to the current mix.

    ``now``/``prev``: :func:`step_window_rates` per group with a ``group`` column. Strata are the
    groups with entries in both periods; weights w_g = entries_now_g / Σ entries_now. Rate = Σ w_g F_g,
    Var = Σ w_g² Var F_g, n_eff = F(1 − F)/Var (Σ entries when the variance is 0).
    """
    steps = sorted(set(now["step"]), key=_step_key)
    m = now.merge(prev, on=["group", "step"], suffixes=("_now", "_prev"))
    m = m[(m["entered_now"] > 0) & (m["entered_prev"] > 0)]
    m = m.assign(w=m["entered_now"] / m.groupby("step")["entered_now"].transform("sum"))
    out = []
    for tag in ("now", "prev"):
        agg = (
            m.assign(f=m["w"] * m[f"conv_{tag}"], v=m["w"] ** 2 * m[f"var_{tag}"].fillna(0))
            .groupby("step")
            .agg(conv=("f", "sum"), var=("v", "sum"), entered=(f"entered_{tag}", "sum"))
        )
        agg = agg.reindex(steps)
        f, v = agg["conv"].to_numpy(float), agg["var"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.where((v > 0) & (f > 0) & (f < 1), f * (1 - f) / v, agg["entered"].fillna(0).to_numpy(float))
        n_eff = np.minimum(n_eff, agg["entered"].fillna(0).to_numpy(float))
        out.append(
            pd.DataFrame(
                {
                    "step": steps,
                    "entered": agg["entered"].fillna(0).astype(int).to_numpy(),
                    "conv": f,
                    "n_eff": n_eff,
                    "k_eff": f * n_eff,
                }
            )
        )
    return out[0], out[1]


def loss_comparison(
    dates: pd.DataFrame,
    quarter: Quarter,
    n_prev: int = 4,
    window: int = WINDOW_DAYS,
    as_of: pd.Timestamp | None = None,
    by: str | None = "channel",
    level: float = stats.DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Loss at each step this quarter against the previous ``n_prev`` quarters pooled, at this quarter's
    channel mix.

    loss(a → b) = 1 − share of the leads entering a that reached b within ``window`` days
    (:func:`step_window_rates`, Kaplan–Meier: late entries are censored, not lost). So that a shift in the
    channel mix is not mistaken for a leak, both periods are compared per ``by`` group (channel) and
    re-weighted to this quarter's entries (direct standardisation); groups without entries in both
    periods — a new channel — are left out of the comparison (``by=None``: plain pooled rates).
    change = loss_now − loss_prev with Newcombe's interval (:func:`salesaudit.stats.diff_interval` on the
    effective counts n_eff = F(1 − F)/Var F); ``real`` is True when the interval excludes 0 — otherwise
    the change is within the noise. Columns ``step, entered_now, loss_now, loss_now_lo, loss_now_hi,
    entered_prev, loss_prev, loss_prev_lo, loss_prev_hi, change, change_lo, change_hi, real`` (loss
    intervals: Wilson on the effective counts).
    """
    as_of = quarter.end if as_of is None else as_of
    p0 = quarter.previous(n_prev).start
    if by is None or by not in dates.columns:
        now = step_window_rates(dates, quarter.start, quarter.end, as_of, window)
        prev = step_window_rates(dates, p0, quarter.start, as_of, window)
    else:
        groups = list(dates.groupby(by, sort=True))
        now_g = pd.concat(
            [step_window_rates(g, quarter.start, quarter.end, as_of, window).assign(group=k) for k, g in groups],
            ignore_index=True,
        )
        prev_g = pd.concat(
            [step_window_rates(g, p0, quarter.start, as_of, window).assign(group=k) for k, g in groups],
            ignore_index=True,
        )
        now, prev = _standardised(now_g, prev_g)
    lost_now = now["n_eff"] - now["k_eff"]
    lost_prev = prev["n_eff"] - prev["k_eff"]
    d, lo, hi = stats.diff_interval(lost_now, now["n_eff"], lost_prev, prev["n_eff"], level)
    w_lo, w_hi = stats.wilson_interval(lost_now, now["n_eff"], level)
    p_lo, p_hi = stats.wilson_interval(lost_prev, prev["n_eff"], level)
    return pd.DataFrame(
        {
            "step": now["step"].to_numpy(),
            "entered_now": now["entered"].to_numpy(),
            "loss_now": 1 - now["conv"].to_numpy(),
            "loss_now_lo": w_lo,
            "loss_now_hi": w_hi,
            "entered_prev": prev["entered"].to_numpy(),
            "loss_prev": 1 - prev["conv"].to_numpy(),
            "loss_prev_lo": p_lo,
            "loss_prev_hi": p_hi,
            "change": d,
            "change_lo": lo,
            "change_hi": hi,
            "real": (lo > 0) | (hi < 0),
        }
    )


def largest_loss(loss: pd.DataFrame) -> dict:
    """The step with the largest loss this quarter and the step that got worst against the previous
    quarters (largest change whose interval excludes 0; None when no change is larger than the noise)."""
    lvl = loss.loc[loss["loss_now"].idxmax()] if loss["loss_now"].notna().any() else None
    worse = loss[loss["real"] & (loss["change"] > 0)]
    w = worse.loc[worse["change"].idxmax()] if len(worse) else None
    return {"largest": None if lvl is None else lvl.to_dict(), "worsened": None if w is None else w.to_dict()}


# --------------------------------------------------------------------------------------------------
# visitors → leads
# --------------------------------------------------------------------------------------------------
def visit_to_lead(
    leads: pd.DataFrame,
    traffic: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    level: float = stats.DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Visitor → lead rate per channel that has traffic, for months in ``[start, end)``.

    rate = leads created / website visits (sessions), with a Wilson interval (treating each visit as a
    trial). Only channels present in ``traffic`` are shown, plus ``all`` over those channels.
    Columns ``channel, visits, leads, rate, lo, hi``.
    """
    t = traffic[in_period(traffic["month"], start, end)].groupby("channel")["visits"].sum()
    t = t[t > 0]
    lc = leads[in_period(leads["created_at"], start, end)].groupby("channel").size()
    df = pd.DataFrame({"visits": t}).assign(leads=lc.reindex(t.index).fillna(0).to_numpy())
    df = pd.concat([df, df.sum().to_frame("all").T]) if len(df) else df
    r = stats.rate_table(np.minimum(df["leads"], df["visits"]), df["visits"], level)
    return pd.DataFrame(
        {
            "channel": df.index.to_numpy(),
            "visits": df["visits"].to_numpy(),
            "leads": df["leads"].astype(int).to_numpy(),
            "rate": r["rate"].to_numpy(),
            "lo": r["lo"].to_numpy(),
            "hi": r["hi"].to_numpy(),
        }
    )


# --------------------------------------------------------------------------------------------------
# money at stake
# --------------------------------------------------------------------------------------------------
def average_deal_value(
    opportunities: pd.DataFrame | None, orders: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp
) -> float:
    """Average revenue of a new customer, used to put a money figure on lost conversions.

    = mean ``amount`` of won opportunities closed in ``[start, end)``; without opportunities (or
    amounts), the mean first order of customers whose first order falls in the period; NaN when
    neither is available.
    """
    if opportunities is not None and {"amount", "is_won", "closed_at"} <= set(opportunities.columns):
        won = opportunities[
            opportunities["is_won"].fillna(False).astype(bool) & in_period(opportunities["closed_at"], start, end)
        ]
        amt = won["amount"].dropna()
        if len(amt):
            return float(amt.mean())
    if orders is not None and len(orders):
        first = orders.sort_values("ordered_at").drop_duplicates("customer_id")
        first = first[in_period(first["ordered_at"], start, end)]["amount"].dropna()
        if len(first):
            return float(first.mean())
    return float("nan")


def downstream_conversion(rates: pd.DataFrame, stage: str, group: str = "all") -> float:
    """P(customer | reached ``stage``) from mature :func:`step_rates` = product of the later steps'
    rates (1 for ``customer``)."""
    r = rates[rates["group"] == group].set_index("step")["rate"]
    recorded = {x for st in r.index if st != "lead_customer" for x in st.split("_")}
    stages = [s for s in STAGES if s in recorded]
    i = stages.index(stage) if stage in stages else len(stages)
    steps = [f"{a}_{b}" for a, b in zip(stages[i:-1], stages[i + 1 :])]
    return float(np.prod([r.get(s, np.nan) for s in steps])) if steps else 1.0


# --------------------------------------------------------------------------------------------------
# "What this means": sentences built from the numbers, and findings
# --------------------------------------------------------------------------------------------------
def _pct(x, d: int = 0) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * float(x):.{d}f}%"


def _iv(lo, hi, d: int = 0) -> str:
    return f"90% interval {_pct(lo, d)}–{_pct(hi, d)}"


def funnel_title(ftab: pd.DataFrame, quarter: Quarter) -> str:
    """Chart title from the numbers: leads and customers in the quarter."""
    f = ftab.set_index("stage")
    last = f.index[-1]
    if last == "lead":
        return f"{quarter.label}: {f.loc['lead', 'flow']:,} new leads (no later stage is in the data)"
    noun = "new customers" if last == "customer" else f"new {STAGE_LABELS[last]}s"
    return f"{quarter.label}: {f.loc['lead', 'flow']:,} new leads, {f.loc[last, 'flow']:,} {noun} (flow) — the cohort is still open"


def funnel_sentences(
    ftab: pd.DataFrame, cwin: pd.DataFrame, quarter: Quarter, window: int = WINDOW_DAYS, v2l: pd.DataFrame | None = None
) -> list[str]:
    """Sentences for the funnel section from :func:`funnel_table`, :func:`cohort_window_table` and
    (optionally) :func:`visit_to_lead`."""
    f = ftab.set_index("stage")
    out = [
        "Flow (stage entries dated in the quarter, whichever quarter the lead came from): "
        + ", ".join(f"{f.loc[s, 'flow']:,} {STAGE_LABELS[s] if s != 'lead' else 'leads'}" for s in f.index)
        + "."
    ]
    missing = [STAGE_LABELS[s] for s in STAGES if s not in f.index]
    if missing:
        out.append(
            f"Not in the data: {', '.join(missing)} — the export records no such dates, so these stages are "
            "not counted and no step is derived from a later stage."
        )
    parts = []
    first = next((s for s in f.index if s != "lead"), None)
    if first is not None:
        parts.append(f"{_pct(f.loc[first, 'cum'])} reached {STAGE_LABELS[first]}")
    if "customer" in f.index:
        parts.append(f"{f.loc['customer', 'cohort']:,} are customers already")
    reached_txt = (" and ".join(parts) + "; ") if parts else ""
    out.append(
        f"Cohort (the {f.loc['lead', 'cohort']:,} leads created in {quarter.label}, seen at the quarter end): "
        f"{reached_txt}{int(f['open'].sum()):,} are still open — counted as censored, not lost."
    )
    w = cwin[cwin["stage"] == "customer"]
    obs = w[(w["method"] == "observed") & w["conv"].notna()]  # cohorts without leads have no rate
    km = w[(w["method"] == "km") & (w["cohort"] == quarter.label)]
    if len(obs):
        lo_c, hi_c = _pct(obs["conv"].min(), 1), _pct(obs["conv"].max(), 1)
        share = lo_c if lo_c == hi_c else f"{lo_c}–{hi_c}"
        out.append(
            f"Within {window} days of creation, the cohorts old enough to judge turned {share} of their leads into customers."
        )
    if len(km) and not km.iloc[0]["k"] > 0:
        out.append(
            f"None of {quarter.label}'s own cohort ({int(km.iloc[0]['n']):,} leads, not yet {window} days old) "
            "has become a customer yet, so its conversion cannot be estimated."
        )
    elif len(km):
        r = km.iloc[0]
        out.append(
            f"For {quarter.label}'s own cohort, not yet {window} days old, the Kaplan–Meier estimate is "
            f"{_pct(r['conv'], 1)} ({_iv(r['lo'], r['hi'], 1)})."
        )
    if v2l is not None and len(v2l):
        v = v2l.set_index("channel")
        ch = v.drop(index="all", errors="ignore")
        s = f"Visitors → leads: {_pct(v.loc['all', 'rate'], 2)} of {v.loc['all', 'visits']:,.0f} website visits became leads"
        ext = stats.extremes(ch.reset_index(), n="visits") if len(ch) > 1 else None
        if ext is not None:
            b, w = ext
            s += (
                f"; highest {b['channel']} ({_pct(b['rate'], 2)}, {n_is(b['visits'])} visits), "
                f"lowest {w['channel']} ({_pct(w['rate'], 2)}, {n_is(w['visits'])} visits)"
            )
        elif len(ch) > 1:
            s += "; no channel's rate stands out from the others beyond the noise"
        out.append(s + ".")
    return out


def channel_title(rates: pd.DataFrame) -> str:
    """Heat-map title from the numbers: best and worst channel lead → customer."""
    lc = rates[(rates["step"] == "lead_customer") & (rates["group"] != "all")]
    if not (rates["n"] > 0).any():
        return "Stage conversion by channel: no leads in the mature cohorts yet"
    ext = stats.extremes(lc) if len(lc) >= 2 else None
    if ext is None:
        return "Stage conversion by channel: no channel stands out beyond the noise"
    b, w = ext
    if w["rate"] > 0:
        return f"{b['group']} turns leads into customers {b['rate'] / w['rate']:.1f}× as often as {w['group']}"
    return f"{b['group']} turns {_pct(b['rate'], 1)} of leads into customers; {w['group']} none of {w['n']:,}"


def channel_gaps(
    rates: pd.DataFrame, entries: pd.DataFrame | None = None, level: float = stats.DEFAULT_LEVEL
) -> pd.DataFrame:
    """Each channel's step rate against all channels (the pooled rate of the others), with Newcombe's
    interval of the difference. Columns ``group, step, rate, others, gap, gap_lo, gap_hi, real``;
    ``entered_now`` joined from ``entries`` (group, step → entries into the step's first stage in the
    audited quarter) when given."""
    r = rates[rates["step"] != "lead_customer"]
    if r.empty:  # lead → customer is the only step the data records
        r = rates
    tot = r[r["group"] == "all"].set_index("step")
    ch = r[r["group"] != "all"]
    ok = tot.loc[ch["step"]]
    k_o = ok["k"].to_numpy() - ch["k"].to_numpy()
    n_o = ok["n"].to_numpy() - ch["n"].to_numpy()
    d, lo, hi = stats.diff_interval(ch["k"], ch["n"], k_o, n_o, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        others = np.where(n_o > 0, k_o / n_o, np.nan)
    out = ch[["group", "step", "k", "n", "rate"]].assign(
        others=others, gap=d, gap_lo=lo, gap_hi=hi, real=(lo > 0) | (hi < 0)
    )
    if entries is not None:
        out = out.merge(entries, on=["group", "step"], how="left")
    return out.reset_index(drop=True)


def step_entries(dates: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    """Entries into the first stage of each step during the quarter, by channel: ``group, step, entered_now``."""
    rows = []
    for name, a, _ in _steps(stages_of(dates)):
        m = in_period(dates[a], quarter.start, quarter.end)
        c = dates.loc[m, "channel"].value_counts()
        rows.append(pd.DataFrame({"group": c.index.to_numpy(), "step": name, "entered_now": c.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def channel_finding(gaps: pd.DataFrame, rates: pd.DataFrame, deal_value: float) -> dict | None:
    """The channel step that costs most: among the channel × step rates below the other channels (interval
    excluding 0), the one with the largest impact = entries this quarter × (others − rate) × P(customer |
    next stage) × average deal value. Returns ``{slug, text, impact, recommendation, basis}`` or None."""
    g = gaps[gaps["real"] & (gaps["gap"] < 0)].copy()
    if g.empty or "entered_now" not in g.columns:
        return None
    nxt = {st: st.split("_")[1] for st in g["step"]}
    g["down"] = [downstream_conversion(rates, nxt[s]) for s in g["step"]]
    value = deal_value if np.isfinite(deal_value) else 0.0
    g["customers_lost"] = g["entered_now"].fillna(0) * (-g["gap"]) * g["down"]
    g["impact"] = g["customers_lost"] * value
    top = g.loc[g["customers_lost"].idxmax()]
    txt = (
        f"{top['group']} leads convert {step_label(top['step'])} at {_pct(top['rate'])} against "
        f"{_pct(top['others'])} for the other channels ({-100 * top['gap']:.0f} points lower, 90% interval "
        f"{-100 * top['gap_hi']:.0f}–{-100 * top['gap_lo']:.0f} points); at the others' rate this quarter would have brought about "
        f"{top['customers_lost']:.0f} more customers."
    )
    basis = (
        "entries this quarter × rate gap × later-stage conversion (mature cohorts) × average won deal"
        if value
        else "no deal values in the data: impact not valued"
    )
    return {
        "slug": f"channel_{top['group']}_{top['step']}",
        "text": txt,
        "impact": float(top["impact"]),
        "recommendation": f"Review how {top['group']} leads are qualified and handed over at {step_label(top['step'])}.",
        "basis": basis,
    }


def channel_sentences(rates: pd.DataFrame, gaps: pd.DataFrame, quarters: list[Quarter]) -> list[str]:
    """Sentences for the channel heat map (mature cohorts)."""
    span = f"{quarters[0].label}–{quarters[-1].label}" if quarters else "mature cohorts"
    final = "lead_customer" if "lead_customer" in set(rates["step"]) else None
    if final is None:  # no customer stage: judge channels on the last recorded step from lead
        steps = sorted(set(rates["step"]), key=_step_key)
        final = steps[-1] if steps else None
    lc = rates[rates["step"] == final].set_index("group")
    ch = lc.drop(index="all", errors="ignore")
    end = STAGE_LABELS[final.split("_")[1]] if final else "a later stage"
    if "all" not in lc.index or not lc.loc["all", "n"] > 0:
        return [
            f"No leads were created {span} (the mature cohorts), so conversion by channel cannot be measured "
            "yet: audit a later quarter once the data covers these cohorts."
        ]
    if quarters:
        out = [
            f"Rates are for leads created {span}, old enough that almost all of their outcomes are known; "
            f"overall {_pct(lc.loc['all', 'rate'], 1)} of leads reached {end} ({_iv(lc.loc['all', 'lo'], lc.loc['all', 'hi'], 1)})."
        ]
    else:
        out = [
            f"The data is an undated snapshot: rates count every lead as exported ({n_is(lc.loc['all', 'n'])}), "
            f"including leads still open, so they understate what recent leads will reach; overall "
            f"{_pct(lc.loc['all', 'rate'], 1)} of leads reached {end} ({_iv(lc.loc['all', 'lo'], lc.loc['all', 'hi'], 1)})."
        ]
    ext = stats.extremes(ch.reset_index()) if len(ch) >= 2 else None
    if ext is not None:
        b, w = ext
        out.append(
            f"Best channel: {b['group']} ({_pct(b['rate'], 1)}, {_iv(b['lo'], b['hi'], 1)}, {n_is(b['n'])}); "
            f"weakest: {w['group']} ({_pct(w['rate'], 1)}, {_iv(w['lo'], w['hi'], 1)}, {n_is(w['n'])})."
        )
    elif len(ch) >= 2:
        small = int((ch["n"] < stats.MIN_CLAIM_N).sum())
        extra = (
            f" ({small} channel{'s' if small != 1 else ''} with fewer than {stats.MIN_CLAIM_N} leads left out)"
            if small
            else ""
        )
        out.append(f"No channel's lead → {end} rate stands out from the others beyond the noise{extra}.")
    real = gaps[gaps["real"] & (gaps["n"] >= stats.MIN_CLAIM_N)]
    if gaps.empty:
        return out
    if len(real):
        worst = real.loc[real["gap"].idxmin()]
        out.append(
            f"The largest shortfall against the other channels: {worst['group']} at {step_label(worst['step'])} "
            f"({_pct(worst['rate'])} vs {_pct(worst['others'])}, {n_is(worst['n'])}). "
            f"{len(real)} of {len(gaps)} channel × step rates differ from the other channels by more than the noise."
        )
    else:
        out.append("No channel's step rate differs from the other channels by more than the noise.")
    return out


def time_title(med: pd.DataFrame) -> str:
    """KM chart title from the numbers."""
    m = med[(med["stage"] == "customer")].set_index("channel")
    if "all" not in m.index or not np.isfinite(m.loc["all", "median_days"]):
        return "Time from lead to customer (open leads censored)"
    ch = m.drop(index="all").reset_index()
    s = f"Half of the leads that convert are customers within {m.loc['all', 'median_days']:.0f} days"
    ext = stats.extremes(ch, value="median_days", n="reached") if len(ch) >= 2 else None
    if ext is not None:
        slow, fast = ext
        s += f"; {fast['channel']} fastest ({fast['median_days']:.0f}), {slow['channel']} slowest ({slow['median_days']:.0f})"
    return s


def time_sentences(
    med: pd.DataFrame, created_from: pd.Timestamp, as_of: pd.Timestamp, horizon: float = HORIZON_DAYS
) -> list[str]:
    """Sentences for the time-to-customer section from :func:`median_days_table`."""
    m = med.set_index(["channel", "stage"])
    out = []
    if ("all", "customer") in m.index:
        a = m.loc[("all", "customer")]
        out.append(
            f"Of the leads created from {created_from:%Y-%m-%d} to {as_of - pd.Timedelta(days=1):%Y-%m-%d}, "
            f"{int(a['reached']):,} became customers so far; the Kaplan–Meier estimate is that "
            f"{_pct(a['conv_horizon'], 1)} do so within {horizon:.0f} days (open leads censored, not dropped)."
        )
        if np.isfinite(a["median_days"]):
            iv = (
                f"approx. 90% interval {a['lo']:.0f}–{a['hi']:.0f}"
                if np.isfinite(a["lo"]) and np.isfinite(a["hi"])
                else "too few customers to put an interval on it"
            )
            out.append(
                f"Among those that convert within {horizon:.0f} days, half take up to "
                f"{a['median_days']:.0f} days ({iv})."
            )
    stages = med[med["channel"] == "all"].set_index("stage")["median_days"]
    if stages.notna().sum() >= 2:
        parts = [f"{STAGE_LABELS[s]} {v:.0f} d" for s, v in stages.items()]
        out.append("Median days from creation to each stage (among leads reaching it): " + ", ".join(parts) + ".")
        gaps = stages.diff().fillna(stages)
        slow = gaps.idxmax()
        order = ["lead"] + list(stages.index)
        i = order.index(slow)
        out.append(
            f"The longest wait is from {STAGE_LABELS[order[i - 1]]} to {STAGE_LABELS[slow]}: about "
            f"{gaps[slow]:.0f} of the {stages.max():.0f} median days to the last stage."
        )
    return out


def loss_title(loss: pd.DataFrame) -> str:
    """Loss chart title from the numbers."""
    ll = largest_loss(loss)
    if ll["worsened"] is not None:
        w = ll["worsened"]
        return f"{step_label(w['step'])} loses {100 * w['change']:.0f} points more than in the previous four quarters"
    if ll["largest"] is not None:
        return f"Largest loss at {step_label(ll['largest']['step'])}; no step worse than usual beyond the noise"
    if not (loss["entered_now"] > 0).any():
        return "Loss at each step: no channel has entries in both periods to compare"
    return "Loss at each step"


def loss_sentences(loss: pd.DataFrame, quarter: Quarter, window: int = WINDOW_DAYS) -> list[str]:
    """Sentences for the "where leads fall through" section from :func:`loss_comparison`."""
    ll = largest_loss(loss)
    out = []
    if not (loss["entered_now"] > 0).any():
        out.append(
            f"No step of {quarter.label} can be compared with the previous four quarters: no channel has "
            "entries in both periods (for example, the data starts in this quarter), so there is no baseline."
        )
    if ll["largest"] is not None:
        r = ll["largest"]
        out.append(
            f"The largest loss in {quarter.label} is {step_label(r['step'])}: {_pct(r['loss_now'])} of the "
            f"{r['entered_now']:,} entries did not move on within {window} days "
            f"(previous four quarters at this quarter's channel mix: {_pct(r['loss_prev'])})."
        )
    for _, r in loss.iterrows():  # four steps
        if not np.isfinite(r["change"]):
            continue
        verdict = "a real change" if r["real"] else "within the noise"
        out.append(
            f"{step_label(r['step'])}: loss {_pct(r['loss_now'])} vs {_pct(r['loss_prev'])}, "
            f"{100 * r['change']:+.1f} pp (90% interval {100 * r['change_lo']:+.1f} to {100 * r['change_hi']:+.1f}) — {verdict}."
        )
    out.append(
        f"Entries late in the quarter have not had {window} days yet; they are censored (Kaplan–Meier), "
        "so the loss is not overstated by leads that are simply still open. Both periods are compared "
        "channel by channel at this quarter's mix, so a shift in the mix is not read as a leak; "
        "channels without history (new this quarter) are left out of the comparison."
    )
    return out


def loss_finding(loss: pd.DataFrame, rates: pd.DataFrame, deal_value: float, quarter: Quarter) -> dict:
    """Finding for the step that got worse: impact = entries this quarter × change in loss × P(customer |
    next stage) (mature cohorts) × average deal value. When no step worsened beyond the noise, a finding
    saying so with impact 0."""
    ll = largest_loss(loss)
    nxt = {st: st.split("_")[1] for st in loss["step"]}
    w = ll["worsened"]
    value = deal_value if np.isfinite(deal_value) else 0.0
    if w is None:
        r = ll["largest"] or {"step": loss["step"].iloc[0] if len(loss) else STEPS[0], "loss_now": np.nan}
        return {
            "slug": "funnel_no_new_leak",
            "text": f"No funnel step lost more leads in {quarter.label} than in the previous four quarters beyond "
            f"the noise; the largest loss remains {step_label(r['step'])} ({_pct(r['loss_now'])}).",
            "impact": 0.0,
            "recommendation": "Keep monitoring; no step needs urgent action.",
            "basis": "no change larger than its 90% interval",
        }
    down = downstream_conversion(rates, nxt[w["step"]]) if rates is not None else np.nan
    if not np.isfinite(down):
        down, value = 0.0, 0.0
    lost = w["entered_now"] * w["change"] * down
    return {
        "slug": f"funnel_leak_{w['step']}",
        "text": f"{step_label(w['step'])} lost {_pct(w['loss_now'])} of its {w['entered_now']:,} entries in "
        f"{quarter.label} against {_pct(w['loss_prev'])} in the previous four quarters at the same channel mix "
        f"({100 * w['change']:+.0f} pp, 90% interval "
        f"{100 * w['change_lo']:+.0f} to {100 * w['change_hi']:+.0f}): about {lost:.0f} customers fewer.",
        "impact": float(lost * value),
        "recommendation": f"Find out what changed at {step_label(w['step'])} this quarter (hand-over, capacity, "
        "qualification rules) and fix it.",
        "basis": (
            "entries × change in loss × later-stage conversion (mature cohorts) × average won deal"
            if value
            else "no deal values in the data: impact not valued"
        ),
    }


# --------------------------------------------------------------------------------------------------
# compact display tables (rounded, readable)
# --------------------------------------------------------------------------------------------------
def visits_display(v2l: pd.DataFrame) -> pd.DataFrame:
    """Visitor → lead table for reading: visits, leads, rate with its 90% interval."""
    return pd.DataFrame(
        {
            "Channel": v2l["channel"].to_numpy(),
            "Website visits": [f"{v:,.0f}" for v in v2l["visits"]],
            "Leads": [f"{v:,.0f}" for v in v2l["leads"]],
            "Visit → lead (90% int.)": [_cell(r, lo, hi, 2) for r, lo, hi in v2l[["rate", "lo", "hi"]].to_numpy()],
        }
    ).set_index("Channel")


def _cell(rate, lo, hi, d: int = 0) -> str:
    return "n/a" if not np.isfinite(rate) else f"{_pct(rate, d)} ({_pct(lo, d)}–{_pct(hi, d)})"


def funnel_display(ftab: pd.DataFrame, missing: list[str] | None = None) -> pd.DataFrame:
    """The funnel table for reading: flow counts, cohort counts, open, step and cumulative conversion.
    Stages in ``missing`` (not recorded by the data) are listed in funnel order as "not in the data"."""
    out = pd.DataFrame(
        {
            "Stage": [STAGE_LABELS[s] for s in ftab["stage"]],
            "Flow: entries in quarter": [f"{v:,}" for v in ftab["flow"]],
            "Cohort: reached": [f"{v:,}" for v in ftab["cohort"]],
            "Cohort: still open": [f"{v:,}" for v in ftab["open"]],
            "Cohort step conversion (90% int.)": [_cell(*r) for r in ftab[["step", "step_lo", "step_hi"]].to_numpy()],
            "Cohort cumulative": [_pct(x, 1) for x in ftab["cum"]],
        }
    )
    for s in missing or []:
        out.loc[len(out)] = [STAGE_LABELS[s]] + ["not in the data"] * (out.shape[1] - 1)
    order = {STAGE_LABELS[s]: i for i, s in enumerate(STAGES)}
    return out.sort_values("Stage", key=lambda c: c.map(order), kind="stable").set_index("Stage")


FLOW_FIGURES = {
    "mql": ("mql", "New MQLs in the quarter"),
    "sal": ("sal", "New SALs in the quarter"),
    "sql": ("sql", "New SQLs in the quarter"),
    "customer": ("customers", "New customers in the quarter"),
}


def stage_figures(ftab: pd.DataFrame) -> list[tuple[str, int, str]]:
    """``(figure name, flow count, label)`` for each recorded stage after lead (a stage the data does not
    record has no figure: it is not in the data, not zero)."""
    f = ftab.set_index("stage")
    return [(FLOW_FIGURES[s][0], int(f.loc[s, "flow"]), FLOW_FIGURES[s][1]) for s in f.index if s in FLOW_FIGURES]


def cohort_figure(cwin: pd.DataFrame, quarter: Quarter, stage: str = "customer") -> dict:
    """The audited quarter's own cohort: share reaching ``stage`` within the window (``conv, lo, hi, n``);
    empty when the stage is not recorded."""
    r = cwin[(cwin["cohort"] == quarter.label) & (cwin["stage"] == stage)]
    if r.empty:
        return {}
    r = r.iloc[0]
    return {"conv": r["conv"], "lo": r["lo"], "hi": r["hi"], "n": int(r["n"])}


def rate_figure(rates: pd.DataFrame, step: str, group: str = "all") -> dict:
    """One row of :func:`step_rates` as a dict (``rate, lo, hi, n``), empty when the step is not measured."""
    r = rates[(rates["group"] == group) & (rates["step"] == step)]
    if r.empty:
        return {}
    r = r.iloc[0]
    return {"rate": r["rate"], "lo": r["lo"], "hi": r["hi"], "n": int(r["n"])}


def cohort_words(mature: list[Quarter]) -> str:
    """Axis label naming the cohorts the channel rates come from (or the undated snapshot)."""
    if not mature:
        return "Funnel step (every lead as exported: an undated snapshot)"
    return f"Funnel step (cohorts {mature[0].label}–{mature[-1].label})"


def window_display(cwin: pd.DataFrame, window: int = WINDOW_DAYS) -> pd.DataFrame:
    """Cohort × stage: share of the cohort reaching the stage within ``window`` days (KM-estimated
    cohorts marked ``*``)."""
    c = cwin[cwin["stage"] != "lead"].assign(
        cell=lambda d: [
            _cell(r, lo, hi, 1) + (" *" if m == "km" else "")
            for r, lo, hi, m in d[["conv", "lo", "hi", "method"]].to_numpy()
        ]
    )
    out = c.pivot(index="cohort", columns="stage", values="cell")[[s for s in STAGES[1:] if s in set(c["stage"])]]
    out.columns = [f"{STAGE_LABELS[s]} ≤{window} d" for s in out.columns]
    n = cwin.drop_duplicates("cohort").set_index("cohort")["n"]
    return out.assign(Leads=n.reindex(out.index).to_numpy())[["Leads"] + list(out.columns)].rename_axis("Cohort")


def rates_display(rates: pd.DataFrame, by: str = "Channel") -> pd.DataFrame:
    """Group × step: ``rate (lo–hi)`` plus the number of leads in each group's cohort (``by`` names the rows)."""
    r = rates.assign(cell=[_cell(a, b, c) for a, b, c in rates[["rate", "lo", "hi"]].to_numpy()])
    m = rate_matrix(r, "cell")
    first = next((st for st in m.columns if st.startswith("lead_")), m.columns[0])
    n = rates[rates["step"] == first].set_index("group")["n"]
    m.columns = [step_label(s) if s != "lead_customer" else "Lead → Customer" for s in m.columns]
    return m.assign(Leads=[f"{v:,.0f}" for v in n.reindex(m.index)])[["Leads"] + list(m.columns)].rename_axis(by)


def has_groups(leads: pd.DataFrame, by: str, minimum: int = 2) -> bool:
    """True when ``leads[by]`` exists with at least ``minimum`` distinct values (a breakdown worth showing)."""
    return by in leads.columns and leads[by].nunique(dropna=True) >= minimum


def median_display(med: pd.DataFrame) -> pd.DataFrame:
    """Channel × stage median days from lead creation (rounded), plus customers reached and the KM share
    converting within the horizon."""
    m = med.pivot(index="channel", columns="stage", values="median_days")[
        [s for s in STAGES[1:] if s in set(med["stage"])]
    ]
    m = m.apply(lambda col: [f"{v:.0f}" if np.isfinite(v) else "–" for v in col])
    m.columns = [f"Days to {STAGE_LABELS[s]}" for s in m.columns]
    cust = med[med["stage"] == "customer"].set_index("channel")
    m["Customers so far"] = cust["reached"].reindex(m.index).to_numpy()
    m[f"Converting ≤{HORIZON_DAYS} d"] = [_pct(x, 1) for x in cust["conv_horizon"].reindex(m.index)]
    order = [g for g in m.index if g != "all"] + ["all"]
    return m.loc[order].rename_axis("Channel")


def loss_display(loss: pd.DataFrame) -> pd.DataFrame:
    """Step × (loss now, loss before, change with interval, verdict)."""
    return pd.DataFrame(
        {
            "Step": [step_label(s) for s in loss["step"]],
            "Entries now": loss["entered_now"].to_numpy(),
            "Loss now": [_cell(*r) for r in loss[["loss_now", "loss_now_lo", "loss_now_hi"]].to_numpy()],
            "Loss previous 4 q (same mix)": [_pct(x) for x in loss["loss_prev"]],
            "Change (pp, 90% int.)": [
                f"{100 * c:+.1f} ({100 * lo:+.1f} to {100 * hi:+.1f})" if np.isfinite(c) else "n/a"
                for c, lo, hi in loss[["change", "change_lo", "change_hi"]].to_numpy()
            ],
            "Verdict": np.where(loss["real"], np.where(loss["change"] > 0, "worse", "better"), "within noise"),
        }
    ).set_index("Step")
