"""The value of a deal: what one more (or one lost) customer is worth, shared by steps 01, 02 and 05.

Every finding that puts money on a conversion — a funnel leak (step 01), leads never contacted and the best
content asset (step 02), a rep's missed deals (step 05) — multiplies by the same average deal value, so the
findings of different steps stay on one scale (docs/assumptions.md, "Average deal value"). It lives here,
among the foundations, so that no step imports another step for it.

>>> import pandas as pd
>>> opps = pd.DataFrame({"amount": [100.0, 300.0, 50.0], "is_won": [True, True, False],
...                      "closed_at": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-08-01"])})
>>> average_deal_value(opps, None, pd.Timestamp("2026-07-01"), pd.Timestamp("2026-10-01"))
200.0
"""

from __future__ import annotations

import pandas as pd

__all__ = ["average_deal_value"]


def _in_period(ts: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """``start ≤ ts < end`` (NaT → False)."""
    return ((ts >= start) & (ts < end)).fillna(False).astype(bool)


def average_deal_value(
    opportunities: pd.DataFrame | None, orders: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp
) -> float:
    """Average revenue of a new customer, used to put a money figure on lost conversions.

    = mean ``amount`` of won opportunities closed in ``[start, end)``; without opportunities (or
    amounts), the mean first order of customers whose first order falls in the period; NaN when
    neither is available.
    """
    if opportunities is not None and {"amount", "is_won", "closed_at"} <= set(opportunities.columns):
        won = opportunities[
            opportunities["is_won"].fillna(False).astype(bool) & _in_period(opportunities["closed_at"], start, end)
        ]
        amt = won["amount"].dropna()
        if len(amt):
            return float(amt.mean())
    if orders is not None and len(orders):
        first = orders.sort_values("ordered_at").drop_duplicates("customer_id")
        first = first[_in_period(first["ordered_at"], start, end)]["amount"].dropna()
        if len(first):
            return float(first.mean())
    return float("nan")
