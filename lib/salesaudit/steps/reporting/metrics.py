"""Step 04 — the numbers of the data-quality audit: are our data and reports accurate?

Every check looks at one table and returns one row of a *check table* with ``count`` failing rows out of
``base`` rows checked (``share = count / base``). Checks are grouped in seven dimensions:

* **completeness** — an important column is empty where it must be filled (e.g. open deals without an
  account);
* **validity** — stage dates out of order, dates after the data's extraction date, negative amounts,
  deals closed before they were created, stages not mapped to open/won/lost, ``is_won`` against the stage;
* **uniqueness** — duplicate leads: two leads with the same non-empty ``contact_key`` (an identifying field
  such as an e-mail hash); without one, duplicates cannot be judged;
* **consistency** — references to unknown reps / leads / campaigns …, channel spellings outside the
  canonical list, product names that do not match the product list;
* **timeliness** — open deals with no activity in the last ``inactive_opportunity_days``; leads never
  touched by sales;
* **freshness** — days between a table's latest record and the cut-off;
* **reconciliation** — won deals against orders (first order of the customer).

Scope. ``checks(snap)`` runs on a :class:`Snapshot`: the data *as it stood* at a cut-off (records
created before it; later dates blanked, so a deal won after the cut-off was still open). The whole data
(every record, cut-off = the extraction date) is the snapshot used to compare with the faults injected
into the demo company. Two per-row flags cannot be recomputed on loaded tables and are taken from the
stored record: raw channel spellings (the loader normalises them) and dates after the extraction date.

Extraction date. The loader's :class:`~salesaudit.data.coverage.Coverage` ``extracted_at`` (``extracted_at`` in
audit.yaml, else the latest timestamp of any table that is not after today): a date is "after the
extraction date" only when it is strictly later. Orders later than the latest lead are genuine.

Cannot judge. A check whose table is present but whose needed column is absent or holds no value at all
(or that needs an extraction date the data cannot give) does not run: :func:`unjudged` lists it with the
reason, as a neutral note — never a finding, never scored, never "0 problems" or "100% failing".

Score. For a table with checks c (weights w_c, failing share f_c):
``score = 100 × (1 − Σ w_c f_c / Σ w_c)``. The overall score is the equal-weighted mean of the table
scores (each table counts the same, however many rows it has). Weights: validity, consistency and
reconciliation 3; uniqueness, timeliness and freshness 2; completeness 2 for key fields (owner, account,
amount, close date), 1 otherwise.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesaudit.config import AuditConfig, canonical_token
from salesaudit.data.contract import COLUMNS, FOREIGN_KEYS
from salesaudit.data.coverage import Coverage, coverage_of
from salesaudit.data.derived import cached_frame
from salesaudit.data.io import AuditData, foreign_key_findings, stage_order_violations

__all__ = [
    "stale_open_deals",
    "untouched_lead_rows",
    "stage_order_rows",
    "duplicate_rows",
    "missing_owner_rows",
    "unknown_owner_deals",
    "unreconciled_deals",
    "RECOUNTED_LOADER_CHECKS",
    "is_recounted",
    "loader_only_findings",
    "loader_disagreements",
    "CHECK_COLUMNS",
    "DIMENSIONS",
    "DIMENSION_WEIGHT",
    "UNTOUCHED_LEAD_DAYS",
    "FRESHNESS_TOLERANCE_DAYS",
    "DEFAULT_FRESHNESS_TOLERANCE",
    "AMOUNT_TOLERANCE",
    "MIN_BASE_PCT",
    "TREND_QUARTERS",
    "CONTACT_KEY",
    "CREATED_COLUMN",
    "COMPLETENESS_SPECS",
    "Snapshot",
    "recorded_columns",
    "timestamp_columns",
    "future_flags",
    "channel_spelling_flags",
    "whole_snapshot",
    "from_tables",
    "as_of",
    "missing_in",
    "contact_keys",
    "duplicate_leads",
    "duplicate_pairs",
    "duplicate_summary",
    "duplicates_by_channel",
    "NO_CONTACT_KEY",
    "product_key",
    "product_mismatch",
    "product_spellings",
    "product_reference",
    "last_activity",
    "stale_open_opportunities",
    "untouched_leads",
    "reconcile_orders",
    "freshness",
    "UNJUDGED_COLUMNS",
    "unjudged",
    "checks",
    "table_scores",
    "overall_score",
    "dimension_scores",
    "score_trend",
    "ranked_fixes",
    "fault_counts",
    "trend_quarters",
    "reconciliation_quarters",
    "reconciliation_summary",
    "check_chart_data",
    "idle_days_open",
    "reconciliation_by_quarter",
    "unreconciled_revenue",
    "check_count",
]


CHECK_COLUMNS = [
    "table",
    "dimension",
    "check",
    "column",
    "label",
    "action",
    "count",
    "base",
    "share",
    "weight",
    "unit",
    "rows",
]


DIMENSIONS = ("completeness", "validity", "uniqueness", "consistency", "timeliness", "freshness", "reconciliation")


DIMENSION_WEIGHT = {
    "completeness": 1.0,
    "validity": 3.0,
    "uniqueness": 2.0,
    "consistency": 3.0,
    "timeliness": 2.0,
    "freshness": 2.0,
    "reconciliation": 3.0,
}


UNTOUCHED_LEAD_DAYS = 14


FRESHNESS_TOLERANCE_DAYS = {
    "spend": 31,
    "traffic": 31,
    "email_sends": 14,
    "content": 365,
    "campaigns": 365,
    "reps": 3650,
    "nps": 31,
}


DEFAULT_FRESHNESS_TOLERANCE = 7


AMOUNT_TOLERANCE = 0.01


#: a failing share is printed as a percentage only when at least this many rows were checked
#: (docs/assumptions.md: below ~30 cases a percentage overstates what is known; the counts are shown)
MIN_BASE_PCT = 30


#: the trend looks at this many quarter ends (the audited one included)
TREND_QUARTERS = 8


#: the identifying field duplicate leads are judged on
CONTACT_KEY = "contact_key"


#: column that says when a record was created (snapshot filter and freshness)
CREATED_COLUMN = {
    "leads": "created_at",
    "opportunities": "created_at",
    "activities": "occurred_at",
    "orders": "ordered_at",
    "tickets": "opened_at",
    "nps": "answered_at",
    "content_touches": "touched_at",
    "email_sends": "sent_at",
    "spend": "month",
    "traffic": "month",
    "campaigns": "start_date",
    "content": "published_at",
    "reps": "start_date",
}


#: (table, column, rows checked, weight, plural noun of the rows, what to do). Rows checked: None = every
#: row; a tuple of opportunity statuses; ``("owns_deals",)`` = reps that own at least one opportunity.
COMPLETENESS_SPECS: list[tuple[str, str, tuple[str, ...] | None, float, str, str]] = [
    ("leads", "owner_id", None, 2.0, "leads", "assign an owner (fix the routing rule that leaves them unassigned)"),
    ("leads", "segment", None, 1.0, "leads", "fill the segment on the lead form"),
    ("leads", "country", None, 1.0, "leads", "fill the country on the lead form"),
    ("leads", "lead_score", None, 1.0, "leads", "score them (check the scoring job)"),
    ("opportunities", "account_id", ("open",), 2.0, "open deals", "link each to its account"),
    ("opportunities", "account_id", ("won",), 2.0, "won deals", "link each to its account"),
    ("opportunities", "amount", ("open", "won"), 2.0, "open or won deals", "enter the deal value"),
    ("opportunities", "closed_at", ("won", "lost"), 2.0, "closed deals", "enter the close date"),
    ("opportunities", "lead_id", None, 1.0, "deals", "link each to the lead it came from"),
    ("opportunities", "product", None, 1.0, "deals", "enter the product"),
    ("opportunities", "lost_reason", ("lost",), 1.0, "lost deals", "make the lost reason mandatory"),
    ("reps", "team", None, 1.0, "reps", "fill the team"),
    ("reps", "quarterly_quota", ("owns_deals",), 1.0, "reps who own deals", "enter their quota"),
    ("tickets", "category", None, 1.0, "tickets", "categorise them"),
]


@dataclass
class Snapshot:
    """The tables as they stood at ``as_of`` (exclusive cut-off), with the settings.

    ``tables[t]`` keeps only records created before ``as_of``; timestamps at or after it are blanked and
    opportunity ``status`` is the status at the cut-off. Columns ``_channel_off`` (raw spelling outside
    the canonical list) and ``_future`` (a date strictly after the extraction date ``end``) are per-row
    flags of the stored record. ``end`` is None when the extraction date is unknown (no dates at all).
    """

    tables: dict[str, pd.DataFrame]
    cfg: AuditConfig
    as_of: pd.Timestamp
    end: pd.Timestamp | None
    whole: bool = False
    loader_counts: dict[str, int] = field(default_factory=dict)
    recorded: dict[str, frozenset[str]] = field(default_factory=dict)
    data_key: str = ""  # the loader's hash of the data (AuditData.cache_key) for a whole snapshot; "" otherwise
    # the whole snapshot's reference index (:func:`reference_index`), shared by every snapshot cut from it
    refs: dict = field(default_factory=dict, repr=False, compare=False)

    def has(self, table: str) -> bool:
        df = self.tables.get(table)
        return df is not None and len(df) > 0

    def records(self, table: str, column: str) -> bool:
        """True when ``column`` holds at least one value in the stored ``table`` (not only at the cut-off):
        a column absent or never filled is *not recorded*, and its checks cannot judge."""
        if table in self.recorded:
            return column in self.recorded[table]
        df = self.tables.get(table)
        return df is not None and column in df.columns and bool(df[column].notna().any())

    @property
    def cutoff(self) -> pd.Timestamp:
        """The instant "now" for lags and idle times: min(as_of, extraction date).

        Nothing can be recorded after the extraction, so a quarter that ends after it is measured at the
        extraction (else every table would look late and every deal idle).
        """
        return self.as_of if self.end is None else min(self.as_of, self.end)


def _today() -> pd.Timestamp:
    return pd.Timestamp.now().normalize() + pd.Timedelta(days=1)


def recorded_columns(tables: dict[str, pd.DataFrame]) -> dict[str, frozenset[str]]:
    """Per table, the columns holding at least one value."""
    return {t: frozenset(df.columns[df.notna().any().to_numpy()]) for t, df in tables.items() if df is not None}


def timestamp_columns(df: pd.DataFrame) -> list[str]:
    """Columns of ``df`` holding datetimes."""
    return [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])]


def future_flags(df: pd.DataFrame, end: pd.Timestamp | None) -> pd.Series:
    """True where any timestamp of the row is strictly after the extraction date ``end``.

    future ⇔ max(timestamps of the row) > end. All False when ``end`` is None (unknown: cannot judge).
    """
    cols = timestamp_columns(df)
    if not cols or end is None:
        return pd.Series(False, index=df.index)
    return (df[cols] > end).any(axis=1)


def channel_spelling_flags(raw_channel: pd.Series, cfg: AuditConfig) -> pd.Series:
    """True where the stored channel spelling is not exactly a canonical name.

    Canonical names are ``audit.yaml`` ``channels``; without that list, the normalised spellings found.
    Surrounding spaces count (``"events "`` is not ``events``), as in the loader's ``channel_spelling``
    finding.
    """
    raw = raw_channel.astype(object).where(raw_channel.notna(), None)
    if cfg.channels:
        canonical = set(cfg.channels)
    else:
        mapped = raw.dropna().map(lambda v: cfg.channel_aliases.get(str(v).strip(), canonical_token(v)))
        canonical = set(mapped.unique())
    return (raw.notna() & ~raw.isin(list(canonical))).astype(bool)


def _raw_channel_flags(data: AuditData, table: str) -> pd.Series | None:
    """Spelling flags of the channel values as stored in the file (the loader's ``channel_raw``)."""
    df = data.tables[table]
    if "channel_raw" not in df.columns:
        return None
    return channel_spelling_flags(df["channel_raw"], data.config)


def whole_snapshot(data: AuditData) -> Snapshot:
    """Every record of ``data`` with the per-row flags; cut-off = the loader's extraction date
    (``data.coverage.extracted_at``; today when it is unknown)."""
    cov = data.coverage if data.coverage is not None else coverage_of(data.tables, data.config)
    end = cov.extracted_at
    tables = {}
    for t, df in data.tables.items():
        if df is None:
            continue
        extra: dict[str, Any] = {"_future": future_flags(df, end).to_numpy()}
        if "channel" in df.columns:
            flags = _raw_channel_flags(data, t)
            if flags is None:  # no stored spelling kept (tables built by hand): use the normalised one
                flags = channel_spelling_flags(df["channel"], data.config)
            extra["_channel_off"] = flags.to_numpy()
        tables[t] = df.assign(**extra)
    counts = data.findings.groupby(["table", "check"])["count"].sum()
    loader_counts = {f"{t}:{c}": int(v) for (t, c), v in counts.items()}
    as_of = _today() if end is None else end
    return Snapshot(tables, data.config, as_of, end, True, loader_counts, recorded_columns(data.tables), data.cache_key)


def from_tables(
    tables: dict[str, pd.DataFrame],
    cfg: AuditConfig,
    end: pd.Timestamp | None = None,
    raw_channels: dict[str, pd.Series] | None = None,
) -> Snapshot:
    """A whole-data snapshot from typed tables (e.g. hand-made frames): ``_future`` is computed against
    ``end`` (default: the extraction date of :func:`salesaudit.data.coverage.coverage_of`, as the loader does),
    ``_channel_off`` from ``raw_channels[t]`` when given (else from the table's own ``channel`` column)."""
    end = coverage_of(tables, cfg).extracted_at if end is None else pd.Timestamp(end)
    out = {}
    for t, df in tables.items():
        extra: dict[str, Any] = {"_future": future_flags(df, end).to_numpy()}
        if "channel" in df.columns:
            raw = (raw_channels or {}).get(t, df["channel"])
            extra["_channel_off"] = channel_spelling_flags(pd.Series(list(raw), index=df.index), cfg).to_numpy()
        out[t] = df.assign(**extra)
    return Snapshot(out, cfg, _today() if end is None else end, end, True, {}, recorded_columns(tables))


def as_of(snap: Snapshot, cutoff: pd.Timestamp) -> Snapshot:
    """The snapshot as it stood at ``cutoff`` (exclusive).

    Rows whose creation column (:data:`CREATED_COLUMN`) is at or after the cut-off are dropped (missing
    creation dates are kept); every other timestamp at or after it is blanked; a won/lost deal closed
    at or after it is ``open``. Which columns are recorded stays that of the stored data.
    """
    cutoff = pd.Timestamp(cutoff)
    out = {}
    for t, df in snap.tables.items():
        created = CREATED_COLUMN.get(t)
        if created in df.columns:
            df = df[~(df[created] >= cutoff)]
        late = [c for c in timestamp_columns(df) if df[c].max() >= cutoff]
        if late:
            df = df.assign(**{c: df[c].where(df[c] < cutoff) for c in late})
        if t == "opportunities" and "status" in df.columns and "closed_at" in snap.tables[t].columns:
            closed_later = (snap.tables[t].loc[df.index, "closed_at"] >= cutoff).to_numpy()
            was_closed = df["status"].isin(["won", "lost"]).to_numpy()
            df = df.assign(status=np.where(closed_later & was_closed, "open", df["status"]).astype(object))
        out[t] = df
    return Snapshot(out, snap.cfg, cutoff, snap.end, False, {}, snap.recorded, refs=_whole_refs(snap))


def missing_in(df: pd.DataFrame, column: str, statuses: tuple[str, ...] | None = None) -> tuple[int, int]:
    """(rows with ``column`` empty, rows checked) among rows whose ``status`` is in ``statuses`` (all if None).

    completeness = 1 − empty / checked.
    """
    rows = df if statuses is None else df[df["status"].isin(list(statuses))]
    return int(rows[column].isna().sum()), len(rows)


def contact_keys(leads: pd.DataFrame) -> pd.Series:
    """The identifying field of each lead that can be judged for duplicates (NA where it cannot).

    key = ``contact_key`` stripped, empty → NA; NA too for leads derived from an opportunity (non-empty
    ``source_opportunity_id``): each stands for its own deal, so two of them are never copies of each other.
    """
    if CONTACT_KEY not in leads.columns:
        return pd.Series(pd.NA, index=leads.index, dtype="string")
    key = leads[CONTACT_KEY].astype("string").str.strip()
    key = key.mask(key == "")
    if "source_opportunity_id" in leads.columns:
        src = leads["source_opportunity_id"].astype("string").str.strip()
        key = key.mask(src.notna() & (src != ""))
    return key


def _by_original(leads: pd.DataFrame) -> pd.DataFrame:
    """Judged leads in the order that decides the original: created_at (missing last), then lead_id."""
    key = contact_keys(leads)
    judged = leads.loc[key.notna(), ["lead_id", "created_at"]].assign(key=key[key.notna()])
    return judged.sort_values(["created_at", "lead_id"], na_position="last", kind="stable")


def duplicate_leads(leads: pd.DataFrame) -> pd.Series | None:
    """True for each lead that is a copy of an earlier lead of the same person; None when no lead carries an
    identifying field (duplicates cannot be judged).

    Same person ⇔ the same non-empty ``contact_key`` (:func:`contact_keys`). Within a key the *original* is
    the earliest-created lead (missing created_at last; ties → the smallest ``lead_id``); every other lead
    of the key is a copy: copies = Σ_keys (leads of the key − 1). Nothing else (same date, same channel …)
    makes two leads duplicates.
    """
    order = _by_original(leads)
    if order.empty:
        return None
    copy = order["key"].duplicated(keep="first")
    out = pd.Series(False, index=leads.index)
    out[copy.index[copy.to_numpy()]] = True
    return out


def duplicate_pairs(leads: pd.DataFrame) -> pd.DataFrame:
    """One row per copy: ``lead_id, original_lead_id, contact_key, created_at`` (original as in
    :func:`duplicate_leads`), in the order copies were created."""
    order = _by_original(leads)
    first = order.groupby("key", sort=False)["lead_id"].transform("first")
    copy = order["key"].duplicated(keep="first")
    return pd.DataFrame(
        {
            "lead_id": order.loc[copy, "lead_id"].to_numpy(),
            "original_lead_id": first[copy].to_numpy(),
            CONTACT_KEY: order.loc[copy, "key"].astype(object).to_numpy(),
            "created_at": order.loc[copy, "created_at"].to_numpy(),
        }
    )


def duplicate_summary(leads: pd.DataFrame) -> dict[str, Any]:
    """``leads``, ``judged`` (leads with an identifying key), ``copies`` (None when none is judged),
    ``people`` (keys with at least one copy) and ``derived`` (leads from opportunities, never judged)."""
    key = contact_keys(leads)
    flags = duplicate_leads(leads)
    derived = 0
    if "source_opportunity_id" in leads.columns:
        src = leads["source_opportunity_id"].astype("string").str.strip()
        derived = int((src.notna() & (src != "")).sum())
    copies = None if flags is None else int(flags.sum())
    people = 0 if flags is None else int(key[flags].nunique())
    return {
        "leads": len(leads),
        "judged": int(key.notna().sum()),
        "copies": copies,
        "people": people,
        "derived": derived,
    }


def duplicates_by_channel(leads: pd.DataFrame) -> pd.DataFrame:
    """Copies per channel (``channel, copies``), most first: where the duplicates enter."""
    flags = duplicate_leads(leads)
    if flags is None or not flags.any() or "channel" not in leads.columns:
        return pd.DataFrame({"channel": pd.Series(dtype=object), "copies": pd.Series(dtype="int64")})
    c = leads.loc[flags, "channel"].astype(str).value_counts().rename_axis("channel").reset_index(name="copies")
    return c.sort_values(["copies", "channel"], ascending=[False, True], kind="stable").reset_index(drop=True)


NO_CONTACT_KEY = "cannot judge duplicates: the leads carry no identifying field (contact_key — e.g. an e-mail hash)"


def product_key(names: pd.Series) -> pd.Series:
    """Spelling-insensitive product key: lower case, only letters and digits (``GTX Pro`` → ``gtxpro``)."""
    return names.astype("string").str.lower().str.replace(r"[^0-9a-z]+", "", regex=True)


def product_mismatch(products: pd.Series, reference: list[str] | None = None) -> pd.Series:
    """True where an opportunity's product name does not match.

    With a product list (``audit.yaml`` ``products`` or a products table): the name is not exactly in it.
    Without one: names that collide after normalising (:func:`product_key`) — the most frequent spelling
    of each key is taken as the right one, the others mismatch.
    """
    present = products.notna()
    if reference:
        return (present & ~products.isin(list(reference))).astype(bool)
    names = products[present].astype(str)
    if names.empty:
        return pd.Series(False, index=products.index)
    key = product_key(names)
    counts = pd.DataFrame({"key": key, "name": names}).value_counts().reset_index(name="n")
    best = counts.sort_values(["key", "n", "name"], ascending=[True, False, True]).drop_duplicates("key")
    right = key.map(best.set_index("key")["name"])
    out = pd.Series(False, index=products.index)
    out[present] = (names != right).to_numpy()
    return out


def product_spellings(products: pd.Series, reference: list[str] | None = None) -> pd.DataFrame:
    """One row per product spelling that mismatches: ``product, rows, suggestion`` (the listed or most
    frequent name with the same :func:`product_key`, empty when none)."""
    bad = product_mismatch(products, reference)
    names = products[bad].astype(str)
    if names.empty:
        return pd.DataFrame(
            {
                "product": pd.Series(dtype=object),
                "rows": pd.Series(dtype="int64"),
                "suggestion": pd.Series(dtype=object),
            }
        )
    if reference:
        ref = pd.Series(list(reference))
        lookup = dict(zip(product_key(ref), ref))
    else:
        ok = products[products.notna() & ~bad].astype(str)
        lookup = dict(zip(product_key(ok), ok))
    out = names.value_counts().rename_axis("product").reset_index(name="rows")
    exact = product_key(out["product"]).map(lookup)
    # no exact key match: the closest listed name (difflib ratio ≥ 0.6), over the few distinct spellings
    close = [
        next(iter(difflib.get_close_matches(str(k), list(lookup), n=1, cutoff=0.6)), None)
        for k in product_key(out["product"])
    ]
    fuzzy = pd.Series([lookup.get(k) if k else None for k in close], index=out.index, dtype=object)
    out["suggestion"] = exact.fillna(fuzzy).fillna("")
    return out


def product_reference(cfg: AuditConfig, tables: dict[str, pd.DataFrame] | None = None) -> list[str]:
    """The product list: ``audit.yaml`` ``products``, else a ``products`` table's ``product`` column, else []."""
    if cfg.products:
        return list(cfg.products)
    prod = (tables or {}).get("products")
    if prod is not None and "product" in prod.columns:
        return sorted(prod["product"].dropna().astype(str).unique())
    return []


def last_activity(activities: pd.DataFrame, key: str) -> pd.Series:
    """Latest ``occurred_at`` per ``key`` (``lead_id`` or ``opportunity_id``)."""
    if activities is None or key not in activities.columns:
        return pd.Series(dtype="datetime64[ns]")
    a = activities[activities[key].notna()]
    return a.groupby(key)["occurred_at"].max()


def map_last_activity(keys: pd.Series, last: pd.Series) -> pd.Series:
    """``keys.map(last)`` as datetimes (NaT without an activity). An empty ``last`` — activities, but none on
    any deal yet, as at an early quarter end — gives all NaT (pandas cannot map through an empty datetime
    Series)."""
    if not len(last):
        return pd.Series(pd.NaT, index=keys.index, dtype="datetime64[ns]")
    return keys.map(last)


def stale_open_opportunities(
    opps: pd.DataFrame, activities: pd.DataFrame | None, cutoff: pd.Timestamp, days: int
) -> pd.Series:
    """True for open deals with no activity in the ``days`` before ``cutoff``.

    last touch = max(created_at, latest activity on the deal); stale ⇔ status = open and
    last touch < cutoff − days. A deal opened within the window is not stale.
    """
    last = map_last_activity(opps["opportunity_id"], last_activity(activities, "opportunity_id"))
    touch = pd.concat([opps["created_at"], last.astype("datetime64[ns]")], axis=1).max(axis=1)
    return ((opps["status"] == "open") & (touch < cutoff - pd.Timedelta(days=days))).astype(bool)


def untouched_leads(
    leads: pd.DataFrame, activities: pd.DataFrame | None, cutoff: pd.Timestamp, days: int = UNTOUCHED_LEAD_DAYS
) -> pd.Series:
    """True for leads created more than ``days`` before ``cutoff`` that sales never touched.

    untouched ⇔ no first_contact_at, no activity on the lead, no SAL/SQL/customer date and not
    disqualified.
    """
    bad = leads["created_at"] < cutoff - pd.Timedelta(days=days)
    for c in ("first_contact_at", "sal_at", "sql_at", "customer_at", "disqualified_at"):
        if c in leads.columns:
            bad &= leads[c].isna()
    if activities is not None and "lead_id" in activities.columns:
        bad &= ~leads["lead_id"].isin(activities["lead_id"].dropna())
    return bad.astype(bool)


def reconcile_orders(opps: pd.DataFrame, orders: pd.DataFrame, tolerance: float = AMOUNT_TOLERANCE) -> pd.DataFrame:
    """Won deals against the customer's first order (orders.customer_id = the deal's lead_id).

    One row per won deal with a lead: ``opportunity_id, lead_id, amount, order_amount, has_order,
    amount_differs`` where the first order is the customer's earliest; amount_differs ⇔
    |amount − order_amount| > tolerance × amount. Unreconciled revenue = amount of deals without an
    order + Σ |amount − order_amount| of deals whose amounts differ.
    """
    won = opps[(opps["status"] == "won") & opps["lead_id"].notna()]
    first = (
        orders.sort_values(["ordered_at", "order_id"]).drop_duplicates("customer_id").set_index("customer_id")["amount"]
    )
    # float even when no deal is won yet (an early quarter end): mapping an empty text column keeps it text
    order_amount = won["lead_id"].map(first).astype("float64")
    amount = won["amount"] if "amount" in won.columns else pd.Series(np.nan, index=won.index)
    has_order = order_amount.notna()
    differs = has_order & amount.notna() & ((amount - order_amount).abs() > tolerance * amount.abs())
    return pd.DataFrame(
        {
            "opportunity_id": won["opportunity_id"],
            "lead_id": won["lead_id"],
            "amount": amount,
            "order_amount": order_amount,
            "has_order": has_order.astype(bool),
            "amount_differs": differs.astype(bool),
        }
    )


def freshness(snap: Snapshot) -> pd.DataFrame:
    """Per table with a creation column: latest record before the cut-off and its lag.

    lag = cut-off − latest record (days), cut-off = min(end of the period, extraction date)
    (:attr:`Snapshot.cutoff`); stale share = clip((lag − tolerance) / 91, 0, 1): the share of a
    quarter missing beyond the table's normal delay (``FRESHNESS_TOLERANCE_DAYS``, 7 by default; monthly
    tables 31).
    """
    rows = []
    for t, df in snap.tables.items():
        col = CREATED_COLUMN.get(t)
        if col not in df.columns or df[col].notna().sum() == 0 or t in ("reps", "campaigns", "content"):
            continue
        latest = df[col].max()
        lag = (snap.cutoff - latest) / pd.Timedelta(days=1)
        tol = FRESHNESS_TOLERANCE_DAYS.get(t, DEFAULT_FRESHNESS_TOLERANCE)
        rows.append(
            {
                "table": t,
                "latest": latest,
                "lag_days": float(lag),
                "tolerance_days": tol,
                "stale_share": float(np.clip((lag - tol) / 91.0, 0, 1)),
            }
        )
    return pd.DataFrame(rows, columns=["table", "latest", "lag_days", "tolerance_days", "stale_share"])


_NOUN = {
    "leads": "leads",
    "opportunities": "deals",
    "activities": "activities",
    "orders": "orders",
    "tickets": "tickets",
    "reps": "reps",
    "campaigns": "campaigns",
}


def _noun(table: str) -> str:
    return _NOUN.get(table, f"{table} rows")


def _row(table, dimension, check, column, label, action, count, base, weight=None, unit="rows", rows=None) -> dict:
    w = DIMENSION_WEIGHT[dimension] if weight is None else weight
    share = count / base if base else 0.0
    return {
        "table": table,
        "dimension": dimension,
        "check": check,
        "column": column,
        "label": label,
        "action": action,
        "count": int(round(count)) if unit == "rows" else float(count),
        "base": int(base),
        "share": float(share),
        "weight": float(w),
        "unit": unit,
        "rows": float(count if rows is None else rows),
    }


def _completeness(snap: Snapshot) -> list[dict]:
    out = []
    for table, col, statuses, w, noun, action in COMPLETENESS_SPECS:
        df = snap.tables.get(table)
        if statuses == ("owns_deals",):
            opps = snap.tables.get("opportunities")
            if df is None or opps is None or col not in df.columns:
                continue
            df, statuses = df[df["rep_id"].isin(opps["owner_id"])], None
        if df is None or not snap.records(table, col) or (statuses and "status" not in df.columns):
            continue
        k, n = missing_in(df, col, statuses)
        if n:
            check = f"missing:{col}" + (f":{'+'.join(statuses)}" if statuses else "")
            out.append(_row(table, "completeness", check, col, f"{noun} lack {col}", action, k, n, w))
    act = snap.tables.get("activities")
    if act is not None and len(act):
        link = [c for c in ("lead_id", "opportunity_id") if snap.records("activities", c)]
        if link:
            k = int(act[link].isna().all(axis=1).sum())
            out.append(
                _row(
                    "activities",
                    "completeness",
                    "missing:link",
                    "lead_id,opportunity_id",
                    "activities linked to no lead or deal",
                    "log activities on the lead or deal",
                    k,
                    len(act),
                )
            )
    return out


def _validity(snap: Snapshot) -> list[dict]:
    out = []
    leads = snap.tables["leads"]
    if len(_dated_stages(snap)) >= 2:
        k = int(stage_order_violations(leads[_dated_stages(snap)]).sum())
        out.append(
            _row(
                "leads",
                "validity",
                "stage_order",
                "stage dates",
                "leads have stage dates out of order",
                "correct the stage dates (created ≤ MQL ≤ SAL ≤ SQL ≤ customer)",
                k,
                len(leads),
            )
        )
    for t, df in snap.tables.items():
        if not len(df):
            continue
        if "_future" in df.columns and timestamp_columns(df) and snap.end is not None:
            k = int(df["_future"].sum())
            out.append(
                _row(
                    t,
                    "validity",
                    "future_date",
                    "dates",
                    f"{_noun(t)} have a date after the extraction date",
                    "correct the dates (typing errors or wrong time zone)",
                    k,
                    len(df),
                )
            )
        money = [c.name for c in COLUMNS.get(t, []) if c.kind == "money" and snap.records(t, c.name)]
        if money:
            k = int((df[money] < 0).any(axis=1).sum())
            out.append(
                _row(
                    t,
                    "validity",
                    "negative_amount",
                    ",".join(money),
                    f"{_noun(t)} have a negative amount",
                    "correct the amounts (refunds belong in their own records)",
                    k,
                    len(df),
                )
            )
    opps = snap.tables.get("opportunities")
    if opps is not None and len(opps):
        if snap.records("opportunities", "closed_at"):
            k = int((opps["closed_at"] < opps["created_at"]).sum())
            out.append(
                _row(
                    "opportunities",
                    "validity",
                    "closed_before_created",
                    "closed_at",
                    "deals closed before they were created",
                    "correct the close or create dates",
                    k,
                    len(opps),
                )
            )
        k = int((opps["status"] == "unknown").sum())
        out.append(
            _row(
                "opportunities",
                "validity",
                "stage_map",
                "stage",
                "deals have a stage not mapped to open/won/lost",
                "map the stage in audit.yaml (stages:) or fix it in the CRM",
                k,
                len(opps),
            )
        )
        if not snap.records("opportunities", "is_won"):
            return out
        closed = opps[opps["status"].isin(["won", "lost"])]
        won = (closed["status"] == "won").to_numpy()
        given = closed["is_won"].astype("boolean")
        k = int((given.notna() & (given != won)).fillna(False).sum())
        out.append(
            _row(
                "opportunities",
                "validity",
                "is_won_vs_stage",
                "is_won",
                "closed deals have is_won against the stage",
                "make is_won follow the stage",
                k,
                len(closed),
            )
        )
    return out


def _uniqueness(snap: Snapshot) -> list[dict]:
    leads = snap.tables["leads"]
    whole_order = _from_whole(snap, "by_original", lambda t: _by_original(t["leads"]))
    if whole_order is not None:  # the whole data's order, cut: the same originals and copies, without a re-sort
        order = whole_order.loc[whole_order.index.isin(leads.index)]
        if order.empty:
            return []
        copies, judged = int(order["key"].duplicated(keep="first").sum()), len(order)
    else:
        flags = duplicate_leads(leads)
        if flags is None:  # no identifying field: see unjudged()
            return []
        copies, judged = int(flags.sum()), int(contact_keys(leads).notna().sum())
    return [
        _row(
            "leads",
            "uniqueness",
            "duplicate_leads",
            CONTACT_KEY,
            "leads are copies of an earlier lead with the same contact_key",
            "merge the copies into the original and enable duplicate detection on the lead form",
            copies,
            judged,
        )
    ]


_FK_LABEL = {
    ("opportunities", "owner_id"): ("deals are owned by an unknown rep", "reassign them to an active rep"),
    ("opportunities", "lead_id"): ("deals point to an unknown lead", "relink them to their lead"),
    ("leads", "owner_id"): ("leads are owned by an unknown rep", "reassign them to an active rep"),
    ("leads", "campaign_id"): ("leads name an unknown campaign", "add the campaign or correct the id"),
}


def _whole_refs(snap: Snapshot) -> dict:
    """The holder of the reference index of the whole snapshot ``snap`` was cut from (``snap.refs``), or a new
    one for ``snap``'s own tables when it is whole; filled on first use by :func:`foreign_key_counts`."""
    if snap.refs:
        return snap.refs
    holder: dict = {"tables": snap.tables} if snap.whole else {}
    if snap.whole:
        snap.refs = holder
    return holder


def reference_index(tables: dict[str, pd.DataFrame]) -> dict[tuple[str, str, str, str], pd.Series]:
    """For each foreign key ``(table, column, parent, parent column)`` of the whole data: per child row, the
    earliest creation time (:data:`CREATED_COLUMN`) of a parent row holding its value — ``-inf`` (``NaT`` read as
    the earliest) when such a parent has no creation time or its table has none, ``+inf`` (``NaT`` stored as
    ``pd.Timestamp.max``) when no parent holds it. Index = the child table's index.

    At a cut-off c (:func:`as_of`) a reference is broken exactly when its value is present and this time is not
    before c (the parent was created at or after c, or never existed): one hash join per key for the whole
    history instead of one per quarter end."""
    out = {}
    parents: dict[tuple[str, str], pd.Series] = {}  # six tables refer to leads.lead_id: one per parent key
    for table, col, parent, pcol in FOREIGN_KEYS:
        if table not in tables or parent not in tables:
            continue
        child, par = tables[table], tables[parent]
        if col not in child.columns or pcol not in par.columns:
            continue
        if (parent, pcol) not in parents:
            parents[(parent, pcol)] = _earliest_per_key(par, pcol, CREATED_COLUMN.get(parent))
        out[(table, col, parent, pcol)] = _looked_up(child[col], parents[(parent, pcol)])
    return out


def _earliest_per_key(df: pd.DataFrame, key: str, when: str | None) -> pd.Series:
    """Per value of ``df[key]``: the earliest ``df[when]`` of its rows, ``NaT`` (or no ``when`` column) read as
    ``pd.Timestamp.min`` — :func:`as_of` keeps undated rows at every cut-off. No grouping for a unique id column."""
    lo = pd.Timestamp.min
    if when in df.columns:
        t = pd.Series(df[when].to_numpy("datetime64[ns]"), index=df.index).fillna(lo)
    else:
        t = pd.Series(lo, index=df.index, dtype="datetime64[ns]")
    keys = df[key]
    if keys.notna().all() and keys.is_unique:
        return pd.Series(t.to_numpy(), index=pd.Index(keys.to_numpy(object)))
    return t.groupby(keys.to_numpy(object), sort=False, dropna=True).min()


def _looked_up(values: pd.Series, earliest: pd.Series) -> pd.Series:
    """``earliest`` at each of ``values`` (index = ``values``' index), ``pd.Timestamp.max`` for a value it lacks
    (never there at any cut-off). An empty ``earliest`` maps nothing (pandas cannot map through it)."""
    if not len(earliest):
        return pd.Series(pd.Timestamp.max, index=values.index, dtype="datetime64[ns]")
    t = values.map(earliest)
    return pd.Series(t.to_numpy("datetime64[ns]"), index=values.index).fillna(pd.Timestamp.max)


def _from_whole(snap: Snapshot, name: str, compute: Any) -> Any:
    """``compute(whole tables)``, once per whole snapshot, for a snapshot cut from one (:func:`as_of`); None for a
    whole snapshot or one built by hand (their checks compute on their own tables)."""
    holder = snap.refs
    if snap.whole or "tables" not in holder:
        return None
    if name not in holder:
        holder[name] = compute(holder["tables"])
    return holder[name]


def first_activity(tables: dict[str, pd.DataFrame]) -> pd.Series | None:
    """Per lead (index = the leads' index): the earliest ``occurred_at`` of its activities (``NaT`` read as the
    earliest, as :func:`as_of` keeps undated rows), ``pd.Timestamp.max`` without any; None without activities.
    At a cut-off c a lead has an activity exactly when this time is before c."""
    act = tables.get("activities")
    if act is None or "lead_id" not in act.columns:
        return None
    return _looked_up(tables["leads"]["lead_id"], _earliest_per_key(act, "lead_id", "occurred_at"))


def _rows_of(whole: pd.Series, index: pd.Index) -> np.ndarray:
    """``whole``'s values (datetime64) at the labels ``index`` of rows cut from its table: by position when the
    whole table has the loader's 0…n−1 index (no hash lookup), else by label."""
    wi = whole.index
    if isinstance(wi, pd.RangeIndex) and wi.start == 0 and wi.step == 1 and index.dtype.kind == "i":
        return whole.to_numpy("datetime64[ns]")[index.to_numpy()]
    return whole.reindex(index).to_numpy("datetime64[ns]")


def foreign_key_counts(snap: Snapshot, present: dict[str, pd.DataFrame]) -> list[dict]:
    """The loader's foreign-key check (:func:`salesaudit.data.io.foreign_key_findings`) on the non-empty tables
    ``present`` of ``snap`` — ``table, column, check, count`` of each key with broken references. A snapshot cut
    from a whole one (:func:`as_of`) counts from the whole data's :func:`reference_index`: a value is broken when
    present and its parent's creation time is not before the cut-off — the same rows as the hash join on the cut
    tables, in a fraction of the time (a million leads: 6 s per quarter end)."""
    index = _from_whole(snap, "references", reference_index)
    if index is None:
        return [
            {"table": f["table"], "column": f["column"], "check": f["check"], "count": f["count"]}
            for f in foreign_key_findings(present, {t: t for t in present})
        ]
    cut = np.datetime64(snap.as_of.to_datetime64(), "ns")
    out = []
    for (table, col, parent, pcol), first in index.items():
        if table not in present or parent not in present:
            continue
        s = present[table][col]
        broken = s.notna().to_numpy(bool) & (_rows_of(first, s.index) >= cut)
        if broken.any():
            out.append(
                {"table": table, "column": col, "check": f"foreign_key:{parent}.{pcol}", "count": int(broken.sum())}
            )
    return out


def _consistency(snap: Snapshot) -> list[dict]:
    out = []
    present = {t: df for t, df in snap.tables.items() if len(df)}
    for f in foreign_key_counts(snap, present):
        t, col = f["table"], f["column"]
        parent = f["check"].split(":", 1)[1]
        label, action = _FK_LABEL.get(
            (t, col),
            (f"{_noun(t)} refer to an unknown {parent}", f"correct {col} or add the missing {parent.split('.')[0]}"),
        )
        base = int(present[t][col].notna().sum())
        out.append(_row(t, "consistency", f"foreign_key:{parent}", col, label, action, f["count"], base))
    # a zero row per possible reference, so the score and the trend see the passing checks too
    seen = {(r["table"], r["check"]) for r in out}
    for t, col, parent, pcol in FOREIGN_KEYS:
        if t in present and parent in present and col in present[t].columns and pcol in present[parent].columns:
            if (t, f"foreign_key:{parent}.{pcol}") not in seen:
                label, action = _FK_LABEL.get(
                    (t, col),
                    (f"{_noun(t)} refer to an unknown {parent}.{pcol}", f"correct {col} or add the missing {parent}"),
                )
                out.append(
                    _row(
                        t,
                        "consistency",
                        f"foreign_key:{parent}.{pcol}",
                        col,
                        label,
                        action,
                        0,
                        int(present[t][col].notna().sum()),
                    )
                )
    for t, df in present.items():
        if "_channel_off" in df.columns:
            k = int(df["_channel_off"].sum())
            out.append(
                _row(
                    t,
                    "consistency",
                    "channel_spelling",
                    "channel",
                    f"{_noun(t)} spell the channel outside the canonical list",
                    "use the canonical channel names at the source (or add channel_aliases)",
                    k,
                    len(df),
                    1.0,
                )
            )
        if "channel" in df.columns and snap.cfg.channels:
            k = int((df["channel"].notna() & ~df["channel"].isin(snap.cfg.channels)).sum())
            out.append(
                _row(
                    t,
                    "consistency",
                    "channel_unknown",
                    "channel",
                    f"{_noun(t)} have an unknown channel",
                    "map them to a canonical channel (channel_aliases in audit.yaml)",
                    k,
                    len(df),
                )
            )
    opps = present.get("opportunities")
    if opps is not None and snap.records("opportunities", "product"):
        ref = product_reference(snap.cfg, snap.tables)
        k = int(product_mismatch(opps["product"], ref).sum())
        out.append(
            _row(
                "opportunities",
                "consistency",
                "product_name",
                "product",
                "deals name a product that does not match",
                "use the product list's names (pick-list, not free text)",
                k,
                int(opps["product"].notna().sum()),
                2.0,
            )
        )
    return out


def _timeliness(snap: Snapshot) -> list[dict]:
    out = []
    act = snap.tables.get("activities")
    opps = snap.tables.get("opportunities")
    if opps is not None and len(opps) and act is not None and len(act):
        days = snap.cfg.inactive_opportunity_days
        stale = stale_open_opportunities(opps, act, snap.cutoff, days)
        n_open = int((opps["status"] == "open").sum())
        out.append(
            _row(
                "opportunities",
                "timeliness",
                "stale_open",
                "activities",
                f"open deals have had no activity for {days}+ days",
                "review them: log the next step or close them as lost",
                int(stale.sum()),
                n_open,
            )
        )
    leads = snap.tables["leads"]
    touched_known = snap.records("leads", "first_contact_at") or (act is not None and len(act))
    if snap.records("leads", "created_at") and touched_known:
        first = _from_whole(snap, "first_activity", first_activity)
        if first is not None and act is not None:  # an activity before the cut-off, from the whole data's index
            bad = untouched_leads(leads, None, snap.cutoff) & ~(
                _rows_of(first, leads.index) < snap.as_of.to_datetime64()
            )
        else:
            bad = untouched_leads(leads, act, snap.cutoff)
        base = int((leads["created_at"] < snap.cutoff - pd.Timedelta(days=UNTOUCHED_LEAD_DAYS)).sum())
        out.append(
            _row(
                "leads",
                "timeliness",
                "untouched",
                "first_contact_at",
                f"leads were never touched by sales ({UNTOUCHED_LEAD_DAYS}+ days old)",
                "contact or disqualify them",
                int(bad.sum()),
                base,
            )
        )
    return out


def _freshness(snap: Snapshot) -> list[dict]:
    out = []
    for r in freshness(snap).itertuples(index=False):
        excess = max(r.lag_days - r.tolerance_days, 0.0)
        n_rows = len(snap.tables[r.table])
        out.append(
            _row(
                r.table,
                "freshness",
                "freshness",
                CREATED_COLUMN[r.table],
                f"days of {r.table} missing before the cut-off (latest {r.latest:%Y-%m-%d})",
                "check the export / sync of this table",
                excess,
                91,
                unit="days",
                rows=r.stale_share * n_rows,
            )
        )
    return out


def _reconciliation(snap: Snapshot) -> list[dict]:
    opps, orders = snap.tables.get("opportunities"), snap.tables.get("orders")
    if (
        opps is None
        or orders is None
        or not len(opps)
        or not len(orders)
        or not snap.records("opportunities", "lead_id")
    ):
        return []
    r = reconcile_orders(opps, orders)
    out = [
        _row(
            "opportunities",
            "reconciliation",
            "won_without_order",
            "orders",
            "won deals have no order",
            "find the missing orders (or reopen deals that never closed)",
            int((~r["has_order"]).sum()),
            len(r),
        )
    ]
    if snap.records("opportunities", "amount"):
        out.append(
            _row(
                "opportunities",
                "reconciliation",
                "amount_vs_order",
                "amount",
                f"won deals differ from their first order by more than {AMOUNT_TOLERANCE:.0%}",
                "correct the deal value or the order",
                int(r["amount_differs"].sum()),
                int(r["has_order"].sum()),
            )
        )
    return out


def _dated_stages(snap: Snapshot) -> list[str]:
    """Lead stage date columns (created ≤ MQL ≤ SAL ≤ SQL ≤ customer) that hold a value in the data."""
    return [c for c in ("created_at", "mql_at", "sal_at", "sql_at", "customer_at") if snap.records("leads", c)]


UNJUDGED_COLUMNS = ["table", "dimension", "check", "reason"]


def unjudged(snap: Snapshot) -> pd.DataFrame:
    """The checks that cannot judge this data, one row each: ``table, dimension, check, reason``.

    A check cannot judge when its table is present but a column it needs is absent or never filled
    (:meth:`Snapshot.records`), or when it needs an extraction date the data does not give. These are
    neutral notes: they are not in :func:`checks`, so they are never scored nor ranked as fixes.
    """
    rows: list[tuple[str, str, str, str]] = []
    present = {t for t, df in snap.tables.items() if df is not None and len(df)}
    seen = set()
    for table, col, *_ in COMPLETENESS_SPECS:
        if table in present and not snap.records(table, col) and (table, col) not in seen:
            seen.add((table, col))
            rows.append((table, "completeness", f"missing:{col}", f"{table}.{col}"))
    if len(_dated_stages(snap)) < 2:
        rows.append(
            (
                "leads",
                "validity",
                "stage_order",
                "cannot judge the order of stage dates: the leads carry fewer than two dated stages",
            )
        )
    if snap.end is None:
        rows.append(
            (
                "all",
                "validity",
                "future_date",
                "cannot judge dates after the extraction date: the data holds no date up to today, so its "
                "extraction date is unknown (set `extracted_at` in audit.yaml)",
            )
        )
    for t in sorted(present):
        money = [c.name for c in COLUMNS.get(t, []) if c.kind == "money"]
        if money and not any(snap.records(t, c) for c in money):
            what = " or ".join(money)
            rows.append(
                (t, "validity", "negative_amount", f"cannot judge negative values: the {_noun(t)} carry no {what}")
            )
    if "opportunities" in present:
        opps = snap.tables["opportunities"]
        closed = bool(opps["status"].isin(["won", "lost"]).any()) if "status" in opps.columns else False
        for col, what in (
            ("closed_at", "deals closed before they were created"),
            ("is_won", "is_won against the stage"),
        ):
            if closed and not snap.records("opportunities", col):
                rows.append(("opportunities", "validity", col, f"cannot judge {what}: the deals carry no {col}"))
        if not snap.records("opportunities", "product"):
            rows.append(
                (
                    "opportunities",
                    "consistency",
                    "product_name",
                    "cannot judge product names: the deals carry no product",
                )
            )
        if "activities" not in present:
            rows.append(
                (
                    "opportunities",
                    "timeliness",
                    "stale_open",
                    "cannot judge stale open deals: there is no activities table to show when a deal was last worked",
                )
            )
        if "orders" in present:
            if not snap.records("opportunities", "lead_id"):
                rows.append(
                    (
                        "opportunities",
                        "reconciliation",
                        "won_without_order",
                        "cannot reconcile won deals with orders: the deals carry no lead_id to match orders.customer_id",
                    )
                )
            elif not snap.records("opportunities", "amount"):
                rows.append(
                    (
                        "opportunities",
                        "reconciliation",
                        "amount_vs_order",
                        "cannot compare won amounts with orders: the deals carry no amount",
                    )
                )
    if contact_keys(snap.tables["leads"]).isna().all():
        rows.append(("leads", "uniqueness", "duplicate_leads", NO_CONTACT_KEY))
    if not snap.records("leads", "created_at"):
        rows.append(
            ("leads", "timeliness", "untouched", "cannot judge untouched leads: the leads carry no creation date")
        )
    elif not snap.records("leads", "first_contact_at") and "activities" not in present:
        rows.append(
            (
                "leads",
                "timeliness",
                "untouched",
                "cannot judge untouched leads: neither first_contact_at nor an activities table shows when sales "
                "touched a lead",
            )
        )
    for t in sorted(present):
        col = CREATED_COLUMN.get(t)
        if col and t not in ("reps", "campaigns", "content") and not snap.records(t, col):
            rows.append((t, "freshness", "freshness", f"cannot judge how up to date the {t} table is: it has no {col}"))
    return pd.DataFrame(rows, columns=UNJUDGED_COLUMNS)


#: checks the loader runs on the whole export that step 04 runs again on the data as it stood at the
#: quarter end (same names in ``AuditData.findings`` and :func:`checks`); the report shows step 04's counts
RECOUNTED_LOADER_CHECKS = ("channel_spelling", "stage_order", "foreign_key:")


def is_recounted(check: str) -> bool:
    """True when step 04 counts ``check`` again as of the quarter end (:data:`RECOUNTED_LOADER_CHECKS`)."""
    return any(check == c or (c.endswith(":") and check.startswith(c)) for c in RECOUNTED_LOADER_CHECKS)


def loader_only_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """The loader's findings that step 04 does not count again (``check`` not :func:`is_recounted`)."""
    if findings is None or not len(findings):
        return findings
    return findings.loc[~findings["check"].map(is_recounted)]


def loader_disagreements(snap: Snapshot, check_table: pd.DataFrame) -> pd.DataFrame:
    """Recounted checks whose count on ``snap`` differs from the loader's (``snap.loader_counts``).

    On the whole export (:func:`whole_snapshot`) both count the same rows, so any row here is a bug in one
    of them; on an earlier quarter's snapshot records created later make the loader's count larger.
    Columns: table, check, loader, step04.
    """
    rows = []
    for key, n in sorted(snap.loader_counts.items()):
        table, check = key.split(":", 1)
        if not is_recounted(check):
            continue
        m = (check_table["table"] == table) & (check_table["check"] == check)
        mine = int(check_table.loc[m, "count"].sum())
        if mine != n:
            rows.append({"table": table, "check": check, "loader": int(n), "step04": mine})
    return pd.DataFrame(rows, columns=["table", "check", "loader", "step04"])


def checks(snap: Snapshot) -> pd.DataFrame:
    """Every data-quality check on a snapshot: one row per (table, check) with
    ``count`` failing of ``base`` checked, ``share``, ``weight`` and the fix (``label``, ``action``)."""
    rows = (
        _completeness(snap)
        + _validity(snap)
        + _uniqueness(snap)
        + _consistency(snap)
        + _timeliness(snap)
        + _freshness(snap)
        + _reconciliation(snap)
    )
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def table_scores(check_table: pd.DataFrame) -> pd.DataFrame:
    """Score per table: 100 × (1 − Σ w·share / Σ w) over its checks; ``checks`` and ``failing`` counted."""
    c = check_table[check_table["base"] > 0].assign(ws=lambda d: d["weight"] * d["share"])
    g = c.groupby("table", sort=False).agg(
        w=("weight", "sum"), ws=("ws", "sum"), checks=("check", "size"), failing=("count", lambda s: int((s > 0).sum()))
    )
    g["score"] = 100 * (1 - g["ws"] / g["w"])
    return g.reset_index()[["table", "score", "checks", "failing"]].sort_values("score").reset_index(drop=True)


def overall_score(scores: pd.DataFrame) -> float:
    """Overall data-quality score: the equal-weighted mean of the table scores (NaN when none)."""
    return float(scores["score"].mean()) if len(scores) else float("nan")


def dimension_scores(check_table: pd.DataFrame) -> pd.DataFrame:
    """Score per dimension (same formula as the table score, over the dimension's checks)."""
    c = check_table[check_table["base"] > 0].assign(ws=lambda d: d["weight"] * d["share"])
    g = c.groupby("dimension").agg(w=("weight", "sum"), ws=("ws", "sum"), failing_rows=("rows", "sum"))
    g["score"] = 100 * (1 - g["ws"] / g["w"])
    order = [d for d in DIMENSIONS if d in g.index]
    return g.loc[order].reset_index()[["dimension", "score", "failing_rows"]]


def score_trend(snap: Snapshot, quarters: list) -> pd.DataFrame:
    """Score per quarter end: the data as it stood at each quarter's end (:func:`as_of`).

    Long format ``quarter, table, score`` with ``table == "overall"`` for the overall score.
    """
    frames = [_quarter_scores(snap, q) for q in quarters]
    if not frames:
        return pd.DataFrame(columns=["quarter", "table", "score"])
    return pd.concat(frames, ignore_index=True)


def _quarter_scores(snap: Snapshot, q: Any) -> pd.DataFrame:
    """One quarter end of :func:`score_trend`; computed once per data and quarter end when ``snap`` is a whole
    snapshot of loaded data (:func:`salesaudit.data.derived.cached_frame`) — the previous quarter's comparison
    shares seven of the eight quarter ends."""

    def compute() -> pd.DataFrame:
        s = table_scores(checks(as_of(snap, q.end)))
        rows = [{"quarter": q.label, "table": t, "score": v} for t, v in zip(s["table"], s["score"])]
        rows.append({"quarter": q.label, "table": "overall", "score": overall_score(s)})
        return pd.DataFrame(rows, columns=["quarter", "table", "score"])

    key = snap.data_key if snap.whole else ""
    return cached_frame(key, "dq_quarter_scores", {"label": q.label, "end": str(q.end)}, compute)


def ranked_fixes(check_table: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Failing checks ranked by rows affected × weight: ``rank, fix, table, rows, weight, priority``.

    ``fix`` reads "1,425 open deals lack account_id: link each to its account".
    """
    c = check_table[check_table["count"] > 0].copy()
    if c.empty:
        return pd.DataFrame(columns=["rank", "fix", "table", "dimension", "rows", "priority"])
    c["priority"] = c["rows"] * c["weight"]
    c = c.sort_values(["priority", "table", "check"], ascending=[False, True, True]).head(n)
    count_txt = np.where(
        c["unit"] == "days", c["count"].map(lambda v: f"{v:,.0f}"), c["count"].map(lambda v: f"{v:,.0f}")
    )
    fix = pd.Series(count_txt, index=c.index) + " " + c["label"] + ": " + c["action"]
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(c) + 1),
            "fix": fix.to_numpy(),
            "table": c["table"].to_numpy(),
            "dimension": c["dimension"].to_numpy(),
            "rows": c["rows"].round().astype(int).to_numpy(),
            "priority": c["priority"].round(1).to_numpy(),
        }
    )


def fault_counts(check_table: pd.DataFrame) -> dict[str, int]:
    """The counts the demo generator's ``faults`` are compared with (keys as in ``truth.json``)."""

    def get(table: str, check: str) -> int:
        m = (check_table["table"] == table) & (check_table["check"] == check)
        return int(check_table.loc[m, "count"].sum())

    return {
        "leads_missing_owner": get("leads", "missing:owner_id"),
        "leads_stage_out_of_order": get("leads", "stage_order"),
        "duplicate_leads": get("leads", "duplicate_leads"),
        "unknown_channel_spellings": get("leads", "channel_spelling"),
        "opportunities_unknown_owner": get("opportunities", "foreign_key:reps.rep_id"),
        "open_opportunities_without_account": get("opportunities", "missing:account_id:open"),
        "product_name_mismatch": get("opportunities", "product_name"),
        "won_without_order": get("opportunities", "won_without_order"),
    }


def trend_quarters(cov: Coverage, quarter: Any, n: int = TREND_QUARTERS) -> list:
    """The quarter ends of the trend: of the ``n`` quarters ending with ``quarter``, those the leads cover
    completely (:meth:`Coverage.is_complete`), oldest first. A quarter the leads do not cover would score
    the data of an export that had not started (or had stopped) as if it were the CRM's."""
    return [q for q in (quarter.previous(i) for i in range(n - 1, -1, -1)) if cov.is_complete(q)]


def reconciliation_quarters(trend_q: list, quarter: Any) -> list:
    """The quarters of the reconciliation chart: the trend's quarters, with the audited quarter last."""
    return [q for q in trend_q if q.label != quarter.label] + [quarter]


def reconciliation_summary(
    opps: pd.DataFrame, orders: pd.DataFrame, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> dict[str, float]:
    """Won revenue vs orders for deals closed in ``[start, end)`` (all when None).

    unreconciled = Σ amount of won deals without an order + Σ |amount − first order| of deals whose amount
    differs by more than 1%.
    """
    r = reconcile_orders(opps, orders)
    if start is not None and "closed_at" in opps.columns:
        closed = opps.set_index("opportunity_id")["closed_at"].reindex(r["opportunity_id"]).to_numpy()
        r = r[(closed >= np.datetime64(start)) & (closed < np.datetime64(end))]
    gap = (r["amount"] - r["order_amount"]).abs().where(r["amount_differs"], 0.0)
    no_order = r["amount"].where(~r["has_order"], 0.0)
    return {
        "won_deals": len(r),
        "won_revenue": float(r["amount"].sum()),
        "order_revenue": float(r["order_amount"].sum()),
        "without_order": int((~r["has_order"]).sum()),
        "without_order_revenue": float(no_order.sum()),
        "amount_differs": int(r["amount_differs"].sum()),
        "difference_revenue": float(gap.sum()),
        "unreconciled_revenue": float(no_order.sum() + gap.sum()),
        "unreconciled_share": float((no_order.sum() + gap.sum()) / r["amount"].sum())
        if r["amount"].sum()
        else float("nan"),
    }


def check_chart_data(check_table: pd.DataFrame, dimension: str, top: int = 10) -> pd.DataFrame:
    """The failing checks of one dimension for a bar chart of shares: ``label`` ("table: what"), ``share``,
    ``count``, largest share first, at most ``top`` rows; only checks of at least :data:`MIN_BASE_PCT` rows
    (smaller ones are in the table and sentences, as counts)."""
    c = check_table[
        (check_table["dimension"] == dimension) & (check_table["base"] >= MIN_BASE_PCT) & (check_table["count"] > 0)
    ]
    c = c.sort_values(["share", "count"], ascending=False).head(top)
    return pd.DataFrame(
        {
            "label": (c["table"] + ": " + c["label"]).to_numpy(),
            "share": c["share"].to_numpy(),
            "count": c["count"].to_numpy(),
        }
    )


def idle_days_open(snap: Snapshot) -> pd.Series:
    """Days since the last touch (max of creation and latest activity) of each open deal at the cut-off."""
    opps = snap.tables.get("opportunities")
    if opps is None or not len(opps):
        return pd.Series(dtype=float)
    o = opps[opps["status"] == "open"]
    last = map_last_activity(o["opportunity_id"], last_activity(snap.tables.get("activities"), "opportunity_id"))
    touch = pd.concat([o["created_at"], last.astype("datetime64[ns]")], axis=1).max(axis=1)
    return ((snap.cutoff - touch) / pd.Timedelta(days=1)).rename("idle_days")


def reconciliation_by_quarter(snap: Snapshot, quarters: list) -> pd.DataFrame:
    """Per quarter: won revenue of deals closed in it, their first-order revenue and the unreconciled part
    (:func:`reconciliation_summary`), on the data at the snapshot's cut-off."""
    opps, orders = snap.tables["opportunities"], snap.tables["orders"]
    rows = [{"quarter": q.label, **reconciliation_summary(opps, orders, q.start, q.end)} for q in quarters]
    return pd.DataFrame(rows)


def unreconciled_revenue(summary: dict | pd.Series, snap: Snapshot) -> float | None:
    """The quarter's unreconciled revenue, or None when the deals carry no amount (cannot judge)."""
    return float(summary["unreconciled_revenue"]) if snap.records("opportunities", "amount") else None


def check_count(check_table: pd.DataFrame, table: str, check: str) -> int | None:
    """``count`` of one check (None when the check did not run)."""
    m = (check_table["table"] == table) & (check_table["check"] == check)
    return int(check_table.loc[m, "count"].sum()) if m.any() else None


# --------------------------------------------------------------------------------------------------
# evidence: the records behind a count (their len() is the count; salesaudit.evidence keeps the allowed
# columns)
# --------------------------------------------------------------------------------------------------
_DEAL_EVIDENCE = ["opportunity_id", "owner_id", "lead_id", "stage", "status", "created_at", "closed_at", "amount"]


def stale_open_deals(snap: Snapshot) -> pd.DataFrame:
    """The open deals with no activity for ``inactive_opportunity_days`` before the cut-off
    (:func:`stale_open_opportunities`): ``opportunity_id, owner_id, lead_id, stage, created_at,
    last_activity_at, days_idle, amount``; ``len()`` = the ``stale_open`` check's count. Empty without
    deals or activities."""
    opps, act = snap.tables.get("opportunities"), snap.tables.get("activities")
    if opps is None or not len(opps) or act is None or not len(act):
        return pd.DataFrame(columns=["opportunity_id", "owner_id", "days_idle"])
    flags = stale_open_opportunities(opps, act, snap.cutoff, snap.cfg.inactive_opportunity_days)
    o = opps.loc[flags]
    last = o["opportunity_id"].map(last_activity(act, "opportunity_id")).astype("datetime64[ns]")
    touch = pd.concat([o["created_at"], last], axis=1).max(axis=1)
    cols = [c for c in ("opportunity_id", "owner_id", "lead_id", "stage", "created_at", "amount") if c in o.columns]
    return (
        o[cols]
        .assign(last_activity_at=last, days_idle=((snap.cutoff - touch) / pd.Timedelta(days=1)).round(0))
        .sort_values(["days_idle", "opportunity_id"], ascending=[False, True])
        .reset_index(drop=True)
    )


def untouched_lead_rows(snap: Snapshot) -> pd.DataFrame:
    """The leads sales never touched (:func:`untouched_leads`, older than :data:`UNTOUCHED_LEAD_DAYS` days):
    ``lead_id, owner_id, channel, created_at, days_old``; ``len()`` = the ``untouched`` check's count."""
    leads = snap.tables["leads"]
    if "created_at" not in leads.columns:
        return pd.DataFrame(columns=["lead_id", "owner_id", "created_at"])
    rows = leads.loc[untouched_leads(leads, snap.tables.get("activities"), snap.cutoff)]
    cols = [c for c in ("lead_id", "owner_id", "channel", "created_at") if c in rows.columns]
    return (
        rows[cols]
        .assign(days_old=((snap.cutoff - rows["created_at"]) / pd.Timedelta(days=1)).round(0))
        .sort_values(["created_at", "lead_id"])
        .reset_index(drop=True)
    )


def stage_order_rows(snap: Snapshot) -> pd.DataFrame:
    """The leads whose stage dates are out of order (``stage_order`` check, on the dated stages): the lead,
    its owner and channel and its stage dates; ``len()`` = the check's count."""
    leads, stages = snap.tables["leads"], _dated_stages(snap)
    if len(stages) < 2:
        return pd.DataFrame(columns=["lead_id", "owner_id", *stages])
    rows = leads.loc[stage_order_violations(leads[stages]).to_numpy()]
    cols = [c for c in ("lead_id", "owner_id", "channel", *stages) if c in rows.columns]
    return rows[cols].sort_values("lead_id").reset_index(drop=True)


def duplicate_rows(snap: Snapshot) -> pd.DataFrame:
    """The leads that are copies of an earlier lead (:func:`duplicate_pairs`): ``lead_id, duplicate_of,
    created_at`` and the copy's owner and channel — never the contact key itself (it may be an e-mail
    address); ``len()`` = the ``duplicate_leads`` check's count (empty when duplicates cannot be judged)."""
    leads = snap.tables["leads"]
    pairs = duplicate_pairs(leads) if duplicate_leads(leads) is not None else pd.DataFrame(columns=["lead_id"])
    extra = [c for c in ("owner_id", "channel") if c in leads.columns]
    info = leads.drop_duplicates("lead_id").set_index("lead_id")[extra]
    out = pd.DataFrame({"lead_id": pairs["lead_id"].astype(object)})
    if "original_lead_id" in pairs.columns:
        out["duplicate_of"] = pairs["original_lead_id"].to_numpy()
        out["created_at"] = pairs["created_at"].to_numpy()
    for c in extra:
        out[c] = out["lead_id"].map(info[c]).to_numpy()
    return out.reset_index(drop=True)


def missing_owner_rows(snap: Snapshot) -> pd.DataFrame:
    """The leads with an empty ``owner_id`` (the ``missing:owner_id`` check): ``lead_id, channel,
    created_at``; ``len()`` = the check's count (empty when leads carry no owner column)."""
    leads = snap.tables["leads"]
    if "owner_id" not in leads.columns:
        return pd.DataFrame(columns=["lead_id", "channel", "created_at"])
    cols = [c for c in ("lead_id", "owner_id", "channel", "created_at") if c in leads.columns]
    return leads.loc[leads["owner_id"].isna(), cols].sort_values("lead_id").reset_index(drop=True)


def unknown_owner_deals(
    snap: Snapshot, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None, status: str | None = None
) -> pd.DataFrame:
    """Deals whose ``owner_id`` is not a ``reps.rep_id`` (the ``foreign_key:reps.rep_id`` check), optionally
    only those closed in ``[start, end)`` with ``status``: the deal, its owner id, dates, status and amount.
    ``len()`` = the check's count (without a window). Empty without a reps table."""
    opps, reps = snap.tables.get("opportunities"), snap.tables.get("reps")
    if opps is None or reps is None or not len(opps) or not len(reps):
        return pd.DataFrame(columns=["opportunity_id", "owner_id"])
    keep = opps["owner_id"].notna() & ~opps["owner_id"].isin(reps["rep_id"])
    if start is not None and "closed_at" in opps.columns:
        keep &= opps["closed_at"].ge(start) & opps["closed_at"].lt(end)
    if status is not None:
        keep &= opps["status"] == status
    cols = [c for c in _DEAL_EVIDENCE if c in opps.columns]
    return opps.loc[keep, cols].sort_values("opportunity_id").reset_index(drop=True)


def unreconciled_deals(
    opps: pd.DataFrame, orders: pd.DataFrame, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The won deals closed in ``[start, end)`` that orders do not back (:func:`reconcile_orders`): no order
    (``problem = "no order"``) or a first order of a different amount (``"amount differs"``), with
    ``amount_gap`` (the unreconciled revenue of the deal). ``len()`` = ``without_order + amount_differs`` of
    :func:`reconciliation_summary`; Σ ``amount_gap`` = its ``unreconciled_revenue``."""
    r = reconcile_orders(opps, orders)
    if start is not None and "closed_at" in opps.columns:
        closed = opps.set_index("opportunity_id")["closed_at"].reindex(r["opportunity_id"]).to_numpy()
        r = r[(closed >= np.datetime64(start)) & (closed < np.datetime64(end))]
    r = r[~r["has_order"] | r["amount_differs"]]
    info = opps.drop_duplicates("opportunity_id").set_index("opportunity_id")
    gap = (r["amount"] - r["order_amount"]).abs().where(r["has_order"], r["amount"])
    out = pd.DataFrame(
        {
            "opportunity_id": r["opportunity_id"].to_numpy(),
            "lead_id": r["lead_id"].to_numpy(),
            "problem": np.where(r["has_order"], "amount differs", "no order"),
            "amount": r["amount"].to_numpy(),
            "order_amount": r["order_amount"].to_numpy(),
            "amount_gap": gap.to_numpy(),
        }
    )
    for c in ("owner_id", "closed_at"):
        if c in info.columns:
            out[c] = out["opportunity_id"].map(info[c]).to_numpy()
    return out.sort_values("opportunity_id").reset_index(drop=True)
