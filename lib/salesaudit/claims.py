"""Best / worst claims: one helper for the story functions of steps 02, 05, 06 and 07.

A sentence or title may call a group (rep, stream, asset, ticket category, channel) *best*, *worst*,
*highest*, *lowest*, *strongest*, *weakest* or *beyond the noise* only when the rule of
:func:`salesaudit.stats.claimable` holds for the two groups compared — each has n ≥ ``MIN_CLAIM_N``
cases and their intervals do not overlap — and the sentence carries both sample sizes, written
``n = 123``. Otherwise it says that no group stands out beyond the noise, with the sample sizes.
docs/assumptions.md ("Best, worst and the minimum sample").

Example::

    >>> import pandas as pd
    >>> t = pd.DataFrame({"g": ["a", "b"], "rate": [0.5, 0.1], "n": [200, 180], "lo": [0.44, 0.07], "hi": [0.56, 0.14]})
    >>> c = extremes(t, "rate", "n", "lo", "hi")
    >>> bool(c.ok), c.top["g"], n_is(c.top["n"])
    (True, 'a', 'n = 200')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesaudit.stats import MIN_CLAIM_N, claimable


def n_is(n) -> str:
    """``"n = 1,234"`` (the form the claim linter looks for); ``"n = 0"`` for a missing count."""
    try:
        v = float(n)
    except (TypeError, ValueError):
        v = 0.0
    return f"n = {0 if np.isnan(v) else int(round(v)):,}"


def n_range(ns) -> str:
    """``"n = 12"`` or ``"n = 12 to n = 340"``: the smallest and largest sample among the groups."""
    s = pd.Series(ns, dtype=float).fillna(0)
    if s.empty:
        return "n = 0"
    lo, hi = s.min(), s.max()
    return n_is(lo) if lo == hi else f"{n_is(lo)} to {n_is(hi)}"


@dataclass(frozen=True)
class Extremes:
    """The highest and lowest group by a value, and whether calling them best/worst is allowed."""

    top: pd.Series | None
    bottom: pd.Series | None
    ok: bool
    ns: str  # the groups' sample sizes, "n = 12 to n = 340"

    @property
    def groups(self) -> int:
        return 0 if self.top is None else (1 if self.top.equals(self.bottom) else 2)


def extremes(
    table: pd.DataFrame, value: str, n: str, lo: str | None = None, hi: str | None = None, minimum: int = MIN_CLAIM_N
) -> Extremes:
    """Top and bottom rows of ``table`` by ``value`` (rows with a missing value left out).

    ok = claimable(n_top, n_bottom, [lo_top, hi_top], [lo_bottom, hi_bottom]) — both have at least
    ``minimum`` cases and their intervals do not overlap; with fewer than two groups, False.
    """
    t = table.loc[pd.to_numeric(table[value], errors="coerce").notna()] if len(table) else table
    if t.empty:
        return Extremes(None, None, False, "n = 0")
    t = t.sort_values(value, ascending=False)
    top, bottom = t.iloc[0], t.iloc[-1]
    if len(t) < 2:
        return Extremes(top, bottom, False, n_range(t[n]))
    if lo is not None and hi is not None:
        ok = claimable(top[n], bottom[n], top[lo], top[hi], bottom[lo], bottom[hi], minimum=minimum)
    else:
        ok = claimable(top[n], bottom[n], minimum=minimum)
    return Extremes(top, bottom, bool(ok), n_range(t[n]))


def standout_vs_rest(row: pd.Series, n: str, lo: str, hi: str, ref_lo: float, ref_hi: float, ref_n) -> bool:
    """One group against the rest (or the team): claimable(n_row, n_rest, row interval, rest interval)."""
    return bool(claimable(row[n], ref_n, row[lo], row[hi], ref_lo, ref_hi))


def no_standout(what: str, ns: str) -> str:
    """The sentence when no group may be called best or worst: "No {what} stands out beyond the noise (…)."."""
    return f"No {what} stands out beyond the noise ({ns}; a claim needs {n_is(MIN_CLAIM_N)} each and intervals that do not overlap)."


__all__ = ["Extremes", "extremes", "n_is", "n_range", "no_standout", "standout_vs_rest"]
