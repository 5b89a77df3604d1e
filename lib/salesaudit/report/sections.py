"""Section preconditions: what each notebook section needs, and one sentence when the data lacks it.

Every numbered section of an audit notebook starts with::

    sec = ctx.section("how long leads take to become customers, by channel",
                      sections.dated(), sections.stage("customer", dated=True))
    display(sec)          # nothing when the section can run; one sentence when it cannot
    if sec.ok:
        ...

A requirement is a function ``ctx → str | None``: ``None`` when met, else a short phrase naming what is
missing ("lead creation dates", "a `sal_at` column with values"). :class:`Section` joins the unmet
ones into one sentence: *"Not measured: this needs lead creation dates — with them it would show how
long leads take to become customers, by channel."* — never a crash, an empty chart or an all-NaN table.

The minimum numbers of cases live in :mod:`salesaudit.stats` (``MIN_CLAIM_N``) and are stated in
docs/assumptions.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesaudit.data.coverage import STAGE_NAMES

Requirement = Callable[[Any], "str | None"]


@dataclass
class Section:
    """Whether a section can be measured, and the sentence to show when it cannot."""

    shows: str
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def sentence(self) -> str:
        """One sentence: what is missing and what the section would show with it ('' when ok)."""
        if self.ok:
            return ""
        need = _join(self.missing)
        return f"Not measured: this section needs {need} — with that it would show {self.shows}."

    def markdown(self) -> str:
        return f"> {self.sentence}" if self.sentence else ""

    def _ipython_display_(self) -> None:  # display(sec): nothing when the section can run
        if self.ok:
            return
        from IPython.display import Markdown, display

        display(Markdown(self.markdown()))


def _join(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def check(ctx: Any, shows: str, *requirements: Requirement) -> Section:
    """Evaluate ``requirements`` against the notebook context ``ctx``; see the module docstring."""
    missing = [m for r in requirements if (m := r(ctx))]
    return Section(shows=shows, missing=missing)


# --------------------------------------------------------------------------------------------------
# requirements
# --------------------------------------------------------------------------------------------------
def table(name: str) -> Requirement:
    """The table was provided and has rows."""

    def req(ctx: Any) -> str | None:
        return None if ctx.data.has(name) else f"the `{name}` table"

    return req


def column(tbl: str, col: str, what: str | None = None) -> Requirement:
    """The table has the column with at least one value."""

    def req(ctx: Any) -> str | None:
        df = ctx.data.tables.get(tbl)
        if df is None or len(df) == 0:
            return f"the `{tbl}` table"
        if col not in df.columns or not df[col].notna().any():
            return what or f"values in `{tbl}.{col}`"
        return None

    return req


def dated() -> Requirement:
    """The leads carry creation dates (every time-based section)."""

    def req(ctx: Any) -> str | None:
        return None if ctx.coverage.leads_dated else "lead creation dates (`leads.created_at`)"

    return req


def stage(name: str, dated: bool = False) -> Requirement:
    """The stage is recorded by the data (``dated=True``: with dates, not only ``stage_reached``)."""

    def req(ctx: Any) -> str | None:
        status = ctx.coverage.stage_status(name)
        label = STAGE_NAMES.get(name, name)
        if status == "not recorded":
            return f"the {label} stage (not in the data)"
        if dated and status != "dated":
            return f"{label} dates (`leads.{name}_at`)"
        return None

    return req


def stage_beyond_lead() -> Requirement:
    """At least one stage after lead (MQL, SAL, SQL or customer) is recorded, dated or not."""

    def req(ctx: Any) -> str | None:
        if any(ctx.coverage.recorded(s) for s in ("mql", "sal", "sql", "customer")):
            return None
        return "a stage after lead (MQL, SAL, SQL or customer dates, or `stage_reached`)"

    return req


def unconverted_leads(minimum: int = 30) -> Requirement:
    """At least ``minimum`` leads did not reach the last recorded stage: without them there is no funnel to
    measure (every lead a customer from the start — a customer list or a purchase log)."""

    def req(ctx: Any) -> str | None:
        from salesaudit.data.coverage import STAGE_COLUMNS, reached_mask

        last = [s for s in STAGE_COLUMNS if ctx.coverage.recorded(s)]
        if not last:
            return None  # stage_beyond_lead() says it
        leads = ctx.data.tables["leads"]
        n = int((~reached_mask(leads, last[-1])).sum())
        if n >= minimum:
            return None
        return (
            f"at least {minimum:,} leads that did not become {last[-1].upper() if last[-1] != 'customer' else 'customers'} "
            f"(the data has {n:,}: nearly every lead is already a customer — a customer list or purchase log, not a funnel)"
        )

    return req


def groups(tbl: str, col: str, minimum: int = 2, what: str | None = None) -> Requirement:
    """``tbl.col`` has at least ``minimum`` distinct values (a comparison between groups needs groups)."""

    def req(ctx: Any) -> str | None:
        df = ctx.data.tables.get(tbl)
        values = df[col].dropna().unique() if df is not None and col in df.columns else []
        if len(values) >= minimum:
            return None
        noun = what or f"values of `{tbl}.{col}`"
        only = f": {', '.join(map(str, values))}" if len(values) else ""
        return f"at least {minimum} {noun} (the data has {len(values)}{only})"

    return req


def complete_quarter() -> Requirement:
    """The leads cover the audited quarter completely."""

    def req(ctx: Any) -> str | None:
        if ctx.coverage.is_complete(ctx.quarter) or not ctx.coverage.leads_dated:  # undated: dated() says it
            return None
        why = ctx.coverage.partial_reason(ctx.quarter)
        return f"a complete quarter ({why})" if why else "a complete quarter"

    return req


def history(quarters: int = 1) -> Requirement:
    """The leads cover the ``quarters`` quarters before the audited one completely."""

    def req(ctx: Any) -> str | None:
        if not ctx.coverage.leads_dated:  # undated: dated() says it
            return None
        prior = [ctx.quarter.previous(i) for i in range(1, quarters + 1)]
        short = [q for q in prior if not ctx.coverage.is_complete(q)]
        if not short:
            return None
        noun = "quarter" if quarters == 1 else f"{quarters} quarters"
        return f"the previous {noun} of leads (the data does not cover {short[-1].label})"

    return req


def min_cases(count: Callable[[Any], int] | int, minimum: int, what: str) -> Requirement:
    """At least ``minimum`` cases of ``what`` (``count`` is a number or a function of ctx)."""

    def req(ctx: Any) -> str | None:
        n = count(ctx) if callable(count) else count
        n = 0 if n is None or pd.isna(n) else int(n)
        return None if n >= minimum else f"at least {minimum:,} {what} (the data has {n:,})"

    return req


def setting(key: str, what: str | None = None) -> Requirement:
    """``audit.yaml`` sets ``key`` (a non-empty value), e.g. ``new_channel`` for step 07's new-channel estimate."""

    def req(ctx: Any) -> str | None:
        extra = getattr(ctx.cfg, "extra", None) or {}
        val = extra.get(key, getattr(ctx.cfg, key, None))
        return None if val not in (None, "", [], {}) else (what or f"`{key}` in audit.yaml")

    return req


def condition(test: Callable[[Any], bool] | bool, what: str) -> Requirement:
    """A yes/no precondition (``test`` is a bool or a function of ctx); ``what`` names what is missing."""

    def req(ctx: Any) -> str | None:
        ok = test(ctx) if callable(test) else test
        return None if ok else what

    return req


__all__ = [
    "condition",
    "setting",
    "Section",
    "check",
    "column",
    "complete_quarter",
    "dated",
    "groups",
    "history",
    "min_cases",
    "stage",
    "stage_beyond_lead",
    "table",
    "unconverted_leads",
]
