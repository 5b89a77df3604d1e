"""Step 02 — display tables and charts of the tools-and-content audit.

Tables: DataFrames formatted for reading (intervals as text). Charts: one function
``fig_<name>(...) -> matplotlib.figure.Figure`` per section, drawn with the theme and colours of
:mod:`salesaudit.plots` on a figure from :func:`salesaudit.plots.new_figure` (detached from pyplot, so the
notebook shows it exactly once with ``display(fig)``); titles come from :mod:`salesaudit.steps.tools.story`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from salesaudit import plots, text
from salesaudit.plots import COLORS, new_figure
from salesaudit.steps.tools import metrics, story
from salesaudit.steps.tools.metrics import NEVER_CONTACTED_DAYS
from salesaudit.text import fmt_ci

__all__ = [
    "stream_table",
    "ranking_table",
    "freshness_table",
    "activities_table",
    "contact_table",
    "fig_streams",
    "fig_content_lift",
    "fig_freshness",
    "fig_manual_work",
]


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------
def stream_table(card: pd.DataFrame) -> pd.DataFrame:
    """The stream scorecard as a compact, readable table (rates with 90% intervals)."""
    return pd.DataFrame(
        {
            "Stream": card["stream"],
            "Sends": card["sends"].astype(int),
            "Delivered": card["base"].map("{:,.0f}".format),
            "Open rate": text.fmt_ci(card["open_rate"], card["open_rate_lo"], card["open_rate_hi"]),
            "Click rate": text.fmt_ci(card["click_rate"], card["click_rate_lo"], card["click_rate_hi"], 2),
            "Click-to-open": text.fmt_ci(card["click_to_open"], card["click_to_open_lo"], card["click_to_open_hi"]),
            "Unsubscribes": text.fmt_ci(
                card["unsubscribe_rate"], card["unsubscribe_rate_lo"], card["unsubscribe_rate_hi"], 2
            ),
            "Click rate vs last quarter": text.fmt_ci(
                card["click_rate_change"], card["click_rate_change_lo"], card["click_rate_change_hi"], 2, suffix=" pp"
            ),
            "Verdict": card["verdict"],
        }
    ).set_index("Stream")


def ranking_table(ranking: pd.DataFrame) -> pd.DataFrame:
    """The content ranking as a compact table: adjusted lifts in pp with 90% intervals."""
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


def activities_table(trend: pd.DataFrame) -> pd.DataFrame:
    """Activities per won deal: one row per type, one column per quarter (plus won deals)."""
    t = trend.pivot(index="type", columns="quarter", values="per_deal").round(1)
    order = [x for x in t.index if x != "total"] + ["total"]
    t = t.reindex(order)
    deals = trend.drop_duplicates("quarter").set_index("quarter")["deals"].reindex(t.columns)
    t = t.map(lambda x: f"{x:.1f}")
    return pd.concat([t, deals.map(lambda x: f"{x:,.0f}").to_frame("won deals").T]).rename_axis(
        "activities per won deal"
    )


def contact_table(trend: pd.DataFrame) -> pd.DataFrame:
    """Speed to first contact and never-contacted share per quarter."""
    return pd.DataFrame(
        {
            "Quarter": trend["quarter"],
            "New leads": trend["leads"],
            "Median hours to first contact (Kaplan–Meier)": text.fmt_ci(
                trend["median_hours"],
                trend.get("median_lo", pd.Series(np.nan, index=trend.index)),
                trend.get("median_hi", pd.Series(np.nan, index=trend.index)),
                1,
                1.0,
                " h",
            ),
            "Contacted within 1 day": trend["within_1_day"].map(text.pct),
            f"Not contacted within {NEVER_CONTACTED_DAYS} days": text.fmt_ci(
                trend["never_rate"], trend["never_lo"], trend["never_hi"]
            ),
        }
    ).set_index("Quarter")


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
def fig_streams(card: pd.DataFrame, trend: pd.DataFrame, quarter_label: str) -> Figure:
    """Click rate per stream this quarter with 90% intervals against all streams pooled (left); click-to-open
    rate per stream by quarter (right). ``card``: :func:`.metrics.stream_scorecard` (one stream at least);
    ``trend``: :func:`.metrics.email_by_quarter`."""
    fig, (a1, a2) = new_figure(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1, 1.2]})
    plots.interval_bars(
        a1,
        card["stream"],
        card["click_rate"],
        card["click_rate_lo"],
        card["click_rate_hi"],
        xlabel=f"Click rate {quarter_label}, % of delivered (90% interval)",
        ref=card["clicks"].sum() / card["base"].sum(),
        ref_label="all streams",
    )
    plots.pct_axis(a1, "x", 1)
    for s, g in trend.groupby("stream"):
        a2.plot(g["quarter"], g["click_to_open"], marker="o", label=s)
    a2.set_ylabel("Click-to-open rate, %")
    plots.pct_axis(a2, "y")
    a2.set_ylim(0, float(trend["click_to_open"].max()) * 1.45)
    a2.legend(fontsize=7.5, ncol=3, loc="upper left")
    a2.set_title("Click-to-open by quarter", loc="left", fontsize=10)
    fig.suptitle(story.stream_title(card, quarter_label), x=0.01, ha="left", fontweight="bold")
    return fig


def fig_content_lift(ranking: pd.DataFrame) -> Figure:
    """MQL→SQL (left) and SQL→customer (right) lift of each judged asset in pp with 90% intervals, against 0.
    ``ranking``: :func:`.metrics.content_ranking` with one judged asset at least (:func:`.metrics.judged_assets`)."""
    shown = metrics.judged_assets(ranking)
    names = (shown["title"] if "title" in shown else shown["content_id"]).fillna(shown["content_id"]).str.slice(0, 34)
    fig, (a1, a2) = new_figure(1, 2, figsize=(10, 0.3 * len(shown) + 1.8), sharey=True)
    plots.interval_bars(
        a1,
        names,
        shown["mql_sql_lift"],
        shown["mql_sql_lift_lo"],
        shown["mql_sql_lift_hi"],
        xlabel="MQL→SQL lift, pp (90% interval)",
        ref=0,
    )
    plots.interval_bars(
        a2,
        names,
        shown["sql_customer_lift"],
        shown["sql_customer_lift_lo"],
        shown["sql_customer_lift_hi"],
        xlabel="SQL→customer lift, pp (90% interval)",
        ref=0,
        color=COLORS["second"],
    )
    for ax in (a1, a2):
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:+.0f}"))
    fig.suptitle(story.content_title(ranking), x=0.01, ha="left", fontweight="bold")
    return fig


def fig_freshness(fresh: pd.DataFrame, summary: dict, quarter_label: str) -> Figure:
    """Touches of each asset in the quarter, stale assets in the warning colour. ``fresh`` / ``summary``:
    :func:`.metrics.content_freshness` and :func:`.metrics.stale_summary`."""
    shown = fresh.sort_values("touches")
    fig, ax = new_figure(figsize=(9, 0.26 * len(shown) + 1.4))
    colors = np.where(shown["stale"], COLORS["warning"], COLORS["light"])
    ax.barh(shown["title"].str.slice(0, 40), shown["touches"], color=colors)
    ax.set_xlabel(f"Touches in {quarter_label} (red: not updated for > {summary['stale_days']} days)")
    ax.set_title(story.freshness_title(summary, quarter_label), loc="left")
    return fig


def fig_manual_work(
    acts: pd.DataFrame | None, contact: pd.DataFrame | None, quarter_label: str, previous_label: str
) -> Figure:
    """Activities per won deal by type and quarter (stacked bars) and the median hours to first contact with
    the share never contacted (right axis), one panel each; a panel whose data is None is left out (call it with
    one of the two at least). ``acts``: :func:`.metrics.activities_trend`; ``contact``:
    :func:`.metrics.first_contact_trend`."""
    has_acts, has_contact = acts is not None, contact is not None
    panels = max(1, has_acts + has_contact)
    fig, axes = new_figure(1, panels, figsize=(5 * panels, 3.8), squeeze=False)
    a1, a2 = (axes[0][0], axes[0][-1])
    if has_acts:
        piv = acts[acts["type"] != "total"].pivot(index="quarter", columns="type", values="per_deal").fillna(0)
        piv.plot.bar(stacked=True, ax=a1, width=0.7, rot=0)
        a1.set_ylabel("Activities per won deal")
        a1.set_xlabel("Quarter (deals won in it)")
        a1.set_ylim(0, max(float(piv.sum(axis=1).max()), 1.0) * 1.3)
        a1.legend(fontsize=8, ncol=4, loc="upper left")
        a1.set_title(story.activities_title(acts, quarter_label, previous_label), loc="left", fontsize=10)
    if has_contact:
        a2.plot(
            contact["quarter"],
            contact["median_hours"],
            marker="o",
            color=COLORS["accent"],
            label="median hours to first contact",
        )
        a2.set_ylabel("Median hours to first contact (Kaplan–Meier)", color=COLORS["accent"])
        a2.set_ylim(0, max(float(contact["median_hours"].max(skipna=True) or 0), 1.0) * 1.3)
        a2.set_xlabel("Quarter (leads created in it)")
        a3 = a2.twinx()
        a3.errorbar(
            contact["quarter"],
            contact["never_rate"],
            yerr=[contact["never_rate"] - contact["never_lo"], contact["never_hi"] - contact["never_rate"]],
            fmt="s--",
            color=COLORS["warning"],
            capsize=3,
            label="never contacted",
        )
        plots.pct_axis(a3, "y")
        a3.grid(False)
        a3.set_ylabel(f"Not contacted within {NEVER_CONTACTED_DAYS} days, %", color=COLORS["warning"])
        a3.set_ylim(0, max(0.05, float(contact["never_hi"].max(skipna=True) or 0) * 1.3))
        a2.set_title(story.contact_title(contact, quarter_label), loc="left", fontsize=10)
    return fig
