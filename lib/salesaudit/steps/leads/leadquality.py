"""Lead quality: are the leads good, and are they handed over to sales at the right time?

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

Every function takes frames and returns a new frame (or a small dict); nothing is mutated, nothing is
printed, and nothing loops over leads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit import stats, text
from salesaudit.claims import n_is
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


def value_display(table: pd.DataFrame, by: str = "channel", currency: str = "EUR") -> pd.DataFrame:
    """The compact, rounded table shown in the notebook (rates in %, money rounded)."""
    t = table
    out = pd.DataFrame(
        {
            by.replace("_", " ").capitalize(): t[by],
            "Leads": t["leads"].astype(int),
            "SQL rate %": (100 * t["sql_rate"]).round(1),
            "SQL 90% CI": [_ci_pct(a, b) for a, b in zip(t["sql_rate_lo"], t["sql_rate_hi"])],
            "Won": t["won"].astype(int),
            "Win rate %": (100 * t["win_rate"]).round(1),
            f"Avg deal ({currency})": [_whole(v) for v in t["avg_deal"]],
            f"Revenue/lead ({currency})": [_whole(v) for v in t["revenue_per_lead"]],
            "Revenue/lead 90% CI": [_ci_num(a, b) for a, b in zip(t["revenue_per_lead_lo"], t["revenue_per_lead_hi"])],
        }
    )
    if "sql_known" in t.columns and not bool(t["sql_known"].all()):
        out = out.drop(columns=["SQL rate %", "SQL 90% CI"])
    if t["avg_deal"].isna().all():
        money_cols = [f"Avg deal ({currency})", f"Revenue/lead ({currency})", "Revenue/lead 90% CI"]
        deal_cols = ["Won", "Win rate %"] if t["win_rate"].isna().all() else []
        out = out.drop(columns=money_cols + deal_cols).assign(
            **{"Customer rate %": (100 * t["customer_rate"]).round(1)}
        )
    return out.set_index(out.columns[0])


def _n(k: int, noun: str) -> str:
    """``1 campaign`` / ``3 campaigns``."""
    return f"{k:,} {noun}{'' if k == 1 else 's'}"


def _money(v: float, currency: str = "EUR") -> str:
    """Money with thousands separators in full below a million (``EUR 9,873``), else ``text.money``."""
    return text.money(v, currency) if pd.isna(v) or abs(v) >= 1e6 else f"{currency} {v:,.0f}"


def _whole(v: float) -> str:
    """Money rounded to a whole number with separators; "no won deal" when there is none to average."""
    return "no won deal" if pd.isna(v) else f"{v:,.0f}"


def _ci_pct(lo: float, hi: float) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{100 * lo:.1f}–{100 * hi:.1f}"


def _ci_num(lo: float, hi: float) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{lo:,.0f}–{hi:,.0f}"


_SNAPSHOT = Cohort(first=None, last=None, horizon_days=0, as_of=pd.NaT)  # marker: undated snapshot


def cohort_words(cohort: Cohort | None) -> str:
    """The leads the value and score sections use, in words (an undated snapshot when ``cohort`` is None)."""
    return (cohort or _SNAPSHOT).label


def finding_sentences(findings: list[dict], currency: str) -> list[str]:
    """One sentence per finding with its recommendation and estimated effect (revenue per quarter)."""
    return [
        f"{f['text']} **Recommendation:** {f['recommendation']} "
        f"*Estimated effect {text.money(f['impact'], currency)} a quarter — {f['basis']}.*"
        for f in findings
    ]


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


def value_sentences(
    table: pd.DataFrame,
    cohort: Cohort | None,
    by: str = "channel",
    currency: str = "EUR",
    newer: list[str] | None = None,
) -> list[str]:
    """Sentences for "What this means" of the value-per-lead section, built from the table.

    ``cohort`` None: an undated snapshot (every lead as exported). ``newer``: channels too new to have a
    mature cohort (:func:`new_channels`), named so the reader does not look for them in vain. Best and worst
    are named only when both have ``stats.MIN_CLAIM_N`` leads and their intervals do not overlap."""
    if cohort is None:
        cohort = _SNAPSHOT
    if table.empty:
        return [
            f"No leads in the cohort ({cohort.label}): the data does not go back far enough to value leads "
            f"with {cohort.horizon_days} days of outcomes at this quarter, so this section records nothing."
        ]
    total = table.iloc[-1]
    body = table.iloc[:-1]
    if "sql_known" in table.columns and not bool(table["sql_known"].all()):
        reached = f"{text.pct(total['customer_rate'])} became customers; the SQL stage is not in the data"
    else:
        reached = (
            f"{text.pct(total['sql_rate'])} became SQL {text.interval(total['sql_rate_lo'], total['sql_rate_hi'])}"
        )
    out = [f"Cohort: {cohort.label}. {text.num(total['leads'])} leads, {reached}."]
    if cohort is _SNAPSHOT:
        out.append(
            "The data is an undated snapshot: every lead is counted as it stands, so leads still open count as "
            "not converted and the rates understate what they will reach."
        )
    elif not cohort.mature:
        out.append(
            f"The data does not reach {cohort.horizon_days} days past this cohort, so its outcomes are "
            "still incomplete and rates are understated."
        )
    if table["revenue_per_lead"].notna().any() and len(body):
        fmt = lambda v: _money(v, currency)  # noqa: E731
        ext = best_and_worst(body)
        first = f"A lead is worth {fmt(total['revenue_per_lead'])} on average {text.interval(total['revenue_per_lead_lo'], total['revenue_per_lead_hi'], fmt)}"
        if len(body) == 1:
            out.append(
                first + f" (all leads come from one {by.replace('_', ' ')}, {body.iloc[0][by]}: nothing to compare)."
            )
        elif ext is not None:
            best, worst = ext
            out.append(
                first + f"; {best[by]} leads are worth the most ({fmt(best['revenue_per_lead'])}, "
                f"{n_is(best['leads'])}) and {worst[by]} leads the least ({fmt(worst['revenue_per_lead'])}, "
                f"{n_is(worst['leads'])}) — their intervals do not overlap."
            )
        else:
            out.append(
                first + f"; no {by.replace('_', ' ')} is worth more or less than the others beyond the noise "
                f"(intervals overlap, or fewer than {stats.MIN_CLAIM_N} leads)."
            )
        best = ext[0] if ext is not None else None
        top_sql = body.sort_values("sql_rate", ascending=False).iloc[0]
        if "sql_known" in table.columns and not bool(table["sql_known"].all()):
            best = None
        if best is not None and top_sql[by] != best[by] and top_sql["leads"] >= stats.MIN_CLAIM_N:
            out.append(
                f"The highest SQL rate is {top_sql[by]}'s ({text.pct(top_sql['sql_rate'])}, {n_is(top_sql['leads'])}), but "
                f"{best[by]} earns more per lead: win rate and deal size matter as much as qualification."
            )
        out.append(
            f"Won deals average {fmt(total['avg_deal'])} "
            f"{text.interval(total['avg_deal_lo'], total['avg_deal_hi'], fmt)}, with a win rate of "
            f"{text.pct(total['win_rate'])} (won ÷ won + lost, deals closed within the horizon)."
        )
    elif len(body) and table["win_rate"].notna().any():
        out.append(
            f"The deals carry no amounts: deal size and revenue per lead are not in the data; the win rate is "
            f"{text.pct(total['win_rate'])} {text.interval(total['win_rate_lo'], total['win_rate_hi'])} "
            f"(won ÷ won + lost, {n_is(total['won'] + total['lost'])} closed deals)."
        )
    elif len(body):
        out.append(
            "No opportunity data: win rate, deal size and revenue per lead cannot be computed; the "
            "customer rate comes from the leads' own stage (customer dates or stage reached)."
        )
    if newer:
        out.append(f"Not valued yet (no leads old enough): {', '.join(newer)}.")
    return out


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


def bands_display(bands: pd.DataFrame) -> pd.DataFrame:
    """Compact calibration table: bands without leads are left out (they have no rate to show)."""
    bands = bands[bands["leads"] > 0]
    return pd.DataFrame(
        {
            "Score band": bands["band"],
            "Leads": bands["leads"],
            "SQL": bands["sql"],
            "SQL rate %": (100 * bands["sql_rate"]).round(1),
            "90% CI": [_ci_pct(a, b) for a, b in zip(bands["sql_rate_lo"], bands["sql_rate_hi"])],
            "Lift vs average": bands["lift"].round(2),
            "MQL share %": (100 * bands["mql_share"]).round(0),
        }
    ).set_index("Score band")


def rule_words(best: dict) -> tuple[str, str]:
    """(how the suggested threshold was found, what the band is compared with) for sentences."""
    if best.get("rule") == "breakeven":
        return (
            f"the score from which the SQL rate reaches the break-even {text.pct(best['ref_rate'])}",
            f"the break-even {text.pct(best['ref_rate'])}",
        )
    return (
        "maximum of Youden's J: where the SQL rate crosses the average MQL's",
        f"{text.pct(best['ref_rate'])} for the average MQL",
    )


def score_sentences(bands: pd.DataFrame, auc: dict, auc_mql: dict, used: dict, best: dict, comp: dict) -> list[str]:
    """Sentences for the lead-score section."""
    if auc["n"] == 0:
        return ["No lead scores in the cohort: the score cannot be assessed."]
    out = []
    a = auc["auc"]
    quality = (
        "separates SQLs from the rest well"
        if a >= 0.8
        else "separates SQLs from the rest moderately"
        if a >= 0.7
        else "separates SQLs from the rest only weakly"
        if a >= 0.6
        else "hardly separates SQLs from the rest"
    )
    fmt2 = lambda v: f"{v:.2f}"  # noqa: E731
    out.append(
        f"AUC {a:.2f} {text.interval(auc['lo'], auc['hi'], fmt2)}: the lead score {quality} "
        f"(0.5 = coin toss, 1 = perfect; {text.num(auc['n_pos'])} SQLs, {text.num(auc['n_neg'])} non-SQLs)."
    )
    if auc_mql["n"] and auc_mql["n"] < auc["n"] and not np.isnan(auc_mql["auc"]):
        out.append(
            f"Part of that is the MQL gate itself (leads below it rarely reach sales); among the MQLs alone "
            f"the AUC is {auc_mql['auc']:.2f} {text.interval(auc_mql['lo'], auc_mql['hi'], fmt2)} — the score's "
            "real power to rank the leads sales works."
        )
    used_b = bands.loc[bands["leads"] >= 30]
    used_b = used_b.loc[used_b["sql"].cumsum() > 0]
    if len(used_b) >= 2:
        rates = used_b["sql_rate"].to_numpy()
        rises = np.mean(np.diff(rates) >= 0)
        out.append(
            f"SQL rate goes from {text.pct(rates[0])} in band {used_b['band'].iloc[0]} to "
            f"{text.pct(rates[-1])} in band {used_b['band'].iloc[-1]} and rises in {rises:.0%} of the steps "
            "between bands with ≥ 30 leads"
            + (
                ": the score is well ordered."
                if rises >= 0.8
                else ": the ordering is uneven, the score needs re-weighting."
            )
        )
    how, ref = rule_words(best)
    if not np.isnan(used["threshold"]) and not np.isnan(best["threshold"]):
        out.append(
            f"Marketing hands leads over from a score of about {used['threshold']:.0f} (1st percentile of the "
            f"{used.get('scope', 'quarter')}'s {text.num(used['n'])} MQLs); the outcomes suggest {best['threshold']:.0f} ({how}; "
            f"bootstrap 90% interval {best['lo']:.0f}–{best['hi']:.0f})."
        )
        if best["lo"] <= used["threshold"] <= best["hi"]:
            out.append("The threshold in use lies inside that interval: no evidence it should move.")
        elif comp["direction"] == "too low":
            out.append(
                f"The threshold is too low: MQLs scoring {used['threshold']:.0f} to under {best['threshold']:.0f} "
                f"({text.num(comp['band_per_quarter'])} {comp.get('per', 'a quarter')}) reach SQL at only "
                f"{text.pct(comp['band_sql_rate'])} {text.interval(comp['band_lo'], comp['band_hi'])} against "
                f"{ref}: they reach sales too early."
            )
        elif comp["direction"] == "too high":
            out.append(
                f"The threshold is too high: leads scoring {best['threshold']:.0f} to under {used['threshold']:.0f} "
                f"({text.num(comp['band_per_quarter'])} {comp.get('per', 'a quarter')}) reach SQL at {text.pct(comp['band_sql_rate'])}, "
                f"above {ref}, yet few are handed to sales."
            )
        if best.get("rule") != "breakeven":
            out.append(
                "Leads below the threshold in use were not handed over, so the data cannot show whether a "
                "lower threshold would pay; set `score_breakeven_sql_rate` in audit.yaml to judge the line "
                "against the cost of working a lead instead of against the average MQL."
            )
    elif np.isnan(used["threshold"]):
        out.append("No scored MQLs in the quarter: the threshold in use cannot be inferred.")
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


def handoff_display(table: pd.DataFrame, by: str = "channel") -> pd.DataFrame:
    out = pd.DataFrame({by.replace("_", " ").capitalize(): table[by], "MQLs": table["mqls"]})
    for s in HANDOFF_STATES:
        out[f"{s.capitalize()} %"] = (100 * table[s] / table["mqls"]).round(1)
    out["MQL→SAL rate %"] = (100 * table["accept_rate"]).round(1)
    out["90% CI"] = [_ci_pct(a, b) for a, b in zip(table["accept_rate_lo"], table["accept_rate_hi"])]
    out["Median delay (days)"] = table["median_delay"].round(1)
    return out.set_index(out.columns[0])


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


def pareto_display(p: pd.DataFrame) -> pd.DataFrame:
    """Compact Pareto table (the "Were MQL" column only when it differs from the count)."""
    out = pd.DataFrame(
        {
            "Reason": p["reason"],
            "Leads": p["count"],
            "Share %": (100 * p["share"]).round(1),
            "Cumulative %": (100 * p["cum_share"]).round(1),
            "Were MQL": p["from_mql"],
            "Means 'not yet'": p["too_early"].map({True: "yes", False: ""}),
        }
    ).set_index("Reason")
    return out.drop(columns="Were MQL") if (p["from_mql"] == p["count"]).all() else out


def handoff_sentences(
    table: pd.DataFrame,
    curve: pd.DataFrame,
    pareto: pd.DataFrame,
    rec: dict,
    quarter: Quarter,
    stale_days: int = STALE_DAYS,
    pareto_of: str = "MQLs sent back",
) -> list[str]:
    """Sentences for the hand-off section (``table``/``curve`` None: acceptance not recorded, reasons only)."""
    out: list[str] = []
    if table is not None and table.empty:
        return [f"No lead became MQL in {quarter.label}."]
    if table is not None:
        out += _acceptance_sentences(table, curve, quarter, stale_days)
    return out + _reason_sentences(pareto, rec, pareto_of)


def _acceptance_sentences(table: pd.DataFrame, curve: pd.DataFrame, quarter: Quarter, stale_days: int) -> list[str]:
    a = table.iloc[-1]
    n = a["mqls"]
    out = [
        f"Of {text.num(n)} MQLs in {quarter.label}, sales accepted {text.pct(a['accepted'] / n)}, rejected "
        f"{text.pct(a['rejected'] / n)}, and {text.pct(a['never accepted'] / n)} ({text.num(a['never accepted'])}) "
        f"were never picked up after {stale_days} days; {text.pct(a['waiting'] / n)} are too recent to judge."
    ]
    out.append(
        f"MQL→SAL rate (MQLs old enough to judge): {text.pct(a['accept_rate'])} "
        f"{text.interval(a['accept_rate_lo'], a['accept_rate_hi'])}; accepted MQLs waited a median of "
        f"{text.days(a['median_delay'], 1)}, and {text.pct(1 - stats.km_at(curve, 7))} of MQLs are accepted "
        "within 7 days."
    )
    body = table.iloc[:-1].assign(judged=lambda d: d["mqls"] - d["waiting"])
    ext = stats.extremes(body, "accept_rate", "accept_rate_lo", "accept_rate_hi", "judged") if len(body) >= 2 else None
    if ext is not None:
        hi, lo = ext
        out.append(
            f"Lowest acceptance: {lo.iloc[0]}, {text.pct(lo['accept_rate'])} "
            f"{text.interval(lo['accept_rate_lo'], lo['accept_rate_hi'])} ({n_is(lo['judged'])}); highest: "
            f"{hi.iloc[0]}, {text.pct(hi['accept_rate'])} ({n_is(hi['judged'])})."
        )
    elif len(body) >= 2:
        out.append("No channel's acceptance rate differs from the others beyond the noise.")
    return out


def _reason_sentences(pareto: pd.DataFrame, rec: dict, pareto_of: str) -> list[str]:
    out = []
    if not pareto.empty:
        top = pareto.iloc[0]
        k80 = int((pareto["cum_share"] < 0.8).sum() + 1)
        out.append(
            f"The most common disqualify reason is '{top['reason']}' ({text.pct(top['share'])} of "
            f"{text.num(pareto['count'].sum())} {pareto_of}); {_n(k80, 'reason')} cover 80%."
        )
    if rec["recycled"]:
        out.append(
            f"{text.num(rec['recycled'])} MQLs were sent back to marketing without becoming SQL; "
            f"{text.pct(rec['too_early_share'])} of them for a 'not yet' reason "
            f"{text.interval(rec['lo'], rec['hi'])} — a sign they were handed over too early."
        )
    return out


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


def campaign_display(t: pd.DataFrame, top: int = 12) -> pd.DataFrame:
    """The ``top`` campaigns by leads plus every nurture candidate, rounded."""
    show = t.loc[(t.index < top) | t["nurture"]]
    return pd.DataFrame(
        {
            "Campaign": show["name"],
            "Channel": show["channel"],
            "Leads": show["leads"],
            "Rank by leads": show["rank_leads"],
            "SQL rate %": (100 * show["sql_rate"]).round(1),
            "90% CI": [_ci_pct(a, b) for a, b in zip(show["sql_rate_lo"], show["sql_rate_hi"])],
            "Rank by SQL rate": show["rank_sql"],
            "Nurture?": show["nurture"].map({True: "yes", False: ""}),
        }
    ).set_index("Campaign")


def campaign_sentences(t: pd.DataFrame, quarter: Quarter, days: int = CAMPAIGN_DAYS) -> list[str]:
    """Sentences for the campaigns section."""
    if t.empty:
        return [f"No leads with a campaign in {quarter.label}."]
    overall = float(t["overall_rate"].iloc[0])
    out = [
        f"{len(t)} campaigns brought {text.num(t['leads'].sum())} leads in {quarter.label}; "
        f"{text.pct(overall)} of the leads old enough to judge reached SQL within {days} days."
    ]
    top = t.iloc[0]
    out.append(
        f"The biggest campaign, {top['name']} ({top['channel']}, {text.num(top['leads'])} leads), ranks "
        f"{top['rank_sql']} of {len(t)} on SQL rate ({text.pct(top['sql_rate'])})."
    )
    nur = t.loc[t["nurture"]]
    if len(nur):
        names = ", ".join(f"{r['name']} ({text.pct(r['sql_rate'])})" for _, r in nur.head(4).iterrows())
        out.append(
            f"{_n(len(nur), 'high-volume campaign')} convert{'s' if len(nur) == 1 else ''} clearly below "
            f"the average — {names}: {'its' if len(nur) == 1 else 'their'} leads need nurturing (content, "
            "e-mail streams) before they are handed to sales."
        )
    else:
        out.append("No high-volume campaign converts clearly below the average.")
    return out


# ==================================================================================================
# chart titles (say what the reader should see)
# ==================================================================================================
def value_title(table: pd.DataFrame, by: str = "channel") -> str:
    """``"referral leads are worth 4.9× paid_social leads"`` (or the SQL-rate spread without deal data)."""
    body = table.iloc[:-1]
    if body.empty:
        return "No leads in the cohort"
    if body["revenue_per_lead"].notna().any():
        ext = best_and_worst(body)
        if ext is None:
            return "Revenue per lead by channel: no channel stands out beyond the noise"
        best, worst = ext
        if worst["revenue_per_lead"] > 0:
            ratio = best["revenue_per_lead"] / worst["revenue_per_lead"]
            return f"{best[by]} leads are worth {ratio:.{0 if ratio >= 10 else 1}f}× as much as {worst[by]} leads"
        return f"{best[by]} leads are worth the most; {worst[by]} leads brought no revenue"
    r = body.sort_values("sql_rate", ascending=False)
    return f"SQL rate ranges from {text.pct(r['sql_rate'].iloc[-1])} ({r[by].iloc[-1]}) to {text.pct(r['sql_rate'].iloc[0])} ({r[by].iloc[0]})"


def score_title(auc: dict, used: dict, best: dict) -> str:
    """Headline of the lead-score chart."""
    if np.isnan(auc["auc"]):
        return "Lead score: not enough outcomes to assess it"
    head = f"Lead score AUC {auc['auc']:.2f}"
    if np.isnan(used["threshold"]) or np.isnan(best["threshold"]):
        return head
    if best["lo"] <= used["threshold"] <= best["hi"]:
        return f"{head}; the MQL threshold ({used['threshold']:.0f}) fits the outcomes"
    word = "below" if used["threshold"] < best["threshold"] else "above"
    return f"{head}; the MQL threshold ({used['threshold']:.0f}) is {word} the suggested {best['threshold']:.0f}"


def handoff_title(table: pd.DataFrame) -> str:
    if table.empty:
        return "No MQLs in the quarter"
    a = table.iloc[-1]
    return (
        f"Sales accepts {text.pct(a['accept_rate'], 0)} of MQLs; "
        f"{text.pct(a['never accepted'] / a['mqls'], 0)} are never picked up"
    )


def pareto_title(p: pd.DataFrame, of: str = "disqualifications") -> str:
    if p.empty:
        return f"No {of} in the quarter"
    if len(p) == 1:
        return f"All {of}: '{p['reason'].iloc[0]}'"
    return f"'{p['reason'].iloc[0]}' and '{p['reason'].iloc[1]}' cause {text.pct(p['cum_share'].iloc[1], 0)} of {of}"


def campaign_title(t: pd.DataFrame) -> str:
    if t.empty:
        return "No campaign leads in the quarter"
    k = int(t["nurture"].sum())
    if k:
        return f"{k} high-volume campaign{'s' if k > 1 else ''} convert{'' if k > 1 else 's'} clearly below average"
    return "No high-volume campaign converts clearly below average"


# ==================================================================================================
# findings
# ==================================================================================================
def findings(
    value: pd.DataFrame,
    outcomes: pd.DataFrame,
    comp: dict,
    used: dict,
    best: dict,
    handoff: pd.DataFrame,
    campaigns: pd.DataFrame,
    quarter: Quarter,
    stale_days: int = STALE_DAYS,
    max_findings: int = 3,
) -> list[dict]:
    """The step's findings, largest estimated quarterly revenue effect first (at most ``max_findings``).

    All impacts are priced with the cohort's revenue per SQL (won amount ÷ SQLs, ``value`` All row):

    * ``mql_threshold`` — band leads a quarter × |band SQL rate − reference rate| × revenue per SQL
      (SQLs gained, or sales capacity spent on below-average leads, by moving the hand-over line to the
      suggested threshold); only when the used threshold lies outside the suggested one's interval;
    * ``mql_never_accepted`` — never-accepted MQLs of the quarter × SQL rate of accepted MQLs in the
      cohort × revenue per SQL (what they would bring if worked like the accepted ones);
    * ``nurture_campaigns`` — Σ mature leads × (overall − campaign SQL rate) × revenue per SQL (the
      shortfall against an average campaign).

    Each dict has ``slug, text, impact, recommendation, basis, section``; impacts ≤ 0 are dropped.
    """
    if value is None or value.empty or pd.isna(value.iloc[-1].get("revenue_per_sql", np.nan)):
        return []
    rps = float(value.iloc[-1]["revenue_per_sql"])
    out: list[dict] = []
    scored = comp is not None and used is not None and best is not None
    th_outside = scored and not (np.isnan(best["lo"]) or best["lo"] <= used["threshold"] <= best["hi"])
    if scored and comp["direction"] != "aligned" and th_outside and comp["band_leads"] > 0:
        impact = comp["band_per_quarter"] * comp["yield_gap"] * rps
        lo_t, hi_t = sorted((used["threshold"], best["threshold"]))
        between = (
            f"{text.num(comp['band_per_quarter'])} leads a quarter scoring {lo_t:.0f} to under {hi_t:.0f} reach SQL "
            f"at {text.pct(comp['band_sql_rate'])} vs {rule_words(best)[1]}"
        )
        if comp["direction"] == "too low":
            txt = (
                f"The MQL score threshold (~{used['threshold']:.0f}) is lower than the outcomes support "
                f"({best['threshold']:.0f}): {between}, yet they go to sales."
            )
            rec = f"Raise the MQL threshold to about {best['threshold']:.0f}; nurture the leads below it."
        else:
            txt = (
                f"The MQL score threshold (~{used['threshold']:.0f}) is higher than the outcomes support "
                f"({best['threshold']:.0f}): {between}, yet they are held back from sales."
            )
            rec = f"Lower the MQL threshold to about {best['threshold']:.0f}."
        out.append(
            {
                "slug": "mql_threshold",
                "text": txt,
                "impact": impact,
                "recommendation": rec,
                "basis": (
                    "leads a quarter between the two thresholds × (break-even − their SQL rate) × revenue "
                    "per SQL: what working them costs beyond what they return"
                    if best.get("rule") == "breakeven"
                    else "upper bound: leads a quarter between the two thresholds × the gap between their SQL "
                    "rate and the average MQL's × revenue per SQL, if their sales time went to leads "
                    "converting like the average MQL"
                ),
                "section": "03_lead_quality#2",
            }
        )
    never = int((handoff["state"] == "never accepted").sum()) if handoff is not None and not handoff.empty else 0
    acc = outcomes.loc[outcomes["mql"] & outcomes["accepted"]]
    if never > 0 and len(acc):
        p_sql = float(acc["sql"].mean())
        out.append(
            {
                "slug": "mql_never_accepted",
                "text": f"{text.num(never)} MQLs of {quarter.label} were never picked up by sales (neither "
                f"accepted nor rejected after {stale_days} days); accepted MQLs reach SQL "
                f"{text.pct(p_sql)} of the time.",
                "impact": never * p_sql * rps,
                "recommendation": "Agree a follow-up service level for MQLs (e.g. 2 working days) and "
                "re-route unclaimed MQLs automatically.",
                "basis": "never-accepted MQLs × SQL rate of accepted MQLs × revenue per SQL",
                "section": "03_lead_quality#3",
            }
        )
    if campaigns is not None and not campaigns.empty and campaigns["nurture"].any():
        nur = campaigns.loc[campaigns["nurture"]]
        gap = (nur["overall_rate"] - nur["sql_rate"]).clip(lower=0)
        names = ", ".join(nur["name"].astype(str).head(3)) + (" …" if len(nur) > 3 else "")
        out.append(
            {
                "slug": "nurture_campaigns",
                "text": f"{_n(len(nur), 'high-volume campaign')} of {quarter.label} convert"
                f"{'s' if len(nur) == 1 else ''} clearly below average ({names}): "
                f"{'its' if len(nur) == 1 else 'their'} leads reach sales before they are ready.",
                "impact": float((nur["mature"] * gap).sum() * rps),
                "recommendation": f"Send the leads of {names} to a nurture stream; hand them to sales only "
                "once they pass the score threshold.",
                "basis": "mature leads × (average − campaign SQL rate) × revenue per SQL",
                "section": "03_lead_quality#4",
            }
        )
    out = [f for f in out if f["impact"] > 0]
    return sorted(out, key=lambda f: -f["impact"])[:max_findings]


# ==================================================================================================
# figures (one per section; small: ≤ 10 × 4.5 in at 100 dpi)
# ==================================================================================================
def _empty_fig(message: str, title: str):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#555555")
    ax.axis("off")
    ax.set_title(title, loc="left")
    return fig


def fig_value(table: pd.DataFrame, by: str = "channel", currency: str = "EUR"):
    """SQL rate (left) and revenue per lead (right; customer rate without deal data) by channel with 90%
    intervals and the all-channel value as a dashed line."""
    import matplotlib.pyplot as plt

    from salesaudit import plots

    if table.empty:
        return _empty_fig("No leads in the cohort", "Value per lead")
    body, tot = table.iloc[:-1], table.iloc[-1]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.9 + 0.42 * max(len(body), 3)), sharey=True)
    plots.interval_bars(
        axes[0],
        body[by],
        body["sql_rate"],
        body["sql_rate_lo"],
        body["sql_rate_hi"],
        xlabel="Leads reaching SQL (%)",
        ref=tot["sql_rate"],
    )
    if body["revenue_per_lead"].notna().any():
        plots.interval_bars(
            axes[1],
            body[by],
            body["revenue_per_lead"],
            body["revenue_per_lead_lo"],
            body["revenue_per_lead_hi"],
            xlabel=f"Won revenue per lead ({currency})",
            pct=False,
            ref=tot["revenue_per_lead"],
        )
        plots.thousands_axis(axes[1], "x")
    else:
        plots.interval_bars(
            axes[1],
            body[by],
            body["customer_rate"],
            body["customer_rate"],
            body["customer_rate"],
            xlabel="Leads becoming customers (%)",
            ref=tot["customer_rate"],
        )
    axes[0].set_title("SQL rate", loc="left", fontsize=10)
    axes[1].set_title(
        "Revenue per lead" if body["revenue_per_lead"].notna().any() else "Customer rate", loc="left", fontsize=10
    )
    fig.suptitle(value_title(table, by), x=0.01, ha="left", fontweight="bold")
    return fig


def fig_score(bands: pd.DataFrame, curve: pd.DataFrame, used: dict, best: dict, auc: dict):
    """Calibration by score band over all cohort leads (left) and the SQL rate of the MQLs by score,
    smoothed ±2 points, against the rule's reference rate (right); used and suggested thresholds marked.
    ``curve`` is :func:`score_curve` of :func:`handed_over`."""
    import matplotlib.pyplot as plt

    from salesaudit import plots

    if bands["leads"].sum() == 0:
        return _empty_fig("No lead scores in the cohort", "Lead score")
    base = bands["sql"].sum() / bands["leads"].sum()
    marks = {"used": used["threshold"], "suggested": best["threshold"]}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    plots.score_calibration(
        axes[0],
        bands["lo_edge"],
        bands["hi_edge"],
        bands["sql_rate"],
        bands["sql_rate_lo"],
        bands["sql_rate_hi"],
        base_rate=base,
        marks=marks,
    )
    axes[0].set_title("All cohort leads: SQL rate by score band", loc="left", fontsize=10)
    ref_label = "break-even" if best.get("rule") == "breakeven" else "average MQL"
    if len(curve):
        plots.rate_curve(
            axes[1],
            curve["score"],
            curve["rate"],
            curve["lo"],
            curve["hi"],
            ref=best.get("ref_rate"),
            ref_label=ref_label,
            marks=marks,
            xlabel="Lead score",
            ylabel="SQL rate, score ± 2 (%)",
        )
    else:
        axes[1].text(
            0.5,
            0.5,
            "Too few MQLs with a score\nto draw the curve",
            ha="center",
            va="center",
            fontsize=10,
            color="#555555",
            transform=axes[1].transAxes,
        )
        axes[1].axis("off")
    axes[1].set_title("MQLs: where to draw the line", loc="left", fontsize=10)
    fig.suptitle(score_title(auc, used, best), x=0.01, ha="left", fontweight="bold")
    return fig


def fig_handoff(table: pd.DataFrame, curve: pd.DataFrame, by: str = "channel"):
    """What happened to the quarter's MQLs by channel (100% bars, left) and the cumulative share accepted
    by days since MQL (right, Kaplan–Meier with 90% band)."""
    import matplotlib.pyplot as plt

    from salesaudit import plots

    if table.empty:
        return _empty_fig("No MQLs in the quarter", "Hand-off")
    shares = table[list(HANDOFF_STATES)].div(table["mqls"], axis=0)
    shares.columns = [c.capitalize() for c in shares.columns]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), gridspec_kw={"width_ratios": [1.3, 1]})
    plots.share_bars(axes[0], table[by], shares, xlabel="Share of the quarter's MQLs (%)", legend_cols=4)
    axes[0].set_title("MQL outcome at quarter end", loc="left", fontsize=10)
    plots.km_lines(axes[1], curve, xlabel="Days since MQL", ylabel="MQLs accepted by sales (%)")
    axes[1].get_legend().remove()
    d = table_delay_limit(curve)
    axes[1].set_xlim(0, d)
    axes[1].set_title("Time to acceptance (90% band)", loc="left", fontsize=10)
    fig.suptitle(handoff_title(table), x=0.01, ha="left", fontweight="bold")
    return fig


def table_delay_limit(curve: pd.DataFrame) -> float:
    """x-axis limit for the acceptance curve: 1.5 × the day by which 95% of eventual acceptances happened
    (at least 14, at most 90 days)."""
    if curve.empty or curve["conv"].max() <= 0:
        return 30.0
    t95 = curve.loc[curve["conv"] >= 0.95 * curve["conv"].max(), "days"].iloc[0]
    return float(np.clip(1.5 * t95, 14, 90))


def fig_pareto(p: pd.DataFrame, of: str = "disqualifications"):
    """Pareto chart of disqualify reasons; 'not yet' reasons (handed over too early) highlighted."""
    import matplotlib.pyplot as plt

    from salesaudit import plots

    if p.empty:
        return _empty_fig(f"No {of} in the quarter", "Disqualify reasons")
    fig, ax = plt.subplots(figsize=(9, 3.8))
    plots.pareto_bars(ax, p["reason"], p["count"], ylabel="Leads", highlight=p["too_early"])
    ax.set_title(pareto_title(p, of), loc="left")
    if p["too_early"].any():
        ax.text(
            0.99,
            0.5,
            "orange = a 'not yet' reason",
            transform=ax.transAxes,
            ha="right",
            va="center",
            fontsize=8,
            color="#555555",
        )
    return fig


def fig_campaigns(t: pd.DataFrame, days: int = CAMPAIGN_DAYS):
    """Lead volume against SQL rate per campaign; nurture candidates highlighted and named."""
    import matplotlib.pyplot as plt

    from salesaudit import plots

    if t.empty:
        return _empty_fig("No campaign leads in the quarter", "Campaigns")
    fig, ax = plt.subplots(figsize=(9, 4))
    plots.volume_rate_scatter(
        ax,
        t["leads"],
        t["sql_rate"],
        t["sql_rate_lo"],
        t["sql_rate_hi"],
        t["name"],
        highlight=t["nurture"],
        ref=float(t["overall_rate"].iloc[0]),
        xlabel="Leads created in the quarter",
        ylabel=f"SQL within {days} days (%)",
        ref_label="all campaigns",
    )
    ax.set_title(campaign_title(t), loc="left")
    return fig


def campaign_note(leads: pd.DataFrame, campaigns: pd.DataFrame | None) -> str | None:
    """Why the campaign section is limited: no ``campaign_id`` on leads (skipped), or no ``campaigns``
    table (shown by id, channel from the leads). None when both are present."""
    if "campaign_id" not in leads.columns or leads["campaign_id"].notna().sum() == 0:
        return (
            "The leads have no `campaign_id`, so there is no campaign data and this section is skipped. "
            "Add `campaign_id` to the leads (and a `campaigns` table) to answer it."
        )
    if campaigns is None or len(campaigns) == 0:
        return (
            "No `campaigns` table was provided: campaigns are shown by id, with the channel most of their "
            "leads came from."
        )
    return None
