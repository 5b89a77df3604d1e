"""Step 02 — titles, "What this means" sentences, recorded figures and findings of the tools-and-content audit.

Every function takes results of :mod:`salesaudit.steps.tools.metrics` and returns text (a title, a list of
sentences), the keyword arguments of the figures the notebook records (``{name: kwargs}``, recorded with
``rec.record("name", **figs["name"])``; label, unit and direction come from ``report/figures.py`` unless the
label is more specific) or findings (``[Finding, …]`` of :mod:`salesaudit.findings`, for ``report.record.record_findings``).
Data-derived words pass the formatters of :mod:`salesaudit.text`; a "best"/"worst"/"beyond the noise" claim
follows the claim rule (:mod:`salesaudit.claims`). No charts here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import text
from salesaudit.claims import extremes, n_is, no_standout
from salesaudit.findings import Finding
from salesaudit.speed import speed_sentence
from salesaudit.stats import MIN_CLAIM_N
from salesaudit.steps.tools import metrics
from salesaudit.steps.tools.metrics import NEVER_CONTACTED_DAYS

__all__ = [
    "STAGE_LABEL",
    "email_sentences",
    "stream_title",
    "email_figures",
    "content_sentences",
    "content_title",
    "content_figures",
    "content_findings",
    "freshness_sentences",
    "freshness_title",
    "freshness_figures",
    "manual_work_sentences",
    "activities_title",
    "contact_title",
    "activities_figures",
    "contact_figures",
    "contact_findings",
]

STAGE_LABEL = {"mql_sql": "MQL→SQL", "sql_customer": "SQL→customer"}

#: how the two findings put money on the effect (the ``basis`` recorded with them)
_DEAL_VALUE = "average deal value (funnel.average_deal_value)"


# --------------------------------------------------------------------------------------------------
# e-mail streams
# --------------------------------------------------------------------------------------------------
def email_sentences(card: pd.DataFrame) -> list[str]:
    """ "What this means" sentences for the stream scorecard (best / lagging streams, biggest moves).

    "Engages best", "lags" and "highest unsubscribe rate" follow the claim rule (:mod:`salesaudit.claims`:
    n ≥ MIN_CLAIM_N delivered e-mails in each stream compared, intervals apart), with their n.
    """
    if card.empty:
        return ["No e-mails were sent this quarter."]
    c = extremes(card, "click_rate", "base", "click_rate_lo", "click_rate_hi")
    if c.ok:
        best, worst = c.top, c.bottom
        out = [
            f"**{best['stream']}** engages best: click rate {text.pct(best['click_rate'])} "
            f"{text.interval(best['click_rate_lo'], best['click_rate_hi'])}, click-to-open {text.pct(best['click_to_open'])}, "
            f"{n_is(best['base'])} delivered e-mails; **{worst['stream']}** the least: "
            f"{text.pct(worst['click_rate'])}, {n_is(worst['base'])}."
        ]
    else:
        out = [no_standout("stream's click rate", c.ns)]
    lag = card[(card["verdict"] == "lags") & (card["base"] >= MIN_CLAIM_N)]
    if len(lag):
        names = ", ".join(
            f"**{s}** ({text.pct(r)}, {n_is(b)})" for s, r, b in zip(lag["stream"], lag["click_rate"], lag["base"])
        )
        out.append(f"Lagging (click rate below the other streams beyond the noise): {names}.")
    else:
        out.append("No stream's click rate is below the others by more than the noise.")
    u = extremes(card, "unsubscribe_rate", "base", "unsubscribe_rate_lo", "unsubscribe_rate_hi")
    if u.ok:
        unsub = u.top
        out.append(
            f"Highest unsubscribe rate: **{unsub['stream']}** at {text.pct(unsub['unsubscribe_rate'], 2)} of delivered "
            f"e-mails {text.interval(unsub['unsubscribe_rate_lo'], unsub['unsubscribe_rate_hi'], lambda x: text.pct(x, 2))}, "
            f"{n_is(unsub['base'])}."
        )
    prev_n = card["base_prev"] if "base_prev" in card.columns else card["base"]
    moved = card[
        ((card["click_rate_change_lo"] > 0) | (card["click_rate_change_hi"] < 0))
        & (card["base"] >= MIN_CLAIM_N)
        & (prev_n.fillna(0) >= MIN_CLAIM_N)
    ]
    for _, r in moved.iterrows():
        out.append(
            f"**{r['stream']}** click rate moved {text.pp(r['click_rate_change'])} against last quarter "
            f"{text.interval(r['click_rate_change_lo'], r['click_rate_change_hi'], text.pp)}."
        )
    if moved.empty:
        out.append("No stream's click rate changed against last quarter by more than the noise.")
    return out


def stream_title(card: pd.DataFrame, quarter_label: str) -> str:
    """Chart title: the best and the lagging stream only when the claim rule allows it."""
    c = extremes(card, "click_rate", "base", "click_rate_lo", "click_rate_hi")
    if c.ok:
        return (
            f"{c.top['stream']} engages best ({n_is(c.top['base'])}), {c.bottom['stream']} least "
            f"({n_is(c.bottom['base'])}): click rate, {quarter_label}"
        )
    return f"No stream's click rate stands out beyond the noise in {quarter_label} ({c.ns} delivered)"


def email_figures(totals: dict, section: str) -> dict[str, dict]:
    """``email_click_rate``, ``email_open_rate``, ``email_click_to_open`` (pooled over all streams, with their
    intervals) and ``lagging_streams`` from :func:`.metrics.email_totals`."""
    n = totals["delivered"]
    figs = {
        f"email_{name}": dict(
            value=totals[name], lo=totals[f"{name}_lo"], hi=totals[f"{name}_hi"], n=den, section=section
        )
        for name, den in (("click_rate", n), ("open_rate", n), ("click_to_open", totals["opens"]))
    }
    return figs | {"lagging_streams": dict(value=totals["lagging"], n=totals["streams"], section=section)}


# --------------------------------------------------------------------------------------------------
# content lift
# --------------------------------------------------------------------------------------------------
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


def content_title(ranking: pd.DataFrame) -> str:
    """Chart title of the content lifts: how many of the ranked assets lift conversion."""
    v = metrics.content_verdicts(ranking)
    return f"{v['helpful']} of {v['assets']} assets lift conversion; the rest show no lift beyond the noise"


def content_figures(ranking: pd.DataFrame, section: str) -> dict[str, dict]:
    """``helpful_content_assets``, ``unhelpful_content_assets`` (:func:`.metrics.content_verdicts`) and
    ``best_content_lift``: the larger lift of the top-ranked asset, labelled with its title, with the ranking
    (``content_ranking``) and the helpful assets (``helpful_ids``) as extra keys."""
    v = metrics.content_verdicts(ranking)
    best = ranking.iloc[0]
    return {
        "helpful_content_assets": dict(value=v["helpful"], n=v["assets"], section=section),
        "unhelpful_content_assets": dict(value=v["unhelpful"], n=v["assets"], section=section),
        "best_content_lift": dict(
            value=best["best_lift"],
            label=f"Largest content lift (pp): {best.get('title', best['content_id'])}",
            n=best["mql_sql_touched"],
            section=section,
            content_ranking=v["ranking"],
            helpful_ids=v["helpful_ids"],
        ),
    }


def content_findings(impact: dict | None, section: str, evidence: pd.DataFrame | None = None) -> list[Finding]:
    """The finding on the best asset (:func:`.metrics.best_content_impact`), when doubling its reach is worth
    something; else none. ``evidence``: the MQLs it reached (:func:`.metrics.content_reach_leads`)."""
    if impact is None or not impact["impact"] > 0:
        return []
    name = impact["name"]
    return [
        Finding(
            slug="content_best_asset",
            text=f"Leads who read '{name}' reach SQL {text.pp(impact['lift'])} more often than comparable leads "
            f"(n = {impact['touched']:,} touched); only {text.num(impact['reach'])} of this quarter's MQLs touched it.",
            impact=impact["impact"],
            section=section,
            recommendation=f"Put '{name}' into the nurture stream and the SDR follow-up so twice as many MQLs see it.",
            basis="revenue per quarter = lift × MQLs reached this quarter (doubling the reach) × SQL→customer rate × "
            + _DEAL_VALUE,
            evidence=evidence,
        )
    ]


# --------------------------------------------------------------------------------------------------
# freshness
# --------------------------------------------------------------------------------------------------
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


def freshness_title(summary: dict, quarter_label: str) -> str:
    """Chart title of content freshness: the stale assets and their share of the quarter's touches."""
    if summary["touches"]:
        return (
            f"{summary['stale_assets']} stale asset(s) still draw {text.pct(summary['stale_share'])} of this "
            "quarter's touches"
        )
    return f"{summary['stale_assets']} stale asset(s); no content touches in {quarter_label}"


def freshness_figures(fresh: pd.DataFrame, summary: dict, section: str) -> dict[str, dict]:
    """``stale_content_assets`` (with the stale ids) and ``stale_content_touch_share`` (None without touches)
    from :func:`.metrics.content_freshness` and :func:`.metrics.stale_summary`."""
    return {
        "stale_content_assets": dict(
            value=summary["stale_assets"],
            label=f"Content assets not updated for > {summary['stale_days']} days",
            n=summary["assets"],
            section=section,
            stale_ids=fresh.loc[fresh["stale"], "content_id"].tolist(),
        ),
        "stale_content_touch_share": dict(
            value=summary["stale_share"] if summary["touches"] else None,
            lo=summary["lo"],
            hi=summary["hi"],
            n=summary["touches"],
            section=section,
        ),
    }


# --------------------------------------------------------------------------------------------------
# manual work
# --------------------------------------------------------------------------------------------------
def manual_work_sentences(
    per_deal: pd.DataFrame | None, per_deal_prev: pd.DataFrame | None, contact: pd.DataFrame | None
) -> list[str]:
    """Sentences on activities per won deal (this vs previous quarter) and first-contact speed (None = no data)."""
    out: list[str] = []
    if per_deal is None:
        out.append("No activities or opportunities data, so activities per won deal cannot be measured.")
    elif len(per_deal) and per_deal["deals"].iloc[0] > 0:
        tot = per_deal.set_index("type").loc["total"]
        prev = per_deal_prev.set_index("type")["per_deal"] if per_deal_prev is not None else pd.Series(dtype=float)
        top = per_deal[per_deal["type"] != "total"].sort_values("per_deal", ascending=False).iloc[0]
        change = ""
        if "total" in prev.index and not np.isnan(prev["total"]):
            change = f" (last quarter {text.num(prev['total'], 1)})"
        iv = text.interval(tot["lo"], tot["hi"], lambda x: text.num(x, 1)) or "(one won deal: no interval)"
        out.append(
            f"A deal won this quarter took {text.num(tot['per_deal'], 1)} logged activities on average "
            f"{iv}{change}; the most frequent kind is "
            f"**{top['type']}** ({text.num(top['per_deal'], 1)} per deal)."
        )
    else:
        out.append("No deals were won this quarter, so activities per won deal cannot be measured.")
    if contact is None:
        out.append("The leads have no first_contact_at column, so speed to first contact cannot be measured.")
    elif len(contact):
        cur = contact.iloc[-1]
        if "leads" in cur.index:
            out.append(
                speed_sentence(
                    {
                        "leads": int(cur["leads"]),
                        "contacted": int(cur["contacted"]),
                        "censored": int(cur["censored"]),
                        "median_hours": cur["median_hours"],
                        "lo_hours": cur.get("median_lo", np.nan),
                        "hi_hours": cur.get("median_hi", np.nan),
                        "within_1_day": cur["within_1_day"],
                    }
                )
            )
        else:
            out.append(
                f"Half of this quarter's new leads were contacted within {text.num(cur['median_hours'], 1)} hours; "
                f"{text.pct(cur['within_1_day'])} within a day."
            )
        if pd.isna(cur["never_rate"]):
            out.append(
                f"No lead of this quarter is {NEVER_CONTACTED_DAYS} days old yet, so leads never contacted are not "
                "measured."
            )
            return out
        out.append(
            f"{text.pct(cur['never_rate'])} of the leads old enough to judge were not contacted within "
            f"{NEVER_CONTACTED_DAYS} days {text.interval(cur['never_lo'], cur['never_hi'])}"
            + (
                f", against {text.pct(contact.iloc[-2]['never_rate'])} the quarter before."
                if len(contact) > 1 and pd.notna(contact.iloc[-2]["never_rate"])
                else "."
            )
        )
    return out


def activities_title(trend: pd.DataFrame, quarter_label: str, previous_label: str) -> str:
    """Chart title for activities per won deal: this quarter against the previous one (when it had won deals)."""
    tot = trend[trend["type"] == "total"].set_index("quarter")
    now = tot["per_deal"].get(quarter_label, np.nan)
    before = tot["per_deal"].get(previous_label, np.nan)
    if not np.isfinite(now):
        return f"No deals won in {quarter_label}"
    n = int(tot["deals"].get(quarter_label, 0))
    head = f"{now:.1f} activities per won deal in {quarter_label} ({n_is(n)} won deals"
    return head + (f"; {before:.1f} before)" if np.isfinite(before) else ")")


def contact_title(contact: pd.DataFrame, quarter_label: str) -> str:
    """Chart title for the first-contact panel (says so when the quarter's leads are too young to judge)."""
    cur = contact.iloc[-1]
    if not cur["never_base"]:
        return f"No {quarter_label} lead is {NEVER_CONTACTED_DAYS} days old yet"
    return f"{text.pct(cur['never_rate'])} of {quarter_label} leads never contacted ({n_is(cur['never_base'])})"


def activities_figures(trend: pd.DataFrame, quarter_label: str, section: str) -> dict[str, dict]:
    """``activities_per_won_deal``: the quarter's ``total`` row of :func:`.metrics.activities_trend` (None when
    no deal was won), with its t interval and the number of won deals."""
    tot = trend[(trend["quarter"] == quarter_label) & (trend["type"] == "total")].iloc[0]
    return {
        "activities_per_won_deal": dict(
            value=tot["per_deal"] if tot["deals"] else None, lo=tot["lo"], hi=tot["hi"], n=tot["deals"], section=section
        )
    }


def contact_figures(contact: pd.DataFrame, section: str) -> dict[str, dict]:
    """``speed_to_first_contact_hours`` and ``never_contacted_rate`` (None when no lead of the quarter is old
    enough) from the last row of :func:`.metrics.first_contact_trend`."""
    now = contact.iloc[-1]
    return {
        "speed_to_first_contact_hours": dict(
            value=now["median_hours"], lo=now["median_lo"], hi=now["median_hi"], n=now["leads"], section=section
        ),
        "never_contacted_rate": dict(
            value=now["never_rate"] if now["never_base"] else None,
            label=f"Leads not contacted within {NEVER_CONTACTED_DAYS} days",
            lo=now["never_lo"],
            hi=now["never_hi"],
            n=now["never_base"],
            section=section,
        ),
    }


def contact_findings(impact: dict, section: str, evidence: pd.DataFrame | None = None) -> list[Finding]:
    """The finding on leads never contacted (:func:`.metrics.never_contacted_impact`) — only when it is worth
    something and the comparison of contacted and uncontacted leads passes the claim rule. ``evidence``:
    the leads it counts (:func:`.metrics.never_contacted_leads`)."""
    if not (impact["impact"] > 0 and impact["claimable"]):
        return []
    return [
        Finding(
            slug="never_contacted_leads",
            text=f"{text.num(impact['never'])} of this quarter's leads were never contacted within "
            f"{NEVER_CONTACTED_DAYS} days; contacted leads become customers at {text.pct(impact['rate_contacted'])} "
            f"(n = {impact['n_contacted']:,}), uncontacted ones at {text.pct(impact['rate_never'])} "
            f"(n = {impact['n_never']:,}).",
            impact=impact["impact"],
            section=section,
            recommendation="Route every new lead to an owner with a first-contact deadline and alert on leads "
            "untouched after 2 days.",
            basis="revenue per quarter = never-contacted leads × (customer rate contacted − uncontacted, mature "
            "cohort) × " + _DEAL_VALUE,
            evidence=evidence,
        )
    ]
