"""Rep scorecards: one page per rep, ``reports/<Q>/reps/<rep>.html`` and ``.pdf`` (``--rep-scorecards``).

Each card is built from step 05's numbers (:mod:`salesaudit.steps.sales.metrics`) in this process, not by
executing a notebook per rep:

* **This quarter against the team** — contact rate, lead → SQL rate and win rate of the rep (Wilson 90%
  interval) beside the whole team's, and the difference to *the rest of the team* (the team without the
  rep) with Newcombe's interval (:func:`salesaudit.stats.diff_interval`): "above/below the rest of the
  team beyond the noise" only when that interval excludes 0. The long-window win rate (the
  :data:`~salesaudit.steps.sales.metrics.HISTORY_QUARTERS` quarters of the skill ranking, ramp-up deals left
  out) is compared the same way. Speed to lead, average deal size and sales cycle are shown beside the
  team's, with their counts, and not judged (no interval).
* **Trend** — the rep's win rate by quarter (last four quarters) with its interval, against the team's.
* **Archetype** — Star / Sniper / Grinder / Developing from the skill table (:func:`.metrics.archetypes`).
* **What the top quartile does differently** — :func:`.metrics.top_quartile_contrast`'s medians of the top
  quartile and of the other reps, beside the rep's own value.

Minimum samples (docs/assumptions.md): a figure of fewer than :data:`MIN_CASES` cases is not compared —
the card says so in a sentence, never shows a guess, ``nan`` or an empty cell. Privacy: a card names no
other rep and shows no other rep's figure: only team aggregates, and only over at least
:data:`MIN_OTHER_REPS` other reps (with fewer, "the rest of the team" would be one colleague's numbers);
the top-quartile medians only when the top quartile has at least :data:`MIN_OTHER_REPS` reps.
"""

from __future__ import annotations

import base64
import html as htmllib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesaudit import evidence, plots, stats, text
from salesaudit.claims import n_is
from salesaudit.periods import Quarter
from salesaudit.steps.sales import metrics

#: fewer cases than this and a rep's figure is not compared with the team (the audit's claim minimum)
MIN_CASES = stats.MIN_CLAIM_N
#: a team aggregate beside a rep must cover at least this many other reps (else it is a colleague's figure)
MIN_OTHER_REPS = 3
#: quarters in the trend chart (the audited one last)
TREND_QUARTERS = 4

#: (label, successes column, cases column, noun of the cases) of the rates compared with intervals
RATES = [
    ("Contact rate", "contacted", "leads", "leads"),
    ("Lead → SQL rate", "sql", "leads", "leads"),
    ("Win rate, won / (won + lost)", "won", "closed", "closed deals"),
]
_SHARES = {"contact_rate", "sql_rate", "share_call", "share_email", "share_meeting", "share_demo"}

_CSS = """
@page { size: A4; margin: 12mm 14mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 8.6pt; color: #1f2d3d; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 1mm 0; } h2 { font-size: 10.5pt; margin: 3.5mm 0 1mm 0; color: #0173b2; }
.meta { color: #5b6b7b; margin-bottom: 2mm; } p { margin: 1mm 0; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 0.4pt solid #d5dde5; padding: 0.8mm 1.2mm;
  text-align: left; vertical-align: top; } th { background: #eef3f8; font-weight: 600; }
img { width: 100%; max-height: 62mm; object-fit: contain; } .small { font-size: 7.4pt; color: #5b6b7b; }
"""


@dataclass
class RepCard:
    """The numbers and sentences of one rep's scorecard (:func:`rep_card`)."""

    rep_id: str
    name: str
    team: str
    quarter: str
    comparison: pd.DataFrame  # figure, rep, team, verdict (all text)
    trend: pd.DataFrame  # quarter, rep_won, rep_closed, rep_rate, rep_lo, rep_hi, team_rate
    archetype: str
    contrast: pd.DataFrame | None  # label, top quartile, other reps, rep (text)
    contrast_note: str
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------------
def _known(card: pd.DataFrame) -> pd.DataFrame:
    return card.loc[card["rep_id"] != metrics.UNKNOWN_REP]


def _count(row: pd.Series | None, col: str) -> int:
    if row is None or col not in row.index or text.is_missing(row[col]):
        return 0
    return int(row[col])


def _rate_text(k: int, n: int) -> str:
    lo, hi = stats.wilson_interval([k], [n])
    return f"{text.pct(k / n)} {text.interval(lo[0], hi[0])} ({text.num(k)} of {text.num(n)})"


def rate_comparison(k: int, n: int, k_rest: int, n_rest: int, other_reps: int, noun: str) -> tuple[str, str]:
    """``(rep cell, verdict)`` of a rate the rep has ``k`` of ``n`` and the rest of the team ``k_rest`` of
    ``n_rest`` (over ``other_reps`` reps).

    Not compared when ``n`` < :data:`MIN_CASES` or ``n_rest`` < :data:`MIN_CASES` or ``other_reps`` <
    :data:`MIN_OTHER_REPS` (a sentence says why; the rep's cell then holds the counts only). Otherwise
    difference = rep − rest with Newcombe's 90% interval: beyond the noise when it excludes 0.

    >>> rate_comparison(3, 7, 200, 400, 10, "closed deals")
    ('3 of 7', 'cannot be compared: 7 closed deals, at least 30 are needed')
    >>> rate_comparison(60, 100, 100, 400, 10, "leads")[1]
    'above the rest of the team beyond the noise (+35.0 pp, 90% interval +26.0 pp to +43.4 pp; n = 100 vs n = 400)'
    """
    if n < MIN_CASES:
        cell = f"{text.num(k)} of {text.num(n)}" if n else f"no {noun}"
        return cell, f"cannot be compared: {text.num(n)} {noun}, at least {MIN_CASES} are needed"
    cell = _rate_text(k, n)
    if other_reps < MIN_OTHER_REPS or n_rest < MIN_CASES:
        return cell, f"cannot be compared: the rest of the team has too few reps or {noun} to stay anonymous"
    d, lo, hi = (float(x[0]) for x in stats.diff_interval([k], [n], [k_rest], [n_rest]))
    span = f"({text.pp(d)}, 90% interval {text.pp(lo)} to {text.pp(hi)}; {n_is(n)} vs {n_is(n_rest)})"
    if lo > 0:
        return cell, f"above the rest of the team beyond the noise {span}"
    if hi < 0:
        return cell, f"below the rest of the team beyond the noise {span}"
    return cell, f"within the noise of the rest of the team {span}"


def _value_row(label: str, rep_value: Any, team_value: Any, n: int, noun: str, fmt) -> dict:
    if n < MIN_CASES or text.is_missing(rep_value):
        why = "no value in the data" if n >= MIN_CASES else f"{text.num(n)} {noun}, at least {MIN_CASES} are needed"
        rep, verdict = "—", f"cannot be compared: {why}"
    else:
        rep, verdict = f"{fmt(rep_value)} ({text.num(n)} {noun})", "shown for reference (no interval: not judged)"
    team = fmt(team_value) if not text.is_missing(team_value) else "not in the data"
    return {"figure": label, "rep": rep, "team": team, "verdict": verdict}


def comparison_table(
    card: pd.DataFrame, rep_id: str, team: metrics.TeamFigures, skill: pd.DataFrame | None, currency: str = "EUR"
) -> pd.DataFrame:
    """The rep's figures of the quarter against the team's (columns ``figure, rep, team, verdict``, text)."""
    known = _known(card)
    me = known.loc[known["rep_id"] == rep_id]
    row = me.iloc[0] if len(me) else None
    rest = known.loc[known["rep_id"] != rep_id]
    rows = []
    for label, k_col, n_col, noun in RATES:
        if k_col not in known.columns:
            continue
        k, n = _count(row, k_col), _count(row, n_col)
        k_all, n_all = int(known[k_col].sum()), int(known[n_col].sum())
        cell, verdict = rate_comparison(k, n, k_all - k, n_all - n, len(rest), noun)
        team_cell = _rate_text(k_all, n_all) if n_all else "not in the data"
        rows.append({"figure": label, "rep": cell, "team": team_cell, "verdict": verdict})
    if skill is not None and len(skill):
        placed = _known(skill)
        mine = placed.loc[placed["rep_id"] == rep_id]
        k = int(mine["won"].sum()) if len(mine) else 0
        n = int(mine["closed"].sum()) if len(mine) else 0
        k_all, n_all = int(placed["won"].sum()), int(placed["closed"].sum())
        cell, verdict = rate_comparison(k, n, k_all - k, n_all - n, len(placed) - len(mine), "closed deals")
        rows.append(
            {
                "figure": f"Win rate, last {metrics.HISTORY_QUARTERS} quarters (ramp-up deals left out)",
                "rep": cell,
                "team": _rate_text(k_all, n_all) if n_all else "not in the data",
                "verdict": verdict,
            }
        )

    def get(col: str) -> Any:
        return row[col] if row is not None and col in row.index else np.nan

    rows.append(
        _value_row(
            "Speed to lead (median hours)",
            get("speed_to_lead_h"),
            team.speed_to_lead_h,
            _count(row, "leads"),
            "leads",
            text.hours,
        )
    )
    rows.append(
        _value_row(
            "Average won deal",
            get("avg_deal_size"),
            team.avg_deal_size,
            _count(row, "won"),
            "won deals",
            lambda x: text.money(x, currency),
        )
    )
    rows.append(
        _value_row(
            "Sales cycle (median days, won deals)",
            get("cycle_days"),
            team.cycle_days,
            _count(row, "won"),
            "won deals",
            text.days,
        )
    )
    return pd.DataFrame(rows, columns=["figure", "rep", "team", "verdict"])


def quarter_cards(
    leads: pd.DataFrame,
    opps: pd.DataFrame | None,
    reps: pd.DataFrame | None,
    activities: pd.DataFrame | None,
    quarter: Quarter,
    cut: pd.Timestamp,
) -> list[tuple[str, pd.DataFrame]]:
    """``[(quarter label, known reps' one-quarter scorecard)]`` of the last :data:`TREND_QUARTERS` quarters
    (the audited one last, observed until ``cut``): computed once for every card's trend."""
    out = []
    for i in range(TREND_QUARTERS - 1, -1, -1):
        qq = quarter.previous(i)
        card = _known(metrics.scorecard(leads, opps, reps, activities, qq.start, min(qq.end, cut)))
        out.append((qq.label, card if "won" in card.columns else card.assign(won=0, closed=0)))
    return out


def trend_table(cards: list[tuple[str, pd.DataFrame]], rep_id: str) -> pd.DataFrame:
    """Win rate by quarter (:func:`quarter_cards`): the rep's (``rep_won``, ``rep_closed``, ``rep_rate`` and its
    Wilson interval; NaN rate without a closed deal) and the whole team's (``team_rate``)."""
    rows = []
    for label, known in cards:
        me = known.loc[known["rep_id"] == rep_id]
        k, n = (int(me["won"].sum()), int(me["closed"].sum())) if len(me) else (0, 0)
        lo, hi = stats.wilson_interval([k], [n])
        kt, nt = int(known["won"].sum()), int(known["closed"].sum())
        rows.append(
            {
                "quarter": label,
                "rep_won": k,
                "rep_closed": n,
                "rep_rate": k / n if n else np.nan,
                "rep_lo": float(lo[0]) if n else np.nan,
                "rep_hi": float(hi[0]) if n else np.nan,
                "team_rate": kt / nt if nt else np.nan,
            }
        )
    return pd.DataFrame(rows)


def archetype_sentence(skill: pd.DataFrame | None, rep_id: str, name: str, window: str) -> str:
    """Where the rep sits on volume × win rate over ``window``, with the team medians it was split at."""
    if skill is None or len(metrics.placed_reps(skill)) < 4:
        return f"No archetype: fewer than 4 reps closed deals in {window}, so the team has no medians to split at."
    placed = metrics.placed_reps(skill)
    mine = placed.loc[placed["rep_id"] == rep_id]
    if mine.empty:
        return f"No archetype: {name} closed no deal in {window} outside the ramp-up months."
    r = mine.iloc[0]
    return (
        f"{name} is a **{r['archetype']}** over {window}: {text.num(r['closed'])} closed deals (team median "
        f"{text.num(placed['closed'].median())}), win rate {text.pct(r['win_rate_shrunk'])} shrunk toward the team "
        f"(team median {text.pct(placed['win_rate_shrunk'].median())}; {len(placed)} reps placed)."
    )


def _fmt_metric(metric: str, x: Any) -> str:
    if text.is_missing(x):
        return "not in the data"
    if metric in _SHARES:
        return text.pct(x)
    if metric == "speed_to_lead_h":
        return text.hours(x)
    return text.num(x, 1)


def contrast_table(wcard: pd.DataFrame, rep_id: str) -> tuple[pd.DataFrame | None, str]:
    """``(table, sentence)``: the top quartile's and the other reps' medians (by long-window win rate) and the
    rep's own value per :data:`~salesaudit.steps.sales.metrics.CONTRAST_METRICS` metric; None (and the reason)
    when the top quartile has fewer than :data:`MIN_OTHER_REPS` reps."""
    known = _known(wcard)
    known = known.loc[known["skill_rate"].notna()]
    con = metrics.top_quartile_contrast(wcard, "skill_rate", metrics.CONTRAST_METRICS)
    n_top = int(con["n_top"].iloc[0]) if len(con) else 0
    if n_top < MIN_OTHER_REPS or len(known) - n_top < MIN_OTHER_REPS:
        return None, (
            f"Not shown: the top quartile holds {n_top} rep(s); with fewer than {MIN_OTHER_REPS} on either side its "
            "median would be a colleague's own figure."
        )
    me = known.loc[known["rep_id"] == rep_id]
    top_cut = known["skill_rate"].quantile(0.75)
    inside = bool(len(me)) and bool(me["skill_rate"].iloc[0] >= top_cut)
    rows = [
        {
            "metric": r["label"],
            "top quartile": _fmt_metric(r["metric"], r["top_quartile"]),
            "other reps": _fmt_metric(r["metric"], r["others"]),
            "this rep": _fmt_metric(r["metric"], me[r["metric"]].iloc[0]) if len(me) else "not ranked",
        }
        for r in con.to_dict("records")
    ]
    where = "is in the top quartile" if inside else "is not in the top quartile" if len(me) else "is not ranked"
    note = (
        f"Medians of the {n_top} top-quartile reps and the {int(con['n_others'].iloc[0])} others by win rate over the "
        f"long window; this rep {where}."
    )
    return pd.DataFrame(rows), note


def rep_cards(data: Any, quarter: Quarter) -> list[RepCard]:
    """One :class:`RepCard` per known rep with leads or deals in ``quarter`` (``data``: a loaded
    :class:`salesaudit.data.io.AuditData`), in rep id order."""
    leads, opps, reps, acts = data.leads, data.opportunities, data.reps, data.activities
    cut = data.coverage.observed_until(quarter) if data.coverage is not None else quarter.end
    cut = min(pd.Timestamp(cut), quarter.end)
    card = metrics.scorecard(leads, opps, reps, acts, quarter.start, cut)
    team = metrics.team_figures(leads, opps, quarter.start, cut, acts)
    window_start = quarter.previous(metrics.HISTORY_QUARTERS - 1).start
    window = f"the {metrics.HISTORY_QUARTERS} quarters {quarter.previous(metrics.HISTORY_QUARTERS - 1).label}–{quarter.label}"
    skill = wcard = None
    if opps is not None and len(opps):
        skill = metrics.archetypes(metrics.skill_table(opps, reps, window_start, quarter.end))
        wcard = metrics.with_skill(metrics.scorecard(leads, opps, reps, acts, window_start, cut), skill)
    history = quarter_cards(leads, opps, reps, acts, quarter, cut) if opps is not None and len(opps) else []
    teams = reps.set_index("rep_id")["team"] if reps is not None and "team" in reps.columns else pd.Series(dtype=object)
    out = []
    for r in _known(card).sort_values("rep_id").to_dict("records"):
        rep_id = str(r["rep_id"])
        contrast, note = (None, "Not shown: no deals in the data.") if wcard is None else contrast_table(wcard, rep_id)
        out.append(
            RepCard(
                rep_id=rep_id,
                name=str(r["name"]),
                team=str(teams.get(rep_id, "")) if not text.is_missing(teams.get(rep_id)) else "",
                quarter=quarter.label,
                comparison=comparison_table(card, rep_id, team, skill, data.config.currency),
                trend=trend_table(history, rep_id) if history else pd.DataFrame(),
                archetype=archetype_sentence(skill, rep_id, str(r["name"]), window),
                contrast=contrast,
                contrast_note=note,
            )
        )
    return out


# --------------------------------------------------------------------------------------------------
# chart, HTML, PDF
# --------------------------------------------------------------------------------------------------
def fig_trend(card: RepCard):
    """The rep's win rate by quarter (dots with 90% intervals; quarters without a closed deal left out) and
    the team's (dashed line)."""
    t = card.trend
    fig, ax = plots.new_figure(figsize=(8, 2.6))
    x = np.arange(len(t))
    ax.plot(x, t["team_rate"], ls="--", color=plots.MUTED, label="team")
    shown = t["rep_closed"] > 0
    err = np.vstack([(t["rep_rate"] - t["rep_lo"])[shown], (t["rep_hi"] - t["rep_rate"])[shown]])
    ax.errorbar(
        x[shown],
        t["rep_rate"][shown],
        yerr=err,
        fmt="o",
        color=plots.COLORS["accent"],
        capsize=3,
        label="this rep (90% interval)",
    )
    ax.set_xticks(x, [f"{q}\n{n} closed" for q, n in zip(t["quarter"], t["rep_closed"])])
    ax.set_ylim(0, 1)
    plots.pct_axis(ax)
    ax.set_ylabel("Win rate, %")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title("Win rate by quarter: this rep against the team", loc="left", fontsize=9)
    fig.tight_layout()
    return fig


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table_html(df: pd.DataFrame) -> str:
    e = htmllib.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in r) + "</tr>" for r in df.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def _md_bold(s: str) -> str:
    """Escape ``s`` and turn the audit's own ``**bold**`` into ``<b>``."""
    parts = htmllib.escape(s).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def card_html(card: RepCard, company: str) -> str:
    """The self-contained HTML page of one card (every data-derived word escaped, the chart embedded)."""
    e = htmllib.escape
    team = f" · team {card.team}" if card.team else ""
    parts = [
        f"<h1>{e(card.name)}</h1>",
        f'<div class="meta">{e(company)} · rep scorecard {e(card.quarter)} · {e(card.rep_id)}{e(team)}</div>',
        "<h2>This quarter against the team</h2>",
        _table_html(card.comparison.rename(columns={"rep": "this rep", "team": "whole team"})),
        f'<p class="small">Rates with 90% Wilson intervals; a verdict compares the rep with the rest of the team '
        f"(Newcombe's interval of the difference) and needs at least {MIN_CASES} cases on each side and at least "
        f"{MIN_OTHER_REPS} other reps. Team figures are aggregates over all reps.</p>",
    ]
    if len(card.trend):
        parts += [
            "<h2>Trend</h2>",
            f'<img alt="win rate by quarter" src="data:image/png;base64,{_png(fig_trend(card))}">',
        ]
    parts += [
        "<h2>Archetype</h2>",
        f"<p>{_md_bold(card.archetype)}</p>",
        "<h2>What the top quartile does differently</h2>",
    ]
    if card.contrast is not None:
        parts.append(_table_html(card.contrast))
    parts.append(f'<p class="small">{e(card.contrast_note)}</p>')
    title = f"{card.name} · {card.quarter}"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>"
    )


def card_file_stem(rep_id: str) -> str:
    """The file name (no extension) of a rep's card: the rep id lower-cased and made slug-safe
    (:func:`salesaudit.evidence.file_name`: ``R01`` → ``r01``; an id with other characters gets a hash).

    >>> card_file_stem("R01"), card_file_stem("../Ann Smith")
    ('r01', 'ann-smith-77c1a15a')
    """
    return evidence.file_name(str(rep_id).lower()).removesuffix(".csv")


def write_scorecards(out_dir: str | Path, data: Any, quarter: Quarter, pdf: bool = True) -> list[Path]:
    """Write ``<rep>.html`` (and ``<rep>.pdf`` through WeasyPrint, as the report's PDF) for every card of
    :func:`rep_cards` into ``out_dir``; returns the HTML paths."""
    from salesaudit.report.pdf import write_pdf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, used = [], set()
    for card in rep_cards(data, quarter):
        page = card_html(card, data.config.company)
        stem = card_file_stem(card.rep_id)
        if stem in used:  # two ids that differ only in case: the second is named by its exact id's hash
            stem = evidence.file_name(str(card.rep_id)).removesuffix(".csv")
        used.add(stem)
        path = out_dir / f"{stem}.html"
        path.write_text(page, encoding="utf-8")
        if pdf:
            write_pdf(page, out_dir / f"{stem}.pdf", out_dir)
        paths.append(path)
    return paths


def build_scorecards(
    build: str | Path, data_dir: str | Path, config: str, quarter: Quarter, pdf: bool = True
) -> list[Path]:
    """The report build's call: load the validated data (from the loader's cache) in this process and write
    every card to ``<build>/reps/`` (:func:`write_scorecards`); the loaded tables are released afterwards."""
    from salesaudit.data.io import clear_memo, load

    try:
        return write_scorecards(Path(build) / "reps", load(data_dir, config), quarter, pdf=pdf)
    finally:
        clear_memo()
