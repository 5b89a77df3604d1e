"""Slices: the audit of one part of the company (a country, a segment, a channel, a team, a product).

A slice is written ``column=value``; several joined by ``,`` must all hold (AND):
``country=Germany``, ``team=North,segment=SMB``. Columns (:data:`SLICE_COLUMNS`):

* ``country``, ``segment`` — the lead's own column (a country by its ISO code or any of its names, :mod:`salesaudit.data.countries`: ``country=DE`` = ``country=Germany``);
* ``channel`` — the lead's channel, after the loader's normalisation (``channel_aliases``, then
  :func:`salesaudit.config.canonical_token`: ``Paid Search`` = ``paid_search``);
* ``team`` — the team (``reps.team``) of the lead's owner (``leads.owner_id``); a lead without an owner, or
  whose owner is not in ``reps``, is in no team;
* ``product`` — a lead is in the slice when it has a deal (``opportunities.lead_id``) of that product, and
  only the deals of that product are kept.

Text values are compared after the loader's cleaning (surrounding spaces removed) and without regard to
case (``country=germany`` = ``country=Germany``).

Which rows of the other tables belong to the slice (:func:`slice_masks`; ``docs/report.md``):

* ``opportunities`` — those whose ``lead_id`` is a kept lead (and, for ``product=``, of that product);
  deals without a lead cannot be placed in a slice and are left out;
* ``activities`` — those about a kept deal (``opportunity_id``), or about a kept lead (``lead_id``) and not
  about a deal left out;
* ``content_touches`` — by ``lead_id``; ``orders``, ``tickets``, ``nps`` — by ``customer_id`` (a lead id);
* ``reps`` — the reps who own a kept lead, deal or activity (and, for ``team=``, every rep of the team), so
  capacity and per-rep tables speak of the reps who worked the slice;
* ``campaigns`` — those of the slice's channel when it has a ``channel=`` condition, else all (a lookup);
* ``content`` — all (the library is company-wide; touches are sliced);
* ``spend``, ``traffic``, ``email_sends`` — cannot be tied to leads. A slice on the channel alone keeps the
  rows of that channel (``email_sends`` by their campaign's channel); any other slice leaves them out
  (:data:`NOT_SLICED`), because company-wide spend against a slice's revenue would make a ROI no one can
  act on. The cover and the report say so.

The data folder of a slice (:func:`write_slice_folder`) holds the *raw* rows of the kept records, exactly as
stored, so the slice's data-quality audit counts what the original files hold for those records; the raw
files are never modified. Its settings add ``slice_of`` (the whole data's lead-creation window and extraction
date, :func:`slice_settings`), so the slice audits the same quarters, as of the same date, as the whole data.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesaudit.config import AuditConfig, canonical_token
from salesaudit.data.countries import spellings
from salesaudit.errors import DataContractError

#: the columns a slice may name, and what they are read from
SLICE_COLUMNS: dict[str, str] = {
    "country": "leads.country",
    "segment": "leads.segment",
    "channel": "leads.channel (normalised)",
    "team": "reps.team of the lead's owner",
    "product": "opportunities.product of the lead's deals",
}
#: tables that cannot be tied to leads: kept only for a slice on the channel alone
NOT_SLICED = ("spend", "traffic", "email_sends")


@dataclass(frozen=True)
class Slice:
    """A parsed slice: ``conditions`` are ``(column, value)`` pairs, all of which must hold."""

    conditions: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        """``country=Germany, team=North`` (for the cover and the sentences)."""
        return ", ".join(f"{c}={v}" for c, v in self.conditions)

    @property
    def spec(self) -> str:
        """The canonical text of the slice (``country=Germany,team=North``): what ``summary.json`` records."""
        return ",".join(f"{c}={v}" for c, v in self.conditions)

    @property
    def slug(self) -> str:
        """A folder name safe on every file system: ``country-germany``, ``team-north_segment-smb``.

        Lower-case letters, digits and ``-``/``_`` only; a value that loses characters on the way
        (``Österreich``, ``A/B``) or is long gets 8 hex digits of its hash, so two slices never share a folder.
        """
        parts = []
        for col, value in self.conditions:
            token = re.sub(r"[^0-9a-z]+", "-", value.lower()).strip("-")
            if not token or len(token) > 40 or not re.fullmatch(r"[A-Za-z0-9 _-]+", value):
                token = (token[:40].strip("-") + "-" if token else "") + hashlib.sha256(value.encode()).hexdigest()[:8]
            parts.append(f"{col}-{token}")
        return "_".join(parts)

    @property
    def channel_only(self) -> bool:
        return [c for c, _ in self.conditions] == ["channel"]

    def value(self, column: str) -> str | None:
        return next((v for c, v in self.conditions if c == column), None)


def parse_slice(text: str, source: str = "--slice") -> Slice:
    """``"country=Germany, team=North"`` → :class:`Slice`; bad syntax or an unknown column → one line.

    >>> parse_slice("country=Germany,team=North").label
    'country=Germany, team=North'
    >>> parse_slice("channel = Paid Search").slug
    'channel-paid-search'
    """
    conditions: list[tuple[str, str]] = []
    if not isinstance(text, str) or not text.strip():
        raise DataContractError(f"{source}: empty slice (write column=value, e.g. country=Germany)")
    for part in text.split(","):
        if "=" not in part:
            raise DataContractError(f"{source} {text!r}: {part.strip()!r} is not column=value (e.g. country=Germany)")
        col, value = (s.strip() for s in part.split("=", 1))
        col = col.lower()
        if col not in SLICE_COLUMNS:
            raise DataContractError(
                f"{source} {text!r}: unknown column {col!r} (a slice may use {', '.join(SLICE_COLUMNS)})"
            )
        if not value:
            raise DataContractError(f"{source} {text!r}: {col}= has no value")
        if any(c == col for c, _ in conditions):
            raise DataContractError(f"{source} {text!r}: {col} is given twice (a lead has one {col})")
        conditions.append((col, value))
    return Slice(tuple(conditions))


def configured_slices(cfg: AuditConfig) -> list[Slice]:
    """The ``slices:`` list of ``audit.yaml`` (strings like ``country=Germany``), parsed; [] when absent."""
    raw = cfg.extra.get("slices") or []
    name = Path(cfg.source).name if cfg.source else "audit.yaml"
    return [parse_slice(s, f"{name}: slices") for s in raw]


# --------------------------------------------------------------------------------------------------
# masks
# --------------------------------------------------------------------------------------------------
def _text(s: pd.Series) -> pd.Series:
    """The loader's text cleaning (strip, blank = missing), case-folded for comparison."""
    out = s.astype("string").str.strip()
    return out.mask(out == "").str.casefold()


def _ids(s: pd.Series) -> pd.Series:
    out = s.astype("string").str.strip()
    return out.mask(out == "")


def _channel(s: pd.Series, cfg: AuditConfig) -> pd.Series:
    """The loader's channel normalisation (:func:`salesaudit.data.io.normalise_channels`)."""
    clean = _ids(s).astype(object)
    return clean.map(lambda v: cfg.channel_aliases.get(v, canonical_token(v)) if isinstance(v, str) else None)


def _col(tables: dict[str, pd.DataFrame], table: str, column: str) -> pd.Series | None:
    df = tables.get(table)
    return None if df is None or column not in df.columns else df[column]


def _isin(s: pd.Series | None, values: pd.Series | np.ndarray | set, n: int) -> np.ndarray:
    if s is None:
        return np.zeros(n, dtype=bool)
    return np.array(_ids(s).isin(list(values) if isinstance(values, set) else values).fillna(False), dtype=bool)


def _known_values(tables: dict[str, pd.DataFrame], sl: Slice, cfg: AuditConfig, shown: int = 8) -> str:
    """`` (countries in the data: France, Germany, …)`` for the one-line error of a slice matching no lead."""
    where = {"country": ("leads", "country"), "segment": ("leads", "segment"), "team": ("reps", "team")}
    where |= {"channel": ("leads", "channel"), "product": ("opportunities", "product")}
    if len(sl.conditions) > 1:
        return " all of the conditions"
    col = sl.conditions[0][0]
    s = _col(tables, *where[col])
    if s is None:
        return ""
    clean = _channel(s, cfg) if col == "channel" else _ids(s)
    values = sorted(str(v) for v in clean.dropna().unique())
    more = ", …" if len(values) > shown else ""
    return f" ({col} values in the data: {', '.join(values[:shown])}{more})"


def slice_masks(tables: dict[str, pd.DataFrame], sl: Slice, cfg: AuditConfig) -> dict[str, np.ndarray | None]:
    """``{table: boolean mask of the rows in the slice}`` (None: the table is kept whole; tables left out get
    an all-False mask). Works on the validated tables and on the raw ones alike (ids and text are cleaned the
    loader's way here). Rules in the module docstring. A column the data lacks, or a slice matching no lead,
    raises :class:`DataContractError` in one line.
    """
    leads = tables["leads"]
    keep = np.ones(len(leads), dtype=bool)
    opp = tables.get("opportunities")
    product = sl.value("product")
    for col, value in sl.conditions:
        if col in ("country", "segment"):
            s = _col(tables, "leads", col)
            if s is None:
                raise DataContractError(f"--slice {sl.spec}: the leads have no {col} column")
            # a country matches its ISO code and its names alike: country=DE finds "Germany" and "DE"
            wanted = spellings(value) if col == "country" else {value.strip().casefold()}
            keep &= _text(s).isin(wanted).fillna(False).to_numpy(bool)
        elif col == "channel":
            keep &= (_channel(leads["channel"], cfg) == _channel(pd.Series([value]), cfg)[0]).to_numpy(bool)
        elif col == "team":
            team = _col(tables, "reps", "team")
            if team is None:
                raise DataContractError(f"--slice {sl.spec}: reps has no team column (or there is no reps table)")
            members = _ids(tables["reps"]["rep_id"])[(_text(team) == value.strip().casefold()).fillna(False)]
            keep &= _isin(_col(tables, "leads", "owner_id"), set(members.dropna()), len(leads))
        elif col == "product":
            if _col(tables, "opportunities", "product") is None:
                raise DataContractError(f"--slice {sl.spec}: no opportunities with a product column")
    opp_keep: np.ndarray | None = None
    if opp is not None:
        opp_keep = np.zeros(len(opp), dtype=bool)
        if "lead_id" in opp.columns:
            opp_keep = _isin(opp["lead_id"], _ids(leads["lead_id"])[keep].dropna(), len(opp))
        if product is not None:
            opp_keep &= (_text(opp["product"]) == product.strip().casefold()).fillna(False).to_numpy(bool)
            with_deal = set(_ids(opp["lead_id"])[opp_keep].dropna())
            keep &= _isin(leads["lead_id"], with_deal, len(leads))
    if not keep.any():
        raise DataContractError(f"--slice {sl.spec}: no lead matches{_known_values(tables, sl, cfg)}")
    lead_ids = set(_ids(leads["lead_id"])[keep].dropna())
    masks: dict[str, np.ndarray | None] = {"leads": keep}
    kept_opps: set = set()
    dropped_opps: set = set()
    if opp is not None:
        masks["opportunities"] = opp_keep
        all_opps = _ids(opp["opportunity_id"])
        kept_opps = set(all_opps[opp_keep].dropna())
        dropped_opps = set(all_opps.dropna()) - kept_opps
    act = tables.get("activities")
    if act is not None:
        n = len(act)
        on_deal = _isin(_col(tables, "activities", "opportunity_id"), kept_opps, n)
        off_deal = _isin(_col(tables, "activities", "opportunity_id"), dropped_opps, n)
        masks["activities"] = on_deal | (_isin(_col(tables, "activities", "lead_id"), lead_ids, n) & ~off_deal)
    for t, key in (("content_touches", "lead_id"), ("orders", "customer_id"), ("tickets", "customer_id")):
        if tables.get(t) is not None:
            masks[t] = _isin(tables[t][key], lead_ids, len(tables[t]))
    if tables.get("nps") is not None:
        masks["nps"] = _isin(tables["nps"]["customer_id"], lead_ids, len(tables["nps"]))
    reps = tables.get("reps")
    if reps is not None:
        owners: set = set()
        for t in ("leads", "opportunities", "activities"):
            s = _col(tables, t, "owner_id")
            if s is not None and masks.get(t) is not None:
                owners |= set(_ids(s)[masks[t]].dropna())
        rk = _isin(reps["rep_id"], owners, len(reps))
        if sl.value("team") is not None:
            rk |= (_text(reps["team"]) == sl.value("team").strip().casefold()).fillna(False).to_numpy(bool)
        masks["reps"] = rk
    channel = sl.value("channel")
    target = _channel(pd.Series([channel]), cfg)[0] if channel is not None else None
    camp = tables.get("campaigns")
    if camp is not None:
        masks["campaigns"] = (_channel(camp["channel"], cfg) == target).to_numpy(bool) if target else None
    for t in ("spend", "traffic"):
        if tables.get(t) is not None:
            df = tables[t]
            masks[t] = (
                (_channel(df["channel"], cfg) == target).to_numpy(bool) if sl.channel_only else np.zeros(len(df), bool)
            )
    sends = tables.get("email_sends")
    if sends is not None:
        if sl.channel_only and camp is not None and "campaign_id" in sends.columns:
            ids = set(_ids(camp["campaign_id"])[masks["campaigns"]].dropna())
            masks["email_sends"] = _isin(sends["campaign_id"], ids, len(sends))
        else:
            masks["email_sends"] = np.zeros(len(sends), dtype=bool)
    if tables.get("content") is not None:
        masks["content"] = None
    return masks


def slice_tables(tables: dict[str, pd.DataFrame], sl: Slice, cfg: AuditConfig) -> dict[str, pd.DataFrame]:
    """The tables of the slice (rows in their order, index reset); tables left out entirely are absent.

    >>> cfg = __import__("salesaudit.config", fromlist=["load_config"]).load_config(None, None)
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "channel": ["events", "organic"], "country": ["DE", "FR"]})
    >>> sorted(slice_tables({"leads": leads}, parse_slice("country=de"), cfg)["leads"]["lead_id"])
    ['L1']
    """
    masks = slice_masks(tables, sl, cfg)
    out = {}
    for t, df in tables.items():
        m = masks.get(t)
        if m is None:
            out[t] = df
        elif t in NOT_SLICED and not m.any():
            continue
        else:
            out[t] = df[m].reset_index(drop=True)
    return out


def not_sliced_note(sl: Slice, present: list[str]) -> str:
    """The sentence the cover carries about the tables a slice leaves out (empty when none is left out)."""
    gone = [t for t in NOT_SLICED if t in present]
    if sl.channel_only or not gone:
        return ""
    return (
        f"{', '.join(gone)} cannot be tied to leads and are left out of this slice "
        "(no ROI or cost per lead within it; see the full audit)"
    )


# --------------------------------------------------------------------------------------------------
# the slice's data folder
# --------------------------------------------------------------------------------------------------
def slice_settings(cfg: AuditConfig, whole: dict | None) -> str:
    """The slice folder's ``audit.yaml``: the data's settings as they are, plus ``slice_of`` — the whole data's
    lead-creation window and extraction date (``leads_first``, ``leads_last``, ``extracted_at``,
    ``extracted_source``), so the slice's quarters are complete or partial exactly when the whole data's are
    and its as-of date is the export's (:func:`salesaudit.data.coverage.coverage_of`)."""
    import yaml

    settings = {}
    if cfg.source:
        settings = yaml.safe_load(Path(cfg.source).read_text(encoding="utf-8")) or {}
    if whole:
        settings["slice_of"] = {k: v for k, v in whole.items() if v is not None}
    return yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)


def whole_data_dates(coverage) -> dict:
    """``slice_of`` for :func:`slice_settings` from the whole data's :class:`salesaudit.data.coverage.Coverage`."""
    window = coverage.leads_window if coverage is not None else None
    iso = lambda t: None if t is None or pd.isna(t) else pd.Timestamp(t).isoformat()  # noqa: E731
    return {
        "leads_first": iso(window[0]) if window else None,
        "leads_last": iso(window[1]) if window else None,
        "extracted_at": iso(coverage.extracted_at) if coverage is not None else None,
        "extracted_source": f"the whole data's: {coverage.extracted_source}" if coverage is not None else None,
    }


def write_slice_folder(
    data_dir: Path, files: dict[str, str], cfg: AuditConfig, sl: Slice, out: Path, whole: dict | None = None
) -> Path:
    """Write the slice's data folder ``out``: the raw rows of the kept records of each table (CSV or Parquet
    as given), and the settings as ``audit.yaml`` (:func:`slice_settings`; ``whole`` from
    :func:`whole_data_dates`). The masks are computed on the raw files with the loader's cleaning, so they
    equal :func:`slice_masks` on the validated tables. Written in a temporary folder and renamed, so a folder
    that exists is complete. Returns ``out``.
    """
    from salesaudit.data.io import read_raw

    if (out / ".complete").is_file():
        return out
    raw = {t: read_raw(data_dir / name) for t, name in files.items()}
    masks = slice_masks(raw, sl, cfg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-slice-", dir=out.parent))
    try:
        for t, name in files.items():
            df, m = raw[t], masks.get(t)
            if m is not None and t in NOT_SLICED and not m.any():
                continue
            if m is None:
                shutil.copyfile(data_dir / name, tmp / name)
                continue
            part = df[m]
            if name.endswith(".parquet"):
                part.reset_index(drop=True).to_parquet(tmp / name, index=False)
            else:
                part.to_csv(tmp / name, index=False)
        if cfg.source or whole:
            (tmp / "audit.yaml").write_text(slice_settings(cfg, whole), encoding="utf-8")
        (tmp / ".complete").write_text(sl.spec, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
