"""Chart style and generic charts. One theme for every notebook: call :func:`set_theme` once.

Titles say what the reader should see; axes carry units; shares are shown as %.
Modules may add chart functions here (append-only), each taking an ``ax`` or returning a ``Figure``.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import FuncFormatter, PercentFormatter

PALETTE = "colorblind"
FIGSIZE = (9, 4.2)
STAGE_LABELS = {"lead": "Lead", "mql": "MQL", "sal": "SAL", "sql": "SQL", "customer": "Customer"}


def set_theme() -> None:
    """The workbook's seaborn theme (white grid, colour-blind palette, readable sizes)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook", font_scale=0.95)
    plt.rcParams.update({
        "figure.figsize": FIGSIZE,
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "axes.titleweight": "bold",
        "axes.titlesize": 12,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.autolayout": True,
    })


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
        ax.text(0.5, y, f"{labels[i]}: {counts[i]:,.0f}  ({counts[i] / top:.1%})", ha="center", va="center",
                fontsize=9.5, color="black", fontweight="bold")
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


def interval_bars(ax, labels, values, lo, hi, xlabel: str = "", pct: bool = True, color: str | None = None,
                  ref: float | None = None, ref_label: str = ""):
    """Horizontal point-and-interval chart (one row per label), optional reference line."""
    values, lo, hi = (np.asarray(x, dtype=float) for x in (values, lo, hi))
    y = np.arange(len(values))[::-1]
    color = color or sns.color_palette(PALETTE)[0]
    ax.errorbar(values, y, xerr=[np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)], fmt="o",
                color=color, ecolor="#888888", capsize=3)
    ax.set_yticks(y, labels)
    if ref is not None:
        ax.axvline(ref, color="#b03a2e", linestyle="--", linewidth=1)
        if ref_label:
            ax.text(ref, y.max() + 0.6 if len(y) else 0, ref_label, color="#b03a2e", fontsize=8, ha="center")
    if pct:
        pct_axis(ax, "x")
    if xlabel:
        ax.set_xlabel(xlabel)
    return ax
