"""Step 05 · numbers: each rep, the team, new-rep ramp and lead capacity (audit step 05).

Conventions used throughout (see ``docs/metrics.md``, step 05):

* A rep is an ``owner_id``. Owners that are not in the ``reps`` table are pooled as ``"unknown rep"``
  (when there is no ``reps`` table every owner id is kept as it is; missing owners → ``"unknown rep"``).
* Lead metrics count leads *created* in the window; deal outcomes count opportunities *closed* in the
  window (won / lost by the derived ``status``); opportunity volume counts opportunities *created* in it.
* Rates come with counts and a 90% interval: Wilson for raw rates, the Beta posterior for shrunk ones.
* Windows are half-open, ``start ≤ t < end``.

Everything is vectorised (group-bys over reps, never loops over leads or deals). The rules step 05 shares
with other steps stay in the foundations and are used from there: first contact and speed to lead in
:mod:`salesaudit.speed`, the active team, its capacity, the lead forecast and the "reps needed" rule in
:mod:`salesaudit.capacity`. Sentences and findings are in :mod:`.story`, tables and charts in :mod:`.view`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit.capacity import (
    LeadForecast,
    active_reps,
    next_quarter_team,
    reps_needed,
    reps_needed_formula,
    team_capacity,
)
from salesaudit.periods import Quarter
from salesaudit.speed import (
    contact_durations,
    first_contact,
    has_contact_data,
    km_median_hours,
    speed_to_first_contact,
)
from salesaudit.stats import (
    DEFAULT_LEVEL,
    add_rate,
    rate_table,
    shrink_rates,
    total_interval,
)

__all__ = [
    "UNKNOWN_REP",
    "HISTORY_QUARTERS",
    "RAMP_MONTHS",
    "MAX_TENURE_MONTH",
    "ACTIVITY_TYPES",
    "DAYS_PER_MONTH",
    "ARCHETYPES",
    "CONTRAST_METRICS",
    "TeamFigures",
    "CapacityPlan",
    "rep_keys",
    "rep_names",
    "median_interval",
    "lead_stats",
    "deal_stats",
    "shrink_win_rates",
    "sales_velocity",
    "quota_attainment",
    "activity_stats",
    "scorecard",
    "reps_at_quota",
    "team_figures",
    "won_revenue_interval",
    "tenure_months",
    "skill_table",
    "rank_agreement",
    "archetypes",
    "placed_reps",
    "win_rate_spread",
    "top_quartile_contrast",
    "with_skill",
    "speed_buckets",
    "ramp_curve",
    "ramp_reference",
    "ramp_month",
    "new_rep_deals",
    "rep_load",
    "capacity_plan",
    "lead_to_win",
]

UNKNOWN_REP = "unknown rep"

HISTORY_QUARTERS = 8
"""Window (quarters ending with the audited one) for the rep skill ranking and the archetypes."""

RAMP_MONTHS = 3
"""Deals a rep closes in the first ``RAMP_MONTHS`` months after ``start_date`` are left out of the skill ranking."""

MAX_TENURE_MONTH = 12

ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "other")

DAYS_PER_MONTH = 365.25 / 12


# --------------------------------------------------------------------------------------------------
# who is a rep
# --------------------------------------------------------------------------------------------------
def rep_keys(owner_ids: pd.Series, reps: pd.DataFrame | None) -> pd.Series:
    """The rep each row belongs to: its ``owner_id`` when known, else ``"unknown rep"``.

    Known = present in ``reps.rep_id`` (when the reps table exists) and not empty.
    """
    s = owner_ids.astype(object)
    known = s.notna()
    if reps is not None and len(reps):
        known &= s.isin(reps["rep_id"])
    return s.where(known, UNKNOWN_REP).rename("rep_id")


def rep_names(reps: pd.DataFrame | None) -> dict[str, str]:
    """``{rep_id: display name}``; ``"unknown rep"`` maps to itself."""
    out = {UNKNOWN_REP: UNKNOWN_REP}
    if reps is not None and "name" in reps.columns:
        out.update(dict(zip(reps["rep_id"], reps["name"].fillna(reps["rep_id"]))))
    return out


# --------------------------------------------------------------------------------------------------
# small statistics helpers
# --------------------------------------------------------------------------------------------------
def median_interval(x, level: float = DEFAULT_LEVEL) -> tuple[float, float, float]:
    """Median with a distribution-free interval from the order statistics (binomial method).

    For sorted x₍₁₎…x₍ₙ₎ the interval is [x₍ₗ₎, x₍ᵤ₎] with l, u the Binomial(n, ½) quantiles at
    (1 ∓ level)/2 (Conover, *Practical Nonparametric Statistics*, §3.2). NaN for an empty sample.
    """
    v = np.sort(np.asarray(x, dtype=float))
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    lo_i = int(st.binom.ppf((1 - level) / 2, n, 0.5))
    hi_i = int(st.binom.ppf((1 + level) / 2, n, 0.5))
    return float(np.median(v)), float(v[max(lo_i - 1, 0)]), float(v[min(hi_i, n - 1)])


# --------------------------------------------------------------------------------------------------
# per-rep metrics
# --------------------------------------------------------------------------------------------------
def lead_stats(
    leads: pd.DataFrame,
    reps: pd.DataFrame | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    activities: pd.DataFrame | None = None,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Per rep, leads created in ``[start, end)``: assigned, contact rate, speed to lead, SQL rate.

    * leads = leads created in the window with that owner;
    * contact rate = leads with a first contact before ``end`` / leads (Wilson interval);
    * speed to lead = Kaplan–Meier median hours from ``created_at`` to first contact, leads not yet
      contacted censored at ``end`` (:func:`speed_to_first_contact`, the audit's one definition);
    * SQL rate = leads with ``sql_at`` before ``end`` / leads (Wilson interval).

    Columns: ``rep_id, leads, contacted, contact_rate(_lo,_hi), speed_to_lead_h, sql, sql_rate(_lo,_hi)``.
    """
    in_win = (leads["created_at"] >= start) & (leads["created_at"] < end)
    lw = leads.loc[in_win]
    owner = lw["owner_id"] if "owner_id" in lw.columns else pd.Series(None, index=lw.index, dtype=object)
    dur = contact_durations(lw, start, end, activities)
    sql_at = lw["sql_at"] if "sql_at" in lw.columns else pd.Series(pd.NaT, index=lw.index)
    frame = pd.DataFrame(
        {
            "rep_id": rep_keys(owner, reps).to_numpy(),
            "lead": 1,
            "contacted": dur["observed"].to_numpy(int),
            "hours": dur["hours"].to_numpy(float),
            "observed": dur["observed"].to_numpy(bool),
            "sql": (sql_at.notna() & (sql_at < end)).to_numpy(int),
        }
    )
    out = (
        frame.groupby("rep_id", sort=True)
        .agg(leads=("lead", "sum"), contacted=("contacted", "sum"), sql=("sql", "sum"))
        .reset_index()
    )
    # one Kaplan–Meier per rep (a loop over reps, not over leads)
    speed = {
        rep: km_median_hours(g["hours"].to_numpy(), g["observed"].to_numpy())[0]
        for rep, g in frame.groupby("rep_id", sort=True)
    }
    out["speed_to_lead_h"] = out["rep_id"].map(speed).astype(float)
    return out.pipe(add_rate, "contacted", "leads", "contact_rate", level).pipe(
        add_rate, "sql", "leads", "sql_rate", level
    )


def deal_stats(
    opps: pd.DataFrame, reps: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp, level: float = DEFAULT_LEVEL
) -> pd.DataFrame:
    """Per rep: opportunities opened, deals won / lost, win rate, deal size, cycle length, revenue.

    * opportunities = opportunities created in ``[start, end)``;
    * won, lost = opportunities closed in the window with status won / lost;
    * win rate = won / (won + lost) (the standard CRM convention: open deals are not counted), Wilson;
    * won_revenue = Σ amount of deals won in the window; avg_deal_size = won_revenue / won;
    * cycle_days = median days created → closed of the deals won in the window.

    Columns: ``rep_id, opportunities, won, lost, closed, win_rate(_lo,_hi), won_revenue, avg_deal_size,
    cycle_days``.
    """
    o = opps.assign(rep_id=rep_keys(opps["owner_id"], reps).to_numpy())
    closed_at = o["closed_at"] if "closed_at" in o.columns else pd.Series(pd.NaT, index=o.index)
    closed_in = (closed_at >= start) & (closed_at < end)
    created_in = (o["created_at"] >= start) & (o["created_at"] < end)
    won = closed_in & (o["status"] == "won")
    lost = closed_in & (o["status"] == "lost")
    amount = o["amount"] if "amount" in o.columns else pd.Series(np.nan, index=o.index)
    frame = pd.DataFrame(
        {
            "rep_id": o["rep_id"].to_numpy(),
            "opportunities": created_in.to_numpy(int),
            "won": won.to_numpy(int),
            "lost": lost.to_numpy(int),
            "won_amount": amount.where(won, 0.0).fillna(0.0).to_numpy(float),
            "won_sized": (won & amount.notna()).to_numpy(int),
            "cycle": ((closed_at - o["created_at"]).dt.total_seconds() / 86400).where(won).to_numpy(float),
        }
    )
    out = (
        frame.groupby("rep_id", sort=True)
        .agg(
            opportunities=("opportunities", "sum"),
            won=("won", "sum"),
            lost=("lost", "sum"),
            won_revenue=("won_amount", "sum"),
            won_sized=("won_sized", "sum"),
            cycle_days=("cycle", "median"),
        )
        .reset_index()
    )
    out = out.assign(
        closed=out["won"] + out["lost"],
        avg_deal_size=(out["won_revenue"] / out["won_sized"].where(out["won_sized"] > 0)),
        # won deals but none with an amount: revenue unknown, not 0
        won_revenue=out["won_revenue"].where((out["won_sized"] > 0) | (out["won"] == 0)),
    ).drop(columns="won_sized")
    out = out.loc[(out["opportunities"] > 0) | (out["closed"] > 0)].reset_index(drop=True)
    return add_rate(out, "won", "closed", "win_rate", level)


def shrink_win_rates(
    deals: pd.DataFrame, level: float = DEFAULT_LEVEL, exclude: tuple[str, ...] = (UNKNOWN_REP,)
) -> pd.DataFrame:
    """Add ``win_rate_shrunk(_lo,_hi)``: empirical-Bayes win rates pulled toward the team.

    shrunk = (α + won) / (α + β + won + lost), with the Beta(α, β) prior fitted by the method of
    moments to the reps in ``deals`` (``salesaudit.stats.shrink_rates``); the interval is the
    posterior's. Reps named in ``exclude`` (the pooled unknown owner) are shrunk with the same prior
    but do not shape it. A rep with 3 wins of 4 is pulled far toward the team, one with 60 of 100
    barely moves, so small samples cannot top the ranking by luck.
    """
    from salesaudit.stats import fit_beta_prior

    fit = ~deals["rep_id"].isin(exclude)
    prior = fit_beta_prior(deals.loc[fit, "won"], deals.loc[fit, "closed"]) if fit.any() else None
    s = shrink_rates(deals["won"], deals["closed"], level, prior=prior)
    return deals.assign(
        win_rate_shrunk=s["shrunk"].to_numpy(),
        win_rate_shrunk_lo=s["lo"].to_numpy(),
        win_rate_shrunk_hi=s["hi"].to_numpy(),
    )


def sales_velocity(opportunities, avg_deal_size, win_rate, cycle_days) -> np.ndarray:
    """Sales velocity = opportunities × average deal size × win rate ÷ cycle days (money per day).

    The pipeline-velocity convention (e.g. Salesforce, HubSpot): how much revenue a rep's pipeline
    produces per day. NaN when the cycle is unknown or zero.
    """
    o, a, w, c = (np.asarray(x, dtype=float) for x in (opportunities, avg_deal_size, win_rate, cycle_days))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0, o * a * w / c, np.nan)


def quota_attainment(won_revenue, quarterly_quota) -> np.ndarray:
    """Quota attainment = won revenue in the quarter / quarterly quota (NaN without a positive quota)."""
    r = np.asarray(won_revenue, dtype=float)
    q = np.asarray(quarterly_quota, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q > 0, r / q, np.nan)


def activity_stats(
    activities: pd.DataFrame | None, reps: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Per rep, activities in ``[start, end)``: count and the mix (share of each type, 0–1).

    Columns ``rep_id, activities, share_call, share_email, share_meeting, share_demo, share_other``.
    Empty frame when there are no activities.
    """
    cols = ["rep_id", "activities"] + [f"share_{t}" for t in ACTIVITY_TYPES]
    if activities is None or not len(activities):
        return pd.DataFrame(columns=cols)
    a = activities.loc[(activities["occurred_at"] >= start) & (activities["occurred_at"] < end)]
    counts = (
        pd.DataFrame({"rep_id": rep_keys(a["owner_id"], reps).to_numpy(), "type": a["type"].to_numpy()})
        .groupby(["rep_id", "type"], sort=False)
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(ACTIVITY_TYPES), fill_value=0)
        .sort_index()
    )
    total = counts.sum(axis=1)
    shares = counts.div(total.where(total > 0), axis=0).add_prefix("share_")
    out = shares.assign(activities=total).rename_axis("rep_id").reset_index()
    return out[cols]


def scorecard(
    leads: pd.DataFrame,
    opps: pd.DataFrame | None,
    reps: pd.DataFrame | None,
    activities: pd.DataFrame | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """One row per rep for the window: lead, deal, activity metrics, shrunk win rate, velocity, quota.

    Adds ``name``, ``activities_per_won_deal`` = activities in the window ÷ deals won in the window,
    ``sales_velocity`` (with the *shrunk* win rate, so a lucky small sample does not inflate it) and
    ``quota_attainment`` (only for a one-quarter window: won revenue / ``quarterly_quota``).
    Reps with neither leads nor deals in the window are left out.
    """
    card = lead_stats(leads, reps, start, end, activities, level)
    if opps is not None and len(opps):
        deals = shrink_win_rates(deal_stats(opps, reps, start, end, level), level)
        card = card.merge(deals, on="rep_id", how="outer")
    acts = activity_stats(activities, reps, start, end)
    if len(acts):
        card = card.merge(acts, on="rep_id", how="left")
        if "won" in card.columns:
            card["activities_per_won_deal"] = card["activities"] / card["won"].where(card["won"] > 0)
    for c in ("leads", "contacted", "sql", "opportunities", "won", "lost", "closed"):
        if c in card.columns:
            card[c] = card[c].fillna(0).astype(int)
    if "won" in card.columns:
        card["sales_velocity"] = sales_velocity(
            card["opportunities"], card["avg_deal_size"], card["win_rate_shrunk"], card["cycle_days"]
        )
        quota = pd.Series(np.nan, index=card.index)
        if reps is not None and "quarterly_quota" in reps.columns:
            quota = card["rep_id"].map(reps.set_index("rep_id")["quarterly_quota"]).astype(float)
        months = (end - start).days / DAYS_PER_MONTH
        if 2.5 <= months <= 3.5:
            card["quota_attainment"] = quota_attainment(card["won_revenue"], quota)
    card.insert(1, "name", card["rep_id"].map(rep_names(reps)).fillna(card["rep_id"]))
    return card.sort_values("rep_id", key=lambda s: s.eq(UNKNOWN_REP), kind="stable").reset_index(drop=True)


def reps_at_quota(card: pd.DataFrame) -> tuple[float, int] | None:
    """(share of reps at or above quota, reps with a quota) of a one-quarter :func:`scorecard`.

    share = reps with quota_attainment ≥ 1 ÷ reps with a quota_attainment; None when the scorecard has no
    quota attainment (no ``quarterly_quota``, or a window that is not one quarter).
    """
    if "quota_attainment" not in card or not card["quota_attainment"].notna().any():
        return None
    qa = card["quota_attainment"]
    return qa.dropna().ge(1).mean(), int(qa.notna().sum())


@dataclass(frozen=True)
class TeamFigures:
    """Team-level figures of one window (the executive summary's numbers)."""

    won: int
    lost: int
    win_rate: float
    win_rate_lo: float
    win_rate_hi: float
    won_revenue: float
    avg_deal_size: float
    cycle_days: float
    cycle_lo: float
    cycle_hi: float
    n_won: int
    leads: int
    speed_to_lead_h: float
    contact_rate: float


def team_figures(
    leads: pd.DataFrame,
    opps: pd.DataFrame | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    activities: pd.DataFrame | None = None,
    level: float = DEFAULT_LEVEL,
) -> TeamFigures:
    """Team totals: win rate = won / (won + lost) of deals closed in the window (Wilson interval);
    sales cycle = median days created → closed of deals won in the window (order-statistic interval);
    won revenue = Σ amount of deals won in the window (NaN when the deals carry no amounts); speed to
    lead = :func:`speed_to_first_contact` (Kaplan–Meier median, not-yet-contacted leads censored at
    ``end``; NaN without contact data); contact rate = contacted / leads (NaN when no contacts are
    recorded at all, see :func:`has_contact_data`).
    """
    lw = leads.loc[(leads["created_at"] >= start) & (leads["created_at"] < end)]
    fc = first_contact(lw, activities)
    contacted = fc.notna() & (fc < end)
    has_contacts = has_contact_data(leads, activities)
    speed = speed_to_first_contact(leads, start, end, activities)["median_hours"] if has_contacts else float("nan")
    nan = float("nan")
    if opps is None or not len(opps):
        return TeamFigures(
            0,
            0,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            0,
            len(lw),
            speed,
            float(contacted.mean()) if len(lw) and has_contacts else nan,
        )
    closed_in = (opps["closed_at"] >= start) & (opps["closed_at"] < end)
    won = closed_in & (opps["status"] == "won")
    lost = closed_in & (opps["status"] == "lost")
    k, n = int(won.sum()), int(won.sum() + lost.sum())
    r = rate_table([k], [n], level).iloc[0]
    amount = opps["amount"] if "amount" in opps.columns else pd.Series(np.nan, index=opps.index)
    rev = (
        float(amount[won].sum()) if amount[won].notna().any() else (0.0 if k == 0 and "amount" in opps.columns else nan)
    )
    cyc = (opps.loc[won, "closed_at"] - opps.loc[won, "created_at"]).dt.total_seconds() / 86400
    m, mlo, mhi = median_interval(cyc, level)
    return TeamFigures(
        k,
        n - k,
        float(r["rate"]),
        float(r["lo"]),
        float(r["hi"]),
        rev,
        float(amount[won].mean()) if k and amount[won].notna().any() else nan,
        m,
        mlo,
        mhi,
        k,
        len(lw),
        speed,
        float(contacted.mean()) if len(lw) and has_contacts else nan,
    )


def won_revenue_interval(
    opps: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp, level: float = DEFAULT_LEVEL
) -> tuple[float | None, float | None]:
    """Noise interval of the revenue won in ``[start, end)``: compound-Poisson T ± z·√Σamount².

    See :func:`salesaudit.stats.total_interval`. (None, None) without opportunities or amounts.
    """
    if opps is None or not len(opps) or "amount" not in opps.columns:
        return None, None
    won = (opps["closed_at"] >= start) & (opps["closed_at"] < end) & (opps["status"] == "won")
    _, lo, hi = total_interval(opps.loc[won, "amount"].to_numpy(float), level)
    return lo, hi


# --------------------------------------------------------------------------------------------------
# skill ranking and archetypes
# --------------------------------------------------------------------------------------------------
def tenure_months(ts: pd.Series, start_date: pd.Series) -> pd.Series:
    """Whole months since the rep's start: floor((ts − start_date) / 30.44 days); NaN when unknown."""
    d = (ts - start_date).dt.total_seconds() / 86400 / DAYS_PER_MONTH
    return np.floor(d)


def skill_table(
    opps: pd.DataFrame,
    reps: pd.DataFrame | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    ramp_months: int = RAMP_MONTHS,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Shrunk win rate per rep over a long window, leaving out each rep's ramp-up deals.

    Deals closed in ``[start, end)`` count, except those *opened* in the first ``ramp_months`` months
    after the rep's ``start_date`` (a new rep's early deals say little about their skill). Ranked by
    the shrunk win rate (highest = rank 1); the unknown owner is kept but not ranked.
    Columns as :func:`deal_stats` plus ``win_rate_shrunk(_lo,_hi)`` and ``rank``.
    """
    o = opps
    if reps is not None and "start_date" in reps.columns and ramp_months > 0:
        sd = rep_keys(opps["owner_id"], reps).map(reps.set_index("rep_id")["start_date"]).astype("datetime64[ns]")
        ramping = tenure_months(opps["created_at"], sd) < ramp_months
        o = opps.loc[~ramping.fillna(False).to_numpy(bool)]
    deals = shrink_win_rates(deal_stats(o, reps, start, end, level), level)
    deals = deals.loc[deals["closed"] > 0]
    known = deals["rep_id"] != UNKNOWN_REP
    rank = deals.loc[known, "win_rate_shrunk"].rank(ascending=False, method="first")
    deals = deals.assign(rank=rank.reindex(deals.index))
    deals.insert(1, "name", deals["rep_id"].map(rep_names(reps)).fillna(deals["rep_id"]))
    return deals.sort_values(["rank", "rep_id"], na_position="last").reset_index(drop=True)


def rank_agreement(ranked_ids, true_order) -> float:
    """Spearman rank correlation between an estimated order and the true order (common reps only)."""
    est = [r for r in ranked_ids if r in set(true_order)]
    truth = [r for r in true_order if r in set(est)]
    if len(est) < 3:
        return float("nan")
    pos = {r: i for i, r in enumerate(truth)}
    return float(st.spearmanr(np.arange(len(est)), [pos[r] for r in est]).statistic)


ARCHETYPES = {
    (True, True): "Star (high volume, high win rate)",
    (False, True): "Sniper (low volume, high win rate)",
    (True, False): "Grinder (high volume, low win rate)",
    (False, False): "Developing (low volume, low win rate)",
}


def archetypes(table: pd.DataFrame, volume: str = "closed", rate: str = "win_rate_shrunk") -> pd.DataFrame:
    """Place reps on volume × win rate: each axis split at the median of the (known) reps.

    Adds ``high_volume``, ``high_win`` (≥ median) and ``archetype`` (Star / Sniper / Grinder /
    Developing); the unknown owner gets no archetype.
    """
    known = table["rep_id"] != UNKNOWN_REP
    v_med = table.loc[known, volume].median()
    r_med = table.loc[known, rate].median()
    hv = table[volume] >= v_med
    hw = table[rate] >= r_med
    label = pd.Series([ARCHETYPES[(bool(a), bool(b))] for a, b in zip(hv, hw)], index=table.index, dtype=object)
    return table.assign(high_volume=hv, high_win=hw, archetype=label.where(known, None))


def placed_reps(skill: pd.DataFrame) -> pd.DataFrame:
    """The reps :func:`archetypes` placed on volume × win rate (the unknown owner, unplaced, left out)."""
    return skill.loc[skill["archetype"].notna()]


def win_rate_spread(skill: pd.DataFrame) -> float:
    """Spread of the skill ranking = highest − lowest shrunk win rate of the placed reps (:func:`placed_reps`)."""
    known = placed_reps(skill)
    return known["win_rate_shrunk"].max() - known["win_rate_shrunk"].min()


CONTRAST_METRICS = {
    "speed_to_lead_h": "Speed to lead (median hours)",
    "contact_rate": "Contact rate",
    "sql_rate": "Lead → SQL rate",
    "activities_per_won_deal": "Activities per won deal",
    "share_call": "Share of calls",
    "share_email": "Share of e-mails",
    "share_meeting": "Share of meetings",
    "share_demo": "Share of demos",
}


def top_quartile_contrast(card: pd.DataFrame, by: str, metrics: dict[str, str]) -> pd.DataFrame:
    """What the top quartile of reps (by ``by``) does differently: median of each metric, top vs rest.

    Top quartile = known reps with ``by`` ≥ its 75th percentile. ``metrics`` maps column → label.
    Columns ``metric, label, top_quartile, others, difference, n_top, n_others``.
    """
    known = card.loc[(card["rep_id"] != UNKNOWN_REP) & card[by].notna()]
    top = known[by] >= known[by].quantile(0.75)
    rows = [
        {"metric": m, "label": lab, "top_quartile": known.loc[top, m].median(), "others": known.loc[~top, m].median()}
        for m, lab in metrics.items()
        if m in known.columns
    ]
    out = pd.DataFrame(rows, columns=["metric", "label", "top_quartile", "others"])
    return out.assign(difference=out["top_quartile"] - out["others"], n_top=int(top.sum()), n_others=int((~top).sum()))


def with_skill(card: pd.DataFrame, skill: pd.DataFrame) -> pd.DataFrame:
    """A window scorecard with the skill table's shrunk win rate (ramp deals excluded) as ``skill_rate``."""
    return card.merge(
        skill[["rep_id", "win_rate_shrunk"]].rename(columns={"win_rate_shrunk": "skill_rate"}), on="rep_id", how="left"
    )


def speed_buckets(
    leads: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    activities: pd.DataFrame | None = None,
    edges_h: tuple[float, ...] = (1, 24, 72),
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """SQL rate of leads created in the window by speed to lead (hours to first contact).

    Buckets ``≤1 h``, ``1–24 h``, ``24–72 h``, ``>72 h`` and ``never contacted``; rate = leads with
    ``sql_at`` before ``end`` / leads in the bucket (Wilson). Descriptive: fast contact and conversion
    can share causes (better leads are called first).
    """
    lw = leads.loc[(leads["created_at"] >= start) & (leads["created_at"] < end)]
    fc = first_contact(lw, activities)
    hours = ((fc - lw["created_at"]).dt.total_seconds() / 3600).where(fc.notna() & (fc < end))
    bins = [-np.inf, *edges_h, np.inf]
    labels = (
        [f"≤{edges_h[0]:g} h"] + [f"{a:g}–{b:g} h" for a, b in zip(edges_h[:-1], edges_h[1:])] + [f">{edges_h[-1]:g} h"]
    )
    bucket = pd.cut(hours, bins=bins, labels=labels).astype(object).where(hours.notna(), "never contacted")
    sql_at = lw["sql_at"] if "sql_at" in lw.columns else pd.Series(pd.NaT, index=lw.index)
    sql = (sql_at.notna() & (sql_at < end)).astype(int)
    g = (
        pd.DataFrame({"bucket": bucket.to_numpy(), "sql": sql.to_numpy(), "lead": 1})
        .groupby("bucket")[["sql", "lead"]]
        .sum()
    )
    g = g.reindex(labels + ["never contacted"]).dropna().astype(int).rename(columns={"lead": "leads"}).reset_index()
    return add_rate(g, "sql", "leads", "sql_rate", level)


# --------------------------------------------------------------------------------------------------
# new-rep ramp
# --------------------------------------------------------------------------------------------------
def ramp_curve(
    opps: pd.DataFrame,
    reps: pd.DataFrame | None,
    as_of: pd.Timestamp,
    max_month: int = MAX_TENURE_MONTH,
    level: float = DEFAULT_LEVEL,
    data_start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Performance by months since the rep started (all history before ``as_of``).

    Each opportunity is placed in the tenure month in which it was *opened*:
    m = floor((created_at − start_date) / 30.44 days), capped at ``max_month`` ("13+"). Per month:
    deals won / lost (closed before ``as_of``), win rate = won / (won + lost) (Wilson), rep-months
    observed and won revenue per rep-month. A rep-month is observed when the rep was employed through
    it, it ended before ``as_of`` and it began on or after ``data_start`` (default: the first
    opportunity's ``created_at``), so a rep hired before the data begins contributes to late months
    only. Only reps with a ``start_date``.
    """
    cols = [
        "tenure_month",
        "label",
        "won",
        "lost",
        "closed",
        "won_revenue",
        "rep_months",
        "revenue_per_rep_month",
        "win_rate",
        "win_rate_lo",
        "win_rate_hi",
    ]
    if reps is None or "start_date" not in reps.columns or opps is None or not len(opps):
        return pd.DataFrame(columns=cols)
    r = reps.loc[reps["start_date"].notna()]
    sd = opps["owner_id"].map(r.set_index("rep_id")["start_date"]).astype("datetime64[ns]")
    closed = opps["closed_at"].notna() & (opps["closed_at"] < as_of) & opps["status"].isin(["won", "lost"])
    m = tenure_months(opps["created_at"], sd)
    ok = closed & m.notna() & (m >= 0)
    o = opps.loc[ok]
    mm = m[ok].clip(upper=max_month).astype(int)
    amount = o["amount"] if "amount" in o.columns else pd.Series(np.nan, index=o.index)
    won = (o["status"] == "won").astype(int)
    g = (
        pd.DataFrame(
            {
                "tenure_month": mm.to_numpy(),
                "won": won.to_numpy(),
                "lost": 1 - won.to_numpy(),
                "won_revenue": amount.where(won.astype(bool), 0.0).fillna(0.0).to_numpy(),
            }
        )
        .groupby("tenure_month")
        .sum()
    )
    # exposure: completed tenure months per rep before as_of (or end_date) and after data_start
    data_start = opps["created_at"].min() if data_start is None else data_start
    stop = r["end_date"].fillna(as_of).clip(upper=as_of) if "end_date" in r.columns else pd.Series(as_of, index=r.index)
    months_worked = np.floor(
        ((stop - r["start_date"]).dt.total_seconds() / 86400 / DAYS_PER_MONTH).clip(lower=0)
    ).astype(int)
    per_rep = months_worked.to_numpy()
    k = np.arange(per_rep.sum()) - np.repeat(np.cumsum(per_rep) - per_rep, per_rep)  # 0..n-1 per rep
    month_start = np.repeat(r["start_date"].to_numpy(), per_rep) + (k * DAYS_PER_MONTH * 86400).astype("timedelta64[s]")
    seen = month_start >= np.datetime64(pd.Timestamp(data_start))
    exposure = pd.Series(np.minimum(k[seen], max_month)).value_counts()
    g = g.reindex(range(max_month + 1), fill_value=0)
    g = g.assign(closed=g["won"] + g["lost"], rep_months=exposure.reindex(g.index, fill_value=0).to_numpy())
    g = g.assign(revenue_per_rep_month=g["won_revenue"] / g["rep_months"].where(g["rep_months"] > 0))
    g = g.reset_index()
    g.insert(1, "label", [f"{i + 1}" if i < max_month else f"{max_month + 1}+" for i in g["tenure_month"]])
    g = g.loc[g["closed"] > 0].reset_index(drop=True)
    return add_rate(g, "won", "closed", "win_rate", level)[cols]


def ramp_reference(ramp: pd.DataFrame, fallback: float = float("nan")) -> float:
    """The mature win rate new reps should reach: the pooled rate of the last (``13+``) tenure bucket,
    or ``fallback`` when no deals fall there."""
    last = ramp.loc[ramp["tenure_month"] == MAX_TENURE_MONTH]
    if len(last) and last["closed"].iloc[0] > 0:
        return float(last["won"].iloc[0] / last["closed"].iloc[0])
    return fallback


def ramp_month(ramp: pd.DataFrame, reference: float, share: float = 0.9, span: int = 3) -> int | None:
    """First tenure month (1-based) from which new reps win at ≥ ``share`` of the mature rate.

    The rolling win rate of deals opened in months m … m + span − 1 (pooled counts, so a month with
    few deals does not decide alone) is compared with ``share`` × ``reference``; the answer is the
    first m from which every later window gets there (windows without deals are skipped). None when
    no month qualifies or the reference is unknown.
    """
    early = ramp.loc[ramp["tenure_month"] < MAX_TENURE_MONTH, ["tenure_month", "won", "closed"]]
    early = early.set_index("tenure_month").reindex(range(MAX_TENURE_MONTH), fill_value=0)
    if not len(ramp) or not np.isfinite(reference) or early["closed"].sum() == 0:
        return None
    won = early["won"].rolling(span, min_periods=1).sum().shift(-(span - 1))
    closed = early["closed"].rolling(span, min_periods=1).sum().shift(-(span - 1))
    rate = (won / closed.where(closed > 0)).to_numpy()
    ok = np.isnan(rate) | (rate >= share * reference)
    tail_ok = np.flip(np.logical_and.accumulate(np.flip(ok))) & ~np.isnan(rate)
    hit = np.flatnonzero(tail_ok)
    return int(hit[0]) + 1 if len(hit) else None


def new_rep_deals(ramp: pd.DataFrame, months: int = RAMP_MONTHS) -> tuple[int, int]:
    """(won, closed) of the deals reps opened in their first ``months`` months, from :func:`ramp_curve`;
    new-rep win rate = won / closed."""
    early = ramp.loc[ramp["tenure_month"] < months]
    return int(early["won"].sum()), int(early["closed"].sum())


# --------------------------------------------------------------------------------------------------
# capacity
# --------------------------------------------------------------------------------------------------
def rep_load(leads: pd.DataFrame, reps: pd.DataFrame | None, quarter: Quarter) -> pd.DataFrame:
    """Per rep active in the quarter: leads assigned per month vs ``monthly_lead_capacity``.

    leads_per_month = leads created in the quarter owned by the rep ÷ 3; utilisation =
    leads_per_month / monthly_lead_capacity (> 1 = more leads than the rep can work properly).
    Leads of owners outside the active reps appear as "unknown rep" (no capacity); active reps with
    neither leads nor a capacity (e.g. SDRs) are left out.
    """
    cols = ["rep_id", "name", "leads_per_month", "monthly_lead_capacity", "utilisation"]
    active = active_reps(reps, quarter.start, quarter.end)
    lw = leads.loc[quarter.contains(leads["created_at"])]
    owner = lw["owner_id"] if "owner_id" in lw.columns else pd.Series(None, index=lw.index, dtype=object)
    per = rep_keys(owner, active if len(active) else None).value_counts() / 3
    has_cap = active["monthly_lead_capacity"].fillna(0) > 0 if "monthly_lead_capacity" in active.columns else False
    works = active["rep_id"].isin(per.index) | has_cap
    ids = list(active.loc[works, "rep_id"]) + ([UNKNOWN_REP] if UNKNOWN_REP in per.index else [])
    cap = (
        active.set_index("rep_id")["monthly_lead_capacity"]
        if "monthly_lead_capacity" in active.columns
        else pd.Series(dtype=float)
    )
    out = pd.DataFrame({"rep_id": ids})
    out["name"] = out["rep_id"].map(rep_names(reps)).fillna(out["rep_id"])
    out["leads_per_month"] = out["rep_id"].map(per).fillna(0.0).astype(float)
    out["monthly_lead_capacity"] = out["rep_id"].map(cap).astype(float)
    out["utilisation"] = out["leads_per_month"] / out["monthly_lead_capacity"].where(out["monthly_lead_capacity"] > 0)
    return out[cols]


@dataclass(frozen=True)
class CapacityPlan:
    """Lead capacity of the team this quarter and next quarter against the leads."""

    audited_quarter: str
    current_monthly_leads: float
    current_capacity: float
    current_gap: float
    current_reps_short: int
    quarter: str
    active_reps: int
    team_monthly_capacity: float
    mean_capacity_per_rep: float
    forecast_monthly_leads: float
    shortfall: float
    utilisation: float
    reps_needed: int
    formula: str


def capacity_plan(
    reps: pd.DataFrame | None, quarter: Quarter, forecast: LeadForecast, current_monthly_leads: float
) -> CapacityPlan | None:
    """Do we have enough reps — this quarter, and for next quarter's lead forecast?

    This quarter: capacity = :func:`team_capacity`; gap = leads per month − capacity; reps short =
    ⌈max(gap, 0) / mean capacity per rep⌉.
    Next quarter: team = reps still employed at the end of the audited quarter with a
    ``monthly_lead_capacity``; capacity = Σ capacity; shortfall = forecast monthly leads − capacity
    (> 0: not enough reps); reps needed = max(0, ⌈forecast monthly leads / mean capacity per rep⌉ −
    active reps). None when the reps table or the capacity column is missing.
    """
    if reps is None or "monthly_lead_capacity" not in reps.columns:
        return None
    cur_cap, cur_mean, _ = team_capacity(reps, quarter)
    last_day = quarter.end - pd.Timedelta(days=1)
    team = active_reps(reps, last_day, quarter.end)
    team = team.loc[team["monthly_lead_capacity"].notna() & (team["monthly_lead_capacity"] > 0)]
    if not len(team) or not np.isfinite(forecast.monthly_leads):
        return None
    gap = float(current_monthly_leads) - cur_cap
    short = int(math.ceil(max(gap, 0.0) / cur_mean - 1e-9)) if np.isfinite(cur_mean) and cur_mean > 0 else 0
    n, cap, mean_cap = next_quarter_team(reps, quarter)
    need = reps_needed(forecast.monthly_leads, mean_cap, n)
    formula = reps_needed_formula(forecast.monthly_leads, mean_cap, n)
    return CapacityPlan(
        quarter.label,
        float(current_monthly_leads),
        cur_cap,
        gap,
        short,
        forecast.quarter,
        n,
        cap,
        mean_cap,
        forecast.monthly_leads,
        forecast.monthly_leads - cap,
        forecast.monthly_leads / cap,
        need,
        formula,
    )


def lead_to_win(team: TeamFigures) -> float:
    """Lead → won rate of a window = deals won in it ÷ leads created in it (NaN without leads): what a lead
    nobody can work is worth in wins (:func:`.story.capacity_finding`)."""
    return team.won / team.leads if team.leads else float("nan")
