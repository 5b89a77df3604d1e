"""Step 01 · display: compact tables for reading (formatted DataFrames) and the charts, each a
``fig_<name>(...) -> Figure`` in the workbook's style and palette (:mod:`salesaudit.plots`), its title
from :mod:`.story`. The notebook only displays them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from salesaudit import plots, stats
from salesaudit.periods import Quarter
from salesaudit.steps.process.metrics import HORIZON_DAYS, STAGES, WINDOW_DAYS, rate_matrix
from salesaudit.steps.process.story import (
    STAGE_LABELS,
    channel_title,
    cohort_words,
    funnel_title,
    loss_title,
    pct,
    spct,
    step_label,
    time_title,
    volume_title,
)


def _cell(rate, lo, hi, d: int = 0) -> str:
    return "n/a" if not np.isfinite(rate) else f"{pct(rate, d)} ({pct(lo, d)}–{pct(hi, d)})"


# --------------------------------------------------------------------------------------------------
# display tables
# --------------------------------------------------------------------------------------------------
def volume_table(cmp: pd.DataFrame, wide: pd.DataFrame, partial: bool = False) -> pd.DataFrame:
    """Compact display table: leads per quarter (columns) by channel, plus change vs the previous four
    (with interval) and vs the same quarter last year, as signed percentages (``new`` for a channel
    without history; ``few`` when the base is below ``stats.MIN_BASE_N``; no change columns at all for a
    partial quarter)."""
    t = wide.T.copy()
    if partial:
        return t.rename_axis(index="channel", columns=None)
    c = cmp.set_index("channel").reindex(t.index)
    new = ~(c["ref_mean"] > 0)
    few = c["ref_mean"] < stats.MIN_BASE_N
    t["vs prev 4"] = np.where(new, "new", np.where(few, "few before", [spct(x) for x in c["change"]]))
    t["90% interval"] = np.where(new | few, "", [f"{spct(a)} to {spct(b)}" for a, b in zip(c["lo"], c["hi"])])
    t["vs last year"] = np.where(
        c["last_year"] >= stats.MIN_BASE_N,
        [spct(x) for x in c["yoy"]],
        np.where(c["last_year"] > 0, "few before", "new"),
    )
    return t.rename_axis(index="channel", columns=None)


def funnel_display(ftab: pd.DataFrame, missing: list[str] | None = None) -> pd.DataFrame:
    """The funnel table for reading: flow counts, cohort counts, open, step and cumulative conversion.
    Stages in ``missing`` (not recorded by the data) are listed in funnel order as "not in the data"."""
    out = pd.DataFrame(
        {
            "Stage": [STAGE_LABELS[s] for s in ftab["stage"]],
            "Flow: entries in quarter": [f"{v:,}" for v in ftab["flow"]],
            "Cohort: reached": [f"{v:,}" for v in ftab["cohort"]],
            "Cohort: still open": [f"{v:,}" for v in ftab["open"]],
            "Cohort step conversion (90% int.)": [_cell(*r) for r in ftab[["step", "step_lo", "step_hi"]].to_numpy()],
            "Cohort cumulative": [pct(x, 1) for x in ftab["cum"]],
        }
    )
    for s in missing or []:
        out.loc[len(out)] = [STAGE_LABELS[s]] + ["not in the data"] * (out.shape[1] - 1)
    order = {STAGE_LABELS[s]: i for i, s in enumerate(STAGES)}
    return out.sort_values("Stage", key=lambda c: c.map(order), kind="stable").set_index("Stage")


def window_display(cwin: pd.DataFrame, window: int = WINDOW_DAYS) -> pd.DataFrame:
    """Cohort × stage: share of the cohort reaching the stage within ``window`` days (KM-estimated
    cohorts marked ``*``)."""
    c = cwin[cwin["stage"] != "lead"].assign(
        cell=lambda d: [
            _cell(r, lo, hi, 1) + (" *" if m == "km" else "")
            for r, lo, hi, m in d[["conv", "lo", "hi", "method"]].to_numpy()
        ]
    )
    out = c.pivot(index="cohort", columns="stage", values="cell")[[s for s in STAGES[1:] if s in set(c["stage"])]]
    out.columns = [f"{STAGE_LABELS[s]} ≤{window} d" for s in out.columns]
    n = cwin.drop_duplicates("cohort").set_index("cohort")["n"]
    return out.assign(Leads=n.reindex(out.index).to_numpy())[["Leads"] + list(out.columns)].rename_axis("Cohort")


def visits_display(v2l: pd.DataFrame) -> pd.DataFrame:
    """Visitor → lead table for reading: visits, leads, rate with its 90% interval."""
    return pd.DataFrame(
        {
            "Channel": v2l["channel"].to_numpy(),
            "Website visits": [f"{v:,.0f}" for v in v2l["visits"]],
            "Leads": [f"{v:,.0f}" for v in v2l["leads"]],
            "Visit → lead (90% int.)": [_cell(r, lo, hi, 2) for r, lo, hi in v2l[["rate", "lo", "hi"]].to_numpy()],
        }
    ).set_index("Channel")


def rates_display(rates: pd.DataFrame, by: str = "Channel") -> pd.DataFrame:
    """Group × step: ``rate (lo–hi)`` plus the number of leads in each group's cohort (``by`` names the rows)."""
    r = rates.assign(cell=[_cell(a, b, c) for a, b, c in rates[["rate", "lo", "hi"]].to_numpy()])
    m = rate_matrix(r, "cell")
    first = next((st for st in m.columns if st.startswith("lead_")), m.columns[0])
    n = rates[rates["step"] == first].set_index("group")["n"]
    m.columns = [step_label(s) if s != "lead_customer" else "Lead → Customer" for s in m.columns]
    return m.assign(Leads=[f"{v:,.0f}" for v in n.reindex(m.index)])[["Leads"] + list(m.columns)].rename_axis(by)


def median_display(med: pd.DataFrame) -> pd.DataFrame:
    """Channel × stage median days from lead creation (rounded), plus customers reached and the KM share
    converting within the horizon."""
    m = med.pivot(index="channel", columns="stage", values="median_days")[
        [s for s in STAGES[1:] if s in set(med["stage"])]
    ]
    m = m.apply(lambda col: [f"{v:.0f}" if np.isfinite(v) else "–" for v in col])
    m.columns = [f"Days to {STAGE_LABELS[s]}" for s in m.columns]
    cust = med[med["stage"] == "customer"].set_index("channel")
    m["Customers so far"] = cust["reached"].reindex(m.index).to_numpy()
    m[f"Converting ≤{HORIZON_DAYS} d"] = [pct(x, 1) for x in cust["conv_horizon"].reindex(m.index)]
    order = [g for g in m.index if g != "all"] + ["all"]
    return m.loc[order].rename_axis("Channel")


def loss_display(loss: pd.DataFrame) -> pd.DataFrame:
    """Step × (loss now, loss before, change with interval, verdict)."""
    return pd.DataFrame(
        {
            "Step": [step_label(s) for s in loss["step"]],
            "Entries now": loss["entered_now"].to_numpy(),
            "Loss now": [_cell(*r) for r in loss[["loss_now", "loss_now_lo", "loss_now_hi"]].to_numpy()],
            "Loss previous 4 q (same mix)": [pct(x) for x in loss["loss_prev"]],
            "Change (pp, 90% int.)": [
                f"{100 * c:+.1f} ({100 * lo:+.1f} to {100 * hi:+.1f})" if np.isfinite(c) else "n/a"
                for c, lo, hi in loss[["change", "change_lo", "change_hi"]].to_numpy()
            ],
            "Verdict": np.where(loss["real"], np.where(loss["change"] > 0, "worse", "better"), "within noise"),
        }
    ).set_index("Step")


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
def fig_volume(
    monthly: pd.DataFrame, ts: dict, cmp: pd.DataFrame, quarter: Quarter, partial: str | None = None
) -> Figure:
    """Leads per month, stacked by channel, with the trend (left) and the seasonal index (right; blank with
    fewer than 24 months). ``monthly`` is :func:`.metrics.monthly_leads`, ``ts``
    :func:`.metrics.trend_seasonality`, ``cmp`` :func:`.metrics.volume_comparison` (for the title)."""
    fig, (ax1, ax2) = plots.new_figure(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [3, 1]})
    plots.stacked_months(ax1, monthly, ts["fitted"], title=volume_title(cmp, quarter, partial))
    if len(ts["index"]):
        plots.seasonal_bars(ax2, ts["index"])
    else:
        ax2.axis("off")
    return fig


def fig_funnel(ftab: pd.DataFrame, quarter: Quarter) -> Figure:
    """The flow funnel (stage entries in the quarter) beside the cohort funnel (leads created in the
    quarter), tapered, with the drop-off between stages (:func:`.metrics.funnel_table`)."""
    labels = [STAGE_LABELS[s] for s in ftab["stage"]]
    fig, axes = plots.new_figure(1, 2, figsize=(10, 4))
    plots.funnel(axes[0], labels, ftab["flow"], title=f"Flow: stage entries in {quarter.label}")
    plots.funnel(
        axes[1], labels, ftab["cohort"], title=f"Cohort: leads created in {quarter.label}", color=plots.COHORT_COLOR
    )
    fig.suptitle(funnel_title(ftab, quarter), fontweight="bold", x=0.02, ha="left")
    return fig


def fig_channels(rates: pd.DataFrame, mature: list[Quarter]) -> Figure:
    """Heat map of step conversion by channel (:func:`.metrics.step_rates` or
    :func:`.metrics.snapshot_rates`): each cell the rate and the leads entering the step, coloured by the
    points above or below all channels."""
    fig, ax = plots.new_figure(figsize=(9.5, 5))
    plots.rate_heatmap(
        ax,
        rate_matrix(rates).rename(columns=step_label),
        rate_matrix(rates, "n").rename(columns=step_label),
        title=channel_title(rates),
        xlabel=cohort_words(mature),
    )
    ax.set_xticklabels([t.get_text().replace("Customer", "Cust.") for t in ax.get_xticklabels()], fontsize=8.5)
    return fig


def fig_time(curves: pd.DataFrame, med: pd.DataFrame) -> Figure:
    """Kaplan–Meier curves of the share of leads become customers by days since creation, per channel and
    all (:func:`.metrics.km_curves`); the title from :func:`.metrics.median_days_table`."""
    fig, ax = plots.new_figure(figsize=(9.5, 4.2))
    plots.km_lines(ax, curves, title=time_title(med))
    return fig


def fig_loss(loss: pd.DataFrame, quarter: Quarter, window: int = WINDOW_DAYS) -> Figure:
    """Loss at each step, this quarter against the previous four quarters at the same channel mix, with
    90% intervals (:func:`.metrics.loss_comparison`)."""
    fig, ax = plots.new_figure(figsize=(9, 3.8))
    plots.paired_intervals(
        ax,
        [step_label(s) for s in loss["step"]],
        loss["loss_now"],
        loss["loss_now_lo"],
        loss["loss_now_hi"],
        loss["loss_prev"],
        loss["loss_prev_lo"],
        loss["loss_prev_hi"],
        label_a=quarter.label,
        label_b="previous four quarters (same mix)",
        xlabel=f"Entries not reaching the next stage within {window} days (%)",
    )
    ax.set_title(loss_title(loss), loc="left")
    return fig
