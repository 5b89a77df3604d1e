"""Robust reading of CRM exports: encodings, delimiters, stray rows, local number and date formats.

Every problem is reported as one line naming the file, the column and the rows (spreadsheet rows:
header = row 1). Rows that cannot be used are counted and listed in the import report, never silently
dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from salesaudit.errors import DataContractError
from salesaudit.data.dates import NS_MAX, parse_date_text, to_datetime_safe
from salesaudit.errors import not_a_file

ENCODINGS = ("utf-8", "cp1252", "latin-1")
DELIMITERS = (",", ";", "\t", "|")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
MAX_ROWS_SHOWN = 5


def n_rows(n: int) -> str:
    """``1 row`` / ``3 rows``."""
    return f"{n} row" if n == 1 else f"{n} rows"


def rows_label(rows) -> str:
    """``row 4`` / ``rows 4, 7``."""
    rows = list(rows)
    return f"{'row' if len(rows) == 1 else 'rows'} {rows_text(rows)}"


def rows_text(rows) -> str:
    rows = [int(r) for r in rows]
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN])
    return shown + (f", … {len(rows) - MAX_ROWS_SHOWN} more" if len(rows) > MAX_ROWS_SHOWN else "")


@dataclass
class ReadLog:
    """What happened while reading one file (for the import report)."""

    file: str
    encoding: str = ""
    delimiter: str = ""
    rows_read: int = 0
    dropped: list[str] = field(default_factory=list)  # one line per reason
    problems: list[str] = field(default_factory=list)  # one line per problem

    def drop(self, what: str, rows) -> None:
        rows = list(rows)
        if rows:
            self.dropped.append(f"{self.file}: {n_rows(len(rows))} {what} ({rows_label(rows)})")

    def problem(self, column: str, what: str, rows) -> None:
        rows = list(rows)
        if rows:
            self.problems.append(f"{self.file}: column {column}: {n_rows(len(rows))} {what} ({rows_label(rows)})")


def sniff_encoding(raw: bytes) -> tuple[str, str]:
    """(encoding, text): UTF-8 with or without BOM, else cp1252, else latin-1 (never fails)."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", raw.decode("utf-16")
    for enc in ENCODINGS:
        try:
            return enc, raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return "latin-1", raw.decode("latin-1")  # pragma: no cover - latin-1 decodes every byte


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first lines into the most, equally many fields."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (-1, -1)
    for d in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=d)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts)
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = d, score
    return best


def read_table(path: Path, delimiter: str | None = None, encoding: str | None = None) -> tuple[pd.DataFrame, ReadLog]:
    """Read a CSV/TSV (or Excel-saved CSV) as text columns, cleaning stray rows.

    Removes (and logs) empty rows and repeated header rows; strips whitespace around headers and
    cells; keeps the spreadsheet row number of each row in the index (header = row 1).
    """
    path = Path(path)
    log = ReadLog(path.name)
    if not path.exists():
        raise DataContractError(f"{path}: file not found")
    kind = not_a_file(path)
    if kind:
        raise DataContractError(f"{path}: is {kind}, not a file")
    raw = path.read_bytes()
    if encoding:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataContractError(f"{path.name}: not readable as {encoding} (byte {exc.start})") from None
        enc = encoding
    else:
        enc, text = sniff_encoding(raw)
    log.encoding = enc
    delim = delimiter or sniff_delimiter(text)
    log.delimiter = {"\t": "tab"}.get(delim, delim)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    except csv.Error as exc:
        raise DataContractError(f"{path.name}: cannot be parsed as delimited text ({exc})") from None
    if not rows:
        raise DataContractError(f"{path.name}: the file is empty")
    header = [h.strip() for h in rows[0]]
    if not any(header):
        raise DataContractError(f"{path.name}: the first row (header) is empty")
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise DataContractError(f"{path.name}: header names repeated: {', '.join(dupes)}")
    width = len(header)
    body, numbers, empty, repeated, ragged = [], [], [], [], []
    for i, r in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in r]
        if not any(cells):
            empty.append(i)
            continue
        if cells[:width] == header:
            repeated.append(i)
            continue
        if len(cells) > width and any(cells[width:]):
            ragged.append(i)
            continue
        cells = (cells + [""] * width)[:width]
        body.append(cells)
        numbers.append(i)
    log.rows_read = len(rows) - 1
    # trailing empty rows are normal in exports: logged but not listed as a problem
    log.drop("empty", empty)
    log.drop("repeating the header", repeated)
    log.drop(f"with more fields than the header's {width}", ragged)
    df = pd.DataFrame(body, columns=header, index=pd.Index(numbers, name="row"), dtype=object)
    df = df.replace({"": None})
    return df, log


# --------------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------------
_CURRENCY = re.compile(r"[€$£¥\s\u00a0\u202f']|[A-Z]{3}")


def detect_decimal(values: pd.Series) -> str:
    """``","`` when the column uses a decimal comma ("1.234,50", "12,5"), else ``"."``.

    Decided per column: a value whose last separator is a comma followed by 1–2 digits, or with a
    dot before a comma, marks a decimal comma; "1,234" alone is read as thousands.
    """
    s = values.dropna().astype(str).map(lambda v: _CURRENCY.sub("", v))
    comma_dec = s.str.contains(r"^-?[\d.]*\d,\d{1,2}$", regex=True) | s.str.contains(r"\.\d{3},", regex=True)
    dot_dec = s.str.contains(r"^-?[\d,]*\d\.\d{1,2}$", regex=True) | s.str.contains(r",\d{3}\.", regex=True)
    return "," if comma_dec.sum() > dot_dec.sum() else "."


def parse_numbers(values: pd.Series, decimal: str | None = None) -> pd.Series:
    """Parse localized numbers: "1.234,50" / "1,234.50" / "€ 1 234,50" / "(12.5)" → float.

    Unparseable non-empty values become NaN (the caller reports them).
    """
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    dec = decimal or detect_decimal(values)
    s = values.astype("string").str.strip()
    neg = s.str.match(r"^\(.*\)$").fillna(False)
    s = s.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.replace(_CURRENCY, "", regex=True)
    if dec == ",":
        s = s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        s = s.str.replace(",", "", regex=False)
    s = s.str.replace(r"%$", "", regex=True)
    out = pd.to_numeric(s, errors="coerce").astype(float)
    return out.where(~neg, -out)


# --------------------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------------------
DAYFIRST_HINT = (
    "set 'dayfirst: true' (or false) for it in the mapping: under 'read:' for the source, "
    "or per column in 'dates:' (e.g. dates: {{{col}: {{dayfirst: true}}}})"
)


def parse_dates(
    values: pd.Series, fmt: str | None = None, dayfirst: bool | None = None, where: str = "dates", column: str = ""
) -> pd.Series:
    """Parse dates: an explicit ``fmt`` (strftime), ISO 8601, Excel serial numbers, numeric dates in one order.

    Excel serials (numbers 1–2958465, i.e. up to 9999-12-31) count days since 1899-12-30. Numeric non-ISO
    dates (``20/10/2017``) are read day-first or month-first for the whole column: decided by the values,
    else by ``dayfirst`` (the mapping's declaration); a column with both orders, or ambiguous and
    undeclared, raises :class:`DataContractError` naming ``where`` (rule: :mod:`salesaudit.data.dates`).
    Values with a time zone are converted to UTC and made naive. Unparseable values become NaT
    (reported by the caller).
    """
    s = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    todo = s.notna() & (s != "")
    serial = pd.to_numeric(s, errors="coerce")
    is_serial = todo & serial.between(1, (NS_MAX - EXCEL_EPOCH).days) & s.str.fullmatch(r"\d+(\.\d+)?").fillna(False)
    if is_serial.any():
        out[is_serial] = (EXCEL_EPOCH + pd.to_timedelta(serial[is_serial], unit="D")).astype("datetime64[ns]")
    rest = (todo & ~is_serial).fillna(False)
    if rest.any():
        if fmt:
            parsed = to_datetime_safe(s[rest], format=fmt)
        else:
            parsed = parse_date_text(s[rest], where, dayfirst, DAYFIRST_HINT.format(col=column or "<column>"))
        out[rest] = parsed.astype("datetime64[ns]")
    return out


def bad_rows(parsed: pd.Series, raw: pd.Series) -> np.ndarray:
    """Spreadsheet row numbers where a non-empty raw value did not parse."""
    mask = parsed.isna() & raw.notna()
    return np.asarray(raw.index[mask.to_numpy(bool)])
