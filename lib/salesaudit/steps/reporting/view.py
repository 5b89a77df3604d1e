"""Step 04 — display tables and charts of the data-quality audit.

Tables: DataFrames formatted for reading (index: the table or quarter; shares as % only from
:data:`~salesaudit.steps.reporting.metrics.MIN_BASE_PCT` rows checked), or a one-line Markdown note when
there is nothing to show. Charts: one function ``fig_<name>(...) -> matplotlib.figure.Figure`` per chart,
drawn with the theme and colours of :mod:`salesaudit.plots` on a figure pyplot no longer holds
(:func:`salesaudit.plots.new_figure`), so the notebook shows it once with ``display(fig)``; titles come from
:mod:`.story`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from salesaudit import plots
from salesaudit.data.io import AuditData
from salesaudit.plots import COLORS
from salesaudit.steps.reporting.metrics import (
    Snapshot,
    check_chart_data,
    duplicate_pairs,
    duplicates_by_channel,
    loader_only_findings,
)
from salesaudit.steps.reporting.story import (
    dimension_title,
    duplicate_title,
    fixes_lines,
    freshness_title,
    reconciliation_labels,
    reconciliation_title,
    score_title,
    share_text,
    timeliness_title,
    trend_title,
)

__all__ = [
    "duplicate_table",
    "dimension_table",
    "table_or_note",
    "freshness_table",
    "reconciliation_measure",
    "reconciliation_table",
    "scores_table",
    "trend_table",
    "trend_display",
    "fixes_block",
    "loader_warnings",
    "MIN_VISIBLE_LOSS",
    "MIN_VISIBLE_SHARE",
    "CHECK_XLABEL",
    "has_score_bars",
    "fig_scores",
    "has_check_bars",
    "fig_checks",
    "fig_duplicates",
    "fig_idle",
    "has_freshness_bars",
    "fig_freshness",
    "fig_reconciliation",
    "fig_trend",
]


def duplicate_table(leads: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The first ``n`` copies for display (index: the copy's lead_id), the creation time as text."""
    p = duplicate_pairs(leads).head(n)
    created = pd.Series(p["created_at"])
    return p.assign(created_at=created.dt.strftime("%Y-%m-%d %H:%M").fillna("not dated").to_numpy()).set_index(
        "lead_id"
    )


def dimension_table(check_table: pd.DataFrame, dimension: str, failing_only: bool = False) -> pd.DataFrame:
    """Compact view of one dimension's checks that checked at least one row (index: table): what fails,
    failing, checked, failing % (``—`` below :data:`MIN_BASE_PCT` rows checked)."""
    c = check_table[(check_table["dimension"] == dimension) & (check_table["base"] > 0)]
    if failing_only:
        c = c[c["count"] > 0]
    c = c.sort_values(["share", "count"], ascending=False, kind="stable")
    return pd.DataFrame(
        {
            "table": c["table"].to_numpy(),
            "check": c["label"].to_numpy(),
            "failing": c["count"].round(0).astype(int).to_numpy(),
            "checked": c["base"].to_numpy(),
            "failing %": [share_text(k, n) for k, n in zip(c["count"], c["base"])],
        }
    ).set_index("table")


def table_or_note(df: pd.DataFrame, empty: str):
    """``df`` for ``display``, or a one-line Markdown note ``empty`` when it has no rows (never "Empty DataFrame")."""
    if len(df):
        return df
    from IPython.display import Markdown  # imported on use, as salesaudit.text does

    return Markdown(f"> {empty}")


def freshness_table(fresh: pd.DataFrame) -> pd.DataFrame:
    """Display view of :func:`freshness` (index: table), dates as text."""
    return pd.DataFrame(
        {
            "table": fresh["table"].to_numpy(),
            "latest": [f"{pd.Timestamp(v):%Y-%m-%d %H:%M}" for v in fresh["latest"]],
            "lag (days)": fresh["lag_days"].round(1).to_numpy(),
            "normal delay (days)": fresh["tolerance_days"].to_numpy(),
            "stale share": fresh["stale_share"].round(3).to_numpy(),
        }
    ).set_index("table")


def reconciliation_measure(snap: Snapshot, currency: str) -> tuple[str, str]:
    """``(column, axis label)`` of the reconciliation chart: unreconciled revenue, or — when the deals carry no
    amount — the count of won deals without an order (a revenue of 0 would be a false statement)."""
    if snap.records("opportunities", "amount"):
        return "unreconciled_revenue", f"Won revenue not reconciled ({currency})"
    return "without_order", "Won deals without an order (count)"


def reconciliation_table(by_q: pd.DataFrame, snap: Snapshot) -> pd.DataFrame:
    """Display view of :func:`reconciliation_by_quarter` (index: quarter, whole numbers); the revenue columns
    of deals are left out when the deals carry no amount."""
    cols = ["won_deals", "won_revenue", "order_revenue", "without_order", "amount_differs", "unreconciled_revenue"]
    if not snap.records("opportunities", "amount"):
        cols = ["won_deals", "order_revenue", "without_order"]
    return by_q.set_index("quarter")[cols].round(0).astype("int64")


def scores_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Rounded display of :func:`table_scores` (index: table)."""
    return (
        scores.assign(score=scores["score"].round(2)).rename(columns={"failing": "failing checks"}).set_index("table")
    )


def trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """Scores by quarter end (rows) for the overall score and every table that ever scored below 100."""
    wide = trend.pivot(index="quarter", columns="table", values="score")
    keep = ["overall"] + sorted(c for c in wide.columns if c != "overall" and (wide[c] < 100).any())
    return wide[keep].round(2)


def trend_display(wide: pd.DataFrame) -> pd.DataFrame:
    """:func:`trend_table` for reading: a table with no records at a quarter end says "no data", not NaN."""
    return wide.apply(lambda col: col.map(lambda v: "no data" if pd.isna(v) else f"{v:.2f}"))


def fixes_block(fixes: pd.DataFrame, title: str = "Fixes, most urgent first"):
    """The ranked fixes as a numbered Markdown list, for ``display``."""
    from IPython.display import Markdown

    lines = fixes_lines(fixes) or ["Nothing to fix: every check passes."]
    return Markdown(f"**{title}**\n\n" + "\n".join(lines))


def loader_warnings(data: AuditData):
    """The loader's own warnings (``AuditData.warnings``: table, check, count, message; index: table) but
    those step 04 counts again as of the quarter end (stage order, foreign keys, channel spellings: their
    counts are in the checks below, :func:`~salesaudit.steps.reporting.metrics.loader_only_findings`), or a note."""
    return table_or_note(
        loader_only_findings(data.warnings())[["table", "check", "count", "message"]].set_index("table"),
        "The loader found no other problem to warn about (its stage-order, foreign-key and channel-spelling "
        "warnings are counted below as of the quarter end).",
    )


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
#: a table losing fewer points than this would draw an invisible bar (the score table gives it)
MIN_VISIBLE_LOSS = 0.05
#: a failing share under this draws no visible bar (the dimension's table gives the counts)
MIN_VISIBLE_SHARE = 0.0005
#: x-axis label of each dimension's bar chart of failing shares
CHECK_XLABEL = {"completeness": "Rows with the field empty (%)"}


def _losing(scores: pd.DataFrame) -> pd.DataFrame:
    return scores[scores["score"] < 100 - MIN_VISIBLE_LOSS]


def has_score_bars(scores: pd.DataFrame) -> bool:
    """True when at least one table loses a visible number of points (:data:`MIN_VISIBLE_LOSS`)."""
    return bool(len(_losing(scores)))


def fig_scores(scores: pd.DataFrame, overall: float) -> Figure:
    """Points each table loses from 100 (tables losing at least :data:`MIN_VISIBLE_LOSS`)."""
    losing = _losing(scores)
    fig, ax = plots.new_figure(figsize=(9, 1.2 + 0.35 * max(len(losing), 2)))
    plots.value_bars(
        ax,
        losing["table"],
        100 - losing["score"],
        xlabel="Points lost from 100",
        digits=2,
        title=score_title(scores, overall),
    )
    return fig


def has_check_bars(check_table: pd.DataFrame, dimension: str) -> bool:
    """True when a failing share of the dimension is large enough to draw (:data:`MIN_VISIBLE_SHARE`)."""
    return bool((check_chart_data(check_table, dimension)["share"] >= MIN_VISIBLE_SHARE).any())


def fig_checks(check_table: pd.DataFrame, dimension: str) -> Figure:
    """Failing share of each failing check of one dimension (:func:`check_chart_data`), largest first."""
    cc = check_chart_data(check_table, dimension)
    fig, ax = plots.new_figure(figsize=(9, 0.9 + 0.3 * max(len(cc), 2)))
    plots.value_bars(
        ax,
        cc["label"],
        cc["share"],
        xlabel=CHECK_XLABEL.get(dimension, "Rows failing (%)"),
        pct=True,
        digits=2,
        title=dimension_title(check_table, dimension),
        highlight=cc["count"] > 0,
    )
    return fig


def fig_duplicates(leads: pd.DataFrame, summary: dict[str, Any]) -> Figure:
    """Copies of an earlier lead per channel (:func:`duplicates_by_channel`): where the duplicates enter."""
    by_channel = duplicates_by_channel(leads)
    fig, ax = plots.new_figure(figsize=(7, 0.9 + 0.3 * max(len(by_channel), 2)))
    plots.value_bars(
        ax,
        by_channel["channel"],
        by_channel["copies"],
        xlabel="Copies of an earlier lead (count)",
        digits=0,
        title=duplicate_title(summary),
    )
    return fig


def fig_idle(idle: pd.Series, days: int) -> Figure:
    """Histogram of the days since the last touch of each open deal (capped at 180), with the ``days`` limit."""
    fig, ax = plots.new_figure(figsize=(9, 3.6))
    ax.hist(idle.clip(upper=180), bins=36, range=(0, 180), color=COLORS["accent"])
    ax.axvline(days, color=COLORS["warning"], linestyle="--", linewidth=1, label=f"{days}-day limit")
    ax.set_xlabel("Days since the last activity on the open deal (180 = 180 or more)")
    ax.set_ylabel("Open deals (count)")
    ax.set_title(timeliness_title(idle, days), loc="left")
    ax.legend(frameon=False)
    return fig


def has_freshness_bars(fresh: pd.DataFrame) -> bool:
    """True when at least one dated table has a positive lag to draw."""
    return bool(len(fresh) and (fresh["lag_days"].fillna(0) > 0).any())


def fig_freshness(fresh: pd.DataFrame, label: str) -> Figure:
    """Lag of each dated table (:func:`freshness`) against its normal delay; late tables highlighted."""
    fig, ax = plots.new_figure(figsize=(9, 0.9 + 0.3 * max(len(fresh), 2)))
    plots.value_bars(
        ax,
        fresh["table"],
        fresh["lag_days"],
        xlabel="Days between the latest record and the cut-off",
        digits=1,
        ref=fresh["tolerance_days"],
        ref_label="normal delay",
        highlight=fresh["lag_days"] > fresh["tolerance_days"],
        title=freshness_title(fresh, label),
    )
    return fig


def fig_reconciliation(by_q: pd.DataFrame, snap: Snapshot, currency: str) -> Figure:
    """Unreconciled won revenue (or won deals without an order, without amounts) per quarter won
    (:func:`reconciliation_by_quarter`), each bar labelled (:func:`reconciliation_labels`)."""
    measure, ylabel = reconciliation_measure(snap, currency)
    fig, ax = plots.new_figure(figsize=(9, 3.4))
    ax.bar(by_q["quarter"], by_q[measure], color=COLORS["warning"])
    ax.bar_label(ax.containers[0], labels=reconciliation_labels(by_q), fontsize=8)
    ax.set_xlabel("Quarter the deals were won (label: share of won revenue, or deals)")
    ax.set_ylabel(ylabel)
    plots.thousands_axis(ax)
    ax.set_title(reconciliation_title(by_q, currency), loc="left")
    return fig


def fig_trend(trend: pd.DataFrame) -> Figure:
    """Score by quarter end (:func:`score_trend`): the overall score and every table that ever scored below 100
    (:func:`trend_table`), on at least a 1-point range so that tiny moves are not drama."""
    wide = trend_table(trend)
    fig, ax = plots.new_figure(figsize=(9, 3.8))
    wide.plot(ax=ax, marker="o")
    ax.set_ylim(max(0, wide.min().min() - 1), 100.2)
    ax.set_xlabel("Quarter end")
    ax.set_ylabel("Data-quality score (0–100)")
    ax.set_title(trend_title(trend), loc="left")
    ax.legend(frameon=False, fontsize=8)
    return fig
