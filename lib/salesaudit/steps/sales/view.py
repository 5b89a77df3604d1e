"""Step 05 — display tables and charts of the sales-effectiveness audit.

Tables: DataFrames of strings formatted for reading (rates as %, intervals as text). Charts: one function
``fig_<name>(...) -> matplotlib.figure.Figure`` per chart, drawn with the theme, palette and colours of
:mod:`salesaudit.plots` on a figure pyplot no longer holds (:func:`salesaudit.plots.new_figure`), so the
notebook shows it once with ``display(fig)``; titles come from :mod:`.story`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from salesaudit import plots, text
from salesaudit.capacity import LeadForecast
from salesaudit.plots import COLORS
from salesaudit.steps.sales.metrics import UNKNOWN_REP, CapacityPlan, TeamFigures, placed_reps
from salesaudit.steps.sales.story import (
    archetype_title,
    capacity_title,
    load_title,
    ramp_title,
    speed_title,
    win_rate_title,
)

__all__ = [
    "QUADRANT_NAMES",
    "scorecard_table",
    "skill_display",
    "contrast_display",
    "ramp_display",
    "plan_display",
    "fig_win_rates",
    "fig_archetypes",
    "fig_speed",
    "fig_ramp",
    "fig_capacity",
]

_SHARE_METRICS = {"contact_rate", "sql_rate", "share_call", "share_email", "share_meeting", "share_demo"}
QUADRANT_NAMES = {
    (True, True): "Stars",
    (False, True): "Snipers",
    (True, False): "Grinders",
    (False, False): "Developing",
}


# --------------------------------------------------------------------------------------------------
# compact display tables
# --------------------------------------------------------------------------------------------------
def scorecard_table(card: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """The per-rep scorecard as a compact, rounded display table (strings), best shrunk win rate first."""
    c = (
        card.sort_values("win_rate_shrunk", ascending=False, na_position="last")
        if "win_rate_shrunk" in card.columns
        else card
    )
    c = c.sort_values("rep_id", key=lambda s: s.eq(UNKNOWN_REP), kind="stable")
    out = pd.DataFrame({"Rep": c["name"].to_numpy()})
    out["Leads"] = c["leads"].map(text.num).to_numpy()
    out["Contacted"] = c["contact_rate"].map(text.pct).to_numpy()
    out["Speed to lead"] = c["speed_to_lead_h"].map(lambda v: "n/a" if text.is_missing(v) else f"{v:.1f} h").to_numpy()
    out["Lead→SQL"] = c["sql_rate"].map(text.pct).to_numpy()
    if "won" in c.columns:
        out["Opps"] = c["opportunities"].map(text.num).to_numpy()
        out["Won/closed"] = (c["won"].astype(str) + "/" + c["closed"].astype(str)).to_numpy()
        out["Win rate (raw)"] = c["win_rate"].map(text.pct).to_numpy()
        out["Win rate (shrunk, 90%)"] = [
            "—" if text.is_missing(s) else f"{text.pct(s)} ({text.pct(lo, 0)}–{text.pct(hi, 0)})"
            for s, lo, hi in zip(c["win_rate_shrunk"], c["win_rate_shrunk_lo"], c["win_rate_shrunk_hi"])
        ]
        out["Avg deal"] = c["avg_deal_size"].map(lambda v: text.money(v, currency)).to_numpy()
        out["Cycle"] = c["cycle_days"].map(text.days).to_numpy()
        out["Velocity /day"] = c["sales_velocity"].map(lambda v: text.money(v, currency)).to_numpy()
    if "activities_per_won_deal" in c.columns:
        out["Activities/win"] = c["activities_per_won_deal"].map(lambda v: text.num(v, 1)).to_numpy()
    if "quota_attainment" in c.columns:
        out["Quota"] = c["quota_attainment"].map(lambda v: text.pct(v, 0)).to_numpy()
    return out.set_index("Rep")


def skill_display(skill: pd.DataFrame) -> pd.DataFrame:
    """The skill ranking as a display table."""
    return pd.DataFrame(
        {
            "Rank": skill["rank"].map(lambda v: "–" if text.is_missing(v) else f"{int(v)}").to_numpy(),
            "Rep": skill["name"].to_numpy(),
            "Won/closed": (
                skill["won"].astype(int).astype(str) + "/" + skill["closed"].astype(int).astype(str)
            ).to_numpy(),
            "Raw win rate": skill["win_rate"].map(text.pct).to_numpy(),
            "Shrunk (90% interval)": [
                f"{text.pct(s)} ({text.pct(lo, 0)}–{text.pct(hi, 0)})"
                for s, lo, hi in zip(skill["win_rate_shrunk"], skill["win_rate_shrunk_lo"], skill["win_rate_shrunk_hi"])
            ],
            "Archetype": skill["archetype"].fillna("–").to_numpy() if "archetype" in skill.columns else "–",
        }
    ).set_index("Rank")


def contrast_display(contrast: pd.DataFrame) -> pd.DataFrame:
    """Top quartile vs the other reps, formatted (shares as %, hours and counts with one decimal)."""

    def f(metric, v):
        return text.pct(v) if metric in _SHARE_METRICS else text.num(v, 1)

    return pd.DataFrame(
        {
            "What": contrast["label"].to_numpy(),
            "Top quartile": [f(m, v) for m, v in zip(contrast["metric"], contrast["top_quartile"])],
            "Other reps": [f(m, v) for m, v in zip(contrast["metric"], contrast["others"])],
            "Difference": [
                text.pp(v) if m in _SHARE_METRICS else (text.num(v, 1) if text.is_missing(v) else f"{v:+.1f}")
                for m, v in zip(contrast["metric"], contrast["difference"])
            ],
        }
    ).set_index("What")


def ramp_display(ramp: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """The ramp curve as a display table."""
    return pd.DataFrame(
        {
            "Month since start": ramp["label"].to_numpy(),
            "Won/closed": (
                ramp["won"].astype(int).astype(str) + "/" + ramp["closed"].astype(int).astype(str)
            ).to_numpy(),
            "Win rate (90% interval)": [
                f"{text.pct(r)} ({text.pct(lo, 0)}–{text.pct(hi, 0)})"
                for r, lo, hi in zip(ramp["win_rate"], ramp["win_rate_lo"], ramp["win_rate_hi"])
            ],
            "Rep-months": ramp["rep_months"].map(text.num).to_numpy(),
            "Won revenue per rep-month": ramp["revenue_per_rep_month"]
            .map(lambda v: text.money(v, currency))
            .to_numpy(),
        }
    ).set_index("Month since start")


def plan_display(plan: CapacityPlan | None, forecast: LeadForecast) -> pd.DataFrame:
    """The capacity plan as a two-column table (what, value)."""
    rows = [("Forecast quarter", forecast.quarter), ("Forecast leads per month", text.num(forecast.monthly_leads))]
    if plan is not None:
        rows += [
            (f"Leads per month, {plan.audited_quarter}", text.num(plan.current_monthly_leads)),
            (f"Team capacity per month, {plan.audited_quarter}", text.num(plan.current_capacity)),
            (f"Reps short in {plan.audited_quarter}", f"{plan.current_reps_short}"),
            ("Active reps (end of quarter)", f"{plan.active_reps}"),
            (f"Team capacity per month, {plan.quarter}", text.num(plan.team_monthly_capacity)),
            ("Mean capacity per rep", text.num(plan.mean_capacity_per_rep)),
            ("Forecast ÷ capacity", text.pct(plan.utilisation, 0)),
            ("Shortfall (leads per month)", text.num(max(plan.shortfall, 0))),
            ("Extra reps needed", f"{plan.reps_needed}"),
        ]
    return pd.DataFrame(rows, columns=["What", "Value"]).set_index("What")


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
def fig_win_rates(card: pd.DataFrame, team: TeamFigures, quarter_label: str) -> Figure:
    """Each rep's shrunk win rate with its 90% interval (dot), the raw rate (ring) and the team's rate
    (dashed), lowest at the bottom; reps with a closed deal in the quarter only (``card``: a one-quarter
    :func:`.metrics.scorecard` with deals, at least one closed)."""
    shown = card.loc[card["closed"] > 0].sort_values("win_rate_shrunk")
    fig, ax = plots.new_figure(figsize=(9, 0.32 * len(shown) + 1.6))
    plots.interval_bars(
        ax,
        shown["name"],
        shown["win_rate_shrunk"],
        shown["win_rate_shrunk_lo"],
        shown["win_rate_shrunk_hi"],
        xlabel="Win rate, won / (won + lost), % (dot: shrunk with 90% interval; ring: raw; dashed: team)",
        ref=team.win_rate,
    )
    ax.scatter(
        shown["win_rate"],
        np.arange(len(shown))[::-1],
        facecolors="none",
        edgecolors=COLORS["warning"],
        s=40,
        zorder=3,
    )
    ax.set_title(win_rate_title(card, quarter_label), loc="left")
    return fig


def fig_archetypes(skill: pd.DataFrame, window: str) -> Figure:
    """The placed reps on deals closed × shrunk win rate (90% intervals), split at the medians into Stars,
    Snipers, Grinders and Developing (``skill``: :func:`.metrics.archetypes` of the skill table)."""
    known = placed_reps(skill)
    fig, ax = plots.new_figure(figsize=(9, 4.6))
    plots.quadrant(
        ax,
        known["closed"],
        known["win_rate_shrunk"],
        known["name"],
        known["closed"].median(),
        known["win_rate_shrunk"].median(),
        xlabel=f"Deals closed (won + lost), {window}",
        ylabel="Shrunk win rate, %",
        yerr=(known["win_rate_shrunk_lo"], known["win_rate_shrunk_hi"]),
        quadrant_names=QUADRANT_NAMES,
    )
    ax.set_title(archetype_title(skill), loc="left")
    return fig


def fig_speed(speed: pd.DataFrame, contrast: pd.DataFrame) -> Figure:
    """Lead → SQL rate by speed to lead with 90% intervals (left, :func:`.metrics.speed_buckets`) and, when
    the reps have activities, the activity mix of the top quartile against the other reps (right,
    :func:`.metrics.top_quartile_contrast`)."""
    mix = contrast.loc[contrast["metric"].str.startswith("share_") & contrast["top_quartile"].notna()]
    fig, axes = plots.new_figure(1, 2 if len(mix) else 1, figsize=(10 if len(mix) else 6, 3.6), squeeze=False)
    a1 = axes[0][0]
    plots.interval_bars(
        a1, speed["bucket"], speed["sql_rate"], speed["sql_rate_lo"], speed["sql_rate_hi"], xlabel="Lead → SQL rate, %"
    )
    a1.set_title(speed_title(speed), loc="left", fontsize=10)
    if len(mix):
        a2 = axes[0][1]
        yy = np.arange(len(mix))
        a2.barh(yy + 0.2, mix["top_quartile"], height=0.4, label="top quartile")
        a2.barh(yy - 0.2, mix["others"], height=0.4, label="other reps")
        a2.set_yticks(yy, mix["label"].str.replace("Share of ", ""))
        plots.pct_axis(a2, "x")
        a2.set_xlabel("Share of activities, %")
        a2.legend(fontsize=8)
        a2.set_title("Activity mix: top quartile vs others", loc="left")
    return fig


def fig_ramp(ramp: pd.DataFrame, reference: float) -> Figure:
    """Win rate of the deals reps opened in each month since their start, with 90% intervals, and the mature
    rate ``reference`` (dashed, when known). ``ramp``: :func:`.metrics.ramp_curve` with closed deals."""
    fig, ax = plots.new_figure(figsize=(9, 3.8))
    ax.errorbar(
        ramp["tenure_month"] + 1,
        ramp["win_rate"],
        yerr=[ramp["win_rate"] - ramp["win_rate_lo"], ramp["win_rate_hi"] - ramp["win_rate"]],
        fmt="o-",
        capsize=3,
    )
    if np.isfinite(reference):
        ax.axhline(reference, color=COLORS["warning"], linestyle="--", linewidth=1, label="mature win rate (month 13+)")
        ax.legend(fontsize=8)
    ax.set_xticks(ramp["tenure_month"] + 1, ramp["label"])
    ax.set_xlabel("Month since the rep started, when the deal was opened (13+ pooled)")
    ax.set_ylabel("Win rate, %")
    plots.pct_axis(ax, "y")
    ax.set_title(ramp_title(ramp, reference), loc="left")
    return fig


def fig_capacity(
    counts: pd.Series, forecast: LeadForecast, plan: CapacityPlan, load: pd.DataFrame, quarter_label: str
) -> Figure:
    """Leads per month of the last 8 quarters up to the audited one, next quarter's forecast (hatched) and the
    team's capacity now (dashed) (left; ``counts``: ``capacity.quarterly_leads``); each active rep's leads
    per month against their capacity (right; ``load``: :func:`.metrics.rep_load`)."""
    counts = counts.loc[:quarter_label].tail(8)
    fig, (a1, a2) = plots.new_figure(1, 2, figsize=(10, 0.3 * len(load) + 2.4), gridspec_kw={"width_ratios": [1.2, 1]})
    a1.bar(counts.index, counts.to_numpy() / 3, color=COLORS["accent"], label="actual")
    a1.bar([forecast.quarter], [forecast.monthly_leads], color="white", edgecolor="black", hatch="//", label="forecast")
    a1.axhline(plan.team_monthly_capacity, color=COLORS["warning"], linestyle="--", label="team capacity now")
    a1.set_ylabel("Leads per month")
    a1.tick_params(axis="x", rotation=45)
    plots.thousands_axis(a1, "y")
    a1.legend(fontsize=8)
    a1.set_title(capacity_title(plan, forecast), loc="left")
    plots.load_vs_capacity(a2, load["name"], load["leads_per_month"], load["monthly_lead_capacity"])
    a2.set_title(load_title(load, quarter_label), loc="left")
    return fig
