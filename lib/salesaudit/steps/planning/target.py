"""Step 07 — the plan from a revenue target: the reverse funnel, the spend it needs, ROI and reps.

Numbers only (sentences in :mod:`~salesaudit.steps.planning.story`, tables and charts in
:mod:`~salesaudit.steps.planning.view`). Everything is read from step 07's :class:`~.metrics.PlanModel` (today's
stage rates, revenue per new customer and spend→leads curves, with their pre-drawn uncertainty), so the
target plan and the what-if plan rest on one model:

* :func:`hill_inverse` / :func:`spend_for_leads` — the quarterly spend at which a channel's fitted curve gives
  the leads asked for (∞ when the curve saturates below them);
* :func:`target_plan` — for next quarter's revenue target: the revenue, customers, SQLs, MQLs and leads by
  channel (unpaid channels at today's level, the paid channels covering the rest in today's revenue mix), the
  spend that needs, whether it is reachable within :data:`REACH_LIMIT` × this quarter's spend, and whether each
  channel still meets the ROI target; 10–90% intervals over the model's draws;
* :func:`target_reps` — the reps those leads need, by the one capacity rule of step 05
  (:func:`salesaudit.capacity.reps_needed`).

Worked example (a reverse funnel): 100,000 of revenue at 10,000 per customer = 10 customers; at 50%
SQL→customer that is 20 SQLs, at 40% MQL→SQL 50 MQLs, at 25% lead→MQL 200 leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesaudit import capacity
from salesaudit.config import RevenueTarget, revenue_target
from salesaudit.steps.planning.metrics import HI_Q, LO_Q, PlanModel, ResponseFit, expected_leads

__all__ = [
    "REACH_LIMIT",
    "FUNNEL",
    "hill_inverse",
    "spend_for_leads",
    "TargetPlan",
    "target_plan",
    "target_reps",
    "plannable",
    "target_settings",
    "starting_target",
]

#: a channel's spend counts as reachable up to this multiple of its spend in the audited quarter
REACH_LIMIT = 2.0
#: the reverse funnel's stages, top to bottom
FUNNEL: tuple[str, ...] = ("leads", "mql", "sql", "customers")
_BIG = 1e18


def hill_inverse(leads, vmax, k, h) -> np.ndarray:
    """Monthly spend s at which the Hill curve vmax·sʰ ÷ (kʰ + sʰ) gives ``leads`` per month.

    s = k · (y ÷ (vmax − y))^(1/h) for 0 < y < vmax; 0 for y ≤ 0; ∞ for y ≥ vmax (the curve never gets there).
    Inverse of :func:`~salesaudit.steps.planning.metrics.hill`: ``hill(hill_inverse(y, v, k, h), v, k, h) == y``.

    >>> float(hill_inverse(50.0, 100.0, 2000.0, 1.0))
    2000.0
    """
    y, vmax, k, h = (np.asarray(a, dtype=float) for a in (leads, vmax, k, h))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = k * np.power(y / (vmax - y), 1.0 / h)
    return np.where(y <= 0, 0.0, np.where(y >= vmax, np.inf, s))


def spend_for_leads(fit: ResponseFit, leads: float | np.ndarray, season_sum: float, mult=1.0, params=None):
    """Quarterly spend that gives ``leads`` next quarter under ``fit`` (the inverse of step 07's forecast).

    Step 07 forecasts a quarter's leads as Σ_months curve(spend ÷ 3) × seasonal index, so the spend for L leads
    is 3 × curve⁻¹(L ÷ Σ seasonal index): :func:`hill_inverse` for a Hill curve, L ÷ Σ index × cost per lead for
    the constant-cost fallback (÷ ``mult``, its drawn level). ``params``: log-parameter draws (D, 3) of a Hill
    curve instead of its point fit. ∞ where the curve cannot give that many leads.
    """
    y = np.asarray(leads, dtype=float) / season_sum
    if fit.method == "hill":
        th = np.asarray(fit.params if params is None else params, dtype=float)
        v, k, h = np.exp(th[..., 0]), np.exp(th[..., 1]), np.exp(th[..., 2])
        return 3.0 * hill_inverse(y, v, k, h)
    return 3.0 * y * fit.params[0] / np.asarray(mult, dtype=float)


@dataclass
class TargetPlan:
    """The plan for one quarter's revenue target: ``table`` by channel (+ ``Total (paid)``, ``All channels``)."""

    target: float  # revenue target of the quarter
    quarter: str  # the planned quarter's label
    table: pd.DataFrame
    unpaid_revenue: float  # expected revenue of the unpaid channels at today's level
    gap: float  # what the paid channels must bring: max(0, target − unpaid revenue)
    limit: float = REACH_LIMIT

    @property
    def unreachable(self) -> list[str]:
        """Paid channels whose share of the target needs more than ``limit`` × this quarter's spend."""
        t = self.table.loc[self.table["paid"].astype(bool)]
        return [str(c) for c in t.index[~t["reachable"].astype(bool)] if c not in ("Total (paid)", "All channels")]

    @property
    def total(self) -> pd.Series:
        return self.table.loc["All channels"]

    @property
    def paid(self) -> pd.Series:
        return self.table.loc["Total (paid)"]


def _quantiles(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.quantile(np.minimum(x, _BIG), [LO_Q, HI_Q], axis=0)
    return np.where(lo >= _BIG / 10, np.inf, lo), np.where(hi >= _BIG / 10, np.inf, hi)


def target_plan(model: PlanModel, target: float, quarter: str = "", limit: float = REACH_LIMIT) -> TargetPlan:
    """Next quarter's plan for a revenue ``target`` (cohort view: the eventual first-deal revenue of the
    quarter's leads, as step 07's forecast), a reverse funnel under today's rates.

    * unpaid channels bring what they bring at today's level: revenue = leads × Π stage rates × revenue per
      customer (:func:`~.metrics.expected_leads` at no spend);
    * the paid channels cover gap = max(0, target − unpaid revenue), split in their expected revenue mix at
      this quarter's spend (share_c = E[revenue_c] ÷ Σ paid E[revenue]);
    * reverse funnel per paid channel: customers = revenue ÷ revenue per customer; SQL = customers ÷
      p(SQL→customer); MQL = SQL ÷ p(MQL→SQL); leads = MQL ÷ p(lead→MQL);
    * spend = the spend at which the channel's fitted curve gives those leads (:func:`spend_for_leads`);
      reachable when spend ≤ ``limit`` × the channel's spend in the audited quarter (the what-if and the
      optimiser's range; the curves are fitted on the spend observed);
    * return per 1 spent = gross margin × revenue ÷ spend; meets the ROI target when ≥ ``roi_target``.

    Point values use the posterior means of the rates and revenue per customer and the point fit; the 10–90%
    intervals are quantiles of the same formulas over the model's draws (rates, revenue per customer, curve
    parameters, unpaid levels), so they state how well today's history pins the plan down. Columns: ``paid,
    share, revenue, customers, sql, mql, leads`` (each with ``_lo``/``_hi``), ``spend, spend_lo, spend_hi,
    current_spend, spend_limit, reachable, return_per_1, meets_target``.
    """
    ch, paid = model.channels, model.paid
    is_paid = np.array([c in paid for c in ch])
    sn = float(model.season_next().sum())
    p_draw = model.rate_draws  # (D, C, 3)
    v_draw = np.maximum(model.deal_draws, 1e-9)  # (D, C)
    p_pt = p_draw.mean(axis=0)  # (C, 3)
    v_pt = np.maximum(model.deals["mean"].reindex(ch).to_numpy(float), 1e-9)
    cur = model.current_spend.reindex(paid).astype(float)
    lam_cur = expected_leads(model, cur, draws=False)  # (C,) at today's spend (unpaid: their level)
    lam_cur_d = expected_leads(model, cur)  # (D, C)
    rev_cur = lam_cur * p_pt.prod(axis=1) * v_pt
    rev_cur_d = lam_cur_d * p_draw.prod(axis=2) * v_draw
    unpaid_rev = float(rev_cur[~is_paid].sum())
    gap = max(0.0, float(target) - unpaid_rev)
    gap_d = np.maximum(0.0, float(target) - rev_cur_d[:, ~is_paid].sum(axis=1))  # (D,)
    w = np.where(is_paid, rev_cur, 0.0)
    share = w / w.sum() if w.sum() > 0 else np.where(is_paid, 1.0 / max(is_paid.sum(), 1), 0.0)
    # the reverse funnel, point and draws; unpaid channels at today's level
    rev = np.where(is_paid, gap * share, rev_cur)
    rev_d = np.where(is_paid[None, :], gap_d[:, None] * share[None, :], rev_cur_d)
    stages = {"revenue": (rev, rev_d)}
    cust, cust_d = rev / v_pt, rev_d / v_draw
    stages["customers"] = (cust, cust_d)
    sql, sql_d = cust / p_pt[:, 2], cust_d / p_draw[:, :, 2]
    stages["sql"] = (sql, sql_d)
    mql, mql_d = sql / p_pt[:, 1], sql_d / p_draw[:, :, 1]
    stages["mql"] = (mql, mql_d)
    leads, leads_d = mql / p_pt[:, 0], mql_d / p_draw[:, :, 0]
    stages["leads"] = (leads, leads_d)
    # spend for the paid channels' leads
    spend = np.zeros(len(ch))
    spend_d = np.zeros_like(leads_d)
    for j, c in enumerate(ch):
        if not is_paid[j]:
            continue
        f = model.fits[c]
        spend[j] = float(spend_for_leads(f, leads[j], sn))
        if f.method == "hill" and c in model.curve_draws:
            spend_d[:, j] = spend_for_leads(f, leads_d[:, j], sn, params=model.curve_draws[c])
        elif f.method == "hill":
            spend_d[:, j] = spend_for_leads(f, leads_d[:, j], sn)
        else:
            spend_d[:, j] = spend_for_leads(f, leads_d[:, j], sn, mult=model.mult[:, j])
    cur_full = np.array([float(cur.get(c, 0.0)) if p else 0.0 for c, p in zip(ch, is_paid)])
    rows = {}
    for name, (pt, d) in stages.items():
        tot_paid_d, tot_all_d = d[:, is_paid].sum(axis=1), d.sum(axis=1)
        lo, hi = _quantiles(np.column_stack([d, tot_paid_d, tot_all_d]))
        rows[name] = np.concatenate([pt, [pt[is_paid].sum(), pt.sum()]])
        rows[f"{name}_lo"], rows[f"{name}_hi"] = lo, hi
    sp_tot_d = np.where(np.isfinite(spend_d[:, is_paid]).all(axis=1), spend_d[:, is_paid].sum(axis=1), np.inf)
    sp_lo, sp_hi = _quantiles(np.column_stack([spend_d, sp_tot_d, sp_tot_d]))
    sp_tot = float(spend[is_paid].sum()) if np.isfinite(spend[is_paid]).all() else np.inf
    spend_full = np.concatenate([spend, [sp_tot, sp_tot]])
    cur_tot = np.concatenate([cur_full, [cur_full.sum(), cur_full.sum()]])
    paid_full = np.concatenate([is_paid, [True, False]])
    limit_full = limit * cur_tot
    reachable = np.where(paid_full, spend_full <= limit_full + 1e-9, True)
    reachable[len(ch)] = reachable[len(ch) + 1] = bool(np.all(reachable[: len(ch)][is_paid]))
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.where(
            paid_full & np.isfinite(spend_full) & (spend_full > 0),
            model.gross_margin * rows["revenue"] / spend_full,
            np.nan,
        )
    table = pd.DataFrame(
        {
            "paid": paid_full,
            "share": np.concatenate([share, [share.sum(), np.nan]]),
            **rows,
            "spend": np.where(paid_full, spend_full, np.nan),
            "spend_lo": np.where(paid_full, sp_lo, np.nan),
            "spend_hi": np.where(paid_full, sp_hi, np.nan),
            "current_spend": np.where(paid_full, cur_tot, np.nan),
            "spend_limit": np.where(paid_full, limit_full, np.nan),
            "reachable": reachable,
            "return_per_1": ret,
            "meets_target": np.where(paid_full, np.nan_to_num(ret, nan=-1.0) >= model.roi_target, False),
        },
        index=pd.Index([*ch, "Total (paid)", "All channels"], name="channel"),
    )
    table.loc["All channels", ["spend", "spend_lo", "spend_hi", "current_spend", "spend_limit"]] = table.loc[
        "Total (paid)", ["spend", "spend_lo", "spend_hi", "current_spend", "spend_limit"]
    ].to_numpy(float)
    return TargetPlan(float(target), quarter, table, unpaid_rev, gap, limit)


def target_reps(model: PlanModel, plan: TargetPlan) -> dict[str, float | int | None]:
    """The reps the plan's leads need — the one capacity rule of steps 05 and 07.

    all leads = next quarter's lead forecast (:func:`salesaudit.capacity.next_quarter_forecast`, what step 05
    plans against) + the plan's paid leads − the leads the paid channels bring at this quarter's spend (as
    :func:`~.metrics.capacity_check` does for a spend plan); reps needed = :func:`salesaudit.capacity.reps_needed`
    of all leads ÷ 3 per month, with next quarter's team (:func:`salesaudit.capacity.next_quarter_team`).
    ``reps_needed`` is None when capacities or the forecast are unknown.
    """
    cur = model.current_spend.reindex(model.paid).astype(float)
    lam_cur = expected_leads(model, cur, draws=False)
    is_paid = np.array([c in model.paid for c in model.channels])
    delta = float(plan.table["leads"].iloc[: len(model.channels)].to_numpy()[is_paid].sum() - lam_cur[is_paid].sum())
    base = model.forecast_monthly * 3 if np.isfinite(model.forecast_monthly) else float(lam_cur.sum())
    leads = max(0.0, base + delta)
    need = capacity.reps_needed(leads / 3, model.rep_capacity, model.n_reps)
    return {
        "leads": leads,
        "monthly_leads": leads / 3,
        "reps": int(model.n_reps),
        "capacity_per_rep": float(model.rep_capacity),
        "reps_needed": need,
        "formula": capacity.reps_needed_formula(leads / 3, model.rep_capacity, model.n_reps)
        if need is not None
        else "",
    }


def plannable(model: PlanModel | None) -> bool:
    """True when a target can be planned: a spend model with paid channels and a revenue per customer and
    stage rates for every channel (no won deals with an amount → nothing to price customers with)."""
    if model is None or not model.paid:
        return False
    v = model.deals["mean"].reindex(model.channels).to_numpy(float)
    return bool(np.isfinite(v).all() and (v > 0).all() and (model.rate_draws.mean(axis=0) > 0).all())


def target_settings(cfg) -> RevenueTarget | None:
    """``audit.yaml`` ``revenue_target`` (:func:`salesaudit.config.revenue_target`); None when not configured."""
    return revenue_target(cfg)


def starting_target(model: PlanModel, goal: RevenueTarget | None) -> float:
    """Where the planner's target slider starts: the configured target per quarter, else the revenue next
    quarter's leads are expected to bring at this quarter's spend (rounded to 3 significant digits)."""
    if goal is not None:
        return float(goal.per_quarter)
    cur = model.current_spend.reindex(model.paid).astype(float)
    lam = expected_leads(model, cur, draws=False)
    v = np.nan_to_num(model.deals["mean"].reindex(model.channels).to_numpy(float))
    rev = float(np.sum(lam * model.rate_draws.mean(axis=0).prod(axis=1) * v))
    return float(np.round(rev, -int(np.floor(np.log10(rev))) + 2)) if rev > 0 else 0.0
