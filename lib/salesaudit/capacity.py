"""The team and its lead capacity, and next quarter's lead forecast — one rule for steps 05 and 07.

``active_reps`` · ``team_capacity`` (this quarter) · ``next_quarter_team`` · ``quarterly_leads`` →
``forecast_leads`` / ``next_quarter_forecast`` · ``reps_needed`` (the capacity rule, docs/assumptions.md
"Reps needed next quarter") and ``reps_needed_formula``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesaudit.periods import Quarter, quarter_labels


def active_reps(reps: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Reps employed at some point of ``[start, end)``: start_date < end and (no end_date or end_date ≥ start).

    A missing ``start_date`` counts as "always was"; a missing ``end_date`` as "still employed".
    """
    if reps is None or not len(reps):
        return pd.DataFrame(columns=["rep_id"])
    s = reps["start_date"] if "start_date" in reps.columns else pd.Series(pd.NaT, index=reps.index)
    e = reps["end_date"] if "end_date" in reps.columns else pd.Series(pd.NaT, index=reps.index)
    keep = (s.isna() | (s < end)) & (e.isna() | (e >= start))
    return reps.loc[keep].reset_index(drop=True)


def quarterly_leads(leads: pd.DataFrame, fy_start_month: int = 1) -> pd.Series:
    """Leads created per quarter, indexed by label (``2026Q3``), oldest first."""
    return quarter_labels(leads["created_at"], fy_start_month).value_counts().sort_index()


@dataclass(frozen=True)
class LeadForecast:
    """Next quarter's lead forecast and how it was made."""

    quarter: str
    leads: float
    monthly_leads: float
    method: str
    formula: str


def forecast_leads(counts: pd.Series, target: Quarter) -> LeadForecast:
    """Leads expected in ``target`` from complete quarterly counts before it.

    With ≥ 8 quarters of history: same quarter last year × trailing year-over-year growth, where
    growth = (leads in the last 4 quarters) / (leads in the 4 quarters before those) — seasonal naive
    with drift. With fewer: the mean of the last (up to 4) quarters. Monthly = quarterly ÷ 3.
    """
    hist = [target.previous(i).label for i in range(8, 0, -1)]
    c = counts.reindex(hist)
    if c.notna().all() and c.iloc[:4].sum() > 0:
        growth = float(c.iloc[4:].sum() / c.iloc[:4].sum())
        same = float(c.iloc[4])
        f = same * growth
        formula = (
            f"{target.previous(4).label} leads × growth of the last 4 quarters over the 4 before = "
            f"{same:,.0f} × {growth:.2f} = {f:,.0f}"
        )
        method = "same quarter last year × trailing year-over-year growth"
    else:
        last = c.iloc[4:].dropna()
        f = float(last.mean()) if len(last) else float("nan")
        formula = f"mean of the last {len(last)} quarters = {f:,.0f}"
        method = "mean of the last quarters (less than 2 years of history)"
    return LeadForecast(target.label, f, f / 3, method, formula)


def team_capacity(reps: pd.DataFrame | None, quarter: Quarter) -> tuple[float, float, int]:
    """The team's lead capacity during ``quarter``.

    Per month, Σ ``monthly_lead_capacity`` of the reps employed on the 15th (start_date ≤ 15th ≤
    end_date, missing dates = open); averaged over the quarter's three months. Returns
    (team capacity per month, mean capacity per rep, mean number of reps with a capacity).
    """
    if reps is None or "monthly_lead_capacity" not in reps.columns:
        return float("nan"), float("nan"), 0
    r = reps.loc[reps["monthly_lead_capacity"].fillna(0) > 0]
    mids = np.array([m + pd.Timedelta(days=14) for m in quarter.months()], dtype="datetime64[ns]")
    s = (
        r["start_date"].to_numpy("datetime64[ns]")
        if "start_date" in r.columns
        else np.full(len(r), np.datetime64("NaT"))
    )
    e = r["end_date"].to_numpy("datetime64[ns]") if "end_date" in r.columns else np.full(len(r), np.datetime64("NaT"))
    employed = (np.isnat(s)[None, :] | (s[None, :] <= mids[:, None])) & (
        np.isnat(e)[None, :] | (e[None, :] >= mids[:, None])
    )
    cap = r["monthly_lead_capacity"].to_numpy(float)
    per_month = employed.astype(float) @ cap
    heads = employed.sum(axis=1)
    if heads.sum() == 0:
        return 0.0, float("nan"), 0
    return float(per_month.mean()), float(per_month.sum() / heads.sum()), int(round(heads.mean()))


def next_quarter_reps(reps: pd.DataFrame | None, quarter: Quarter) -> pd.DataFrame:
    """The reps of :func:`next_quarter_team`: still employed on the last day of the audited ``quarter`` with a
    positive ``monthly_lead_capacity`` (``rep_id``, ``team``, dates and capacity; no name). Empty without
    reps or capacities; ``len()`` is the team size :func:`next_quarter_team` counts."""
    if reps is None or "monthly_lead_capacity" not in reps.columns:
        return pd.DataFrame(columns=["rep_id", "monthly_lead_capacity"])
    team = active_reps(reps, quarter.end - pd.Timedelta(days=1), quarter.end)
    team = team.loc[team["monthly_lead_capacity"].notna() & (team["monthly_lead_capacity"] > 0)]
    cols = [c for c in ("rep_id", "team", "start_date", "end_date", "monthly_lead_capacity") if c in team.columns]
    return team[cols].sort_values("rep_id").reset_index(drop=True)


def next_quarter_team(reps: pd.DataFrame | None, quarter: Quarter) -> tuple[int, float, float]:
    """The team that works next quarter's leads: ``(reps, Σ monthly capacity, mean capacity per rep)``.

    Reps still employed on the last day of the audited ``quarter`` with a positive
    ``monthly_lead_capacity`` (:func:`next_quarter_reps`); ``(0, NaN, NaN)`` without reps or capacities.
    Used by steps 05 and 07.
    """
    nan = float("nan")
    if reps is None or "monthly_lead_capacity" not in reps.columns:
        return 0, nan, nan
    team = next_quarter_reps(reps, quarter)
    if not len(team):
        return 0, nan, nan
    cap = float(team["monthly_lead_capacity"].sum())
    return int(len(team)), cap, cap / len(team)


def reps_needed(monthly_leads: float, capacity_per_rep: float, n_reps: int) -> int | None:
    """The audit's one capacity rule (steps 05 and 07; docs/assumptions.md, "Reps needed next quarter").

    reps needed = max(0, ⌈forecast leads per month ÷ mean monthly lead capacity per rep⌉ − active reps),
    the active reps being those employed at the end of the audited quarter (:func:`next_quarter_team`).
    None when the forecast or the capacity is unknown.

    >>> reps_needed(1_950, 150.0, 12)
    1
    """
    if not (np.isfinite(monthly_leads) and np.isfinite(capacity_per_rep) and capacity_per_rep > 0):
        return None
    return int(max(0, math.ceil(float(monthly_leads) / float(capacity_per_rep) - 1e-9) - int(n_reps)))


def reps_needed_formula(monthly_leads: float, capacity_per_rep: float, n_reps: int) -> str:
    """The rule of :func:`reps_needed` written out with its numbers."""
    need = reps_needed(monthly_leads, capacity_per_rep, n_reps)
    return (
        f"reps needed = max(0, ⌈forecast monthly leads / mean capacity per rep⌉ − active reps) = "
        f"max(0, ⌈{monthly_leads:,.0f} / {capacity_per_rep:,.0f}⌉ − {n_reps}) = {need}"
    )


def next_quarter_forecast(leads: pd.DataFrame, quarter: Quarter, fy_start_month: int = 1) -> LeadForecast:
    """Next quarter's lead forecast — the one both steps 05 and 07 plan against (:func:`forecast_leads`
    on the quarterly counts up to the audited ``quarter``)."""
    return forecast_leads(quarterly_leads(leads, fy_start_month), quarter.next())
