"""Report footers: the lines a CRM appends below the data of an exported report.

A Salesforce report exported as CSV ends with a block such as::

    "Grand Totals (20 records)"

    "Confidential Information - Do Not Distribute"
    "Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."

Read as data, those lines would become rows with an id and nothing else, and be dropped as unusable
rows. :func:`drop_report_footer` recognises them instead — only in the block of rows at the *end* of
the file, and only when every row of that block starts with one of the known footer lines — and
removes them with one line for the import report (``leads.csv: report footer: 3 rows (rows 22, 24,
25)``). The same text inside the data (a lead named "Total") is never touched.
"""

from __future__ import annotations

import re

import pandas as pd

from salesaudit.data.importers.reading import n_rows, rows_label

# The first non-empty cell of a footer row. Salesforce writes "Grand Totals (N records)" (tabular
# reports), "Total" (summary-row variants), the confidentiality notice and a copyright line whose
# symbol is "(c)" in older exports and "©" in newer ones.
FOOTER_LINES = re.compile(
    r"^(grand totals?\b.*|total|confidential information\s*-\s*do not distribute"
    r"|copyright\s*(\(c\)|©)\s*\d{4}(\s*-\s*\d{4})?\s+salesforce\.com\b.*)$",
    flags=re.IGNORECASE,
)
MAX_FOOTER_ROWS = 20


def footer_rows(df: pd.DataFrame) -> pd.Index:
    """Index labels of the trailing rows that are report-footer lines (empty when there are none).

    A footer is the longest run of rows at the end of ``df`` whose first non-empty cell matches
    :data:`FOOTER_LINES`; it must hold a confidentiality or copyright line (so that a last lead called
    "Total" stays a lead). Only the last :data:`MAX_FOOTER_ROWS` rows are examined, vectorised: one match
    per row, then a suffix test.
    """
    if df.empty:
        return df.index[:0]
    last = df.tail(MAX_FOOTER_ROWS)  # a footer is a few lines: only the end of the file is looked at
    first = last.bfill(axis=1).iloc[:, 0].astype("string").str.strip()
    is_footer = first.str.match(FOOTER_LINES).fillna(False).to_numpy(bool)
    # rows from the last non-footer row on: a suffix of all-True
    non_footer = (~is_footer).nonzero()[0]
    start = int(non_footer[-1]) + 1 if len(non_footer) else 0
    tail = first.iloc[start:]
    if tail.empty or not tail.str.contains(r"confidential|copyright", case=False, regex=True).any():
        return df.index[:0]
    return last.index[start:]


def drop_report_footer(df: pd.DataFrame, fname: str) -> tuple[pd.DataFrame, list[str]]:
    """``df`` without its report footer, and the report line(s) saying what was removed."""
    rows = footer_rows(df)
    if not len(rows):
        return df, []
    return df.drop(index=rows), [f"{fname}: report footer: {n_rows(len(rows))} ({rows_label(rows)})"]
