"""Loading: read CSV/Parquet → coerce types → validate lazily → cache validated Parquet.

``load(data_dir)`` returns an :class:`AuditData` whose tables follow the contract
(:mod:`salesaudit.data.contract`) and whose ``findings`` table lists every problem found:

* ``severity == "error"``: the data cannot be audited (missing required column, unparseable date,
  duplicate id, negative money, out-of-range score …). ``load`` raises :class:`DataContractError`
  with one line per problem, unless ``strict=False``.
* ``severity == "warning"``: kept for the data-quality audit (stage dates out of order, broken
  foreign keys, channel spellings outside the canonical list, unknown opportunity stages).

Row numbers in messages are spreadsheet rows: the header is row 1, the first data row is row 2
(for Parquet files, the first row is row 1).

Validated tables are cached as Parquet under ``.cache/salesaudit/<key>/`` in the project (or
``$SALESAUDIT_CACHE``), keyed by the SHA-256 of the raw files, the config and the contract version,
so the notebooks of one report do not re-parse CSV. Raw files are only ever read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from salesaudit.config import PROJECT_ROOT, AuditConfig, canonical_token, load_config, resolve_data_dir
from salesaudit.data.contract import (
    FOREIGN_KEYS,
    COLUMNS,
    ID_COLUMNS,
    LEAD_STAGE_COLUMNS,
    MODELS,
    REQUIRED_TABLES,
    TABLES,
)
from salesaudit.data.coverage import Coverage, coverage_of
from salesaudit.errors import DataContractError
from salesaudit.data.dates import naive_ns, parse_date_text, to_datetime_safe
from salesaudit.errors import not_a_file

log = logging.getLogger(__name__)

CONTRACT_VERSION = "5"  # bump when the loaded tables change shape (invalidates caches)
MAX_ROWS_SHOWN = 5
FINDING_COLUMNS = ["table", "file", "column", "check", "severity", "count", "rows", "message"]
_MEMO: dict[tuple[str, str], AuditData] = {}


@dataclass
class AuditData:
    """The validated tables of one data folder, its settings and the loader's findings."""

    data_dir: Path
    config: AuditConfig
    tables: dict[str, pd.DataFrame]
    findings: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)
    cache_key: str = ""
    coverage: Coverage | None = None

    def __getattr__(self, name: str) -> pd.DataFrame | None:
        if name in TABLES:
            return self.tables.get(name)
        raise AttributeError(name)

    def has(self, table: str) -> bool:
        """True when ``table`` was provided and has at least one row."""
        df = self.tables.get(table)
        return df is not None and len(df) > 0

    def missing(self) -> list[str]:
        """Optional tables that were not provided (or are empty)."""
        return [t for t in TABLES if not self.has(t)]

    def errors(self) -> pd.DataFrame:
        return self.findings[self.findings["severity"] == "error"]

    def warnings(self) -> pd.DataFrame:
        return self.findings[self.findings["severity"] == "warning"]

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Earliest and latest lead creation time."""
        c = self.tables["leads"]["created_at"]
        return c.min(), c.max()

    def summary(self) -> pd.DataFrame:
        """One row per table: rows, columns, file (or 'absent')."""
        rows = []
        for t in TABLES:
            df = self.tables.get(t)
            rows.append(
                {
                    "table": t,
                    "file": self.files.get(t, "absent"),
                    "rows": 0 if df is None else len(df),
                    "columns": 0 if df is None else df.shape[1],
                    "warnings": int(self.findings.loc[self.findings["table"] == t, "count"].sum()),
                }
            )
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# findings
# --------------------------------------------------------------------------------------------------
def _rows_text(rows: np.ndarray | list[int]) -> str:
    rows = list(rows)
    shown = ", ".join(str(int(r)) for r in rows[:MAX_ROWS_SHOWN])
    more = f", … {len(rows) - MAX_ROWS_SHOWN} more" if len(rows) > MAX_ROWS_SHOWN else ""
    return shown + more


def _finding(
    table: str,
    file: str,
    column: str,
    check: str,
    severity: str,
    rows: Any,
    what: str,
    count: int | None = None,
) -> dict:
    rows = [] if rows is None else list(rows)
    n = len(rows) if count is None else count
    noun = "row" if n == 1 else "rows"
    where = f" ({noun} {_rows_text(rows)})" if rows else ""
    col = f"column {column}: " if column else ""
    message = f"{file}: {col}{n} {noun} {what}{where}" if n else f"{file}: {col}{what}"
    return {
        "table": table,
        "file": file,
        "column": column,
        "check": check,
        "severity": severity,
        "count": int(n),
        "rows": _rows_text(rows),
        "message": message,
    }


def _empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "count" else "object") for c in FINDING_COLUMNS})


# --------------------------------------------------------------------------------------------------
# reading and coercion
# --------------------------------------------------------------------------------------------------
FORMATS = (".parquet", ".csv")


def find_files(data_dir: Path, file_format: str | None = None) -> dict[str, Path]:
    """``{table: path}`` for each table file present.

    A table given both as CSV and as Parquet is refused (one of them is stale; which one the user edited last
    cannot be known) unless ``file_format`` (``csv`` or ``parquet``, the ``file_format`` setting) says which
    to read. Anything that is not a regular file (a folder named ``leads.csv``, a FIFO that would block
    forever) is refused before it is opened.
    """
    out: dict[str, Path] = {}
    problems: list[str] = []
    for t in TABLES:
        present = [data_dir / f"{t}{ext}" for ext in FORMATS if (data_dir / f"{t}{ext}").exists()]
        if file_format:
            present = [p for p in present if p.suffix == f".{file_format}"]
        if len(present) > 1:
            problems.append(
                f"{t}.csv and {t}.parquet: both present; delete the stale one or set file_format: csv "
                f"(or parquet) in audit.yaml"
            )
            continue
        if present:
            kind = not_a_file(present[0])
            if kind:
                problems.append(f"{present[0].name}: is {kind}, not a file")
                continue
            out[t] = present[0]
    if problems:
        raise DataContractError("\n".join(problems))
    return out


def _header_of(path: Path) -> list[str]:
    """The column names exactly as stored (before pandas renames a repeated ``a`` to ``a.1``)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20)
    text = first.decode("utf-8-sig", errors="replace")
    return next(csv.reader([text]), [])


def _header_problems(path: Path, names: list[str]) -> list[str]:
    """Repeated and near-repeated column names, and the hint for a file that is not comma-separated.

    Two names that are equal after trimming spaces and ignoring case (``channel`` and ``channel ``,
    ``Created_At`` and ``created_at``) would make one of the columns silently win.
    """
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names, start=1):
        key = str(name).strip().casefold()
        if key in seen:
            j = seen[key]
            same = f"both named {name!r}" if names[j - 1] == name else f"named alike ({names[j - 1]!r}, {name!r})"
            out.append(f"{path.name}: columns {j} and {i} are {same}; keep one, the audit cannot tell which is right")
        else:
            seen[key] = i
    if path.suffix == ".csv" and len(names) == 1:
        for sep, label in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
            if sep in names[0]:
                out.append(
                    f"{path.name}: the whole header is one column ({names[0][:60]!r}); the file is separated by "
                    f"{label}, not commas; save it as comma-separated CSV or import it with a mapping "
                    f"(delimiter is detected there)"
                )
                break
    return out


def _read_raw(path: Path) -> pd.DataFrame:
    try:
        empty = path.stat().st_size == 0
        names = [] if empty else _header_of(path)
    except (UnicodeDecodeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise DataContractError(f"{path.name}: cannot be read ({first[:200]})") from None
    if empty:
        raise DataContractError(f"{path.name}: the file is empty (not even a header)")
    problems = _header_problems(path, names)
    if problems:
        raise DataContractError("\n".join(problems))
    try:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
            return df.astype({c: "string" for c in df.columns if df[c].dtype == object})
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
        except Exception:  # pyarrow is stricter about ragged lines; the C engine reports better
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise DataContractError(f"{path.name}: cannot be read ({first[:200]})") from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.replace({"": None})
    return df


def read_raw(path: Path) -> pd.DataFrame:
    """One table file as stored, before coercion (CSV cells as text, blank = None; column names stripped);
    an unreadable file raises :class:`DataContractError` in one line. The slices cut their data folders
    from it (:mod:`salesaudit.data.slices`)."""
    return _read_raw(path)


def _row_numbers(path: Path, mask: np.ndarray) -> np.ndarray:
    offset = 2 if path.suffix == ".csv" else 1
    return np.flatnonzero(mask) + offset


def _to_text(s: pd.Series) -> pd.Series:
    out = s.astype("string").str.strip()
    return out.mask(out == "")


def _parse_timestamps(s: pd.Series, file: str = "") -> pd.Series:
    """ISO 8601 first; other numeric dates in ONE order per column, decided by their values.

    A value with a first field > 12 (``20/10/2017``) makes the column day-first, one with a second field
    > 12 month-first (rule and examples: :mod:`salesaudit.data.dates`). A column with both, or whose non-ISO
    dates are all ambiguous (``01/02/2018``), raises :class:`DataContractError`: a data folder has no
    mapping to declare the order, so the user writes ISO dates or imports with ``dayfirst:``.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
        text = _to_text(s)
        out = to_datetime_safe(text, format="ISO8601")
        bad = (out.isna() & text.notna()).to_numpy(bool)
        if bad.any():
            where = f"{file + ': ' if file else ''}column {s.name}"
            rest = text[bad].set_axis(np.flatnonzero(bad) + 2)  # spreadsheet rows of a CSV
            retry = parse_date_text(
                rest,
                where,
                hint="write the dates as ISO YYYY-MM-DD, or import the export with a mapping that sets 'dayfirst:'",
            )
            out = out.copy()
            out[bad] = retry.to_numpy()
    return naive_ns(out)


def _parse_numbers(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    return pd.to_numeric(_to_text(s), errors="coerce").astype("float64")


_TRUE = {"true", "1", "yes", "y", "t", "won", "x"}
_FALSE = {"false", "0", "no", "n", "f", "lost"}


def parse_bool(s: pd.Series) -> pd.Series:
    """true/false, 1/0, yes/no, y/n, t/f, won/lost, x → nullable boolean; anything else → missing."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    t = _to_text(s).str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[t.isin(_TRUE).fillna(False).to_numpy(bool)] = True
    out[t.isin(_FALSE).fillna(False).to_numpy(bool)] = False
    return out


EARLIEST_DATE = pd.Timestamp("1990-01-01")


def date_window(cfg: AuditConfig | None, today: pd.Timestamp | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The plausible span of every date in the data: ``earliest_date`` to ``latest_date`` (audit.yaml).

    Defaults: 1990-01-01 to the extraction date + 1 year (the extraction date is ``extracted_at`` when set,
    else today). A lead dated 1900 or 2100 is a typo or a placeholder; accepted, it would make the latest
    quarter 2099Q4.
    """
    extra = cfg.extra if cfg is not None else {}
    lo = pd.Timestamp(extra["earliest_date"]) if extra.get("earliest_date") is not None else EARLIEST_DATE
    if extra.get("latest_date") is not None:
        hi = pd.Timestamp(extra["latest_date"])
    else:
        base = pd.Timestamp(extra["extracted_at"]) if extra.get("extracted_at") is not None else today
        base = (base if base is not None else pd.Timestamp.today()).normalize()
        hi = base + pd.DateOffset(years=1)
    return lo, hi


def _examples(values: pd.Series, n: int = 3) -> str:
    """Up to ``n`` distinct values, quoted and cut to 20 characters (for a message)."""
    shown = [repr(str(v)[:20]) for v in pd.unique(values.dropna().astype(str))[:n]]
    return ", ".join(shown)


def coerce_table(
    table: str, raw: pd.DataFrame, path: Path, window: tuple[pd.Timestamp, pd.Timestamp] | None = None
) -> tuple[pd.DataFrame, list[dict]]:
    """Coerce the columns of one raw table to their contract types.

    Returns the typed frame and error findings for missing required columns, empty required cells,
    values that do not parse as their type (with examples) and dates outside ``window`` (:func:`date_window`).
    """
    file = path.name
    findings: list[dict] = []
    df = raw.copy()
    for col in COLUMNS[table]:
        if col.name not in df.columns:
            if col.required:
                findings.append(
                    _finding(
                        table, file, col.name, "column_present", "error", [], "required column is missing", count=0
                    )
                )
            continue
        s = df[col.name]
        present = _to_text(s).notna() if not pd.api.types.is_datetime64_any_dtype(s) else s.notna()
        if col.kind == "timestamp" or col.kind == "month":
            parsed = _parse_timestamps(s, file)
            bad = (parsed.isna() & present).to_numpy(bool)
            if bad.any():
                what = f"not a date (e.g. {_examples(s[bad])})"
                findings.append(_finding(table, file, col.name, "parse_date", "error", _row_numbers(path, bad), what))
            if window is not None:
                lo, hi = window
                odd = (parsed.notna() & ((parsed < lo) | (parsed > hi))).to_numpy(bool)
                if odd.any():
                    what = (
                        f"outside the plausible dates {lo:%Y-%m-%d} to {hi:%Y-%m-%d} (e.g. {_examples(s[odd])}); "
                        f"fix them, or set earliest_date / latest_date in audit.yaml if they are real"
                    )
                    findings.append(
                        _finding(table, file, col.name, "date_window", "error", _row_numbers(path, odd), what)
                    )
            if col.kind == "month":
                parsed = parsed.dt.to_period("M").dt.to_timestamp()
            df[col.name] = parsed
        elif col.kind in ("money", "float", "int"):
            parsed = _parse_numbers(s)
            bad = (parsed.isna() & present).to_numpy(bool)
            if bad.any():
                findings.append(
                    _finding(table, file, col.name, "parse_number", "error", _row_numbers(path, bad), "not a number")
                )
            df[col.name] = parsed
        elif col.kind == "bool":
            parsed = parse_bool(s)
            bad = (parsed.isna() & present).to_numpy(bool)
            if bad.any():
                findings.append(
                    _finding(table, file, col.name, "parse_bool", "error", _row_numbers(path, bad), "not true/false")
                )
            df[col.name] = parsed
        else:
            df[col.name] = _to_text(s).astype(object).where(lambda x: x.notna(), None)
        if col.required:
            empty = df[col.name].isna().to_numpy(bool) & ~present.to_numpy(bool)
            if empty.any():
                findings.append(
                    _finding(table, file, col.name, "not_null", "error", _row_numbers(path, empty), "empty (required)")
                )
    return df, findings


def _complete_leads(df: pd.DataFrame) -> pd.DataFrame:
    """An undated snapshot gets an empty ``created_at`` (never an invented date); ``stage_reached`` is lower-cased."""
    out = df
    if "created_at" not in out.columns:
        out = out.assign(created_at=pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]"))
    if "stage_reached" in out.columns:
        sr = out["stage_reached"]
        out = out.assign(stage_reached=sr.where(sr.isna(), sr.astype(str).str.strip().str.lower()))
    return out


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------
_CHECK_TEXT = {
    "field_uniqueness": "duplicate id",
    "not_nullable": "empty (required)",
    "greater_than_or_equal_to": "below the minimum",
    "less_than_or_equal_to": "above the maximum",
    "isin": "not an allowed value",
}


def validate_table(table: str, df: pd.DataFrame, path: Path) -> list[dict]:
    """Run the table's pandera model lazily and turn its failure cases into one finding per check."""
    model = MODELS[table]
    present = [c.name for c in COLUMNS[table] if c.name in df.columns]
    typed = df.copy()
    for c in COLUMNS[table]:
        if c.name in typed.columns and c.kind in ("id", "text"):
            typed[c.name] = typed[c.name].astype(object).where(typed[c.name].notna(), None)
    # rows with unparseable required values were reported by coerce_table: do not report twice
    typed = typed.reset_index(drop=True)
    try:
        model.validate(typed[present + [c for c in typed.columns if c not in present]], lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _failures_to_findings(table, exc.failure_cases, path, typed)
    return []


def _failures_to_findings(table: str, fc: pd.DataFrame, path: Path, df: pd.DataFrame) -> list[dict]:
    out: list[dict] = []
    file = path.name
    fc = fc.copy()
    fc["column"] = fc["column"].fillna("").astype(str)
    fc["check"] = fc["check"].astype(str)
    for (column, check), grp in fc.groupby(["column", "check"], sort=True, dropna=False):
        if check.startswith("dtype") or check == "column_in_dataframe":
            continue
        if check == "not_nullable":
            continue  # reported as empty required cells during coercion
        idx = pd.to_numeric(grp["index"], errors="coerce").dropna().astype(int).unique()
        rows = np.sort(idx) + (2 if path.suffix == ".csv" else 1)
        if (
            check.startswith("greater_than_or_equal_to")
            or check.startswith("less_than_or_equal_to")
            or check.startswith("in_range")
        ):
            bound = check.split("(")[-1].rstrip(")")
            if check.startswith("greater"):
                what = (
                    "is negative (must be ≥ 0)"
                    if bound in {"0", "0.0"}
                    else f"out of range (below the minimum {bound})"
                )
            else:
                what = f"out of range (above the maximum {bound})"
            out.append(_finding(table, file, column, check, "error", rows, what))
        elif check == "field_uniqueness":
            out.append(_finding(table, file, column, "unique", "error", rows, "duplicate id"))
        elif check.startswith("isin"):
            vals = sorted({str(v) for v in grp["failure_case"].dropna()})[:5]
            out.append(
                _finding(table, file, column, "isin", "error", rows, f"not an allowed value ({', '.join(vals)})")
            )
        else:
            out.append(_finding(table, file, column or "", check, "error", rows, f"break the rule: {check}"))
    return out


# --------------------------------------------------------------------------------------------------
# normalisation and cross-table findings (warnings)
# --------------------------------------------------------------------------------------------------
def normalise_channels(
    table: str, df: pd.DataFrame, cfg: AuditConfig, file: str, as_stored: pd.Series | None = None
) -> tuple[pd.DataFrame, list[dict]]:
    """Map channel spellings to canonical names; spellings outside the canonical list are findings.

    canonical(x) = alias[x] if x in channel_aliases else lower-case x with runs of non-alphanumerics
    turned into ``_``. Rows whose spelling *as stored in the file* (``as_stored``, including stray
    spaces) is not exactly a canonical name are reported. The stored spelling is kept in the added
    column ``channel_raw`` (the data-quality audit counts from it; blank cells are missing).
    """
    if "channel" not in df.columns:
        return df, []
    clean = df["channel"].astype(object)
    mapped = clean.map(lambda v: cfg.channel_aliases.get(v, canonical_token(v)) if v is not None else None)
    canonical = set(cfg.channels) if cfg.channels else set(mapped.dropna().unique())
    stored = clean if as_stored is None else as_stored.astype(object)
    stored = stored.where(stored.notna() & (stored.astype(str).str.strip() != ""), None)
    off = stored.notna() & ~stored.isin(list(canonical))
    findings = []
    if off.any():
        spellings = stored[off].value_counts().sort_index()
        listed = ", ".join(f"'{k}' ({v})" for k, v in spellings.head(8).items())
        findings.append(
            _finding(
                table,
                file,
                "channel",
                "channel_spelling",
                "warning",
                np.flatnonzero(off.to_numpy()) + 2,
                f"spelled outside the canonical channel list: {listed}",
            )
        )
    unknown = mapped.notna() & ~mapped.isin(list(canonical))
    if cfg.channels and unknown.any():
        vals = ", ".join(sorted(mapped[unknown].unique())[:8])
        findings.append(
            _finding(
                table,
                file,
                "channel",
                "channel_unknown",
                "warning",
                np.flatnonzero(unknown.to_numpy()) + 2,
                f"not a known channel even after normalising ({vals})",
            )
        )
    out = df.copy()
    out["channel"] = mapped
    out["channel_raw"] = stored.to_numpy()
    return out, findings


def stage_order_findings(leads: pd.DataFrame, file: str) -> list[dict]:
    """Leads whose stage dates are out of order: created ≤ MQL ≤ SAL ≤ SQL ≤ customer (when present)."""
    cols = [c for c in LEAD_STAGE_COLUMNS if c in leads.columns]
    if len(cols) < 2:
        return []
    bad = stage_order_violations(leads).to_numpy()
    if not bad.any():
        return []
    return [
        _finding(
            "leads",
            file,
            ",".join(cols),
            "stage_order",
            "warning",
            np.flatnonzero(bad) + 2,
            "have stage dates out of order (expected created ≤ MQL ≤ SAL ≤ SQL ≤ customer)",
        )
    ]


def stage_order_violations(leads: pd.DataFrame) -> pd.Series:
    """Boolean per lead: True when a later stage date precedes an earlier one.

    Each present stage is compared with the running maximum of the earlier ones (missing dates ignored).
    """
    cols = [c for c in LEAD_STAGE_COLUMNS if c in leads.columns]
    values = leads[cols].to_numpy("datetime64[ns]").astype("int64").astype("float64")
    values[leads[cols].isna().to_numpy()] = np.nan
    running = np.fmax.accumulate(np.where(np.isnan(values), -np.inf, values), axis=1)
    bad = np.zeros(len(leads), dtype=bool)
    for j in range(1, len(cols)):
        bad |= ~np.isnan(values[:, j]) & (values[:, j] < running[:, j - 1])
    return pd.Series(bad, index=leads.index, name="stage_order_violation")




def foreign_key_findings(tables: dict[str, pd.DataFrame], files: dict[str, str]) -> list[dict]:
    """Values of a reference column that do not exist in the parent table (when both are present)."""
    out = []
    for table, col, parent, pcol in FOREIGN_KEYS:
        if table not in tables or parent not in tables:
            continue
        df = tables[table]
        if col not in df.columns or pcol not in tables[parent].columns:
            continue
        s = df[col]
        broken = (s.notna() & ~s.isin(tables[parent][pcol])).to_numpy(bool)
        if broken.any():
            vals = ", ".join(sorted(s[broken].astype(str).unique())[:5])
            out.append(
                _finding(
                    table,
                    files[table],
                    col,
                    f"foreign_key:{parent}.{pcol}",
                    "warning",
                    np.flatnonzero(broken) + 2,
                    f"refer to no {parent}.{pcol} (e.g. {vals})",
                )
            )
    return out


def derive_opportunity_status(opps: pd.DataFrame, cfg: AuditConfig, file: str) -> tuple[pd.DataFrame, list[dict]]:
    """Add ``status`` (open/won/lost/unknown) from the stage map; fill ``is_won`` from it when absent."""
    smap = cfg.stage_map()
    status = opps["stage"].astype(str).str.strip().str.lower().map(smap).fillna("unknown")
    out = opps.assign(status=status.astype(object))
    findings = []
    unknown = (status == "unknown").to_numpy()
    if unknown.any():
        vals = ", ".join(sorted(opps.loc[unknown, "stage"].astype(str).unique())[:6])
        findings.append(
            _finding(
                "opportunities",
                file,
                "stage",
                "stage_map",
                "warning",
                np.flatnonzero(unknown) + 2,
                f"have a stage not mapped to open/won/lost in audit.yaml ({vals})",
            )
        )
    derived = pd.Series(pd.NA, index=opps.index, dtype="boolean")
    derived[(status == "won").to_numpy()] = True
    derived[(status == "lost").to_numpy()] = False
    if "is_won" in out.columns:
        given = out["is_won"].astype("boolean")
        clash = (given.notna() & derived.notna() & (given != derived)).fillna(False).to_numpy(bool)
        if clash.any():
            findings.append(
                _finding(
                    "opportunities",
                    file,
                    "is_won",
                    "is_won_vs_stage",
                    "warning",
                    np.flatnonzero(clash) + 2,
                    "have is_won disagreeing with the stage",
                )
            )
        out["is_won"] = given.fillna(derived)
    else:
        out["is_won"] = derived
    return out, findings


# --------------------------------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------------------------------
_HASHES: dict[tuple, str] = {}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _hash_file(path: Path) -> str:
    """SHA-256 of a raw file, hashed once per version of the file: the digest is kept in this process and in
    ``<cache>/file-hashes/`` under the file's identity (path, inode, size, modification and change times in ns —
    any write changes the change time, which no program can set back), so the kernels of a build do not each
    re-read the raw exports (335 MB at a million leads). A file changed in the last 2 s is always read: file
    times are only as fine as the kernel's clock tick, so two writes that close could look alike ("racy git")."""
    st = path.stat()
    ident = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if time.time() - max(st.st_mtime, st.st_ctime) < 2.0:
        return _sha256(path)
    if ident in _HASHES:
        return _HASHES[ident]
    memo = cache_root() / "file-hashes" / hashlib.sha256(repr(ident).encode()).hexdigest()[:32]
    try:
        digest = memo.read_text().strip()
        if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            _HASHES[ident] = digest
            return digest
    except OSError:
        pass
    digest = _sha256(path)
    _HASHES[ident] = digest
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f".{memo.name}.{os.getpid()}")
        tmp.write_text(digest)
        os.replace(tmp, memo)
    except OSError:  # a cache that cannot be written only costs time
        pass
    return digest


def cache_root() -> Path:
    return Path(os.environ.get("SALESAUDIT_CACHE", PROJECT_ROOT / ".cache" / "salesaudit"))


def _cache_key(files: dict[str, Path], cfg_path: str | None) -> str:
    h = hashlib.sha256(f"contract={CONTRACT_VERSION}".encode())
    for t in sorted(files):
        h.update(f"{t}:{files[t].name}:{_hash_file(files[t])}".encode())
    if cfg_path:
        h.update(Path(cfg_path).read_bytes())
    return h.hexdigest()[:20]


def _read_cache(key: str, data_dir: Path, cfg: AuditConfig) -> AuditData | None:
    folder = cache_root() / key
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        tables = {t: pd.read_parquet(folder / f"{t}.parquet") for t in meta["tables"]}
        for t, df in tables.items():
            for c in df.columns:
                if df[c].dtype != object and pd.api.types.is_string_dtype(df[c]):
                    tables[t][c] = df[c].astype(object).where(df[c].notna(), None)
        findings = pd.read_parquet(folder / "findings.parquet")
        cov = Coverage.from_dict(meta["coverage"])
    except Exception as exc:  # a damaged cache is rebuilt, never trusted
        log.warning("cache %s unreadable (%s); rebuilding", folder, exc)
        return None
    return AuditData(data_dir, cfg, tables, findings, meta["files"], key, cov)


def _write_cache(data: AuditData) -> None:
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    except OSError as exc:  # a cache folder that cannot be written (SALESAUDIT_CACHE a file …) only costs time
        log.warning("could not write the cache in %s (%s); every step re-reads the raw files", root, exc)
        return
    try:
        for t, df in data.tables.items():
            df.to_parquet(tmp / f"{t}.parquet", index=False)
        data.findings.to_parquet(tmp / "findings.parquet", index=False)
        meta = {"tables": list(data.tables), "files": data.files, "coverage": data.coverage.to_dict()}
        (tmp / "meta.json").write_text(json.dumps(meta))
        final = root / data.cache_key
        if final.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except OSError as exc:
        log.warning("could not write cache (%s)", exc)
        shutil.rmtree(tmp, ignore_errors=True)


def load(
    data_dir: str | Path,
    config: str | Path | None = "audit.yaml",
    *,
    strict: bool = True,
    use_cache: bool = True,
) -> AuditData:
    """Load, coerce and validate every table of a data folder.

    Raises :class:`DataContractError` (one line per problem) when the folder, the leads table or a
    required column is missing, or any *error* finding exists and ``strict`` is true.
    """
    data_dir = resolve_data_dir(data_dir)
    if not data_dir.is_dir():
        raise DataContractError(f"{data_dir}: data folder not found")
    cfg = load_config(data_dir, config)
    files = find_files(data_dir, cfg.extra.get("file_format"))
    for t in REQUIRED_TABLES:
        if t not in files:
            raise DataContractError(f"{data_dir.name}/{t}.csv: required table is missing (no {t}.csv or {t}.parquet)")
    key = _cache_key(files, cfg.source)
    memo = (key, str(data_dir))  # the same files in another folder: that folder's data (its own data_dir)
    if use_cache and memo in _MEMO:
        return _MEMO[memo]
    data = _read_cache(key, data_dir, cfg) if use_cache else None
    if data is None:
        data = _load_uncached(data_dir, cfg, files, key)
        if use_cache and data.errors().empty:
            _write_cache(data)
    if strict and not data.errors().empty:
        raise DataContractError("\n".join(data.errors()["message"]))
    if use_cache:
        _MEMO.clear()
        _MEMO[memo] = data
    return data


def _load_uncached(data_dir: Path, cfg: AuditConfig, files: dict[str, Path], key: str) -> AuditData:
    findings: list[dict] = []
    tables: dict[str, pd.DataFrame] = {}
    stored_channels: dict[str, pd.Series] = {}
    window = date_window(cfg)
    for t, path in files.items():
        raw = _read_raw(path)
        if "channel" in raw.columns:
            stored_channels[t] = raw["channel"].reset_index(drop=True)
        df, f = coerce_table(t, raw, path, window)
        if t == "leads":
            df = _complete_leads(df)
            if df.empty:
                f.append(
                    _finding(t, path.name, "", "no_rows", "error", [], "has a header but no rows: nothing to audit")
                )
        findings += f
        if not any(x["check"] == "column_present" for x in f):
            findings += validate_table(t, df, path)
        tables[t] = df
    names = {t: p.name for t, p in files.items()}
    if not any(f["severity"] == "error" for f in findings):
        for t in list(tables):
            tables[t], f = normalise_channels(t, tables[t], cfg, names[t], stored_channels.get(t))
            findings += f
        if "leads" in tables:
            findings += stage_order_findings(tables["leads"], names["leads"])
        if "opportunities" in tables:
            tables["opportunities"], f = derive_opportunity_status(tables["opportunities"], cfg, names["opportunities"])
            findings += f
        findings += foreign_key_findings(tables, names)
        for t, idcol in ID_COLUMNS.items():
            if t in tables:
                tables[t] = tables[t].sort_values(idcol, kind="stable").reset_index(drop=True)
    fdf = pd.DataFrame(findings, columns=FINDING_COLUMNS) if findings else _empty_findings()
    fdf = fdf.astype({"count": "int64"})
    cov = coverage_of(tables, cfg) if "leads" in tables else None
    return AuditData(data_dir, cfg, tables, fdf, {t: p.name for t, p in files.items()}, key, cov)


def clear_memo() -> None:
    """Forget the in-process copy (tests)."""
    _MEMO.clear()
