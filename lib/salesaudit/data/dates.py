"""Day-first or month-first? One rule for a date column, used by the importer and the loader.

Numeric dates that are not ISO (``20/10/2017``, ``5-3-2016 12:00``, ``2/20/11 11:39``) are read in one
order per column, decided from the values:

* a value whose first field is > 12 (``20/10/2017``) is evidence for day-first;
* a value whose second field is > 12 (``10/20/2017``) is evidence for month-first;
* ISO ``YYYY-MM-DD`` (and any year-first value) is unambiguous and never day-first;
* both kinds of evidence in one column → :class:`DataContractError` (a mixture, never read half-swapped);
* no evidence either way (every such value has both fields ≤ 12) → the order must be *declared*
  (``dayfirst: true|false`` in an import mapping); without it → :class:`DataContractError`;
* a declaration the values contradict (``dayfirst: true`` and ``10/20/2017``) → :class:`DataContractError`.

Everything is vectorised over the *distinct* values of the column (a million rows of dates usually hold a
few hundred thousand distinct strings at most).

>>> import pandas as pd
>>> parse_date_text(pd.Series(["20/10/2017", "01/02/2018"]), "x.csv: column d").dt.strftime("%Y-%m-%d").tolist()
['2017-10-20', '2018-02-01']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesaudit.errors import DataContractError

__all__ = ["DMY", "DateOrder", "date_order", "decide_dayfirst", "naive_ns", "parse_date_text", "to_datetime_safe"]

# 1–2 digit field, separator, 1–2 digit field, same separator, 2 or 4 digit year, then a time or nothing
DMY = r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})((?:[ T].*)?)$"
MAX_ROWS_SHOWN = 3


@dataclass(frozen=True)
class DateOrder:
    """Evidence about the field order of the numeric non-ISO dates of one column (row labels)."""

    numeric: int  # how many distinct values are ambiguous (both fields 1–12)
    dayfirst_rows: np.ndarray  # first field > 12
    monthfirst_rows: np.ndarray  # second field > 12
    dayfirst_example: str = ""
    monthfirst_example: str = ""
    ambiguous_example: str = ""

    @property
    def decided(self) -> bool | None:
        """True (day-first) / False (month-first) from the values alone; None when they do not say."""
        if len(self.dayfirst_rows) and not len(self.monthfirst_rows):
            return True
        if len(self.monthfirst_rows) and not len(self.dayfirst_rows):
            return False
        return None


#: the span a ``datetime64[ns]`` column can hold; a value outside it ("March" read as year 1, year 2300) is unreadable
NS_MIN = pd.Timestamp("1678-01-01")
NS_MAX = pd.Timestamp("2261-12-31")


def naive_ns(parsed: pd.Series) -> pd.Series:
    """Time-zone-aware or naive timestamps of any unit → naive UTC ``datetime64[ns]``.

    Values outside :data:`NS_MIN`–:data:`NS_MAX` become NaT (never an ``OutOfBoundsDatetime``): pandas reads
    ``March`` as 0001-03-01 and ``5pm`` as 0001-01-01 17:00, which are not dates of a sales export.
    """
    s = parsed
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    inside = s.notna() & (s >= NS_MIN) & (s <= NS_MAX)
    out = s.where(inside)
    return out.astype("datetime64[ns]")


def to_datetime_safe(values: pd.Series, **kwargs) -> pd.Series:
    """``pd.to_datetime(values, errors="coerce", utc=True, **kwargs)`` → naive UTC ns; unreadable → NaT, never raises."""
    try:
        parsed = pd.to_datetime(values, errors="coerce", utc=True, **kwargs)
    except (ValueError, OverflowError, TypeError):  # pandas raises for some out-of-range values even when coercing
        parsed = pd.Series([_one_date(v, kwargs) for v in values], index=values.index, dtype="datetime64[us, UTC]")
    return naive_ns(parsed)


def _one_date(value, kwargs) -> pd.Timestamp:
    try:
        return pd.to_datetime(value, errors="coerce", utc=True, **kwargs)
    except (ValueError, OverflowError, TypeError):
        return pd.NaT


_HEAD = r"^(\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2}))((?:[ T].*)?)$"  # no back-references: RE2-safe
_STR = pd.StringDtype("pyarrow")


def _text(values: pd.Series) -> pd.Series:
    text = values.astype(_STR).str.strip()
    return text.mask(text == "")


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype("float64")


@dataclass(frozen=True)
class _Heads:
    """The numeric a/b/year date parts of a column, factorised: ``codes`` per row (-1 = not such a date)."""

    codes: np.ndarray
    heads: pd.Series  # distinct date parts ("20/10/2017")
    first: pd.Series  # their first field, second field, year (as written)
    second: pd.Series
    year: pd.Series
    tails: pd.Series  # per row: what follows the date part (" 14:03", "" …)


def _split(text: pd.Series) -> _Heads:
    """Vectorised (pyarrow regex) split of every value into its date part and the rest; fields per distinct part."""
    is_dmy = text.str.match(_HEAD).fillna(False).to_numpy(bool)
    head = text.str.replace(_HEAD, r"\1", regex=True).where(is_dmy)
    tail = text.str.replace(_HEAD, r"\2", regex=True).where(is_dmy, "")
    codes, uniq = pd.factorize(head)
    heads = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
    f = heads.str.extract(DMY)
    return _Heads(codes, heads, _num(f[0]), _num(f[2]), f[3], tail)


def _rows(labels: np.ndarray) -> str:
    shown = ", ".join(str(int(r)) for r in labels[:MAX_ROWS_SHOWN])
    more = f", … {len(labels) - MAX_ROWS_SHOWN} more" if len(labels) > MAX_ROWS_SHOWN else ""
    return f"{'row' if len(labels) == 1 else 'rows'} {shown}{more}"


def _evidence(h: _Heads, index: pd.Index) -> DateOrder:
    # a field 13–31 is a day only if the other one can be a month; "31/31/2026" is no evidence, just not a date
    day = (h.first.between(13, 31) & h.second.between(1, 12)).to_numpy(bool)
    month = (h.second.between(13, 31) & h.first.between(1, 12)).to_numpy(bool)
    ambiguous = (h.first.between(1, 12) & h.second.between(1, 12)).to_numpy(bool)
    has = h.codes >= 0

    def rows(flag: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(h.codes), dtype=bool)
        hit[has] = flag[h.codes[has]]
        return np.asarray(index[hit])

    def example(flag: np.ndarray) -> str:
        return str(h.heads[flag].iloc[0]) if flag.any() else ""

    return DateOrder(int(ambiguous.sum()), rows(day), rows(month), example(day), example(month), example(ambiguous))


def date_order(values: pd.Series) -> DateOrder:
    """The evidence for day-first / month-first in ``values`` (strings; the index holds row labels)."""
    return _evidence(_split(_text(values)), values.index)


def decide_dayfirst(
    values: pd.Series, where: str, declared: bool | None = None, hint: str = "", _ev: DateOrder | None = None
) -> bool:
    """Read ``values`` day-first? Decided by the values, else by ``declared``; raises when neither can.

    ``where`` names the file and column for messages (``"leads.csv: column created_at"``); ``hint`` says
    how to declare the order (e.g. "set 'dayfirst: true|false' in the mapping").
    """
    ev = _ev if _ev is not None else date_order(values)
    if len(ev.dayfirst_rows) and len(ev.monthfirst_rows):
        raise DataContractError(
            f"{where}: dates in both orders — day-first in {_rows(ev.dayfirst_rows)} ('{ev.dayfirst_example}'), "
            f"month-first in {_rows(ev.monthfirst_rows)} ('{ev.monthfirst_example}'); "
            "write one order (ISO YYYY-MM-DD is safest)"
        )
    if declared is not None and ev.decided is not None and ev.decided != bool(declared):
        rows, example = (
            (ev.monthfirst_rows, ev.monthfirst_example) if declared else (ev.dayfirst_rows, ev.dayfirst_example)
        )
        said = "dayfirst: true" if declared else "dayfirst: false"
        raise DataContractError(
            f"{where}: the mapping says '{said}' but {_rows(rows)} ('{example}') can only be "
            f"{'month' if declared else 'day'}-first; correct 'dayfirst:' for this column"
        )
    if ev.decided is not None:
        return ev.decided
    if declared is not None or not ev.numeric:
        return bool(declared)
    raise DataContractError(
        f"{where}: dates like '{ev.ambiguous_example}' could be day-first or month-first "
        f"(no day above 12 decides it); {hint or 'declare the order'}"
    )


_CLOCK12 = re.compile(r"^[ T]?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])\.?[Mm]\.?$")


def _clock24(tails: pd.Series) -> pd.Series:
    """Times after the date part, 12-hour clocks ("2:03 PM") turned into " 14:03:00"; per distinct time."""
    codes, uniq = pd.factorize(tails.astype(object).fillna(""))
    fixed = []
    for t in uniq:
        m = _CLOCK12.match(str(t))
        if m:
            hour = int(m.group(1)) % 12 + (12 if m.group(4).lower() == "p" else 0)
            fixed.append(f" {hour:02d}:{m.group(2)}:{m.group(3) or '00'}")
        else:
            fixed.append(str(t))
    return pd.Series(np.asarray(fixed, dtype=object)[codes], dtype=_STR)


def parse_date_text(values: pd.Series, where: str, declared: bool | None = None, hint: str = "") -> pd.Series:
    """Parse a text date column with one field order (see the module docstring); unreadable → NaT.

    Time zones are converted to UTC and dropped. The order comes from :func:`decide_dayfirst`. Cost: the
    regex split and one ISO parse are vectorised over the rows; field work is per distinct date part.
    """
    text = _text(values)
    h = _split(text)
    dayfirst = decide_dayfirst(text, where, declared, hint, _ev=_evidence(h, values.index))
    has = h.codes >= 0
    out = pd.Series(np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]"), index=text.index)
    if not has.all():
        out[~has] = to_datetime_safe(text[~has], format="ISO8601").to_numpy()
    if has.any():
        day, month = (h.first, h.second) if dayfirst else (h.second, h.first)
        yy = _num(h.year)
        century = np.where(h.year.str.len() == 2, np.where(yy < 69, 2000, 1900), 0)  # as strptime's %y
        ok = (month.between(1, 12) & day.between(1, 31)).to_numpy(bool)
        iso_head = pd.Series(
            [
                f"{int(y):04d}-{int(m):02d}-{int(d):02d}" if k else None
                for y, m, d, k in zip(yy + century, month, day, ok)
            ],
            dtype=_STR,
        )  # one per distinct date part
        row_ok = np.zeros(len(text), dtype=bool)
        row_ok[has] = ok[h.codes[has]]
        idx = np.flatnonzero(row_ok)
        iso = pd.Series(iso_head.to_numpy()[h.codes[idx]], dtype=_STR) + _clock24(h.tails.iloc[idx])
        parsed = to_datetime_safe(iso, format="ISO8601")
        retry = parsed.isna().to_numpy()  # e.g. a 12-hour clock "2:03 PM": the date part is now year-first
        if retry.any():
            parsed[retry] = to_datetime_safe(iso[retry], format="mixed", dayfirst=False).to_numpy()
        vals = parsed.to_numpy()
        arr = out.to_numpy(copy=True)
        arr[idx] = vals
        out = pd.Series(arr, index=out.index)
    rest = (out.isna() & text.notna()).to_numpy(bool) & ~has
    if rest.any():  # month names, year-first with slashes …: unambiguous, never read day-first
        out = out.copy()
        out[rest] = to_datetime_safe(text[rest], format="mixed", dayfirst=False).to_numpy()
    return pd.Series(out.to_numpy(), index=values.index, name=values.name)
