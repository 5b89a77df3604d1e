"""Step 03 · lead quality — the words: chart titles, "What this means" sentences, findings, recorded figures.

Every function takes results of :mod:`.metrics` and returns strings, lists, dicts or findings
(:class:`salesaudit.findings.Finding`); no charts here (:mod:`.view`), no numbers computed from raw tables
(:mod:`.metrics`). Every data-derived word reaches the reader through ``text.what_this_means`` /
``text.note`` in the notebook, which escape it once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import stats, text
from salesaudit.claims import n_is
from salesaudit.findings import Finding
from salesaudit.periods import Quarter
from salesaudit.steps.leads.metrics import CAMPAIGN_DAYS, STALE_DAYS, Cohort, best_and_worst


# ==================================================================================================
# 1. value per lead
# ==================================================================================================
def _n(k: int, noun: str) -> str:
    """``1 campaign`` / ``3 campaigns``."""
    return f"{k:,} {noun}{'' if k == 1 else 's'}"


def _money(v: float, currency: str = "EUR") -> str:
    """Money with thousands separators in full below a million (``EUR 9,873``), else ``text.money``."""
    return text.money(v, currency) if pd.isna(v) or abs(v) >= 1e6 else f"{currency} {v:,.0f}"


_SNAPSHOT = Cohort(first=None, last=None, horizon_days=0, as_of=pd.NaT)  # marker: undated snapshot


def cohort_words(cohort: Cohort | None) -> str:
    """The leads the value and score sections use, in words (an undated snapshot when ``cohort`` is None)."""
    return (cohort or _SNAPSHOT).label


def finding_sentences(findings: list[Finding], currency: str) -> list[str]:
    """One sentence per finding with its recommendation and estimated effect (revenue per quarter)."""
    return [
        f"{f.text} **Recommendation:** {f.recommendation} "
        f"*Estimated effect {text.money(f.impact, currency)} a quarter — {f.basis}.*"
        for f in findings
    ]


def value_sentences(
    table: pd.DataFrame,
    cohort: Cohort | None,
    by: str = "channel",
    currency: str = "EUR",
    newer: list[str] | None = None,
) -> list[str]:
    """Sentences for "What this means" of the value-per-lead section, built from the table.

    ``cohort`` None: an undated snapshot (every lead as exported). ``newer``: channels too new to have a
    mature cohort (:func:`.metrics.new_channels`), named so the reader does not look for them in vain. Best and worst
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
    if a is None or np.isnan(a):  # every scored lead an SQL, or none (a product's slice): nothing to separate
        out.append(
            f"The lead score's AUC cannot be computed: {text.num(auc['n_pos'])} SQLs and "
            f"{text.num(auc['n_neg'])} non-SQLs among the scored leads, so there is nothing to tell apart."
        )
    else:
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
    """Headline of the hand-off chart: the acceptance rate and the share never picked up."""
    if table.empty:
        return "No MQLs in the quarter"
    a = table.iloc[-1]
    return (
        f"Sales accepts {text.pct(a['accept_rate'], 0)} of MQLs; "
        f"{text.pct(a['never accepted'] / a['mqls'], 0)} are never picked up"
    )


def pareto_title(p: pd.DataFrame, of: str = "disqualifications") -> str:
    """Headline of the Pareto chart: the top two reasons and their cumulative share."""
    if p.empty:
        return f"No {of} in the quarter"
    if len(p) == 1:
        return f"All {of}: '{p['reason'].iloc[0]}'"
    return f"'{p['reason'].iloc[0]}' and '{p['reason'].iloc[1]}' cause {text.pct(p['cum_share'].iloc[1], 0)} of {of}"


def campaign_title(t: pd.DataFrame) -> str:
    """Headline of the campaign chart: how many high-volume campaigns convert clearly below average."""
    if t.empty:
        return "No campaign leads in the quarter"
    k = int(t["nurture"].sum())
    if k:
        return f"{k} high-volume campaign{'s' if k > 1 else ''} convert{'' if k > 1 else 's'} clearly below average"
    return "No high-volume campaign converts clearly below average"


# ==================================================================================================
# findings
# ==================================================================================================
def _in_order(rows: pd.DataFrame | None, by: list[str]) -> pd.DataFrame | None:
    """``rows`` sorted by those of the columns ``by`` it has (evidence in a stable order), index dropped."""
    if rows is None:
        return None
    keys = [c for c in by if c in rows.columns]
    return (rows.sort_values(keys) if keys else rows).reset_index(drop=True)


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
) -> list[Finding]:
    """The step's findings, largest estimated quarterly revenue effect first (at most ``max_findings``).

    All impacts are priced with the cohort's revenue per SQL (won amount ÷ SQLs, ``value`` All row):

    * ``mql_threshold`` — band leads a quarter × |band SQL rate − reference rate| × revenue per SQL
      (SQLs gained, or sales capacity spent on below-average leads, by moving the hand-over line to the
      suggested threshold); only when the used threshold lies outside the suggested one's interval;
    * ``mql_never_accepted`` — never-accepted MQLs of the quarter × SQL rate of accepted MQLs in the
      cohort × revenue per SQL (what they would bring if worked like the accepted ones);
    * ``nurture_campaigns`` — Σ mature leads × (overall − campaign SQL rate) × revenue per SQL (the
      shortfall against an average campaign).

    Each is a :class:`~salesaudit.findings.Finding` placed in its section; impacts ≤ 0 (or not a number)
    are dropped.
    """
    if value is None or value.empty or pd.isna(value.iloc[-1].get("revenue_per_sql", np.nan)):
        return []
    rps = float(value.iloc[-1]["revenue_per_sql"])
    out: list[Finding] = []
    scored = comp is not None and used is not None and best is not None
    th_outside = scored and not (np.isnan(best["lo"]) or best["lo"] <= used["threshold"] <= best["hi"])
    if scored and comp["direction"] != "aligned" and th_outside and comp["band_leads"] > 0:
        impact = comp["band_per_quarter"] * comp["yield_gap"] * rps
        lo_t, hi_t = sorted((used["threshold"], best["threshold"]))
        band = (
            outcomes.loc[outcomes["lead_score"].ge(lo_t) & outcomes["lead_score"].lt(hi_t)]
            if "lead_score" in outcomes.columns
            else None
        )
        cohort_n = f" ({text.num(comp['band_leads'])} in the value cohort)" if comp.get("per") == "a quarter" else ""
        between = (
            f"{text.num(comp['band_per_quarter'])} leads {comp.get('per', 'a quarter')}{cohort_n} scoring {lo_t:.0f} "
            f"to under {hi_t:.0f} reach SQL at {text.pct(comp['band_sql_rate'])} vs {rule_words(best)[1]}"
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
        if impact > 0:
            out.append(
                Finding(
                    "mql_threshold",
                    txt,
                    impact,
                    section="03_lead_quality#2",
                    recommendation=rec,
                    basis=(
                        "leads a quarter between the two thresholds × (break-even − their SQL rate) × revenue "
                        "per SQL: what working them costs beyond what they return"
                        if best.get("rule") == "breakeven"
                        else "upper bound: leads a quarter between the two thresholds × the gap between their SQL "
                        "rate and the average MQL's × revenue per SQL, if their sales time went to leads "
                        "converting like the average MQL"
                    ),
                    evidence=_in_order(band, ["lead_id"]),
                )
            )
    never = int((handoff["state"] == "never accepted").sum()) if handoff is not None and not handoff.empty else 0
    acc = outcomes.loc[outcomes["mql"] & outcomes["accepted"]]
    if never > 0 and len(acc):
        p_sql = float(acc["sql"].mean())
        impact = never * p_sql * rps
        if impact > 0:
            out.append(
                Finding(
                    "mql_never_accepted",
                    f"{text.num(never)} MQLs of {quarter.label} were never picked up by sales (neither "
                    f"accepted nor rejected after {stale_days} days); accepted MQLs reach SQL "
                    f"{text.pct(p_sql)} of the time.",
                    impact,
                    section="03_lead_quality#3",
                    recommendation="Agree a follow-up service level for MQLs (e.g. 2 working days) and "
                    "re-route unclaimed MQLs automatically.",
                    basis="never-accepted MQLs × SQL rate of accepted MQLs × revenue per SQL",
                    evidence=_in_order(
                        handoff.loc[handoff["state"] == "never accepted"].rename(
                            columns={"followed_days": "days_since_mql"}
                        ),
                        ["mql_at", "lead_id"],
                    ),
                )
            )
    if campaigns is not None and not campaigns.empty and campaigns["nurture"].any():
        nur = campaigns.loc[campaigns["nurture"]]
        gap = (nur["overall_rate"] - nur["sql_rate"]).clip(lower=0)
        names = ", ".join(nur["name"].astype(str).head(3)) + (" …" if len(nur) > 3 else "")
        impact = float((nur["mature"] * gap).sum() * rps)
        if impact > 0:
            out.append(
                Finding(
                    "nurture_campaigns",
                    f"{_n(len(nur), 'high-volume campaign')} of {quarter.label} convert"
                    f"{'s' if len(nur) == 1 else ''} clearly below average ({names}): "
                    f"{'its' if len(nur) == 1 else 'their'} leads reach sales before they are ready.",
                    impact,
                    section="03_lead_quality#4",
                    recommendation=f"Send the leads of {names} to a nurture stream; hand them to sales only "
                    "once they pass the score threshold.",
                    basis="mature leads × (average − campaign SQL rate) × revenue per SQL",
                    evidence=_in_order(nur.rename(columns={"mature": "mature_leads"}), ["campaign_id"]),
                )
            )
    return sorted(out, key=lambda f: -f.impact)[:max_findings]


# ==================================================================================================
# recorded figures: {name: keyword arguments of ``report.record.record``} for the notebook to record
# ==================================================================================================
def _figure(name: str, value, **kwargs) -> dict:
    """One figure to record: ``rec.record(**d)`` in the notebook."""
    return {"name": name, "value": value, **kwargs}


def _by_name(*figures: dict) -> dict[str, dict]:
    return {f["name"]: f for f in figures}


def value_figures(value: pd.DataFrame, cohort: Cohort | None, section: str) -> dict[str, dict]:
    """The value section's figures from :func:`.metrics.value_per_lead` (its ``All`` row; the best channel
    only when :func:`.metrics.best_and_worst` names one): lead → SQL rate, revenue per lead, average won
    deal and win rate of the cohort, revenue per lead of the best channel."""
    tot = value.iloc[-1]
    common = {"section": section, "higher_is_better": True, "cohort": cohort_words(cohort)}
    top = best_and_worst(value.iloc[:-1])
    best = top[0] if top else None
    return _by_name(
        _figure(
            "lead_to_sql_rate",
            tot["sql_rate"],
            label="Lead → SQL rate",
            unit="%",
            lo=tot["sql_rate_lo"],
            hi=tot["sql_rate_hi"],
            n=tot["leads"],
            **common,
        ),
        _figure(
            "revenue_per_lead",
            tot["revenue_per_lead"],
            label="Won revenue per lead",
            unit="money",
            lo=tot["revenue_per_lead_lo"],
            hi=tot["revenue_per_lead_hi"],
            n=tot["leads"],
            **common,
        ),
        _figure(
            "cohort_avg_deal",
            tot["avg_deal"],
            label="Average won deal of the value cohort",
            unit="money",
            lo=tot["avg_deal_lo"],
            hi=tot["avg_deal_hi"],
            n=tot["won"],
            **common,
        ),
        _figure(
            "cohort_win_rate",
            tot["win_rate"],
            label="Win rate of the cohort's deals",
            unit="%",
            lo=tot["win_rate_lo"],
            hi=tot["win_rate_hi"],
            n=tot["won"] + tot["lost"],
            **common,
        ),
        _figure(
            "best_channel_revenue_per_lead",
            None if best is None else best["revenue_per_lead"],
            label="Revenue per lead of the top channel (no channel stands out)"
            if best is None
            else f"Revenue per lead, best channel ({best['channel']}, n = {best['leads']:,.0f})",
            unit="money",
            lo=None if best is None else best["revenue_per_lead_lo"],
            hi=None if best is None else best["revenue_per_lead_hi"],
            n=None if best is None else best["leads"],
            section=section,
            higher_is_better=True,
            channel=None if best is None else best["channel"],
        ),
    )


def score_figures(auc: dict, auc_mql: dict, used: dict, best: dict, section: str) -> dict[str, dict]:
    """The lead-score section's figures: AUC over all scored cohort leads and among the MQLs
    (:func:`.metrics.score_auc`), the threshold in use (:func:`.metrics.used_threshold`) and the suggested
    one (:func:`.metrics.best_threshold`)."""
    return _by_name(
        _figure(
            "lead_score_auc",
            auc["auc"],
            label="Lead score AUC (SQL vs not)",
            unit="ratio",
            lo=auc["lo"],
            hi=auc["hi"],
            n=auc["n"],
            section=section,
            higher_is_better=True,
        ),
        _figure(
            "lead_score_auc_mql",
            auc_mql["auc"],
            label="Lead score AUC among MQLs",
            unit="ratio",
            lo=auc_mql["lo"],
            hi=auc_mql["hi"],
            n=auc_mql["n"],
            section=section,
            higher_is_better=True,
        ),
        _figure(
            "mql_threshold_used",
            used["threshold"],
            label="MQL score threshold in use (1st percentile of MQLs)",
            unit="score",
            n=used["n"],
            section=section,
        ),
        _figure(
            "mql_threshold_suggested",
            best["threshold"],
            label="Score threshold the outcomes suggest",
            unit="score",
            lo=best["lo"],
            hi=best["hi"],
            n=best["n"],
            section=section,
            rule=best["rule"],
        ),
    )


def handoff_figures(table: pd.DataFrame, section: str, stale_days: int = STALE_DAYS) -> dict[str, dict]:
    """The hand-off section's figures from the ``All`` row of :func:`.metrics.handoff_table` (no value, and
    0 MQLs never picked up, when no lead became MQL): MQL → SAL rate, median days to acceptance, MQLs never
    picked up, share rejected."""
    a = table.iloc[-1] if len(table) else None
    return _by_name(
        _figure(
            "mql_to_sal_rate",
            None if a is None else a["accept_rate"],
            label="MQL → SAL rate (MQLs old enough to judge)",
            unit="%",
            lo=None if a is None else a["accept_rate_lo"],
            hi=None if a is None else a["accept_rate_hi"],
            n=None if a is None else a["mqls"] - a["waiting"],
            section=section,
            higher_is_better=True,
        ),
        _figure(
            "mql_to_sal_days",
            None if a is None else a["median_delay"],
            label="Median days MQL → accepted",
            unit="days",
            n=None if a is None else a["accepted"],
            section=section,
            higher_is_better=False,
        ),
        _figure(
            "mql_never_accepted",
            0 if a is None else a["never accepted"],
            label=f"MQLs never picked up (> {stale_days} days)",
            unit="count",
            n=None if a is None else a["mqls"],
            section=section,
            higher_is_better=False,
        ),
        _figure(
            "mql_rejected_share",
            None if a is None else a["rejected"] / a["mqls"],
            label="Share of MQLs rejected by sales",
            unit="%",
            n=None if a is None else a["mqls"],
            section=section,
            higher_is_better=False,
        ),
    )


def recycled_figures(rec: dict, section: str) -> dict[str, dict]:
    """The figures of :func:`.metrics.recycled`: MQLs sent back to marketing, and the share of them sent back
    for a 'not yet' reason."""
    return _by_name(
        _figure(
            "mqls_recycled",
            rec["recycled"],
            label="MQLs sent back to marketing",
            unit="count",
            section=section,
            higher_is_better=False,
        ),
        _figure(
            "recycled_not_yet_share",
            rec["too_early_share"],
            label="Recycled MQLs with a 'not yet' reason",
            unit="%",
            lo=rec["lo"],
            hi=rec["hi"],
            n=rec["recycled"],
            section=section,
            higher_is_better=False,
        ),
    )


def campaign_figures(t: pd.DataFrame, section: str) -> dict[str, dict]:
    """The figures of :func:`.metrics.campaign_table`: campaigns with leads in the quarter, and how many of
    them are nurture candidates."""
    return _by_name(
        _figure("campaigns", len(t), label="Campaigns with leads in the quarter", unit="count", section=section),
        _figure(
            "nurture_campaigns",
            int(t["nurture"].sum()) if len(t) else 0,
            label="High-volume, low-conversion campaigns (nurture candidates)",
            unit="count",
            section=section,
            higher_is_better=False,
        ),
    )
