"""Step 03 · lead quality — the numbers: cohorts, outcomes, value per lead, score, hand-off, campaigns.

Four questions, one group of functions each:

1. **Value per lead by channel** — SQL rate, win rate, average deal size and revenue per lead of a
   *mature cohort* (:class:`Cohort`): leads created in the 4 quarters ending with the latest one that
   ended ≥ ``horizon_days`` (180) before the audited quarter's end, outcomes counted only within
   ``horizon_days`` of each lead's creation, so every lead in the cohort had the same time to convert.
   Leads of the audited quarter itself are too young.
2. **Lead score** — SQL rate by score band (calibration), AUC (how well the score separates SQL from
   non-SQL), the MQL threshold actually used (1st percentile of the scores of the quarter's MQLs) against
   the threshold the outcomes suggest among the MQLs (maximum of Youden's J, or where the SQL rate reaches
   ``score_breakeven_sql_rate`` when audit.yaml sets it).
3. **Hand-off** — what happened to the quarter's MQLs (accepted / rejected / waiting / never accepted),
   the MQL→SAL delay, disqualify reasons as a Pareto table, MQLs recycled back to marketing.
4. **Campaigns** — lead volume against SQL rate per campaign; high-volume, low-conversion campaigns are
   candidates for nurturing rather than a direct hand-off.

Every function takes frames and returns a new frame (or a small dict or dataclass); nothing is mutated,
nothing is printed, and nothing loops over leads. Sentences, titles and findings built from these results
are in :mod:`.story`; display tables and charts in :mod:`.view`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit import stats
from salesaudit.data.contract import COLUMNS
from salesaudit.periods import Quarter

DAY = pd.Timedelta(days=1)
HORIZON_DAYS = 180
COHORT_QUARTERS = 4
SCORE_EDGES = tuple(range(0, 101, 10))
MQL_THRESHOLD_QUANTILE = 0.01
STALE_DAYS = 30
CAMPAIGN_DAYS = 30
N_BOOT = 1000
BOOT_MAX = 5000  # above this many non-zero values, bootstrap → t interval (same answer, far cheaper)
SEED = 20260
NO_REASON = "(no reason given)"
#: disqualify reasons meaning "not yet" rather than "never": the lead came to sales too early.
TOO_EARLY_PATTERN = r"recycl|nurtur|not[\s_-]*(?:yet|ready)|timing|too[\s_-]*early|later|future|no[\s_-]*project"
HANDOFF_STATES = ("accepted", "rejected", "waiting", "never accepted")


# ==================================================================================================
# cohort
# ==================================================================================================
@dataclass(frozen=True)
class Cohort:
    """Leads created in ``first``…``last`` (inclusive), outcomes counted within ``horizon_days``.

    ``as_of`` is the cut-off of the data (end of the audited quarter). The cohort is *mature* when
    ``last.end + horizon_days <= as_of``: every lead in it has been followed for the full horizon.
    """

    first: Quarter
    last: Quarter
    horizon_days: int
    as_of: pd.Timestamp

    @property
    def start(self) -> pd.Timestamp:
        return self.first.start

    @property
    def end(self) -> pd.Timestamp:
        return self.last.end

    @property
    def quarters(self) -> int:
        return (self.last.year * 4 + self.last.q) - (self.first.year * 4 + self.first.q) + 1

    @property
    def mature(self) -> bool:
        return self.end + self.horizon_days * DAY <= self.as_of + DAY

    @property
    def label(self) -> str:
        if self.first is None:
            return "every lead as exported (an undated snapshot)"
        span = self.first.label if self.first == self.last else f"{self.first.label}–{self.last.label}"
        return f"leads created {span}, outcomes within {self.horizon_days} days of creation"


def value_cohort(quarter: Quarter, horizon_days: int = HORIZON_DAYS, quarters: int = COHORT_QUARTERS) -> Cohort:
    """The mature cohort for auditing ``quarter``.

    last = the latest quarter whose end + ``horizon_days`` ≤ end of ``quarter`` (a 1-day slack absorbs
    quarter lengths of 90–92 days); first = ``quarters − 1`` quarters before it. With the default 180
    days, auditing 2026Q3 (as of 2026-10-01) gives leads created 2025Q2–2026Q1.
    """
    as_of = quarter.end
    last = quarter
    while last.end + horizon_days * DAY > as_of + DAY:
        last = last.previous()
    return Cohort(first=last.previous(quarters - 1), last=last, horizon_days=int(horizon_days), as_of=as_of)


_NUMERIC_COLUMNS = {c.name for cols in COLUMNS.values() for c in cols if c.kind in ("money", "float", "int")}


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    """A column, or an all-missing one of the right kind when the optional column is absent."""
    if name in df.columns:
        return df[name]
    if name.endswith("_at"):
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    if name in _NUMERIC_COLUMNS:
        return pd.Series(np.nan, index=df.index, dtype="float64")
    return pd.Series(pd.NA, index=df.index, dtype="object")


def _within(event: pd.Series, start: pd.Series, days: float, as_of: pd.Timestamp) -> pd.Series:
    """True where ``event`` happened no later than ``start + days`` and before ``as_of``.

    Stage dates earlier than creation (data errors, reported by the data-quality step) still count.
    """
    return (event.notna() & (event <= start + days * DAY) & (event < as_of)).fillna(False).astype(bool)


def lead_outcomes(leads: pd.DataFrame, opportunities: pd.DataFrame | None, cohort: Cohort) -> pd.DataFrame:
    """One row per cohort lead with its outcomes within the horizon.

    Columns: ``lead_id, channel, campaign_id, lead_score, created_at, mql, sql, accepted, customer,
    won_deals, lost_deals, won_amount, has_deals``.

    * ``mql`` / ``sql`` — ``mql_at`` / ``sql_at`` ≤ created_at + horizon (and before ``as_of``);
      ``accepted`` — ``sal_at`` or ``sql_at`` within the horizon.
    * deals — the lead's opportunities (``opportunities.lead_id``) *closed* within the horizon:
      ``won_deals``/``lost_deals`` count them by status, ``won_amount`` sums the amounts of the won ones
      (missing amount → 0). Opportunities still open at the horizon count as neither.
    * ``customer`` — a won deal within the horizon, or ``customer_at`` within it when there are no
      opportunities.
    """
    c = leads.loc[(leads["created_at"] >= cohort.start) & (leads["created_at"] < cohort.end)]
    created = c["created_at"]
    h, as_of = cohort.horizon_days, cohort.as_of
    out = pd.DataFrame(
        {
            "lead_id": c["lead_id"].to_numpy(dtype=object),
            "channel": c["channel"].to_numpy(),
            "campaign_id": _col(c, "campaign_id").to_numpy(),
            "lead_score": _col(c, "lead_score").astype("float64").to_numpy(),
            "created_at": created.to_numpy(),
            "mql": _within(_col(c, "mql_at"), created, h, as_of).to_numpy(),
            "sql": _within(_col(c, "sql_at"), created, h, as_of).to_numpy(),
            "accepted": (
                _within(_col(c, "sal_at"), created, h, as_of) | _within(_col(c, "sql_at"), created, h, as_of)
            ).to_numpy(),
        }
    )
    if opportunities is not None and len(opportunities) and "lead_id" in opportunities.columns:
        keep = [c for c in ("lead_id", "closed_at", "status", "is_won", "amount") if c in opportunities.columns]
        o = (
            opportunities[keep]
            .astype({"lead_id": object})
            .merge(out[["lead_id", "created_at"]].rename(columns={"created_at": "_created"}), on="lead_id", how="inner")
        )
        closed = _within(_col(o, "closed_at"), o["_created"], h, as_of)
        status = o["status"] if "status" in o.columns else _col(o, "is_won").map({True: "won", False: "lost"})
        won = closed & (status == "won").fillna(False).astype(bool)
        lost = closed & (status == "lost").fillna(False).astype(bool)
        return _with_deals(out, o, won, lost)
    cust = _within(_col(c, "customer_at"), created, h, as_of).to_numpy()
    return _without_deals(out, cust)


def _with_deals(out: pd.DataFrame, o: pd.DataFrame, won: pd.Series, lost: pd.Series) -> pd.DataFrame:
    """Per-lead deal outcomes joined to ``out``: ``won_deals``, ``lost_deals`` and ``won_amount`` (the sum of
    the won deals' amounts; NaN for every lead when the deals carry no amounts), ``customer`` = a won deal."""
    priced = "amount" in o.columns and o["amount"].notna().any()
    amount = _col(o, "amount").astype("float64").fillna(0.0) if priced else pd.Series(np.nan, index=o.index)
    per = (
        pd.DataFrame(
            {
                "lead_id": o["lead_id"].to_numpy(dtype=object),
                "won_deals": won.astype(int).to_numpy(),
                "lost_deals": lost.astype(int).to_numpy(),
                "won_amount": amount.where(won, 0.0).to_numpy(),
            }
        )
        .groupby("lead_id", sort=False)
        .sum()
    )
    out = out.join(per, on="lead_id").fillna({"won_deals": 0, "lost_deals": 0, "won_amount": 0.0})
    if not priced:  # a sum over missing amounts is not 0: the money is not in the data
        out = out.assign(won_amount=np.nan)
    out = out.assign(customer=out["won_deals"] > 0, has_deals=True, has_amounts=priced)
    return out.astype({"won_deals": int, "lost_deals": int, "won_amount": float})


def _without_deals(out: pd.DataFrame, customer: np.ndarray) -> pd.DataFrame:
    """No opportunities: a customer is the lead's own customer stage; no win rate, no money."""
    out = out.assign(
        won_deals=customer.astype(int),
        lost_deals=0,
        won_amount=np.nan,
        customer=customer,
        has_deals=False,
        has_amounts=False,
    )
    return out.astype({"won_deals": int, "lost_deals": int, "won_amount": float})


def snapshot_outcomes(leads: pd.DataFrame, opportunities: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`lead_outcomes` for an undated snapshot: every lead as exported, outcomes as they stand.

    ``mql``/``sql``/``customer`` = the lead reached the stage (a date of it or a later stage, or
    ``stage_reached`` at or beyond it — :func:`salesaudit.data.coverage.reached_mask`); ``accepted`` = reached SAL
    (or SQL). Deals: every opportunity of the lead by status (won/lost), whatever its date; ``customer`` is
    a won deal when there are opportunities. No horizon applies: leads still open count as not converted.
    """
    from salesaudit.data.coverage import reached_mask, stage_statuses

    status = stage_statuses(leads)
    out = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(dtype=object),
            "channel": leads["channel"].to_numpy(),
            "campaign_id": _col(leads, "campaign_id").to_numpy(),
            "lead_score": _col(leads, "lead_score").astype("float64").to_numpy(),
            "created_at": _col(leads, "created_at").to_numpy(),
            "mql": reached_mask(leads, "mql").to_numpy(),
            "sql": reached_mask(leads, "sql").to_numpy(),
            "accepted": reached_mask(leads, "sal").to_numpy(),
            "sql_known": status["sql"] != "not recorded",
        }
    )
    cust = reached_mask(leads, "customer").to_numpy()
    if opportunities is not None and len(opportunities) and "lead_id" in opportunities.columns:
        o = opportunities[opportunities["lead_id"].isin(out["lead_id"])]
        status = o["status"] if "status" in o.columns else _col(o, "is_won").map({True: "won", False: "lost"})
        won = (status == "won").fillna(False).astype(bool)
        return _with_deals(out, o, won, (status == "lost").fillna(False).astype(bool))
    return _without_deals(out, cust)


def cohort_outcomes(leads: pd.DataFrame, opportunities: pd.DataFrame | None, cohort: Cohort | None) -> pd.DataFrame:
    """The outcomes the value and score sections use: :func:`lead_outcomes` of ``cohort``, or
    :func:`snapshot_outcomes` of every lead when ``cohort`` is None (undated data has no cohort)."""
    if cohort is None:
        return snapshot_outcomes(leads, opportunities)
    return lead_outcomes(leads, opportunities, cohort)


# ==================================================================================================
# 1. value per lead
# ==================================================================================================
def bootstrap_mean(
    values: np.ndarray,
    n_zero: int = 0,
    n_boot: int = N_BOOT,
    level: float = stats.DEFAULT_LEVEL,
    seed: int = SEED,
    chunk: int = 100,
) -> tuple[float, float, float]:
    """Mean of ``values`` padded with ``n_zero`` zeros, with a seeded Poisson-bootstrap percentile interval.

    Poisson bootstrap (Hanley & MacGibbon 2006): each case gets a Poisson(1) weight per replicate;
    mean* = Σ wᵢxᵢ / Σ wᵢ. The zeros only enter the denominator, whose weight sum is one Poisson(n_zero)
    draw — so revenue per lead over a million leads with a few thousand deals costs a few thousand
    weights per replicate. Above ``BOOT_MAX`` non-zero values the bootstrap and the t interval agree (CLT),
    so the t interval mean ± t·s/√n is returned instead. Returns (mean, lo, hi); NaN interval when there
    are fewer than 2 cases.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x) + int(n_zero)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.sum() / n)
    if n < 2:
        return mean, float("nan"), float("nan")
    if len(x) > BOOT_MAX:  # CLT regime: the t interval, with the zeros' contribution in closed form
        sd = float(np.sqrt(max((np.sum(x * x) - n * mean * mean) / (n - 1), 0.0)))
        half = float(st.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
        return mean, mean - half, mean + half
    rng = np.random.default_rng(seed)
    reps = []
    for start in range(0, n_boot, chunk):  # chunks of replicates bound the memory, not a loop over rows
        b = min(chunk, n_boot - start)
        w = rng.poisson(1.0, size=(b, len(x))) if len(x) else np.zeros((b, 0))
        den = w.sum(axis=1) + rng.poisson(float(n_zero), size=b)
        with np.errstate(divide="ignore", invalid="ignore"):
            reps.append(np.where(den > 0, (w @ x) / den, np.nan))
    r = np.concatenate(reps)
    lo, hi = np.nanquantile(r, [(1 - level) / 2, (1 + level) / 2])
    return mean, float(lo), float(hi)


#: the value columns that need deal amounts (NaN when the data has none)
_MONEY_COLUMNS = (
    "revenue",
    "avg_deal",
    "avg_deal_lo",
    "avg_deal_hi",
    "revenue_per_lead",
    "revenue_per_lead_lo",
    "revenue_per_lead_hi",
    "revenue_per_sql",
)


def value_per_lead(
    outcomes: pd.DataFrame,
    by: str = "channel",
    level: float = stats.DEFAULT_LEVEL,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> pd.DataFrame:
    """Value per lead of a cohort by ``by`` (default channel), plus an ``All`` row last.

    Per group:

    * ``sql_rate`` = SQLs / leads (Wilson interval);
    * ``win_rate`` = won deals / (won + lost deals) closed within the horizon — the usual
      won/(won + lost) convention, open deals excluded (Wilson interval);
    * ``avg_deal`` = won amount / won deals (seeded Poisson-bootstrap percentile interval over deals);
    * ``revenue_per_lead`` = won amount of the group's leads / leads (same bootstrap, over leads; leads
      without a won deal count as 0);
    * ``revenue_per_sql`` = won amount / SQLs (no interval; used to price findings).

    Without opportunity data the deal columns are NaN and ``customer_rate`` = customers / leads.
    Rows are sorted by revenue per lead (then SQL rate), best first.
    """
    o = outcomes
    if len(o) == 0:
        return pd.DataFrame(
            columns=[
                by,
                "leads",
                "sql",
                "sql_rate",
                "sql_rate_lo",
                "sql_rate_hi",
                "customers",
                "customer_rate",
                "won",
                "lost",
                "win_rate",
                "win_rate_lo",
                "win_rate_hi",
                "revenue",
                "avg_deal",
                "avg_deal_lo",
                "avg_deal_hi",
                "revenue_per_lead",
                "revenue_per_lead_lo",
                "revenue_per_lead_hi",
                "revenue_per_sql",
            ]
        )
    grouped = o.assign(_n=1, _sql=o["sql"].astype(int), _cust=o["customer"].astype(int))
    agg = (
        grouped.groupby(by, sort=True, observed=True)
        .agg(
            leads=("_n", "sum"),
            sql=("_sql", "sum"),
            customers=("_cust", "sum"),
            won=("won_deals", "sum"),
            lost=("lost_deals", "sum"),
            revenue=("won_amount", "sum"),
        )
        .reset_index()
    )
    total = pd.DataFrame(
        {
            by: ["All"],
            "leads": [len(o)],
            "sql": [int(o["sql"].sum())],
            "customers": [int(o["customer"].sum())],
            "won": [int(o["won_deals"].sum())],
            "lost": [int(o["lost_deals"].sum())],
            "revenue": [float(o["won_amount"].sum())],
        }
    )
    t = pd.concat([agg.astype({by: object}), total], ignore_index=True)
    t = stats.add_rate(t, "sql", "leads", "sql_rate", level)
    t = stats.add_rate(t.assign(_closed=t["won"] + t["lost"]), "won", "_closed", "win_rate", level).drop(
        columns="_closed"
    )
    t = t.assign(customer_rate=t["customers"] / t["leads"])
    has_deals = bool(o["has_deals"].all()) if "has_deals" in o.columns else True
    has_amounts = bool(o["has_amounts"].all()) if "has_amounts" in o.columns else has_deals
    if has_deals and not has_amounts:  # deals without amounts: win rate yes, money no
        t = t.assign(**dict.fromkeys(_MONEY_COLUMNS, np.nan))
    elif has_deals:
        rows = []
        # one bootstrap per group (groups are channels: a handful) — vectorised inside each group
        keys = list(agg[by]) + ["All"]
        for i, key in enumerate(keys):
            g = o if key == "All" else o.loc[o[by] == key]
            deals = g.loc[g["won_deals"] > 0]
            # a lead with several won deals contributes its average deal once per deal
            per_deal = np.repeat((deals["won_amount"] / deals["won_deals"]).to_numpy(), deals["won_deals"].to_numpy())
            d = bootstrap_mean(per_deal, 0, n_boot, level, seed + i)
            r = bootstrap_mean(deals["won_amount"].to_numpy(), len(g) - len(deals), n_boot, level, seed + 1000 + i)
            rows.append((*d, *r))
        b = pd.DataFrame(
            rows,
            columns=[
                "avg_deal",
                "avg_deal_lo",
                "avg_deal_hi",
                "revenue_per_lead",
                "revenue_per_lead_lo",
                "revenue_per_lead_hi",
            ],
        )
        t = pd.concat([t.reset_index(drop=True), b], axis=1)
        t = t.assign(revenue_per_sql=np.where(t["sql"] > 0, t["revenue"] / t["sql"].where(t["sql"] > 0, 1), np.nan))
    else:
        t = t.assign(**dict.fromkeys(("win_rate", "win_rate_lo", "win_rate_hi", *_MONEY_COLUMNS), np.nan))
    t = t.assign(sql_known=bool(o["sql_known"].all()) if "sql_known" in o.columns else True)
    body = t.iloc[:-1].sort_values(["revenue_per_lead", "sql_rate"], ascending=False, na_position="last")
    return pd.concat([body, t.iloc[[-1]]], ignore_index=True)


def best_and_worst(value: pd.DataFrame) -> tuple[pd.Series, pd.Series] | None:
    """The channels worth the most and least per lead (:func:`value_per_lead` rows without the total), when
    both have ``stats.MIN_CLAIM_N`` leads and non-overlapping intervals; else None."""
    if value.empty or value["revenue_per_lead"].isna().all():
        return None
    return stats.extremes(value, "revenue_per_lead", "revenue_per_lead_lo", "revenue_per_lead_hi", "leads")


def new_channels(leads: pd.DataFrame, cohort: Cohort, quarter: Quarter, by: str = "channel") -> list[str]:
    """Values of ``by`` with leads in the audited quarter but none in the cohort (too new to value)."""
    now = set(leads.loc[quarter.contains(leads["created_at"]), by].dropna().unique())
    before = set(
        leads.loc[(leads["created_at"] >= cohort.start) & (leads["created_at"] < cohort.end), by].dropna().unique()
    )
    return sorted(map(str, now - before))


# ==================================================================================================
# 2. lead score
# ==================================================================================================
def score_bands(outcomes: pd.DataFrame, edges=SCORE_EDGES, level: float = stats.DEFAULT_LEVEL) -> pd.DataFrame:
    """SQL rate per score band — the calibration of the lead score.

    Bands are ``[a, b)`` on ``edges`` (the last band includes its upper edge). Per band: ``leads``,
    ``sql``, ``sql_rate`` = sql / leads with Wilson interval, ``mql_share`` = MQLs / leads, and
    ``lift`` = band SQL rate / overall SQL rate of the scored leads. Leads without a score are left out.
    A well-calibrated score has SQL rates rising with the band.
    """
    s = outcomes.loc[outcomes["lead_score"].notna()]
    edges = np.asarray(edges, dtype=float)
    labels = [f"{a:g}–{b:g}" for a, b in zip(edges[:-1], edges[1:])]
    idx = np.clip(np.searchsorted(edges, s["lead_score"].to_numpy(), side="right") - 1, 0, len(edges) - 2)
    k = np.bincount(idx, weights=s["sql"].to_numpy(float), minlength=len(labels))
    n = np.bincount(idx, minlength=len(labels)).astype(float)
    m = np.bincount(idx, weights=s["mql"].to_numpy(float), minlength=len(labels))
    t = pd.DataFrame(
        {
            "band": labels,
            "lo_edge": edges[:-1],
            "hi_edge": edges[1:],
            "leads": n.astype(int),
            "sql": k.astype(int),
            "mql": m.astype(int),
        }
    )
    t = stats.add_rate(t, "sql", "leads", "sql_rate", level)
    base = k.sum() / n.sum() if n.sum() else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return t.assign(mql_share=np.where(n > 0, m / n, np.nan), lift=t["sql_rate"] / base)


def auc_interval(a: float, n_pos: int, n_neg: int, level: float = stats.DEFAULT_LEVEL) -> tuple[float, float]:
    """Hanley & McNeil (1982) interval for an AUC: A ± z·SE, clipped to [0, 1].

    SE² = [A(1−A) + (n₊−1)(Q₁−A²) + (n₋−1)(Q₂−A²)] / (n₊n₋), Q₁ = A/(2−A), Q₂ = 2A²/(1+A).
    """
    if np.isnan(a) or n_pos == 0 or n_neg == 0:
        return float("nan"), float("nan")
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)
    half = stats.z_of(level) * np.sqrt(max(var, 0.0))
    return float(max(a - half, 0.0)), float(min(a + half, 1.0))


def score_auc(outcomes: pd.DataFrame, level: float = stats.DEFAULT_LEVEL) -> dict:
    """AUC of ``lead_score`` for SQL (within the horizon) vs not, on the scored cohort leads.

    AUC = P(score of a random SQL > score of a random non-SQL), ties ½ (``stats.auc``); 0.5 = the score
    does not separate, 1 = perfect. Interval: Hanley & McNeil. Returns ``auc, lo, hi, n, n_pos, n_neg``.
    """
    s = outcomes.loc[outcomes["lead_score"].notna()]
    y = s["sql"].to_numpy(bool)
    a = stats.auc(s["lead_score"].to_numpy(float), y)
    lo, hi = auc_interval(a, int(y.sum()), int((~y).sum()), level)
    return {"auc": a, "lo": lo, "hi": hi, "n": len(s), "n_pos": int(y.sum()), "n_neg": int((~y).sum())}


def used_threshold(leads: pd.DataFrame, quarter: Quarter | None, q: float = MQL_THRESHOLD_QUANTILE) -> dict:
    """The MQL score threshold marketing actually applies, inferred from the quarter's MQLs.

    threshold = the ``q`` quantile (default 1st percentile) of ``lead_score`` among leads whose
    ``mql_at`` falls in the quarter — robust to a few manual MQLs below the rule; ``minimum`` is reported
    too. ``below`` counts the MQLs under the inferred threshold. NaN when no scored MQLs.
    """
    score = _col(leads, "lead_score").astype("float64")
    if quarter is None or not _col(leads, "mql_at").notna().any():  # undated: every lead that reached MQL
        from salesaudit.data.coverage import reached_mask

        m = score.loc[reached_mask(leads, "mql") & score.notna()]
        scope = "snapshot"
    else:
        m = score.loc[quarter.contains(_col(leads, "mql_at")) & score.notna()]
        scope = "quarter"
    if m.empty:
        return {"threshold": float("nan"), "minimum": float("nan"), "n": 0, "below": 0, "scope": scope}
    th = float(np.quantile(m.to_numpy(float), q))
    return {"threshold": th, "minimum": float(m.min()), "n": int(len(m)), "below": int((m < th).sum()), "scope": scope}


def _score_hist(score: np.ndarray, y: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of positives and negatives with score in [grid[i], grid[i+1]) (last bin open-ended)."""
    idx = np.clip(np.searchsorted(grid, score, side="right") - 1, 0, len(grid) - 1)
    pos = np.bincount(idx[y], minlength=len(grid)).astype(float)
    neg = np.bincount(idx[~y], minlength=len(grid)).astype(float)
    return pos, neg


def _j_from_hist(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Youden's J(t) for "score ≥ grid[t]" from binned counts (works on a stack of histograms)."""
    tp = np.cumsum(pos[..., ::-1], axis=-1)[..., ::-1]
    fp = np.cumsum(neg[..., ::-1], axis=-1)[..., ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return tp / tp[..., :1] - fp / fp[..., :1]


def handed_over(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The scored cohort leads whose outcome can judge the hand-over line: the MQLs.

    Leads below the MQL threshold are not handed to sales, so their (mostly missing) SQLs say nothing
    about whether they *would* have qualified — comparing them with MQLs measures the gate, not the
    score. When the cohort has no MQLs at all, every scored lead is used.
    """
    s = outcomes.loc[outcomes["lead_score"].notna()]
    return s.loc[s["mql"]] if s["mql"].any() else s


def score_curve(
    outcomes: pd.DataFrame, window: int = 2, min_n: int = 30, level: float = stats.DEFAULT_LEVEL
) -> pd.DataFrame:
    """SQL rate at each integer score, smoothed over ``score ± window`` points.

    rate(t) = Σ SQLs with |round(score) − t| ≤ window / Σ leads with |round(score) − t| ≤ window, Wilson
    interval on the pooled counts; rows only where the pooled count is at least ``min_n``. Pass
    :func:`handed_over` leads to read off the hand-over rule.
    """
    s = outcomes.loc[outcomes["lead_score"].notna()]
    sc = np.clip(np.round(s["lead_score"].to_numpy(float)), 0, 100).astype(int)
    k = np.bincount(sc, weights=s["sql"].to_numpy(float), minlength=101)
    n = np.bincount(sc, minlength=101).astype(float)
    kern = np.ones(2 * window + 1)
    ks, ns = np.convolve(k, kern, "same"), np.convolve(n, kern, "same")
    t = stats.rate_table(ks, ns, level).assign(score=np.arange(101), leads_at=n.astype(int))
    keep = (t["n"] >= max(min_n, 1)) & (t["leads_at"] > 0)
    return t.loc[keep, ["score", "leads_at", "k", "n", "rate", "lo", "hi"]].reset_index(drop=True)


def youden_curve(outcomes: pd.DataFrame, grid=None) -> pd.DataFrame:
    """Sensitivity, 1 − specificity and Youden's J of the rule "hand over when score ≥ t", t on ``grid``.

    TPR(t) = SQLs with score ≥ t / SQLs; FPR(t) = non-SQLs with score ≥ t / non-SQLs;
    J(t) = TPR − FPR (Youden 1950); ``handed`` = share of leads with score ≥ t. Default grid 0, 1, …, 100.
    """
    grid = np.arange(0, 101, 1.0) if grid is None else np.asarray(grid, dtype=float)
    s = outcomes.loc[outcomes["lead_score"].notna()]
    y = s["sql"].to_numpy(bool)
    pos, neg = _score_hist(s["lead_score"].to_numpy(float), y, grid)
    tp = np.cumsum(pos[::-1])[::-1]
    fp = np.cumsum(neg[::-1])[::-1]
    nan = np.full(len(grid), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = tp / tp[0] if tp[0] else nan
        fpr = fp / fp[0] if fp[0] else nan
        handed = (tp + fp) / (tp[0] + fp[0]) if tp[0] + fp[0] else nan
    return pd.DataFrame({"threshold": grid, "tpr": tpr, "fpr": fpr, "j": tpr - fpr, "handed": handed})


def _breakeven_from_hist(
    pos: np.ndarray, neg: np.ndarray, grid: np.ndarray, breakeven: float, window: int
) -> np.ndarray:
    """Index of the first grid score ≥ the lowest populated one whose ±window-smoothed SQL rate reaches
    ``breakeven`` (last index when none does); works on a stack of histograms."""
    kern = np.ones(2 * window + 1)
    conv = lambda a: np.apply_along_axis(lambda r: np.convolve(r, kern, "same"), -1, a)  # noqa: E731
    ks, ns = conv(pos), conv(pos + neg)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(ns > 0, ks / ns, np.nan)
    populated = (pos + neg) > 0
    first = np.argmax(populated, axis=-1)
    idx = np.arange(len(grid))
    ok = (rate >= breakeven) & (idx >= np.expand_dims(first, -1))
    return np.where(ok.any(axis=-1), np.argmax(ok, axis=-1), len(grid) - 1)


def best_threshold(
    outcomes: pd.DataFrame,
    breakeven: float | None = None,
    grid=None,
    window: int = 2,
    n_boot: int = 500,
    level: float = stats.DEFAULT_LEVEL,
    seed: int = SEED,
) -> dict:
    """The score threshold the outcomes suggest, among the leads sales received (:func:`handed_over`).

    Two rules, stated in the returned ``rule``:

    * default — **Youden's J**: t* = argmax over integer t of J(t) = TPR(t) − FPR(t) (ties → lowest t).
      J is maximal where the score's SQL rate crosses the *average* SQL rate of the MQLs (there the
      likelihood ratio f₊/f₋ = 1): above t* a lead is more likely to qualify than the average lead sales
      gets today.
    * with ``breakeven`` (``score_breakeven_sql_rate`` in audit.yaml: the SQL rate at which working a lead
      pays for the sales time, e.g. cost per worked lead ÷ margin per SQL) — the lowest score from which
      the SQL rate, smoothed over ±``window`` points, reaches ``breakeven``.

    Interval: percentile of t* over ``n_boot`` seeded multinomial resamples of the binned SQLs and
    non-SQLs. Returns ``threshold, lo, hi, rule, ref_rate`` (the rate the rule compares with), ``n``.
    """
    grid = np.arange(0, 101, 1.0) if grid is None else np.asarray(grid, dtype=float)
    breakeven = None if breakeven is None else float(breakeven)
    s = handed_over(outcomes)
    y = s["sql"].to_numpy(bool)
    rule = "youden" if breakeven is None else "breakeven"
    nan = {
        "threshold": float("nan"),
        "lo": float("nan"),
        "hi": float("nan"),
        "rule": rule,
        "ref_rate": float("nan") if breakeven is None else float(breakeven),
        "n": len(s),
    }
    if y.sum() == 0 or (~y).sum() == 0:
        return nan
    pos, neg = _score_hist(s["lead_score"].to_numpy(float), y, grid)
    rng = np.random.default_rng(seed)
    bp = rng.multinomial(int(pos.sum()), pos / pos.sum(), size=n_boot).astype(float)
    bn = rng.multinomial(int(neg.sum()), neg / neg.sum(), size=n_boot).astype(float)
    if breakeven is None:
        i = int(np.nanargmax(_j_from_hist(pos, neg)))
        bt = grid[np.nanargmax(_j_from_hist(bp, bn), axis=1)]
        ref = float(y.mean())
    else:
        i = int(_breakeven_from_hist(pos, neg, grid, breakeven, window))
        bt = grid[_breakeven_from_hist(bp, bn, grid, breakeven, window)]
        ref = float(breakeven)
    lo, hi = np.quantile(bt, [(1 - level) / 2, (1 + level) / 2])
    return {"threshold": float(grid[i]), "lo": float(lo), "hi": float(hi), "rule": rule, "ref_rate": ref, "n": len(s)}


def threshold_comparison(
    outcomes: pd.DataFrame,
    used: float,
    best: dict,
    quarters: int | None = COHORT_QUARTERS,
    level: float = stats.DEFAULT_LEVEL,
) -> dict:
    """The leads between the used and the suggested threshold, and how they convert.

    band = scored cohort leads with min(used, t*) ≤ score < max(used, t*). ``direction`` is ``"too low"``
    when the used threshold is below t* (sales receives leads converting below ``best["ref_rate"]``),
    ``"too high"`` when above it, ``"aligned"`` when equal or either is missing. Also ``band_leads``,
    ``band_per_quarter`` = band leads / cohort quarters, ``band_sql_rate`` (+ Wilson ``band_lo``/``band_hi``),
    ``ref_rate`` and ``yield_gap`` = |band SQL rate − ref_rate| (SQLs per lead moved across the line).
    ``quarters`` None (an undated snapshot): ``band_per_quarter`` is the whole band and ``per`` says so.
    """
    s = outcomes.loc[outcomes["lead_score"].notna()]
    t_best = best["threshold"]
    out = {
        "direction": "aligned",
        "band_leads": 0,
        "band_per_quarter": 0.0,
        "band_sql": 0,
        "band_sql_rate": float("nan"),
        "band_lo": float("nan"),
        "band_hi": float("nan"),
        "ref_rate": best.get("ref_rate", float("nan")),
        "yield_gap": 0.0,
        "used": used,
        "best": t_best,
        "per": "a quarter" if quarters else "in the snapshot",
    }
    if np.isnan(used) or np.isnan(t_best) or used == t_best:
        return out
    a, b = min(used, t_best), max(used, t_best)
    band = s.loc[(s["lead_score"] >= a) & (s["lead_score"] < b)]
    k, n = int(band["sql"].sum()), len(band)
    lo, hi = stats.wilson_interval(k, n, level)
    rate = k / n if n else float("nan")
    gap = abs(rate - out["ref_rate"]) if n and not np.isnan(out["ref_rate"]) else 0.0
    out.update(
        {
            "direction": "too low" if used < t_best else "too high",
            "band_leads": n,
            "band_per_quarter": n / quarters if quarters else float(n),
            "band_sql": k,
            "band_sql_rate": rate,
            "band_lo": float(lo),
            "band_hi": float(hi),
            "yield_gap": gap,
        }
    )
    return out


# ==================================================================================================
# 3. hand-off
# ==================================================================================================
def mql_handoff(leads: pd.DataFrame, quarter: Quarter, stale_days: int = STALE_DAYS) -> pd.DataFrame:
    """What happened, by the end of the quarter, to each lead that became MQL in the quarter.

    ``accepted_at`` = first of ``sal_at``/``sql_at`` (an SQL was accepted even if SAL was skipped).
    ``state`` as of ``as_of`` = quarter end:

    * ``accepted`` — accepted before as_of;
    * ``rejected`` — not accepted, disqualified before as_of (sales sent it back);
    * ``waiting`` — neither, MQL for ≤ ``stale_days`` days (too young to judge);
    * ``never accepted`` — neither, MQL for more than ``stale_days`` days (nobody picked it up).

    ``delay_days`` = accepted_at − mql_at (NaN unless accepted); ``followed_days`` = as_of − mql_at.
    """
    as_of = quarter.end
    mql_at = _col(leads, "mql_at")
    m = leads.loc[quarter.contains(mql_at)]
    mq = mql_at.loc[m.index]
    acc = pd.concat([_col(m, "sal_at"), _col(m, "sql_at")], axis=1).min(axis=1)
    acc = acc.where(acc < as_of)
    dq = _col(m, "disqualified_at")
    accepted = acc.notna()
    rejected = ~accepted & dq.notna() & (dq < as_of)
    followed = (as_of - mq) / DAY
    state = np.select(
        [accepted.to_numpy(), rejected.to_numpy(), (followed <= stale_days).to_numpy()],
        ["accepted", "rejected", "waiting"],
        "never accepted",
    )
    reason = _col(m, "disqualify_reason").astype("object").where(rejected, None)
    return pd.DataFrame(
        {
            "lead_id": m["lead_id"].to_numpy(),
            "channel": m["channel"].to_numpy(),
            "lead_score": _col(m, "lead_score").astype("float64").to_numpy(),
            "mql_at": mq.to_numpy(),
            "accepted_at": acc.to_numpy(),
            "state": state,
            "reason": reason.to_numpy(),
            "delay_days": ((acc - mq) / DAY).to_numpy(),
            "followed_days": followed.to_numpy(),
        }
    )


def handoff_table(handoff: pd.DataFrame, by: str = "channel", level: float = stats.DEFAULT_LEVEL) -> pd.DataFrame:
    """MQL outcomes per ``by`` plus an ``All`` row: counts and shares of each state, acceptance rate.

    ``accept_rate`` = accepted / (MQLs − waiting), Wilson interval — the MQL→SAL rate among MQLs old
    enough to judge; ``median_delay`` = median MQL→acceptance days of the accepted. Sorted by MQLs.
    """
    cols = [by, "mqls", *HANDOFF_STATES, "accept_rate", "accept_rate_lo", "accept_rate_hi", "median_delay"]
    if handoff.empty:
        return pd.DataFrame(columns=cols)
    ct = pd.crosstab(handoff[by], handoff["state"]).reindex(columns=list(HANDOFF_STATES), fill_value=0)
    ct.loc["All"] = ct.sum()
    delay = handoff.groupby(by)["delay_days"].median()
    delay.loc["All"] = handoff["delay_days"].median()
    t = ct.rename_axis(by).reset_index().rename_axis(None, axis=1)
    t = t.assign(mqls=t[list(HANDOFF_STATES)].sum(axis=1), median_delay=t[by].map(delay).to_numpy())
    t = stats.add_rate(t.assign(_judged=t["mqls"] - t["waiting"]), "accepted", "_judged", "accept_rate", level)
    t = t.drop(columns="_judged")
    body = t.iloc[:-1].sort_values("mqls", ascending=False)
    return pd.concat([body, t.iloc[[-1]]], ignore_index=True)[cols]


def acceptance_curve(handoff: pd.DataFrame) -> pd.DataFrame:
    """Share of MQLs accepted within t days: 1 − Kaplan–Meier S(t).

    Accepted MQLs are events at their delay; all others are censored at ``followed_days`` (the cut-off:
    rejected ones simply never have the event). Columns as ``stats.kaplan_meier`` plus, in the layout
    of ``plots.km_lines``: ``group`` ("all"), ``days``, ``conv`` = 1 − S(t), band ``conv_lo``/``conv_hi``.
    """
    observed = handoff["state"].eq("accepted").to_numpy()
    dur = np.where(
        observed, handoff["delay_days"].clip(lower=0).to_numpy(float), handoff["followed_days"].to_numpy(float)
    )
    km = stats.kaplan_meier(dur, observed)
    return km.assign(group="all", days=km["time"], conv=1 - km["survival"], conv_lo=1 - km["hi"], conv_hi=1 - km["lo"])


def sent_back(leads: pd.DataFrame, quarter: Quarter) -> pd.Series:
    """Mask of MQLs sent back to marketing in the quarter: disqualified in the quarter, had been MQL, and had
    not reached SQL by the disqualification date."""
    dq = _col(leads, "disqualified_at")
    sql = _col(leads, "sql_at")
    return (quarter.contains(dq) & _col(leads, "mql_at").notna() & ~(sql.notna() & (sql <= dq))).astype(bool)


def disqualify_pareto(leads: pd.DataFrame, quarter: Quarter, top: int = 8, mql_only: bool = False) -> pd.DataFrame:
    """Disqualify reasons of the leads disqualified in the quarter, most frequent first (Pareto).

    ``mql_only``: only the MQLs sent back by sales (:func:`sent_back`). Columns ``reason, count, share,
    cum_share, from_mql`` (how many had been MQLs), ``too_early`` (the reason means "not yet" —
    :data:`TOO_EARLY_PATTERN`). share = count / Σ count; cum_share = running sum. Missing reasons are
    "(no reason given)"; reasons beyond the ``top`` most frequent are pooled as "Other" (kept last).
    """
    cols = ["reason", "count", "share", "cum_share", "from_mql", "too_early"]
    mask = sent_back(leads, quarter) if mql_only else quarter.contains(_col(leads, "disqualified_at"))
    d = leads.loc[mask]
    if d.empty:
        return pd.DataFrame(columns=cols)
    reason = _col(d, "disqualify_reason").astype("object").fillna(NO_REASON).astype(str).str.strip()
    reason = reason.mask(reason == "", NO_REASON)
    frame = pd.DataFrame({"reason": reason.to_numpy(), "from_mql": _col(d, "mql_at").notna().to_numpy(int), "count": 1})
    t = frame.groupby("reason").sum().sort_values(["count", "reason"], ascending=[False, True]).reset_index()
    if len(t) > top:
        rest = t.iloc[top:]
        t = pd.concat(
            [
                t.iloc[:top],
                pd.DataFrame(
                    {"reason": ["Other"], "count": [rest["count"].sum()], "from_mql": [rest["from_mql"].sum()]}
                ),
            ],
            ignore_index=True,
        )
    share = t["count"] / t["count"].sum()
    early = t["reason"].str.contains(TOO_EARLY_PATTERN, flags=re.IGNORECASE, regex=True)
    return t.assign(share=share, cum_share=share.cumsum(), too_early=early)[cols]


def recycled(leads: pd.DataFrame, quarter: Quarter, level: float = stats.DEFAULT_LEVEL) -> dict:
    """MQLs sent back to marketing in the quarter.

    recycled = :func:`sent_back` (disqualified in the quarter after MQL, without having reached SQL).
    Returns ``recycled``, ``too_early`` (of those, reason matching :data:`TOO_EARLY_PATTERN`),
    ``too_early_share`` (+ Wilson lo/hi) and ``mqls`` = leads that became MQL in the quarter (scale).
    """
    back = sent_back(leads, quarter)
    reason = _col(leads, "disqualify_reason").astype("object").fillna("").astype(str)
    early = back & reason.str.contains(TOO_EARLY_PATTERN, flags=re.IGNORECASE, regex=True)
    n, k = int(back.sum()), int(early.sum())
    lo, hi = stats.wilson_interval(k, n, level)
    return {
        "recycled": n,
        "too_early": k,
        "too_early_share": k / n if n else float("nan"),
        "lo": float(lo),
        "hi": float(hi),
        "mqls": int(quarter.contains(_col(leads, "mql_at")).sum()),
    }


# ==================================================================================================
# 4. campaigns
# ==================================================================================================
CAMPAIGN_COLUMNS = [
    "campaign_id",
    "name",
    "channel",
    "leads",
    "mature",
    "sql",
    "sql_rate",
    "sql_rate_lo",
    "sql_rate_hi",
    "shrunk",
    "rank_leads",
    "rank_sql",
    "nurture",
]


def campaign_table(
    leads: pd.DataFrame,
    campaigns: pd.DataFrame | None,
    quarter: Quarter,
    days: int = CAMPAIGN_DAYS,
    level: float = stats.DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Campaigns of the quarter: lead volume and SQL rate, ranked both ways.

    * ``leads`` — leads created in the quarter with that ``campaign_id``;
    * ``sql_rate`` = leads reaching SQL within ``days`` days / ``mature`` leads, where mature = created at
      least ``days`` days before the quarter end (so late-quarter leads do not drag a campaign down);
      Wilson interval; ``shrunk`` = empirical-Bayes rate (``stats.shrink_rates``) used for ranking, so a
      campaign with 5 leads is not ranked first on luck;
    * ``rank_leads`` (1 = most leads), ``rank_sql`` (1 = best shrunk SQL rate);
    * ``nurture`` — high volume (leads ≥ the median campaign's) and low conversion (upper interval bound
      below the quarter's overall rate): a candidate for nurturing before hand-off.

    ``name`` and ``channel`` come from ``campaigns`` when given; otherwise channel is the campaign's most
    common lead channel and name is the id. Leads without a campaign are left out.
    """
    as_of = quarter.end
    cid = _col(leads, "campaign_id")
    q = leads.loc[quarter.contains(leads["created_at"]) & cid.notna()]
    if q.empty:
        return pd.DataFrame(columns=CAMPAIGN_COLUMNS)
    mature = q["created_at"] <= as_of - days * DAY
    sql = mature & _within(_col(q, "sql_at"), q["created_at"], days, as_of)
    f = pd.DataFrame(
        {
            "campaign_id": q["campaign_id"].astype(str).to_numpy(),
            "channel": q["channel"].to_numpy(),
            "leads": 1,
            "mature": mature.to_numpy(int),
            "sql": sql.to_numpy(int),
        }
    )
    t = (
        f.groupby("campaign_id")
        .agg(
            leads=("leads", "sum"),
            mature=("mature", "sum"),
            sql=("sql", "sum"),
            lead_channel=("channel", lambda s: s.mode().iloc[0]),
        )
        .reset_index()
    )
    if campaigns is not None and len(campaigns):
        meta = campaigns.assign(campaign_id=campaigns["campaign_id"].astype(str))
        meta = meta[["campaign_id", "channel"] + (["name"] if "name" in meta.columns else [])]
        t = t.merge(meta, on="campaign_id", how="left")
        t = t.assign(channel=t["channel"].fillna(t["lead_channel"]))
        t = t.assign(name=t["name"].fillna(t["campaign_id"]) if "name" in t.columns else t["campaign_id"])
    else:
        t = t.assign(channel=t["lead_channel"], name=t["campaign_id"])
    t = stats.add_rate(t, "sql", "mature", "sql_rate", level)
    sh = stats.shrink_rates(t["sql"].to_numpy(), t["mature"].to_numpy(), level)
    overall = t["sql"].sum() / t["mature"].sum() if t["mature"].sum() else np.nan
    t = t.assign(
        shrunk=sh["shrunk"].to_numpy(),
        rank_leads=t["leads"].rank(ascending=False, method="min").astype(int),
        rank_sql=sh["shrunk"].rank(ascending=False, method="min").astype(int).to_numpy(),
    )
    t = t.assign(nurture=(t["leads"] >= t["leads"].median()) & (t["mature"] > 0) & (t["sql_rate_hi"] < overall))
    cols = CAMPAIGN_COLUMNS
    return (
        t.sort_values(["leads", "campaign_id"], ascending=[False, True])[cols]
        .reset_index(drop=True)
        .assign(overall_rate=overall)
    )
