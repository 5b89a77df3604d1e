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
WHITESPACE = "whitespace"  # ``delimiter: whitespace``: runs of spaces and tabs
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
    sheet: str = ""  # the worksheet read, for a workbook
    notes: list[str] = field(default_factory=list)  # how the file was read (sheet, header), for the report
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
    """The delimiter among , ; tab | that splits the first lines into the most, equally many fields.

    When none of them splits the lines and the columns are aligned by runs of spaces (most lines hold one,
    and at least 4 in 5 split into as many fields as the first), ``"whitespace"``.
    """
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
    if best_score == (-1, -1) and _aligned(lines):
        return WHITESPACE
    return best


def _aligned(lines: list[str]) -> bool:
    """Whitespace-aligned columns: most lines hold a run of spaces (or a tab) and split into equally many fields."""
    runs = sum(bool(_RUN_OF_SPACES.search(ln)) for ln in lines)
    widths = [len(r) for r in split_whitespace("\n".join(lines))]
    return runs * 2 > len(lines) and widths[0] >= 2 and sum(w == widths[0] for w in widths) * 5 >= len(widths) * 4


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataContractError(f"{path}: file not found")
    kind = not_a_file(path)
    if kind:
        raise DataContractError(f"{path}: is {kind}, not a file")


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    """(encoding, text) of a text file: the mapping's ``encoding`` or the sniffed one."""
    raw = path.read_bytes()
    if not encoding:
        return sniff_encoding(raw)
    try:
        return encoding, raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataContractError(f"{path.name}: not readable as {encoding} (byte {exc.start})") from None


def split_whitespace(text: str) -> list[list[str]]:
    """Rows of a whitespace-aligned text: fields are separated by runs of spaces and tabs.

    A field may be quoted (``"chevrolet chevelle"``) to hold spaces; an empty line gives an empty row, so
    the list index + 1 is the line number.

    >>> split_whitespace('18.0   8  "ford torino"\\n\\n15\\t8  x')
    [['18.0', '8', 'ford torino'], [], ['15', '8', 'x']]
    """
    lines = [ln.replace("\t", " ").strip() for ln in text.splitlines()]
    return list(csv.reader(lines, delimiter=" ", skipinitialspace=True))


_RUN_OF_SPACES = re.compile(r"\S(?: {2,}|\t)\S")


def check_single_space(text: str, rows: list[list[str]], fname: str) -> None:
    """Refuse ``delimiter: " "`` on a file whose columns are aligned by runs of spaces.

    Each space would be a column break, so the runs make empty columns and rows of different widths (the
    first record became the header and every other row was dropped). Raised only when the split is
    actually ragged or the header has empty names.
    """
    lines = [i for i, ln in enumerate(text.splitlines()[:200], start=1) if _RUN_OF_SPACES.search(ln)]
    widths = {len(r) for r in rows if any(c.strip() for c in r)}
    header_blank = bool(rows) and any(not c.strip() for c in rows[0])
    if lines and (len(widths) > 1 or header_blank):
        raise DataContractError(
            f"{fname}: delimiter ' ' makes every space a column break, but the columns are aligned with runs of "
            f"spaces ({rows_label(lines)}); use 'delimiter: whitespace' (runs of spaces and tabs), with "
            "'header: none' and 'names: [...]' if the first row is data"
        )


def read_table(
    path: Path,
    delimiter: str | None = None,
    encoding: str | None = None,
    names: list[str] | None = None,
) -> tuple[pd.DataFrame, ReadLog]:
    """Read a CSV/TSV (or Excel-saved CSV, or a whitespace-aligned text log) as text columns, cleaning stray rows.

    Removes (and logs) empty rows and repeated header rows; strips whitespace around headers and
    cells; keeps the spreadsheet row number of each row in the index (header = row 1). ``delimiter``
    ``"whitespace"`` splits on runs of spaces and tabs (:func:`split_whitespace`). ``names`` reads a file
    without a header row: every row is data (the first is row 1) and the columns get these names.
    """
    path = Path(path)
    _check_file(path)
    log = ReadLog(path.name)
    enc, text = _decode(path, encoding)
    log.encoding = enc
    delim = delimiter or sniff_delimiter(text)
    log.delimiter = {"\t": "tab"}.get(delim, delim)
    if str(delim).lower() == WHITESPACE:
        log.delimiter = WHITESPACE
        return rows_to_frame(split_whitespace(text), log, names, exact_width=True)
    if len(delim) != 1:
        raise DataContractError(
            f"{path.name}: delimiter {delim!r} is not one character (or 'whitespace' for runs of spaces and tabs)"
        )
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    except csv.Error as exc:
        raise DataContractError(f"{path.name}: cannot be parsed as delimited text ({exc})") from None
    if delim == " ":
        check_single_space(text, rows, path.name)
    return rows_to_frame(rows, log, names)


def _width(rows: list[list[str]]) -> tuple[int, int]:
    """(the most common number of fields among the non-empty rows, how many rows have it); ties → the wider."""
    counts: dict[int, int] = {}
    for r in rows:
        if any(c.strip() for c in r):
            counts[len(r)] = counts.get(len(r), 0) + 1
    if not counts:
        return 0, 0
    width = max(counts, key=lambda w: (counts[w], w))
    return width, counts[width]


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_DATA_CELL = re.compile(r"[-+]?\d*\.\d+([eE][-+]?\d+)?|(\d{4}-\d{2}-\d{2}[ T])?\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")


def _looks_like_data(header: list[str]) -> bool:
    """A header row that is a data row: two or more cells and every one a number, or any cell a decimal
    number (``18.0``), a time or a date-time (``09:12:44``, ``2026-01-05 09:12``) — never a column name.
    Whole numbers and dates alone (``2025``, ``2026-01-01``: a pivot's year or month columns) are not enough.
    """
    cells = [h for h in header if h]
    if len(cells) >= 2 and all(_NUMBER.fullmatch(h) for h in cells):
        return True
    return any(_DATA_CELL.fullmatch(h) for h in cells)


def rows_to_frame(
    rows: list[list[str]], log: ReadLog, names: list[str] | None = None, exact_width: bool = False
) -> tuple[pd.DataFrame, ReadLog]:
    """The text rows of a file (or sheet) as a frame of text columns indexed by spreadsheet row.

    With a header (``names`` None) the first row names the columns and data start at row 2; without one
    every row is data from row 1 and ``names`` must match the most common number of fields.
    ``exact_width`` (whitespace-separated files) drops rows with fewer fields too: a missing value there
    cannot be told from an empty one, so the fields after it would land in the wrong columns.
    """
    fname = log.file
    if not rows:
        raise DataContractError(f"{fname}: the file is empty")
    if names is None:
        header = [h.strip() for h in rows[0]]
        if not any(header):
            raise DataContractError(f"{fname}: the first row (header) is empty")
        if _looks_like_data(header):
            shown = ", ".join(header[:4]) + (" …" if len(header) > 4 else "")
            raise DataContractError(
                f"{fname}: the first row looks like data, not a header ({shown}); for a "
                "file without a header row give 'header: none' and 'names: [...]' for it under 'read:'"
            )
        first, body_rows = 2, rows[1:]
    else:
        header = list(names)
        width, n = _width(rows)
        if width and width != len(header):
            raise DataContractError(
                f"{fname}: 'names:' gives {len(header)} column names but the rows have {width} fields "
                f"({n:,} of {sum(1 for r in rows if any(c.strip() for c in r)):,} rows); give one name per column"
            )
        first, body_rows = 1, rows
        log.notes.append(f"{fname}: no header row; columns named by the mapping: {', '.join(header)}")
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise DataContractError(f"{fname}: header names repeated: {', '.join(dupes)}")
    width = len(header)
    body, numbers, empty, repeated, ragged, short = [], [], [], [], [], []
    for i, r in enumerate(body_rows, start=first):
        cells = [c.strip() for c in r]
        if not any(cells):
            empty.append(i)
            continue
        if names is None and cells[:width] == header:
            repeated.append(i)
            continue
        if len(cells) > width and any(cells[width:]):
            ragged.append(i)
            continue
        if exact_width and len(cells) < width:
            short.append(i)
            continue
        cells = (cells + [""] * width)[:width]
        body.append(cells)
        numbers.append(i)
    log.rows_read = len(body_rows)
    # trailing empty rows are normal in exports: logged but not listed as a problem
    log.drop("empty", empty)
    log.drop("repeating the header", repeated)
    log.drop(f"with more fields than the {'names' if names is not None else 'header'}'s {width}", ragged)
    log.drop(f"with fewer fields than the {width} columns (whitespace-separated: a missing value cannot be placed)", short)
    df = pd.DataFrame(body, columns=header, index=pd.Index(numbers, name="row"), dtype=object)
    df = df.replace({"": None})
    return df, log


# --------------------------------------------------------------------------------------------------
# Excel workbooks and the per-source reading options
# --------------------------------------------------------------------------------------------------
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def excel_cell_text(value) -> str:
    """One worksheet cell as the text a CSV export would hold.

    Cells stored as Excel dates (openpyxl gives ``datetime``) become ISO dates — ``2026-01-05`` at midnight,
    else ``2026-01-05 14:30:00`` — so they are read as dates, never day-first or month-first; whole numbers
    lose the ``.0``; empty cells are ``""``.

    >>> import datetime as dt
    >>> [excel_cell_text(v) for v in (dt.datetime(2026, 1, 5), 1500.0, 0.1, None, True, "x")]
    ['2026-01-05', '1500', '0.1', '', 'true', 'x']
    """
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def read_workbook(path: Path, sheet: str | None = None, names: list[str] | None = None) -> tuple[pd.DataFrame, ReadLog]:
    """Read one sheet of an ``.xlsx``/``.xlsm`` workbook (the first, or ``sheet``) as text columns.

    Cached values of formulas are read, never the formulas; cells go through :func:`excel_cell_text`; the
    rows are then cleaned as a CSV's are (:func:`rows_to_frame`; spreadsheet row numbers are the sheet's).
    A sheet that is not in the workbook is one line naming the file and listing its sheets.
    """
    import zipfile

    import openpyxl

    path = Path(path)
    _check_file(path)
    log = ReadLog(path.name, encoding="xlsx")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DataContractError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        sheets = list(wb.sheetnames)
        if not sheets:
            raise DataContractError(f"{path.name}: the workbook has no sheets")
        if sheet is None:
            chosen = sheets[0]
            how = "the only sheet" if len(sheets) == 1 else f"the first of {len(sheets)} sheets: {', '.join(sheets)}"
        elif str(sheet) in sheets:
            chosen, how = str(sheet), "named in the mapping"
        else:
            raise DataContractError(
                f"{path.name}: no sheet named '{sheet}' (the workbook has: {', '.join(sheets)})"
            )
        ws = wb[chosen]
        ws.reset_dimensions()  # some writers store a wrong used range (A1:A1); read every row the sheet holds
        rows = [[excel_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    log.sheet = chosen
    log.delimiter = ""
    df, log = rows_to_frame(rows, log, names)
    below = " below the header" if names is None else ""
    log.notes.insert(0, f"{path.name}: sheet '{chosen}' read ({how}), {log.rows_read:,} rows{below}")
    return df, log


HEADERLESS = (False, "none", "no", "false")


def header_names(opts: dict, fname: str) -> list[str] | None:
    """The column names of a file without a header row (``header: none`` + ``names: [...]``), else None.

    ``names`` without ``header: none``, ``header: none`` without ``names``, and repeated or empty names are
    one line naming the file.
    """
    header = opts.get("header", True)
    headerless = header is None or (header in HEADERLESS if not isinstance(header, str) else header.lower() in HEADERLESS)
    names = opts.get("names")
    if not headerless:
        if header not in (True, "first row", "first", "yes", "true"):
            raise DataContractError(f"{fname}: header: {header!r} is neither 'none' (no header row) nor 'first row'")
        if names is not None:
            raise DataContractError(
                f"{fname}: 'names:' is given but the first row is read as the header; add 'header: none' "
                "for a file without a header row"
            )
        return None
    if not isinstance(names, list) or not names:
        raise DataContractError(f"{fname}: 'header: none' needs 'names: [a, b, …]', one name per column")
    out = [str(n).strip() for n in names]
    if any(not n for n in out):
        raise DataContractError(f"{fname}: 'names:' has an empty name")
    return out


def read_source(path: Path, opts: dict | None = None) -> tuple[pd.DataFrame, ReadLog]:
    """Read one source file with its mapping options (``read: {source: {...}}``).

    ``.xlsx``/``.xlsm`` → :func:`read_workbook` (``sheet:``); anything else → :func:`read_table`
    (``delimiter:``, ``encoding:``). ``header: none`` with ``names:`` applies to both. An old ``.xls``
    workbook, or ``sheet:`` on a text file, is one line naming the file.
    """
    path = Path(path)
    opts = opts or {}
    names = header_names(opts, path.name)
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return read_workbook(path, opts.get("sheet"), names)
    if suffix == ".xls":
        raise DataContractError(f"{path.name}: the old Excel format (.xls) is not read; save it as .xlsx or CSV")
    if opts.get("sheet") is not None:
        raise DataContractError(f"{path.name}: 'sheet:' is given but the file is not an .xlsx workbook")
    return read_table(path, delimiter=opts.get("delimiter"), encoding=opts.get("encoding"), names=names)


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
