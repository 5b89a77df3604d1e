"""Data coverage: what the data covers in time and which stages it records, computed once by the loader.

The report may only say what the data supports. This module answers, for a validated data folder:

* **extraction date** — ``extracted_at`` in ``audit.yaml`` when set (it wins), else the latest timestamp in
  any table that is not after today (a record dated in the future cannot date the export);
* **windows** — per table and per date column: the first and last value, how many rows have one, so an
  outcome column that starts later than the leads (won dates only from December, leads from June) is known;
* **stages recorded** — a lead stage is *dated* when its ``<stage>_at`` column has at least one value,
  *undated* when only ``stage_reached`` says a lead got there, and *not recorded* otherwise;
* **quarter completeness** — a quarter is complete when the **leads** cover it: the first lead is no later
  than ``COMPLETE_TOLERANCE_DAYS`` after its start, the last lead no earlier than that before its end, and
  the extraction date is not before its end minus that tolerance. The latest complete quarter is the last
  such quarter (not the orders' last quarter, not the extraction date's).

Example::

    >>> cov = coverage_of(tables, cfg)          # doctest: +SKIP
    >>> cov.stage_status("sal")                 # "dated" | "undated" | "not recorded"
    >>> cov.is_complete(parse_quarter("2018Q2"))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesaudit.data.contract import COLUMNS, STAGE_REACHED_VALUES
from salesaudit.periods import COMPLETE_TOLERANCE_DAYS, parse_quarter, quarter_of, quarters_between

#: lead stage → its date column in ``leads``
STAGE_COLUMNS: dict[str, str] = {"mql": "mql_at", "sal": "sal_at", "sql": "sql_at", "customer": "customer_at"}
STAGE_NAMES: dict[str, str] = {"lead": "lead", "mql": "MQL", "sal": "SAL", "sql": "SQL", "customer": "customer"}

WINDOW_COLUMNS = ["table", "column", "first", "last", "rows", "filled"]


def _date_columns(table: str, df: pd.DataFrame) -> list[str]:
    kinds = {c.name: c.kind for c in COLUMNS.get(table, [])}
    return [
        c for c in df.columns if kinds.get(c) in ("timestamp", "month") and pd.api.types.is_datetime64_any_dtype(df[c])
    ]


def _date_series(tables: dict[str, pd.DataFrame]):
    """``(table, column, series)`` for every contract date column of the tables given, in contract order."""
    for t in COLUMNS:
        df = tables.get(t)
        if df is not None:
            for c in _date_columns(t, df):
                yield t, c, df[c]


def windows(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per table and contract date column: first and last value, rows, rows with a value.

    ``first = min(column)``, ``last = max(column)`` over non-missing values (NaT when the column is empty).
    """
    rows = []
    for t, c, s in _date_series(tables):
        rows.append(
            {
                "table": t,
                "column": c,
                "first": s.min(),
                "last": s.max(),
                "rows": len(s),
                "filled": int(s.notna().sum()),
            }
        )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in WINDOW_COLUMNS})
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS)


def extraction_date(
    tables: dict[str, pd.DataFrame], configured: Any = None, today: pd.Timestamp | None = None
) -> tuple[pd.Timestamp | None, str]:
    """``(date, source)``: ``extracted_at`` from audit.yaml when given, else the latest timestamp ≤ today.

    extracted = max{t : t in any contract date column of any table, t ≤ today}. It is the *instant* of
    extraction: records at or before it are genuine, records after it are "after the extraction date".
    ``None`` when no table holds a date up to today and none is configured.
    """
    if configured not in (None, ""):
        return pd.Timestamp(configured), "extracted_at in audit.yaml"
    today = pd.Timestamp.now().normalize() + pd.Timedelta(days=1) if today is None else pd.Timestamp(today)
    best, where = None, ""
    for t, c, s in _date_series(tables):
        v = s[s <= today].max()
        if pd.notna(v) and (best is None or v > best):
            best, where = pd.Timestamp(v), f"{t}.{c}"
    if best is None:
        return None, "no dates up to today in the data"
    return best, f"the latest date in the data, {where}"


@dataclass(frozen=True)
class Coverage:
    """What the data covers: extraction date, date windows and recorded stages."""

    extracted_at: pd.Timestamp | None
    extracted_source: str
    windows: pd.DataFrame
    stages: dict[str, str] = field(default_factory=dict)
    n_leads: int = 0
    fy_start_month: int = 1

    # ---- windows -------------------------------------------------------------------------------
    def window(self, table: str, column: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """``(first, last)`` of a date column, or None when it is absent or empty."""
        w = self.windows[(self.windows["table"] == table) & (self.windows["column"] == column)]
        if w.empty or pd.isna(w["first"].iloc[0]):
            return None
        return pd.Timestamp(w["first"].iloc[0]), pd.Timestamp(w["last"].iloc[0])

    def filled(self, table: str, column: str) -> int:
        w = self.windows[(self.windows["table"] == table) & (self.windows["column"] == column)]
        return 0 if w.empty else int(w["filled"].iloc[0])

    @property
    def leads_dated(self) -> bool:
        """True when at least one lead has a creation date."""
        return self.window("leads", "created_at") is not None

    @property
    def leads_window(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        return self.window("leads", "created_at")

    # ---- stages --------------------------------------------------------------------------------
    def stage_status(self, stage: str) -> str:
        """``dated`` (its date column has values), ``undated`` (only ``stage_reached``) or ``not recorded``."""
        if stage == "lead":
            return "dated" if self.leads_dated else "undated"
        return self.stages.get(stage, "not recorded")

    def recorded(self, stage: str) -> bool:
        return self.stage_status(stage) != "not recorded"

    def dated(self, stage: str) -> bool:
        return self.stage_status(stage) == "dated"

    def dated_stages(self) -> list[str]:
        """The stages after lead whose date column has values anywhere in the leads (funnel order)."""
        return [s for s in STAGE_COLUMNS if self.dated(s)]

    def not_recorded(self) -> list[str]:
        return [s for s in STAGE_COLUMNS if not self.recorded(s)]

    # ---- quarters ------------------------------------------------------------------------------
    def is_complete(self, q: Any) -> bool:
        """True when the leads cover quarter ``q`` to within the tolerance at both ends and the data was
        extracted after it (less the tolerance)."""
        w = self.leads_window
        if w is None:
            return False
        tol = pd.Timedelta(days=COMPLETE_TOLERANCE_DAYS)
        first, last = w
        ext = self.extracted_at if self.extracted_at is not None else last
        return bool(first <= q.start + tol and last >= q.end - tol and ext >= q.end - tol)

    def observed_until(self, q: Any) -> pd.Timestamp:
        """The as-of cut-off for auditing ``q``: its end, unless the data was extracted before that (less the
        completeness tolerance) — then the day after the extraction date."""
        tol = pd.Timedelta(days=COMPLETE_TOLERANCE_DAYS)
        if self.extracted_at is None or self.extracted_at >= q.end - tol:
            return q.end
        return max(q.start, self.extracted_at.normalize() + pd.Timedelta(days=1))

    def latest_complete_quarter(self) -> Any:
        """The last quarter the leads cover to within the tolerance of its end (None when none is)."""
        w = self.leads_window
        if w is None:
            return None
        q = quarter_of(w[1], self.fy_start_month)
        for _ in range(2):
            if self.is_complete(q):
                return q
            q = q.previous()
        return None

    def complete_quarters(self) -> list[Any]:
        """Every quarter the leads cover from start to end, oldest first."""
        last = self.latest_complete_quarter()
        w = self.leads_window
        if last is None or w is None:
            return []
        q0 = quarter_of(w[0], self.fy_start_month)
        if not self.is_complete(q0):
            q0 = q0.next()
        return [q for q in quarters_between(q0, last) if self.is_complete(q)]

    def partial_reason(self, q: Any) -> str | None:
        """One sentence on why quarter ``q`` is partial, or None when it is complete."""
        if self.is_complete(q):
            return None
        w = self.leads_window
        if w is None:
            return "the leads have no creation dates, so no quarter can be audited in time"
        first, last = w
        if last < q.end - pd.Timedelta(days=1):
            if last < q.start:
                return f"the leads end on {last:%Y-%m-%d}, before {q.label} starts"
            return f"the leads end on {last:%Y-%m-%d}, before {q.label} ends on {q.end - pd.Timedelta(days=1):%Y-%m-%d}"
        if first > q.start:
            return f"the leads start on {first:%Y-%m-%d}, after {q.label} begins"
        return f"the data was extracted on {self.extracted_at:%Y-%m-%d}, before {q.label} ends"

    # ---- text ----------------------------------------------------------------------------------
    def sentences(self) -> list[str]:
        """What the data covers, in plain sentences (cover page and step 04)."""
        out = []
        if self.extracted_at is not None:
            out.append(f"Data extracted on {self.extracted_at:%Y-%m-%d} ({self.extracted_source}).")
        else:
            out.append("The data holds no dates, so its extraction date is unknown (set `extracted_at` in audit.yaml).")
        w = self.leads_window
        if w is not None and w[0].normalize() == w[1].normalize():
            out.append(f"Leads are dated on {w[0]:%Y-%m-%d} only.")
        elif w is not None:
            out.append(f"Leads are dated from {w[0]:%Y-%m-%d} to {w[1]:%Y-%m-%d}.")
        else:
            out.append(
                "Leads carry no creation date: this is an undated snapshot, so time-based sections need dates and are skipped."
            )
        dated = [STAGE_NAMES[s] for s in STAGE_COLUMNS if self.stage_status(s) == "dated"]
        undated = [STAGE_NAMES[s] for s in STAGE_COLUMNS if self.stage_status(s) == "undated"]
        missing = [STAGE_NAMES[s] for s in STAGE_COLUMNS if self.stage_status(s) == "not recorded"]
        if dated:
            out.append(f"Stages with dates: {', '.join(dated)}.")
        if undated:
            out.append(f"Stages known without dates (stage reached): {', '.join(undated)}.")
        if missing:
            out.append(
                f"Stages not in the data: {', '.join(missing)} — their counts, rates and times are not measured."
            )
        if w is not None:
            late = []
            for _, r in self.windows.iterrows():
                if r["table"] == "leads" and r["column"] in STAGE_COLUMNS.values() and pd.notna(r["first"]):
                    if r["first"] > w[0] + pd.Timedelta(days=30):
                        late.append(f"{r['column']} only from {r['first']:%Y-%m-%d}")
            if late:
                out.append(f"Outcome dates start later than the leads: {'; '.join(late)}.")
        return out

    def table(self) -> pd.DataFrame:
        """The windows as a display table (dates as text, empty columns said so)."""
        df = self.windows.copy()
        if df.empty:
            return pd.DataFrame(columns=["table", "column", "first", "last", "rows with a date"])

        def fmt(s: pd.Series) -> pd.Series:
            return s.map(lambda v: "—" if pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}")

        return pd.DataFrame(
            {
                "table": df["table"],
                "column": df["column"],
                "first": fmt(df["first"]),
                "last": fmt(df["last"]),
                "rows with a date": [f"{f:,} of {r:,}" for f, r in zip(df["filled"], df["rows"])],
            }
        )

    def to_dict(self) -> dict:
        def iso(v: Any) -> str | None:
            return None if v is None or pd.isna(v) else pd.Timestamp(v).isoformat()

        return {
            "extracted_at": iso(self.extracted_at),
            "extracted_source": self.extracted_source,
            "stages": dict(self.stages),
            "n_leads": self.n_leads,
            "fy_start_month": self.fy_start_month,
            "windows": [
                {
                    **{k: r[k] for k in ("table", "column")},
                    "first": iso(r["first"]),
                    "last": iso(r["last"]),
                    "rows": int(r["rows"]),
                    "filled": int(r["filled"]),
                }
                for _, r in self.windows.iterrows()
            ],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Coverage:
        win = pd.DataFrame(d.get("windows") or [], columns=WINDOW_COLUMNS)
        for c in ("first", "last"):
            win[c] = pd.to_datetime(win[c])
        ext = d.get("extracted_at")
        return cls(
            pd.Timestamp(ext) if ext else None,
            d.get("extracted_source", ""),
            win,
            dict(d.get("stages") or {}),
            int(d.get("n_leads", 0)),
            int(d.get("fy_start_month", 1)),
        )


def stage_statuses(leads: pd.DataFrame) -> dict[str, str]:
    """Per stage: ``dated`` when its date column has a value, ``undated`` when some lead's ``stage_reached``
    *is* that stage, else ``not recorded``.

    A stage no lead stands at is not in the data even when leads stand beyond it: an export whose leads are
    either ``lead`` or ``customer`` (a phone campaign's outcome) records no MQL, SAL or SQL stage, and none is
    derived from the customers (the skipped-stage rule applies to leads, among the recorded stages).
    """
    out = {}
    present = set(leads["stage_reached"].dropna().unique()) if "stage_reached" in leads.columns else set()
    for s, col in STAGE_COLUMNS.items():
        if col in leads.columns and leads[col].notna().any():
            out[s] = "dated"
        elif s in present:
            out[s] = "undated"
        else:
            out[s] = "not recorded"
    return out


def _whole_data_dates(
    win: pd.DataFrame, ext: Any, source: str, whole: dict, configured: Any
) -> tuple[pd.DataFrame, Any, str]:
    """The leads' creation window and the extraction date of the data a slice was cut from (``slice_of`` in the
    slice folder's settings, written by :func:`salesaudit.data.slices.write_slice_folder`): whether a quarter
    is complete is a property of the export, not of the slice (a product's leads may stop weeks before the
    export does)."""
    first, last = (pd.Timestamp(whole[k]) if whole.get(k) else None for k in ("leads_first", "leads_last"))
    at = (win["table"] == "leads") & (win["column"] == "created_at")
    if first is not None and last is not None and at.any():
        win = win.copy()
        win.loc[at, "first"], win.loc[at, "last"] = first, last
    if configured in (None, "") and whole.get("extracted_at"):
        ext, source = pd.Timestamp(whole["extracted_at"]), str(whole.get("extracted_source") or source)
    return win, ext, source


def coverage_of(tables: dict[str, pd.DataFrame], cfg: Any, today: pd.Timestamp | None = None) -> Coverage:
    """The :class:`Coverage` of validated tables under the settings ``cfg`` (``extracted_at`` wins)."""
    win = windows(tables)
    configured = getattr(cfg, "extra", {}).get("extracted_at") if cfg is not None else None
    ext, source = extraction_date(tables, configured, today)
    whole = getattr(cfg, "extra", {}).get("slice_of") if cfg is not None else None
    if isinstance(whole, dict):  # a slice's folder: the export's dates are the whole data's
        win, ext, source = _whole_data_dates(win, ext, source, whole, configured)
    leads = tables.get("leads", pd.DataFrame())
    return Coverage(
        ext,
        source,
        win,
        stage_statuses(leads) if len(leads.columns) else {},
        int(len(leads)),
        int(getattr(cfg, "fiscal_year_start_month", 1) or 1),
    )


def reached_mask(leads: pd.DataFrame, stage: str) -> pd.Series:
    """True where a lead reached ``stage``: its date column has a value (a later stage's date counts, by the
    skipped-stage rule) or ``stage_reached`` is at or beyond it. Only stages the data records can be reached.

    reached(s) = any(date(t) for t ≥ s among recorded date columns) ∨ (stage_reached ≥ s)
    """
    order = list(STAGE_REACHED_VALUES)
    k = order.index(stage)
    out = pd.Series(False, index=leads.index)
    for s in order[k:]:
        col = STAGE_COLUMNS.get(s)
        if col and col in leads.columns:
            out |= leads[col].notna()
    if "stage_reached" in leads.columns:
        idx = leads["stage_reached"].map({s: i for i, s in enumerate(order)})
        out |= (idx >= k).fillna(False).to_numpy(bool)
    if stage == "lead":
        out[:] = True
    return out.astype(bool)


__all__ = [
    "COMPLETE_TOLERANCE_DAYS",
    "Coverage",
    "STAGE_COLUMNS",
    "coverage_of",
    "extraction_date",
    "quarter_statuses",
    "reached_mask",
    "stage_statuses",
    "windows",
]


QUARTER_COLUMNS = ["quarter", "start", "end", "status", "latest", "reason"]


def quarter_statuses(cov: Coverage) -> pd.DataFrame:
    """Every quarter from the first lead's to the last lead's, oldest first: ``quarter`` (label), ``start``,
    ``end`` (last day, inclusive), ``status`` (``complete`` per :meth:`Coverage.is_complete`, else
    ``partial``), ``latest`` (True for the quarter ``report --quarter latest`` audits, :func:`audit_quarter`)
    and ``reason`` (:meth:`Coverage.partial_reason`; empty when complete). No rows for undated leads.
    """
    w = cov.leads_window
    if w is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in QUARTER_COLUMNS})
    latest = audit_quarter(cov, "latest")
    rows = []
    for q in quarters_between(quarter_of(w[0], cov.fy_start_month), quarter_of(w[1], cov.fy_start_month)):
        complete = cov.is_complete(q)
        rows.append(
            {
                "quarter": q.label,
                "start": q.start,
                "end": q.end - pd.Timedelta(days=1),
                "status": "complete" if complete else "partial",
                "latest": q == latest,
                "reason": "" if complete else (cov.partial_reason(q) or ""),
            }
        )
    return pd.DataFrame(rows, columns=QUARTER_COLUMNS)


def audit_quarter(cov: Coverage, label: str | None) -> Any:
    """The quarter to audit: ``"latest"``/None → the latest complete quarter of the leads; when the leads
    cover no quarter completely, the quarter of the last lead (built, but partial); for an undated snapshot
    the quarter of the extraction date (or of today). Any other label is parsed as given (and may be partial).
    """
    fy = cov.fy_start_month
    if label not in (None, "", "latest"):
        return parse_quarter(label, fy)
    q = cov.latest_complete_quarter()
    if q is not None:
        return q
    w = cov.leads_window
    if w is not None:
        return quarter_of(w[1], fy)
    return quarter_of(cov.extracted_at if cov.extracted_at is not None else pd.Timestamp.now(), fy)
