"""``python -m salesaudit quarters DATA_DIR``: the quarters the leads cover, each complete or partial.

The rule is the report's (:mod:`salesaudit.data.coverage`): a quarter is complete when the leads cover it to
within the tolerance at both ends and the data was extracted after it; the one marked *latest* is what
``report --quarter latest`` audits.
"""

from __future__ import annotations

import argparse

from salesaudit.cli_validate import print_errors
from salesaudit.data.coverage import quarter_statuses
from salesaudit.data.io import load


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data_dir", help="folder holding leads.csv/.parquet and the other tables")
    p.add_argument("--config", default="audit.yaml", help="settings file inside the data folder")


def quarter_lines(table) -> list[str]:  # noqa: ANN001 — a quarter_statuses() frame
    """One line per quarter: label, first and last day, status (and why partial), the latest marked."""
    out = []
    for r in table.itertuples():
        status = r.status if not r.reason else f"{r.status}: {r.reason}"
        mark = "  ← latest (report --quarter latest)" if r.latest else ""
        out.append(f"{r.quarter}  {r.start:%Y-%m-%d} – {r.end:%Y-%m-%d}  {status}{mark}")
    return out


def run(args: argparse.Namespace) -> int:
    data = load(args.data_dir, args.config, strict=False)
    if print_errors(data):
        return 2
    table = quarter_statuses(data.coverage)
    if table.empty:
        print(f"{data.data_dir.name}: the leads carry no creation dates (an undated snapshot): no quarter to list")
        return 0
    for line in quarter_lines(table):
        print(line)
    n_complete = int((table["status"] == "complete").sum())
    print(f"{data.data_dir.name}: {len(table)} quarter(s), {n_complete} complete, {len(table) - n_complete} partial")
    return 0
