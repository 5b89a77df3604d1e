"""Deals in several currencies: money columns converted to the audit's currency at stated rates.

A money column ``X`` of a table (``opportunities.amount``, ``orders.amount``, ``spend.amount``,
``reps.quarterly_quota``) takes its currency from, in order:

1. a mapped column ``X_currency`` (``columns: {amount_currency: Currency}``), row by row;
2. the source's ``currency:`` under ``read:`` (every amount of that file), also for the rows of 1 left empty;
3. else the audit's currency (``audit: {currency: …}``, default EUR): the amounts are taken as they are.

Rates say what one unit is worth in the audit's currency (``fx_rates: {USD: 0.92}`` — 1 USD = 0.92 EUR),
from the mapping's ``audit: fx_rates`` and/or a rates file (``audit: fx_rates_from: {source: rates}``, a
CSV with ``currency`` and ``rate`` columns). One rate per currency applies to every date. The written
``audit.yaml`` keeps the rates (``fx_rates``) so the report can state them; the import report says how
many rows each rate converted. Formula: amount in audit currency = amount × rate(currency).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pandas as pd

from salesaudit.config import DEFAULTS, parse_fx_rates
from salesaudit.data.contract import COLUMNS
from salesaudit.data.importers.reading import n_rows, parse_numbers, rows_label
from salesaudit.errors import DataContractError

CURRENCY_SUFFIX = "_currency"


@dataclass
class Rates:
    """The audit's currency and the rates to it (1 unit of ``code`` = ``rates[code]`` units of ``base``)."""

    base: str
    rates: dict[str, float] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # code → "mapping" / "rates.csv"
    used: list[str] = field(default_factory=list)  # report lines: what each rate converted

    def rate(self, code: str) -> float | None:
        return 1.0 if code == self.base else self.rates.get(code)


def audit_rates(
    mapping: dict, sources: dict[str, pd.DataFrame], src_names: dict[str, str], mapping_name: str = "mapping"
) -> Rates:
    """The rates of a mapping: ``audit: fx_rates`` merged with the file of ``audit: fx_rates_from``.

    ``fx_rates_from: {source: rates, currency: currency, rate: rate}`` (column names optional, these are the
    defaults; found case-insensitively). A rate that is not a number > 0, a currency listed twice with two
    rates (in the file, or in the file and the mapping), or a rate other than 1 for the audit's own
    currency is one line naming the file.
    """
    audit = mapping.get("audit") or {}
    base = str(audit.get("currency") or DEFAULTS["currency"]).strip().upper()
    out = Rates(base)
    inline = parse_fx_rates(audit.get("fx_rates"), f"{mapping_name}: audit") or {}
    for code, rate in inline.items():
        out.rates[code], out.origin[code] = rate, mapping_name
    spec = audit.get("fx_rates_from")
    if spec:
        for code, (rate, fname) in _rates_file(spec, sources, src_names, mapping_name).items():
            if code in out.rates and out.rates[code] != rate:
                raise DataContractError(
                    f"{fname}: rate {rate:g} for {code} disagrees with {mapping_name}'s fx_rates ({out.rates[code]:g})"
                )
            out.rates[code], out.origin[code] = rate, fname
    if base in out.rates and out.rates[base] != 1:
        raise DataContractError(
            f"{out.origin[base]}: rate {out.rates[base]:g} for {base}, the audit's own currency (its rate is 1)"
        )
    out.rates.pop(base, None)
    return out


def _column(df: pd.DataFrame, name: str, fname: str) -> str:
    hit = [c for c in df.columns if str(c).strip().lower() == name.strip().lower()]
    if not hit:
        raise DataContractError(
            f"{fname}: fx_rates_from: no column '{name}' (header has: {', '.join(map(str, df.columns[:12]))})"
        )
    return hit[0]


def _rates_file(
    spec: dict, sources: dict[str, pd.DataFrame], src_names: dict[str, str], mapping_name: str
) -> dict[str, tuple[float, str]]:
    if not isinstance(spec, dict) or "source" not in spec:
        raise DataContractError(f"{mapping_name}: audit.fx_rates_from: expected {{source: NAME}} (a rates file)")
    src = str(spec["source"])
    if src not in sources:
        raise DataContractError(f"{mapping_name}: audit.fx_rates_from: source '{src}' is not among the files given")
    df, fname = sources[src], src_names[src]
    ccol = _column(df, str(spec.get("currency", "currency")), fname)
    rcol = _column(df, str(spec.get("rate", "rate")), fname)
    codes = df[ccol].astype("string").str.strip().str.upper()
    rates = parse_numbers(df[rcol])
    bad = df.index[(rates.isna() | (rates <= 0) | codes.isna()).to_numpy()]
    if len(bad):
        raise DataContractError(f"{fname}: column {rcol}: not a rate > 0 with its currency ({rows_label(bad)})")
    out: dict[str, tuple[float, str]] = {}
    for row, code, rate in zip(df.index, codes, rates):
        if code in out and out[code][0] != rate:
            raise DataContractError(f"{fname}: currency {code} has two rates ({out[code][0]:g}, {rate:g}; row {row})")
        out[str(code)] = (float(rate), fname)
    return out


def convert_money(
    out: pd.DataFrame,
    target: str,
    fname: str,
    opts: dict,
    fx: Rates | None,
    source_columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The money columns of one table converted to the audit's currency (module docstring); the
    ``X_currency`` columns are removed. ``out`` is indexed by spreadsheet row.

    A currency without a rate, on a row with an amount, is one line naming the file, the column, the
    currency and the rows.
    """
    if fx is None:
        return out
    source_columns = source_columns or {}
    default = str(opts.get("currency") or "").strip().upper() or None
    result = out.copy()
    for c in COLUMNS[target]:
        if c.kind != "money" or c.name not in result.columns:
            continue
        ccol = c.name + CURRENCY_SUFFIX
        if ccol not in result.columns and default is None:
            continue
        if ccol in result.columns:
            codes = result[ccol].astype("string").str.strip().str.upper()
            codes = codes.mask(codes == "")
        else:
            codes = pd.Series(pd.NA, index=result.index, dtype="string")
        amount = result[c.name]
        has = amount.notna()
        blank = codes.isna() & has
        fill = default or fx.base
        codes = codes.fillna(fill)
        where = f"{ccol} (← {source_columns[ccol]})" if ccol in source_columns else f"{c.name} (read: currency {default})"
        rates = codes.map(fx.rate)
        missing = has & rates.isna()
        if missing.any():
            parts = [
                f"{code} ({rows_label(result.index[(missing & (codes == code)).to_numpy()])})"
                for code in sorted(codes[missing].unique())
            ]
            raise DataContractError(
                f"{fname}: column {where}: no exchange rate to {fx.base} for {'; '.join(parts)}; give it under "
                f"audit: fx_rates (e.g. fx_rates: {{{sorted(codes[missing].unique())[0]}: 0.9}}, 1 unit = 0.9 {fx.base}) "
                "or in a rates file (fx_rates_from)"
            )
        result[c.name] = (amount * rates.astype(float)).where(has)
        counts = codes[has].value_counts().sort_index()
        parts = [
            f"{code} × {fx.rate(code):g} ({n_rows(int(n))})" if code != fx.base else f"{code} as it was ({n_rows(int(n))})"
            for code, n in counts.items()
        ]
        blank_note = (
            f"; {n_rows(int(blank.sum()))} with no currency taken as {fill} ({rows_label(result.index[blank.to_numpy()])})"
            if blank.any() and ccol in result.columns
            else ""
        )
        fx.used.append(f"{target}.{c.name} ({fname}) converted to {fx.base}: {', '.join(parts)}{blank_note}")
        if ccol in result.columns:
            result = result.drop(columns=[ccol])
    return result


def rates_lines(fx: Rates | None) -> list[str]:
    """The import report's "Currencies" section: the rates given, then what each converted."""
    if fx is None or (not fx.rates and not fx.used):
        return []
    lines = [f"Amounts are in {fx.base}; one rate per currency for every date (1 unit = rate {fx.base}).", ""]
    lines += [f"- 1 {code} = {rate:g} {fx.base} (from {fx.origin[code]})" for code, rate in sorted(fx.rates.items())]
    lines += [f"- {u}" for u in fx.used]
    return lines


def audit_with_rates(audit: dict, fx: Rates | None) -> dict:
    """``audit.yaml`` settings with ``fx_rates`` (the rates used) in place of ``fx_rates_from``."""
    out = copy.deepcopy(audit)
    out.pop("fx_rates_from", None)
    if fx is not None and fx.rates:
        out["fx_rates"] = dict(sorted(fx.rates.items()))
    else:
        out.pop("fx_rates", None)
    return out


_MARKER = r"([€$£¥]|(?<![A-Za-z])[A-Z]{3}(?![A-Za-z]))"


def check_one_currency(raw: pd.Series, column: str, where: str, out_columns, opts: dict) -> None:
    """Refuse a money column whose text carries two or more currency markers (``$ 1,200`` and ``€ 900``)
    when the mapping gives no currency for it (no ``X_currency`` column, no source ``currency:``): the
    numbers would be summed as if in one currency. One line naming the file and column, each marker and its rows.
    """
    if column + CURRENCY_SUFFIX in out_columns or opts.get("currency"):
        return
    if pd.api.types.is_numeric_dtype(raw):
        return
    text = raw.dropna().astype("string")
    text = text[text.str.contains(r"\d", regex=True).fillna(False).to_numpy(bool)]  # "TBD" is no currency
    marks = text.str.extract(_MARKER, expand=False).dropna()
    if marks.nunique() < 2:
        return
    parts = [f"{m} ({rows_label(marks.index[(marks == m).to_numpy()])})" for m in sorted(marks.unique())]
    raise DataContractError(
        f"{where}: amounts in several currencies — {', '.join(parts)}; map each row's currency as "
        f"{column}{CURRENCY_SUFFIX} (or give the source's currency: under read:) and the rates under audit: fx_rates"
    )
