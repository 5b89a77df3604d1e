"""The records behind a finding or a count: which columns an evidence file may hold, and its file name.

A finding such as "20 open deals have had no activity for 30+ days" can be followed to the 20 deals: the
step's metric returns the offending rows (a DataFrame whose ``len()`` *is* the count), the finding or the
recorded figure carries that frame, and the report build writes it to ``reports/<Q>/evidence/<name>.csv``
(docs/report.md, "Evidence files").

An evidence file holds ids, owners, dates and the fields that made the finding — **never** an e-mail, a
phone number or a person's name. The rule is an allow-list (:data:`ALLOWED_COLUMNS`): a column that is not
on it is dropped, whatever it is called, so a new column in an export cannot leak into an evidence file.

>>> import pandas as pd
>>> rows = pd.DataFrame({"lead_id": ["L1"], "email": ["a@b.c"], "name": ["Ann"], "owner_id": ["R1"]})
>>> list(evidence_frame(rows).columns)
['lead_id', 'owner_id']
>>> file_name("dq_stale_pipeline")
'dq_stale_pipeline.csv'
>>> file_name("channel_Paid search_sal_sql")
'channel_paid-search_sal_sql-2e216907.csv'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import pandas as pd

__all__ = ["ALLOWED_COLUMNS", "FOLDER", "csv_text", "evidence_frame", "file_name", "relative_path"]

#: the folder of the evidence files inside ``reports/<Q>/``
FOLDER = "evidence"

#: the only columns an evidence file may hold: ids, owners, dates, and the fields a finding is made of.
#: No e-mail, phone, name, title or free-text column is on it (free text may quote a contact).
ALLOWED_COLUMNS: frozenset[str] = frozenset(
    {
        # ids
        "lead_id",
        "opportunity_id",
        "activity_id",
        "order_id",
        "ticket_id",
        "customer_id",
        "account_id",
        "campaign_id",
        "content_id",
        "rep_id",
        "owner_id",
        "duplicate_of",
        # dates
        "created_at",
        "first_contact_at",
        "mql_at",
        "sal_at",
        "sql_at",
        "customer_at",
        "disqualified_at",
        "closed_at",
        "ordered_at",
        "opened_at",
        "last_activity_at",
        "start_date",
        "end_date",
        "first_order_at",
        # the fields a finding is made of
        "channel",
        "segment",
        "country",
        "product",
        "team",
        "stage",
        "status",
        "stage_reached",
        "lead_score",
        "amount",
        "order_amount",
        "amount_gap",
        "days_idle",
        "days_old",
        "problem",
        "monthly_lead_capacity",
        "win_rate_shrunk",
        "closed",
        "won",
        "extra_wins",
        "sql",
        "days_since_mql",
        "leads",
        "mature_leads",
        "sql_rate",
        "overall_rate",
        "csat_group",
        "second_order_at",
        "orders",
        "repeat",
    }
)

#: a cell a spreadsheet would read as a formula (OWASP "CSV injection"): quoted with a leading apostrophe
_FORMULA_RE = r"[=+\-@\t\r]"
_UNSAFE = re.compile(r"[^a-z0-9_]+")


def evidence_frame(rows: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``rows`` with only the allowed columns (``columns`` in that order, else the allowed ones of ``rows``
    in their order), index dropped. A requested column that is not on :data:`ALLOWED_COLUMNS` raises
    ``ValueError`` (a programming error, not bad data); a requested column ``rows`` lacks is skipped."""
    if columns is None:
        keep = [c for c in rows.columns if c in ALLOWED_COLUMNS]
    else:
        columns = list(columns)
        bad = [c for c in columns if c not in ALLOWED_COLUMNS]
        if bad:
            raise ValueError(f"evidence columns not on salesaudit.evidence.ALLOWED_COLUMNS: {bad}")
        keep = [c for c in columns if c in rows.columns]
    return rows.loc[:, keep].reset_index(drop=True)


def file_name(name: str) -> str:
    """The evidence file of the finding slug or figure name ``name``: ``<stem>.csv`` where the stem is
    ``name`` lower-cased with every run of characters outside ``[a-z0-9_]`` made one ``-`` (at most 60
    characters). When that changed ``name`` (a slug holding a channel's name from the data), 8 hex digits
    of its SHA-256 are appended, so two names never share a file. Never a path separator, never a dot
    but the extension's."""
    stem = _UNSAFE.sub("-", str(name).lower()).strip("-")[:60] or "evidence"
    if stem != name:
        stem = f"{stem}-{hashlib.sha256(str(name).encode('utf-8')).hexdigest()[:8]}"
    return f"{stem}.csv"


def relative_path(name: str) -> str:
    """``evidence/<file>.csv``: the link from the report's HTML (in ``reports/<Q>/``) to the evidence file."""
    return f"{FOLDER}/{file_name(name)}"


def _inert(column: pd.Series) -> pd.Series:
    """The text cells of ``column`` that start like a formula, prefixed with ``'`` (vectorised)."""
    text = column.astype("string")
    risky = text.str.match(_FORMULA_RE).fillna(False).astype(bool)
    return column.where(~risky, "'" + text)


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV of an evidence frame (:func:`evidence_frame` applied again), UTF-8 text with a header row;
    a text cell starting with ``= + - @`` or a tab is prefixed with ``'`` so a spreadsheet shows it as text
    instead of running it as a formula. Dates as ``YYYY-MM-DD HH:MM:SS``, missing values empty."""
    frame = evidence_frame(frame)
    text_cols = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    if text_cols:
        frame = frame.assign(**{c: _inert(frame[c]) for c in text_cols})
    return frame.to_csv(index=False, lineterminator="\n")
