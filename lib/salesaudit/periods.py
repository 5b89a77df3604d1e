"""Periods: quarters like ``2026Q3``, fiscal-year offsets, previous quarter, latest complete quarter.

A quarter label ``YYYYQn`` names the fiscal year by the calendar year in which it *ends* (with
``fiscal_year_start_month: 1`` this is the calendar quarter; with ``4``, 2027Q1 is April–June 2026).
Bounds are half-open: ``start <= t < end``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesaudit.errors import DataContractError

_LABEL = re.compile(r"^\s*(?:FY)?(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)
COMPLETE_TOLERANCE_DAYS = 7


@dataclass(frozen=True, order=True)
class Quarter:
    """A fiscal quarter."""

    year: int
    q: int
    fy_start_month: int = 1

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.q}"

    def __str__(self) -> str:
        return self.label

    @property
    def start(self) -> pd.Timestamp:
        first_year = self.year - (1 if self.fy_start_month != 1 else 0)
        base = pd.Timestamp(year=first_year, month=self.fy_start_month, day=1)
        return base + pd.DateOffset(months=3 * (self.q - 1))

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end (first instant of the next quarter)."""
        return self.start + pd.DateOffset(months=3)

    def previous(self, n: int = 1) -> Quarter:
        idx = self.year * 4 + (self.q - 1) - n
        return Quarter(idx // 4, idx % 4 + 1, self.fy_start_month)

    def next(self, n: int = 1) -> Quarter:
        return self.previous(-n)

    def months(self) -> list[pd.Timestamp]:
        return [self.start + pd.DateOffset(months=i) for i in range(3)]

    def contains(self, ts: pd.Series) -> pd.Series:
        """Boolean mask: ``start <= ts < end`` (NaT → False)."""
        return (ts >= self.start) & (ts < self.end)


def parse_quarter(label: str, fy_start_month: int = 1) -> Quarter:
    """``"2026Q3"`` (also ``"2026-Q3"``, ``"FY2026Q3"``) → :class:`Quarter`."""
    m = _LABEL.match(str(label))
    if not m:
        raise DataContractError(f"quarter '{label}': expected a label like 2026Q3")
    return Quarter(int(m.group(1)), int(m.group(2)), int(fy_start_month))


def quarter_of(ts: pd.Timestamp, fy_start_month: int = 1) -> Quarter:
    """The fiscal quarter containing ``ts``."""
    ts = pd.Timestamp(ts)
    shifted = (ts.month - fy_start_month) % 12
    fy_first_year = ts.year if ts.month >= fy_start_month else ts.year - 1
    year = fy_first_year + (1 if fy_start_month != 1 else 0)
    return Quarter(year, shifted // 3 + 1, fy_start_month)


def quarter_labels(ts: pd.Series, fy_start_month: int = 1) -> pd.Series:
    """Vectorised fiscal-quarter label (``"2026Q3"``) of each timestamp; NaT → missing."""
    m = ts.dt.month
    y = ts.dt.year
    shifted = (m - fy_start_month) % 12
    fy_first = np.where(m >= fy_start_month, y, y - 1)
    year = fy_first + (1 if fy_start_month != 1 else 0)
    q = shifted // 3 + 1
    out = pd.Series(year, index=ts.index).astype("Int64").astype(str) + "Q" + q.astype("Int64").astype(str)
    return out.where(ts.notna(), None)


def latest_complete_quarter(latest: pd.Timestamp, fy_start_month: int = 1) -> Quarter:
    """The last quarter that the data covers to its end.

    A quarter counts as complete when the latest record falls within ``COMPLETE_TOLERANCE_DAYS`` of
    its end (quiet last days, e.g. a weekend, do not make it incomplete) or after it.
    """
    latest = pd.Timestamp(latest)
    q = quarter_of(latest, fy_start_month)
    if latest >= q.end - pd.Timedelta(days=COMPLETE_TOLERANCE_DAYS):
        return q
    return q.previous()


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    out, q = [], first
    while q <= last:
        out.append(q)
        q = q.next()
    return out
