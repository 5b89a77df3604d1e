"""Sales effectiveness: each rep, the team, new-rep ramp and lead capacity (audit step 05).

Conventions used throughout (see ``docs/metrics.md``, step 05):

* A rep is an ``owner_id``. Owners that are not in the ``reps`` table are pooled as ``"unknown rep"``
  (when there is no ``reps`` table every owner id is kept as it is; missing owners → ``"unknown rep"``).
* Lead metrics count leads *created* in the window; deal outcomes count opportunities *closed* in the
  window (won / lost by the derived ``status``); opportunity volume counts opportunities *created* in it.
* Rates come with counts and a 90% interval: Wilson for raw rates, the Beta posterior for shrunk ones.
* Windows are half-open, ``start ≤ t < end``.

Everything is vectorised (group-bys over reps, never loops over leads or deals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit import text
from salesaudit.capacity import (
    LeadForecast,
    active_reps,
    next_quarter_team,
    reps_needed,
    reps_needed_formula,
    team_capacity,
)
from salesaudit.claims import extremes, n_is, no_standout
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


def speed_title(speed: pd.DataFrame) -> str:
    """Chart title contrasting the fastest contact bucket with the slowest contacted one.

    Falls back to a plain statement when fewer than two contacted buckets have leads (e.g. an export
    without first-contact times).
    """
    contacted = speed.loc[(speed["bucket"] != "never contacted") & (speed["leads"] > 0)]
    if len(contacted) < 2:
        return "No first-contact times recorded: speed to lead cannot be compared"
    first, last = contacted.iloc[0], contacted.iloc[-1]
    return (
        f"Contacted within {str(first['bucket']).lstrip('≤')}: {text.pct(first['sql_rate'], 0)} reach SQL; "
        f"{last['bucket']}: {text.pct(last['sql_rate'], 0)}"
    )


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


def ramp_sentences(ramp: pd.DataFrame, reference: float) -> list[str]:
    """What this means for the new-rep ramp (``reference`` = the mature win rate)."""
    if not len(ramp):
        return ["No reps with a start date and closed deals: the ramp cannot be measured."]
    early = ramp.loc[ramp["tenure_month"] < RAMP_MONTHS]
    late = ramp.loc[ramp["tenure_month"] >= RAMP_MONTHS]
    out = []
    if len(early) and early["closed"].sum() > 0:
        e = rate_table([early["won"].sum()], [early["closed"].sum()]).iloc[0]
        out.append(
            f"Deals reps open in their first {RAMP_MONTHS} months are won {text.pct(e['rate'])} "
            f"{text.interval(e['lo'], e['hi'])} of the time ({int(e['n']):,} closed deals)."
        )
    if len(late) and late["closed"].sum() > 0:
        l_ = rate_table([late["won"].sum()], [late["closed"].sum()]).iloc[0]
        out.append(
            f"Deals opened from month {RAMP_MONTHS + 1} on: {text.pct(l_['rate'])} {text.interval(l_['lo'], l_['hi'])}."
        )
    m = ramp_month(ramp, reference)
    if m is not None:
        out.append(
            f"New reps reach 90% of the mature win rate ({text.pct(reference)}) with the deals they open from "
            f"month {m} on: plan new hires at reduced quota before that."
        )
    elif np.isfinite(reference):
        out.append(
            f"New reps' deals have not yet reached 90% of the mature win rate ({text.pct(reference)}) in their first year."
        )
    if ramp.loc[ramp["tenure_month"] < MAX_TENURE_MONTH, "closed"].sum() < 100:
        out.append("Few deals come from reps in their first year, so the month-by-month rates are noisy.")
    return out


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


# --------------------------------------------------------------------------------------------------
# findings and sentences (built from the numbers)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    slug: str
    text: str
    impact: float
    recommendation: str
    basis: str


def win_rate_gap_finding(skill: pd.DataFrame, card: pd.DataFrame, currency: str = "EUR") -> Finding | None:
    """Revenue a quarter if the bottom half of reps (by shrunk win rate) won at the team median.

    impact = Σ over bottom-half reps of (median shrunk rate − rep's shrunk rate) × deals the rep closed
    in the quarter × the team's average won deal size in the quarter. Shrunk rates from the long window.
    """
    known = skill.loc[skill["rep_id"] != UNKNOWN_REP]
    if len(known) < 4 or card is None or "closed" not in card.columns:
        return None
    med = float(known["win_rate_shrunk"].median())
    bottom = known.loc[known["win_rate_shrunk"] < med, ["rep_id", "name", "win_rate_shrunk"]]
    q = card.set_index("rep_id")
    closed = bottom["rep_id"].map(q["closed"]).fillna(0)
    avg = float(q["won_revenue"].sum() / max(q["won"].sum(), 1))
    gain = float(((med - bottom["win_rate_shrunk"]) * closed).sum() * avg)
    extra_wins = float(((med - bottom["win_rate_shrunk"]) * closed).sum())
    if gain <= 0:
        return None
    txt = (
        f"The {len(bottom)} reps below the median win rate ({text.pct(med)}) would have won about "
        f"{extra_wins:,.0f} more deals this quarter at the median, worth about {text.money(gain, currency)}."
    )
    return Finding(
        "rep_win_rate_gap",
        txt,
        gain,
        "Pair the bottom-half reps with the top quartile (deal reviews, call shadowing) and track their shrunk win rate quarterly.",
        "extra wins = Σ (team median − rep shrunk win rate) × rep's closed deals this quarter; × team average won deal size",
    )


def capacity_finding(
    plan: CapacityPlan | None, lead_to_win: float, avg_deal: float, currency: str = "EUR"
) -> Finding | None:
    """Revenue at stake next quarter when forecast leads exceed the team's capacity.

    impact = shortfall (leads a month) × 3 × lead→won rate of the audited quarter × average won deal
    size: the revenue of the leads nobody can work properly (an upper bound — some are still worked).
    """
    if plan is None or plan.shortfall <= 0 or not np.isfinite(lead_to_win) or not np.isfinite(avg_deal):
        return None
    impact = plan.shortfall * 3 * lead_to_win * avg_deal
    txt = (
        f"Next quarter ({plan.quarter}) about {plan.forecast_monthly_leads:,.0f} leads a month are expected against a "
        f"capacity of {plan.team_monthly_capacity:,.0f}: {plan.reps_needed} more rep(s) are needed; up to "
        f"{text.money(impact, currency)} of revenue a quarter is at stake."
    )
    return Finding(
        "rep_capacity_shortfall",
        txt,
        impact,
        f"Hire or reassign {plan.reps_needed} rep(s) before {plan.quarter}, or route leads scoring below the MQL threshold to nurture.",
        "uncovered leads (shortfall × 3 months) × lead→won rate this quarter × average won deal size; an upper bound",
    )


def scorecard_sentences(
    team: TeamFigures, prev: TeamFigures | None, card: pd.DataFrame, currency: str = "EUR"
) -> list[str]:
    """What this means for the per-rep scorecard."""
    if team.won + team.lost == 0:
        out = [
            "No deals were closed (won or lost) this quarter, so the win rate, won revenue and sales cycle "
            "cannot be measured."
        ]
    else:
        out = [
            f"The team won {team.won:,} of {team.won + team.lost:,} deals closed this quarter: a win rate of "
            f"{text.pct(team.win_rate)} {text.interval(team.win_rate_lo, team.win_rate_hi)}, "
            + (
                f"{text.money(team.won_revenue, currency)} won"
                if np.isfinite(team.won_revenue)
                else "won revenue not measured (the deals carry no amounts)"
            )
            + f", median cycle {text.days(team.cycle_days)}."
        ]
    if prev is not None and prev.won + prev.lost > 0 and team.won + team.lost > 0:
        from salesaudit.stats import diff_interval

        d, lo, hi = diff_interval(team.won, team.won + team.lost, prev.won, prev.won + prev.lost)
        out.append(
            f"Against last quarter ({text.pct(prev.win_rate)}) the win rate is "
            f"{text.change_word(float(d), float(lo), float(hi))} ({text.pp(float(d))})."
        )
    if "win_rate_shrunk" in card.columns:
        k = card.loc[(card["rep_id"] != UNKNOWN_REP) & (card["closed"] > 0)].sort_values("win_rate_shrunk")
        if len(k) >= 2:
            top, bot = k.iloc[-1], k.iloc[0]
            out.append(
                f"Shrunk toward the team, win rates run from {text.pct(bot['win_rate_shrunk'])} ({bot['name']}, "
                f"{int(bot['won'])} won, {n_is(bot['closed'])} closed) to {text.pct(top['win_rate_shrunk'])} "
                f"({top['name']}, {int(top['won'])} won, {n_is(top['closed'])} closed); reps with few closed deals "
                "sit near the team rate."
            )
            out.append(win_rate_claim(k))
    if "quota_attainment" in card.columns and card["quota_attainment"].notna().any() and np.isfinite(team.won_revenue):
        qa = card["quota_attainment"].dropna()
        out.append(
            f"{int((qa >= 1).sum())} of {len(qa)} reps reached quota (median attainment {text.pct(qa.median(), 0)})."
        )
    unk = card.loc[card["rep_id"] == UNKNOWN_REP]
    if len(unk) and (unk[[c for c in ("leads", "closed") if c in unk.columns]].sum(axis=1) > 0).any():
        u = unk.iloc[0]
        nl, nc = int(u.get("leads", 0) or 0), int(u.get("closed", 0) or 0)
        out.append(
            f"Some records belong to owners missing from the reps table ({nl:,} lead{'s' if nl != 1 else ''}, "
            f"{nc:,} closed deal{'s' if nc != 1 else ''}); they are pooled as “unknown rep”."
        )
    return out


def win_rate_claim(card: pd.DataFrame) -> str:
    """Best vs worst rep by shrunk win rate — claimed only when both have n ≥ MIN_CLAIM_N closed deals and
    their intervals do not overlap (:mod:`salesaudit.claims`); else "no rep stands out"."""
    k = card.loc[(card["rep_id"] != UNKNOWN_REP) & (card["closed"] > 0)]
    c = extremes(k, "win_rate_shrunk", "closed", "win_rate_shrunk_lo", "win_rate_shrunk_hi")
    if c.top is None:
        return "No rep closed a deal, so no rep can be compared."
    if not c.ok:
        return no_standout("rep's win rate", c.ns)
    return (
        f"{c.top['name']} wins the most ({text.pct(c.top['win_rate_shrunk'], 0)}, {n_is(c.top['closed'])} closed) and "
        f"{c.bottom['name']} the least ({text.pct(c.bottom['win_rate_shrunk'], 0)}, {n_is(c.bottom['closed'])}) — "
        "apart beyond the noise."
    )


def win_rate_title(card: pd.DataFrame, quarter_label: str) -> str:
    """Chart title for the win-rate bars: best and worst rep only when the claim rule allows it."""
    k = card.loc[(card["rep_id"] != UNKNOWN_REP) & (card["closed"] > 0)]
    c = extremes(k, "win_rate_shrunk", "closed", "win_rate_shrunk_lo", "win_rate_shrunk_hi")
    if c.ok:
        return (
            f"{c.top['name']} wins most ({text.pct(c.top['win_rate_shrunk'], 0)}, {n_is(c.top['closed'])}), "
            f"{c.bottom['name']} least ({text.pct(c.bottom['win_rate_shrunk'], 0)}, {n_is(c.bottom['closed'])}) "
            f"of deals closed in {quarter_label}"
        )
    return f"No rep's win rate stands out beyond the noise in {quarter_label} ({c.ns} closed deals per rep)"


def archetype_sentences(skill: pd.DataFrame, contrast: pd.DataFrame, window: str) -> list[str]:
    """What this means for the archetypes and the top-quartile contrast."""
    known = skill.loc[skill["archetype"].notna()] if "archetype" in skill.columns else skill.iloc[0:0]
    out = []
    if len(known):
        counts = known["archetype"].str.split(" ").str[0].value_counts()
        out.append(f"Over {window}, reps by archetype: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".")
        c = extremes(known, "win_rate_shrunk", "closed", "win_rate_shrunk_lo", "win_rate_shrunk_hi")
        if c.ok:
            out.append(
                f"Highest shrunk win rate: {c.top['name']} {text.pct(c.top['win_rate_shrunk'])} "
                f"{text.interval(c.top['win_rate_shrunk_lo'], c.top['win_rate_shrunk_hi'])}, {n_is(c.top['closed'])} "
                f"closed deals; lowest: {c.bottom['name']} {text.pct(c.bottom['win_rate_shrunk'])}, "
                f"{n_is(c.bottom['closed'])} — apart beyond the noise."
            )
        else:
            out.append(no_standout("rep's shrunk win rate", c.ns))
    for _, r in contrast.iterrows():
        if r["metric"] == "speed_to_lead_h" and np.isfinite(r["difference"]):
            word = "faster" if r["difference"] < 0 else "slower"
            out.append(
                f"The top quartile contacts new leads {word}: median {r['top_quartile']:.1f} h vs {r['others']:.1f} h for the others."
            )
        elif r["metric"].startswith("share_") and np.isfinite(r["difference"]) and abs(r["difference"]) >= 0.03:
            what = r["label"].lower().replace("share of ", "")
            more = "more" if r["difference"] > 0 else "fewer"
            out.append(
                f"A larger share of their activities are {what}: {text.pct(r['top_quartile'])} vs {text.pct(r['others'])}."
                if more == "more"
                else f"A smaller share of their activities are {what}: {text.pct(r['top_quartile'])} vs {text.pct(r['others'])}."
            )
    return out


def capacity_sentences(plan: CapacityPlan | None, forecast: LeadForecast, load: pd.DataFrame) -> list[str]:
    """What this means for capacity."""
    if not np.isfinite(forecast.leads):
        return [
            f"No complete quarter of leads before {forecast.quarter}, so there is no lead forecast to plan against."
        ]
    out = [
        f"Lead forecast for {forecast.quarter}: {forecast.leads:,.0f} leads ({forecast.monthly_leads:,.0f} a month), "
        f"by {forecast.method}: {forecast.formula}."
    ]
    if plan is None:
        out.append("Without reps and their monthly_lead_capacity the team's capacity cannot be assessed.")
        return out
    over = load.loc[load["utilisation"] > 1]
    now = (
        f"{plan.current_gap:,.0f} leads a month more than the team's capacity of {plan.current_capacity:,.0f} — "
        f"{plan.current_reps_short} rep(s) short"
        if plan.current_gap > 0
        else f"within the team's capacity of {plan.current_capacity:,.0f} ({-plan.current_gap:,.0f} a month to spare)"
    )
    out.append(
        f"In {plan.audited_quarter} the team received {plan.current_monthly_leads:,.0f} leads a month, {now}; "
        f"{len(over)} of {int(load['monthly_lead_capacity'].notna().sum())} active reps got more leads than they can work."
    )
    if plan.shortfall > 0:
        out.append(
            f"The {plan.active_reps} reps can work {plan.team_monthly_capacity:,.0f} leads a month — "
            f"{plan.shortfall:,.0f} short of the forecast: {plan.formula}."
        )
    else:
        out.append(
            f"The {plan.active_reps} reps can work {plan.team_monthly_capacity:,.0f} leads a month, "
            f"{-plan.shortfall:,.0f} more than forecast (utilisation {text.pct(plan.utilisation, 0)}): no extra reps are "
            f"needed; the team could take more leads."
        )
    return out


# --------------------------------------------------------------------------------------------------
# compact display tables
# --------------------------------------------------------------------------------------------------
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
_SHARE_METRICS = {"contact_rate", "sql_rate", "share_call", "share_email", "share_meeting", "share_demo"}


def with_skill(card: pd.DataFrame, skill: pd.DataFrame) -> pd.DataFrame:
    """A window scorecard with the skill table's shrunk win rate (ramp deals excluded) as ``skill_rate``."""
    return card.merge(
        skill[["rep_id", "win_rate_shrunk"]].rename(columns={"win_rate_shrunk": "skill_rate"}), on="rep_id", how="left"
    )


def scorecard_table(card: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """The per-rep scorecard as a compact, rounded display table (strings), best shrunk win rate first."""
    c = (
        card.sort_values("win_rate_shrunk", ascending=False, na_position="last")
        if "win_rate_shrunk" in card.columns
        else card
    )
    c = c.sort_values("rep_id", key=lambda s: s.eq(UNKNOWN_REP), kind="stable")
    out = pd.DataFrame({"Rep": c["name"].to_numpy()})
    out["Leads"] = c["leads"].map(text.num).to_numpy()
    out["Contacted"] = c["contact_rate"].map(text.pct).to_numpy()
    out["Speed to lead"] = c["speed_to_lead_h"].map(lambda v: "n/a" if text.is_missing(v) else f"{v:.1f} h").to_numpy()
    out["Lead→SQL"] = c["sql_rate"].map(text.pct).to_numpy()
    if "won" in c.columns:
        out["Opps"] = c["opportunities"].map(text.num).to_numpy()
        out["Won/closed"] = (c["won"].astype(str) + "/" + c["closed"].astype(str)).to_numpy()
        out["Win rate (raw)"] = c["win_rate"].map(text.pct).to_numpy()
        out["Win rate (shrunk, 90%)"] = [
            "—" if text.is_missing(s) else f"{text.pct(s)} ({text.pct(lo, 0)}–{text.pct(hi, 0)})"
            for s, lo, hi in zip(c["win_rate_shrunk"], c["win_rate_shrunk_lo"], c["win_rate_shrunk_hi"])
        ]
        out["Avg deal"] = c["avg_deal_size"].map(lambda v: text.money(v, currency)).to_numpy()
        out["Cycle"] = c["cycle_days"].map(text.days).to_numpy()
        out["Velocity /day"] = c["sales_velocity"].map(lambda v: text.money(v, currency)).to_numpy()
    if "activities_per_won_deal" in c.columns:
        out["Activities/win"] = c["activities_per_won_deal"].map(lambda v: text.num(v, 1)).to_numpy()
    if "quota_attainment" in c.columns:
        out["Quota"] = c["quota_attainment"].map(lambda v: text.pct(v, 0)).to_numpy()
    return out.set_index("Rep")


def skill_display(skill: pd.DataFrame) -> pd.DataFrame:
    """The skill ranking as a display table."""
    return pd.DataFrame(
        {
            "Rank": skill["rank"].map(lambda v: "–" if text.is_missing(v) else f"{int(v)}").to_numpy(),
            "Rep": skill["name"].to_numpy(),
            "Won/closed": (
                skill["won"].astype(int).astype(str) + "/" + skill["closed"].astype(int).astype(str)
            ).to_numpy(),
            "Raw win rate": skill["win_rate"].map(text.pct).to_numpy(),
            "Shrunk (90% interval)": [
                f"{text.pct(s)} ({text.pct(lo, 0)}–{text.pct(hi, 0)})"
                for s, lo, hi in zip(skill["win_rate_shrunk"], skill["win_rate_shrunk_lo"], skill["win_rate_shrunk_hi"])
            ],
            "Archetype": skill["archetype"].fillna("–").to_numpy() if "archetype" in skill.columns else "–",
        }
    ).set_index("Rank")


def contrast_display(contrast: pd.DataFrame) -> pd.DataFrame:
    """Top quartile vs the other reps, formatted (shares as %, hours and counts with one decimal)."""

    def f(metric, v):
        return text.pct(v) if metric in _SHARE_METRICS else text.num(v, 1)

    return pd.DataFrame(
        {
            "What": contrast["label"].to_numpy(),
            "Top quartile": [f(m, v) for m, v in zip(contrast["metric"], contrast["top_quartile"])],
            "Other reps": [f(m, v) for m, v in zip(contrast["metric"], contrast["others"])],
            "Difference": [
                text.pp(v) if m in _SHARE_METRICS else (text.num(v, 1) if text.is_missing(v) else f"{v:+.1f}")
                for m, v in zip(contrast["metric"], contrast["difference"])
            ],
        }
    ).set_index("What")


def ramp_display(ramp: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """The ramp curve as a display table."""
    return pd.DataFrame(
        {
            "Month since start": ramp["label"].to_numpy(),
            "Won/closed": (
                ramp["won"].astype(int).astype(str) + "/" + ramp["closed"].astype(int).astype(str)
            ).to_numpy(),
            "Win rate (90% interval)": [
                f"{text.pct(r)} ({text.pct(lo, 0)}–{text.pct(hi, 0)})"
                for r, lo, hi in zip(ramp["win_rate"], ramp["win_rate_lo"], ramp["win_rate_hi"])
            ],
            "Rep-months": ramp["rep_months"].map(text.num).to_numpy(),
            "Won revenue per rep-month": ramp["revenue_per_rep_month"]
            .map(lambda v: text.money(v, currency))
            .to_numpy(),
        }
    ).set_index("Month since start")


def plan_display(plan: CapacityPlan | None, forecast: LeadForecast) -> pd.DataFrame:
    """The capacity plan as a two-column table (what, value)."""
    rows = [("Forecast quarter", forecast.quarter), ("Forecast leads per month", text.num(forecast.monthly_leads))]
    if plan is not None:
        rows += [
            (f"Leads per month, {plan.audited_quarter}", text.num(plan.current_monthly_leads)),
            (f"Team capacity per month, {plan.audited_quarter}", text.num(plan.current_capacity)),
            (f"Reps short in {plan.audited_quarter}", f"{plan.current_reps_short}"),
            ("Active reps (end of quarter)", f"{plan.active_reps}"),
            (f"Team capacity per month, {plan.quarter}", text.num(plan.team_monthly_capacity)),
            ("Mean capacity per rep", text.num(plan.mean_capacity_per_rep)),
            ("Forecast ÷ capacity", text.pct(plan.utilisation, 0)),
            ("Shortfall (leads per month)", text.num(max(plan.shortfall, 0))),
            ("Extra reps needed", f"{plan.reps_needed}"),
        ]
    return pd.DataFrame(rows, columns=["What", "Value"]).set_index("What")
