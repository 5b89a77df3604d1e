"""Step 04 — titles, "What this means" sentences, recorded figures and findings of the data-quality audit.

Every function takes results of :mod:`salesaudit.steps.reporting.metrics` (the check table, scores, the
trend, freshness, reconciliation) and returns text (a title, a list of sentences), the figures the notebook
records (``{name: kwargs}`` for ``report.record.record``, or ``[{name, value, …}]`` for
``report.record.record_many``) or findings (``[Finding, …]`` of :mod:`salesaudit.findings`, for
``report.record.record_findings``). A failing share is written as % only when at least
:data:`~salesaudit.steps.reporting.metrics.MIN_BASE_PCT` rows were checked. No charts here.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from salesaudit.config import parse_fx_rates
from salesaudit.data.coverage import Coverage
from salesaudit.findings import Finding
from salesaudit.steps.reporting.metrics import (
    AMOUNT_TOLERANCE,
    MIN_BASE_PCT,
    NO_CONTACT_KEY,
    TREND_QUARTERS,
    Snapshot,
    check_count,
    reconciliation_summary,
    stale_open_deals,
    unknown_owner_deals,
    unreconciled_deals,
    unreconciled_revenue,
)
from salesaudit.text import money

__all__ = [
    "duplicate_title",
    "duplicate_sentences",
    "unjudged_sentences",
    "share_text",
    "dimension_sentences",
    "score_sentences",
    "trend_coverage_sentence",
    "trend_sentences",
    "scope_sentence",
    "cutoff_label",
    "freshness_title",
    "freshness_sentences",
    "reconciliation_sentences",
    "fixes_sentences",
    "coverage_sentences",
    "currency_sentences",
    "dq_findings",
    "score_title",
    "dimension_title",
    "timeliness_title",
    "reconciliation_title",
    "reconciliation_labels",
    "trend_title",
    "score_figures",
    "fixes_lines",
    "no_contact_key_note",
    "completeness_figures",
    "validity_figures",
    "duplicate_figures",
    "consistency_figures",
    "timeliness_figures",
    "reconciliation_figures",
]


def duplicate_title(summary: dict[str, Any]) -> str:
    if summary["copies"] is None:
        return "Duplicates cannot be judged without an identifying field"
    if not summary["copies"]:
        return f"No two of the {summary['judged']:,} leads with a contact_key share it"
    return (
        f"{summary['copies']:,} leads are copies of an earlier lead with the same contact_key "
        f"({summary['people']:,} people)"
    )


def duplicate_sentences(summary: dict[str, Any]) -> list[str]:
    """The duplicate count in words (or why it cannot be judged)."""
    if summary["copies"] is None:
        out = [NO_CONTACT_KEY[0].upper() + NO_CONTACT_KEY[1:] + "; no duplicate count is given or scored."]
        if summary["derived"]:
            out.append(
                f"{summary['derived']:,} leads were derived from opportunities: each stands for its own deal, "
                "so they are not compared."
            )
        return out
    k, n = summary["copies"], summary["judged"]
    share = f" ({100 * k / n:.2f}% of them)" if n >= MIN_BASE_PCT else ""
    out = [
        f"{k:,} of the {n:,} leads with a contact_key are copies of an earlier lead of the same person{share}"
        + (f", spread over {summary['people']:,} people" if k else "")
        + "; the earliest-created lead of each contact_key counts as the original (ties: the smallest lead_id)."
    ]
    rest = summary["leads"] - n
    if rest:
        out.append(f"{rest:,} leads carry no contact_key (or come from an opportunity) and are not judged.")
    return out


def unjudged_sentences(notes: pd.DataFrame, dimension: str) -> list[str]:
    """The notes of one dimension as sentences; the completeness columns in one sentence."""
    n = notes[notes["dimension"] == dimension]
    if n.empty:
        return []
    if dimension == "completeness":
        cols = ", ".join(f"`{c}`" for c in n["reason"])
        return [f"Cannot judge whether these fields are filled, because the data holds no value in them: {cols}."]
    return [r[0].upper() + r[1:] + "." for r in n["reason"]]


def share_text(count: float, base: int, digits: int = 2) -> str:
    """``12.30%`` when at least :data:`MIN_BASE_PCT` rows were checked, else ``—`` (read the counts)."""
    return f"{100 * count / base:.{digits}f}%" if base >= MIN_BASE_PCT else "—"


def _fmt_count(v: float) -> str:
    return f"{v:,.0f}"


def dimension_sentences(
    check_table: pd.DataFrame, dimension: str, top: int = 3, notes: pd.DataFrame | None = None
) -> list[str]:
    """ "1,425 open deals lack account_id (12.30% of 11,600 checked)." for the largest failing checks
    (counts only, "3 of 12 checked", below :data:`MIN_BASE_PCT` rows), then what cannot be judged
    (``notes`` from :func:`unjudged`)."""
    c = check_table[(check_table["dimension"] == dimension) & (check_table["base"] > 0)]
    extra = [] if notes is None else unjudged_sentences(notes, dimension)
    if c.empty:
        return extra or [f"No {dimension} check could run: the tables it needs are absent."]
    bad = c[c["count"] > 0].sort_values(["share", "count"], ascending=False)
    if bad.empty:
        return [f"All {len(c)} {dimension} checks that could run pass: no failing rows."] + extra
    out = [f"{len(bad)} of {len(c)} {dimension} checks find problems."]
    for r in bad.head(top).itertuples(index=False):
        if r.unit == "days":
            out.append(f"{r.table}: {r.count:,.0f} {r.label} — {r.action}.")
        elif r.base >= MIN_BASE_PCT:
            out.append(f"{_fmt_count(r.count)} {r.label} ({100 * r.share:.2f}% of {r.base:,} checked) — {r.action}.")
        else:
            out.append(f"{_fmt_count(r.count)} {r.label} ({_fmt_count(r.count)} of {r.base:,} checked) — {r.action}.")
    return out + extra


def score_sentences(
    scores: pd.DataFrame, overall: float, trend: pd.DataFrame | None = None, quarter: str = ""
) -> list[str]:
    """Overall score, the table losing most points and the change since the previous quarter end."""
    if scores.empty:
        return ["No check could run."]
    worst = scores.sort_values("score").iloc[0]
    out = [
        f"The overall data-quality score is {overall:.1f}/100 at the end of {quarter} "
        f"(equal-weighted mean of {_plural(len(scores), 'table')}).",
        f"Most points are lost in {worst['table']} ({worst['score']:.1f}/100): {int(worst['failing'])} of "
        f"{int(worst['checks'])} checks {'finds' if int(worst['failing']) == 1 else 'find'} problems."
        if worst["score"] < 100
        else "Every check passes in every table.",
    ]
    if trend is not None and not trend.empty:
        o = trend[trend["table"] == "overall"].dropna(subset=["score"])
        if len(o) >= 2 and o["quarter"].iloc[-1] == quarter:
            d = o["score"].iloc[-1] - o["score"].iloc[-2]
            word = "up" if d > 0.005 else "down" if d < -0.005 else "unchanged"
            out.append(
                f"Since the end of {o['quarter'].iloc[-2]} the score is {word}"
                + (f" ({d:+.2f} points)." if word != "unchanged" else " (within ±0.005 points).")
            )
    return out


def trend_coverage_sentence(quarters: list, quarter: Any, n: int = TREND_QUARTERS) -> str | None:
    """Says which quarter ends the trend uses when fewer than ``n`` (None when all ``n``)."""
    if len(quarters) >= n:
        return None
    first = quarter.previous(n - 1).label
    if not quarters:
        return f"The leads cover none of the {n} quarters {first}–{quarter.label} completely, so there is no trend."
    span = quarters[0].label if len(quarters) == 1 else f"{quarters[0].label}–{quarters[-1].label}"
    return (
        f"The trend uses {len(quarters)} of the {n} quarter ends {first}–{quarter.label} ({span}): only those "
        "quarters are covered completely by the leads."
    )


def trend_sentences(trend: pd.DataFrame, coverage_note: str | None = None) -> list[str]:
    """First vs last quarter of the overall score, and the table that moved most (after the coverage note)."""
    head = [coverage_note] if coverage_note else []
    o = trend[trend["table"] == "overall"].dropna(subset=["score"])
    if len(o) < 2:
        if coverage_note and "no trend" in coverage_note:
            return head
        return head + ["Too few quarter ends for a trend (at least two are needed)."]
    first, last = o.iloc[0], o.iloc[-1]
    d = last["score"] - first["score"]
    if abs(d) < 0.005:
        return head + [
            f"The overall score held at {last['score']:.2f} from the end of {first['quarter']} to the end of "
            f"{last['quarter']} (within ±0.005 points)."
        ]
    out = head + [
        f"The overall score went from {first['score']:.2f} at the end of {first['quarter']} to "
        f"{last['score']:.2f} at the end of {last['quarter']} ({d:+.2f} points)."
    ]
    wide = trend[trend["table"] != "overall"].pivot(index="quarter", columns="table", values="score")
    if len(wide) >= 2:
        change = (wide.iloc[-1] - wide.iloc[0]).dropna()
        if len(change) and change.abs().max() >= 0.005:
            t = change.abs().idxmax()
            out.append(
                f"The table that moved most is {t} ({change[t]:+.2f} points); the score is computed on the "
                "data as it stood at each quarter end, so older faults keep weighing on later quarters."
            )
    return out


def _plural(n: int, noun: str) -> str:
    """``1 table``, ``3 tables``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _days(v: float) -> str:
    """``1 day``, ``12 days`` (rounded to whole days)."""
    return _plural(round(float(v)), "day")


def scope_sentence(company: str, snap: Snapshot, label: str, check_table: pd.DataFrame, notes: pd.DataFrame) -> str:
    """The first line of the step: whose data, at which cut-off, how many checks run and how many cannot judge."""
    tables = check_table["table"].nunique()
    leads = snap.tables.get("leads")
    undated = leads is None or "created_at" not in leads.columns or not leads["created_at"].notna().any()
    when = (
        "the data as exported (an undated snapshot)"
        if undated
        else f"data as it stood at {snap.cutoff:%Y-%m-%d} ({label})"
    )
    return (
        f"{company} — {when}: {_plural(len(check_table), 'check')} "
        f"on {_plural(tables, 'table')}, {len(notes):,} that cannot judge this data."
    )


def cutoff_label(snap: Snapshot, quarter: Any) -> str:
    """What the cut-off is, in words: "the end of 2026Q3" or, when the data was extracted more than a day before
    the quarter ``quarter`` ended, "the extraction date (2026-08-14), before the end of 2026Q3"."""
    if snap.end is not None and snap.end < quarter.end - pd.Timedelta(days=1):
        return f"the extraction date ({snap.end:%Y-%m-%d}), before the end of {quarter.label}"
    return f"the end of {quarter.label}"


def freshness_title(fresh: pd.DataFrame, label: str) -> str:
    if fresh.empty:
        return "No dated table to check for freshness"
    late = int((fresh["lag_days"] > fresh["tolerance_days"]).sum())
    return f"{late} of {len(fresh)} dated tables are late at {label}"


def freshness_sentences(
    fresh: pd.DataFrame, label: str = "the cut-off", notes: pd.DataFrame | None = None
) -> list[str]:
    """Tables whose latest record is older than their normal delay at the cut-off ``label``."""
    extra = [] if notes is None else unjudged_sentences(notes, "freshness")
    if fresh.empty:
        return extra or ["No dated table to check."]
    late = fresh[fresh["lag_days"] > fresh["tolerance_days"]]
    if late.empty:
        return [
            f"Every dated table has records within its normal delay of {label} "
            f"(largest lag: {_days(fresh['lag_days'].max())}, {fresh.loc[fresh['lag_days'].idxmax(), 'table']})."
        ] + extra
    return [
        f"{r.table}: the latest record is {_days(r.lag_days)} before {label} "
        f"(normal delay ≤ {r.tolerance_days} days) — check the export or sync."
        for r in late.itertuples(index=False)
    ] + extra


def reconciliation_sentences(s: dict[str, float], currency: str, quarter: str) -> list[str]:
    """Won revenue against orders in words."""
    if not s["won_deals"]:
        return [f"No deal with a lead was won in {quarter}: nothing to reconcile."]
    if not s["won_revenue"]:
        return [
            f"{s['won_deals']:,} deals with a lead were won in {quarter}, {s['without_order']:,} of them without an "
            "order; their amounts are empty, so revenue cannot be reconciled."
        ]
    share = s["unreconciled_revenue"] / s["won_revenue"]
    part = (
        f"{100 * share:.1f}% of won revenue is not reconciled"
        if s["won_deals"] >= MIN_BASE_PCT
        else f"{money(s['unreconciled_revenue'], currency)} of won revenue is not reconciled"
    )
    return [
        f"{s['won_deals']:,} deals won in {quarter} bring {money(s['won_revenue'], currency)}; their customers' first "
        f"orders total {money(s['order_revenue'], currency)}.",
        f"{s['without_order']:,} won deals have no order ({money(s['without_order_revenue'], currency)}) and "
        f"{s['amount_differs']:,} differ from their order by more than {AMOUNT_TOLERANCE:.0%} "
        f"({money(s['difference_revenue'], currency)}): {part}.",
    ]


def fixes_sentences(fixes: pd.DataFrame) -> list[str]:
    """The top fixes in words."""
    if fixes.empty:
        return ["Nothing to fix: every check passes."]
    return [f"Fix first: {fixes['fix'].iloc[0]}."] + (
        [f"Then: {f}." for f in fixes["fix"].iloc[1:3]] if len(fixes) > 1 else []
    )


def coverage_sentences(cov: Coverage, quarter: Any, label: str | None = None) -> list[str]:
    """What the data covers (:meth:`Coverage.sentences`), then whether the audited quarter is partial.

    ``label`` names the cut-off the checks use (:func:`cutoff_label`). A lead window of one day reads
    "on X", not "from X to X".
    """
    out = [re.sub(r"\bfrom (\d{4}-\d{2}-\d{2}) to \1\b", r"on \1", x) for x in cov.sentences()]
    reason = cov.partial_reason(quarter)
    if reason and not cov.leads_dated:
        out.append(
            f"{quarter.label} cannot be audited as a quarter: {reason}. The checks read the data as one undated "
            "snapshot."
        )
    elif reason:
        at = f" The checks look at the data as it stood at {label}." if label else ""
        out.append(f"{quarter.label} is a partial quarter: {reason}; its counts cover only part of it.{at}")
    else:
        out.append(f"{quarter.label} is covered completely by the leads.")
    return out


def currency_sentences(fx_rates: Any, currency: str) -> list[str]:
    """The rates the importer converted amounts at (``fx_rates`` of ``audit.yaml``), in one sentence; none
    when no amount was converted.

    >>> currency_sentences({"USD": 0.92, "GBP": 1.17}, "EUR")
    ['Amounts are in EUR: the importer converted other currencies at 1 GBP = 1.17 EUR and 1 USD = 0.92 EUR (one rate per currency for every date; fx_rates in audit.yaml).']
    """
    rates = parse_fx_rates(fx_rates) or {}
    if not rates:
        return []
    parts = [f"1 {code} = {rate:.6g} {currency}" for code, rate in sorted(rates.items())]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return [
        f"Amounts are in {currency}: the importer converted other currencies at {listed} (one rate per currency "
        "for every date; fx_rates in audit.yaml)."
    ]


def dq_findings(
    snap: Snapshot,
    check_table: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    quarter: str,
    section: str = "04_reporting",
    top: int = 3,
) -> list[Finding]:
    """The 1–3 data-quality findings with the largest revenue impact in the quarter ``[start, end)``.

    Candidates: won revenue not reconciled to orders (impact = unreconciled revenue of deals won in the
    quarter); won revenue on deals owned by an unknown rep (impact = that revenue: quota and commission
    cannot be attributed); stale open pipeline (impact = its value × the win rate of deals closed in the
    quarter: revenue at risk). Each a :class:`~salesaudit.findings.Finding` in ``section``.
    """
    cur = snap.cfg.currency
    opps, orders, reps = (snap.tables.get(t) for t in ("opportunities", "orders", "reps"))
    out = []
    if opps is None or not len(opps) or "amount" not in opps.columns:
        return out
    closed_in = (
        opps["closed_at"].ge(start) & opps["closed_at"].lt(end)
        if "closed_at" in opps.columns
        else pd.Series(False, index=opps.index)
    )
    if orders is not None and len(orders) and "lead_id" in opps.columns:
        s = reconciliation_summary(opps, orders, start, end)
        rows = unreconciled_deals(opps, orders, start, end)
        if s["unreconciled_revenue"] > 0:
            out.append(
                Finding(
                    "dq_unreconciled_revenue",
                    f"{money(s['unreconciled_revenue'], cur)} of revenue won in {quarter} is not matched by "
                    f"orders ({s['without_order']:,} won deals without an order, {s['amount_differs']:,} with a "
                    "different amount).",
                    s["unreconciled_revenue"],
                    section=section,
                    recommendation="Reconcile won deals with orders each month; reopen deals that never ordered.",
                    basis="won amount of the quarter's deals with no order plus the gap to the first order",
                    evidence=rows,
                )
            )
    if reps is not None and len(reps):
        unknown = unknown_owner_deals(snap, start, end, status="won")
        rev = float(unknown["amount"].sum())
        if rev > 0:
            out.append(
                Finding(
                    "dq_unknown_owner_revenue",
                    f"{money(rev, cur)} won in {quarter} ({len(unknown):,} deal{'s' if len(unknown) != 1 else ''}) is owned by reps missing "
                    "from the reps table, so quota and commission cannot be attributed.",
                    rev,
                    section=section,
                    recommendation="Add the missing reps or reassign their deals to active reps.",
                    basis="won amount of the quarter's deals whose owner_id is not in reps",
                    evidence=unknown,
                )
            )
    stale = check_table[(check_table["check"] == "stale_open")]
    if len(stale) and int(stale["count"].iloc[0]) > 0:
        rows = stale_open_deals(snap)
        value = float(rows["amount"].sum())
        closed = opps[closed_in & opps["status"].isin(["won", "lost"])]
        n_won = int((closed["status"] == "won").sum())
        win = n_won / len(closed) if len(closed) else 0.0
        rate = f"{100 * win:.0f}%" if len(closed) >= MIN_BASE_PCT else f"{n_won} of {len(closed)} closed deals won"
        if value * win > 0:
            out.append(
                Finding(
                    "dq_stale_pipeline",
                    f"{len(rows):,} open deals worth {money(value, cur)} have had no activity for "
                    f"{snap.cfg.inactive_opportunity_days}+ days at the end of {quarter}; at the quarter's "
                    f"win rate ({rate}) that is {money(value * win, cur)} of revenue at risk.",
                    value * win,
                    section=section,
                    recommendation="Review stale deals weekly: log the next step or close them as lost.",
                    basis="value of stale open deals × win rate of deals closed in the quarter",
                    evidence=rows,
                )
            )
    return sorted(out, key=lambda f: -f.impact)[:top]


def score_title(scores: pd.DataFrame, overall: float) -> str:
    """Chart title for the score section: the overall score and the table that loses most."""
    if scores.empty:
        return "No data-quality check could run"
    worst = scores.sort_values("score").iloc[0]
    if worst["score"] >= 100:
        return f"Data-quality score {overall:.1f}/100: every check passes"
    perfect = int((scores["score"] >= 100).sum())
    rest = f"; {perfect} other tables score 100" if perfect else ""
    return (
        f"Data-quality score {overall:.1f}/100 — {worst['table']} loses most ({100 - worst['score']:.2f} points){rest}"
    )


def dimension_title(check_table: pd.DataFrame, dimension: str) -> str:
    """Chart title naming the largest failing check of a dimension (or saying all pass)."""
    c = check_table[(check_table["dimension"] == dimension) & (check_table["base"] > 0)]
    bad = c[c["count"] > 0].sort_values(["share", "count"], ascending=False)
    if c.empty:
        return f"No {dimension} check could run"
    if bad.empty:
        return f"All {len(c)} {dimension} checks pass"
    r = bad.iloc[0]
    what = f"{r['count']:,.0f} {r['label']}" if r["unit"] == "rows" else f"{r['table']}: {r['count']:,.0f} {r['label']}"
    return f"{len(bad)} of {len(c)} {dimension} checks fail; worst: {what}"


def timeliness_title(idle: pd.Series, days: int) -> str:
    if idle.empty:
        return "No open deals at the cut-off"
    stale = int((idle > days).sum())
    share = f" ({stale / len(idle):.0%})" if len(idle) >= MIN_BASE_PCT else ""
    return f"{stale:,} of {len(idle):,} open deals{share} have been idle for more than {days} days"


def reconciliation_title(by_q: pd.DataFrame, currency: str) -> str:
    last = by_q.iloc[-1]
    if not last["won_deals"]:
        return f"No deal with a lead was won in {last['quarter']}"
    if not last["won_revenue"]:
        return (
            f"{int(last['without_order']):,} of {int(last['won_deals']):,} deals won in {last['quarter']} have no order"
        )
    share = f" ({last['unreconciled_revenue'] / last['won_revenue']:.1%})" if last["won_deals"] >= MIN_BASE_PCT else ""
    return (
        f"{money(last['unreconciled_revenue'], currency)}{share} of won revenue in {last['quarter']} "
        "is not matched by an order"
    )


def _reconciliation_label(unreconciled: float, revenue: float, won: int, bad: int) -> str:
    if not won:
        return ""
    if won >= MIN_BASE_PCT and revenue:
        return f"{100 * unreconciled / revenue:.1f}%"
    return f"{int(bad)} of {int(won)} deals"


def reconciliation_labels(by_q: pd.DataFrame) -> list[str]:
    """Bar labels: the unreconciled share of won revenue, or "k of n deals" (k = without an order or with a
    different amount) below :data:`MIN_BASE_PCT` won deals or without amounts (empty when none was won)."""
    bad = by_q["without_order"] + by_q["amount_differs"]
    return [
        _reconciliation_label(*v)
        for v in zip(by_q["unreconciled_revenue"], by_q["won_revenue"], by_q["won_deals"], bad)
    ]


def trend_title(trend: pd.DataFrame) -> str:
    o = trend[trend["table"] == "overall"]
    if len(o) < 2:
        return "Data-quality score by quarter end"
    d = o["score"].iloc[-1] - o["score"].iloc[0]
    word = "improved" if d > 0.05 else "worsened" if d < -0.05 else "held steady"
    return f"Data quality {word} over {len(o)} quarters ({o['score'].iloc[0]:.2f} → {o['score'].iloc[-1]:.2f})"


def score_figures(scores: pd.DataFrame, overall: float, n_checks: int, section: str) -> list[dict]:
    """The figures to record (``salesaudit.report.record.record_many``): ``dq_score`` (overall, 0–100) and
    ``dq_score_<table>`` for each table."""
    out = [
        dict(
            name="dq_score",
            value=overall,
            label="Data-quality score (0–100)",
            unit="score",
            n=n_checks,
            section=section,
            higher_is_better=True,
        )
    ]
    out += [
        dict(
            name=f"dq_score_{t}",
            value=s,
            label=f"Data-quality score: {t}",
            unit="score",
            n=int(k),
            section=section,
            higher_is_better=True,
        )
        for t, s, k in zip(scores["table"], scores["score"], scores["checks"])
    ]
    return out


def fixes_lines(fixes: pd.DataFrame) -> list[str]:
    """The ranked fixes as lines: "1. 447 leads … (timeliness, leads)"."""
    return [f"{r.rank}. {r.fix} ({r.dimension}, {r.table})" for r in fixes.itertuples(index=False)]


def no_contact_key_note() -> str:
    """The one-line note of section 5 when no lead carries an identifying field."""
    return NO_CONTACT_KEY[0].upper() + NO_CONTACT_KEY[1:] + "."


# --------------------------------------------------------------------------------------------------
# the recorded figures of each section ({name: keyword arguments of report.record.record}); label, unit
# and direction come from the registry (report/figures.py) unless the figure needs a more specific label
# --------------------------------------------------------------------------------------------------
def completeness_figures(check_table: pd.DataFrame, section: str) -> dict[str, dict]:
    """``dq_leads_missing_owner``: leads with an empty owner_id (None when the check did not run)."""
    return {
        "dq_leads_missing_owner": dict(value=check_count(check_table, "leads", "missing:owner_id"), section=section)
    }


def validity_figures(check_table: pd.DataFrame, section: str) -> dict[str, dict]:
    """``dq_stage_out_of_order``: leads with stage dates out of order (None when the check did not run)."""
    return {"dq_stage_out_of_order": dict(value=check_count(check_table, "leads", "stage_order"), section=section)}


def duplicate_figures(summary: dict[str, Any], section: str) -> dict[str, dict]:
    """``dq_duplicate_leads``: copies by contact_key (None when none can be judged), n = leads judged."""
    return {"dq_duplicate_leads": dict(value=summary["copies"], n=summary["judged"], section=section)}


def consistency_figures(check_table: pd.DataFrame, section: str) -> dict[str, dict]:
    """``dq_unknown_owner_deals``: deals owned by a rep missing from reps (None when the check did not run)."""
    return {
        "dq_unknown_owner_deals": dict(
            value=check_count(check_table, "opportunities", "foreign_key:reps.rep_id"), section=section
        )
    }


def timeliness_figures(check_table: pd.DataFrame, days: int, section: str) -> dict[str, dict]:
    """``dq_stale_open_deals`` (labelled with the configured ``days``) and ``dq_untouched_leads``."""
    return {
        "dq_stale_open_deals": dict(
            value=check_count(check_table, "opportunities", "stale_open"),
            label=f"Open deals idle for {days}+ days",
            section=section,
        ),
        "dq_untouched_leads": dict(value=check_count(check_table, "leads", "untouched"), section=section),
    }


def reconciliation_figures(summary: dict | pd.Series, snap: Snapshot, section: str) -> dict[str, dict]:
    """``dq_won_without_order`` (n = deals with a lead won in the quarter) and ``dq_unreconciled_revenue``
    (None when the deals carry no amount) of the audited quarter's :func:`reconciliation_summary`."""
    return {
        "dq_won_without_order": dict(value=int(summary["without_order"]), n=int(summary["won_deals"]), section=section),
        "dq_unreconciled_revenue": dict(value=unreconciled_revenue(summary, snap), section=section),
    }
