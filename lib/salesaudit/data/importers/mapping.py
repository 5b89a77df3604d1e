"""Mapping files: turn any CSV exports into contract tables.

A mapping (YAML) names the source files, and per target table the column renames, date formats,
value maps, constants, derived columns, joins and filters. The built-in HubSpot, Salesforce and
Pipedrive formats are mappings too (``importers/formats/*.yaml``). Full reference and a worked
example: ``docs/importing.md``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from salesaudit.data.contract import COLUMNS, ID_COLUMNS

from salesaudit.errors import DataContractError
from salesaudit.errors import yaml_error_line
from salesaudit.data.io import parse_bool
from salesaudit.data.importers.currency import Rates, check_one_currency, convert_money
from salesaudit.data.importers.database import is_database_source
from salesaudit.data.importers.expressions import evaluate
from salesaudit.data.importers.reading import ReadLog, bad_rows, n_rows, parse_dates, parse_numbers, rows_label
from salesaudit.data.importers.transforms import compute, drop_rows, group_by, hash_values, need_columns

MAX_NAMES_SHOWN = 5

TABLE_ORDER = (
    "reps",
    "campaigns",
    "leads",
    "opportunities",
    "activities",
    "spend",
    "traffic",
    "email_sends",
    "content",
    "content_touches",
    "orders",
    "tickets",
    "nps",
)


@dataclass
class ImportLog:
    """Everything the import report says."""

    files: list[ReadLog] = field(default_factory=list)
    mapped: list[str] = field(default_factory=list)  # "leads.created_at ← contacts.csv: Create Date"
    dropped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unused: dict[str, list[str]] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)  # the rates used and what each converted


def load_mapping(spec: str | Path) -> dict:
    """A mapping from a YAML path or a built-in format name (hubspot, salesforce, pipedrive)."""
    p = Path(spec)
    if not p.exists():
        builtin = Path(__file__).parent / "formats" / f"{spec}.yaml"
        if builtin.exists():
            p = builtin
        else:
            names = ", ".join(sorted(f.stem for f in (Path(__file__).parent / "formats").glob("*.yaml")))
            raise DataContractError(f"--from {spec}: not a mapping file nor a built-in format ({names})")
    try:
        mapping = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataContractError(yaml_error_line(exc, p.name)) from None
    if not isinstance(mapping, dict) or "tables" not in mapping:
        raise DataContractError(f"{p.name}: a mapping needs a 'tables:' section")
    unknown = [t for t in mapping["tables"] if t not in COLUMNS]
    if unknown:
        raise DataContractError(f"{p.name}: unknown target table(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
    mapping.setdefault("sources", {})
    mapping["_path"] = str(p)
    return mapping


def resolve_sources(mapping: dict, src: list[Path]) -> dict[str, Path]:
    """Logical source name → file, matching each source pattern (glob, case-insensitive) in ``src``.

    ``src`` may hold files and folders; a folder contributes its files. Database sources
    (``{connection: …}``) are left to :func:`salesaudit.data.importers.database.read_database_sources`.
    """
    files: list[Path] = []
    for s in src:
        s = Path(s)
        if s.is_dir():
            files += sorted(p for p in s.iterdir() if p.is_file())
        elif s.exists():
            files.append(s)
        else:
            raise DataContractError(f"{s}: file or folder not found")
    out: dict[str, Path] = {}
    for name, pattern in mapping["sources"].items():
        if is_database_source(pattern):  # read by importers.database
            continue
        patterns = pattern if isinstance(pattern, list) else [pattern]
        for pat in patterns:
            hit = [f for f in files if fnmatch.fnmatch(f.name.lower(), str(pat).lower())]
            if hit:
                out[name] = hit[0]
                break
    return out


def _as_list(spec: Any) -> list[str]:
    return [str(s) for s in spec] if isinstance(spec, list) else [str(spec)]


def _coalesce(df: pd.DataFrame, names: list[str]) -> pd.Series:
    """First non-empty value across the columns present (row by row)."""
    present = [n for n in names if n in df.columns]
    out = df[present[0]].copy()
    for n in present[1:]:
        out = out.where(out.notna(), df[n])
    return out


def _map_values(s: pd.Series, vmap: dict) -> pd.Series:
    """Replace values by the map (exact first, then case-insensitive); ``"*"`` is the default."""
    exact = {str(k): v for k, v in vmap.items() if k != "*"}
    lower = {str(k).strip().lower(): v for k, v in exact.items()}
    text = s.astype("string")
    mapped = text.map(lambda v: exact.get(v, lower.get(str(v).strip().lower(), pd.NA)) if pd.notna(v) else pd.NA)
    if "*" in vmap:
        return mapped.where(mapped.notna() | text.isna(), vmap["*"]).astype(object)
    return mapped.where(mapped.notna(), text).astype(object)


def _missing_join_columns(left: pd.DataFrame, right: pd.DataFrame, on: dict, cols: list) -> list[str]:
    """The join's key and value columns that are not in their file (left keys, then right keys and columns)."""
    return [c for c in on if c not in left.columns] + [
        c for c in [*on.values(), *cols] if c not in right.columns
    ]


def _join_columns_present(left: pd.DataFrame, right: pd.DataFrame, on: dict, cols: list) -> bool:
    return not _missing_join_columns(left, right, on, cols)


def _join_side(right: pd.DataFrame, keys: list[str], cols: list[str]) -> pd.DataFrame:
    """The right side of a join: its keys and columns, rows with an empty key left out (an empty key
    matches nothing), the first row of each key kept."""
    side = right[keys + [c for c in cols if c not in keys]]
    filled = side[keys].notna().all(axis=1) & (side[keys].astype("string").apply(lambda c: c.str.strip()) != "").all(
        axis=1
    )
    return side[filled.to_numpy(bool)].drop_duplicates(subset=keys)


def _as_mask(value: Any, index: pd.Index) -> pd.Series:
    """A filter's value as a boolean mask: empty (NA) never keeps a row; a scalar applies to every row."""
    if not isinstance(value, pd.Series):
        value = pd.Series(bool(value) if value is not None else False, index=index)
    return value.astype(object).where(value.notna(), False).astype(bool)


def build_table(
    target: str,
    spec: dict,
    sources: dict[str, pd.DataFrame],
    src_names: dict[str, str],
    read_opts: dict,
    log: ImportLog,
    mapping_name: str = "mapping",
    fx: Rates | None = None,
) -> pd.DataFrame | None:
    """One contract table from its mapping spec (see module docstring).

    ``filter:`` and ``derived:`` are mapping expressions (:mod:`.expressions`): parsed and checked, never
    handed to ``eval``; ``mapping_name`` (the mapping file's name) starts their messages. ``fx`` converts
    the money columns to the audit's currency (:mod:`.currency`).
    """
    source = spec.get("source")
    if source not in sources:
        log.skipped.append(f"{target}: source '{source}' not among the files given")
        return None
    fname = src_names[source]
    df = sources[source].copy()
    used: set[str] = set()
    for j in spec.get("join", []) or []:
        if j["source"] not in sources:
            log.skipped.append(f"{target}: join with '{j['source']}' skipped (file not given)")
            continue
        right = sources[j["source"]]
        on = j.get("keys") or j.get("on") or j.get(True)  # YAML 1.1 reads a bare `on` key as true
        if not isinstance(on, dict):
            raise DataContractError(f"mapping: {target}: a join needs 'keys: {{left_column: right_column}}'")
        rname = src_names[j["source"]]
        cols = j.get("columns") or [c for c in right.columns if c not in on.values()]
        if j.get("optional") and not _join_columns_present(df, right, on, cols):
            log.skipped.append(
                f"{target}: join with {rname} skipped (optional; column(s) "
                f"{', '.join(_missing_join_columns(df, right, on, cols))} not in the files)"
            )
            continue
        need_columns(df, list(on.keys()), fname, f"tables.{target}.join keys")
        need_columns(right, list(on.values()), rname, f"tables.{target}.join keys")
        need_columns(right, list(cols), rname, f"tables.{target}.join columns")
        right = _join_side(right, list(on.values()), list(cols))
        prefix = j.get("prefix", "")
        right = right.rename(columns={c: f"{prefix}{c}" for c in cols})
        before = df.index
        df = (
            df.reset_index()
            .merge(right, how="left", left_on=list(on.keys()), right_on=list(on.values()), suffixes=("", "_joined"))
            .set_index("row")
        )
        df.index = before
        used |= set(on.keys())
        before_unused = set(log.unused[rname]) if rname in log.unused else set(sources[j["source"]].columns)
        log.unused[rname] = sorted(before_unused - set(on.values()) - set(cols))
        log.mapped.append(
            f"{target}: joined {src_names[j['source']]} on {', '.join(f'{k} = {v}' for k, v in on.items())}"
        )
    if spec.get("filter"):
        value, cols = evaluate(spec["filter"], df, f"{mapping_name}: tables.{target}.filter")
        keep = _as_mask(value, df.index)
        used |= set(cols)
        removed = df.index[~keep.to_numpy()]
        if len(removed):
            log.dropped.append(
                f"{fname}: {n_rows(len(removed))} excluded by the mapping's filter '{spec['filter']}' ({rows_label(removed)})"
            )
        df = df[keep.to_numpy()]
    opts = read_opts.get(source, {}) or {}
    gspec = spec.get("group_by") or {}
    gkey = gspec.get("key") if isinstance(gspec, dict) else None
    df, u = drop_rows(df, spec.get("drop_rows"), fname, log, opts, _as_list(gkey) if gkey else None, target)
    used |= u
    df, u = compute(df, spec.get("compute"), fname, log, opts)
    used |= u
    df, u = group_by(df, spec.get("group_by"), fname, log, opts, target)
    used |= u
    out = pd.DataFrame(index=df.index)
    missing_cols = []
    source_columns: dict[str, str] = {}
    for col, src_spec in (spec.get("columns") or {}).items():
        names = _as_list(src_spec)
        present = [n for n in names if n in df.columns]
        if not present:
            missing_cols.append(f"{col} ← {' | '.join(names)}")
            continue
        out[col] = _coalesce(df, present)
        used |= set(present)
        source_columns[col] = " / ".join(present)
        log.mapped.append(f"{target}.{col} ← {fname}: {' / '.join(present)}")
    if missing_cols:
        required = {c.name for c in COLUMNS[target] if c.required}
        hard = [m for m in missing_cols if m.split(" ←")[0] in required]
        soft = [m for m in missing_cols if m not in hard]
        for m in soft:
            log.skipped.append(
                f"{target}.{m.split(' ←')[0]}: no column {m.split(' ← ')[1]} in {fname} (optional, left empty)"
            )
        if hard:
            raise DataContractError(
                f"{fname}: column(s) not found for required {target} field(s): {'; '.join(hard)} "
                f"(header has: {', '.join(map(str, df.columns[:12]))}{' …' if len(df.columns) > 12 else ''})"
            )
    for col, expr in (spec.get("derived") or {}).items():
        out[col], cols = evaluate(expr, df, f"{mapping_name}: tables.{target}.derived.{col}")
        used |= set(cols)
        log.mapped.append(f"{target}.{col} = {expr}")
    for col, value in (spec.get("constants") or {}).items():
        out[col] = value
        log.mapped.append(f"{target}.{col} = '{value}' (constant)")
    for col, sep in (spec.get("split_first") or {}).items():
        if col in out:
            out[col] = out[col].astype("string").str.split(str(sep)).str[0].str.strip().astype(object)
    for col, vmap in (spec.get("values") or {}).items():
        if col in out:
            out[col] = _map_values(out[col], vmap)
            log.mapped.append(f"{target}.{col}: values mapped ({len(vmap)} rules)")
    for col, cols in (spec.get("hash") or {}).items():
        cols = _as_list(cols)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataContractError(f"{fname}: hash {target}.{col}: column(s) not in the file: {', '.join(missing)}")
        out[col] = hash_values(df, cols)
        used |= set(cols)
        log.mapped.append(
            f"{target}.{col} = SHA-256 of {fname}: {' + '.join(cols)} (the values themselves are not written)"
        )
    raw_cols = set(sources[source].columns)
    log.unused[fname] = sorted((set(log.unused[fname]) if fname in log.unused else raw_cols) - used)
    return _coerce(target, out, fname, spec, opts, log, source_columns, fx)


def _date_rule(col_rule: Any, table_fmt: str | None, table_dayfirst: Any) -> tuple[str | None, bool | None]:
    """(strftime format, dayfirst) for one column: ``dates: {col: "%d.%m.%Y"}`` or ``{col: {dayfirst: true}}``
    first, then the table's ``dates: {format: …, dayfirst: …}``, then the source's ``read: {dayfirst: …}``."""
    if isinstance(col_rule, dict):
        fmt = col_rule.get("format", table_fmt)
        dayfirst = col_rule.get("dayfirst", table_dayfirst)
    else:
        fmt, dayfirst = (col_rule if col_rule is not None else table_fmt), table_dayfirst
    return fmt, (None if dayfirst is None else bool(dayfirst))


def _coerce(
    target: str,
    out: pd.DataFrame,
    fname: str,
    spec: dict,
    opts: dict,
    log: ImportLog,
    source_columns: dict[str, str] | None = None,
    fx: Rates | None = None,
) -> pd.DataFrame:
    source_columns = source_columns or {}
    dates = spec.get("dates") or {}
    if not isinstance(dates, dict):
        raise DataContractError(f"mapping: {target}: 'dates:' must map columns to formats or {{dayfirst: …}}")
    table_dayfirst = dates.get("dayfirst", opts.get("dayfirst"))
    decimal = spec.get("decimal", opts.get("decimal"))
    unusable = pd.Series(False, index=out.index)
    for c in COLUMNS[target]:
        if c.name not in out.columns:
            continue
        raw = out[c.name].where(out[c.name].notna(), None)
        if c.kind in ("timestamp", "month"):
            fmt, dayfirst = _date_rule(dates.get(c.name), dates.get("format"), table_dayfirst)
            src = source_columns.get(c.name)
            where = f"{fname}: column {c.name}{f' (← {src})' if src else ''}"
            parsed = parse_dates(raw, fmt=fmt, dayfirst=dayfirst, where=where, column=c.name)
            bad = bad_rows(parsed, raw)
            what = f"not a date{f' in format {fmt}' if fmt else ''}"
        elif c.kind in ("money", "float", "int"):
            if c.kind == "money":
                src = source_columns.get(c.name)
                check_one_currency(raw, c.name, f"{fname}: column {c.name}{f' (← {src})' if src else ''}", out.columns, opts)
            if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
                parsed = raw.astype(float)
            else:
                parsed = parse_numbers(raw, decimal)
            bad = bad_rows(parsed, raw)
            what = "not a number"
        elif c.kind == "bool":
            parsed = raw if pd.api.types.is_bool_dtype(raw) else parse_bool(raw)
            bad = bad_rows(parsed, raw)
            what = "not true/false"
        else:
            parsed = raw.astype("string").str.strip()
            parsed = parsed.where(parsed != "", pd.NA).astype(object).where(lambda x: x.notna(), None)
            bad = np.array([], dtype=int)
            what = ""
        if len(bad):
            action = "row(s) cannot be used" if c.required else "value(s) left empty"
            log.problems.append(f"{fname}: column {c.name}: {n_rows(len(bad))} {what}; {action} ({rows_label(bad)})")
        out[c.name] = parsed
        if c.required:
            unusable |= out[c.name].isna()
    if unusable.any():
        missing_by_col = {
            c.name: out.index[out[c.name].isna().to_numpy()]
            for c in COLUMNS[target]
            if c.required and c.name in out.columns and out[c.name].isna().any()
        }
        for col, rows in missing_by_col.items():
            log.dropped.append(
                f"{fname}: {n_rows(len(rows))} dropped from {target}: no usable {col} (required) ({rows_label(rows)})"
            )
        out = out[~unusable.to_numpy()]
    out = convert_money(out, target, fname, opts, fx, source_columns)
    idcol = ID_COLUMNS.get(target)
    if idcol and idcol in out.columns:
        dup = out[idcol].duplicated(keep="first")
        if dup.any():
            rows = out.index[dup.to_numpy()]
            log.dropped.append(
                f"{fname}: {n_rows(len(rows))} dropped from {target}: {idcol} repeated, first kept ({rows_label(rows)})"
            )
            out = out[~dup.to_numpy()]
        out = out.sort_values(idcol, kind="stable")
    return out.reset_index(drop=True)


def leads_from_opportunities(
    opps: pd.DataFrame, channel: str, log: ImportLog, channel_column: str | None = None
) -> pd.DataFrame:
    """Minimal leads when the export has only opportunities.

    One lead per opportunity (``lead_id`` = the opportunity's lead_id, else its opportunity_id):
    created_at = sql_at = the opportunity's created_at (an opportunity is a sales-qualified lead);
    customer_at = closed_at of won deals; owner = the deal owner; channel = the opportunity's
    ``channel_column`` where given and filled, else the mapping's constant.
    """
    lead_id = opps["lead_id"] if "lead_id" in opps.columns else opps["opportunity_id"]
    lead_id = lead_id.where(lead_id.notna(), opps["opportunity_id"])
    won = opps.get("is_won")
    chan = pd.Series(channel, index=opps.index, dtype=object)
    if channel_column and channel_column in opps.columns:
        chan = opps[channel_column].where(opps[channel_column].notna(), channel).astype(object)
    leads = (
        pd.DataFrame(
            {
                "lead_id": lead_id.astype(str),
                "created_at": opps["created_at"],
                "channel": chan,
                "owner_id": opps["owner_id"],
                "sql_at": opps["created_at"],
                "source_opportunity_id": opps["opportunity_id"].astype(str),
                "customer_at": opps["closed_at"].where(won.fillna(False).astype(bool))
                if won is not None and "closed_at" in opps
                else pd.NaT,
            }
        )
        .drop_duplicates("lead_id")
        .sort_values("lead_id", kind="stable")
        .reset_index(drop=True)
    )
    chan_text = f"from '{channel_column}' where filled, else '{channel}'" if channel_column else f"'{channel}' for all"
    log.assumptions.append(
        "leads were derived from opportunities (no leads export): one lead per opportunity, created and "
        "sales-qualified when the opportunity was created, a customer when it was won; channel "
        f"{chan_text}. Stages before SQL (MQL, SAL) and lead volume before qualification are unknown."
    )
    return leads


def reps_from_values(
    entries: list, sources: dict[str, pd.DataFrame], src_names: dict[str, str], log: ImportLog
) -> pd.DataFrame | None:
    """Reps from the distinct values of source columns, each with a role.

    ``reps: {from_values: [{source: leads, column: SDR, role: SDR}, {source: deals, column: Deal owner,
    role: AE}]}``: one rep per distinct non-empty value (trimmed; ``rep_id`` = ``name`` = the value as
    exported, as the owners are), its ``role`` the entry's. A name found under two roles gets both, in the
    order of the entries (``SDR/AE``), and the import report lists those names. A source not among the
    files is skipped (and said); a column not in its file is one line naming the file.
    """
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "source" in e and "column" in e for e in entries):
        raise DataContractError("mapping: reps.from_values: expected a list of {source: …, column: …, role: …}")
    found: list[pd.DataFrame] = []
    for e in entries:
        src, col = str(e["source"]), str(e["column"])
        if src not in sources:
            log.skipped.append(f"reps: from_values source '{src}' not among the files given")
            continue
        need_columns(sources[src], [col], src_names[src], "reps.from_values")
        values = sources[src][col].astype("string").str.strip()
        values = values[values.notna() & (values != "")].drop_duplicates()
        role = str(e["role"]).strip() if e.get("role") is not None else None
        found.append(pd.DataFrame({"rep_id": values.to_numpy(object), "role": role, "_order": len(found)}))
        log.mapped.append(
            f"reps ← {src_names[src]}: distinct values of {col} ({len(values):,}){f', role {role}' if role else ''}"
        )
    if not found:
        return None
    every = pd.concat(found, ignore_index=True)
    roles = (
        every.dropna(subset=["role"])
        .drop_duplicates(["rep_id", "role"])
        .sort_values(["rep_id", "_order"], kind="stable")
        .groupby("rep_id", sort=True)["role"]
        .agg("/".join)
    )
    ids = sorted(every["rep_id"].unique())
    reps = pd.DataFrame({"rep_id": ids, "name": ids, "role": roles.reindex(ids).to_numpy(object)})
    reps["role"] = reps["role"].where(reps["role"].notna(), None)
    both = reps[reps["role"].fillna("").str.contains("/", regex=False)]
    if len(both):
        shown = ", ".join(f"{r.rep_id} ({r.role})" for r in both.head(MAX_NAMES_SHOWN).itertuples())
        more = f", … {len(both) - MAX_NAMES_SHOWN} more" if len(both) > MAX_NAMES_SHOWN else ""
        log.assumptions.append(
            f"{len(both):,} rep name(s) appear under two roles and were given both (one rep, role joined with '/'): "
            f"{shown}{more}"
        )
    log.assumptions.append("reps derived from distinct column values (rep_id = name = the value as exported)")
    return reps
