"""Data coverage (extraction date, windows, stages recorded, complete quarters) and section preconditions."""

from __future__ import annotations

import pandas as pd
import pytest
from salesaudit.config import load_config
from salesaudit.data.coverage import Coverage, audit_quarter, coverage_of, reached_mask, stage_statuses
from salesaudit.periods import parse_quarter
from salesaudit.report import sections


def _leads(created, **cols):
    n = len(created)
    df = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "channel": ["web"] * n,
            "created_at": pd.to_datetime(pd.Series(created)),
        }
    )
    for k, v in cols.items():
        df[k] = pd.to_datetime(pd.Series(v)) if k.endswith("_at") else v
    return df


CFG = load_config(None, None)


def test_extraction_date_is_latest_timestamp_in_any_table_not_the_day_after_the_last_lead():
    leads = _leads(["2018-01-05", "2018-05-31"])
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "customer_id": ["L0", "L1"],
            "ordered_at": pd.to_datetime(["2018-03-01", "2018-09-30"]),
            "amount": [1.0, 2.0],
        }
    )
    cov = coverage_of({"leads": leads, "orders": orders}, CFG, today=pd.Timestamp("2026-12-01"))
    assert cov.extracted_at == pd.Timestamp("2018-09-30")
    assert "orders.ordered_at" in cov.extracted_source
    assert cov.window("orders", "ordered_at") == (pd.Timestamp("2018-03-01"), pd.Timestamp("2018-09-30"))


def test_extraction_date_ignores_future_dates_and_config_wins():
    leads = _leads(["2018-01-05", "2099-12-31"])
    cov = coverage_of({"leads": leads}, CFG, today=pd.Timestamp("2026-12-01"))
    assert cov.extracted_at == pd.Timestamp("2018-01-05")
    cfg = load_config(None, None)
    object.__setattr__(cfg, "extra", {"extracted_at": "2019-02-01"})
    cov2 = coverage_of({"leads": leads}, cfg, today=pd.Timestamp("2026-12-01"))
    assert cov2.extracted_at == pd.Timestamp("2019-02-01") and cov2.extracted_source.startswith("extracted_at")


def test_latest_complete_quarter_follows_the_leads_not_the_orders():
    leads = _leads(pd.date_range("1997-01-01", "1997-03-31", freq="D"))
    orders = pd.DataFrame(
        {"order_id": ["o1"], "customer_id": ["L0"], "ordered_at": pd.to_datetime(["1998-06-30"]), "amount": [5.0]}
    )
    cov = coverage_of({"leads": leads, "orders": orders}, CFG, today=pd.Timestamp("2026-12-01"))
    assert cov.latest_complete_quarter().label == "1997Q1"
    assert not cov.is_complete(parse_quarter("1998Q2"))
    assert "before 1998Q2 starts" in cov.partial_reason(parse_quarter("1998Q2"))


def test_a_quarter_whose_leads_stop_a_month_early_is_partial():
    leads = _leads(pd.date_range("2018-01-01", "2018-05-31", freq="D"))
    cov = coverage_of({"leads": leads}, CFG, today=pd.Timestamp("2026-12-01"))
    q2 = parse_quarter("2018Q2")
    assert not cov.is_complete(q2)
    assert cov.latest_complete_quarter().label == "2018Q1"
    assert audit_quarter(cov, "latest").label == "2018Q1"
    assert audit_quarter(cov, "2018Q2") == q2  # built when asked for, but partial
    assert "2018-05-31" in cov.partial_reason(q2)
    assert [q.label for q in cov.complete_quarters()] == ["2018Q1"]


def test_stage_statuses_dated_undated_and_not_recorded():
    leads = _leads(
        ["2020-01-01"] * 3,
        mql_at=["2020-01-02", None, None],
        sal_at=[None, None, None],
        stage_reached=["mql", "sql", "lead"],
    )
    st = stage_statuses(leads)
    assert st == {"mql": "dated", "sal": "not recorded", "sql": "undated", "customer": "not recorded"}
    leads2 = leads.drop(columns="stage_reached")
    assert stage_statuses(leads2) == {
        "mql": "dated",
        "sal": "not recorded",
        "sql": "not recorded",
        "customer": "not recorded",
    }
    # a campaign outcome (lead or customer) records no MQL, SAL or SQL stage
    outcome = pd.DataFrame({"lead_id": ["a", "b"], "channel": "x", "stage_reached": ["lead", "customer"]})
    assert stage_statuses(outcome) == {
        "mql": "not recorded",
        "sal": "not recorded",
        "sql": "not recorded",
        "customer": "undated",
    }


def test_reached_mask_counts_later_dates_and_stage_reached():
    leads = _leads(
        ["2020-01-01"] * 4, sql_at=["2020-02-01", None, None, None], stage_reached=[None, "customer", "mql", None]
    )
    assert reached_mask(leads, "mql").tolist() == [True, True, True, False]
    assert reached_mask(leads, "sql").tolist() == [True, True, False, False]
    assert reached_mask(leads, "customer").tolist() == [False, True, False, False]


def test_undated_snapshot_coverage_and_quarter():
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            "channel": ["x", "y"],
            "created_at": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]"),
            "stage_reached": ["customer", "lead"],
        }
    )
    cov = coverage_of({"leads": leads}, CFG, today=pd.Timestamp("2026-12-01"))
    assert not cov.leads_dated and cov.extracted_at is None
    assert cov.latest_complete_quarter() is None
    assert any("undated snapshot" in s for s in cov.sentences())
    assert audit_quarter(cov, "latest") is not None


def test_coverage_round_trips_through_json():
    leads = _leads(["2020-01-01", "2020-03-30"], mql_at=["2020-01-05", None])
    cov = coverage_of({"leads": leads}, CFG, today=pd.Timestamp("2026-12-01"))
    back = Coverage.from_dict(cov.to_dict())
    assert back.extracted_at == cov.extracted_at and back.stages == cov.stages
    assert back.window("leads", "mql_at") == cov.window("leads", "mql_at")


class _Ctx:
    def __init__(self, tables, quarter="2020Q1"):
        from salesaudit.data.io import AuditData

        self.data = AuditData(None, CFG, tables, pd.DataFrame(), coverage=coverage_of(tables, CFG))
        self.coverage = self.data.coverage
        self.quarter = parse_quarter(quarter)


def test_section_sentence_names_what_is_missing_and_what_it_would_show():
    ctx = _Ctx({"leads": _leads(["2020-01-01"], mql_at=["2020-01-02"])})
    sec = sections.check(ctx, "the share of MQLs sales accepts", sections.stage("sal"), sections.table("opportunities"))
    assert not sec.ok
    assert sec.sentence == (
        "Not measured: this section needs the SAL stage (not in the data) and "
        "the `opportunities` table — with that it would show the share of MQLs sales accepts."
    )
    ok = sections.check(ctx, "x", sections.stage("mql", dated=True), sections.dated())
    assert ok.ok and ok.sentence == ""


@pytest.mark.parametrize(
    "req, expect",
    [
        (sections.min_cases(12, 30, "leads"), "at least 30 leads (the data has 12)"),
        (sections.column("leads", "lead_score"), "values in `leads.lead_score`"),
        (sections.complete_quarter(), "a complete quarter"),
        (sections.history(1), "the previous quarter of leads"),
        (
            sections.groups("leads", "channel", 2, "acquisition channels"),
            "at least 2 acquisition channels (the data has 1: web)",
        ),
    ],
)
def test_requirements(req, expect):
    ctx = _Ctx({"leads": _leads(["2020-01-01", "2020-02-01"])})
    assert expect in (req(ctx) or "")


def test_setting_and_condition_requirements():
    from types import SimpleNamespace

    ctx = SimpleNamespace(cfg=SimpleNamespace(extra={"new_channel": {"name": "x"}}))
    assert sections.setting("new_channel")(ctx) is None
    assert sections.setting("other", "an `other:` entry")(ctx) == "an `other:` entry"
    assert sections.condition(True, "contacts")(ctx) is None
    assert sections.condition(lambda c: False, "contact dates")(ctx) == "contact dates"
    sec = sections.check(ctx, "what it shows", sections.setting("missing", "a `missing:` entry in audit.yaml"))
    assert sec.sentence == (
        "Not measured: this section needs a `missing:` entry in audit.yaml — with that it would show what it shows."
    )
