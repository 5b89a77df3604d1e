"""Step 02 — the numbers of the tools-and-content audit: e-mail streams, content lift and freshness, manual work.

**E-mail streams.** Rates are pooled over the sends of a stream (Σ numerator / Σ denominator), so a big send
weighs more than a small one; every rate comes with its counts and a 90% Wilson interval. The interval treats
each recipient of each send as one trial, which understates the noise when sends differ a lot from each other
(state it when comparing close streams).

**Content lift** compares leads who touched an asset with comparable leads who did not, among the leads that
reached a stage (MQL → SQL among MQLs, SQL → customer among SQLs):

* **mature cohorts**: a lead enters the comparison only when its whole follow-up window
  (``window_days`` after it reached the stage) lies before the cut-off, so late leads are not counted
  as failures;
* **touches while at the stage, before the outcome**: a touch counts only if it happened after the lead
  reached the stage and no later than the outcome (for converters) or the end of the follow-up window
  (for everyone), so content read after becoming an SQL cannot take credit for MQL→SQL, and content read
  long before cannot take credit for the deal;
* **adjusted for** the acquisition channel and the quarter the lead reached the stage (strata);
  the pooled effect is the Mantel–Haenszel risk difference with Sato's variance (Sato 1989;
  Greenland & Robins 1985), which stays valid with many small strata. Strata where nobody (or
  everybody) touched the asset carry no weight — e.g. quarters before the asset was published.

This is an observational comparison: leads who choose to read content may differ in ways the strata do
not capture (intent, lead score). A positive lift is evidence the asset helps, not proof.

**Manual work** is read from ``activities`` (call / email / meeting / demo / other) and the contact
timestamps on ``leads``.

Numbers only: sentences and recorded figures are in :mod:`salesaudit.steps.tools.story`, tables and charts in
:mod:`salesaudit.steps.tools.view`. The money value of a deal is :func:`salesaudit.deals.average_deal_value`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit.periods import Quarter, quarter_labels
from salesaudit.speed import contact_durations, speed_to_first_contact
from salesaudit.stats import (
    DEFAULT_LEVEL,
    MIN_CLAIM_N,
    claimable,
    diff_interval,
    mean_interval,
    rate_table,
    wilson_interval,
    z_of,
)

__all__ = [
    "EMAIL_RATES",
    "NEVER_CONTACTED_DAYS",
    "WINDOWS",
    "STAGES",
    "email_rates",
    "email_by_quarter",
    "stream_scorecard",
    "email_totals",
    "won_deals_in",
    "deal_activities",
    "activities_per_won_deal",
    "activities_trend",
    "activities_in",
    "first_contact",
    "first_contact_trend",
    "never_contacted_impact",
    "never_contacted_leads",
    "average_won_deal",
    "stage_cohort",
    "exposures",
    "mh_risk_difference",
    "mh_odds_ratio",
    "content_lift",
    "content_ranking",
    "judged_assets",
    "content_verdicts",
    "content_freshness",
    "stale_summary",
    "best_content_impact",
    "content_reach_leads",
]

#: e-mail rates: name → (numerator column, denominator column)
EMAIL_RATES: dict[str, tuple[str, str]] = {
    "open_rate": ("opens", "base"),
    "click_rate": ("clicks", "base"),
    "click_to_open": ("clicks", "opens"),
    "unsubscribe_rate": ("unsubscribes", "base"),
}
#: a lead not contacted within this many days of creation counts as "never contacted"
NEVER_CONTACTED_DAYS = 14
#: follow-up windows (days) for the two content comparisons
WINDOWS: dict[str, int] = {"mql_sql": 90, "sql_customer": 180}
STAGES: dict[str, tuple[str, str]] = {"mql_sql": ("mql_at", "sql_at"), "sql_customer": ("sql_at", "customer_at")}


# --------------------------------------------------------------------------------------------------
# e-mail streams
# --------------------------------------------------------------------------------------------------
def _with_base(sends: pd.DataFrame) -> pd.DataFrame:
    """Add ``base`` = delivered when given (else recipients) and ``unsubscribes`` (0 when absent)."""
    base = sends["recipients"].astype(float)
    if "delivered" in sends.columns:
        base = sends["delivered"].astype(float).fillna(base)
    unsub = sends["unsubscribes"].astype(float).fillna(0.0) if "unsubscribes" in sends.columns else 0.0
    return sends.assign(base=base, unsubscribes=unsub)


def email_rates(sends: pd.DataFrame, by: list[str] | str = "stream", level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Pooled e-mail engagement rates per group, each with a Wilson interval.

    open rate = Σ unique opens / Σ delivered; click rate = Σ unique clicks / Σ delivered;
    click-to-open (CTOR) = Σ clicks / Σ opens; unsubscribe rate = Σ unsubscribes / Σ delivered.
    Delivered falls back to recipients when the ``delivered`` column is absent or empty (the usual
    ESP convention, e.g. Mailchimp's "opens / successful deliveries").

    Returns one row per group with ``sends, recipients, base, opens, clicks, unsubscribes`` and for each
    rate ``<rate>, <rate>_lo, <rate>_hi``.
    """
    by = [by] if isinstance(by, str) else list(by)
    d = _with_base(sends)
    g = (
        d.groupby(by, observed=True, sort=True)
        .agg(
            sends=("send_id", "size"),
            recipients=("recipients", "sum"),
            base=("base", "sum"),
            opens=("opens", "sum"),
            clicks=("clicks", "sum"),
            unsubscribes=("unsubscribes", "sum"),
        )
        .reset_index()
    )
    out = g
    for name, (k, n) in EMAIL_RATES.items():
        r = rate_table(g[k].to_numpy(), g[n].to_numpy(), level)
        out = out.assign(
            **{name: r["rate"].to_numpy(), f"{name}_lo": r["lo"].to_numpy(), f"{name}_hi": r["hi"].to_numpy()}
        )
    return out


def email_by_quarter(
    sends: pd.DataFrame,
    fy_start_month: int = 1,
    level: float = DEFAULT_LEVEL,
    *,
    quarters: list[Quarter] | None = None,
) -> pd.DataFrame:
    """:func:`email_rates` per stream and fiscal quarter of ``sent_at`` (column ``quarter``).

    ``quarters`` keeps only those quarters (by label; e.g. the audited quarter and the four before it).
    """
    out = email_rates(
        sends.assign(quarter=quarter_labels(sends["sent_at"], fy_start_month)), ["stream", "quarter"], level
    )
    if quarters is not None:
        out = out[out["quarter"].isin([x.label for x in quarters])]
    return out


def stream_scorecard(sends: pd.DataFrame, quarter: Quarter, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """This quarter's rates per stream, the change against the previous quarter and a verdict.

    change = rate(this quarter) − rate(previous quarter), Newcombe interval (``*_change_lo/hi``);
    ``vs_others`` = click rate of the stream − pooled click rate of all other streams this quarter
    (Newcombe interval). ``verdict``: *leads* / *lags* when that interval excludes 0, else *average*.
    Sorted by click rate, best first.
    """
    now = sends[quarter.contains(sends["sent_at"])]
    before = sends[quarter.previous().contains(sends["sent_at"])]
    cur = email_rates(now, "stream", level)
    if cur.empty:
        return cur
    prev = email_rates(before, "stream", level).set_index("stream").reindex(cur["stream"])
    out = cur.copy()
    for name, (k, n) in EMAIL_RATES.items():
        d, lo, hi = diff_interval(
            cur[k].to_numpy(), cur[n].to_numpy(), prev[k].fillna(0).to_numpy(), prev[n].fillna(0).to_numpy(), level
        )
        out[f"{name}_prev"] = prev[name].to_numpy()
        out[f"{name}_change"] = d
        out[f"{name}_change_lo"] = lo
        out[f"{name}_change_hi"] = hi
    out["base_prev"] = prev["base"].fillna(0).to_numpy()
    tot_k, tot_n = cur["clicks"].sum(), cur["base"].sum()
    d, lo, hi = diff_interval(cur["clicks"], cur["base"], tot_k - cur["clicks"], tot_n - cur["base"], level)
    verdict = np.where(lo > 0, "leads", np.where(hi < 0, "lags", "average"))
    return (
        out.assign(vs_others=d, vs_others_lo=lo, vs_others_hi=hi, verdict=verdict)
        .sort_values("click_rate", ascending=False)
        .reset_index(drop=True)
    )


def email_totals(card: pd.DataFrame, level: float = DEFAULT_LEVEL) -> dict:
    """The quarter's e-mail rates pooled over all streams of a :func:`stream_scorecard`, with Wilson intervals.

    click rate = Σ clicks ÷ Σ delivered; open rate = Σ opens ÷ Σ delivered; click-to-open = Σ clicks ÷ Σ opens
    (NaN without opens); lagging = streams whose verdict is *lags*. Pooled like :func:`email_rates` (the ESP
    convention: a big send weighs more than a small one).

    Keys ``streams, delivered, opens, clicks, click_rate(_lo/_hi), open_rate(_lo/_hi), click_to_open(_lo/_hi),
    lagging``.

    >>> card = pd.DataFrame({"stream": ["a", "b"], "base": [900.0, 100.0], "opens": [300, 20],
    ...                      "clicks": [30, 10], "verdict": ["average", "lags"]})
    >>> t = email_totals(card)
    >>> [float(t[k]) for k in ("click_rate", "open_rate", "click_to_open")], t["lagging"]
    ([0.04, 0.32, 0.125], 1)
    """
    k, n, ko = card["clicks"].sum(), card["base"].sum(), card["opens"].sum()
    out: dict = {"streams": len(card), "delivered": n, "opens": ko, "clicks": k}
    for name, num, den in (("click_rate", k, n), ("open_rate", ko, n), ("click_to_open", k, ko)):
        lo, hi = rate_table([num], [den], level).iloc[0][["lo", "hi"]]
        out |= {name: num / den if den else float("nan"), f"{name}_lo": lo, f"{name}_hi": hi}
    return out | {"lagging": int((card["verdict"] == "lags").sum())}


# --------------------------------------------------------------------------------------------------
# manual work: activities per won deal, speed to first contact, leads never contacted
# --------------------------------------------------------------------------------------------------
def won_deals_in(opportunities: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    """Opportunities won (``status == "won"``) with ``closed_at`` in the quarter."""
    status = (
        opportunities["status"]
        if "status" in opportunities.columns
        else np.where(opportunities["is_won"].fillna(False), "won", "")
    )
    won = (pd.Series(status, index=opportunities.index) == "won") & quarter.contains(opportunities["closed_at"])
    return opportunities[won.to_numpy()]


def deal_activities(activities: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Activities that worked each deal: on the opportunity, or on its lead up to the close date.

    An activity is counted once (by ``activity_id``) even when it names both the lead and the deal.
    Returns the activities with the deal's ``opportunity_id`` in column ``deal_id``.
    """
    cols = ["activity_id", "type", "occurred_at"]
    parts = [pd.DataFrame(columns=cols + ["deal_id"])]
    # the few deals' activities are picked out first (a membership test), then joined: joining every activity
    # of the export (3M at a million leads) once per quarter cost 5 s a quarter
    if "opportunity_id" in activities.columns:
        mine = activities["opportunity_id"].isin(deals["opportunity_id"]).to_numpy(bool)
        parts.append(
            activities.loc[mine, cols + ["opportunity_id"]]
            .merge(deals[["opportunity_id"]], on="opportunity_id", how="inner")
            .rename(columns={"opportunity_id": "deal_id"})
        )
    if "lead_id" in activities.columns and "lead_id" in deals.columns:
        mine = activities["lead_id"].isin(deals["lead_id"].dropna()).to_numpy(bool)
        on_lead = (
            activities.loc[mine, cols + ["lead_id"]]
            .dropna(subset=["lead_id"])
            .merge(
                deals[["opportunity_id", "lead_id", "closed_at"]].dropna(subset=["lead_id"]), on="lead_id", how="inner"
            )
        )
        on_lead = on_lead[on_lead["occurred_at"] <= on_lead["closed_at"]]
        parts.append(on_lead.rename(columns={"opportunity_id": "deal_id"})[cols + ["deal_id"]])
    return pd.concat(parts, ignore_index=True).drop_duplicates(["activity_id", "deal_id"])


def activities_per_won_deal(
    activities: pd.DataFrame, opportunities: pd.DataFrame, quarter: Quarter, level: float = DEFAULT_LEVEL
) -> pd.DataFrame:
    """Mean activities per deal won in the quarter, by activity type (plus ``total``).

    activities per won deal (type) = Σ activities of that type on won deals / number of won deals,
    with a t interval over deals (deals with none count as 0). Activities are attached as in
    :func:`deal_activities`. Columns ``type, per_deal, lo, hi, deals, activities``.
    """
    deals = won_deals_in(opportunities, quarter)
    n = len(deals)
    types = sorted(activities["type"].dropna().unique())
    if n == 0:
        return pd.DataFrame(
            {"type": types + ["total"], "per_deal": np.nan, "lo": np.nan, "hi": np.nan, "deals": 0, "activities": 0}
        )
    acts = deal_activities(activities, deals)
    counts = pd.crosstab(acts["deal_id"], acts["type"]).reindex(index=deals["opportunity_id"], columns=types).fillna(0)
    counts = counts.assign(total=counts.sum(axis=1))
    rows = [(t, *mean_interval(counts[t].to_numpy(), level), n, int(counts[t].sum())) for t in counts.columns]
    return pd.DataFrame(rows, columns=["type", "per_deal", "lo", "hi", "deals", "activities"])


def activities_trend(
    activities: pd.DataFrame, opportunities: pd.DataFrame, quarters: list[Quarter], level: float = DEFAULT_LEVEL
) -> pd.DataFrame:
    """:func:`activities_per_won_deal` for each quarter (column ``quarter``), oldest first."""
    return pd.concat(
        [activities_per_won_deal(activities, opportunities, q, level).assign(quarter=q.label) for q in quarters],
        ignore_index=True,
    )


def activities_in(trend: pd.DataFrame | None, quarter_label: str) -> pd.DataFrame | None:
    """The rows of one quarter of an :func:`activities_trend` (one per activity type plus ``total``); None for
    None (no activities data)."""
    return None if trend is None else trend[trend["quarter"] == quarter_label]


def first_contact(
    leads: pd.DataFrame,
    quarter: Quarter,
    never_days: int = NEVER_CONTACTED_DAYS,
    level: float = DEFAULT_LEVEL,
    activities: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> dict:
    """Speed to first contact and leads never contacted, for leads created in the quarter.

    Observation stops at the end of the quarter (no later data is used, so past quarters read as they
    did then), or at ``as_of`` (the extraction date) when that comes first — a partial quarter. Speed: :func:`salesaudit.speed.speed_to_first_contact` — the audit's one definition,
    shared with step 05: Kaplan–Meier median hours from ``created_at`` to the first contact, leads not
    yet contacted censored at the cut-off (not dropped), with a 90% interval (``median_lo``,
    ``median_hi``); ``within_1_day`` = 1 − S(24 h).
    Never contacted = leads with no contact within ``never_days`` of creation, among the leads created
    at least ``never_days`` before the cut-off (Wilson interval).
    """
    cut = quarter.end if as_of is None or pd.isna(as_of) else min(quarter.end, pd.Timestamp(as_of))
    speed = speed_to_first_contact(leads, quarter.start, cut, activities)
    d = contact_durations(leads, quarter.start, cut, activities)
    created = leads.loc[(leads["created_at"] >= quarter.start) & (leads["created_at"] < cut), "created_at"]
    old = (created <= cut - pd.Timedelta(days=never_days)).to_numpy()
    in_time = d["observed"].to_numpy() & (d["hours"].to_numpy() <= never_days * 24)
    never = int((old & ~in_time).sum())
    n_old = int(old.sum())
    r = rate_table([never], [n_old], level).iloc[0]
    return {
        "quarter": quarter.label,
        "leads": speed["leads"],
        "contacted": speed["contacted"],
        "censored": speed["censored"],
        "median_hours": speed["median_hours"],
        "median_lo": speed["lo_hours"],
        "median_hi": speed["hi_hours"],
        "within_1_day": speed["within_1_day"],
        "never_contacted": never,
        "never_base": n_old,
        "never_rate": r["rate"] if n_old else float("nan"),
        "never_lo": r["lo"] if n_old else float("nan"),
        "never_hi": r["hi"] if n_old else float("nan"),
    }


def never_contacted_leads(
    leads: pd.DataFrame,
    quarter: Quarter,
    never_days: int = NEVER_CONTACTED_DAYS,
    activities: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The leads of :func:`first_contact`'s ``never_contacted`` count: created in the quarter at least
    ``never_days`` before the cut-off and not contacted within ``never_days`` of creation (same cut-off,
    same contact times: :func:`salesaudit.speed.contact_durations`). Columns ``lead_id, owner_id, channel,
    created_at, first_contact_at`` (those present); ``len()`` = ``never_contacted``."""
    cut = quarter.end if as_of is None or pd.isna(as_of) else min(quarter.end, pd.Timestamp(as_of))
    d = contact_durations(leads, quarter.start, cut, activities)
    rows = leads.loc[(leads["created_at"] >= quarter.start) & (leads["created_at"] < cut)]
    old = (rows["created_at"] <= cut - pd.Timedelta(days=never_days)).to_numpy()
    in_time = d["observed"].to_numpy() & (d["hours"].to_numpy() <= never_days * 24)
    cols = [c for c in ("lead_id", "owner_id", "channel", "created_at", "first_contact_at") if c in rows.columns]
    return rows.loc[old & ~in_time, cols].sort_values(["created_at", "lead_id"]).reset_index(drop=True)


def first_contact_trend(
    leads: pd.DataFrame,
    quarters: list[Quarter],
    never_days: int = NEVER_CONTACTED_DAYS,
    level: float = DEFAULT_LEVEL,
    activities: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """:func:`first_contact` for each quarter, one row each, oldest first (observation stops at ``as_of``)."""
    return pd.DataFrame([first_contact(leads, q, never_days, level, activities, as_of) for q in quarters])


def never_contacted_impact(
    leads: pd.DataFrame,
    quarter: Quarter,
    never: int,
    deal_value: float,
    window_days: int = 180,
    never_days: int = NEVER_CONTACTED_DAYS,
) -> dict:
    """Revenue per quarter lost to leads that are never contacted.

    impact = never-contacted leads of the quarter × (lead → customer rate of contacted leads − rate of
    never-contacted leads) × average won deal. Rates from the mature cohort created in the year before
    ``quarter.end − window_days`` (customer within ``window_days`` of creation); contacted = first contact
    within ``never_days``.
    """
    w = pd.Timedelta(days=window_days)
    end = quarter.end - w
    d = leads[(leads["created_at"] < end) & (leads["created_at"] >= end - pd.Timedelta(days=365))]
    contacted = d["first_contact_at"].notna() & (
        d["first_contact_at"] <= d["created_at"] + pd.Timedelta(days=never_days)
    )
    won = (
        d["customer_at"].notna() & (d["customer_at"] <= d["created_at"] + w)
        if "customer_at" in d.columns
        else pd.Series(False, index=d.index)
    )
    r1 = float(won[contacted].mean()) if contacted.any() else float("nan")
    r0 = float(won[~contacted].mean()) if (~contacted).any() else float("nan")
    impact = (
        never * max(r1 - r0, 0.0) * deal_value
        if np.isfinite(r1) and np.isfinite(r0) and np.isfinite(deal_value)
        else 0.0
    )
    n1, n0 = int(contacted.sum()), int((~contacted).sum())
    (lo1, lo0), (hi1, hi0) = wilson_interval([won[contacted].sum(), won[~contacted].sum()], [n1, n0])
    return {
        "rate_contacted": r1,
        "rate_never": r0,
        "n_contacted": n1,
        "n_never": n0,
        # the comparison may be stated only under the claim rule (n ≥ MIN_CLAIM_N each, intervals apart)
        "claimable": bool(claimable(n1, n0, lo1, hi1, lo0, hi0)),
        "never": never,
        "deal_value": deal_value,
        "impact": float(impact),
    }


def average_won_deal(opportunities: pd.DataFrame | None, quarter: Quarter, quarters: int = 4) -> float:
    """Mean ``amount`` of deals won in the ``quarters`` quarters ending with ``quarter`` (NaN when unknown)."""
    if opportunities is None or "amount" not in opportunities.columns:
        return float("nan")
    start = quarter.previous(quarters - 1).start
    won = opportunities[
        (opportunities["status"] == "won")
        & (opportunities["closed_at"] >= start)
        & (opportunities["closed_at"] < quarter.end)
    ]
    return float(won["amount"].mean()) if len(won) else float("nan")


# --------------------------------------------------------------------------------------------------
# content lift
# --------------------------------------------------------------------------------------------------
def stage_cohort(
    leads: pd.DataFrame,
    stage: str,
    as_of: pd.Timestamp,
    window_days: int | None = None,
    strata: tuple[str, ...] = ("channel",),
    fy_start_month: int = 1,
) -> pd.DataFrame:
    """Leads that reached the stage's first step with a complete follow-up window before ``as_of``.

    converted = the second step happened within ``window_days`` of the first;
    ``entered`` = time the lead reached the first step; ``horizon`` = outcome time for converters, else end
    of the window. Touches count only between the two (content read while the lead was at the stage);
    ``stratum`` = the ``strata`` columns and the quarter the lead reached the first step, joined.
    """
    src, dst = STAGES[stage]
    window = pd.Timedelta(days=WINDOWS[stage] if window_days is None else window_days)
    d = leads[leads[src].notna() & (leads[src] + window <= as_of)]
    end = d[src] + window
    converted = d[dst].notna() & (d[dst] <= end)
    horizon = d[dst].where(converted, end)
    parts = [d[c].astype(object).fillna("unknown").astype(str) for c in strata if c in d.columns]
    parts.append(quarter_labels(d[src], fy_start_month).astype(str))
    stratum = parts[0]
    for p in parts[1:]:
        stratum = stratum + "|" + p
    return pd.DataFrame(
        {
            "lead_id": d["lead_id"].to_numpy(),
            "stratum": stratum.to_numpy(),
            "converted": converted.to_numpy(bool),
            "entered": d[src].to_numpy(),
            "horizon": horizon.to_numpy(),
        }
    )


def exposures(cohort: pd.DataFrame, touches: pd.DataFrame) -> pd.DataFrame:
    """Distinct (lead, asset) pairs of the cohort touched while at the stage: entered ≤ touched_at ≤ horizon."""
    m = touches[["lead_id", "content_id", "touched_at"]].merge(cohort, on="lead_id", how="inner")
    m = m[(m["touched_at"] >= m["entered"]) & (m["touched_at"] <= m["horizon"])]
    return m.drop_duplicates(["lead_id", "content_id"])[["lead_id", "content_id", "stratum", "converted"]]


def mh_risk_difference(table: pd.DataFrame, by: str = "content_id", level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Mantel–Haenszel pooled risk difference per group from stratified 2×2 counts.

    ``table`` has one row per (group, stratum) with ``k1, n1`` (converted / all among the touched) and
    ``k0, n0`` (among the untouched). With N = n1 + n0 per stratum:
    RD_MH = Σ (k1·n0 − k0·n1)/N ÷ Σ n1·n0/N;
    Var = (RD_MH·Σ P + Σ Q) ÷ (Σ n1·n0/N)², P = (n1²·k0 − n0²·k1 + n1·n0·(n0 − n1)/2)/N²,
    Q = (k1·(n0 − k0) + k0·(n1 − k1))/(2N)  (Sato 1989). Interval: RD ± z·√Var, clipped to [−1, 1].
    Returns ``<by>, rd, lo, hi, se, weight`` (weight = Σ n1·n0/N; 0 → no informative stratum, NaN rd; a
    variance of 0 — perfect separation in tiny strata — gives NaN se and the interval −1…1: too little data to judge).
    """
    t = table[(table["n1"] > 0) & (table["n0"] > 0)]
    N = t["n1"] + t["n0"]
    comp = pd.DataFrame(
        {
            by: t[by].to_numpy(),
            "num": ((t["k1"] * t["n0"] - t["k0"] * t["n1"]) / N).to_numpy(),
            "w": (t["n1"] * t["n0"] / N).to_numpy(),
            "P": (
                (t["n1"] ** 2 * t["k0"] - t["n0"] ** 2 * t["k1"] + t["n1"] * t["n0"] * (t["n0"] - t["n1"]) / 2) / N**2
            ).to_numpy(),
            "Q": ((t["k1"] * (t["n0"] - t["k0"]) + t["k0"] * (t["n1"] - t["k1"])) / (2 * N)).to_numpy(),
        }
    )
    s = comp.groupby(by, sort=False)[["num", "w", "P", "Q"]].sum()
    s = s.reindex(pd.Index(table[by].unique(), name=by)).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rd = np.where(s["w"] > 0, s["num"] / s["w"], np.nan)
        var = np.where(s["w"] > 0, (rd * s["P"] + s["Q"]) / s["w"] ** 2, np.nan)
    se = np.sqrt(np.clip(var, 0, None))
    # Sato's variance is 0 under perfect separation (e.g. one touched lead that converted against one that did
    # not): that is too little data for an interval, not certainty — no se (so no verdict) and the whole range
    degenerate = np.isfinite(rd) & ~(se > 0)
    se = np.where(degenerate, np.nan, se)
    z = z_of(level)
    lo = np.where(degenerate, -1.0, np.clip(rd - z * se, -1, 1))
    hi = np.where(degenerate, 1.0, np.clip(rd + z * se, -1, 1))
    return pd.DataFrame({by: s.index.to_numpy(), "rd": rd, "lo": lo, "hi": hi, "se": se, "weight": s["w"].to_numpy()})


def mh_odds_ratio(table: pd.DataFrame, by: str = "content_id", level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Mantel–Haenszel pooled odds ratio per group, Robins–Breslow–Greenland (1986) interval.

    a = k1, b = n1 − k1, c = k0, d = n0 − k0, N = n1 + n0 per stratum; OR_MH = Σ ad/N ÷ Σ bc/N = R/S;
    Var(ln OR) = Σ P·ad/N ÷ 2R² + Σ (P·bc/N + Q·ad/N) ÷ 2RS + Σ Q·bc/N ÷ 2S², P = (a + d)/N, Q = (b + c)/N.
    Returns ``<by>, or, or_lo, or_hi``.
    """
    t = table[(table["n1"] > 0) & (table["n0"] > 0)]
    N = t["n1"] + t["n0"]
    a, b, c, d = t["k1"], t["n1"] - t["k1"], t["k0"], t["n0"] - t["k0"]
    P, Q = (a + d) / N, (b + c) / N
    comp = pd.DataFrame(
        {
            by: t[by].to_numpy(),
            "R": (a * d / N).to_numpy(),
            "S": (b * c / N).to_numpy(),
            "PR": (P * a * d / N).to_numpy(),
            "PS_QR": (P * b * c / N + Q * a * d / N).to_numpy(),
            "QS": (Q * b * c / N).to_numpy(),
        }
    )
    s = comp.groupby(by, sort=False)[["R", "S", "PR", "PS_QR", "QS"]].sum()
    s = s.reindex(pd.Index(table[by].unique(), name=by)).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (s["R"] > 0) & (s["S"] > 0)
        orr = np.where(ok, s["R"] / s["S"], np.nan)
        var = np.where(
            ok, s["PR"] / (2 * s["R"] ** 2) + s["PS_QR"] / (2 * s["R"] * s["S"]) + s["QS"] / (2 * s["S"] ** 2), np.nan
        )
    half = z_of(level) * np.sqrt(var)
    return pd.DataFrame({by: s.index.to_numpy(), "or": orr, "or_lo": orr * np.exp(-half), "or_hi": orr * np.exp(half)})


def content_lift(
    leads: pd.DataFrame,
    touches: pd.DataFrame,
    stage: str,
    as_of: pd.Timestamp,
    window_days: int | None = None,
    strata: tuple[str, ...] = ("channel",),
    fy_start_month: int = 1,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Conversion of leads who touched each asset against comparable leads who did not.

    For ``stage`` ``"mql_sql"`` (among MQLs) or ``"sql_customer"`` (among SQLs), see
    :func:`stage_cohort` and :func:`exposures`. Per asset: crude rates of touched / untouched leads with
    Wilson intervals, and the adjusted lift = Mantel–Haenszel risk difference (touched − untouched)
    over strata channel × quarter reached (:func:`mh_risk_difference`), plus the Mantel–Haenszel odds
    ratio (:func:`mh_odds_ratio`). Columns ``content_id, touched, touched_conv, rate_touched(_lo/_hi),
    untouched, untouched_conv, rate_untouched, lift, lift_lo, lift_hi, lift_se, or, or_lo, or_hi, cohort``.
    """
    cohort = stage_cohort(leads, stage, as_of, window_days, strata, fy_start_month)
    exp = exposures(cohort, touches)
    per_stratum = cohort.groupby("stratum", sort=False)["converted"].agg(N="size", K="sum").reset_index()
    t1 = (
        exp.groupby(["content_id", "stratum"], sort=False)["converted"]
        .agg(n1="size", k1="sum")
        .reset_index()
        .merge(per_stratum, on="stratum", how="left")
    )
    t1 = t1.assign(n0=t1["N"] - t1["n1"], k0=t1["K"] - t1["k1"])
    mh = mh_risk_difference(t1, "content_id", level)
    crude = t1.groupby("content_id", sort=False)[["n1", "k1"]].sum().reset_index()
    n_all, k_all = len(cohort), int(cohort["converted"].sum())
    r1 = rate_table(crude["k1"], crude["n1"], level)
    r0 = rate_table(k_all - crude["k1"], n_all - crude["n1"], level)
    out = pd.DataFrame(
        {
            "content_id": crude["content_id"].to_numpy(),
            "touched": crude["n1"].to_numpy(int),
            "touched_conv": crude["k1"].to_numpy(int),
            "rate_touched": r1["rate"].to_numpy(),
            "rate_touched_lo": r1["lo"].to_numpy(),
            "rate_touched_hi": r1["hi"].to_numpy(),
            "untouched": (n_all - crude["n1"]).to_numpy(int),
            "untouched_conv": (k_all - crude["k1"]).to_numpy(int),
            "rate_untouched": r0["rate"].to_numpy(),
        }
    )
    out = out.merge(
        mh.rename(columns={"rd": "lift", "lo": "lift_lo", "hi": "lift_hi"})[
            ["content_id", "lift", "lift_lo", "lift_hi", "se"]
        ].rename(columns={"se": "lift_se"}),
        on="content_id",
        how="left",
    )
    out = out.merge(mh_odds_ratio(t1, "content_id", level), on="content_id", how="left")
    return out.assign(cohort=n_all).sort_values("lift", ascending=False, na_position="last").reset_index(drop=True)


def content_ranking(
    mql_sql: pd.DataFrame,
    sql_customer: pd.DataFrame,
    content: pd.DataFrame | None = None,
    family_level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """One row per asset with both lifts, ranked by the lift we can be sure of.

    best_lift = max(MQL→SQL lift, SQL→customer lift) (risk differences; an asset helps if it helps at one
    stage). Rank by ``rank_score`` = max over the two stages of the lower end of the 90% interval, so an
    asset read by few leads, whose point estimate is noisy, does not outrank a well-measured one. The verdict corrects for naming many assets at once (Bonferroni over the m asset × stage
    comparisons, family-wise level ``family_level``): **helps** when lift − z·se > 0 for either stage (and at
    least ``MIN_CLAIM_N`` leads touched the asset at that stage — the claim rule) with
    z = Φ⁻¹(1 − (1 − family_level)/(2m)); **hurts** when lift + z·se < 0 for a stage and it helps at none;
    otherwise **no evidence it helps** (including assets touched too rarely to judge). The intervals shown
    stay the per-comparison 90% intervals.
    """
    keep = ["content_id", "touched", "rate_touched", "rate_untouched", "lift", "lift_lo", "lift_hi", "lift_se", "or"]
    a = mql_sql[keep].add_prefix("mql_sql_").rename(columns={"mql_sql_content_id": "content_id"})
    b = sql_customer[keep].add_prefix("sql_customer_").rename(columns={"sql_customer_content_id": "content_id"})
    out = a.merge(b, on="content_id", how="outer")
    if content is not None:
        out = content[["content_id", "title", "type"]].merge(out, on="content_id", how="left")
    m = max(int(out["mql_sql_lift"].notna().sum() + out["sql_customer_lift"].notna().sum()), 1)
    z = float(st.norm.ppf(1 - (1 - family_level) / (2 * m)))
    # the claim rule (docs/assumptions.md): a verdict needs n ≥ MIN_CLAIM_N leads who touched the asset
    big1 = out["mql_sql_touched"].fillna(0) >= MIN_CLAIM_N
    big2 = out["sql_customer_touched"].fillna(0) >= MIN_CLAIM_N
    helps = (((out["mql_sql_lift"] - z * out["mql_sql_lift_se"]) > 0) & big1) | (
        ((out["sql_customer_lift"] - z * out["sql_customer_lift_se"]) > 0) & big2
    )
    hurts = (
        (((out["mql_sql_lift"] + z * out["mql_sql_lift_se"]) < 0) & big1)
        | (((out["sql_customer_lift"] + z * out["sql_customer_lift_se"]) < 0) & big2)
    ) & ~helps
    out = out.assign(verdict=np.where(helps, "helps", np.where(hurts, "hurts", "no evidence it helps")))
    out = out.assign(
        best_lift=out[["mql_sql_lift", "sql_customer_lift"]].max(axis=1),
        rank_score=out[["mql_sql_lift_lo", "sql_customer_lift_lo"]].max(axis=1),
    )
    out = out.sort_values(["rank_score", "best_lift"], ascending=False, na_position="last").reset_index(drop=True)
    return out.assign(rank=np.arange(1, len(out) + 1))


def judged_assets(ranking: pd.DataFrame) -> pd.DataFrame:
    """The assets of a :func:`content_ranking` with a lift at one stage at least (``best_lift`` not NaN): those
    touched by leads of a mature cohort in a stratum with untouched leads too — the ones a chart can show."""
    return ranking.dropna(subset=["best_lift"])


def content_verdicts(ranking: pd.DataFrame) -> dict:
    """How many ranked assets help and how many do not (:func:`content_ranking`'s verdicts).

    helpful = #assets with verdict *helps*; unhelpful = assets − helpful (*hurts* and *no evidence it helps*).
    Keys ``assets, helpful, unhelpful, ranking`` (content ids, best first) and ``helpful_ids``.
    """
    helps = ranking["verdict"] == "helps"
    return {
        "assets": len(ranking),
        "helpful": int(helps.sum()),
        "unhelpful": int((~helps).sum()),
        "ranking": ranking["content_id"].tolist(),
        "helpful_ids": ranking.loc[helps, "content_id"].tolist(),
    }


def content_reach_leads(
    leads: pd.DataFrame, touches: pd.DataFrame | None, content_id: str | None, quarter: Quarter
) -> pd.DataFrame | None:
    """The MQLs of ``quarter`` (``mql_at`` in it) who touched the asset ``content_id`` — the reach of
    :func:`best_content_impact`, ``len()`` = its ``reach``: ``lead_id, owner_id, channel, mql_at`` and the
    ``content_id``. None when ``content_id`` is None (no asset helps) or there are no touches."""
    if content_id is None or touches is None or "mql_at" not in leads.columns:
        return None
    m = leads.loc[quarter.contains(leads["mql_at"])]
    hit = touches.loc[touches["content_id"] == content_id, "lead_id"].unique()
    rows = m.loc[m["lead_id"].isin(hit)].drop_duplicates("lead_id")
    cols = [c for c in ("lead_id", "owner_id", "channel", "mql_at") if c in rows.columns]
    return rows[cols].assign(content_id=content_id).sort_values(["mql_at", "lead_id"]).reset_index(drop=True)


def best_content_impact(
    ranking: pd.DataFrame, leads: pd.DataFrame, touches: pd.DataFrame, quarter: Quarter, deal_value: float
) -> dict | None:
    """Estimated revenue per quarter from doubling the reach of the asset with the largest proven MQL→SQL lift.

    impact = lift(MQL→SQL) × (MQLs of the quarter who touched it) × SQL→customer rate of the quarter's
    mature SQL cohort × average won deal value. None when no asset helps at MQL→SQL.
    """
    ok = ranking[(ranking["mql_sql_lift_lo"] > 0) & (ranking["mql_sql_touched"].fillna(0) >= MIN_CLAIM_N)]
    if ok.empty or not np.isfinite(deal_value):
        return None
    best = ok.iloc[0]
    reach = len(content_reach_leads(leads, touches, best["content_id"], quarter))
    sqls = stage_cohort(leads, "sql_customer", quarter.end)
    sql_rate = float(sqls["converted"].mean()) if len(sqls) else float("nan")
    impact = float(best["mql_sql_lift"]) * reach * sql_rate * deal_value
    name = best["title"] if "title" in best.index and isinstance(best["title"], str) else best["content_id"]
    return {
        "content_id": best["content_id"],
        "name": name,
        "lift": float(best["mql_sql_lift"]),
        "touched": int(best["mql_sql_touched"]),
        "reach": int(reach),
        "sql_customer_rate": sql_rate,
        "deal_value": deal_value,
        "impact": impact if np.isfinite(impact) else 0.0,
    }


# --------------------------------------------------------------------------------------------------
# freshness
# --------------------------------------------------------------------------------------------------
def content_freshness(
    content: pd.DataFrame, touches: pd.DataFrame | None, quarter: Quarter, stale_days: int = 365
) -> pd.DataFrame:
    """Age of each asset at the end of the quarter and how much it is still used.

    age = quarter end − (``updated_at``, else ``published_at``) in days; stale when age > ``stale_days``
    (``audit.yaml`` ``stale_content_days``). Usage in the quarter: touches, distinct leads, share of all
    touches (Wilson interval). Assets with no date are reported with age NaN and not flagged.
    """
    as_of = quarter.end
    last = content["updated_at"] if "updated_at" in content.columns else pd.Series(pd.NaT, index=content.index)
    if "published_at" in content.columns:
        last = last.fillna(content["published_at"])
    age = (as_of - last).dt.total_seconds() / 86400
    out = content[["content_id", "title", "type"]].assign(
        last_updated=last.to_numpy(), age_days=age.to_numpy(), stale=(age > stale_days).to_numpy()
    )
    if touches is not None and len(touches):
        tq = touches[quarter.contains(touches["touched_at"])]
        use = tq.groupby("content_id").agg(touches=("lead_id", "size"), leads=("lead_id", "nunique"))
        out = out.merge(use, left_on="content_id", right_index=True, how="left")
        out[["touches", "leads"]] = out[["touches", "leads"]].fillna(0).astype(int)
        r = rate_table(out["touches"], np.full(len(out), len(tq)))
        out = out.assign(share=r["rate"].to_numpy(), share_lo=r["lo"].to_numpy(), share_hi=r["hi"].to_numpy())
    else:
        out = out.assign(touches=0, leads=0, share=np.nan, share_lo=np.nan, share_hi=np.nan)
    return out.sort_values(["stale", "touches"], ascending=[False, False]).reset_index(drop=True)


def stale_summary(fresh: pd.DataFrame, stale_days: int) -> dict:
    """Number of stale assets and their share of this quarter's touches (Wilson interval)."""
    stale = fresh[fresh["stale"]]
    k, n = int(stale["touches"].sum()), int(fresh["touches"].sum())
    r = rate_table([k], [n]).iloc[0]
    return {
        "stale_assets": int(len(stale)),
        "assets": int(len(fresh)),
        "stale_touches": k,
        "touches": n,
        "stale_share": r["rate"],
        "lo": r["lo"],
        "hi": r["hi"],
        "stale_days": stale_days,
    }
