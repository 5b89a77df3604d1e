"""``python -m salesaudit import --from FORMAT SRC... --out data/<name>``.

FORMAT is ``hubspot``, ``salesforce``, ``pipedrive`` or the path of a mapping YAML. Writes the contract
tables (CSV), an ``audit.yaml`` and ``import-report.md`` (what was read, what was mapped to what, rows
dropped and why, columns left unused, assumptions), then validates the result.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from salesaudit.config import DEFAULTS, canonical_token
from salesaudit.data.contract import COLUMNS
from salesaudit.errors import DataContractError
from salesaudit.data.importers.mapping import (
    TABLE_ORDER,
    ImportLog,
    build_table,
    leads_from_opportunities,
    load_mapping,
    reps_from_values,
    resolve_sources,
)
from salesaudit.data.importers.currency import audit_rates, audit_with_rates, rates_lines
from salesaudit.data.importers.footers import drop_report_footer
from salesaudit.data.importers.reading import read_source
from salesaudit.data.importers.database import database_sources, read_database_sources

__all__ = ["import_data", "add_arguments", "run"]


def _audit_settings(
    mapping: dict, frames: dict[str, pd.DataFrame], sources: dict[str, pd.DataFrame], name: str
) -> dict:
    audit = copy.deepcopy(mapping.get("audit") or {})
    audit.setdefault("company", name)
    pf = audit.pop("products_from", None)
    if pf and pf.get("source") in sources and pf.get("column") in sources[pf["source"]].columns:
        audit["products"] = sorted(sources[pf["source"]][pf["column"]].dropna().astype(str).unique().tolist())
    if "channels" not in audit:
        chans = set()
        for t in ("leads", "spend", "traffic", "campaigns"):
            if t in frames and "channel" in frames[t].columns:
                chans |= {canonical_token(c) for c in frames[t]["channel"].dropna().unique()}
        audit["channels"] = sorted(chans)
    return audit


def _blank_na_values(df: pd.DataFrame, na_values: Any, fname: str, log: ImportLog) -> pd.DataFrame:
    """Cells holding one of the source's ``na_values`` (e.g. ``"?"``, ``"unknown"``) become empty (counted)."""
    if not na_values:
        return df
    vals = [str(v) for v in (na_values if isinstance(na_values, list) else [na_values])]
    hit = df.isin(vals)
    n = int(hit.to_numpy().sum())
    if n:
        per_col = hit.sum()
        cols = ", ".join(f"{c} {int(k):,}" for c, k in per_col[per_col > 0].items())
        log.mapped.append(f"{fname}: {n:,} cells holding {', '.join(repr(v) for v in vals)} read as empty ({cols})")
    return df.mask(hit)


def _stage_is_won(opps: pd.DataFrame, stages: dict) -> pd.Series:
    won = {s.lower() for s in stages.get("won", [])}
    lost = {s.lower() for s in stages.get("lost", [])}
    st = opps["stage"].astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=opps.index, dtype="boolean")
    out[st.isin(won).to_numpy()] = True
    out[st.isin(lost).to_numpy()] = False
    return out


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False)
    out.to_csv(path, index=False, lineterminator="\n")


def import_data(
    fmt: str, src: list[str | Path], out_dir: str | Path, name: str | None = None
) -> tuple[Path, ImportLog]:
    """Import exports into a contract data folder. Returns (folder, log).

    Raw files are only read: an ``out_dir`` that is, holds or lies inside a source file or folder is
    refused, and the tables are written to a temporary folder beside ``out_dir`` that replaces its
    files only once everything is written (a failed import leaves ``out_dir`` as it was).
    """
    mapping = load_mapping(fmt)
    out_dir = Path(out_dir)
    check_out_dir(out_dir, [Path(s) for s in src])
    name = name or mapping.get("name") or out_dir.name
    files = resolve_sources(mapping, [Path(s) for s in src])
    if not files and not database_sources(mapping):
        if not src:
            raise DataContractError("no export files or folders given (the mapping has no database sources)")
        wanted = ", ".join(f"{k}: {v}" for k, v in mapping["sources"].items())
        raise DataContractError(f"no input file matches the {Path(mapping['_path']).stem} format (expected {wanted})")
    log = ImportLog()
    read_opts = mapping.get("read") or {}
    sources: dict[str, pd.DataFrame] = {}
    names: dict[str, str] = {}
    for key, path in files.items():
        opts = read_opts.get(key, {})
        df, rlog = read_source(path, opts)
        df, footer = drop_report_footer(df, path.name)
        rlog.dropped += footer
        df = _blank_na_values(df, opts.get("na_values"), path.name, log)
        sources[key], names[key] = df, path.name
        log.files.append(rlog)
        log.dropped += rlog.dropped
    databases = read_database_sources(mapping)
    for key, db in databases.items():
        sources[key] = _blank_na_values(db.frame, read_opts.get(key, {}).get("na_values"), db.log.file, log)
        names[key] = db.log.file
        log.files.append(db.log)
        log.mapped.append(db.line)
    fx = audit_rates(mapping, sources, names, Path(mapping["_path"]).name)
    frames: dict[str, pd.DataFrame] = {}
    specs = mapping["tables"]
    for target in TABLE_ORDER:
        spec = specs.get(target)
        if not spec or spec.get("from_opportunities") or spec.get("from_owners") or spec.get("from_values"):
            continue
        df = build_table(target, spec, sources, names, read_opts, log, Path(mapping["_path"]).name, fx=fx)
        if df is not None:
            frames[target] = df
    stages = {**DEFAULTS["stages"], **((mapping.get("audit") or {}).get("stages") or {})}
    if "opportunities" in frames and "is_won" not in frames["opportunities"].columns:
        frames["opportunities"] = frames["opportunities"].assign(is_won=_stage_is_won(frames["opportunities"], stages))
        log.assumptions.append("opportunities.is_won derived from the stage names listed under audit.stages won/lost")
    lead_spec = specs.get("leads") or {}
    if lead_spec.get("from_opportunities") and "leads" not in frames:
        if "opportunities" not in frames:
            raise DataContractError("the mapping derives leads from opportunities, but no opportunities were imported")
        frames["leads"] = leads_from_opportunities(
            frames["opportunities"], lead_spec.get("channel", "unknown"), log, lead_spec.get("channel_column")
        )
        if "lead_id" not in frames["opportunities"].columns:
            frames["opportunities"] = frames["opportunities"].assign(lead_id=frames["opportunities"]["opportunity_id"])
    rep_spec = specs.get("reps") or {}
    if rep_spec.get("from_values") and "reps" not in frames:
        reps = reps_from_values(rep_spec["from_values"], sources, names, log)
        if reps is not None:
            frames["reps"] = reps
    if rep_spec.get("from_owners") and ("reps" not in frames or rep_spec.get("from_values")):
        owners = (
            pd.concat(
                [
                    frames[t]["owner_id"]
                    for t in ("leads", "opportunities", "activities")
                    if t in frames and "owner_id" in frames[t].columns
                ]
            )
            .dropna()
            .astype(str)
            .unique()
        )
        if "reps" in frames:  # from_values came first: add the owners it did not list (no role)
            extra = sorted(set(owners) - set(frames["reps"]["rep_id"]))
            frames["reps"] = pd.concat(
                [frames["reps"], pd.DataFrame({"rep_id": extra, "name": extra})], ignore_index=True
            ).sort_values("rep_id", kind="stable", ignore_index=True)
            log.assumptions.append(f"{len(extra):,} owner(s) not among the from_values columns added as reps (no role)")
        else:
            frames["reps"] = pd.DataFrame({"rep_id": sorted(owners), "name": sorted(owners)})
            log.assumptions.append("reps derived from the distinct owners (rep_id = name = the owner as exported)")
    if "leads" not in frames:
        raise DataContractError(
            "no leads could be imported: map a leads export, or set 'leads: {from_opportunities: true}' "
            "in the mapping to derive minimal leads from opportunities"
        )
    audit = audit_with_rates(_audit_settings(mapping, frames, sources, name), fx)
    log.currencies = rates_lines(fx)
    for a in mapping.get("assumptions") or []:
        log.assumptions.append(str(a))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.importing-", dir=out_dir.parent))
    try:
        for t, df in frames.items():
            known = [c.name for c in COLUMNS[t] if c.name in df.columns]
            extra = [c for c in df.columns if c not in known]
            _write_csv(df[known + extra], tmp / f"{t}.csv")
        (tmp / "audit.yaml").write_text(yaml.safe_dump(audit, sort_keys=False, allow_unicode=True), encoding="utf-8")
        _write_report(tmp, mapping, files, frames, log, out_dir.name, databases)
        _move_into_place(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir, log


def check_out_dir(out_dir: Path, src: list[Path]) -> None:
    """Refuse an output folder that is a source, holds a source file or lies inside a source folder."""
    out = out_dir.resolve()
    for s in src:
        r = s.resolve()
        if not r.exists():
            continue
        kind = "folder" if r.is_dir() else "file"
        if out == r:
            what = f"is the source {kind} {s}"
        elif out in r.parents:
            what = f"holds the source {kind} {s}"
        elif r.is_dir() and r in out.parents:
            what = f"is inside the source folder {s}"
        else:
            continue
        raise DataContractError(f"--out {out_dir}: {what}; raw exports are read-only, choose another output folder")


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """A new folder is renamed into place at once; an existing one has each written file replaced."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    if not out_dir.is_dir():
        raise DataContractError(f"--out {out_dir}: is a file, not a folder")
    for f in sorted(tmp.iterdir()):
        os.replace(f, out_dir / f.name)


def _write_report(
    out_dir: Path,
    mapping: dict,
    files: dict[str, Path],
    frames: dict[str, pd.DataFrame],
    log: ImportLog,
    title: str | None = None,
    databases: dict | None = None,
) -> None:
    lines = [
        f"# Import report — {title or out_dir.name}",
        "",
        f"Built {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from mapping `{Path(mapping['_path']).name}`.",
        "",
        "## Files read",
        "",
        "| source | file | encoding | delimiter | rows read |",
        "|---|---|---|---|---|",
    ]
    for (key, path), r in zip(files.items(), log.files):  # one read log per source, in the same order
        delim = f"`{r.delimiter}`" if r.delimiter else (f"sheet `{r.sheet}`" if r.sheet else "—")
        lines.append(f"| {key} | `{path.name}` | {r.encoding} | {delim} | {r.rows_read:,} |")
    notes = [n for r in log.files for n in r.notes]
    lines += ([""] + [f"- {n}" for n in notes]) if notes else []
    for key, db in (databases or {}).items():  # importers.database.DatabaseRead: the URL shown is masked
        lines.append(f"| {key} | `{db.log.file}` on `{db.shown}` | database | — | {db.log.rows_read:,} |")
    lines += ["", "## Tables written", "", "| table | rows | columns |", "|---|---|---|"]
    for t, df in frames.items():
        lines.append(f"| {t} | {len(df):,} | {', '.join(df.columns)} |")
    lines += ["", "## What was mapped to what", ""] + [f"- {m}" for m in log.mapped]
    lines += (["", "## Currencies", ""] + log.currencies) if log.currencies else []
    lines += ["", "## Rows dropped and why", ""] + ([f"- {d}" for d in log.dropped] or ["- none"])
    lines += ["", "## Problems (values that could not be read)", ""] + ([f"- {p}" for p in log.problems] or ["- none"])
    lines += ["", "## Columns left unused", ""]
    lines += [f"- `{f}`: {', '.join(cols)}" for f, cols in log.unused.items() if cols] or ["- none"]
    lines += ["", "## Skipped", ""] + ([f"- {s}" for s in log.skipped] or ["- nothing"])
    lines += ["", "## Assumptions", ""] + ([f"- {a}" for a in log.assumptions] or ["- none"])
    lines += ["", "Stage names map to open/won/lost in `audit.yaml` (`stages:`); edit it and re-run the report.", ""]
    (out_dir / "import-report.md").write_text("\n".join(lines), encoding="utf-8")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--from",
        dest="fmt",
        required=True,
        help="hubspot | salesforce | pipedrive | path to a mapping YAML (see docs/importing.md)",
    )
    p.add_argument(
        "src", nargs="*", help="export files or folders holding them (none when the mapping reads only databases)"
    )
    p.add_argument("--out", required=True, help="output data folder, e.g. data/acme")
    p.add_argument("--name", default=None, help="company name for audit.yaml")


def run(args: argparse.Namespace) -> int:
    import sys

    from salesaudit.data.io import load

    out, log = import_data(args.fmt, args.src, args.out, args.name)
    for line in log.dropped + log.problems:
        print(line, file=sys.stderr)
    data = load(out, strict=False, use_cache=False)
    errors = data.errors()
    for line in errors["message"]:
        print(line, file=sys.stderr)
    tables = ", ".join(f"{t} {len(df):,}" for t, df in data.tables.items())
    print(
        f"imported into {out}: {tables}; {len(data.warnings())} data-quality finding(s); see {out / 'import-report.md'}"
    )
    return 2 if len(errors) else 0
