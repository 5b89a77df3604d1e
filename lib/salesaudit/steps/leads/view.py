"""Step 03 · lead quality — what the notebook shows: compact display tables and one chart per section.

Tables are rounded, labelled DataFrames built from :mod:`.metrics` results. Charts are ``fig_<name>(...)``
functions returning a ``matplotlib.figure.Figure``, drawn with the theme, palette and generic charts of
:mod:`salesaudit.plots` and titled by :mod:`.story` with what the reader should see. Each figure is closed in
pyplot as soon as it is made, so the notebook's ``display(fig)`` shows it exactly once and nothing stays
open. When there is nothing to draw, a small figure says what is missing instead of an empty chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from salesaudit.steps.leads.metrics import CAMPAIGN_DAYS, HANDOFF_STATES
from salesaudit.steps.leads.story import campaign_title, handoff_title, pareto_title, score_title, value_title

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# ==================================================================================================
# 1. value per lead
# ==================================================================================================
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


def _whole(v: float) -> str:
    """Money rounded to a whole number with separators; "no won deal" when there is none to average."""
    return "no won deal" if pd.isna(v) else f"{v:,.0f}"


def _ci_pct(lo: float, hi: float) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{100 * lo:.1f}–{100 * hi:.1f}"


def _ci_num(lo: float, hi: float) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{lo:,.0f}–{hi:,.0f}"


# ==================================================================================================
# 2. lead score
# ==================================================================================================
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


# ==================================================================================================
# 3. hand-off
# ==================================================================================================
def handoff_display(table: pd.DataFrame, by: str = "channel") -> pd.DataFrame:
    """Compact hand-off table: MQLs per channel, the share in each state, the MQL→SAL rate with its interval,
    the median delay."""
    out = pd.DataFrame({by.replace("_", " ").capitalize(): table[by], "MQLs": table["mqls"]})
    for s in HANDOFF_STATES:
        out[f"{s.capitalize()} %"] = (100 * table[s] / table["mqls"]).round(1)
    out["MQL→SAL rate %"] = (100 * table["accept_rate"]).round(1)
    out["90% CI"] = [_ci_pct(a, b) for a, b in zip(table["accept_rate_lo"], table["accept_rate_hi"])]
    delay = table["median_delay"].round(1)
    out["Median delay (days)"] = delay.astype(object).where(delay.notna(), "n/a (none accepted)")
    return out.set_index(out.columns[0])


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


# ==================================================================================================
# 4. campaigns
# ==================================================================================================
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


# ==================================================================================================
# figures (one per section; small: ≤ 10 × 4.5 in at 100 dpi)
# ==================================================================================================
def _new_figure(figsize: tuple[float, float], ncols: int = 1, **subplots) -> tuple[Figure, Any]:
    """A figure and its axes, made by pyplot (its backend shows figures in a notebook) and closed at once:
    the notebook ``display``s it exactly once, and nothing stays open in pyplot."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=figsize, **subplots)
    plt.close(fig)
    return fig, axes


def _empty_fig(message: str, title: str) -> Figure:
    """A small figure saying what is missing, in place of an empty chart."""
    from salesaudit import plots

    fig, ax = _new_figure((8, 2))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color=plots.MUTED)
    ax.axis("off")
    ax.set_title(title, loc="left")
    return fig


def fig_value(table: pd.DataFrame, by: str = "channel", currency: str = "EUR") -> Figure:
    """SQL rate (left) and revenue per lead (right; customer rate without deal data) by channel with 90%
    intervals and the all-channel value as a dashed line."""
    from salesaudit import plots

    if table.empty:
        return _empty_fig("No leads in the cohort", "Value per lead")
    body, tot = table.iloc[:-1], table.iloc[-1]
    fig, axes = _new_figure((10, 0.9 + 0.42 * max(len(body), 3)), 2, sharey=True)
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


def fig_score(bands: pd.DataFrame, curve: pd.DataFrame, used: dict, best: dict, auc: dict) -> Figure:
    """Calibration by score band over all cohort leads (left) and the SQL rate of the MQLs by score,
    smoothed ±2 points, against the rule's reference rate (right); used and suggested thresholds marked.
    ``curve`` is :func:`.metrics.score_curve` of :func:`.metrics.handed_over`."""
    from salesaudit import plots

    if bands["leads"].sum() == 0:
        return _empty_fig("No lead scores in the cohort", "Lead score")
    base = bands["sql"].sum() / bands["leads"].sum()
    marks = {"used": used["threshold"], "suggested": best["threshold"]}
    fig, axes = _new_figure((10, 4.2), 2)
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
            color=plots.MUTED,
            transform=axes[1].transAxes,
        )
        axes[1].axis("off")
    axes[1].set_title("MQLs: where to draw the line", loc="left", fontsize=10)
    fig.suptitle(score_title(auc, used, best), x=0.01, ha="left", fontweight="bold")
    return fig


def fig_handoff(table: pd.DataFrame, curve: pd.DataFrame, by: str = "channel") -> Figure:
    """What happened to the quarter's MQLs by channel (100% bars, left) and the cumulative share accepted
    by days since MQL (right, Kaplan–Meier with 90% band)."""
    from salesaudit import plots

    if table.empty:
        return _empty_fig("No MQLs in the quarter", "Hand-off")
    shares = table[list(HANDOFF_STATES)].div(table["mqls"], axis=0)
    shares.columns = [c.capitalize() for c in shares.columns]
    fig, axes = _new_figure((10, 4.4), 2, gridspec_kw={"width_ratios": [1.3, 1]})
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


def fig_pareto(p: pd.DataFrame, of: str = "disqualifications") -> Figure:
    """Pareto chart of disqualify reasons; 'not yet' reasons (handed over too early) highlighted."""
    from salesaudit import plots

    if p.empty:
        return _empty_fig(f"No {of} in the quarter", "Disqualify reasons")
    fig, ax = _new_figure((9, 3.8))
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
            color=plots.MUTED,
        )
    return fig


def fig_campaigns(t: pd.DataFrame, days: int = CAMPAIGN_DAYS) -> Figure:
    """Lead volume against SQL rate per campaign; nurture candidates highlighted and named."""
    from salesaudit import plots

    if t.empty:
        return _empty_fig("No campaign leads in the quarter", "Campaigns")
    fig, ax = _new_figure((9, 4))
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
