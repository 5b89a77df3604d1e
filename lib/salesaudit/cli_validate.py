"""``python -m salesaudit validate DATA_DIR``: one line per table, or one line per problem and exit 2."""

from __future__ import annotations

import argparse
import sys
import time

from salesaudit.data.io import load


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data_dir", help="folder holding leads.csv/.parquet and the other tables")
    p.add_argument("--config", default="audit.yaml", help="settings file inside the data folder")
    p.add_argument("--no-cache", action="store_true", help="re-read the raw files even if a cache exists")


def print_errors(data) -> bool:
    """Print the loader's errors (one line each, then the count) to stderr; True when there were any."""
    errors = data.errors()
    if errors.empty:
        return False
    for line in errors["message"]:
        print(line, file=sys.stderr)
    print(f"{len(errors)} problem(s): the data cannot be audited until they are fixed", file=sys.stderr)
    return True


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    data = load(args.data_dir, args.config, strict=False, use_cache=not args.no_cache)
    if print_errors(data):
        return 2
    summary = data.summary()
    for row in summary.itertuples():
        if row.file == "absent":
            print(f"{row.table:16s} absent (optional)")
        else:
            extra = f", {row.warnings:,} finding(s) for the data-quality audit" if row.warnings else ""
            print(f"{row.table:16s} {row.rows:>9,} rows  {row.file}{extra}")
    w = data.coverage.leads_window
    span = f"leads from {w[0]:%Y-%m-%d} to {w[1]:%Y-%m-%d}" if w else "undated snapshot (leads carry no dates)"
    print(f"OK: {data.data_dir.name} is valid; {span} ({time.perf_counter() - t0:.2f} s)")
    return 0
