"""Step 01 · numbers: the lead funnel (lead → MQL → SAL → SQL → customer), its conversion, timing and
leaks, and lead volume. DataFrame in → DataFrame (or a small dict) out; no sentences, no charts.

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
* **Lead volume.** A lead counts in the period of its ``created_at`` (``start ≤ t < end``). Only leads
  created before the audit cut-off (the end of the audited quarter) are used, so re-running an old
  quarter gives the same answer whatever data arrived later.

Sentences and findings built from these numbers are in :mod:`.story`, tables and charts in :mod:`.view`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import stats
from salesaudit.data.contract import LEAD_STAGE_COLUMNS
from salesaudit.deals import average_deal_value  # noqa: F401  (re-exported for step 01)
from salesaudit.periods import Quarter, quarter_labels

STAGES: tuple[str, ...] = ("lead", "mql", "sal", "sql", "customer")
STAGE_COLUMNS: dict[str, str] = dict(zip(STAGES, LEAD_STAGE_COLUMNS))
STEPS: tuple[str, ...] = ("lead_mql", "mql_sal", "sal_sql", "sql_customer")
WINDOW_DAYS = 90
MATURE_DAYS = 180
HORIZON_DAYS = 365
_DAY_NS = 86_400 * 10**9


def stages_of(dates: pd.DataFrame) -> list[str]:
    """The stages a :func:`stage_dates` frame records, in funnel order (``lead`` always first):
    [s ∈ STAGES : s is a column of ``dates``]."""
    return [s for s in STAGES if s in dates.columns]


def _steps(stages: list[str] | tuple[str, ...] = STAGES) -> list[tuple[str, str, str]]:
    """``(name, from, to)`` for each pair of consecutive recorded stages (``mql_sql`` when SAL is not recorded)."""
    return [(f"{a}_{b}", a, b) for a, b in zip(stages[:-1], stages[1:])]


def steps_of(dates: pd.DataFrame) -> list[str]:
    """Step names between the recorded stages of ``dates``: ``f"{a}_{b}"`` for consecutive recorded stages a, b."""
    return [name for name, _, _ in _steps(stages_of(dates))]


def step_key(step: str) -> tuple[int, int]:
    """Sort key putting steps in funnel order: ``"a_b"`` → (index of a, index of b) in :data:`STAGES`."""
    a, b = step.split("_")
    return STAGES.index(a), STAGES.index(b)


def not_recorded(dates: pd.DataFrame) -> list[str]:
    """Stages of the funnel that the data does not record (no date column with values):
    STAGES ∖ :func:`stages_of`."""
    return [s for s in STAGES if s not in dates.columns]


def has_groups(leads: pd.DataFrame, by: str, minimum: int = 2) -> bool:
    """True when ``leads[by]`` exists with at least ``minimum`` distinct values (a breakdown worth showing):
    #{distinct non-missing values of by} ≥ minimum."""
    return by in leads.columns and leads[by].nunique(dropna=True) >= minimum


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
    """:func:`window_conversion` for several cohort quarters, stacked with a ``cohort`` column: for each
    quarter q, conv(q, k) = share of the leads created in q reaching stage k within ``window`` days."""
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

    conv(t) = 1 − S(t) (:func:`km_conversion`) of :func:`time_to_stage`, leads not at ``stage`` censored at
    ``as_of``. One curve per value of ``by`` plus ``all``; columns ``group, days, conv, conv_lo, conv_hi,
    at_risk``, cut at ``max_days``.
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


def cohort_figure(cwin: pd.DataFrame, quarter: Quarter, stage: str = "customer") -> dict:
    """The audited quarter's own cohort: share reaching ``stage`` within the window (``conv, lo, hi, n``), the
    row of :func:`cohort_window_table` with cohort = ``quarter`` (conv = k / n observed, else KM F(window));
    empty when the stage is not recorded."""
    r = cwin[(cwin["cohort"] == quarter.label) & (cwin["stage"] == stage)]
    if r.empty:
        return {}
    r = r.iloc[0]
    return {"conv": r["conv"], "lo": r["lo"], "hi": r["hi"], "n": int(r["n"])}


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
    """Pivot :func:`step_rates` to group × step: cell (g, a_b) = ``value`` of group g at step a → b (steps in
    funnel order, ``lead_customer`` and ``all`` last)."""
    order = sorted(set(rates["step"]) - {"lead_customer"}, key=step_key) + (
        ["lead_customer"] if "lead_customer" in set(rates["step"]) else []
    )
    m = rates.pivot(index="group", columns="step", values=value)[order]
    groups = [g for g in m.index if g != "all"] + (["all"] if "all" in m.index else [])
    return m.loc[groups]


def rate_figure(rates: pd.DataFrame, step: str, group: str = "all") -> dict:
    """One row of :func:`step_rates` as a dict (``rate, lo, hi, n``; rate = k / n with its Wilson interval),
    empty when the step is not measured."""
    r = rates[(rates["group"] == group) & (rates["step"] == step)]
    if r.empty:
        return {}
    r = r.iloc[0]
    return {"rate": r["rate"], "lo": r["lo"], "hi": r["hi"], "n": int(r["n"])}


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
    """Entries into the first stage of each step during the quarter, by channel: ``group, step, entered_now``
    with entered_now(g, a → b) = #{leads of channel g : quarter.start ≤ eff(a) < quarter.end}."""
    rows = []
    for name, a, _ in _steps(stages_of(dates)):
        m = in_period(dates[a], quarter.start, quarter.end)
        c = dates.loc[m, "channel"].value_counts()
        rows.append(pd.DataFrame({"group": c.index.to_numpy(), "step": name, "entered_now": c.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def step_entry_leads(
    dates: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    step: str,
    group: str | None = None,
    known_since: pd.Timestamp | None = None,
    by: str = "channel",
) -> pd.DataFrame:
    """The leads behind an entry count: those entering the first stage ``a`` of ``step`` (``"a_b"``) in
    ``[start, end)`` (eff(a) in the period, as :func:`step_entries` and :func:`step_window_rates` count them).

    ``group``: only leads whose ``by`` column (channel) is ``group`` — ``len()`` = ``entered_now`` of
    :func:`step_entries`. ``known_since``: only the ``by`` groups that also had entries into ``a`` in
    ``[known_since, start)`` — the strata :func:`loss_comparison` compares, so ``len()`` = its
    ``entered_now``. Columns ``lead_id, channel, created_at`` and the effective dates of both stages
    (``<stage>_at``), in order of entry.
    """
    a, b = step.split("_")
    m = in_period(dates[a], start, end)
    if group is not None:
        m &= dates[by] == group
    if known_since is not None:
        seen = dates.loc[in_period(dates[a], known_since, start), by].unique()
        m &= dates[by].isin(seen)
    rows = dates.loc[m]
    out = pd.DataFrame({"lead_id": rows["lead_id"].to_numpy(), "channel": rows["channel"].to_numpy()})
    out["created_at"] = rows["lead"].to_numpy()
    for s in (a, b):
        if s != "lead" and s in rows.columns:
            out[f"{s}_at"] = rows[s].to_numpy()
    key = f"{a}_at" if a != "lead" else "created_at"
    return out.sort_values([key, "lead_id"]).reset_index(drop=True)


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
    steps = sorted(set(now["step"]), key=step_key)
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
    """The step with the largest loss this quarter (argmax loss_now) and the step that got worst against
    the previous quarters (argmax change among the steps with change > 0 whose interval excludes 0; None
    when no change is larger than the noise), each a row of :func:`loss_comparison` as a dict:
    ``{"largest", "worsened"}``."""
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
# lead volume: per month and quarter, this quarter against the previous four, trend and seasonality
# --------------------------------------------------------------------------------------------------
def monthly_leads(leads: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Leads created per calendar month and channel before ``as_of``: wide, month × channel (0 filled),
    months in order without gaps. leads(m, c) = #{leads of channel c : created_at in month m, created_at < as_of}."""
    sub = leads[leads["created_at"] < as_of]
    month = sub["created_at"].dt.to_period("M").dt.to_timestamp()
    wide = pd.crosstab(month, sub["channel"]).rename_axis(index="month", columns="channel")
    if len(wide):
        full = pd.date_range(wide.index.min(), wide.index.max(), freq="MS")
        wide = wide.reindex(full, fill_value=0).rename_axis("month")
    return wide


def quarterly_leads(leads: pd.DataFrame, quarters: list[Quarter]) -> pd.DataFrame:
    """Leads created per quarter (rows, in the given order) and channel (columns) plus ``total``:
    leads(q, c) = #{leads of channel c : q.start ≤ created_at < q.end}; total(q) = Σ_c leads(q, c)."""
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
