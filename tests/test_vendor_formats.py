"""Built-in formats against one export per vendor and era (old and current column labels).

The fixtures in ``tests/data/imports/vendors/`` carry the vendors' real column headers (sources in
docs/importing.md, "Sources"); the values are constructed, so every count below is known by design:

* ``hubspot-current`` — 20 contacts, 'Date entered "… (Lifecycle Stage Pipeline)"' dates (12 MQL, 7 SQL,
  3 customers), "Original Traffic Source", 10 "First outreach date"s beside 15 "Last Contacted"s, the
  current "Lifecycle Stage" labels; 10 deals (3 won, 3 lost, 4 open), 7 with a contact (6 distinct).
* ``hubspot-legacy`` — 15 contacts, "Contact ID", "Original Source", "HubSpot Owner", "Became a … Date"
  (9 MQL, 5 SQL, 2 customers), internal lifecycle values; 10 deals keyed "Deal ID".
* ``salesforce-classic`` / ``salesforce-lightning`` — a Leads report (20 leads, 6 converted, 5 with a
  "Converted Opportunity ID") and an Opportunities report (10, 3 won), each ending in the report footer.
* ``pipedrive-legacy`` / ``pipedrive-current`` — 15 deals (5 won, 4 lost, 6 open) as "Deal - Deal
  created" / "Deal - Creation date" exports.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from salesaudit.data import io
from salesaudit.data.importers import import_data
from salesaudit.data.importers.footers import footer_rows

VENDORS = Path(__file__).resolve().parent / "data" / "imports" / "vendors"


def _import(fmt: str, era: str, tmp_path: Path):
    out, log = import_data(fmt, [VENDORS / era], tmp_path / era)
    return io.load(out, use_cache=False), log, (out / "import-report.md").read_text()


def _counts(s: pd.Series) -> dict:
    return s.fillna("(empty)").value_counts().sort_index().to_dict()


# ------------------------------------------------------------------------------------------------
# HubSpot
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "era, n, mql, sql, customer, first_contact, stages, owners",
    [
        (
            "hubspot-current",
            20,
            12,
            7,
            3,
            10,
            {"customer": 3, "sql": 4, "mql": 5, "lead": 7, "(empty)": 1},
            {"Ana Silva": 10, "Ben Ode": 10},
        ),
        (
            "hubspot-legacy",
            15,
            9,
            5,
            2,
            0,
            {"customer": 2, "sql": 3, "mql": 4, "lead": 4, "(empty)": 2},
            {"Ana Silva": 7, "Ben Ode": 8},
        ),
    ],
)
def test_hubspot_lifecycle_dates_stages_and_owners(tmp_path, era, n, mql, sql, customer, first_contact, stages, owners):
    data, log, report = _import("hubspot", era, tmp_path)
    leads = data.leads
    assert len(leads) == n
    assert leads["mql_at"].notna().sum() == mql
    assert leads["sql_at"].notna().sum() == sql
    assert leads["customer_at"].notna().sum() == customer
    assert _counts(leads["stage_reached"]) == stages
    assert leads["owner_id"].value_counts().to_dict() == owners
    got_first = leads["first_contact_at"].notna().sum() if "first_contact_at" in leads.columns else 0
    assert got_first == first_contact
    assert not log.dropped and not log.problems


def test_hubspot_current_first_touch_is_first_outreach_never_last_contacted(tmp_path):
    data, _, report = _import("hubspot", "hubspot-current", tmp_path)
    leads = data.leads.set_index("lead_id")
    assert leads.loc["201", "first_contact_at"] == pd.Timestamp("2026-01-06 08:30")  # First outreach date
    assert leads.loc["201", "mql_at"] == pd.Timestamp("2026-01-07 10:00")
    assert leads.loc["203", "customer_at"] == pd.Timestamp("2026-02-07 12:00")
    # contacts 211-215 were last contacted but never had a first outreach: no first contact is invented
    assert leads.loc[["211", "212", "213", "214", "215"], "first_contact_at"].isna().all()
    assert "leads.first_contact_at ← hubspot-crm-exports-all-contacts-2026-03-31.csv: First outreach date" in report
    unused = next(line for line in report.splitlines() if line.startswith("- `hubspot-crm-exports-all-contacts"))
    for col in ("Last Contacted", "Lead Status", "Latest Traffic Source"):
        assert col in unused
    assert "'Lead Status' (a sales working status, not a funnel stage)" in report


def test_hubspot_legacy_has_no_first_touch_and_says_so(tmp_path):
    data, log, _ = _import("hubspot", "hubspot-legacy", tmp_path)
    assert "first_contact_at" not in data.leads.columns or data.leads["first_contact_at"].isna().all()
    assert any(s.startswith("leads.first_contact_at: no column First outreach date") for s in log.skipped)


@pytest.mark.parametrize(
    "era, channels",
    [
        (
            "hubspot-current",
            {
                "ai_referral": 2,
                "direct": 2,
                "email": 2,
                "offline": 2,
                "organic": 2,
                "organic_social": 2,
                "other_campaigns": 2,
                "paid_search": 2,
                "paid_social": 2,
                "referral": 2,
            },
        ),
        ("hubspot-legacy", {"email": 3, "organic": 3, "organic_social": 3, "paid_search": 3, "referral": 3}),
    ],
)
def test_hubspot_original_source_old_and_new_label(tmp_path, era, channels):
    data, _, _ = _import("hubspot", era, tmp_path)
    assert _counts(data.leads["channel"]) == channels


@pytest.mark.parametrize("era", ["hubspot-current", "hubspot-legacy"])
def test_hubspot_deals_join_contacts_and_owners(tmp_path, era):
    data, _, _ = _import("hubspot", era, tmp_path)
    opps = data.opportunities
    assert len(opps) == 10
    assert _counts(opps["status"]) == {"lost": 3, "open": 4, "won": 3}
    assert opps["lead_id"].notna().sum() == 7
    linked = set(opps["lead_id"].dropna())
    assert linked <= set(data.leads["lead_id"]) and len(linked) == 6  # one contact has two deals
    assert sorted(data.reps["rep_id"]) == ["Ana Silva", "Ben Ode", "Cara Lim"]  # Cara Lim owns only deals


# ------------------------------------------------------------------------------------------------
# Salesforce
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("era", ["salesforce-classic", "salesforce-lightning"])
def test_salesforce_leads_join_opportunities_by_converted_opportunity_id(tmp_path, era):
    data, log, report = _import("salesforce", era, tmp_path)
    leads, opps = data.leads, data.opportunities
    assert len(leads) == 20 and len(opps) == 10
    assert leads["sql_at"].notna().sum() == 6  # Converted Date
    assert opps["lead_id"].notna().sum() == 5  # 5 leads name their opportunity
    pairs = opps.dropna(subset=["lead_id"]).set_index("opportunity_id")["lead_id"].to_dict()
    assert pairs == {f"0065g0000{i:06d}": f"00Q5g0000{i:06d}" for i in range(5)}
    assert _counts(opps["status"]) == {"lost": 2, "open": 5, "won": 3}
    assert ((opps["status"] == "won") & opps["lead_id"].notna()).sum() == 2
    assert sorted(data.reps["rep_id"]) == ["Anna Berg", "Mia Chen", "Raj Iyer"]
    assert "opportunities: joined leads_report.csv on Opportunity ID = Converted Opportunity ID" in report


@pytest.mark.parametrize("era", ["salesforce-classic", "salesforce-lightning"])
def test_salesforce_report_footer_is_recognised_not_bad_rows(tmp_path, era):
    _, log, _ = _import("salesforce", era, tmp_path)
    assert "leads_report.csv: report footer: 3 rows (rows 23, 25, 26)" in log.dropped
    assert "opportunities_report.csv: report footer: 3 rows (rows 13, 15, 16)" in log.dropped
    assert not [d for d in log.dropped if "dropped from" in d]  # no footer line lands as an unusable row
    assert not log.problems


def test_salesforce_leads_report_without_converted_opportunity_id_still_imports(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(VENDORS / "salesforce-classic", src)
    leads = pd.read_csv(src / "leads_report.csv", dtype=str, skipfooter=4, engine="python")
    leads.drop(columns=["Converted Opportunity ID"]).to_csv(src / "leads_report.csv", index=False)
    out, log = import_data("salesforce", [src], tmp_path / "out")
    opps = io.load(out, use_cache=False).opportunities
    assert len(opps) == 10 and ("lead_id" not in opps.columns or opps["lead_id"].isna().all())
    assert any(
        "join with leads_report.csv skipped (optional; column(s) Converted Opportunity ID" in s for s in log.skipped
    )


def test_footer_only_at_the_end_and_only_with_a_notice():
    df = pd.DataFrame(
        {"Lead ID": ["Total", "A1", "Grand Totals (2 records)", "Confidential Information - Do Not Distribute"]},
        index=pd.Index([2, 3, 5, 6], name="row"),
    )
    assert list(footer_rows(df)) == [5, 6]  # the lead called "Total" in row 2 is data
    no_notice = pd.DataFrame({"Lead ID": ["A1", "Total"]}, index=pd.Index([2, 3], name="row"))
    assert list(footer_rows(no_notice)) == []  # a last row "Total" without the notice is not a footer
    copyright_only = pd.DataFrame(
        {"a": ["x", None], "b": ["y", "Copyright © 2000-2025 salesforce.com, inc. All rights reserved."]},
        index=pd.Index([2, 3], name="row"),
    )
    assert list(footer_rows(copyright_only)) == [3]  # the first non-empty cell counts


# ------------------------------------------------------------------------------------------------
# Pipedrive
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("era", ["pipedrive-legacy", "pipedrive-current"])
def test_pipedrive_header_variants(tmp_path, era):
    data, log, report = _import("pipedrive", era, tmp_path)
    opps = data.opportunities
    assert len(opps) == 15
    assert _counts(opps["status"]) == {"lost": 4, "open": 6, "won": 5}
    assert opps["created_at"].notna().all()
    o = opps.set_index("opportunity_id")
    assert o.loc["11", "closed_at"] == pd.Timestamp("2026-02-02 15:00")  # won time
    assert o.loc["16", "closed_at"] == pd.Timestamp("2026-02-07 16:00")  # lost time
    assert o.loc[[str(i) for i in range(20, 26)], "closed_at"].isna().all()  # open: no expected close date
    assert opps["owner_id"].value_counts().to_dict() == {"Olga P": 8, "Piotr Z": 7}
    assert len(data.leads) == 12  # one derived lead per contact person
    assert not log.dropped and not log.problems


def test_pipedrive_deal_created_on_variant(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    text = (VENDORS / "pipedrive-legacy" / "deals-export.csv").read_text(encoding="utf-8")
    (src / "deals-export.csv").write_text(text.replace('"Deal - Deal created"', '"Deal - Deal created on"'))
    out, _ = import_data("pipedrive", [src], tmp_path / "out")
    opps = io.load(out, use_cache=False).opportunities
    assert len(opps) == 15 and opps["created_at"].min() == pd.Timestamp("2026-01-02 09:00")


# ------------------------------------------------------------------------------------------------
# the join the Salesforce format relies on: an empty key matches nothing; a present join keeps the
# right file's unused columns listed once
# ------------------------------------------------------------------------------------------------
def test_join_empty_key_matches_nothing(tmp_path):
    import yaml

    src = tmp_path / "src"
    src.mkdir()
    (src / "leads.csv").write_text("id,created,source,team_key\nA,2026-01-02,web,\nB,2026-01-03,web,t1\n")
    (src / "teams.csv").write_text("key,team,note\n,Nobody's team,x\nt1,North,y\n")
    mapping = {
        "name": "t",
        "sources": {"leads": "leads.csv", "teams": "teams.csv"},
        "tables": {
            "leads": {
                "source": "leads",
                "join": [{"source": "teams", "keys": {"team_key": "key"}, "columns": ["team"]}],
                "columns": {"lead_id": "id", "created_at": "created", "channel": "source", "segment": "team"},
            }
        },
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping))
    out, log = import_data(tmp_path / "m.yaml", [src], tmp_path / "out")
    leads = pd.read_csv(out / "leads.csv", dtype=str).set_index("lead_id")
    assert pd.isna(leads.loc["A", "segment"])  # the empty key did not pick up "Nobody's team"
    assert leads.loc["B", "segment"] == "North"
    assert log.unused["teams.csv"] == ["note"]


def test_no_builtin_format_reads_a_last_touch_as_the_first():
    import yaml

    formats = Path(__file__).resolve().parents[1] / "lib" / "salesaudit" / "data" / "importers" / "formats"
    hubspot = yaml.safe_load((formats / "hubspot.yaml").read_text(encoding="utf-8"))
    first = hubspot["tables"]["leads"]["columns"]["first_contact_at"]
    assert "Last Contacted" not in first and "First outreach date" in first
    pipedrive = yaml.safe_load((formats / "pipedrive.yaml").read_text(encoding="utf-8"))
    assert "Deal - Expected close date" not in pipedrive["tables"]["opportunities"]["columns"]["closed_at"]


def test_the_same_export_saved_as_xlsx_imports_alike(tmp_path):
    """HubSpot (and Salesforce) offer .xlsx exports: the built-in formats pick them up, and the workbook gives the
    same contract tables as the CSV export it was saved from (first sheet; CSV preferred when both exist)."""
    src = tmp_path / "xlsx"
    src.mkdir()
    for f in (VENDORS / "hubspot-current").glob("*.csv"):
        pd.read_csv(f, dtype=str, keep_default_na=False).to_excel(src / f.with_suffix(".xlsx").name, index=False)
    from_csv, _, _ = _import("hubspot", "hubspot-current", tmp_path)
    out, _ = import_data("hubspot", [src], tmp_path / "from-xlsx")
    from_xlsx = io.load(out, use_cache=False)
    for t in ("leads", "opportunities", "reps"):
        pd.testing.assert_frame_equal(from_xlsx.tables[t], from_csv.tables[t], obj=t)
    assert "sheet" in (out / "import-report.md").read_text()
