"""Step 06 — display tables and charts of the customer-service audit.

Tables: DataFrames formatted for reading (intervals as text, "not in the data" / "n/a" instead of NaN).
Charts: one function ``fig_<name>(...) -> matplotlib.figure.Figure`` per section, drawn with the theme and
palette of :mod:`salesaudit.plots`; titles come from :mod:`salesaudit.steps.service.story`. Each figure is
closed in pyplot before it is returned, so the notebook shows it exactly once with ``display(fig)``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from salesaudit import plots, text
from salesaudit.plots import COLORS
from salesaudit.steps.service import story
from salesaudit.text import fmt_ci

__all__ = [
    "ticket_table",
    "nps_table",
    "revenue_table",
    "rate_group_table",
    "conversion_table",
    "value_table",
    "fig_tickets",
    "fig_nps",
    "fig_repeat",
    "fig_repeat_groups",
    "fig_referrals",
    "fig_value",
]


def ticket_table(by_cat: pd.DataFrame) -> pd.DataFrame:
    """Tickets by category: volume, median hours to first response / resolution, CSAT with interval."""

    def hours(s: pd.Series) -> list[str]:
        return ["not in the data" if pd.isna(v) else f"{v:,.1f}" for v in s]

    out = pd.DataFrame(
        {
            "Category": by_cat["category"],
            "Tickets": by_cat["tickets"],
            "First response (median h)": hours(by_cat["first_response_hours"]),
            "Resolution (median h)": hours(by_cat["resolution_hours"]),
            "Rated": by_cat["rated"],
            "CSAT (share 4–5)": fmt_ci(by_cat["csat"], by_cat["csat_lo"], by_cat["csat_hi"], 0),
        }
    )
    # a column the export does not hold at all is left out rather than filled with "not in the data"
    out = out.drop(columns=[c for c in out.columns[2:4] if (out[c] == "not in the data").all()])
    return out.set_index("Category")


def rate_group_table(t: pd.DataFrame, label: str = "Group") -> pd.DataFrame:
    """``group, k, n, rate, lo, hi`` as a readable table."""
    return pd.DataFrame(
        {
            label: t["group"],
            "Customers": t["n"].astype(int),
            "Repeat within 12 months": t["k"].astype(int),
            "Repeat rate": fmt_ci(t["rate"], t["lo"], t["hi"], 0),
        }
    ).set_index(label)


def value_table(val: pd.DataFrame, currency: str) -> pd.DataFrame:
    """12-month revenue, LTV, CAC and LTV:CAC by channel."""

    def m(x):
        return x.map(lambda v: "n/a" if pd.isna(v) else f"{v:,.0f}")

    return pd.DataFrame(
        {
            "Channel": val["channel"],
            "Customers": val["customers"],
            f"12-month revenue per customer ({currency})": m(val["revenue_12m"]),
            "90% interval": (m(val["revenue_lo"]) + "–" + m(val["revenue_hi"])).where(
                val["revenue_lo"].notna() & val["revenue_hi"].notna(), "too few customers"
            ),
            f"LTV ({currency})": m(val["ltv"]),
            f"CAC ({currency})": m(val["cac"]),
            "LTV:CAC": val["ltv_cac"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.1f}"),
        }
    ).set_index("Channel")


def nps_table(trend: pd.DataFrame) -> pd.DataFrame:
    """NPS per quarter with its interval and the answer split."""
    return pd.DataFrame(
        {
            "Quarter": trend["quarter"],
            "NPS": trend["nps"].map(lambda v: "—" if pd.isna(v) else f"{v:.0f}"),
            "90% interval": [
                "—" if pd.isna(lo) or pd.isna(hi) else f"{lo:.0f} to {hi:.0f}"
                for lo, hi in zip(trend["lo"], trend["hi"])
            ],
            "Customers answering": trend["n"],
            "Promoters": trend["promoters"],
            "Passives": trend["passives"],
            "Detractors": trend["detractors"],
        }
    ).set_index("Quarter")


def revenue_table(rev: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Order revenue per quarter: new vs existing customers."""

    def m(x):
        return x.map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}")

    return pd.DataFrame(
        {
            "Quarter": rev["quarter"],
            f"Revenue ({currency})": m(rev["revenue"]),
            f"New customers ({currency})": m(rev["new"]),
            f"Existing customers ({currency})": m(rev["existing"]),
            "Existing share": rev["existing_share"].map(lambda v: "—" if pd.isna(v) else text.pct(v)),
            "Existing customers ordering": rev["existing_customers"],
        }
    ).set_index("Quarter")


def conversion_table(conv: pd.DataFrame) -> pd.DataFrame:
    """Lead → customer by channel with intervals."""
    return pd.DataFrame(
        {
            "Channel": conv["channel"],
            "Leads": conv["n"].astype(int),
            "Customers": conv["k"].astype(int),
            "Lead → customer (180 days)": fmt_ci(conv["rate"], conv["lo"], conv["hi"]),
        }
    ).set_index("Channel")


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
def _done(fig: Figure) -> Figure:
    """Detach the figure from pyplot (no second copy at the end of the cell) and return it."""
    plt.close(fig)
    return fig


def fig_tickets(by_cat: pd.DataFrame, trend: pd.DataFrame, quarter_label: str) -> Figure:
    """CSAT by category with 90% intervals against the quarter's overall CSAT (left); tickets opened (bars)
    and CSAT (line, right axis) by quarter (right). ``by_cat`` / ``trend``: :func:`metrics.tickets_by_category`
    and :func:`metrics.tickets_trend`."""
    cats = by_cat[by_cat["category"] != "all"].sort_values("csat", ascending=False)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    plots.interval_bars(
        a1,
        cats["category"],
        cats["csat"],
        cats["csat_lo"],
        cats["csat_hi"],
        xlabel=f"CSAT {quarter_label}, % of rated tickets scored 4–5 (90% interval)",
        ref=by_cat.iloc[-1]["csat"],
        ref_label="all",
    )
    a2.bar(trend["quarter"], trend["tickets"], color=COLORS["light"], label="tickets")
    a2.set_ylabel("Tickets opened")
    a4 = a2.twinx()
    a4.errorbar(
        trend["quarter"],
        trend["csat"],
        yerr=[trend["csat"] - trend["csat_lo"], trend["csat_hi"] - trend["csat"]],
        fmt="o-",
        color=COLORS["warning"],
        capsize=3,
    )
    a4.set_ylim(0, 1)
    plots.pct_axis(a4, "y")
    a4.set_ylabel("CSAT, %", color=COLORS["warning"])
    a4.grid(False)
    a2.set_title("Tickets (bars) and CSAT (line) by quarter", loc="left", fontsize=10)
    fig.suptitle(story.ticket_title(by_cat, quarter_label), x=0.01, ha="left", fontweight="bold")
    return _done(fig)


def fig_nps(trend: pd.DataFrame, quarter_label: str) -> Figure:
    """NPS by quarter with 90% intervals (left) and the shares of detractors, passives and promoters
    (stacked, right). ``trend``: :func:`metrics.nps_trend`, the audited quarter last."""
    now = trend.iloc[-1].to_dict()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1.3, 1]})
    a1.errorbar(
        trend["quarter"],
        trend["nps"],
        yerr=[trend["nps"] - trend["lo"], trend["hi"] - trend["nps"]],
        fmt="o-",
        capsize=3,
    )
    a1.axhline(0, color=COLORS["grey"], linewidth=0.8)
    a1.set_ylabel("NPS (−100 to 100)")
    a1.set_xlabel("Quarter (90% interval)")
    shares = trend[["promoters", "passives", "detractors"]].div(trend["n"].where(trend["n"] > 0), axis=0)
    a2.stackplot(
        trend["quarter"],
        shares["detractors"],
        shares["passives"],
        shares["promoters"],
        labels=["detractors 0–6", "passives 7–8", "promoters 9–10"],
        colors=[COLORS["warning"], COLORS["neutral"], COLORS["good"]],
    )
    plots.pct_axis(a2, "y")
    a2.set_ylabel("Share of answers, %")
    a2.legend(fontsize=8, loc="lower left")
    fig.suptitle(story.nps_title(now, quarter_label), x=0.01, ha="left", fontweight="bold")
    return _done(fig)


def fig_repeat(rr: dict, t2: dict, rev: pd.DataFrame, quarter_label: str, currency: str) -> Figure:
    """Share of customers with a second order by days since the first (Kaplan–Meier, 90% band, left) and
    order revenue by quarter from new and existing customers (stacked bars, right)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    c = t2["curve"]
    a1.step(c["time"], 1 - c["survival"], where="post")
    a1.fill_between(c["time"], 1 - c["lo"], 1 - c["hi"], step="post", alpha=0.2)
    a1.set_xlim(0, 730)
    plots.pct_axis(a1, "y")
    a1.set_xlabel("Days since first order")
    a1.set_ylabel("Customers with a 2nd order, %")
    a1.set_title("Time to second purchase (Kaplan–Meier)", loc="left", fontsize=10)
    a2.bar(rev["quarter"], rev["new"], label="new customers", color=COLORS["light"])
    a2.bar(rev["quarter"], rev["existing"], bottom=rev["new"], label="existing customers", color=COLORS["accent"])
    plots.thousands_axis(a2)
    a2.set_ylabel(f"Order revenue, {currency}")
    a2.legend(fontsize=8)
    a2.set_title(story.existing_revenue_title(rev, quarter_label), loc="left", fontsize=10)
    fig.suptitle(story.repeat_title(rr), x=0.01, ha="left", fontweight="bold")
    return _done(fig)


def fig_repeat_groups(groups: pd.DataFrame, gap: dict) -> Figure:
    """Repeat purchase rate within 12 months by CSAT and NPS group with 90% intervals.
    ``groups``: :func:`metrics.combined_groups`; ``gap``: the high − low CSAT gap (for the title)."""
    fig, ax = plt.subplots(figsize=(9, 0.34 * len(groups) + 1.4))
    plots.interval_bars(
        ax,
        groups["group"],
        groups["rate"],
        groups["lo"],
        groups["hi"],
        xlabel="Repeat purchase within 12 months of the first order, % (90% interval)",
    )
    ax.set_title(story.driver_title(gap), loc="left")
    return _done(fig)


def fig_referrals(monthly: pd.DataFrame, summary: dict, conv: pd.DataFrame) -> Figure:
    """Referral leads per month and promoters at the start of the month (right axis, left panel); lead →
    customer rate by channel with 90% intervals (right panel). From :func:`metrics.referrals_vs_promoters`
    and :func:`metrics.conversion_by_channel`."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(monthly["month"], monthly["referral_leads"], marker="o", markersize=3, label="referral leads")
    a1.set_ylabel("Referral leads per month")
    a3 = a1.twinx()
    a3.plot(monthly["month"], monthly["promoters"], color=COLORS["good"], label="promoters")
    a3.set_ylabel("Promoters at month start", color=COLORS["good"])
    a3.grid(False)
    a1.tick_params(axis="x", labelrotation=45, labelsize=8)
    a1.set_title("Referral leads (blue) and promoters (green)", loc="left", fontsize=10)
    plots.interval_bars(
        a2,
        conv["channel"],
        conv["rate"],
        conv["lo"],
        conv["hi"],
        xlabel="Lead → customer within 180 days, %",
        color=COLORS["accent"],
    )
    a2.set_title("Conversion by channel (mature cohort)", loc="left", fontsize=10)
    fig.suptitle(story.referral_title(summary), x=0.01, ha="left", fontweight="bold")
    return _done(fig)


def fig_value(val: pd.DataFrame, currency: str) -> Figure:
    """12-month revenue per customer by acquisition channel with 90% intervals, highest on top, each paid
    channel labelled with its LTV:CAC (in the warning colour below 1). ``val``: :func:`metrics.value_by_channel`
    with at least one channel."""
    shown = val.sort_values("revenue_12m")[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.34 * len(shown) + 1.4))
    plots.interval_bars(
        ax,
        shown["channel"],
        shown["revenue_12m"],
        shown["revenue_lo"],
        shown["revenue_hi"],
        xlabel=f"12-month revenue per customer, {currency} (90% interval; label: LTV:CAC)",
        pct=False,
    )
    plots.thousands_axis(ax, "x")
    ratio = shown["ltv_cac"].to_numpy(dtype=float)
    for y, (v, r) in enumerate(zip(shown["revenue_hi"], ratio)):  # one label per channel
        if np.isfinite(r):
            color = COLORS["warning"] if r < 1 else COLORS["ink"]
            ax.text(v, len(shown) - 1 - y, f"  LTV:CAC {r:.1f}", va="center", fontsize=8, color=color)
    ax.set_title(story.value_title(val), loc="left")
    return _done(fig)
