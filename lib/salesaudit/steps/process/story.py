"""Step 01 · words: chart titles, "What this means" sentences, findings and the payloads of the recorded
figures, built from the results of :mod:`.metrics`. Strings, lists, dicts and findings
(:class:`salesaudit.findings.Finding`, without a section: the notebook places them with ``in_section``) out;
no charts.

Every data-derived word reaches the reader through ``text.what_this_means`` / ``text.note`` (one escape).
The ``*_figures`` functions return the keyword arguments of ``record.record`` per figure name (``value``
included), so the notebook records each figure in one line: ``rec.record("leads", **figs["leads"])``.
"""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd

from salesaudit import stats, text
from salesaudit.claims import n_is
from salesaudit.findings import Finding
from salesaudit.periods import Quarter
from salesaudit.steps.process.metrics import (
    HORIZON_DAYS,
    STAGES,
    STEPS,
    WINDOW_DAYS,
    cohort_figure,
    downstream_conversion,
    largest_loss,
    rate_figure,
    step_entry_leads,
    step_key,
)

STAGE_LABELS: dict[str, str] = {"lead": "Lead", "mql": "MQL", "sal": "SAL", "sql": "SQL", "customer": "Customer"}
FLOW_FIGURES = {
    "mql": ("mql", "New MQLs in the quarter"),
    "sal": ("sal", "New SALs in the quarter"),
    "sql": ("sql", "New SQLs in the quarter"),
    "customer": ("customers", "New customers in the quarter"),
}


def step_label(step: str) -> str:
    """``"mql_sal"`` → ``"MQL → SAL"``."""
    a, b = step.split("_")
    return f"{STAGE_LABELS[a]} → {STAGE_LABELS[b]}"


def cohort_words(mature: list[Quarter]) -> str:
    """Axis label naming the cohorts the channel rates come from (or the undated snapshot)."""
    if not mature:
        return "Funnel step (every lead as exported: an undated snapshot)"
    return f"Funnel step (cohorts {mature[0].label}–{mature[-1].label})"


def pct(x, d: int = 0) -> str:
    """A share as a percentage: 0.234 → ``23%`` (``d`` decimals); missing → ``n/a``."""
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * float(x):.{d}f}%"


def _iv(lo, hi, d: int = 0) -> str:
    return f"90% interval {pct(lo, d)}–{pct(hi, d)}"


def spct(x, digits: int = 0) -> str:
    """A signed relative change: 0.123 → ``+12%``; missing → ``n/a``."""
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * float(x):+.{digits}f}%"


# --------------------------------------------------------------------------------------------------
# lead volume
# --------------------------------------------------------------------------------------------------
def volume_title(cmp: pd.DataFrame, quarter: Quarter, partial: str | None = None) -> str:
    """Chart title from the numbers: total leads this quarter and the change on the previous four
    (``partial``: why the quarter is not complete — then no change is given)."""
    tot = cmp.set_index("channel").loc["total"]
    if partial:
        return f"{quarter.label} (partial): {text.num(tot['now'])} leads so far — not compared with full quarters"
    if not tot["ref_mean"] > 0:
        return f"{quarter.label}: {text.num(tot['now'])} leads (no earlier quarters to compare against)"
    if tot["ref_mean"] < stats.MIN_BASE_N:
        return f"{quarter.label}: {text.num(tot['now'])} leads, {text.change_pct(tot['now'], tot['ref_mean'])} on the previous four quarters' average"
    return (
        f"{quarter.label}: {text.num(tot['now'])} leads, {spct(tot['change'])} on the previous four quarters' average"
    )


def volume_sentences(cmp: pd.DataFrame, ts: dict, quarter: Quarter, partial: str | None = None) -> list[str]:
    """ "What this means" sentences for lead volume, built from :func:`volume_comparison` and
    :func:`trend_seasonality`. ``partial`` (why the audited quarter is not complete) suppresses every
    comparison of its totals: a part of a quarter against whole quarters is no verdict."""
    c = cmp.set_index("channel")
    tot = c.loc["total"]
    real = tot["lo"] > 0 or tot["hi"] < 0
    if partial:
        out = [
            f"{quarter.label} is a partial quarter ({partial}): its {text.num(tot['now'])} leads so far are not "
            "compared with whole quarters, so no better-or-worse verdict is drawn from them."
        ]
        if not np.isnan(ts["growth_per_year"]):
            out.append(f"The trend over the last {ts['months']} months is {spct(ts['growth_per_year'])} a year.")
        return out
    if not tot["ref_mean"] > 0:
        out = [
            f"{quarter.label} brought {text.num(tot['now'])} leads; the data has no leads in the previous "
            "four quarters, so there is nothing to compare this quarter against."
        ]
    elif tot["ref_mean"] < stats.MIN_BASE_N:
        out = [
            f"{quarter.label} brought {text.num(tot['now'])} leads against an average of "
            f"{text.num(tot['ref_mean'])} in the previous four quarters — too few before to give the change as a "
            "percentage."
        ]
    else:
        out = [
            f"{quarter.label} brought {text.num(tot['now'])} leads against an average of "
            f"{text.num(tot['ref_mean'])} in the previous four quarters: {spct(tot['change'])} (90% interval "
            f"{spct(tot['lo'])} to {spct(tot['hi'])}), "
            + (f"a change beyond the noise ({n_is(tot['now'])} leads)." if real else "within the noise.")
        ]
    if not np.isnan(tot["yoy"]):
        if tot["last_year"] >= stats.MIN_BASE_N:
            out.append(
                f"Against the same quarter last year ({text.num(tot['last_year'])} leads), volume is "
                f"{spct(tot['yoy'])} — this comparison is free of seasonality."
            )
        else:
            out.append(
                f"The same quarter last year had only {text.num(tot['last_year'])} leads, too few to give the "
                "year-on-year change as a percentage."
            )
    if not np.isnan(ts["growth_per_year"]):
        out.append(f"The trend over the last {ts['months']} months is {spct(ts['growth_per_year'])} a year.")
    idx = ts["index"]
    if len(idx):
        hi_m, lo_m = int(idx.idxmax()), int(idx.idxmin())
        out.append(
            f"Seasonality: {calendar.month_name[hi_m]} is typically the busiest month "
            f"({spct(idx[hi_m] - 1)} against trend) and {calendar.month_name[lo_m]} "
            f"the quietest ({spct(idx[lo_m] - 1)})."
        )
    ch = c.drop(index="total")
    if len(ch) < 2:  # one channel: its change is the total's, said above
        return out
    real = ch[((ch["lo"] > 0) | (ch["hi"] < 0)) & np.isfinite(ch["change"]) & (ch["ref_mean"] >= stats.MIN_BASE_N)]
    if not (ch["ref_mean"] > 0).any():
        pass
    elif len(real):
        up = real["change"].idxmax()
        down = real["change"].idxmin()
        if real.loc[up, "change"] > 0:
            out.append(
                f"Biggest rise: {up} ({text.num(ch.loc[up, 'now'])} leads, "
                f"{spct(ch.loc[up, 'change'])} on its four-quarter average)."
            )
        if real.loc[down, "change"] < 0:
            out.append(f"Biggest fall: {down} ({text.num(ch.loc[down, 'now'])} leads, {spct(ch.loc[down, 'change'])}).")
    else:
        out.append("No channel's volume moved by more than the noise against its four-quarter average.")
    return out


# --------------------------------------------------------------------------------------------------
# the funnel
# --------------------------------------------------------------------------------------------------
def funnel_title(ftab: pd.DataFrame, quarter: Quarter) -> str:
    """Chart title from the numbers: leads and customers in the quarter."""
    f = ftab.set_index("stage")
    last = f.index[-1]
    if last == "lead":
        return f"{quarter.label}: {f.loc['lead', 'flow']:,} new leads (no later stage is in the data)"
    noun = "new customers" if last == "customer" else f"new {STAGE_LABELS[last]}s"
    return f"{quarter.label}: {f.loc['lead', 'flow']:,} new leads, {f.loc[last, 'flow']:,} {noun} (flow) — the cohort is still open"


def funnel_sentences(
    ftab: pd.DataFrame, cwin: pd.DataFrame, quarter: Quarter, window: int = WINDOW_DAYS, v2l: pd.DataFrame | None = None
) -> list[str]:
    """Sentences for the funnel section from :func:`funnel_table`, :func:`cohort_window_table` and
    (optionally) :func:`visit_to_lead`."""
    f = ftab.set_index("stage")
    out = [
        "Flow (stage entries dated in the quarter, whichever quarter the lead came from): "
        + ", ".join(f"{f.loc[s, 'flow']:,} {STAGE_LABELS[s] if s != 'lead' else 'leads'}" for s in f.index)
        + "."
    ]
    missing = [STAGE_LABELS[s] for s in STAGES if s not in f.index]
    if missing:
        out.append(
            f"Not in the data: {', '.join(missing)} — the export records no such dates, so these stages are "
            "not counted and no step is derived from a later stage."
        )
    parts = []
    first = next((s for s in f.index if s != "lead"), None)
    if first is not None:
        parts.append(f"{pct(f.loc[first, 'cum'])} reached {STAGE_LABELS[first]}")
    if "customer" in f.index:
        parts.append(f"{f.loc['customer', 'cohort']:,} are customers already")
    reached_txt = (" and ".join(parts) + "; ") if parts else ""
    out.append(
        f"Cohort (the {f.loc['lead', 'cohort']:,} leads created in {quarter.label}, seen at the quarter end): "
        f"{reached_txt}{int(f['open'].sum()):,} are still open — counted as censored, not lost."
    )
    w = cwin[cwin["stage"] == "customer"]
    obs = w[(w["method"] == "observed") & w["conv"].notna()]  # cohorts without leads have no rate
    km = w[(w["method"] == "km") & (w["cohort"] == quarter.label)]
    if len(obs):
        lo_c, hi_c = pct(obs["conv"].min(), 1), pct(obs["conv"].max(), 1)
        share = lo_c if lo_c == hi_c else f"{lo_c}–{hi_c}"
        out.append(
            f"Within {window} days of creation, the cohorts old enough to judge turned {share} of their leads into customers."
        )
    if len(km) and not km.iloc[0]["k"] > 0:
        out.append(
            f"None of {quarter.label}'s own cohort ({int(km.iloc[0]['n']):,} leads, not yet {window} days old) "
            "has become a customer yet, so its conversion cannot be estimated."
        )
    elif len(km):
        r = km.iloc[0]
        out.append(
            f"For {quarter.label}'s own cohort, not yet {window} days old, the Kaplan–Meier estimate is "
            f"{pct(r['conv'], 1)} ({_iv(r['lo'], r['hi'], 1)})."
        )
    if v2l is not None and len(v2l):
        v = v2l.set_index("channel")
        ch = v.drop(index="all", errors="ignore")
        s = f"Visitors → leads: {pct(v.loc['all', 'rate'], 2)} of {v.loc['all', 'visits']:,.0f} website visits became leads"
        ext = stats.extremes(ch.reset_index(), n="visits") if len(ch) > 1 else None
        if ext is not None:
            b, w = ext
            s += (
                f"; highest {b['channel']} ({pct(b['rate'], 2)}, {n_is(b['visits'])} visits), "
                f"lowest {w['channel']} ({pct(w['rate'], 2)}, {n_is(w['visits'])} visits)"
            )
        elif len(ch) > 1:
            s += "; no channel's rate stands out from the others beyond the noise"
        out.append(s + ".")
    return out


def stage_figures(ftab: pd.DataFrame) -> list[tuple[str, int, str]]:
    """``(figure name, flow count, label)`` for each recorded stage after lead (a stage the data does not
    record has no figure: it is not in the data, not zero)."""
    f = ftab.set_index("stage")
    return [(FLOW_FIGURES[s][0], int(f.loc[s, "flow"]), FLOW_FIGURES[s][1]) for s in f.index if s in FLOW_FIGURES]


# --------------------------------------------------------------------------------------------------
# conversion by channel
# --------------------------------------------------------------------------------------------------
def channel_title(rates: pd.DataFrame) -> str:
    """Heat-map title from the numbers: best and worst channel lead → customer."""
    lc = rates[(rates["step"] == "lead_customer") & (rates["group"] != "all")]
    if not (rates["n"] > 0).any():
        return "Stage conversion by channel: no leads in the mature cohorts yet"
    ext = stats.extremes(lc) if len(lc) >= 2 else None
    if ext is None:
        return "Stage conversion by channel: no channel stands out beyond the noise"
    b, w = ext
    if w["rate"] > 0:
        return f"{b['group']} turns leads into customers {b['rate'] / w['rate']:.1f}× as often as {w['group']}"
    return f"{b['group']} turns {pct(b['rate'], 1)} of leads into customers; {w['group']} none of {w['n']:,}"


def channel_sentences(rates: pd.DataFrame, gaps: pd.DataFrame, quarters: list[Quarter]) -> list[str]:
    """Sentences for the channel heat map (mature cohorts)."""
    span = f"{quarters[0].label}–{quarters[-1].label}" if quarters else "mature cohorts"
    final = "lead_customer" if "lead_customer" in set(rates["step"]) else None
    if final is None:  # no customer stage: judge channels on the last recorded step from lead
        steps = sorted(set(rates["step"]), key=step_key)
        final = steps[-1] if steps else None
    lc = rates[rates["step"] == final].set_index("group")
    ch = lc.drop(index="all", errors="ignore")
    end = STAGE_LABELS[final.split("_")[1]] if final else "a later stage"
    if "all" not in lc.index or not lc.loc["all", "n"] > 0:
        return [
            f"No leads were created {span} (the mature cohorts), so conversion by channel cannot be measured "
            "yet: audit a later quarter once the data covers these cohorts."
        ]
    if quarters:
        out = [
            f"Rates are for leads created {span}, old enough that almost all of their outcomes are known; "
            f"overall {pct(lc.loc['all', 'rate'], 1)} of leads reached {end} ({_iv(lc.loc['all', 'lo'], lc.loc['all', 'hi'], 1)})."
        ]
    else:
        out = [
            f"The data is an undated snapshot: rates count every lead as exported ({n_is(lc.loc['all', 'n'])}), "
            f"including leads still open, so they understate what recent leads will reach; overall "
            f"{pct(lc.loc['all', 'rate'], 1)} of leads reached {end} ({_iv(lc.loc['all', 'lo'], lc.loc['all', 'hi'], 1)})."
        ]
    ext = stats.extremes(ch.reset_index()) if len(ch) >= 2 else None
    if ext is not None:
        b, w = ext
        out.append(
            f"Best channel: {b['group']} ({pct(b['rate'], 1)}, {_iv(b['lo'], b['hi'], 1)}, {n_is(b['n'])}); "
            f"weakest: {w['group']} ({pct(w['rate'], 1)}, {_iv(w['lo'], w['hi'], 1)}, {n_is(w['n'])})."
        )
    elif len(ch) >= 2:
        small = int((ch["n"] < stats.MIN_CLAIM_N).sum())
        extra = (
            f" ({small} channel{'s' if small != 1 else ''} with fewer than {stats.MIN_CLAIM_N} leads left out)"
            if small
            else ""
        )
        out.append(f"No channel's lead → {end} rate stands out from the others beyond the noise{extra}.")
    real = gaps[gaps["real"] & (gaps["n"] >= stats.MIN_CLAIM_N)]
    if gaps.empty:
        return out
    if len(real):
        worst = real.loc[real["gap"].idxmin()]
        out.append(
            f"The largest shortfall against the other channels: {worst['group']} at {step_label(worst['step'])} "
            f"({pct(worst['rate'])} vs {pct(worst['others'])}, {n_is(worst['n'])}). "
            f"{len(real)} of {len(gaps)} channel × step rates differ from the other channels by more than the noise."
        )
    else:
        out.append("No channel's step rate differs from the other channels by more than the noise.")
    return out


def channel_finding(
    gaps: pd.DataFrame,
    rates: pd.DataFrame,
    deal_value: float,
    dates: pd.DataFrame | None = None,
    quarter: Quarter | None = None,
) -> Finding | None:
    """The channel step that costs most: among the channel × step rates below the other channels (interval
    excluding 0), the one with the largest impact = entries this quarter × (others − rate) × P(customer |
    next stage) × average deal value. A :class:`~salesaudit.findings.Finding` (no section) or None; with
    ``dates`` and ``quarter`` its evidence is the channel's entries of the quarter
    (:func:`.metrics.step_entry_leads`), whose number the sentence states."""
    g = gaps[gaps["real"] & (gaps["gap"] < 0)].copy()
    if g.empty or "entered_now" not in g.columns:
        return None
    nxt = {st: st.split("_")[1] for st in g["step"]}
    g["down"] = [downstream_conversion(rates, nxt[s]) for s in g["step"]]
    value = deal_value if np.isfinite(deal_value) else 0.0
    g["customers_lost"] = g["entered_now"].fillna(0) * (-g["gap"]) * g["down"]
    g["impact"] = g["customers_lost"] * value
    top = g.loc[g["customers_lost"].idxmax()]
    txt = (
        f"{top['group']} leads convert {step_label(top['step'])} at {pct(top['rate'])} against "
        f"{pct(top['others'])} for the other channels ({-100 * top['gap']:.0f} points lower, 90% interval "
        f"{-100 * top['gap_hi']:.0f}–{-100 * top['gap_lo']:.0f} points); at the others' rate this quarter's "
        f"{int(top['entered_now']):,} entries would have brought about {top['customers_lost']:.0f} more customers."
    )
    rows = (
        step_entry_leads(dates, quarter.start, quarter.end, top["step"], group=top["group"])
        if dates is not None and quarter is not None
        else None
    )
    basis = (
        "entries this quarter × rate gap × later-stage conversion (mature cohorts) × average won deal"
        if value
        else "no deal values in the data: impact not valued"
    )
    return Finding(
        f"channel_{top['group']}_{top['step']}",
        txt,
        float(top["impact"]),
        recommendation=f"Review how {top['group']} leads are qualified and handed over at {step_label(top['step'])}.",
        basis=basis,
        evidence=rows,
    )


# --------------------------------------------------------------------------------------------------
# time to customer
# --------------------------------------------------------------------------------------------------
def time_title(med: pd.DataFrame) -> str:
    """KM chart title from the numbers."""
    m = med[(med["stage"] == "customer")].set_index("channel")
    if "all" not in m.index or not np.isfinite(m.loc["all", "median_days"]):
        return "Time from lead to customer (open leads censored)"
    ch = m.drop(index="all").reset_index()
    s = f"Half of the leads that convert are customers within {m.loc['all', 'median_days']:.0f} days"
    ext = stats.extremes(ch, value="median_days", n="reached") if len(ch) >= 2 else None
    if ext is not None:
        slow, fast = ext
        s += f"; {fast['channel']} fastest ({fast['median_days']:.0f}), {slow['channel']} slowest ({slow['median_days']:.0f})"
    return s


def time_sentences(
    med: pd.DataFrame, created_from: pd.Timestamp, as_of: pd.Timestamp, horizon: float = HORIZON_DAYS
) -> list[str]:
    """Sentences for the time-to-customer section from :func:`median_days_table`."""
    m = med.set_index(["channel", "stage"])
    out = []
    if ("all", "customer") in m.index:
        a = m.loc[("all", "customer")]
        out.append(
            f"Of the leads created from {created_from:%Y-%m-%d} to {as_of - pd.Timedelta(days=1):%Y-%m-%d}, "
            f"{int(a['reached']):,} became customers so far; the Kaplan–Meier estimate is that "
            f"{pct(a['conv_horizon'], 1)} do so within {horizon:.0f} days (open leads censored, not dropped)."
        )
        if np.isfinite(a["median_days"]):
            iv = (
                f"approx. 90% interval {a['lo']:.0f}–{a['hi']:.0f}"
                if np.isfinite(a["lo"]) and np.isfinite(a["hi"])
                else "too few customers to put an interval on it"
            )
            out.append(
                f"Among those that convert within {horizon:.0f} days, half take up to "
                f"{a['median_days']:.0f} days ({iv})."
            )
    stages = med[med["channel"] == "all"].set_index("stage")["median_days"]
    if stages.notna().sum() >= 2:
        parts = [f"{STAGE_LABELS[s]} {v:.0f} d" for s, v in stages.items()]
        out.append("Median days from creation to each stage (among leads reaching it): " + ", ".join(parts) + ".")
        gaps = stages.diff().fillna(stages)
        slow = gaps.idxmax()
        order = ["lead"] + list(stages.index)
        i = order.index(slow)
        out.append(
            f"The longest wait is from {STAGE_LABELS[order[i - 1]]} to {STAGE_LABELS[slow]}: about "
            f"{gaps[slow]:.0f} of the {stages.max():.0f} median days to the last stage."
        )
    return out


# --------------------------------------------------------------------------------------------------
# where leads fall through
# --------------------------------------------------------------------------------------------------
def loss_title(loss: pd.DataFrame) -> str:
    """Loss chart title from the numbers."""
    ll = largest_loss(loss)
    if ll["worsened"] is not None:
        w = ll["worsened"]
        return f"{step_label(w['step'])} loses {100 * w['change']:.0f} points more than in the previous four quarters"
    if ll["largest"] is not None:
        return f"Largest loss at {step_label(ll['largest']['step'])}; no step worse than usual beyond the noise"
    if not (loss["entered_now"] > 0).any():
        return "Loss at each step: no channel has entries in both periods to compare"
    return "Loss at each step"


def loss_sentences(loss: pd.DataFrame, quarter: Quarter, window: int = WINDOW_DAYS) -> list[str]:
    """Sentences for the "where leads fall through" section from :func:`loss_comparison`."""
    ll = largest_loss(loss)
    out = []
    if not (loss["entered_now"] > 0).any():
        out.append(
            f"No step of {quarter.label} can be compared with the previous four quarters: no channel has "
            "entries in both periods (for example, the data starts in this quarter), so there is no baseline."
        )
    if ll["largest"] is not None:
        r = ll["largest"]
        out.append(
            f"The largest loss in {quarter.label} is {step_label(r['step'])}: {pct(r['loss_now'])} of the "
            f"{r['entered_now']:,} entries did not move on within {window} days "
            f"(previous four quarters at this quarter's channel mix: {pct(r['loss_prev'])})."
        )
    for _, r in loss.iterrows():  # four steps
        if not np.isfinite(r["change"]):
            continue
        verdict = "a real change" if r["real"] else "within the noise"
        out.append(
            f"{step_label(r['step'])}: loss {pct(r['loss_now'])} vs {pct(r['loss_prev'])}, "
            f"{100 * r['change']:+.1f} pp (90% interval {100 * r['change_lo']:+.1f} to {100 * r['change_hi']:+.1f}) — {verdict}."
        )
    out.append(
        f"Entries late in the quarter have not had {window} days yet; they are censored (Kaplan–Meier), "
        "so the loss is not overstated by leads that are simply still open. Both periods are compared "
        "channel by channel at this quarter's mix, so a shift in the mix is not read as a leak; "
        "channels without history (new this quarter) are left out of the comparison."
    )
    return out


def loss_finding(
    loss: pd.DataFrame,
    rates: pd.DataFrame,
    deal_value: float,
    quarter: Quarter,
    dates: pd.DataFrame | None = None,
    n_prev: int = 4,
) -> Finding:
    """Finding for the step that got worse: impact = entries this quarter × change in loss × P(customer |
    next stage) (mature cohorts) × average deal value; with ``dates``, its evidence is those entries
    (:func:`.metrics.step_entry_leads` on the channels :func:`.metrics.loss_comparison` compared, over
    ``n_prev`` previous quarters). When no step worsened beyond the noise, a finding saying so with impact 0
    (no records behind it)."""
    ll = largest_loss(loss)
    nxt = {st: st.split("_")[1] for st in loss["step"]}
    w = ll["worsened"]
    value = deal_value if np.isfinite(deal_value) else 0.0
    if w is None:
        r = ll["largest"] or {"step": loss["step"].iloc[0] if len(loss) else STEPS[0], "loss_now": np.nan}
        return Finding(
            "funnel_no_new_leak",
            f"No funnel step lost more leads in {quarter.label} than in the previous four quarters beyond "
            f"the noise; the largest loss remains {step_label(r['step'])} ({pct(r['loss_now'])}).",
            0.0,
            recommendation="Keep monitoring; no step needs urgent action.",
            basis="no change larger than its 90% interval",
        )
    down = downstream_conversion(rates, nxt[w["step"]]) if rates is not None else np.nan
    if not np.isfinite(down):
        down, value = 0.0, 0.0
    lost = w["entered_now"] * w["change"] * down
    rows = (
        step_entry_leads(dates, quarter.start, quarter.end, w["step"], known_since=quarter.previous(n_prev).start)
        if dates is not None
        else None
    )
    return Finding(
        f"funnel_leak_{w['step']}",
        f"{step_label(w['step'])} lost {pct(w['loss_now'])} of its {w['entered_now']:,} entries in "
        f"{quarter.label} against {pct(w['loss_prev'])} in the previous four quarters at the same channel mix "
        f"({100 * w['change']:+.0f} pp, 90% interval "
        f"{100 * w['change_lo']:+.0f} to {100 * w['change_hi']:+.0f}): about {lost:.0f} customers fewer.",
        float(lost * value),
        recommendation=f"Find out what changed at {step_label(w['step'])} this quarter (hand-over, capacity, "
        "qualification rules) and fix it.",
        basis=(
            "entries × change in loss × later-stage conversion (mature cohorts) × average won deal"
            if value
            else "no deal values in the data: impact not valued"
        ),
        evidence=rows,
    )


# --------------------------------------------------------------------------------------------------
# the recorded figures: ``record.record`` keyword arguments per figure name
# --------------------------------------------------------------------------------------------------
def volume_figures(cmp: pd.DataFrame, ts: dict, section: str, partial: str | None = None) -> dict[str, dict]:
    """``leads`` (this quarter's count), ``leads_vs_prev4`` (change on the previous four quarters' average
    with its interval, :func:`.metrics.volume_comparison`; None for a partial quarter) and
    ``leads_growth_per_year`` (:func:`.metrics.trend_seasonality`)."""
    tot = cmp.set_index("channel").loc["total"]
    return {
        "leads": dict(
            value=int(tot["now"]),
            label="New leads in the quarter",
            unit="count",
            section=section,
            higher_is_better=True,
            partial=bool(partial),
        ),
        "leads_vs_prev4": dict(
            value=None if partial else tot["change"],
            label="New leads vs the previous four quarters' average",
            unit="%",
            lo=tot["lo"],
            hi=tot["hi"],
            n=int(tot["now"]),
            section=section,
            higher_is_better=True,
        ),
        "leads_growth_per_year": dict(
            value=ts["growth_per_year"],
            label="Lead volume trend per year",
            unit="%",
            n=ts["months"],
            section=section,
            higher_is_better=True,
        ),
    }


def flow_figures(ftab: pd.DataFrame, section: str, partial: str | None = None) -> list[dict]:
    """The flow count of each recorded stage after lead (:func:`stage_figures`) as a list for
    ``record.record_many``: ``mql``, ``sal``, ``sql``, ``customers`` — a stage the data does not record has no
    figure."""
    return [
        dict(
            name=name,
            value=value,
            label=label,
            unit="count",
            section=section,
            higher_is_better=True,
            partial=bool(partial),
        )
        for name, value, label in stage_figures(ftab)
    ]


def funnel_figures(cwin: pd.DataFrame, v2l: pd.DataFrame | None, quarter: Quarter, section: str) -> dict[str, dict]:
    """``lead_to_customer_90d`` (the quarter's own cohort reaching customer within 90 days,
    :func:`.metrics.cohort_figure`) and ``visit_to_lead_rate`` (all channels of
    :func:`.metrics.visit_to_lead`; None without traffic)."""
    now90 = cohort_figure(cwin, quarter)
    v = v2l.set_index("channel").loc["all"] if v2l is not None and len(v2l) else None
    return {
        "lead_to_customer_90d": dict(
            value=now90.get("conv"),
            label="Leads becoming customers within 90 days (this cohort, KM)",
            unit="%",
            lo=now90.get("lo"),
            hi=now90.get("hi"),
            n=now90.get("n"),
            section=section,
            higher_is_better=True,
        ),
        "visit_to_lead_rate": dict(
            value=None if v is None else v["rate"],
            label="Website visits becoming leads",
            unit="%",
            lo=None if v is None else v["lo"],
            hi=None if v is None else v["hi"],
            n=None if v is None else v["visits"],
            section=section,
            higher_is_better=True,
        ),
    }


def channel_figures(rates: pd.DataFrame, mature: list[Quarter], section: str) -> dict[str, dict]:
    """``cohort_lead_to_customer_rate``: lead → customer of the mature cohorts, all channels
    (:func:`.metrics.rate_figure`), with the cohorts it comes from (:func:`cohort_words`)."""
    lc = rate_figure(rates, "lead_customer")
    return {
        "cohort_lead_to_customer_rate": dict(
            value=lc.get("rate"),
            label="Leads becoming customers (mature cohorts)",
            unit="%",
            lo=lc.get("lo"),
            hi=lc.get("hi"),
            n=lc.get("n"),
            section=section,
            higher_is_better=True,
            cohorts=cohort_words(mature),
        )
    }


def time_figures(med: pd.DataFrame, section: str) -> dict[str, dict]:
    """``median_days_to_customer``: all channels' median days from lead to customer with its interval
    (:func:`.metrics.median_days_table`)."""
    m = med[(med["channel"] == "all") & (med["stage"] == "customer")].iloc[0]
    return {
        "median_days_to_customer": dict(
            value=m["median_days"],
            label="Median days from lead to customer",
            unit="days",
            lo=m["lo"],
            hi=m["hi"],
            n=int(m["reached"]),
            section=section,
            higher_is_better=False,
        )
    }


def loss_figures(loss: pd.DataFrame, section: str) -> dict[str, dict]:
    """``largest_loss_rate`` (the step losing most this quarter) and ``worst_step_change`` (the largest rise
    in a step's loss beyond the noise; 0 when none), from :func:`.metrics.largest_loss`."""
    ll = largest_loss(loss)
    big = ll["largest"] or {}
    w = ll["worsened"] or {}
    return {
        "largest_loss_rate": dict(
            value=big.get("loss_now"),
            label=f"Largest step loss ({step_label(big['step']) if big else 'none'})",
            unit="%",
            lo=big.get("loss_now_lo"),
            hi=big.get("loss_now_hi"),
            n=big.get("entered_now"),
            section=section,
            higher_is_better=False,
            step=big.get("step"),
        ),
        "worst_step_change": dict(
            value=w.get("change", 0.0),
            label="Largest rise in a step's loss vs the previous four quarters",
            unit="%",
            lo=w.get("change_lo"),
            hi=w.get("change_hi"),
            n=w.get("entered_now"),
            section=section,
            higher_is_better=False,
            step=w.get("step"),
        ),
    }
