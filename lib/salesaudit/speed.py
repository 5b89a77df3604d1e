"""Speed to lead — the audit's one definition of first contact and its speed, used by steps 02 and 05.

``first_contact`` (the first sales touch per lead) → ``contact_durations`` (hours to it, censored at the
cut-off) → ``speed_to_first_contact`` (Kaplan–Meier median with its interval) → ``speed_sentence``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesaudit import text
from salesaudit.stats import kaplan_meier, km_at, km_median


def first_contact(leads: pd.DataFrame, activities: pd.DataFrame | None = None) -> pd.Series:
    """First sales touch per lead: ``leads.first_contact_at``, filled from activities when missing.

    When a lead has no ``first_contact_at`` (or the column is absent) and activities carry its
    ``lead_id``, the earliest ``occurred_at`` of a call / e-mail / meeting / demo is used.
    """
    base = leads["first_contact_at"] if "first_contact_at" in leads.columns else pd.Series(pd.NaT, index=leads.index)
    base = base.astype("datetime64[ns]")
    if activities is None or not len(activities) or "lead_id" not in activities.columns:
        return base.rename("first_contact_at")
    missing = leads.loc[base.isna(), "lead_id"]
    if not len(missing):
        return base.rename("first_contact_at")
    firsts = activities.loc[activities["lead_id"].isin(missing)].groupby("lead_id")["occurred_at"].min()
    if not len(firsts):
        return base.rename("first_contact_at")
    from_acts = pd.Series(firsts.reindex(leads["lead_id"].to_numpy()).to_numpy("datetime64[ns]"), index=leads.index)
    return base.fillna(from_acts).rename("first_contact_at")


def has_contact_data(leads: pd.DataFrame, activities: pd.DataFrame | None = None) -> bool:
    """True when first contacts are recorded at all (a filled ``first_contact_at`` or activities per lead).

    Without either (e.g. an opportunities-only CRM export), contact rate and speed to lead are unknown,
    not zero.
    """
    recorded = "first_contact_at" in leads.columns and bool(leads["first_contact_at"].notna().any())
    acts = activities is not None and len(activities) > 0 and "lead_id" in activities.columns
    return recorded or (acts and bool(activities["lead_id"].notna().any()))


def km_median_hours(hours: np.ndarray, observed: np.ndarray) -> tuple[float, float, float]:
    """Kaplan–Meier median of ``hours`` with its interval read off the 90% survival band."""
    if len(hours) == 0:
        nan = float("nan")
        return nan, nan, nan
    curve = kaplan_meier(hours, observed)
    med = km_median(curve)
    lo_hit = curve.loc[curve["lo"] <= 0.5, "time"]
    hi_hit = curve.loc[curve["hi"] <= 0.5, "time"]
    lo = float(lo_hit.iloc[0]) if len(lo_hit) else float("nan")
    hi = float(hi_hit.iloc[0]) if len(hi_hit) else float("nan")
    return med, lo, hi


def contact_durations(
    leads: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, activities: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per lead created in ``[start, end)``: hours to first contact, censored at ``end``.

    ``hours`` = (first contact − created_at) in hours when the first contact (:func:`first_contact`)
    is before ``end`` (``observed`` True), else (``end`` − created_at) with ``observed`` False: a lead
    not yet contacted at the cut-off is *waiting*, not dropped. Columns ``lead_id, owner_id, hours,
    observed``.
    """
    lw = leads.loc[(leads["created_at"] >= start) & (leads["created_at"] < end)]
    fc = first_contact(lw, activities)
    observed = fc.notna() & (fc < end)
    stop = fc.where(observed, end)
    hours = ((stop - lw["created_at"]).dt.total_seconds() / 3600).clip(lower=0)
    owner = lw["owner_id"] if "owner_id" in lw.columns else pd.Series(None, index=lw.index, dtype=object)
    return pd.DataFrame(
        {
            "lead_id": lw["lead_id"].to_numpy(),
            "owner_id": owner.to_numpy(),
            "hours": hours.to_numpy(float),
            "observed": observed.to_numpy(bool),
        }
    )


def speed_to_first_contact(
    leads: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    activities: pd.DataFrame | None = None,
) -> dict:
    """Speed to first contact of the leads created in ``[start, end)`` — the audit's one definition.

    Kaplan–Meier median (Kaplan & Meier 1958) of the hours from ``created_at`` to the first contact
    (``leads.first_contact_at``, filled from the lead's earliest activity), observation stopping at
    ``end``: leads not contacted by then are censored at ``end`` (waiting), never dropped — dropping
    them would flatter the speed. The 90% interval of the median is where the Greenwood log-log band
    of S(t) crosses ½ (Brookmeyer & Crowley 1982). ``within_1_day`` = 1 − S(24 h). Used by steps 02
    and 05. Returns ``leads, contacted, censored, median_hours, lo_hours, hi_hours, within_1_day``
    (NaN median when fewer than half the leads were contacted by ``end``).
    """
    d = contact_durations(leads, start, end, activities)
    med, lo, hi = km_median_hours(d["hours"].to_numpy(), d["observed"].to_numpy())
    within = float("nan")
    if len(d):
        within = 1 - km_at(kaplan_meier(d["hours"].to_numpy(), d["observed"].to_numpy()), 24.0)
    return {
        "leads": int(len(d)),
        "contacted": int(d["observed"].sum()),
        "censored": int((~d["observed"]).sum()),
        "median_hours": med,
        "lo_hours": lo,
        "hi_hours": hi,
        "within_1_day": within,
    }


def speed_sentence(speed: dict, what: str = "this quarter's new leads") -> str:
    """One sentence on :func:`speed_to_first_contact` (says so when it cannot be measured)."""
    if not speed["leads"]:
        return f"No leads were created in the period, so speed to first contact is not measured for {what}."
    if not np.isfinite(speed["median_hours"]):
        return (
            f"Fewer than half of {what} had been contacted by the cut-off ({speed['contacted']:,} of "
            f"{speed['leads']:,}), so the median time to first contact is not reached yet."
        )
    iv = text.interval(speed["lo_hours"], speed["hi_hours"], lambda x: text.num(x, 1))
    iv = f" {iv}" if iv else ""
    return (
        f"Half of {what} were contacted within {text.num(speed['median_hours'], 1)} hours{iv} "
        f"(Kaplan–Meier median; {speed['censored']:,} of the {speed['leads']:,} leads not yet contacted at the "
        f"cut-off count as waiting); {text.pct(speed['within_1_day'])} within a day."
    )
