"""Data shapes unlike the demo company, built from the ``small_data`` fixture (conftest.py) for the notebook
tests of steps 02, 05, 06 and 07, and the check that nothing a reader sees carries a broken token.

* :func:`make_snapshot` — an undated snapshot: leads only, no dates, ``stage_reached`` instead, no
  ``new_channel`` in audit.yaml (a real export knows no podcast);
* :func:`make_partial` — the small demo cut mid-quarter (2026-08-15), ``sal_at`` emptied and deal amounts
  dropped, audited at its partial quarter 2026Q3.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import yaml
from salesaudit.steps.reporting.metrics import CREATED_COLUMN

CUT = pd.Timestamp("2026-08-15")
DATE_OF = CREATED_COLUMN  # the column that dates each table's records
#: tokens a reader must never see in a sentence, table or note
BROKEN = re.compile(r"(?i:\bnan\b|\binf\b|n/a–n/a|\bfrom (\S+) to \1\b)|<NA>|\bNaT\b|\bNone\b(?! of\b)")


def make_snapshot(small: Path, out: Path) -> Path:
    leads = pd.read_csv(small / "leads.csv", dtype=str, keep_default_na=False)
    stage = "lead"
    reached = pd.Series(stage, index=leads.index)
    for s in ("mql", "sal", "sql", "customer"):
        reached = reached.where(leads[f"{s}_at"] == "", s)
    keep = [c for c in ("lead_id", "channel", "lead_score", "segment", "country", "owner_id") if c in leads.columns]
    leads[keep].assign(stage_reached=reached).to_csv(out / "leads.csv", index=False)
    (out / "audit.yaml").write_text("company: Snapshot Ltd\ncurrency: EUR\n", encoding="utf-8")
    return out


def make_partial(small: Path, out: Path) -> Path:
    for f in small.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        t = f.stem
        if t in DATE_OF:
            df = df[pd.to_datetime(df[DATE_OF[t]].replace("", None)) < CUT]
        for c in df.columns:
            if c.endswith("_at"):
                d = pd.to_datetime(df[c].replace("", None), errors="coerce")
                df.loc[d >= CUT, c] = ""
        if t == "leads":
            df["sal_at"] = ""
        if t == "opportunities":
            df = df.drop(columns=["amount"])
            closed = pd.to_datetime(df["closed_at"].replace("", None), errors="coerce")
            df.loc[closed.isna() & df["stage"].isin(["Closed Won", "Closed Lost"]), "stage"] = "Negotiation"
        df.to_csv(out / f.name, index=False)
    cfg = yaml.safe_load((small / "audit.yaml").read_text())
    (out / "audit.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return out


def reader_text(nb) -> list[str]:
    """Every line a reader sees: Markdown, tables (HTML without tags) and printed text."""
    lines = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error", o.get("evalue")
            if o.get("output_type") == "stream":
                assert o.get("name") != "stderr", o.get("text")
                lines += str(o.get("text", "")).splitlines()
            data = o.get("data", {})
            for mt in ("text/markdown", "text/html"):
                if mt in data:
                    lines += re.sub(r"<[^>]+>", " ", str(data[mt])).splitlines()
    return lines


def broken_lines(nb) -> list[str]:
    return [ln for ln in reader_text(nb) if BROKEN.search(ln)]


def copy_without(src: Path, out: Path, *tables: str) -> Path:
    for p in src.iterdir():
        if p.is_file() and p.stem not in tables:
            shutil.copy(p, out / p.name)
    return out
