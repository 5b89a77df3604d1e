"""Step 07 — display tables, charts and the what-if sliders of spend planning.

Tables: DataFrames of strings formatted for reading (intervals as text, "n/a" / "—" instead of NaN). Charts: one
function ``fig_<name>(...) -> matplotlib.figure.Figure`` per chart, drawn with the theme and colours of
:mod:`salesaudit.plots` on a figure pyplot no longer holds (:func:`salesaudit.plots.new_figure`), so the notebook
shows it once with ``display(fig)``; titles come from :mod:`salesaudit.steps.planning.story`. The ``*_chart(ax, …)``
functions draw one chart on a given axes (the ``fig_*`` functions use them; they are also the 0.1 API).
:func:`what_if_widget` is the live notebook's ipywidgets front end.
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from salesaudit import plots, text
from salesaudit.plots import COLORS
from salesaudit.steps.planning import forecast, story
from salesaudit.steps.planning.metrics import STAGE_STEPS, PlanModel, ResponseFit, deseasonalised, recompute
from salesaudit.steps.planning.target import TargetPlan, target_plan, target_reps

__all__ = [
    # tables
    "roi_display",
    "fits_table",
    "rates_wide",
    "delay_display",
    "display_table",
    "scenario_display",
    "new_channel_table",
    "allocation_display",
    "accuracy_display",
    "backtest_display",
    "next_quarter_display",
    # charts
    "fig_roi",
    "fig_response",
    "fig_conversion",
    "fig_plan",
    "fig_baseline_plan",
    "fig_scenarios",
    "fig_new_channel",
    "fig_allocation",
    "fig_backtest",
    "fig_next_quarter",
    # drawing on a given axes (the 0.1 API)
    "roi_chart",
    "response_chart",
    "plan_chart",
    "scenario_chart",
    "new_channel_chart",
    "allocation_chart",
    # the target plan
    "target_display",
    "fig_target_plan",
    # the live notebook
    "what_if_widget",
    "target_widget",
    "parse_amount",
    "amount_input",
]


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------
def roi_display(roi: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Readable ROI table (rounded; return with its 90% interval)."""
    return pd.DataFrame(
        {
            f"spend ({currency})": [f"{v:,.0f}" for v in roi["spend"]],
            "leads": [f"{v:,.0f}" for v in roi["leads"]],
            "new customers": [f"{v:,.0f}" for v in roi["customers"]],
            f"won revenue ({currency})": [f"{v:,.0f}" for v in roi["revenue"]],
            "return per 1 spent": [
                f"{r:.2f} ({lo:.2f}–{hi:.2f})" if np.isfinite(lo) else f"{r:.2f}"
                for r, lo, hi in zip(roi["return_per_1"], roi["return_lo"], roi["return_hi"])
            ],
            f"CAC ({currency})": [f"{v:,.0f}" if np.isfinite(v) else "n/a" for v in roi["cac"]],
            "meets target": np.where(roi["meets_target"], "yes", "no"),
        },
        index=roi.index,
    )


def fits_table(fits: dict[str, ResponseFit], currency: str = "EUR") -> pd.DataFrame:
    """Readable table, one row per channel: model, months, spend range, fitted parameters, fit error
    (mean absolute % error on the observed months) and why a channel fell back."""
    rows = []
    for ch, f in fits.items():
        hillp = np.exp(f.params) if f.method == "hill" else [np.nan] * 3
        hill_ = f.method == "hill"
        rows.append(
            {
                "channel": ch,
                "model": "Hill curve" if hill_ else "fallback: cost per lead",
                "months": f.n_months,
                "spend CV": f"{f.spend_cv:.2f}",
                f"monthly spend ({currency})": f"{f.spend_min:,.0f}–{f.spend_max:,.0f}",
                "vmax (leads/month)": f"{hillp[0]:,.0f}" if hill_ else "",
                f"k ({currency}/month)": f"{hillp[1]:,.0f}" if hill_ else "",
                "h": f"{hillp[2]:.2f}" if hill_ else "",
                f"cost per lead ({currency})": "" if hill_ else f"{f.params[0]:,.0f}",
                "fit error": f"{f.fit_error:.1%}" if hill_ else "",
                "why": "" if hill_ else f.note.split(" — ")[-1],
            }
        )
    return pd.DataFrame(rows).set_index("channel")


def rates_wide(rates: pd.DataFrame) -> pd.DataFrame:
    """Readable table: one row per channel, per step ``rate (lo–hi), k/n``."""
    f = rates.assign(
        cell=[
            f"{r:.1%} ({lo:.1%}–{hi:.1%}), {k:,.0f}/{n:,.0f}"
            for r, lo, hi, k, n in zip(rates["rate"], rates["lo"], rates["hi"], rates["k"], rates["n"])
        ]
    )
    return f.pivot(index="channel", columns="step", values="cell")[[f"{a}→{b}" for a, b in STAGE_STEPS]]


def delay_display(delay: pd.DataFrame) -> pd.DataFrame:
    """The lead→customer delay as whole days ("—" where too few customers to measure)."""
    names = {"p10_days": "10th pct (days)", "median_days": "median (days)", "p90_days": "90th pct (days)"}
    return delay.apply(lambda c: c.map(lambda v: f"{v:,.0f}" if np.isfinite(v) else "—")).rename(columns=names)


def display_table(table: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Formatted plan table: each output as ``mean (10%–90%)`` text (revenue in thousands; :func:`text.num_interval`)."""
    table = table.assign(
        revenue_k=table["revenue"] / 1000,
        revenue_k_lo=table["revenue_lo"] / 1000,
        revenue_k_hi=table["revenue_hi"] / 1000,
    )

    def fmt(m, d=0):
        return [text.num_interval(v, lo, hi, d) for v, lo, hi in zip(table[m], table[f"{m}_lo"], table[f"{m}_hi"])]

    return pd.DataFrame(
        {
            f"spend ({currency})": ["" if not np.isfinite(v) else f"{v:,.0f}" for v in table["spend"]],
            "leads": fmt("leads"),
            "MQL": fmt("mql"),
            "SQL": fmt("sql"),
            "customers": fmt("customers"),
            f"revenue ({currency} k)": fmt("revenue_k"),
            "return per 1": fmt("return_per_1", 2),
            f"CAC ({currency})": fmt("cac"),
        },
        index=table.index,
    )


def scenario_display(summary: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Readable scenario table: paid spend, leads, customers and return (10–90%), CAC, capacity."""
    return pd.DataFrame(
        {
            f"paid spend ({currency})": [f"{v:,.0f}" for v in summary["spend"]],
            "paid leads": [f"{v:,.0f}" for v in summary["leads"]],
            "customers (10–90%)": [
                f"{v:,.0f} ({lo:,.0f}–{hi:,.0f})"
                for v, lo, hi in zip(summary["customers"], summary["customers_lo"], summary["customers_hi"])
            ],
            "return per 1 (10–90%)": [
                f"{v:.2f} ({lo:.2f}–{hi:.2f})"
                for v, lo, hi in zip(summary["return_per_1"], summary["return_lo"], summary["return_hi"])
            ],
            f"CAC ({currency})": [f"{v:,.0f}" if np.isfinite(v) else "—" for v in summary["cac"]],
            "meets target": np.where(summary["meets_target"], "yes", "no"),
            "all leads vs rep capacity": [
                f"{a:,.0f} / {c:,.0f}" if np.isfinite(c) else f"{a:,.0f} / n/a"
                for a, c in zip(summary["all_leads"], summary["capacity"])
            ],
        },
        index=summary.index,
    )


def new_channel_table(forecasts: dict[str, dict], currency: str = "EUR") -> pd.DataFrame:
    """One row per new-channel variant: leads, rate, customers (10–90%), margin, return, worth it."""
    rows = {}
    for name, f in forecasts.items():
        rows[name] = {
            "leads": f"{f['leads']:,.0f}",
            "lead→customer": f"{f['rate']:.1%}",
            "customers (10–90%)": f"{f['customers']:.2f} ({f['customers_lo']:.0f}–{f['customers_hi']:.0f})",
            f"spend ({currency})": f"{f['spend']:,.0f}" if np.isfinite(f.get("spend", np.nan)) else "not given",
            f"gross margin ({currency})": f"{f['margin']:,.0f}" if np.isfinite(f.get("margin", np.nan)) else "unknown",
            "return per 1 (10–90%)": (
                f"{f['return_per_1']:.2f} ({f['return_lo']:.2f}–{f['return_hi']:.2f})" if "return_per_1" in f else "n/a"
            ),
            "worth it": ("yes" if f.get("worth_it") else "no") if "worth_it" in f else "n/a",
        }
    return pd.DataFrame(rows).T


def allocation_display(alloc: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Readable allocation table: current and optimised spend, change, expected gross margin."""
    return pd.DataFrame(
        {
            f"current ({currency})": [f"{v:,.0f}" for v in alloc["current"]],
            f"optimised ({currency})": [f"{v:,.0f}" for v in alloc["optimised"]],
            "change": [
                f"{v:+.0%}" + (" (held: fallback)" if h else "") for v, h in zip(alloc["change"], alloc["held"])
            ],
            f"expected margin now ({currency})": [f"{v:,.0f}" for v in alloc["margin_current"]],
            f"expected margin optimised ({currency})": [f"{v:,.0f}" for v in alloc["margin_optimised"]],
        },
        index=alloc.index,
    )


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
def roi_chart(ax, roi: pd.DataFrame, target: float):
    """Return per 1 spent by paid channel (90% interval) against the target line."""
    ch = roi.drop(index="Total (paid)", errors="ignore").sort_values("return_per_1")
    y = np.arange(len(ch))
    v = ch["return_per_1"].to_numpy(float)
    lo = np.nan_to_num(ch["return_lo"].to_numpy(float), nan=0.0)
    hi = np.where(np.isfinite(ch["return_hi"]), ch["return_hi"], v)
    ax.barh(y, v, color=[COLORS["meets"] if x >= target else COLORS["misses"] for x in v], alpha=0.65)
    ax.errorbar(
        v, y, xerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)], fmt="none", ecolor=COLORS["ink"], capsize=3
    )
    ax.axvline(target, color=COLORS["strong"], linestyle="--", linewidth=1)
    ax.text(target, len(ch) - 0.4, f" target {target:.1f}:1", fontsize=8, va="bottom")
    ax.set_yticks(y, list(ch.index))
    ax.set_xlabel("gross margin returned per 1 spent (90% interval)")
    ax.set_title(story.roi_title(roi, target), loc="left")
    return ax


def fig_roi(roi: pd.DataFrame, target: float) -> Figure:
    """Return per 1 spent by paid channel this quarter with its 90% interval, against the target
    (:func:`metrics.quarter_roi`)."""
    fig, ax = plots.new_figure(figsize=(9, 3.8))
    roi_chart(ax, roi, target)
    return fig


def _response_grid(n_channels: int) -> tuple[int, int, tuple[float, float]]:
    """(rows, columns, figure size) of the small multiples: three per row."""
    ncol = 3
    nrow = max(int(np.ceil(n_channels / ncol)), 1)
    return nrow, ncol, (10, 2.5 * nrow + 0.4)


def _response_panels(
    fig: Figure, axes, fits: dict[str, ResponseFit], monthly: pd.DataFrame, season: pd.Series, currency: str
) -> Figure:
    chans = list(fits)
    adj = deseasonalised(monthly, season)
    for ax, ch in zip(axes.ravel(), chans):
        f = fits[ch]
        d = adj.loc[adj["channel"] == ch]
        grid = np.linspace(0, f.spend_max * 1.3, 80)
        ax.scatter(d["spend"] / 1000, d["leads_adj"], s=14, color=COLORS["deep"], alpha=0.8)
        hill_ = f.method == "hill"
        ax.plot(
            grid / 1000,
            f.predict(grid),
            color=COLORS["fit"] if hill_ else COLORS["misses"],
            linestyle="-" if hill_ else "--",
        )
        ax.axvspan(f.spend_min / 1000, f.spend_max / 1000, color=COLORS["neutral"], alpha=0.25, lw=0)
        ax.set_title(
            f"{ch}: {'Hill fit' if hill_ else 'fallback (cost per lead)'}",
            fontsize=10,
            loc="left",
            color=COLORS["strong"] if hill_ else COLORS["misses"],
        )
        ax.set_xlabel(f"monthly spend ({currency} k)", fontsize=8)
        ax.set_ylabel("leads / month", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    for ax in axes.ravel()[len(chans) :]:
        ax.axis("off")
    fig.suptitle(story.response_title(), fontweight="bold", x=0.01, ha="left", fontsize=11)
    return fig


def fig_response(
    fits: dict[str, ResponseFit], monthly: pd.DataFrame, season: pd.Series, currency: str = "EUR"
) -> Figure:
    """Small multiples, one per fitted channel: deseasonalised monthly leads vs monthly spend, with the fitted
    curve (or the fallback line, dashed red) and the observed spend range (grey band). ``monthly``:
    :func:`metrics.monthly_spend_leads` (channels without a fit are not drawn)."""
    nrow, ncol, size = _response_grid(len(fits))
    fig, axes = plots.new_figure(nrow, ncol, figsize=size, squeeze=False)
    return _response_panels(fig, axes, fits, monthly, season, currency)


def response_chart(fits: dict[str, ResponseFit], monthly: pd.DataFrame, season: pd.Series, currency: str = "EUR"):
    """:func:`fig_response` on a figure pyplot still holds (the 0.1 API: ``plt.show()`` shows it)."""
    nrow, ncol, size = _response_grid(len(fits))
    fig, axes = plt.subplots(nrow, ncol, figsize=size, squeeze=False)
    return _response_panels(fig, axes, fits, monthly, season, currency)


def fig_conversion(l2c: pd.DataFrame) -> Figure:
    """Lead→customer rate per channel with its 10–90% interval (:func:`metrics.lead_to_customer`)."""
    fig, ax = plots.new_figure(figsize=(9, 3.4))
    plots.interval_bars(
        ax, list(l2c.index), l2c["rate"], l2c["lo"], l2c["hi"], xlabel="lead → customer (10–90% interval)"
    )
    ax.set_title(story.conversion_title(l2c), loc="left")
    return fig


def plan_chart(ax, table: pd.DataFrame, target: float, title: str | None = None):
    """Return per 1 spent per channel with its 10–90% interval and the target line (title: ``title`` or
    :func:`story.plan_title`)."""
    y = np.arange(len(table))[::-1]
    v = table["return_per_1"].to_numpy(float)
    lo, hi = table["return_per_1_lo"].to_numpy(float), table["return_per_1_hi"].to_numpy(float)
    colors = [COLORS["meets"] if x >= target else COLORS["misses"] for x in v]
    ax.barh(y, v, color=colors, alpha=0.6)
    ax.errorbar(
        v, y, xerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)], fmt="none", ecolor=COLORS["ink"], capsize=3
    )
    ax.axvline(target, color=COLORS["strong"], linestyle="--", linewidth=1)
    ax.text(target, y.max() + 0.55, f" target {target:.1f}:1", fontsize=8, va="bottom")
    ax.set_yticks(y, list(table.index))
    ax.set_xlabel("gross margin returned per 1 spent (10–90% interval)")
    ax.set_title(title or story.plan_title(), loc="left")
    return ax


def fig_plan(
    table: pd.DataFrame,
    paid: list[str],
    target: float,
    title: str | None = None,
    figsize: tuple[float, float] = (8, 3.2),
) -> Figure:
    """The plan's return per 1 spent for the ``paid`` channels and their total (rows of :func:`metrics.plan_table`)
    with 10–90% intervals and the target; the live notebook's chart."""
    fig, ax = plots.new_figure(figsize=figsize)
    plan_chart(ax, table.loc[[*paid, "Total (paid)"]], target, title)
    return fig


def fig_baseline_plan(table: pd.DataFrame, paid: list[str], target: float, next_label: str) -> Figure:
    """:func:`fig_plan` of the baseline plan (this quarter's spend) for the report."""
    return fig_plan(table, paid, target, story.baseline_plan_title(next_label), figsize=(9, 3.6))


def scenario_chart(axes, summary: pd.DataFrame, target: float, currency: str = "EUR"):
    """Two panels: expected customers and return per 1 spent per scenario (10–90% interval), target line."""
    names = list(summary.index)
    y = np.arange(len(names))[::-1]
    for ax, (m, lo, hi, label) in zip(
        axes,
        [
            ("customers", "customers_lo", "customers_hi", "new customers (eventual)"),
            ("return_per_1", "return_lo", "return_hi", "gross margin per 1 spent"),
        ],
    ):
        v = summary[m].to_numpy(float)
        ax.barh(y, v, color=COLORS["deep"], alpha=0.6)
        ax.errorbar(
            v,
            y,
            xerr=[v - summary[lo].to_numpy(float), summary[hi].to_numpy(float) - v],
            fmt="none",
            ecolor=COLORS["ink"],
            capsize=3,
        )
        ax.set_xlabel(f"{label} (10–90% interval)")
        ax.set_yticks(y, names if ax is axes[0] else [""] * len(names))
    axes[1].axvline(target, color=COLORS["strong"], linestyle="--", linewidth=1)
    axes[1].text(target, len(names) - 0.45, f" target {target:.0f}:1", fontsize=8)
    axes[0].set_title(story.scenario_title(summary), loc="left")
    return axes


def fig_scenarios(summary: pd.DataFrame, target: float, currency: str = "EUR") -> Figure:
    """Expected customers (left) and return per 1 spent (right) per scenario of :func:`metrics.scenarios`."""
    fig, axes = plots.new_figure(1, 2, figsize=(10, 3.4))
    scenario_chart(axes, summary, target, currency)
    return fig


def new_channel_chart(ax, forecasts: dict[str, dict], target: float):
    """Return per 1 spent of each new-channel variant with its 10–90% interval and the target."""
    names = list(forecasts)
    y = np.arange(len(names))[::-1]
    v = np.array([forecasts[n].get("return_per_1", np.nan) for n in names])
    lo = np.array([forecasts[n].get("return_lo", np.nan) for n in names])
    hi = np.array([forecasts[n].get("return_hi", np.nan) for n in names])
    ax.barh(y, v, color=[COLORS["meets"] if x >= target else COLORS["misses"] for x in v], alpha=0.6)
    ax.errorbar(
        v, y, xerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)], fmt="none", ecolor=COLORS["ink"], capsize=3
    )
    ax.axvline(target, color=COLORS["strong"], linestyle="--", linewidth=1)
    ax.set_yticks(y, names)
    ax.set_xlabel("gross margin per 1 spent (10–90% interval)")
    ax.set_title(story.new_channel_title(forecasts, target), loc="left")
    return ax


def fig_new_channel(forecasts: dict[str, dict], target: float) -> Figure:
    """Return per 1 spent of each estimate of :func:`metrics.new_channel_forecasts` (when
    :func:`metrics.forecasts_priced`) against the target."""
    fig, ax = plots.new_figure(figsize=(9, 2.6))
    new_channel_chart(ax, forecasts, target)
    return fig


def allocation_chart(ax, alloc: pd.DataFrame, currency: str = "EUR"):
    """Grouped bars: current vs optimised quarterly spend per paid channel (in thousands)."""
    a = alloc.drop(index="Total")
    x = np.arange(len(a))
    ax.bar(x - 0.2, a["current"] / 1000, width=0.4, label="current split", color=COLORS["status_quo"])
    ax.bar(x + 0.2, a["optimised"] / 1000, width=0.4, label="optimised split", color=COLORS["meets"])
    ax.set_xticks(x, [f"{c}{' (held)' if h else ''}" for c, h in zip(a.index, a["held"])], fontsize=9)
    ax.set_ylabel(f"quarterly spend ({currency} k)")
    ax.set_title(story.allocation_title(alloc, currency), loc="left")
    ax.legend(fontsize=8)
    return ax


def fig_allocation(alloc: pd.DataFrame, currency: str = "EUR") -> Figure:
    """Current vs optimised quarterly spend per paid channel (:func:`metrics.optimise_split`)."""
    fig, ax = plots.new_figure(figsize=(9, 3.6))
    allocation_chart(ax, alloc, currency)
    return fig


# --------------------------------------------------------------------------------------------------
# widget (interactive notebook only)
# --------------------------------------------------------------------------------------------------
def what_if_widget(model: PlanModel):
    """Sliders for next quarter's spend per paid channel, the total budget, the number of reps and an
    SQL→customer rate override; the output table (:func:`display_table`, :func:`story.plan_sentences`) and chart
    (:func:`fig_plan`) update on every move (:func:`metrics.recompute`)."""
    import ipywidgets as w
    from IPython.display import display

    cur = model.current_spend
    style = {"description_width": "220px"}
    layout = w.Layout(width="560px")
    sliders = {
        c: w.FloatSlider(
            value=round(float(cur[c]), -2),
            min=0.0,
            max=round(float(cur[c]) * 2.5, -2),
            step=max(round(float(cur[c]) / 50, -2), 100.0),
            description=f"{c}, {model.currency} per quarter",
            readout=False,
            continuous_update=False,
            style=style,
            layout=layout,
        )
        for c in model.paid
    }
    total = w.FloatSlider(
        value=round(float(cur.sum()), -2),
        min=0.0,
        max=round(float(cur.sum()) * 2.5, -2),
        step=max(round(float(cur.sum()) / 100, -2), 100.0),
        description=f"total budget, {model.currency} per quarter",
        readout=False,
        continuous_update=False,
        style=style,
        layout=layout,
    )
    reps = w.IntSlider(
        value=max(model.n_reps, 1),
        min=1,
        max=max(3 * model.n_reps, 10),
        description="reps next quarter",
        continuous_update=False,
        style=style,
        layout=layout,
    )
    close = w.FloatSlider(
        value=0.0,
        min=0.0,
        max=0.8,
        step=0.01,
        description="SQL→customer override, %",
        readout_format=".0%",
        continuous_update=False,
        style=style,
        layout=layout,
    )
    note = w.HTML("<small>SQL→customer override 0% = use each channel's history.</small>")
    table_out = w.HTML()
    table_out.add_class("plan-table")
    chart_out = w.Output()
    busy = {"total": False}

    def update(_=None) -> None:
        spend = {c: s.value for c, s in sliders.items()}
        ov = {"sql→customer": close.value} if close.value > 0 else None
        t0 = time.perf_counter()
        tab, cap = recompute(model, spend, reps.value, ov)
        ms = (time.perf_counter() - t0) * 1000
        sent = story.plan_sentences(model, tab, cap, "Plan")
        table_out.value = (
            display_table(tab, model.currency).to_html(classes="plan")
            + "<ul>"
            + "".join(f"<li>{text.safe_markdown(s)}</li>" for s in sent)
            + "</ul>"
            + f"<small>recomputed in {ms:.0f} ms ({model.n_draws:,} simulations)</small>"
        )
        with chart_out:
            chart_out.clear_output(wait=True)
            display(fig_plan(tab, model.paid, model.roi_target))

    def on_total(change) -> None:
        if busy["total"]:
            return
        busy["total"] = True
        old = sum(s.value for s in sliders.values())
        for s in sliders.values():
            s.value = s.value * change["new"] / old if old > 0 else change["new"] / len(sliders)
        busy["total"] = False
        update()

    def on_channel(_change) -> None:
        if busy["total"]:
            return
        busy["total"] = True
        total.value = sum(s.value for s in sliders.values())
        busy["total"] = False
        update()

    for s in sliders.values():
        s.observe(on_channel, names="value")
    total.observe(on_total, names="value")
    reps.observe(update, names="value")
    close.observe(update, names="value")
    update()
    controls = w.VBox([*(amount_input(s) for s in sliders.values()), amount_input(total), reps, close, note])
    return w.VBox([controls, table_out, chart_out])


# --------------------------------------------------------------------------------------------------
# 6. the backtest, 7. next quarter's forecast
# --------------------------------------------------------------------------------------------------
def _fmt(series: str, x: float, currency: str) -> str:
    return text.money(x, currency) if series == "revenue" else text.num(x)


def accuracy_display(acc: pd.DataFrame) -> pd.DataFrame:
    """The backtest's accuracy per series: company level (``Total``) first, then the median over channels —
    MAPE, bias and the share of actuals inside the 10–90% band, as text."""
    if acc.empty:
        return pd.DataFrame({"note": ["no quarter backtested"]})
    tot = acc.loc[acc["channel"] == "Total"].set_index("series")
    ch = acc.loc[acc["channel"] != "Total"].groupby("series")[["mape", "coverage"]].median()
    rows = []
    for s in forecast.SERIES:
        if s not in tot.index:
            continue
        t = tot.loc[s]
        rows.append(
            {
                "series": forecast.SERIES_LABELS[s],
                "quarters": int(t["quarters"]),
                "MAPE (company)": text.pct(t["mape"], 1),
                "bias (company)": "n/a" if text.is_missing(t["bias"]) else f"{100 * t['bias']:+.1f}%",
                "inside the 10–90% band (company)": text.pct(t["coverage"], 0),
                "MAPE (median channel)": text.pct(ch.loc[s, "mape"], 0) if s in ch.index else "n/a",
                "inside the band (median channel)": text.pct(ch.loc[s, "coverage"], 0) if s in ch.index else "n/a",
            }
        )
    return pd.DataFrame(rows).set_index("series")


def backtest_display(bt: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Company-level forecast (10–90% band) against the actual, one row per backtested quarter, one column per
    series; a ✗ marks an actual outside the band."""
    t = bt.loc[bt["channel"] == "Total"] if len(bt) else bt
    if t.empty:
        return pd.DataFrame({"note": ["no quarter backtested"]})
    cells = {}
    for r in t.itertuples():
        mark = "" if r.inside else " ✗"
        cells.setdefault(r.quarter, {})[forecast.SERIES_LABELS[r.series]] = (
            f"{_fmt(r.series, r.forecast, currency)} ({_fmt(r.series, r.lo, currency)}–"
            f"{_fmt(r.series, r.hi, currency)}) → {_fmt(r.series, r.actual, currency)}{mark}"
        )
    return pd.DataFrame.from_dict(cells, orient="index").rename_axis("quarter (forecast → actual)")


def fig_backtest(bt: pd.DataFrame, summary: forecast.BacktestSummary, currency: str = "EUR") -> Figure:
    """One panel per company-level series: the forecast made at each quarter's start (line) with its 10–90%
    band (shaded) and what happened (dots; red when outside the band)."""
    t = bt.loc[bt["channel"] == "Total"] if len(bt) else bt
    series = [s for s in forecast.SERIES if len(t) and (t.loc[t["series"] == s, "actual"] > 0).any()]
    if not series:
        fig, ax = plots.new_figure(figsize=(6, 1.2))
        ax.axis("off")
        ax.text(0, 0.5, "No quarter could be backtested.", fontsize=10)
        return fig
    ncols = min(3, len(series))
    nrows = -(-len(series) // ncols)
    fig, axes = plots.new_figure(nrows, ncols, figsize=(3.6 * ncols, 3.0 * nrows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[len(series) :]:
        ax.axis("off")
    for ax, s in zip(flat, series):
        d = t.loc[t["series"] == s]
        x = np.arange(len(d))
        ax.fill_between(x, d["lo"], d["hi"], color=COLORS["light"], alpha=0.5, label="10–90% band")
        ax.plot(x, d["forecast"], color=COLORS["accent"], marker="", label="forecast")
        inside = d["inside"].to_numpy(bool)
        ax.scatter(x[inside], d["actual"].to_numpy()[inside], color=COLORS["ink"], s=18, zorder=3, label="actual")
        ax.scatter(
            x[~inside],
            d["actual"].to_numpy()[~inside],
            color=COLORS["warning"],
            s=22,
            zorder=3,
            label="actual outside the band",
        )
        ax.set_xticks(x, [q[2:] for q in d["quarter"]], rotation=90, fontsize=8)
        unit = f"{currency}" if s == "revenue" else "count"
        ax.set_ylabel(f"{forecast.SERIES_LABELS[s]} per quarter ({unit})")
        ax.set_title(f"{forecast.SERIES_LABELS[s]}: MAPE {text.pct(summary.mape.get(s), 0)}", fontsize=9, loc="left")
        ax.set_ylim(bottom=0)
        if s == "revenue":
            ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v / 1e6:.1f}M" if v >= 1e6 else f"{v:,.0f}"))
    handles, labels = [], []
    for ax in flat[: len(series)]:  # every kind of mark once (a panel may have no actual outside its band)
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    spare = flat[len(series)] if len(flat) > len(series) else None
    (spare or flat[0]).legend(handles, labels, fontsize=8, loc="center" if spare is not None else "lower left")
    fig.suptitle(story.backtest_title(summary), x=0.01, ha="left", fontsize=11)
    fig.tight_layout()
    return fig


def next_quarter_display(nq: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """Next quarter's company-level forecast per series: expected value with its 10–90% band, and the parts from
    the deals open now, the earlier pipeline and next quarter's new leads."""
    t = nq.loc[nq["channel"] == "Total"]
    rows = []
    for r in t.itertuples():
        f = lambda x, s=r.series: _fmt(s, x, currency)  # noqa: E731
        rows.append(
            {
                "series": forecast.SERIES_LABELS[r.series],
                "forecast (10–90%)": f"{f(r.forecast)} ({f(r.lo)}–{f(r.hi)})",
                "from open deals": "—" if r.series in ("leads", "mql", "sql") else f(r.from_open_deals),
                "from the earlier pipeline": "—" if r.series == "leads" else f(r.from_pipeline - r.from_open_deals),
                "from new leads": f(r.from_new),
            }
        )
    return pd.DataFrame(rows).set_index("series")


def fig_next_quarter(nq: pd.DataFrame, currency: str = "EUR") -> Figure:
    """Next quarter's new customers and won revenue as stacked bars — open deals, earlier pipeline, new leads —
    with the 10–90% band of the total."""
    t = nq.loc[nq["channel"] == "Total"].set_index("series")
    fig, axes = plots.new_figure(1, 2, figsize=(9, 3.1))
    for ax, s in zip(axes, ("customers", "revenue")):
        r = t.loc[s]
        parts = [
            ("open deals", r["from_open_deals"], COLORS["accent"]),
            ("earlier pipeline", r["from_pipeline"] - r["from_open_deals"], COLORS["light"]),
            ("new leads", r["from_new"], COLORS["second"]),
        ]
        left = 0.0
        for label, v, color in parts:
            ax.barh([0], [v], left=left, color=color, label=label)
            left += v
        ax.errorbar(
            [r["forecast"]],
            [0],
            xerr=[[r["forecast"] - r["lo"]], [r["hi"] - r["forecast"]]],
            color=COLORS["ink"],
            capsize=4,
        )
        unit = currency if s == "revenue" else "count"
        ax.set_xlabel(f"{forecast.SERIES_LABELS[s]} in {r['quarter']} ({unit}; line = 10–90% band)")
        ax.set_yticks([])
        if s == "revenue":
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v / 1e6:.1f}M" if v >= 1e6 else f"{v:,.0f}"))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=3, frameon=False)  # below the axis labels
    fig.suptitle(story.next_quarter_title(nq.reset_index(drop=True), currency), x=0.01, ha="left", fontsize=11)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


# --------------------------------------------------------------------------------------------------
# the target plan (salesaudit.steps.planning.target)
# --------------------------------------------------------------------------------------------------
def target_display(plan: TargetPlan, currency: str = "EUR") -> pd.DataFrame:
    """Readable target plan: per channel the revenue, customers, SQLs, MQLs and leads it needs (10–90%), the spend
    that needs against today's, whether it is reachable within the limit and whether the ROI target still holds."""
    t = plan.table
    spend, reach, ret, meets = [], [], [], []
    for ch, r in t.iterrows():
        if not r["paid"] and ch != "All channels":
            spend.append("—")
            reach.append("no spend: today's level")
            ret.append("—")
            meets.append("—")
            continue
        spend.append(text.num_interval(r["spend"], r["spend_lo"], r["spend_hi"]) if np.isfinite(r["spend"]) else "n/a")
        reach.append("yes" if r["reachable"] else f"not reachable within {plan.limit:g}× the observed spend")
        ret.append(f"{r['return_per_1']:.2f}" if np.isfinite(r["return_per_1"]) else "—")
        meets.append("—" if not np.isfinite(r["return_per_1"]) else ("yes" if r["meets_target"] else "no"))
    out = pd.DataFrame(
        {
            f"revenue ({currency})": [f"{v:,.0f}" for v in t["revenue"]],
            **{
                label: [text.num_interval(v, lo, hi) for v, lo, hi in zip(t[c], t[f"{c}_lo"], t[f"{c}_hi"])]
                for label, c in [("customers", "customers"), ("SQLs", "sql"), ("MQLs", "mql"), ("leads", "leads")]
            },
            f"spend needed ({currency} per quarter)": spend,
            f"this quarter's spend ({currency})": [f"{v:,.0f}" if np.isfinite(v) else "—" for v in t["current_spend"]],
            "reachable": reach,
            "return per 1 spent": ret,
            "meets ROI target": meets,
        },
        index=t.index,
    )
    return out


def fig_target_plan(plan: TargetPlan, currency: str = "EUR") -> Figure:
    """Two panels: the reverse funnel the target needs (all channels, tapered, drop-off % between stages), and per
    paid channel the spend it needs against this quarter's spend and the reachable limit (× marks a channel that
    cannot get there within the limit)."""
    fig, (a1, a2) = plots.new_figure(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.4]})
    tot = plan.total
    plots.funnel(a1, ["leads", "MQLs", "SQLs", "customers"], [tot["leads"], tot["mql"], tot["sql"], tot["customers"]])
    a1.set_title("What the target needs (all channels)", loc="left", fontsize=10)
    t = plan.table.loc[plan.table["paid"].astype(bool)].drop(index="Total (paid)", errors="ignore")
    y = np.arange(len(t))[::-1]
    cur, lim = t["current_spend"].to_numpy(float), t["spend_limit"].to_numpy(float)
    need = t["spend"].to_numpy(float)
    ok = t["reachable"].to_numpy(bool)
    shown = np.where(ok, need, lim)
    a2.barh(y + 0.2, cur, height=0.4, color=COLORS["light"], label="this quarter's spend")
    a2.barh(y - 0.2, shown, height=0.4, color=np.where(ok, COLORS["accent"], COLORS["misses"]), label="spend needed")
    a2.plot(lim, y, "|", color=COLORS["strong"], markersize=14, label=f"{plan.limit:g}× this quarter's spend")
    for yi, good, x in zip(y, ok, shown):
        if not good:
            a2.text(x, yi - 0.2, "  not reachable", va="center", fontsize=8, color=COLORS["misses"])
    a2.set_yticks(y, list(t.index))
    a2.set_xlabel(f"{currency} per quarter")
    plots.thousands_axis(a2, "x")
    a2.xaxis.set_major_locator(MaxNLocator(5))
    a2.set_xlim(0, 1.3 * max(float(np.nanmax(np.concatenate([cur, lim, shown]))) if len(t) else 1.0, 1.0))
    a2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8, frameon=False)
    a2.set_title("Spend needed by paid channel", loc="left", fontsize=10)
    fig.suptitle(story.target_title(plan), x=0.01, ha="left", fontsize=11)
    return fig


def parse_amount(value: str) -> float | None:
    """An amount as a person types it, or as :func:`amount_input` shows it: ``"12,000"``, ``"12000"``,
    ``"12 000"``, ``"EUR 12,000"``, ``"12,000.50"`` → a float; None when it is not an amount.

    >>> parse_amount("EUR 1,250,000")
    1250000.0
    """
    import re

    s = re.sub(r"[A-Za-z€$£\s,_']", "", str(value))
    try:
        x = float(s)
    except ValueError:
        return None
    return x if np.isfinite(x) and x >= 0 else None


def amount_input(slider):
    """A money slider with a text box beside it that shows the value as ``12,000`` and accepts what it shows
    (:func:`parse_amount`; an entry that is not an amount puts back the slider's value). The slider's own
    readout is off: it would show ``12,000`` but read ``12`` back."""
    import ipywidgets as w

    box = w.Text(value=f"{slider.value:,.0f}", continuous_update=False, layout=w.Layout(width="130px"))
    box.add_class("amount-input")

    def from_slider(change) -> None:
        box.value = f"{change['new']:,.0f}"

    def from_box(change) -> None:
        x = parse_amount(change["new"])
        if x is None:
            box.value = f"{slider.value:,.0f}"
            return
        if x > slider.max:
            slider.max = x
        slider.value = x
        box.value = f"{slider.value:,.0f}"

    slider.observe(from_slider, names="value")
    box.observe(from_box, names="value")
    return w.HBox([slider, box])


def target_widget(model: PlanModel, target: float, quarter: str = "", delay: pd.DataFrame | None = None):
    """The live notebook's target planner: a slider (with a text box) for next quarter's revenue target in the
    currency per quarter; the plan's table (:func:`target_display`), sentences (:func:`story.target_sentences`) and
    chart (:func:`fig_target_plan`) follow every move (:func:`target.target_plan`, :func:`target.target_reps`)."""
    import ipywidgets as w
    from IPython.display import display

    step = max(round(target / 100, -3), 1000.0)
    slider = w.FloatSlider(
        value=round(target, -3),
        min=0.0,
        max=round(target * 3, -3),
        step=step,
        description=f"revenue target, {model.currency} per quarter",
        readout=False,
        continuous_update=False,
        style={"description_width": "260px"},
        layout=w.Layout(width="620px"),
    )
    table_out = w.HTML()
    table_out.add_class("target-plan")
    chart_out = w.Output()

    def update(_=None) -> None:
        t0 = time.perf_counter()
        plan = target_plan(model, slider.value, quarter)
        reps = target_reps(model, plan)
        ms = (time.perf_counter() - t0) * 1000
        stated = story.target_label(slider.value, "quarter", model.currency)
        sent = story.target_sentences(plan, reps, model, stated, delay)
        table_out.value = (
            target_display(plan, model.currency).to_html(classes="target")
            + "<ul>"
            + "".join(f"<li>{text.safe_markdown(x)}</li>" for x in sent)
            + "</ul>"
            + f"<small>recomputed in {ms:.0f} ms ({model.n_draws:,} draws)</small>"
        )
        with chart_out:
            chart_out.clear_output(wait=True)
            display(fig_target_plan(plan, model.currency))

    slider.observe(update, names="value")
    update()
    return w.VBox([amount_input(slider), table_out, chart_out])
