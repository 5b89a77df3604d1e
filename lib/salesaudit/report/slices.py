"""Slice comparison for the executive summary: the headline figures of each slice against the rest of the company.

The slice reports (``reports/<Q>/<slice>/summary.json``, built by ``report --slices``) carry the same recorded
figures as the full audit, each with its ``n`` and, where the step recorded one, its interval. Nothing here
computes a metric from the data.

"Differs from the rest beyond the noise" (90% intervals, as the quarter-over-quarter rule of
:mod:`salesaudit.report.summary`):

* shares (unit ``%``, recorded with ``n``): the slice (k₁ = value × n₁ of n₁) against the rest of the company
  (k₀ = k − k₁ of n₀ = n − n₁, from the full audit's figure), Newcombe's interval of the difference of two
  proportions (:func:`salesaudit.stats.diff_interval`); the slice differs when that interval excludes 0;
* other figures with an interval recorded for the slice and the full audit: the MOVER interval of the
  slice's value minus the full audit's (Zou & Donner 2008), which treats the two as independent and so is
  wider than the truth (the slice is part of the whole): a flag is conservative;
* either side with fewer than :data:`salesaudit.stats.MIN_CLAIM_N` cases: it cannot be told;
* totals (leads, customers, revenue, …) depend on the slice's size and are shown without a verdict.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from salesaudit import stats, text
from salesaudit.claims import n_is
from salesaudit.report import summary as summ

#: headline figures that are totals: they grow with the slice, so no slice "differs" in them
TOTALS = ("leads", "mql", "sql", "customers", "won_revenue", "forecast_revenue_next")
#: the totals the comparison shows (the slice's size, for context); the others are left out of its table
TOTALS_SHOWN = ("leads", "customers", "won_revenue")


def read_slice_reports(slices_path: str | Path | None, quarter: str | None = None) -> list[dict]:
    """The slice reports' ``summary.json`` documents listed in ``slices_path`` (a JSON list of paths the report
    runner writes); [] when empty, ``"none"`` or missing. A listed file that cannot be read, is not a slice's,
    or (with ``quarter``) audits another quarter is skipped."""
    if not slices_path or str(slices_path) == "none" or not Path(slices_path).is_file():
        return []
    docs = []
    for p in json.loads(Path(slices_path).read_text(encoding="utf-8")):
        try:
            doc = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("slice"), dict):
            if quarter is None or doc.get("quarter") == quarter:
                docs.append(doc)
    return docs


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or math.isnan(float(x)):
        return None
    return float(x)


def compare_one(whole: dict | None, part: dict | None, level: float = stats.DEFAULT_LEVEL) -> dict:
    """One figure of one slice (``part``) against the rest of the company (``whole`` is the full audit's payload).

    Returns ``{"diff", "lo", "hi", "differs", "method"}``: ``diff`` = slice − rest (shares) or slice − whole
    (other figures); ``differs`` True/False when the interval excludes/contains 0, None when it cannot be told.
    """
    out: dict[str, Any] = {"diff": None, "lo": None, "hi": None, "differs": None, "method": "no data"}
    whole, part = whole or {}, part or {}
    v, v1 = _num(whole.get("value")), _num(part.get("value"))
    if v is None or v1 is None:
        return out
    n, n1 = _num(whole.get("n")), _num(part.get("n"))
    unit = part.get("unit") or whole.get("unit") or ""
    share = unit == "%" and part.get("proportion", True) is not False and n is not None and n1 is not None
    if share and n1 >= n:  # n is not a count of the slice's cases (e.g. backtest quarters): no complement
        share = False
    if share:
        n0 = n - n1
        if n1 < stats.MIN_CLAIM_N or n0 < stats.MIN_CLAIM_N:
            out["method"] = f"cannot be told ({n_is(min(n1, n0))} < {stats.MIN_CLAIM_N})"
            return out
        k1, k0 = v1 * n1, max(v * n - v1 * n1, 0.0)
        d, lo, hi = (float(x) for x in stats.diff_interval(k1, n1, k0, n0, level))
        out.update(diff=d, method="Newcombe, slice against the rest")
    else:
        if n1 is not None and n1 < stats.MIN_CLAIM_N:
            out["method"] = f"cannot be told ({n_is(n1)} < {stats.MIN_CLAIM_N})"
            return out
        vals = [_num(part.get("lo")), _num(part.get("hi")), _num(whole.get("lo")), _num(whole.get("hi"))]
        if any(x is None for x in vals):
            out["method"] = "no interval recorded"
            return out
        d = v1 - v
        lo = d - math.sqrt((v1 - vals[0]) ** 2 + (vals[3] - v) ** 2)
        hi = d + math.sqrt((vals[1] - v1) ** 2 + (v - vals[2]) ** 2)
        out.update(diff=d, method="MOVER, slice against the whole")
    if not (math.isnan(lo) or math.isnan(hi)):
        out.update(lo=lo, hi=hi, differs=bool(lo > 0 or hi < 0))
    return out


def comparison(current: dict[str, dict], slice_docs: list[dict]) -> pd.DataFrame:
    """One row per (headline figure, slice): the slice's value, interval and n, the difference from the rest
    with its interval, and the verdict (rules in the module docstring). ``current`` is the full audit's flat
    figures (:func:`salesaudit.report.summary.flatten`)."""
    rows = []
    for name, label, _hib in summ.HEADLINE:
        if name in TOTALS and name not in TOTALS_SHOWN:
            continue
        whole = current.get(name)
        for doc in slice_docs:
            part = summ.flatten(doc.get("figures") or {}).get(name)
            if not whole and not part:
                continue
            p = part or {}
            c = (
                {"diff": None, "lo": None, "hi": None, "differs": None, "method": "a total: grows with the slice"}
                if name in TOTALS
                else compare_one(whole, part)
            )
            rows.append(
                {
                    "name": name,
                    "label": label,
                    "slice": str(doc["slice"].get("label", "")),
                    "unit": p.get("unit") or (whole or {}).get("unit", ""),
                    "value": _num(p.get("value")),
                    "value_lo": _num(p.get("lo")),
                    "value_hi": _num(p.get("hi")),
                    "n": _num(p.get("n")),
                    "whole": _num((whole or {}).get("value")),
                    **c,
                }
            )
    cols = ["name", "label", "slice", "unit", "value", "value_lo", "value_hi", "n", "whole", "diff", "lo", "hi"]
    return pd.DataFrame(rows, columns=cols + ["differs", "method"])


def _verdict(r: dict) -> str:
    if r["differs"] is True:
        return "higher than the rest, beyond the noise" if r["diff"] > 0 else "lower than the rest, beyond the noise"
    if r["differs"] is False:
        return "within the noise"
    return str(r["method"])


def comparison_display(table: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """The comparison as the report shows it: figure, slice, value (90% interval), n, whole company, verdict."""
    out = []
    for r in table.to_dict("records"):
        unit = r["unit"]
        value = summ.fmt_value(r["value"], unit, currency)
        if r["value_lo"] is not None and r["value_hi"] is not None and not pd.isna(r["value_lo"]):
            lo, hi = (summ.fmt_value(r[k], unit, currency) for k in ("value_lo", "value_hi"))
            value += f" ({lo} to {hi})"
        n = "" if r["n"] is None or pd.isna(r["n"]) else n_is(r["n"])  # "n = 240": a flag shows its sample
        row = {"Figure": r["label"], "Slice": r["slice"], "Slice's value (90% interval)": value, "n": n}
        row["Whole company"] = summ.fmt_value(r["whole"], unit, currency)
        row["Verdict"] = _verdict(r)
        out.append(row)
    cols = ["Figure", "Slice", "Slice's value (90% interval)", "n", "Whole company", "Verdict"]
    return pd.DataFrame(out, columns=cols).set_index("Figure")


def comparison_sentences(table: pd.DataFrame, currency: str = "EUR") -> list[str]:
    """The sentences under the table: each slice figure beyond the noise (with n and the interval of the
    difference), then how many could not be told; one sentence when no slices were built."""
    if table.empty:
        return [
            "No slices were built for this report: list them under `slices:` in audit.yaml and build with "
            "`--slices` (`make quarterly-report SLICES=1`) to compare them here."
        ]
    out = []
    for r in table[table["differs"] == True].to_dict("records"):  # noqa: E712
        unit = r["unit"]
        diff = summ.fmt_change(r["diff"], unit, currency)
        lo, hi = (summ.fmt_change(r[k], unit, currency) for k in ("lo", "hi"))
        way = "above" if r["diff"] > 0 else "below"
        out.append(
            f"{text.md_escape(r['slice'])}: {r['label'].lower()} {summ.fmt_value(r['value'], unit, currency)} "
            f"({n_is(r['n'])}) is {way} the rest of the company beyond the noise (difference {diff}, "
            f"90% interval {lo} to {hi})."
        )
    if not out:
        out.append("No slice's headline figure differs from the rest of the company by more than the noise.")
    small = int(table["method"].astype(str).str.startswith("cannot be told").sum())
    if small:
        out.append(
            f"{small} figure(s) could not be told apart from the rest: fewer than {stats.MIN_CLAIM_N} cases "
            "in the slice or in the rest."
        )
    return out


def scope_sentences(slice_label: str, previous_quarter: str) -> list[str]:
    """For a slice report: the sentence saying that every figure and the comparison with ``previous_quarter``
    are within the slice ([] for the full audit)."""
    if not slice_label:
        return []
    return [
        f"This report audits the slice {text.md_escape(slice_label)} only: every figure above, and the comparison "
        f"with {previous_quarter}, is within that slice (the previous quarter is the same slice's)."
    ]
