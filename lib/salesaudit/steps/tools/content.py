"""Step 02 — which content helps, and whether it is current.

Content lift compares leads who touched an asset with comparable leads who did not, among the leads
that reached a stage (MQL → SQL among MQLs, SQL → customer among SQLs):

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
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from salesaudit import text
from salesaudit.claims import n_is
from salesaudit.periods import Quarter, quarter_labels
from salesaudit.stats import DEFAULT_LEVEL, MIN_CLAIM_N, rate_table, z_of

#: follow-up windows (days) for the two comparisons
WINDOWS: dict[str, int] = {"mql_sql": 90, "sql_customer": 180}
STAGES: dict[str, tuple[str, str]] = {"mql_sql": ("mql_at", "sql_at"), "sql_customer": ("sql_at", "customer_at")}
STAGE_LABEL = {"mql_sql": "MQL→SQL", "sql_customer": "SQL→customer"}


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


def content_sentences(ranking: pd.DataFrame) -> list[str]:
    """Which assets help (largest adjusted lift first) and which do not."""
    if ranking.empty:
        return ["No content touches in mature cohorts, so no asset can be judged yet."]
    name = ranking["title"] if "title" in ranking.columns else ranking["content_id"]
    r = ranking.assign(name=name.fillna(ranking["content_id"]))
    out = []
    helps = r[r["verdict"] == "helps"]
    for _, x in helps.head(3).iterrows():
        parts = []
        for stage in ("mql_sql", "sql_customer"):
            if x[f"{stage}_lift_lo"] > 0 and x[f"{stage}_touched"] >= MIN_CLAIM_N:
                parts.append(
                    f"{STAGE_LABEL[stage]} {text.pp(x[f'{stage}_lift'])} "
                    f"{text.interval(x[f'{stage}_lift_lo'], x[f'{stage}_lift_hi'], text.pp)}, "
                    f"{n_is(x[f'{stage}_touched'])} touched"
                )
        out.append(
            f"**{x['name']}** helps: leads who touched it convert better than comparable leads "
            f"(same channel and quarter): {'; '.join(parts)}."
        )
    if helps.empty:
        out.append("No asset shows a lift larger than the noise.")
    hurt = r[r["verdict"] == "hurts"]
    if len(hurt):
        out.append(
            f"Leads who touched {', '.join(f'**{n}** ({n_is(t)})' for n, t in zip(hurt['name'], hurt[['mql_sql_touched', 'sql_customer_touched']].max(axis=1)))} convert *worse* than comparable "
            "leads — check what these assets promise, or retire them."
        )
    nope = r[r["verdict"] == "no evidence it helps"]
    if len(nope):
        names = ", ".join(nope["name"])
        out.append(
            f"No evidence that these {len(nope)} help: {names}. Rework or retire them before producing more "
            "of the same kind."
        )
    out.append(
        "Adjusted for acquisition channel and the quarter the lead reached the stage (Mantel–Haenszel "
        "risk difference); verdicts allow for testing many assets at once (Bonferroni). This is an "
        "observational comparison, not an experiment."
    )
    return out


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


def freshness_sentences(fresh: pd.DataFrame, summary: dict) -> list[str]:
    """Sentences naming the stale assets that are still used."""
    if summary["stale_assets"] == 0:
        return [f"All {summary['assets']} assets were updated within the last {summary['stale_days']} days."]
    stale = fresh[fresh["stale"]]
    used = stale[stale["touches"] > 0]
    out = [
        f"{summary['stale_assets']} of {summary['assets']} assets were not updated for more than "
        f"{summary['stale_days']} days."
    ]
    if len(used):
        names = ", ".join(
            f"**{t}** ({text.num(a)} days old, {text.num(u)} touches)"
            for t, a, u in zip(used["title"], used["age_days"], used["touches"])
        )
        out.append(
            f"Still in use: {names} — {text.pct(summary['stale_share'])} of this quarter's touches "
            f"{text.interval(summary['lo'], summary['hi'])}. Review and update these first."
        )
    else:
        out.append("None of them was touched this quarter: retire them or refresh them before reuse.")
    return out


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
    mqls = leads[quarter.contains(leads["mql_at"])]["lead_id"]
    reach = touches[(touches["content_id"] == best["content_id"]) & touches["lead_id"].isin(mqls)]["lead_id"].nunique()
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


def ranking_table(ranking: pd.DataFrame) -> pd.DataFrame:
    """The content ranking as a compact table: adjusted lifts in pp with 90% intervals."""
    from salesaudit.text import fmt_ci

    name = ranking["title"] if "title" in ranking.columns else ranking["content_id"]
    return pd.DataFrame(
        {
            "Rank": ranking["rank"],
            "Asset": name.fillna(ranking["content_id"]).str.slice(0, 48),
            "MQLs touched": ranking["mql_sql_touched"].fillna(0).astype(int),
            "MQL→SQL lift": fmt_ci(
                ranking["mql_sql_lift"], ranking["mql_sql_lift_lo"], ranking["mql_sql_lift_hi"], suffix=" pp"
            ),
            "SQLs touched": ranking["sql_customer_touched"].fillna(0).astype(int),
            "SQL→customer lift": fmt_ci(
                ranking["sql_customer_lift"],
                ranking["sql_customer_lift_lo"],
                ranking["sql_customer_lift_hi"],
                suffix=" pp",
            ),
            "Verdict": ranking["verdict"],
        }
    ).set_index("Rank")


def freshness_table(fresh: pd.DataFrame) -> pd.DataFrame:
    """Asset age and this quarter's use, stale assets first."""
    return pd.DataFrame(
        {
            "Asset": fresh["title"].str.slice(0, 48),
            "Type": fresh["type"],
            "Last updated": pd.to_datetime(fresh["last_updated"]).dt.strftime("%Y-%m-%d").fillna("—"),
            "Age (days)": fresh["age_days"].map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}"),
            "Stale": np.where(fresh["stale"], "yes", ""),
            "Touches this quarter": fresh["touches"],
            "Share of touches": fresh["share"].map(lambda v: "—" if pd.isna(v) else text.pct(v)),
        }
    ).set_index("Asset")
