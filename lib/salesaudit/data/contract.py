"""The data contract: one pandera ``DataFrameModel`` per table.

Every table is one file ``<table>.csv`` or ``<table>.parquet`` in a data folder. Only ``leads`` is
required. Column kinds:

* ``id``        — string identifier (read as text, never as a number: ``007`` stays ``007``)
* ``timestamp`` — timezone-naive UTC ``datetime64[ns]``
* ``month``     — a timestamp on the first day of the month
* ``money``     — float in the configured currency, ≥ 0
* ``float`` / ``int`` / ``bool`` / ``text``

``COLUMNS`` below is the single source of truth: the pandera models are checked against it in the tests
and ``docs/data-contract.md`` is checked against it too.

Rules enforced here are *errors* (the data cannot be audited, ``validate`` exits 2): unique ids,
parseable timestamps, non-negative money, counts in range (0 ≤ opens ≤ recipients, clicks ≤ opens),
csat 1–5, nps 0–10, lead_score 0–100. Stage dates out of order and broken foreign keys are *findings*
(kept for the data-quality audit, see :mod:`salesaudit.data.io`), not load failures.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from salesaudit.errors import DataContractError  # noqa: F401  (its 0.1 home; import it from salesaudit.errors)
from pandera.typing import Series


@dataclass(frozen=True)
class Col:
    """One column of the contract."""

    name: str
    kind: str
    required: bool
    doc: str


def _c(spec: str, kind: str, doc: str) -> Col:
    required = spec.endswith("*")
    return Col(spec.rstrip("*"), kind, required, doc)


COLUMNS: dict[str, list[Col]] = {
    "leads": [
        _c("lead_id*", "id", "unique lead identifier"),
        _c("created_at", "timestamp", "when the lead was created (every time-based section needs it)"),
        _c("channel*", "text", "acquisition channel (canonical names in audit.yaml)"),
        _c("campaign_id", "id", "campaign that brought the lead"),
        _c("owner_id", "id", "rep the lead is assigned to (reps.rep_id)"),
        _c("first_contact_at", "timestamp", "first sales touch (call/e-mail that reached out)"),
        _c("mql_at", "timestamp", "became a marketing-qualified lead"),
        _c("sal_at", "timestamp", "accepted by sales"),
        _c("sql_at", "timestamp", "became a sales-qualified lead"),
        _c("customer_at", "timestamp", "became a customer (first won deal)"),
        _c("disqualified_at", "timestamp", "disqualified / recycled out of the funnel"),
        _c("disqualify_reason", "text", "why it was disqualified"),
        _c("lead_score", "float", "marketing lead score, 0–100"),
        _c("segment", "text", "e.g. SMB / Mid-market / Enterprise"),
        _c("country", "text", "country name or ISO code"),
        _c("stage_reached", "text", "furthest stage reached, undated: lead / mql / sal / sql / customer"),
        _c("contact_key", "id", "identifies the person or company across leads (e.g. an e-mail hash)"),
    ],
    "opportunities": [
        _c("opportunity_id*", "id", "unique opportunity identifier"),
        _c("owner_id*", "id", "rep who owns the deal (reps.rep_id)"),
        _c("created_at*", "timestamp", "when the opportunity was opened"),
        _c("stage*", "text", "CRM stage name; mapped to open/won/lost in audit.yaml"),
        _c("lead_id", "id", "lead the deal came from (leads.lead_id)"),
        _c("account_id", "id", "customer account"),
        _c("closed_at", "timestamp", "close date (won or lost)"),
        _c("is_won", "bool", "true if won; derived from stage when absent"),
        _c("amount", "money", "deal value"),
        _c("lost_reason", "text", "why a lost deal was lost"),
        _c("product", "text", "product sold"),
    ],
    "activities": [
        _c("activity_id*", "id", "unique activity identifier"),
        _c("owner_id*", "id", "rep who did it (reps.rep_id)"),
        _c("type*", "text", "call / email / meeting / demo / other"),
        _c("occurred_at*", "timestamp", "when it happened"),
        _c("lead_id", "id", "lead it was about"),
        _c("opportunity_id", "id", "opportunity it was about"),
        _c("outcome", "text", "e.g. connected / no_answer"),
    ],
    "reps": [
        _c("rep_id*", "id", "unique rep identifier"),
        _c("name*", "text", "rep name"),
        _c("team", "text", "team or region"),
        _c("role", "text", "SDR / AE / AM"),
        _c("start_date", "timestamp", "first day in the role"),
        _c("end_date", "timestamp", "last day (empty while employed)"),
        _c("quarterly_quota", "money", "quota per quarter, in won revenue"),
        _c("monthly_lead_capacity", "float", "leads per month the rep can work properly"),
    ],
    "spend": [
        _c("month*", "month", "first day of the month"),
        _c("channel*", "text", "acquisition channel"),
        _c("amount*", "money", "marketing spend in the month"),
        _c("campaign_id", "id", "campaign the spend belongs to"),
    ],
    "traffic": [
        _c("month*", "month", "first day of the month"),
        _c("channel*", "text", "acquisition channel"),
        _c("visits*", "float", "website visits (sessions)"),
    ],
    "campaigns": [
        _c("campaign_id*", "id", "unique campaign identifier"),
        _c("channel*", "text", "acquisition channel"),
        _c("name", "text", "campaign name"),
        _c("start_date", "timestamp", "start"),
        _c("end_date", "timestamp", "end"),
    ],
    "email_sends": [
        _c("send_id*", "id", "unique send identifier"),
        _c("stream*", "text", "marketing stream (newsletter, nurture, …)"),
        _c("sent_at*", "timestamp", "when it was sent"),
        _c("recipients*", "int", "addresses sent to"),
        _c("opens*", "int", "unique opens, 0 ≤ opens ≤ recipients"),
        _c("clicks*", "int", "unique clicks, ≤ opens"),
        _c("delivered", "int", "delivered (≤ recipients)"),
        _c("unsubscribes", "int", "unsubscribes"),
        _c("campaign_id", "id", "campaign"),
    ],
    "content": [
        _c("content_id*", "id", "unique content identifier"),
        _c("title*", "text", "title"),
        _c("type*", "text", "e.g. case study, whitepaper, webinar recording"),
        _c("published_at", "timestamp", "first published"),
        _c("updated_at", "timestamp", "last updated"),
    ],
    "content_touches": [
        _c("lead_id*", "id", "lead who touched it (leads.lead_id)"),
        _c("content_id*", "id", "asset touched (content.content_id)"),
        _c("touched_at*", "timestamp", "when"),
    ],
    "orders": [
        _c("order_id*", "id", "unique order identifier"),
        _c("customer_id*", "id", "the converted lead's lead_id"),
        _c("ordered_at*", "timestamp", "when"),
        _c("amount*", "money", "order value"),
    ],
    "tickets": [
        _c("ticket_id*", "id", "unique ticket identifier"),
        _c("customer_id*", "id", "the customer's lead_id"),
        _c("opened_at*", "timestamp", "when opened"),
        _c("first_response_at", "timestamp", "first response"),
        _c("resolved_at", "timestamp", "resolved"),
        _c("category", "text", "ticket category"),
        _c("csat", "float", "satisfaction 1–5"),
    ],
    "nps": [
        _c("customer_id*", "id", "the customer's lead_id"),
        _c("answered_at*", "timestamp", "when answered"),
        _c("score*", "float", "0–10"),
    ],
}

TABLES: tuple[str, ...] = tuple(COLUMNS)
REQUIRED_TABLES: tuple[str, ...] = ("leads",)
ID_COLUMNS: dict[str, str] = {
    "leads": "lead_id",
    "opportunities": "opportunity_id",
    "activities": "activity_id",
    "reps": "rep_id",
    "campaigns": "campaign_id",
    "email_sends": "send_id",
    "content": "content_id",
    "orders": "order_id",
    "tickets": "ticket_id",
}
LEAD_STAGE_COLUMNS: tuple[str, ...] = ("created_at", "mql_at", "sal_at", "sql_at", "customer_at")
STAGE_REACHED_VALUES: tuple[str, ...] = ("lead", "mql", "sal", "sql", "customer")
ACTIVITY_TYPES: tuple[str, ...] = ("call", "email", "meeting", "demo", "other")


def columns_of(table: str, kind: str | None = None, required: bool | None = None) -> list[str]:
    """Column names of ``table``, optionally only those of one kind / requiredness."""
    return [
        c.name
        for c in COLUMNS[table]
        if (kind is None or c.kind == kind) and (required is None or c.required == required)
    ]


# --------------------------------------------------------------------------------------------------
# pandera models. Types are coerced by the loader before validation; these check the rules.
# --------------------------------------------------------------------------------------------------
Ts = pd.Timestamp
_NN = {"nullable": True}


class _Base(pa.DataFrameModel):
    class Config:
        strict = False  # extra columns are kept and ignored
        coerce = False


class Leads(_Base):
    lead_id: Series[str] = pa.Field(unique=True)
    created_at: Series[Ts] | None = pa.Field(**_NN)
    channel: Series[str]
    campaign_id: Series[str] | None = pa.Field(**_NN)
    owner_id: Series[str] | None = pa.Field(**_NN)
    first_contact_at: Series[Ts] | None = pa.Field(**_NN)
    mql_at: Series[Ts] | None = pa.Field(**_NN)
    sal_at: Series[Ts] | None = pa.Field(**_NN)
    sql_at: Series[Ts] | None = pa.Field(**_NN)
    customer_at: Series[Ts] | None = pa.Field(**_NN)
    disqualified_at: Series[Ts] | None = pa.Field(**_NN)
    disqualify_reason: Series[str] | None = pa.Field(**_NN)
    lead_score: Series[float] | None = pa.Field(ge=0, le=100, **_NN)
    segment: Series[str] | None = pa.Field(**_NN)
    country: Series[str] | None = pa.Field(**_NN)
    stage_reached: Series[str] | None = pa.Field(isin=list(STAGE_REACHED_VALUES), **_NN)
    contact_key: Series[str] | None = pa.Field(**_NN)


class Opportunities(_Base):
    opportunity_id: Series[str] = pa.Field(unique=True)
    owner_id: Series[str]
    created_at: Series[Ts]
    stage: Series[str]
    lead_id: Series[str] | None = pa.Field(**_NN)
    account_id: Series[str] | None = pa.Field(**_NN)
    closed_at: Series[Ts] | None = pa.Field(**_NN)
    is_won: Series[pd.BooleanDtype] | None = pa.Field(**_NN)
    amount: Series[float] | None = pa.Field(ge=0, **_NN)
    lost_reason: Series[str] | None = pa.Field(**_NN)
    product: Series[str] | None = pa.Field(**_NN)


class Activities(_Base):
    activity_id: Series[str] = pa.Field(unique=True)
    owner_id: Series[str]
    type: Series[str] = pa.Field(isin=list(ACTIVITY_TYPES))
    occurred_at: Series[Ts]
    lead_id: Series[str] | None = pa.Field(**_NN)
    opportunity_id: Series[str] | None = pa.Field(**_NN)
    outcome: Series[str] | None = pa.Field(**_NN)


class Reps(_Base):
    rep_id: Series[str] = pa.Field(unique=True)
    name: Series[str]
    team: Series[str] | None = pa.Field(**_NN)
    role: Series[str] | None = pa.Field(**_NN)
    start_date: Series[Ts] | None = pa.Field(**_NN)
    end_date: Series[Ts] | None = pa.Field(**_NN)
    quarterly_quota: Series[float] | None = pa.Field(ge=0, **_NN)
    monthly_lead_capacity: Series[float] | None = pa.Field(ge=0, **_NN)


class Spend(_Base):
    month: Series[Ts]
    channel: Series[str]
    amount: Series[float] = pa.Field(ge=0)
    campaign_id: Series[str] | None = pa.Field(**_NN)


class Traffic(_Base):
    month: Series[Ts]
    channel: Series[str]
    visits: Series[float] = pa.Field(ge=0)


class Campaigns(_Base):
    campaign_id: Series[str] = pa.Field(unique=True)
    channel: Series[str]
    name: Series[str] | None = pa.Field(**_NN)
    start_date: Series[Ts] | None = pa.Field(**_NN)
    end_date: Series[Ts] | None = pa.Field(**_NN)


class EmailSends(_Base):
    send_id: Series[str] = pa.Field(unique=True)
    stream: Series[str]
    sent_at: Series[Ts]
    recipients: Series[float] = pa.Field(ge=0)
    opens: Series[float] = pa.Field(ge=0)
    clicks: Series[float] = pa.Field(ge=0)
    delivered: Series[float] | None = pa.Field(ge=0, **_NN)
    unsubscribes: Series[float] | None = pa.Field(ge=0, **_NN)
    campaign_id: Series[str] | None = pa.Field(**_NN)

    @pa.dataframe_check(error="opens must not exceed recipients")
    def opens_le_recipients(cls, df: pd.DataFrame) -> Series[bool]:
        return df["opens"] <= df["recipients"]

    @pa.dataframe_check(error="clicks must not exceed opens")
    def clicks_le_opens(cls, df: pd.DataFrame) -> Series[bool]:
        return df["clicks"] <= df["opens"]


class Content(_Base):
    content_id: Series[str] = pa.Field(unique=True)
    title: Series[str]
    type: Series[str]
    published_at: Series[Ts] | None = pa.Field(**_NN)
    updated_at: Series[Ts] | None = pa.Field(**_NN)


class ContentTouches(_Base):
    lead_id: Series[str]
    content_id: Series[str]
    touched_at: Series[Ts]


class Orders(_Base):
    order_id: Series[str] = pa.Field(unique=True)
    customer_id: Series[str]
    ordered_at: Series[Ts]
    amount: Series[float] = pa.Field(ge=0)


class Tickets(_Base):
    ticket_id: Series[str] = pa.Field(unique=True)
    customer_id: Series[str]
    opened_at: Series[Ts]
    first_response_at: Series[Ts] | None = pa.Field(**_NN)
    resolved_at: Series[Ts] | None = pa.Field(**_NN)
    category: Series[str] | None = pa.Field(**_NN)
    csat: Series[float] | None = pa.Field(ge=1, le=5, **_NN)


class Nps(_Base):
    customer_id: Series[str]
    answered_at: Series[Ts]
    score: Series[float] = pa.Field(ge=0, le=10)


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "leads": Leads,
    "opportunities": Opportunities,
    "activities": Activities,
    "reps": Reps,
    "spend": Spend,
    "traffic": Traffic,
    "campaigns": Campaigns,
    "email_sends": EmailSends,
    "content": Content,
    "content_touches": ContentTouches,
    "orders": Orders,
    "tickets": Tickets,
    "nps": Nps,
}

#: references between tables: (table, column, parent table, parent column); a value missing from the parent is
#: a finding of the data-quality audit (``io.foreign_key_findings``)
FOREIGN_KEYS = [
    # (table, column, parent table, parent column)
    ("leads", "owner_id", "reps", "rep_id"),
    ("leads", "campaign_id", "campaigns", "campaign_id"),
    ("opportunities", "owner_id", "reps", "rep_id"),
    ("opportunities", "lead_id", "leads", "lead_id"),
    ("activities", "owner_id", "reps", "rep_id"),
    ("activities", "lead_id", "leads", "lead_id"),
    ("activities", "opportunity_id", "opportunities", "opportunity_id"),
    ("content_touches", "lead_id", "leads", "lead_id"),
    ("content_touches", "content_id", "content", "content_id"),
    ("orders", "customer_id", "leads", "lead_id"),
    ("tickets", "customer_id", "leads", "lead_id"),
    ("nps", "customer_id", "leads", "lead_id"),
    ("spend", "campaign_id", "campaigns", "campaign_id"),
    ("email_sends", "campaign_id", "campaigns", "campaign_id"),
]
