"""Paths from the project root and the audit settings read from ``audit.yaml``.

``audit.yaml`` lives beside the data (``data/<name>/audit.yaml``). Every key is optional; missing keys
take the defaults in :data:`DEFAULTS`. Example::

    company: Northwind Devices (demo)
    currency: EUR
    fiscal_year_start_month: 1      # 1 = calendar year; 4 = fiscal year starts in April
    roi_target: 2.0                 # 2 returned per 1 spent
    gross_margin: 0.7               # share of revenue kept after cost of goods
    stages:                         # opportunity stage names -> open / won / lost
      open: [Prospecting, Qualification, Proposal, Negotiation]
      won: [Closed Won]
      lost: [Closed Lost]
    channels: [paid_search, paid_social, events, webinar, organic, referral, partner, podcast]
    channel_aliases: {"Google Ads": paid_search}
    products: [Core, Pro, Enterprise]
    referral_channel: referral
    stale_content_days: 365
    inactive_opportunity_days: 30
    interval_level: 0.9
    score_breakeven_sql_rate: 0.25  # optional: SQL rate at which a lead is worth sales' time (step 3)
    extracted_at: 2026-10-02        # optional: when the data was exported (else the latest date in any table)
    earliest_date: 1990-01-01       # optional: dates before it are errors (default 1990-01-01)
    latest_date: 2027-10-02         # optional: dates after it are errors (default extraction date + 1 year)
    file_format: csv                # optional: which file to read when a table is given as CSV and Parquet
    new_channel:                    # optional: a new channel to evaluate in step 7 (skipped when absent)
      name: podcast                 #   its label in the report
      leads: 150                    #   leads expected per quarter
      reach_rate: 0.5               #   share of those leads reached by sales
      close_rate: 0.25              #   share of reached leads that become customers
      spend: 12000                  #   optional: its quarterly cost (else leads × cost_per_lead, else its
      cost_per_lead: 80             #   optional   observed cost per lead when it already has spend)
      resembles: webinar            #   optional: a known channel whose rates give a second estimate
    revenue_target: {year: 20000000}  # optional: the revenue to plan for in step 7, in the currency above;
                                    #   {quarter: 5000000} or {year: 20000000} (a year counts ¼ per quarter)
    fx_rates: {USD: 0.92, GBP: 1.17}  # optional: the rates the importer converted amounts at (1 USD = 0.92 EUR)
    slices: [country=Germany, team=North]  # optional: the slices `report --slices` builds (docs/report.md)

Keys not listed in ``DEFAULTS`` are kept in ``AuditConfig.extra``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_ROOT = PROJECT_ROOT / "data"
DEMO_DIR = DATA_ROOT / "demo"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
CACHE_DIRNAME = ".salesaudit-cache"

DEFAULTS: dict[str, Any] = {
    "company": "Your company",
    "currency": "EUR",
    "fiscal_year_start_month": 1,
    "roi_target": 2.0,
    "gross_margin": 0.7,
    "stages": {
        "open": ["Prospecting", "Qualification", "Proposal", "Negotiation", "Engaging", "Open"],
        "won": ["Closed Won", "Won"],
        "lost": ["Closed Lost", "Lost"],
    },
    "channels": [],
    "channel_aliases": {},
    "products": [],
    "referral_channel": "referral",
    "stale_content_days": 365,
    "inactive_opportunity_days": 30,
    "interval_level": 0.9,
}


def canonical_token(value: str) -> str:
    """Normalise a channel spelling: lower case, runs of non-alphanumerics → ``_``.

    ``"Paid Search "`` → ``"paid_search"``; ``"paid-search"`` → ``"paid_search"``.
    """
    return re.sub(r"[^0-9a-z]+", "_", str(value).strip().lower()).strip("_")


@dataclass(frozen=True)
class AuditConfig:
    """Audit settings for one data folder."""

    company: str
    currency: str
    fiscal_year_start_month: int
    roi_target: float
    gross_margin: float
    stages: dict[str, list[str]]
    channels: list[str]
    channel_aliases: dict[str, str]
    products: list[str]
    referral_channel: str
    stale_content_days: int
    inactive_opportunity_days: int
    interval_level: float
    extra: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def stage_status(self, stage: str) -> str:
        """``open`` / ``won`` / ``lost`` / ``unknown`` for an opportunity stage name (case-insensitive)."""
        key = str(stage).strip().lower()
        for status in ("won", "lost", "open"):
            if key in {s.lower() for s in self.stages.get(status, [])}:
                return status
        return "unknown"

    def stage_map(self) -> dict[str, str]:
        """Lower-cased stage name → status."""
        out: dict[str, str] = {}
        for status in ("open", "lost", "won"):
            for s in self.stages.get(status, []):
                out[str(s).strip().lower()] = status
        return out


def load_config(data_dir: str | Path | None = None, config: str | Path | None = "audit.yaml") -> AuditConfig:
    """Read ``audit.yaml`` (relative paths are taken inside ``data_dir``) merged over the defaults.

    A missing file gives the defaults; an unreadable one raises ``DataContractError``.
    """
    from salesaudit.errors import DataContractError

    settings = copy.deepcopy(DEFAULTS)
    path: Path | None = None
    if config is not None:
        path = Path(config)
        if not path.is_absolute() and data_dir is not None:
            candidate = Path(data_dir) / path
            path = candidate if candidate.exists() or not path.exists() else path
        if str(config) != "audit.yaml" and not path.exists():  # a file asked for by name must exist
            raise DataContractError(f"{config}: settings file not found")
        if path.exists() and not path.is_file():
            raise DataContractError(f"{path}: settings file is not a regular file")
    if path is not None and path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            from salesaudit.errors import yaml_error_line

            raise DataContractError(yaml_error_line(exc, path.name)) from None
        if not isinstance(loaded, dict):
            raise DataContractError(f"{path.name}: expected a mapping of settings, got {type(loaded).__name__}")
        check_settings(loaded, path.name)
        for key, value in loaded.items():
            if key == "stages" and isinstance(value, dict):
                settings["stages"] = {k: list(v or []) for k, v in value.items()}
            else:
                settings[key] = value
    known = {k: settings.pop(k) for k in list(DEFAULTS)}
    try:
        return AuditConfig(
            company=str(known["company"]),
            currency=str(known["currency"]),
            fiscal_year_start_month=int(known["fiscal_year_start_month"]),
            roi_target=float(known["roi_target"]),
            gross_margin=float(known["gross_margin"]),
            stages={k: [str(s) for s in v] for k, v in known["stages"].items()},
            channels=[canonical_token(c) for c in known["channels"] or []],
            channel_aliases={str(k): canonical_token(v) for k, v in (known["channel_aliases"] or {}).items()},
            products=[str(p) for p in known["products"] or []],
            referral_channel=canonical_token(known["referral_channel"]),
            stale_content_days=int(known["stale_content_days"]),
            inactive_opportunity_days=int(known["inactive_opportunity_days"]),
            interval_level=float(known["interval_level"]),
            extra=settings,
            source=str(path) if path is not None and path.exists() else None,
        )
    except (TypeError, ValueError) as exc:
        name = path.name if path is not None else "audit.yaml"
        raise DataContractError(f"{name}: a setting has the wrong type ({exc})") from None


#: settings read from ``AuditConfig.extra`` by the steps (besides :data:`DEFAULTS`)
OPTIONAL_KEYS: dict[str, str] = {
    "score_breakeven_sql_rate": "share",
    "extracted_at": "date",
    "new_channel": "mapping",
    "earliest_date": "date",
    "latest_date": "date",
    "file_format": "file_format",
    "revenue_target": "revenue_target",
    "fx_rates": "fx_rates",
    "slices": "slices",
    "slice_of": "mapping",  # written by the slicer into a slice's folder (data.slices.write_slice_folder)
}
_KINDS: dict[str, str] = {
    "company": "text",
    "currency": "text",
    "fiscal_year_start_month": "month",
    "roi_target": "positive",
    "gross_margin": "share",
    "stages": "stages",
    "channels": "list",
    "channel_aliases": "mapping",
    "products": "list",
    "referral_channel": "text",
    "stale_content_days": "days",
    "inactive_opportunity_days": "days",
    "interval_level": "level",
    **OPTIONAL_KEYS,
}


def check_settings(settings: dict[str, Any], file: str = "audit.yaml") -> None:
    """Refuse settings the audit would misread, with one line naming the file and the key.

    Unknown keys (a typo such as ``roi_targt``) name the closest known key; lists must be lists (``channels:
    paid_search`` would be split into letters), ``stages`` a mapping of open/won/lost to lists; shares
    (``gross_margin``, ``score_breakeven_sql_rate``) lie in [0, 1]; ``interval_level`` in (0, 1);
    ``fiscal_year_start_month`` is 1–12; ``roi_target`` > 0; day counts are whole numbers ≥ 0;
    ``extracted_at``, ``earliest_date`` and ``latest_date`` are dates, the earliest before the latest;
    ``file_format`` is csv or parquet; ``revenue_target`` is ``{quarter: amount}`` or ``{year: amount}``
    (:func:`parse_revenue_target`).
    """
    import difflib

    from salesaudit.errors import DataContractError

    def bad(key: str, what: str) -> None:
        raise DataContractError(f"{file}: {key}: {what}")

    for key, value in settings.items():
        kind = _KINDS.get(str(key))
        if kind is None:
            close = difflib.get_close_matches(str(key), list(_KINDS), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else f" (known keys: {', '.join(sorted(_KINDS))})"
            bad(str(key), f"unknown setting{hint}")
        if value is None and key in OPTIONAL_KEYS:
            continue
        if kind == "text" and not isinstance(value, (str, int, float)):
            bad(key, f"expected text, got {type(value).__name__}")
        elif kind == "list" and not isinstance(value, list):
            bad(key, f"expected a list (e.g. [a, b]), got {type(value).__name__}")
        elif kind == "mapping" and not isinstance(value, dict):
            bad(key, f"expected a mapping (key: value), got {type(value).__name__}")
        elif kind == "stages":
            if not isinstance(value, dict):
                bad(key, "expected a mapping of open/won/lost to lists of stage names")
            for status, names in value.items():
                if status not in ("open", "won", "lost"):
                    bad(f"{key}.{status}", "expected open, won or lost")
                if not isinstance(names, list):
                    bad(f"{key}.{status}", f"expected a list of stage names, got {type(names).__name__}")
        elif kind in ("share", "level", "positive", "month", "days"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                bad(key, f"expected a number, got {type(value).__name__}")
            v = float(value)
            if kind == "share" and not 0 <= v <= 1:
                bad(key, f"{value} is outside 0–1 (a share: 0.7 means 70%)")
            if kind == "level" and not 0 < v < 1:
                bad(key, f"{value} is outside 0–1 (e.g. 0.9 for 90% intervals)")
            if kind == "positive" and not v > 0:
                bad(key, f"{value} must be greater than 0")
            if kind == "month" and not (v == int(v) and 1 <= v <= 12):
                bad(key, f"{value} is not a month number 1–12")
            if kind == "days" and not (v == int(v) and v >= 0):
                bad(key, f"{value} is not a whole number of days ≥ 0")
        elif kind == "revenue_target":
            parse_revenue_target(value, file)
        elif kind == "fx_rates":
            parse_fx_rates(value, file)
        elif kind == "slices" and not (
            isinstance(value, list) and all(isinstance(v, str) and "=" in v and v.strip() for v in value)
        ):
            bad(key, "expected a list of slices written column=value (e.g. [country=Germany, team=North])")
        elif kind == "file_format" and value not in ("csv", "parquet"):
            bad(key, f"{value!r} is neither csv nor parquet")
        elif kind == "date":
            import pandas as pd

            try:
                ok = not pd.isna(pd.Timestamp(value))
            except (TypeError, ValueError, OverflowError):
                ok = False
            if not ok:
                bad(key, f"{value!r} is not a date (write 2026-10-02)")
    lo, hi = settings.get("earliest_date"), settings.get("latest_date")
    if lo is not None and hi is not None:
        import pandas as pd

        if pd.Timestamp(lo) >= pd.Timestamp(hi):
            bad("earliest_date", f"{lo} is not before latest_date {hi}")


def parse_fx_rates(value: Any, file: str = "audit.yaml") -> dict[str, float] | None:
    """``{USD: 0.92, GBP: 1.17}`` (1 unit of each = that many of the audit's currency) → upper-cased codes
    and floats; None for an empty value. A code that is not three letters, or a rate that is not a number
    > 0, raises ``DataContractError`` in one line naming the file and the key.

    >>> parse_fx_rates({"usd": 0.92, "GBP": "1.17"})
    {'USD': 0.92, 'GBP': 1.17}
    """
    from salesaudit.errors import DataContractError

    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        raise DataContractError(f"{file}: fx_rates: expected a mapping of currency codes to rates, e.g. {{USD: 0.92}}")
    out: dict[str, float] = {}
    for code, rate in value.items():
        key = str(code).strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", key):
            raise DataContractError(f"{file}: fx_rates: {code!r} is not a three-letter currency code (USD, GBP, …)")
        try:
            x = float(rate) if not isinstance(rate, bool) else float("nan")
        except (TypeError, ValueError):
            x = float("nan")
        if not (x == x and 0 < x < float("inf")):
            raise DataContractError(f"{file}: fx_rates.{key}: {rate!r} is not a rate > 0 (1 {key} = rate units)")
        out[key] = x
    return out


#: the periods ``revenue_target`` may be stated for, and how many quarters each spans
TARGET_PERIODS: dict[str, int] = {"quarter": 1, "year": 4}


@dataclass(frozen=True)
class RevenueTarget:
    """``audit.yaml`` ``revenue_target``: the amount as stated, its period, and the amount per quarter."""

    amount: float  # as stated, in the configured currency
    period: str  # "quarter" or "year"

    @property
    def per_quarter(self) -> float:
        """The quarter's share: a yearly target counts one quarter (¼) per quarter."""
        return self.amount / TARGET_PERIODS[self.period]


def parse_revenue_target(value: Any, file: str = "audit.yaml") -> RevenueTarget | None:
    """``{quarter: 5000000}`` or ``{year: 20000000}`` → :class:`RevenueTarget`; None for an empty value.

    One period, one number > 0 (``250000``, ``2.5e5`` or the text ``"250,000"``); anything else raises
    ``DataContractError`` in one line naming the file and the key.

    >>> parse_revenue_target({"year": 1_000_000}).per_quarter
    250000.0
    """
    from salesaudit.errors import DataContractError

    if value in (None, "", {}):
        return None
    shape = "a mapping with one period and an amount, e.g. {quarter: 250000} or {year: 1000000}"
    if not isinstance(value, dict):
        raise DataContractError(f"{file}: revenue_target: expected {shape}, got {type(value).__name__}")
    if len(value) != 1 or next(iter(value)) not in TARGET_PERIODS:
        keys = ", ".join(str(k) for k in value) or "nothing"
        raise DataContractError(f"{file}: revenue_target: expected one period, quarter or year, got {keys}")
    period, amount = next(iter(value.items()))
    text = amount.replace(",", "").replace("_", "").strip() if isinstance(amount, str) else amount
    try:
        x = float(text) if not isinstance(text, bool) else float("nan")
    except (TypeError, ValueError):
        x = float("nan")
    if not (x == x and x not in (float("inf"), float("-inf"))):
        raise DataContractError(f"{file}: revenue_target.{period}: {amount!r} is not an amount (write 250000)")
    if x <= 0:
        raise DataContractError(f"{file}: revenue_target.{period}: {amount!r} must be greater than 0")
    return RevenueTarget(float(x), str(period))


def revenue_target(cfg: AuditConfig) -> RevenueTarget | None:
    """The configured ``revenue_target`` of ``cfg`` (None when not set)."""
    return parse_revenue_target(
        (cfg.extra or {}).get("revenue_target"), Path(cfg.source).name if cfg.source else "audit.yaml"
    )


def resolve_data_dir(data_dir: str | Path) -> Path:
    """A data folder given relative to the project root or the current directory."""
    p = Path(data_dir)
    if p.is_absolute() or p.exists():
        return p.resolve()
    return (PROJECT_ROOT / p).resolve()
