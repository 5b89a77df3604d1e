"""Executive summary: headline figures against the previous quarter, top findings, recommendations.

Nothing here computes a metric from the data: every number comes from the figures the step notebooks
recorded (:mod:`salesaudit.report.record`), so the summary and the steps can never disagree.

Where the figures come from (see ``docs/report.md``):

* this quarter — ``figures_path`` (a JSON the report runner writes from the executed step notebooks);
  when empty or missing, ``reports/<Q>/summary.json``; else the executed notebooks in ``reports/<Q>/``;
  else nothing (every headline shows "n/a").
* the previous quarter — ``previous_path``; when empty or missing, ``reports/<previous Q>/summary.json``;
  ``"none"`` for no comparison.

"Larger than the noise" rule (90% intervals, :func:`change`): the change c = this − previous gets an
interval; the change is called real only when that interval excludes 0.

* shares (unit ``%``, not recorded with ``proportion=False``) with ``n`` recorded for both quarters:
  Newcombe's hybrid score interval of the difference of two proportions, k = value × n (:func:`salesaudit.stats.diff_interval`);
* counts (unit ``count``) without a recorded interval: exact Poisson (Garwood) intervals of each count
  combined by MOVER (Zou & Donner 2008): lo = c − √((x₁−l₁)² + (u₀−x₀)²), hi = c + √((u₁−x₁)² + (x₀−l₀)²);
* anything else with ``lo``/``hi`` recorded for both quarters: the same MOVER combination of the
  recorded intervals;
* otherwise the noise is unknown and the change is shown without a verdict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesaudit import evidence, stats, text
from salesaudit.claims import n_is
from salesaudit.report.record import findings_of, read_figures

#: Headline figures of the executive summary, in display order: (figure name, short label, higher is better —
#: None for a figure with no better way, such as the forecasts' coverage, whose best value is 80%).
HEADLINE: list[tuple[str, str, bool | None]] = [
    ("leads", "Leads", True),
    ("mql", "MQLs", True),
    ("sql", "SQLs", True),
    ("customers", "New customers", True),
    ("won_revenue", "Won revenue", True),
    ("win_rate", "Win rate", True),
    ("sales_cycle_days", "Sales cycle (median)", False),
    ("roi", "Marketing ROI", True),
    ("dq_score", "Data-quality score", True),
    ("nps", "NPS", True),
    ("forecast_mape_customers", "Forecast error: new customers", False),
    ("forecast_mape_revenue", "Forecast error: won revenue", False),
    ("forecast_coverage", "Forecast bands' coverage", None),
    ("forecast_revenue_next", "Won revenue forecast, next quarter", True),
]
TOP_FINDINGS = 5
SUMMARY_FORMAT = "salesaudit-summary/1"


# --------------------------------------------------------------------------------------------------
# reading figures
# --------------------------------------------------------------------------------------------------
def _is_nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def figures_by_notebook(doc: dict) -> dict[str, dict[str, dict]]:
    """``{notebook: {name: payload}}`` from a ``summary.json`` document or a bare figures mapping."""
    figs = doc.get("figures", doc) if isinstance(doc, dict) else {}
    return {str(k): dict(v) for k, v in figs.items() if isinstance(v, dict)}


def read_figures_file(path: str | Path) -> dict[str, dict[str, dict]]:
    """Read a figures JSON (``summary.json`` or ``{notebook: {name: payload}}``); ``{}`` when absent."""
    p = Path(path)
    if not str(path) or not p.is_file():
        return {}
    try:
        return figures_by_notebook(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def figures_from_notebooks(paths: Iterable[str | Path]) -> dict[str, dict[str, dict]]:
    """``{notebook stem: {name: payload}}`` read from executed notebooks."""
    return {Path(p).stem: read_figures(p) for p in sorted(Path(x) for x in paths)}


def step_figures(figures_path: str | Path | None, quarter: str, reports_dir: str | Path) -> dict[str, dict[str, dict]]:
    """This quarter's step figures: ``figures_path``, else ``reports/<Q>/summary.json``, else the
    executed step notebooks in ``reports/<Q>/``, else ``{}`` (the executive summary is excluded)."""
    if figures_path:
        got = read_figures_file(figures_path)
        if got:
            return got
    folder = Path(reports_dir) / str(quarter)
    got = read_figures_file(folder / "summary.json")
    if not got and folder.is_dir():
        got = figures_from_notebooks(p for p in folder.glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("00"))
    return {k: v for k, v in got.items() if not k.startswith("00")}


def previous_figures(
    previous_path: str | Path | None, previous_quarter: str, reports_dir: str | Path
) -> dict[str, dict[str, dict]]:
    """The previous quarter's figures: ``previous_path``, else ``reports/<previous Q>/summary.json``, else ``{}``.

    ``previous_path="none"`` means "no comparison" (the runner found no previous quarter).
    """
    if str(previous_path).lower() == "none":
        return {}
    if previous_path:
        got = read_figures_file(previous_path)
        if got:
            return got
    return read_figures_file(Path(reports_dir) / str(previous_quarter) / "summary.json")


def flatten(figures: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """``{name: payload + {"notebook": stem}}``; a name recorded by two notebooks keeps the first (by notebook order)."""
    out: dict[str, dict] = {}
    for nb in sorted(figures):
        for name, payload in figures[nb].items():
            out.setdefault(name, dict(payload, notebook=nb))
    return out


# --------------------------------------------------------------------------------------------------
# quarter-over-quarter change
# --------------------------------------------------------------------------------------------------
def _mover(x1: float, l1: float, u1: float, x0: float, l0: float, u0: float) -> tuple[float, float, float]:
    """Difference x1 − x0 with the MOVER interval from the two single-quarter intervals (Zou & Donner 2008)."""
    d = x1 - x0
    lo = d - math.sqrt((x1 - l1) ** 2 + (u0 - x0) ** 2)
    hi = d + math.sqrt((u1 - x1) ** 2 + (x0 - l0) ** 2)
    return d, lo, hi


def change(current: dict | None, previous: dict | None, level: float = stats.DEFAULT_LEVEL) -> dict:
    """Change of one figure between two quarters, with its interval and a noise verdict.

    Returns ``{"value", "previous", "change", "rel_change", "lo", "hi", "significant", "method"}``:
    change = value − previous; rel_change = change / |previous|; ``significant`` is True when the
    90% interval of the change excludes 0, False when it contains 0, None when no interval can be
    formed (rule in the module docstring).
    """
    cur = current or {}
    prev = previous or {}
    v1, v0 = cur.get("value"), prev.get("value")
    out: dict[str, Any] = {
        "value": v1,
        "previous": v0,
        "change": None,
        "rel_change": None,
        "lo": None,
        "hi": None,
        "significant": None,
        "method": "no data",
    }
    if not isinstance(v1, (int, float)) or not isinstance(v0, (int, float)) or _is_nan(v1) or _is_nan(v0):
        if isinstance(v1, (int, float)) and not _is_nan(v1):
            out["method"] = "no previous value"
        return out
    v1, v0 = float(v1), float(v0)
    d = v1 - v0
    out["change"] = d
    out["rel_change"] = d / abs(v0) if v0 != 0 else None
    unit = cur.get("unit") or prev.get("unit") or ""
    n1, n0 = cur.get("n"), prev.get("n")
    l1, u1, l0, u0 = cur.get("lo"), cur.get("hi"), prev.get("lo"), prev.get("hi")
    has_ci = not any(_is_nan(x) for x in (l1, u1, l0, u0))
    lo = hi = None
    share = cur.get("proportion", True) is not False and prev.get("proportion", True) is not False
    if share and unit == "%" and isinstance(n1, (int, float)) and isinstance(n0, (int, float)) and n1 > 0 and n0 > 0:
        _, lo, hi = (float(x) for x in stats.diff_interval(v1 * n1, n1, v0 * n0, n0, level))
        out["method"] = "Newcombe difference of proportions"
    elif unit == "count" and not has_ci and v1 >= 0 and v0 >= 0:
        (pl1, pl0), (pu1, pu0) = stats.poisson_interval([v1, v0], level)
        _, lo, hi = _mover(v1, float(pl1), float(pu1), v0, float(pl0), float(pu0))
        out["method"] = "Poisson counts (MOVER)"
    elif has_ci:
        _, lo, hi = _mover(v1, float(l1), float(u1), v0, float(l0), float(u0))
        out["method"] = "recorded intervals (MOVER)"
    else:
        out["method"] = "no interval recorded"
    if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
        out["lo"], out["hi"] = lo, hi
        out["significant"] = bool(lo > 0 or hi < 0)
    return out


def headline(
    current: dict[str, dict],
    previous: dict[str, dict],
    names: list[tuple[str, str, bool | None]] | None = None,
    partial: bool = False,
) -> pd.DataFrame:
    """One row per headline figure: this quarter, previous quarter, change with interval and verdict.

    ``current``/``previous`` are flat ``{name: payload}`` mappings (:func:`flatten`). ``better`` is
    True/False when the change is larger than the noise and goes the good/bad way, None otherwise.
    ``partial``: the audited quarter is not complete — nothing is compared (a part of a quarter against a
    whole one is no verdict).
    """
    if partial:
        previous = {}
    rows = []
    for name, label, hib in names or HEADLINE:
        cur, prev = current.get(name), previous.get(name)
        c = change(cur, prev)
        higher = (cur or {}).get("higher_is_better")
        higher = hib if higher is None else bool(higher)
        better = None
        if c["significant"] and higher is not None:
            better = (c["change"] > 0) == higher
        rows.append(
            {
                "name": name,
                "label": label,
                "unit": (cur or prev or {}).get("unit", ""),
                "value": c["value"],
                "value_lo": (cur or {}).get("lo"),
                "value_hi": (cur or {}).get("hi"),
                "n": (cur or {}).get("n"),
                "previous": c["previous"],
                "change": c["change"],
                "rel_change": c["rel_change"],
                "change_lo": c["lo"],
                "change_hi": c["hi"],
                "significant": c["significant"],
                "better": better,
                "higher_is_better": higher,
                "method": c["method"],
                "section": (cur or prev or {}).get("section"),
                "notebook": (cur or prev or {}).get("notebook"),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------------------
def fmt_value(x: Any, unit: str, currency: str = "EUR") -> str:
    """A figure in its unit: ``%`` → 12.3%, money → EUR 1.2M, days → 35 days, hours → 5.3 hours, ratio → 2.35×."""
    if x is None or _is_nan(x) or not isinstance(x, (int, float, np.floating, np.integer)):
        return "n/a"
    if unit == "%":
        return text.pct(x)
    if unit == "money":
        return text.money(x, currency)
    if unit == "days":
        return text.days(x)
    if unit == "hours":
        return text.hours(x)
    if unit == "ratio":
        return f"{float(x):.2f}×"
    if unit == "score":
        return text.num(x, 1)
    return text.num(x)


def fmt_change(x: Any, unit: str, currency: str = "EUR") -> str:
    """A signed change: ``%`` → +2.1 pp, money → +EUR 12k, days → −3 days, count → +1,204."""
    if x is None or _is_nan(x):
        return "n/a"
    x = float(x)
    sign = "+" if x > 0 else ("−" if x < 0 else "±")
    if unit == "%":
        return text.pp(x).replace("-", "−")
    if unit == "money":
        return sign + text.money(abs(x), currency)
    if unit == "days":
        return f"{sign}{abs(x):,.0f} days"
    if unit == "hours":
        return f"{sign}{abs(x):,.1f} hours"
    if unit == "ratio":
        return f"{sign}{abs(x):.2f}"
    if unit == "score":
        return f"{sign}{abs(x):,.1f}"
    return f"{sign}{abs(x):,.0f}"


def verdict(row: dict | pd.Series) -> str:
    """``better, beyond noise`` / ``worse, beyond noise`` / ``within noise`` / ``no interval`` / ``—``."""
    if row.get("change") is None or _is_nan(row.get("change")):
        return "—"
    sig = row.get("significant")
    if sig is None or (isinstance(sig, float) and math.isnan(sig)):
        return "no interval"
    if not sig:
        return "within noise"
    if row.get("better") is None or _is_nan(row.get("better")):
        return "changed, beyond noise"
    return "better, beyond noise" if row.get("better") else "worse, beyond noise"


def headline_display(table: pd.DataFrame, currency: str = "EUR", previous_label: str = "previous") -> pd.DataFrame:
    """The headline table as the reader sees it: formatted strings, one row per figure."""
    rows = []
    for r in table.to_dict("records"):
        unit = r["unit"] or ""
        rows.append(
            {
                "Figure": r["label"],
                "This quarter": fmt_value(r["value"], unit, currency),
                previous_label: fmt_value(r["previous"], unit, currency),
                "Change": fmt_change(r["change"], unit, currency),
                "Change, 90% interval": (
                    f"{fmt_change(r['change_lo'], unit, currency)} to {fmt_change(r['change_hi'], unit, currency)}"
                    if r["change_lo"] is not None and not _is_nan(r["change_lo"])
                    else ""
                ),
                "Verdict": verdict(r),
            }
        )
    return pd.DataFrame(rows)


def headline_styled(table: pd.DataFrame, currency: str = "EUR", previous_label: str = "previous"):
    """:func:`headline_display` as a pandas Styler: no index, table class ``headline`` (cells do not wrap)."""
    return (
        headline_display(table, currency, previous_label)
        .style.format(escape="html")  # figure labels may quote data (channel names): never live HTML
        .hide(axis="index")
        .set_table_attributes('class="headline"')
        .set_uuid("headline")  # not a random id: the same figures give the same HTML (and the same PDF pages)
    )


def headline_sentences(
    table: pd.DataFrame, quarter: str, previous_quarter: str, currency: str = "EUR", partial: str | None = None
) -> list[str]:
    """Sentences for "What this means" under the headline table, built from the numbers. ``partial`` (why
    the quarter is not complete) replaces every comparison with one sentence saying why there is none."""
    have = table[table["value"].notna()]
    if have.empty:
        return [
            f"No step recorded any headline figure for {quarter}: run the step notebooks first "
            "(`make quarterly-report`)."
        ]
    out = []
    missing = table.loc[table["value"].isna(), "label"].tolist()
    compared = have[have["change"].notna()]
    if partial:
        out.append(
            f"{quarter} is a partial quarter ({partial}): its figures are shown as they stand and are not compared "
            f"with {previous_quarter}, so no better-or-worse verdict is drawn."
        )
    elif compared.empty:
        out.append(f"No figures for {previous_quarter} were available, so this quarter is shown without a comparison.")
    else:
        moved = compared[compared["significant"] == True]  # noqa: E712 - object column with None
        for r in moved.to_dict("records"):
            b = r["better"]
            way = "neither better nor worse in itself" if b is None or _is_nan(b) else "better" if b else "worse"
            n = f", {n_is(r['n'])}" if r.get("n") is not None and not _is_nan(r.get("n")) else ""
            out.append(
                f"{r['label']} went from {fmt_value(r['previous'], r['unit'], currency)} to "
                f"{fmt_value(r['value'], r['unit'], currency)} ({fmt_change(r['change'], r['unit'], currency)}{n}): "
                f"larger than the noise, and {way}."
            )
        quiet = compared[compared["significant"] == False]  # noqa: E712
        if len(quiet):
            names = ", ".join(quiet["label"])
            out.append(
                f"{len(quiet)} of {len(compared)} compared figures ({names}) moved within the noise of a "
                f"quarter: treat those changes as chance, not as a trend."
            )
        if moved.empty:
            out.insert(0, f"No headline figure changed by more than the noise since {previous_quarter}.")
    if missing:
        out.append(f"Not available this quarter (the step had no data or was not run): {', '.join(missing)}.")
    return out


# --------------------------------------------------------------------------------------------------
# findings and recommendations
# --------------------------------------------------------------------------------------------------
def section_anchor(section: str | None) -> str | None:
    """``"01_sales_process#2"`` → ``"#01_sales_process-2"`` (the report's anchor); ``"01_x"`` → ``"#01_x"``."""
    if not section:
        return None
    nb, _, k = str(section).partition("#")
    return f"#{nb}-{k}" if k else f"#{nb}"


def section_title(section: str | None) -> str:
    """``"01_sales_process#2"`` → ``"01 Sales process, §2"``."""
    if not section:
        return ""
    nb, _, k = str(section).partition("#")
    num, _, rest = nb.partition("_")
    name = f"{num} {rest.replace('_', ' ').capitalize()}".strip()
    return f"{name}, §{k}" if k else name


def top_findings(current: dict[str, dict], k: int = TOP_FINDINGS) -> pd.DataFrame:
    """The ``k`` findings with the largest impact (estimated revenue effect per quarter), largest first.
    Findings with no money at stake (impact 0, e.g. "no step got worse") are not ranked."""
    rows = [f for f in findings_of(current) if (f.get("value") or 0) > 0][:k]
    cols = [
        "rank",
        "name",
        "finding",
        "impact",
        "section",
        "anchor",
        "where",
        "recommendation",
        "basis",
        "evidence",
        "evidence_rows",
    ]
    return pd.DataFrame(
        [
            {
                "rank": i + 1,
                "name": f["name"],
                "finding": f.get("label", ""),
                "impact": f.get("value"),
                "section": f.get("section"),
                "anchor": section_anchor(f.get("section")),
                "where": section_title(f.get("section")),
                "recommendation": f.get("recommendation") or "",
                "basis": f.get("basis") or "",
                "evidence": f.get("evidence"),
                "evidence_rows": f.get("evidence_rows"),
            }
            for i, f in enumerate(rows)
        ],
        columns=cols,
    )


def evidence_link(path: Any, rows: Any = None) -> str:
    """`` [records (CSV)](evidence/<file>.csv)``: the Markdown link to a finding's evidence file, or ``""``
    when it has none. Only a path of the form :func:`salesaudit.evidence.relative_path` makes (recomputed
    from its file name) becomes a link."""
    if not isinstance(path, str) or not path.startswith("evidence/"):
        return ""
    name = path.removeprefix("evidence/").removesuffix(".csv")
    if evidence.file_name(name) != f"{name}.csv":
        return ""
    n = f"{int(rows):,} " if isinstance(rows, (int, float)) and rows == rows else ""
    return f" [{n}records (CSV)](evidence/{name}.csv)"


def findings_markdown(findings: pd.DataFrame, currency: str = "EUR") -> str:
    """A numbered Markdown list: finding, impact per quarter, how it was estimated, link to its section."""
    if findings.empty:
        return "_No step recorded a finding this quarter._"
    lines = []
    for r in findings.to_dict("records"):
        link = f" [→ {r['where']}]({r['anchor']})" if r["anchor"] else ""
        link += evidence_link(r.get("evidence"), r.get("evidence_rows"))
        basis = f" ({r['basis']})" if r["basis"] else ""
        sentence = str(r["finding"]).strip().rstrip(".")
        lines.append(f"{r['rank']}. **{sentence}** — about {text.money(r['impact'], currency)} a quarter{basis}.{link}")
    return text.safe_markdown("\n".join(lines))


def recommendations(findings: pd.DataFrame, table: pd.DataFrame | None = None, currency: str = "EUR") -> list[str]:
    """What to do: the top findings' recommendations (by impact, duplicates dropped), then a check for
    every headline figure that got worse beyond the noise and has no finding of its own."""
    out: list[str] = []
    seen: set[str] = set()
    for r in findings.to_dict("records"):
        rec = (r.get("recommendation") or "").strip().rstrip(".")
        if rec and rec not in seen:
            seen.add(rec)
            out.append(f"{rec} (worth about {text.money(r['impact'], currency)} a quarter; {r['where']}).")
    if table is not None and len(table):
        worse = table[(table["significant"] == True) & (table["better"] == False)]  # noqa: E712
        for r in worse.to_dict("records"):
            where = section_title(r.get("section"))
            n = f", {n_is(r['n'])}" if r.get("n") is not None and not _is_nan(r.get("n")) else ""
            out.append(
                f"Find out why {r['label']} got worse ({fmt_change(r['change'], r['unit'], currency)}{n}, "
                f"outside its 90% interval of no change){'; see ' + where if where else ''}."
            )
    return out or ["No action stands out this quarter: keep the current plan and re-run the audit next quarter."]


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
def chart_changes(ax, table: pd.DataFrame, previous_quarter: str):
    """Relative change of each headline figure vs the previous quarter, % with 90% interval;
    green = better beyond noise, red = worse beyond noise, grey = within noise."""
    from matplotlib.ticker import PercentFormatter

    t = table[table["rel_change"].notna()].iloc[::-1]
    if t.empty:
        ax.text(
            0.5, 0.5, f"No {previous_quarter} figures to compare with", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return ax
    base = t["previous"].abs().astype(float)
    rel = t["rel_change"].astype(float) * 100
    lo = (t["change_lo"].astype(float) / base * 100).fillna(rel)
    hi = (t["change_hi"].astype(float) / base * 100).fillna(rel)
    colors = ["#2a9d55" if b is True else "#c0392b" if b is False else "#9e9e9e" for b in t["better"]]
    y = np.arange(len(t))
    ax.barh(y, rel, color=colors, height=0.6)
    ax.errorbar(
        rel,
        y,
        xerr=[(rel - lo).clip(lower=0), (hi - rel).clip(lower=0)],
        fmt="none",
        ecolor="#333333",
        elinewidth=1,
        capsize=3,
    )
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, t["label"])
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel(f"Change vs {previous_quarter}, % of the previous value (bar: 90% interval)")
    n_sig = int((t["significant"] == True).sum())  # noqa: E712
    ax.set_title(
        f"{n_sig} of {len(t)} headline figures changed by more than their 90% interval since {previous_quarter}"
    )
    return ax


def _new_figure(height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(9, height), dpi=100, layout="tight")


def _as_image(fig):
    """A matplotlib Figure as an IPython PNG image (displays the same in a notebook, a test or a script)."""
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return Image(data=buf.getvalue(), format="png")


def changes_figure(table: pd.DataFrame, previous_quarter: str):
    """The :func:`chart_changes` chart as a PNG image, or a note when no figure could be compared (for ``display``)."""
    if table["rel_change"].notna().sum() == 0:
        return text.note(
            f"No headline figure could be compared with {previous_quarter} "
            "(no report or figures for that quarter), so no change chart is shown."
        )
    n = int(table["rel_change"].notna().sum())
    fig = _new_figure(1.1 + 0.26 * n)
    chart_changes(fig.subplots(), table, previous_quarter)
    return _as_image(fig)


def findings_figure(findings: pd.DataFrame, currency: str = "EUR"):
    """The :func:`chart_findings` chart as a PNG image, or a note when no step recorded a finding (for ``display``)."""
    if findings.empty:
        return text.note("No step recorded a finding this quarter.")
    fig = _new_figure(1.0 + 0.3 * len(findings))
    chart_findings(fig.subplots(), findings, currency)
    return _as_image(fig)


def chart_findings(ax, findings: pd.DataFrame, currency: str = "EUR"):
    """Impact per quarter of the top findings (horizontal bars, largest on top)."""
    if findings.empty:
        ax.text(0.5, 0.5, "No findings recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    t = findings.iloc[::-1]
    labels = [
        f"{r['rank']}. {str(r['name']).removeprefix('finding:').replace('_', ' ')[:32]}" for r in t.to_dict("records")
    ]
    ax.barh(np.arange(len(t)), t["impact"].astype(float), color="#3a78b5", height=0.6)
    ax.set_yticks(np.arange(len(t)), labels)
    ax.xaxis.set_major_formatter(lambda v, _: text.money(v, currency))
    ax.set_xlabel(f"Estimated effect per quarter ({currency})")
    total = float(findings["impact"].sum())
    ax.set_title(f"Top {len(findings)} findings: about {text.money(total, currency)} a quarter at stake")
    return ax


# --------------------------------------------------------------------------------------------------
# summary.json
# --------------------------------------------------------------------------------------------------
def summary_document(
    *,
    quarter: str,
    previous_quarter: str,
    company: str,
    currency: str,
    built_at: str,
    data_range: tuple[str, str],
    figures: dict[str, dict[str, dict]],
    previous: dict[str, dict[str, dict]],
    previous_source: str | None,
    data_dir: str = "",
    coverage: dict | None = None,
    partial: str | None = None,
) -> dict:
    """The ``summary.json`` document (format in ``docs/report.md``): every recorded figure by notebook,
    the headline figures with their quarter-over-quarter change (none for a ``partial`` quarter), the top
    findings, and the data coverage (extraction date, date windows, stages recorded)."""
    cur = flatten(figures)
    prev = flatten(previous)
    table = headline(cur, prev, partial=bool(partial))
    head = {}
    for r in table.to_dict("records"):
        name = r.pop("name")
        head[name] = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
    tops = top_findings(cur)
    return {
        "format": SUMMARY_FORMAT,
        "quarter": str(quarter),
        "previous_quarter": str(previous_quarter),
        "company": company,
        "currency": currency,
        "built_at": built_at,
        "data_dir": data_dir,
        "data_range": {"first": data_range[0], "last": data_range[1]},
        "comparison_source": None if partial else previous_source,
        "partial": partial,
        "coverage": coverage,
        "notebooks": sorted(figures),
        "figures": figures,
        "headline": head,
        "findings": json.loads(tops.to_json(orient="records")),
    }
