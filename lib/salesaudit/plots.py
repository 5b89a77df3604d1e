"""Chart style and generic charts. One theme for every notebook: call :func:`set_theme` once.

Titles say what the reader should see; axes carry units; shares are shown as %.
Modules may add chart functions here (append-only), each taking an ``ax`` or returning a ``Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import FuncFormatter, PercentFormatter

PALETTE = "colorblind"
FIGSIZE = (9, 4.2)
STAGE_LABELS = {"lead": "Lead", "mql": "MQL", "sal": "SAL", "sql": "SQL", "customer": "Customer"}
MUTED = "#555555"  # secondary text on a chart: notes, "nothing to show" messages, reference labels


def set_theme() -> None:
    """The workbook's seaborn theme (white grid, colour-blind palette, readable sizes)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook", font_scale=0.95)
    plt.rcParams.update(
        {
            "figure.figsize": FIGSIZE,
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "axes.titleweight": "bold",
            "axes.titlesize": 12,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.autolayout": True,
        }
    )


def pct_axis(ax, axis: str = "y", digits: int = 0) -> None:
    """Format an axis holding shares (0–1) as percentages."""
    fmt = PercentFormatter(xmax=1.0, decimals=digits)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def thousands_axis(ax, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def funnel(ax, labels: Sequence[str], counts: Sequence[float], title: str = "", color: str | None = None):
    """A tapered funnel: one centred bar per stage, width ∝ count, the drop-off % between stages.

    Each bar is labelled with its count and its share of the first stage; between bars the
    share lost at that step (1 − next/current) is written.
    """
    counts = np.asarray(counts, dtype=float)
    n = len(counts)
    top = counts[0] if n and counts[0] > 0 else 1.0
    widths = counts / top
    color = color or sns.color_palette(PALETTE)[0]
    ys = np.arange(n)[::-1] * 1.0
    for i, (w, y) in enumerate(zip(widths, ys)):
        ax.barh(y, w, left=(1 - w) / 2, height=0.62, color=color, alpha=0.35 + 0.65 * (1 - i / max(n, 1)))
        ax.text(
            0.5,
            y,
            f"{labels[i]}: {counts[i]:,.0f}  ({counts[i] / top:.1%})",
            ha="center",
            va="center",
            fontsize=9.5,
            color="black",
            fontweight="bold",
        )
        if i + 1 < n:
            drop = 1 - (counts[i + 1] / counts[i]) if counts[i] > 0 else np.nan
            txt = "n/a" if np.isnan(drop) else f"▼ {drop:.0%} drop-off"
            ax.text(1.02, y - 0.5, txt, ha="left", va="center", fontsize=8.5, color="#b03a2e")
    ax.set_xlim(0, 1.25)
    ax.set_ylim(-0.6, n - 0.4)
    ax.axis("off")
    if title:
        ax.set_title(title, loc="left")
    return ax


def interval_bars(
    ax,
    labels,
    values,
    lo,
    hi,
    xlabel: str = "",
    pct: bool = True,
    color: str | None = None,
    ref: float | None = None,
    ref_label: str = "",
):
    """Horizontal point-and-interval chart (one row per label), optional reference line."""
    values, lo, hi = (np.asarray(x, dtype=float) for x in (values, lo, hi))
    y = np.arange(len(values))[::-1]
    color = color or sns.color_palette(PALETTE)[0]
    ax.errorbar(
        values,
        y,
        xerr=[np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)],
        fmt="o",
        color=color,
        ecolor="#888888",
        capsize=3,
    )
    ax.set_yticks(y, labels)
    if ref is not None:
        ax.axvline(ref, color="#b03a2e", linestyle="--", linewidth=1)
        if ref_label:
            # just above the top of the axes (axes fraction), wherever the rows are: a label placed in data
            # coordinates ended far outside the axes with one row and blew up the saved figure
            ax.text(
                ref,
                1.0,
                ref_label,
                color="#b03a2e",
                fontsize=8,
                ha="center",
                va="bottom",
                transform=ax.get_xaxis_transform(),
            )
    if pct:
        pct_axis(ax, "x")
    if xlabel:
        ax.set_xlabel(xlabel)
    return ax


# --- step 05 (sales effectiveness) -----------------------------------------------------------------
def quadrant(
    ax,
    x,
    y,
    labels,
    x_split: float,
    y_split: float,
    xlabel: str = "",
    ylabel: str = "",
    quadrant_names: dict[tuple[bool, bool], str] | None = None,
    yerr=None,
    y_pct: bool = True,
):
    """Scatter split into four quadrants at ``x_split`` / ``y_split`` (dashed lines), points labelled.

    ``quadrant_names`` maps (x high?, y high?) to a corner caption; ``yerr`` = (lo, hi) arrays draws
    vertical interval bars.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    color = sns.color_palette(PALETTE)[0]
    if yerr is not None:
        lo, hi = (np.asarray(v, dtype=float) for v in yerr)
        ax.errorbar(
            x,
            y,
            yerr=[np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)],
            fmt="none",
            ecolor="#bbbbbb",
            capsize=2,
            zorder=1,
        )
    ax.scatter(x, y, s=45, color=color, zorder=2)
    order = np.argsort(np.argsort(x))  # alternate labels above / below along x so neighbours do not collide
    for xi, yi, lab, o in zip(x, y, labels, order):
        ax.annotate(str(lab), (xi, yi), xytext=(4, 3 if o % 2 == 0 else -10), textcoords="offset points", fontsize=8)
    ax.axvline(x_split, color="#888888", linestyle="--", linewidth=1)
    ax.axhline(y_split, color="#888888", linestyle="--", linewidth=1)
    for (hx, hy), name in (quadrant_names or {}).items():
        ax.text(
            0.99 if hx else 0.01,
            0.98 if hy else 0.02,
            name,
            transform=ax.transAxes,
            ha="right" if hx else "left",
            va="top" if hy else "bottom",
            fontsize=8,
            color="#555555",
            style="italic",
        )
    if y_pct:
        pct_axis(ax, "y")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def load_vs_capacity(ax, labels, load, capacity, xlabel: str = "Leads per month"):
    """Horizontal bars of each rep's monthly lead load, with a black tick at their capacity; bars over
    capacity are drawn in the warning colour."""
    load, capacity = np.asarray(load, dtype=float), np.asarray(capacity, dtype=float)
    pal = sns.color_palette(PALETTE)
    over = load > capacity
    y = np.arange(len(load))[::-1]
    ax.barh(y, load, color=[pal[3] if o else pal[0] for o in over], height=0.6)
    ax.scatter(capacity, y, marker="|", s=300, color="black", zorder=3, label="capacity")
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    thousands_axis(ax, "x")
    ax.legend(loc="lower right", fontsize=8)
    return ax


# --------------------------------------------------------------------------------------------------
# step 01 (sales process): lead volume, channel heat map, Kaplan–Meier curves, paired intervals
# --------------------------------------------------------------------------------------------------
def stacked_months(ax, wide, trend=None, title: str = "", ylabel: str = "Leads per month"):
    """Stacked areas of a month × group frame of counts, with an optional trend line (Series by month)."""
    x = wide.index
    ax.stackplot(
        x,
        wide.T.to_numpy(),
        labels=[str(c) for c in wide.columns],
        colors=sns.color_palette(PALETTE, len(wide.columns)),
        alpha=0.85,
    )
    if trend is not None and len(trend):
        ax.plot(trend.index, trend.to_numpy(), color="black", linestyle="--", linewidth=1.4, label="trend (total)")
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Month")
    thousands_axis(ax)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=5, fontsize=8, frameon=False)
    if title:
        ax.set_title(title, loc="left")
    return ax


def seasonal_bars(ax, index, title: str = "Seasonality (vs trend)"):
    """Bars of a month-of-year seasonal index (1 = on trend), drawn as % above/below trend."""
    import calendar

    vals = np.asarray(index, dtype=float) - 1
    months = [calendar.month_abbr[int(m)] for m in index.index]
    colors = ["#4c72b0" if v >= 0 else "#c44e52" for v in vals]
    ax.bar(months, vals, color=colors)
    ax.axhline(0, color="#555555", linewidth=0.8)
    pct_axis(ax, "y")
    ax.set_ylabel("Leads per day vs trend (%)")
    ax.tick_params(axis="x", labelrotation=90, labelsize=8)
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    return ax


def rate_heatmap(
    ax, rates, counts=None, title: str = "", xlabel: str = "Step", ylabel: str = "Channel", count_prefix: str = "n="
):
    """Annotated heat map of rates (rows × columns, 0–1) with ``k/n`` counts under each rate.

    Each column is coloured on its own scale (rates of different steps are not comparable), shown as
    the deviation from the column's last row when it is ``all``, else from the column mean.
    """
    r = rates.astype(float)
    ref = r.loc["all"] if "all" in r.index else r.mean()
    dev = r - ref
    lim = float(np.nanmax(np.abs(dev.to_numpy()))) if np.isfinite(dev.to_numpy()).any() else 0.1
    annot = r.copy().astype(object)
    for i in range(r.shape[0]):  # a small grid of cells
        for j in range(r.shape[1]):
            v = r.iat[i, j]
            txt = "n/a" if not np.isfinite(v) else f"{v:.0%}"
            if counts is not None:
                txt += f"\n{count_prefix}{counts.iat[i, j]:,.0f}"
            annot.iat[i, j] = txt
    sns.heatmap(
        dev,
        ax=ax,
        annot=annot.to_numpy(),
        fmt="",
        cmap="RdBu",
        center=0,
        vmin=-lim,
        vmax=lim,
        cbar_kws={"label": "Points vs all channels", "format": PercentFormatter(1.0, decimals=0)},
        linewidths=0.5,
        linecolor="white",
        annot_kws={"fontsize": 8},
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=0)
    if title:
        ax.set_title(title, loc="left")
    return ax


HIGHLIGHT = "#1d3557"  # the "all leads" line: dark navy, distinct from every channel colour


def km_lines(
    ax,
    curves,
    title: str = "",
    xlabel: str = "Days since lead created",
    ylabel: str = "Share converted (%)",
    highlight: str = "all",
):
    """Kaplan–Meier cumulative-conversion step curves, one per ``group`` (columns group, days, conv,
    conv_lo, conv_hi); the ``highlight`` group is drawn thick black with its 90% band."""
    groups = [g for g in curves["group"].unique() if g != highlight]
    if len(groups) == 1 and highlight in set(curves["group"]):
        groups = []  # one group is the whole: drawing it under the highlight adds nothing
    colors = sns.color_palette(PALETTE, max(len(groups), 1))
    for g, c in zip(groups, colors):
        d = curves[curves["group"] == g]
        ax.step(d["days"], d["conv"], where="post", color=c, linewidth=1.2, label=str(g))
    if highlight in set(curves["group"]):
        d = curves[curves["group"] == highlight]
        ax.fill_between(d["days"], d["conv_lo"], d["conv_hi"], step="post", color=HIGHLIGHT, alpha=0.15)
        ax.step(d["days"], d["conv"], where="post", color=HIGHLIGHT, linewidth=2.2, label=f"{highlight} (90% band)")
    pct_axis(ax, "y")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title, loc="left")
    return ax


def paired_intervals(
    ax,
    labels,
    a,
    a_lo,
    a_hi,
    b,
    b_lo,
    b_hi,
    label_a: str = "now",
    label_b: str = "before",
    xlabel: str = "",
    pct: bool = True,
):
    """Two point-and-interval estimates per row (e.g. this quarter vs the previous four)."""
    y = np.arange(len(labels))[::-1].astype(float)
    c1, c2 = sns.color_palette(PALETTE)[:2]
    for vals, lo, hi, dy, c, lab in ((b, b_lo, b_hi, -0.15, c2, label_b), (a, a_lo, a_hi, 0.15, c1, label_a)):
        v, l_, h = (np.asarray(x, dtype=float) for x in (vals, lo, hi))
        ax.errorbar(
            v,
            y + dy,
            xerr=[np.clip(v - l_, 0, None), np.clip(h - v, 0, None)],
            fmt="o",
            color=c,
            ecolor=c,
            capsize=3,
            label=lab,
        )
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    if pct:
        pct_axis(ax, "x")
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return ax


# --------------------------------------------------------------------------------------------------
# step 03 (lead quality): score calibration, rate curve, 100% share bars, Pareto, volume vs rate
# --------------------------------------------------------------------------------------------------
def _vertical_marks(ax, marks: dict[str, float] | None, pal) -> None:
    """Labelled vertical lines (label → x), first solid then dotted, in palette order after the first colour."""
    for i, (label, x) in enumerate((marks or {}).items()):
        if x is None or not np.isfinite(x):
            continue
        c = pal[(i + 1) % len(pal)]
        ax.axvline(x, color=c, linewidth=1.6, linestyle="-" if i == 0 else ":")
        ax.annotate(
            f"{label}: {x:.0f}",
            (x, 0.97 - 0.08 * i),
            xycoords=ax.get_xaxis_transform(),
            xytext=(4, 0),
            textcoords="offset points",
            color=c,
            fontsize=8,
            va="top",
        )


def score_calibration(
    ax,
    lo_edge,
    hi_edge,
    rate,
    lo,
    hi,
    base_rate: float | None = None,
    marks: dict[str, float] | None = None,
    xlabel: str = "Lead score",
    ylabel: str = "SQL rate (%)",
):
    """Rate per score band as a point at the band centre with its 90% interval, a dashed line at the
    overall rate and a vertical line per ``marks`` entry (label → score), e.g. used vs suggested threshold."""
    lo_edge, hi_edge, rate, lo, hi = (np.asarray(v, dtype=float) for v in (lo_edge, hi_edge, rate, lo, hi))
    mid = (lo_edge + hi_edge) / 2
    pal = sns.color_palette(PALETTE)
    ax.bar(mid, rate, width=(hi_edge - lo_edge) * 0.85, color=pal[0], alpha=0.35)
    ax.errorbar(
        mid,
        rate,
        yerr=[np.clip(rate - lo, 0, None), np.clip(hi - rate, 0, None)],
        fmt="o",
        color=pal[0],
        ecolor="#666666",
        capsize=3,
    )
    if base_rate is not None and np.isfinite(base_rate):
        ax.axhline(base_rate, color="#555555", linestyle="--", linewidth=1)
        ax.text(lo_edge.min(), base_rate, f" average {base_rate:.0%}", va="bottom", fontsize=8, color="#555555")
    _vertical_marks(ax, marks, pal)
    ax.set_xlim(lo_edge.min(), hi_edge.max())
    ax.set_ylim(bottom=0)
    pct_axis(ax, "y")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def rate_curve(
    ax,
    x,
    rate,
    lo,
    hi,
    ref: float | None = None,
    ref_label: str = "",
    marks: dict[str, float] | None = None,
    xlabel: str = "",
    ylabel: str = "Rate (%)",
):
    """A rate along a numeric axis with its 90% band, a dashed reference rate and vertical lines for
    ``marks`` (label → x; same colours as :func:`score_calibration`)."""
    pal = sns.color_palette(PALETTE)
    ax.fill_between(x, lo, hi, color=pal[0], alpha=0.2, linewidth=0)
    ax.plot(x, rate, color=pal[0], linewidth=1.8)
    if ref is not None and np.isfinite(ref):
        ax.axhline(ref, color="#555555", linestyle="--", linewidth=1)
        ax.text(
            np.nanmax(np.asarray(x, dtype=float)),
            ref,
            f"{ref_label} {ref:.0%} ",
            va="top",
            ha="right",
            fontsize=8,
            color="#555555",
        )
    _vertical_marks(ax, marks, pal)
    ax.set_ylim(0, 1)
    pct_axis(ax, "y")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def share_bars(ax, labels, shares, colors=None, xlabel: str = "Share (%)", legend_cols: int = 4):
    """Horizontal 100% stacked bars: ``shares`` is a frame (one row per label, one column per part, rows
    summing to 1); each segment ≥ 6% is labelled with its share."""
    pal = colors or sns.color_palette(PALETTE, shares.shape[1])
    y = np.arange(len(labels))[::-1]
    left = np.zeros(len(labels))
    for c, col in zip(pal, shares.columns):
        v = shares[col].to_numpy(dtype=float)
        ax.barh(y, v, left=left, color=c, height=0.7, label=str(col))
        for yi, li, vi in zip(y, left, v):
            if vi >= 0.06:
                ax.text(li + vi / 2, yi, f"{vi:.0%}", ha="center", va="center", fontsize=7.5)
        left = left + v
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1)
    pct_axis(ax, "x")
    ax.set_xlabel(xlabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=legend_cols, fontsize=8, frameon=False)
    return ax


def pareto_bars(ax, labels, counts, ylabel: str = "Count", highlight=None):
    """Pareto chart: bars sorted as given (largest first), cumulative share on a right-hand % axis with
    a dotted 80% line. ``highlight`` (booleans) draws those bars in the accent colour."""
    counts = np.asarray(counts, dtype=float)
    pal = sns.color_palette(PALETTE)
    hl = np.zeros(len(counts), bool) if highlight is None else np.asarray(highlight, bool)
    x = np.arange(len(counts))
    ax.bar(x, counts, color=[pal[1] if h else pal[0] for h in hl])
    ax.set_xticks(x, [str(lab) for lab in labels], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    thousands_axis(ax)
    ax2 = ax.twinx()
    cum = np.cumsum(counts) / counts.sum() if counts.sum() else np.zeros(len(counts))
    ax2.plot(x, cum, color="black", marker="o", markersize=3)
    ax2.axhline(0.8, color="#888888", linestyle=":", linewidth=1)
    ax2.set_ylim(0, 1.05)
    pct_axis(ax2, "y")
    ax2.set_ylabel("Cumulative share (%)")
    ax2.grid(False)
    return ax


def volume_rate_scatter(
    ax,
    volume,
    rate,
    lo,
    hi,
    labels,
    highlight=None,
    ref: float | None = None,
    xlabel: str = "Leads",
    ylabel: str = "SQL rate (%)",
    ref_label: str = "average",
):
    """One point per group: volume (x) against a rate (y) with its interval; ``highlight`` points are
    drawn in the warning colour and labelled (others unlabelled); dashed line at ``ref``."""
    volume, rate, lo, hi = (np.asarray(v, dtype=float) for v in (volume, rate, lo, hi))
    hl = np.zeros(len(volume), bool) if highlight is None else np.asarray(highlight, bool)
    pal = sns.color_palette(PALETTE)
    ax.errorbar(
        volume,
        rate,
        yerr=[np.clip(rate - lo, 0, None), np.clip(hi - rate, 0, None)],
        fmt="none",
        ecolor="#cccccc",
        capsize=2,
        zorder=1,
    )
    ax.scatter(volume[~hl], rate[~hl], s=30, color=pal[0], zorder=2, label="campaign")
    if hl.any():
        ax.scatter(volume[hl], rate[hl], s=55, color=pal[3], zorder=3, label="nurture candidate")
        for xi, yi, lab in zip(volume[hl], rate[hl], np.asarray(labels, dtype=object)[hl]):
            ax.annotate(str(lab), (xi, yi), xytext=(4, -10), textcoords="offset points", fontsize=8, color=pal[3])
    if ref is not None and np.isfinite(ref):
        ax.axhline(ref, color="#555555", linestyle="--", linewidth=1, label=ref_label)
    ax.set_ylim(bottom=0)
    pct_axis(ax, "y")
    thousands_axis(ax, "x")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return ax


def value_bars(
    ax,
    labels,
    values,
    xlabel: str = "",
    pct: bool = False,
    digits: int = 1,
    title: str = "",
    ref=None,
    ref_label: str = "",
    highlight=None,
):
    """Horizontal bars (first label on top), each labelled with its value; ``pct`` formats shares (0–1)
    as %; ``ref`` draws dashed reference ticks (one per bar or one value); ``highlight`` (booleans)
    draws those bars in the warning colour. With no bars, writes "nothing to show"."""
    values = np.asarray(values, dtype=float)
    pal = sns.color_palette(PALETTE)
    top = 0.0
    if len(values) == 0:
        ax.text(0.5, 0.5, "nothing to show", ha="center", va="center", transform=ax.transAxes, color="#888888")
        ax.set_yticks([])
    else:
        y = np.arange(len(values))[::-1]
        hl = np.zeros(len(values), bool) if highlight is None else np.asarray(highlight, bool)
        ax.barh(y, values, color=[pal[3] if h else pal[0] for h in hl], height=0.65)
        top = np.nanmax(values) if np.isfinite(values).any() else 0.0
        for yi, v in zip(y, values):
            txt = f"{100 * v:.{digits}f}%" if pct else f"{v:,.{digits}f}"
            ax.text(v + 0.01 * max(top, 1e-9), yi, txt, va="center", fontsize=8)
        ax.set_yticks(y, [str(lab) for lab in labels], fontsize=8.5)
        if ref is not None:
            r = np.broadcast_to(np.asarray(ref, dtype=float), values.shape)
            ax.scatter(r, y, marker="|", s=300, color="#b03a2e", zorder=3, label=ref_label or None)
            top = max(top, np.nanmax(r))
            if ref_label:
                ax.legend(loc="lower right", fontsize=8, frameon=False)
        ax.set_xlim(0, top * 1.18 if top > 0 else 1)
    if pct:
        pct_axis(ax, "x", digits=1 if top >= 0.02 else 2 if top >= 0.002 else 3)
    if xlabel:
        ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, loc="left")
    return ax


# --------------------------------------------------------------------------------------------------
# chart functions that return their Figure (``steps/<step>/view.py``: ``fig_<name>(...) -> Figure``)
# --------------------------------------------------------------------------------------------------
COHORT_COLOR = "#dd8452"  # step 01: the cohort funnel beside the flow funnel (seaborn "deep" orange)


def new_figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """``plt.subplots(nrows, ncols, **kwargs)`` for a function that returns its chart: the figure is
    detached from pyplot at once, so a notebook shows it once, where it is ``display``-ed, and not again
    at the end of the cell. Returns ``(fig, axes)``."""
    fig, axes = plt.subplots(nrows, ncols, **kwargs)
    plt.close(fig)
    return fig, axes


# --------------------------------------------------------------------------------------------------
# colours by role (step 06 first): a chart names what a colour means, never a hex code
# --------------------------------------------------------------------------------------------------
COLORS: dict[str, str] = {
    "accent": "#0173b2",  # the main series: the colour-blind palette's blue (PALETTE[0])
    "light": "#8fa8c8",  # a base series under the accent: ticket volume, new customers' revenue
    "good": "#029e73",  # promoters and other good outcomes: the palette's green (PALETTE[2])
    "warning": "#b03a2e",  # below target, detractors, the CSAT line (as the reference lines above)
    "neutral": "#cccccc",  # the middle of a scale: passives
    "grey": "#888888",  # zero lines and error bars
    "ink": "#333333",  # annotation text
    "second": "#de8f05",  # a second series beside the accent: the palette's orange (PALETTE[1]); step 02's
    # SQL→customer lifts beside the MQL→SQL ones
    # step 07 (spend planning): its charts keep the colours they had before they moved to view.py
    "meets": "#1b7837",  # a return per 1 spent that meets the ROI target (green bars)
    "misses": "#b2182b",  # a return below the target; a channel on the cost-per-lead fallback
    "deep": "#4c72b0",  # seaborn's "deep" blue: the observed months of a channel, the scenario bars
    "fit": "#222222",  # a fitted spend→leads curve
    "status_quo": "#999999",  # today's split beside the optimised one
    "strong": "black",  # the target line; the panel title of a channel whose curve was fitted
}
