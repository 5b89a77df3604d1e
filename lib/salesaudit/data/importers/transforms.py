"""Declarative row transforms of a mapping: ``drop_rows``, ``compute``, ``group_by`` and ``hash``.

Everything here is data, never code: column names, operators from :data:`OPERATORS` and literals. No
``eval``/``query``: a mapping file cannot run anything. Reference with examples: ``docs/importing.md``.

Order inside one table spec: join → filter → **drop_rows** → **compute** → **group_by** → columns,
derived, constants, split_first, values, **hash** → types.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from salesaudit.errors import DataContractError
from salesaudit.data.importers.reading import n_rows, parse_dates, parse_numbers, rows_label

# operator → (canonical name, needs a value)
OPERATORS: dict[str, str] = {
    "==": "eq",
    "eq": "eq",
    "!=": "ne",
    "ne": "ne",
    "<": "lt",
    "lt": "lt",
    "<=": "le",
    "le": "le",
    ">": "gt",
    "gt": "gt",
    ">=": "ge",
    "ge": "ge",
    "in": "in",
    "not in": "not_in",
    "not_in": "not_in",
    "empty": "empty",
    "not empty": "not_empty",
    "not_empty": "not_empty",
    "starts with": "startswith",
    "startswith": "startswith",
    "contains": "contains",
}
AGGREGATES = ("first", "last", "min", "max", "sum", "count", "nunique")
COMPUTE_OPS = ("multiply", "add", "subtract", "hash", "row_number")


def need_columns(df: pd.DataFrame, cols: list[str], fname: str, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataContractError(
            f"{fname}: {what} names column(s) not in the file: {', '.join(missing)} "
            f"(header has: {', '.join(map(str, df.columns[:12]))}{' …' if len(df.columns) > 12 else ''})"
        )


def condition_mask(df: pd.DataFrame, cond: dict, fname: str, opts: dict | None = None) -> pd.Series:
    """Boolean mask of the rows matching ``{column: C, op: OP, value: V}`` (an empty cell never matches
    a comparison; use ``op: empty``). ``<``/``>`` compare numbers, ``==``/``in``/``starts with`` text."""
    if not isinstance(cond, dict) or "column" not in cond:
        raise DataContractError(f"mapping: a condition needs 'column:' and 'op:' (got {cond!r})")
    col = str(cond["column"])
    op = OPERATORS.get(str(cond.get("op", "==")).strip().lower())
    if op is None:
        raise DataContractError(
            f"mapping: condition on {col}: unknown op '{cond.get('op')}' (known: {', '.join(sorted(set(OPERATORS)))})"
        )
    need_columns(df, [col], fname, "a condition")
    text = df[col].astype("string").str.strip()
    text = text.mask(text == "")
    value = cond.get("value")
    if op == "empty":
        m = text.isna()
    elif op == "not_empty":
        m = text.notna()
    elif op in ("lt", "le", "gt", "ge"):
        num = parse_numbers(df[col], (opts or {}).get("decimal"))
        v = float(value)
        m = {"lt": num < v, "le": num <= v, "gt": num > v, "ge": num >= v}[op]
    elif op in ("in", "not_in"):
        vals = [str(v) for v in (value if isinstance(value, list) else [value])]
        m = text.isin(vals)
        m = m if op == "in" else (~m & text.notna())
    elif op == "startswith":
        m = text.str.startswith(str(value))
    elif op == "contains":
        m = text.str.contains(str(value), regex=False)
    else:
        m = (text == str(value)) if op == "eq" else (text != str(value))
    return pd.Series(m, index=df.index).fillna(False).astype(bool)


def describe(cond: dict) -> str:
    """``InvoiceNo starts with 'C'`` — the condition as the report says it."""
    op = OPERATORS.get(str(cond.get("op", "==")).strip().lower(), str(cond.get("op")))
    words = {
        "eq": "is",
        "ne": "is not",
        "lt": "<",
        "le": "≤",
        "gt": ">",
        "ge": "≥",
        "in": "is one of",
        "not_in": "is none of",
        "startswith": "starts with",
        "contains": "contains",
    }
    if op in ("empty", "not_empty"):
        return f"{cond['column']} {'is empty' if op == 'empty' else 'is not empty'}"
    value = cond.get("value")
    shown = ", ".join(f"'{v}'" for v in value) if isinstance(value, list) else f"'{value}'"
    return f"{cond['column']} {words[op]} {shown}"


def drop_rows(
    df: pd.DataFrame,
    rules: list | None,
    fname: str,
    log,
    opts: dict,
    count_by: list[str] | None = None,
    target: str = "",
) -> tuple[pd.DataFrame, set[str]]:
    """Drop the rows matching each rule, in order; each rule's count (and reason) goes to the report.

    ``count_by`` (the group_by key) adds how many distinct keys the dropped rows held ("12 invoices").
    """
    used: set[str] = set()
    for rule in rules or []:
        m = condition_mask(df, rule, fname, opts)
        used.add(str(rule["column"]))
        rows = df.index[m.to_numpy()]
        if len(rows):
            reason = f" — {rule['reason']}" if rule.get("reason") else ""
            keys = ""
            if count_by and all(k in df.columns for k in count_by):
                n = len(df.loc[m.to_numpy(), count_by].dropna().drop_duplicates())
                keys = f", {n:,} distinct {'/'.join(count_by)}" if n else ""
            log.dropped.append(
                f"{fname}: {n_rows(len(rows))}{keys} dropped{f' from {target}' if target else ''} by the mapping's rule '{describe(rule)}'{reason} "
                f"({rows_label(rows)})"
            )
        df = df[~m.to_numpy()]
    return df, used


def hash_values(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    """SHA-256 (first 16 hex digits) of the trimmed, lower-cased values joined by '|'; empty when all are empty.

    Hashed once per distinct value (``pd.factorize``), so a million rows cost as many hashes as there are
    distinct contacts.
    """
    parts = [df[c].astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True) for c in cols]
    filled = pd.concat([p.notna() & (p != "") for p in parts], axis=1).any(axis=1)
    joined = parts[0].fillna("")
    for p in parts[1:]:
        joined = joined + "|" + p.fillna("")
    codes, uniq = pd.factorize(joined)
    digests = np.array([hashlib.sha256(str(u).encode("utf-8")).hexdigest()[:16] for u in uniq], dtype=object)
    out = pd.Series(digests[codes], index=df.index, dtype=object)
    return out.where(filled.to_numpy(), None)


def compute(df: pd.DataFrame, spec: dict | None, fname: str, log, opts: dict) -> tuple[pd.DataFrame, set[str]]:
    """New source columns: ``{name: {multiply|add|subtract: [cols]}}``, ``{hash: [cols]}``, ``{row_number: true}``."""
    used: set[str] = set()
    out = df.copy() if spec else df
    for name, rule in (spec or {}).items():
        if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in COMPUTE_OPS:
            raise DataContractError(
                f"mapping: compute {name}: give one operation of {', '.join(COMPUTE_OPS)} (got {rule!r})"
            )
        op, args = next(iter(rule.items()))
        if op == "row_number":
            out[name] = pd.Series(out.index, index=out.index).astype(str).to_numpy(object)
            log.mapped.append(f"{fname}: {name} = the spreadsheet row number")
            continue
        cols = [str(c) for c in (args if isinstance(args, list) else [args])]
        need_columns(out, cols, fname, f"compute {name}")
        used |= set(cols)
        if op == "hash":
            out[name] = hash_values(out, cols)
            log.mapped.append(
                f"{fname}: {name} = SHA-256 of {' + '.join(cols)} (the values themselves are not written)"
            )
            continue
        nums = [parse_numbers(out[c], opts.get("decimal")) for c in cols]
        acc = nums[0]
        for n in nums[1:]:
            acc = {"multiply": acc * n, "add": acc + n, "subtract": acc - n}[op]
        out[name] = acc
        sym = {"multiply": " × ", "add": " + ", "subtract": " − "}[op]
        log.mapped.append(f"{fname}: {name} = {sym.join(cols)}")
    return out, used


def _typed(s: pd.Series, where: str, opts: dict) -> pd.Series:
    """Numbers if every filled value is a number, else dates if every one is a date, else trimmed text."""
    text = s.astype("string").str.strip()
    filled = text.notna() & (text != "")
    num = pd.to_numeric(text, errors="coerce")
    if (num.notna() | ~filled).all():
        return num.astype("float64")
    dates = parse_dates(text, dayfirst=opts.get("dayfirst"), where=where, column=str(s.name))
    if (dates.notna() | ~filled).all():
        return dates
    return text.where(filled)


def group_by(
    df: pd.DataFrame, spec: dict | None, fname: str, log, opts: dict, target: str = ""
) -> tuple[pd.DataFrame, set[str]]:
    """One row per key: ``{key: C, order_by: C, aggregate: {name: {first|last|min|max|sum|count|nunique: C,
    where: condition}}}``. The row label of a group is its first spreadsheet row."""
    if not spec:
        return df, set()
    if not isinstance(spec, dict) or "key" not in spec:
        raise DataContractError("mapping: group_by needs 'key:' (a column or a list) and 'aggregate:'")
    keys = [str(k) for k in (spec["key"] if isinstance(spec["key"], list) else [spec["key"]])]
    order = [str(c) for c in (spec.get("order_by") or [])] if isinstance(spec.get("order_by"), list) else []
    if isinstance(spec.get("order_by"), str):
        order = [spec["order_by"]]
    need_columns(df, keys + order, fname, "group_by")
    used = set(keys) | set(order)
    key_text = df[keys].apply(lambda s: s.astype("string").str.strip())
    no_key = key_text.isna().any(axis=1) | (key_text == "").any(axis=1)
    if no_key.any():
        rows = df.index[no_key.to_numpy()]
        log.dropped.append(
            f"{fname}: {n_rows(len(rows))} dropped{f' from {target}' if target else ''}: no {'/'.join(keys)} to group by ({rows_label(rows)})"
        )
        df = df[~no_key.to_numpy()]
    work = df.assign(_row=df.index.to_numpy())
    if order:
        sort_cols = {f"_order{i}": _typed(work[c], f"{fname}: column {c}", opts) for i, c in enumerate(order)}
        work = work.assign(**sort_cols).sort_values(list(sort_cols) + ["_row"], kind="stable")
    groups = work.groupby(keys, sort=False, dropna=False)
    result = groups["_row"].min().rename("row").to_frame()
    for name, rule in (spec.get("aggregate") or {}).items():
        ops = [k for k in rule if k in AGGREGATES] if isinstance(rule, dict) else []
        if len(ops) != 1:
            raise DataContractError(f"mapping: group_by aggregate {name}: give one of {', '.join(AGGREGATES)}")
        op, col = ops[0], str(rule[ops[0]])
        need_columns(work, [col], fname, f"group_by aggregate {name}")
        used.add(col)
        values = work[col]
        if op in ("min", "max"):
            values = _typed(values, f"{fname}: column {col}", opts)
        elif op == "sum":
            values = parse_numbers(values, opts.get("decimal")) if not pd.api.types.is_numeric_dtype(values) else values
        else:
            values = values.where(values.astype("string").str.strip() != "")
        cond = ""
        if rule.get("where"):
            m = condition_mask(work, rule["where"], fname, opts)
            used.add(str(rule["where"]["column"]))
            values = values.where(m.to_numpy())
            cond = f" where {describe(rule['where'])}"
        g = values.groupby([work[k] for k in keys], sort=False, dropna=False)
        agg = g.sum(min_count=1) if op == "sum" else getattr(g, op)()
        result[name] = agg
        log.mapped.append(f"{fname}: {name} = {op} of {col}{cond} per {'/'.join(keys)}")
    out = result.reset_index().set_index("row").sort_index()
    log.mapped.append(
        f"{target + ': ' if target else ''}{fname}: {len(df):,} rows grouped into {len(out):,} (one per {'/'.join(keys)}"
        f"{', in order of ' + '/'.join(order) if order else ''})"
    )
    return out, used
