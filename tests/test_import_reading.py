"""Issue 15, reading: .xlsx workbooks, headerless files, whitespace-aligned logs, currencies, reps from values.

Fixtures: ``tests/data/imports/reading/`` (a headerless whitespace-aligned call log, leads with an SDR column,
deals in three currencies, a rates file); the workbooks are written by openpyxl into ``tmp_path``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from salesaudit.config import load_config, parse_fx_rates
from salesaudit.data import io
from salesaudit.data.importers import import_data
from salesaudit.data.importers.reading import read_source, sniff_delimiter, split_whitespace
from salesaudit.errors import DataContractError
from salesaudit.steps.reporting.story import currency_sentences

DATA = Path(__file__).resolve().parent / "data" / "imports" / "reading"
NAMES = ["day", "time", "seconds", "agent", "lead", "outcome"]


def _import(tmp_path: Path, mapping: dict, files: list[Path]):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    for f in files:
        shutil.copy(f, src / f.name)
    mp = tmp_path / "map.yaml"
    mp.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    return import_data(mp, [src], tmp_path / "out")


# ------------------------------------------------------------------------------------------------
# .xlsx
# ------------------------------------------------------------------------------------------------
def _workbook(path: Path, first: str = "Contacts") -> Path:
    wb = openpyxl.Workbook()
    contacts = wb.active
    contacts.title = first
    contacts.append(["Record ID", "Create Date", "Original Source", "Contact owner"])
    contacts.append([101, dt.datetime(2026, 2, 3, 9, 30), "Paid Search", "Jan Kowalski"])
    contacts.append([102, dt.datetime(2026, 3, 4), "Organic Search", "Maria Lopez"])
    contacts.append([None, None, None, None])  # an empty row inside the sheet
    contacts.append([103, dt.date(2026, 1, 12), "Referrals", "Maria Lopez"])
    deals = wb.create_sheet("Deals")
    deals.append(["Record ID", "Deal owner", "Create Date", "Close Date", "Deal Stage", "Amount", "Contact ID"])
    deals.append([9001, "Jan Kowalski", dt.datetime(2026, 2, 5, 14, 0), dt.datetime(2026, 3, 1), "Won", 12500.5, 101])
    deals.append([9002, "Maria Lopez", dt.datetime(2026, 3, 6), None, "Open", 4800, 102])
    deals["D3"].number_format = "dd/mm/yyyy"
    wb.create_sheet("Notes").append(["exported by HubSpot"])
    wb.save(path)
    return path


XLSX_MAPPING = {
    "name": "xlsx",
    "sources": {"contacts": "*.xlsx", "deals": "*.xlsx"},
    "read": {"deals": {"sheet": "Deals"}},  # contacts: the first sheet
    "tables": {
        "leads": {
            "source": "contacts",
            "columns": {
                "lead_id": "Record ID",
                "created_at": "Create Date",
                "channel": "Original Source",
                "owner_id": "Contact owner",
            },
        },
        "opportunities": {
            "source": "deals",
            "columns": {
                "opportunity_id": "Record ID",
                "owner_id": "Deal owner",
                "created_at": "Create Date",
                "closed_at": "Close Date",
                "stage": "Deal Stage",
                "amount": "Amount",
                "lead_id": "Contact ID",
            },
        },
        "reps": {"from_owners": True},
    },
}


def test_xlsx_first_sheet_and_named_sheet_with_excel_dates(tmp_path):
    book = _workbook(tmp_path / "hubspot-export.xlsx")
    out, log = _import(tmp_path, XLSX_MAPPING, [book])
    data = io.load(out, use_cache=False)
    leads = data.leads.set_index("lead_id")
    assert len(leads) == 3 and leads.index.tolist() == ["101", "102", "103"]  # ids lose no ".0"
    # Excel dates come out as dates: 3 Feb (not 2 Mar), with its time; no dayfirst needed
    assert leads.loc["101", "created_at"] == pd.Timestamp("2026-02-03 09:30")
    assert leads.loc["103", "created_at"] == pd.Timestamp("2026-01-12")
    opps = data.opportunities.set_index("opportunity_id")
    assert len(opps) == 2
    assert opps.loc["9001", "closed_at"] == pd.Timestamp("2026-03-01")
    assert opps.loc["9001", "amount"] == 12500.5 and opps.loc["9002", "amount"] == 4800
    assert opps.loc["9001", "lead_id"] == "101"
    assert "hubspot-export.xlsx: 1 row empty (row 4)" in log.dropped
    report = (out / "import-report.md").read_text()
    assert (
        "hubspot-export.xlsx: sheet 'Contacts' read (the first of 3 sheets: Contacts, Deals, Notes), 4 rows" in report
    )
    assert "hubspot-export.xlsx: sheet 'Deals' read (named in the mapping), 2 rows" in report
    assert "| contacts | `hubspot-export.xlsx` | xlsx | sheet `Contacts` | 4 |" in report
    assert "| deals | `hubspot-export.xlsx` | xlsx | sheet `Deals` | 2 |" in report


def test_xlsx_unknown_sheet_is_one_line_listing_the_sheets(tmp_path):
    book = _workbook(tmp_path / "export.xlsx")
    m = yaml.safe_load(yaml.safe_dump(XLSX_MAPPING))
    m["read"]["deals"]["sheet"] = "Deal"
    with pytest.raises(DataContractError) as e:
        _import(tmp_path, m, [book])
    assert str(e.value) == "export.xlsx: no sheet named 'Deal' (the workbook has: Contacts, Deals, Notes)"
    assert not (tmp_path / "out").exists()


def test_xlsx_headerless_sheet_and_unreadable_workbooks(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["A1", dt.datetime(2026, 1, 2), 3.0])
    wb.active.append(["A2", dt.datetime(2026, 1, 3), 4.25])
    wb.save(tmp_path / "plain.xlsx")
    df, log = read_source(tmp_path / "plain.xlsx", {"header": "none", "names": ["id", "day", "n"]})
    assert df.to_dict("index") == {
        1: {"id": "A1", "day": "2026-01-02", "n": "3"},
        2: {"id": "A2", "day": "2026-01-03", "n": "4.25"},
    }
    assert log.sheet == "Sheet" and log.rows_read == 2
    (tmp_path / "broken.xlsx").write_bytes(b"id,name\n1,x\n")
    with pytest.raises(DataContractError, match=r"^broken.xlsx: not a readable .xlsx workbook"):
        read_source(tmp_path / "broken.xlsx")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataContractError, match=r"^old.xls: the old Excel format \(.xls\) is not read"):
        read_source(tmp_path / "old.xls")
    with pytest.raises(DataContractError, match=r"^leads.csv: 'sheet:' is given but the file is not an .xlsx"):
        read_source(DATA / "leads.csv", {"sheet": "Leads"})


# ------------------------------------------------------------------------------------------------
# headerless, whitespace-aligned text logs
# ------------------------------------------------------------------------------------------------
CALLS_MAPPING = {
    "name": "calls",
    "sources": {"calls": "calls.log"},
    "read": {"calls": {"delimiter": "whitespace", "header": "none", "names": NAMES}},
    "tables": {
        "leads": {
            "source": "calls",
            "group_by": {"key": "lead", "aggregate": {"first_day": {"min": "day"}, "agent": {"first": "agent"}}},
            "columns": {"lead_id": "lead", "created_at": "first_day", "owner_id": "agent"},
            "constants": {"channel": "outbound"},
        },
        "activities": {
            "source": "calls",
            "compute": {"line": {"row_number": True}},
            "columns": {"activity_id": "line", "owner_id": "agent", "lead_id": "lead", "outcome": "outcome"},
            "derived": {"occurred_at": 'day + " " + time'},
            "constants": {"type": "call"},
        },
        "reps": {"from_owners": True},
    },
}


def test_headerless_whitespace_log_imports(tmp_path):
    out, log = _import(tmp_path, CALLS_MAPPING, [DATA / "calls.log"])
    data = io.load(out, use_cache=False)
    assert len(data.activities) == 7  # 8 records (and a blank line), 1 with a field missing
    assert len(data.leads) == 5 and len(data.reps) == 3
    acts = data.activities.set_index("activity_id")
    assert acts.loc["1", "occurred_at"] == pd.Timestamp("2026-01-05 09:12:44")
    assert acts.loc["6", "outcome"] == "no_answer" and acts.loc["6", "lead_id"] == "L-204"  # the tab-separated line
    assert acts["outcome"].value_counts().to_dict() == {"connected": 5, "no_answer": 2}
    assert data.leads.set_index("lead_id").loc["L-201", "created_at"] == pd.Timestamp("2026-01-05")
    assert any(
        d.startswith("calls.log: 1 row with fewer fields than the 6 columns") and d.endswith("(row 8)")
        for d in log.dropped
    )
    report = (out / "import-report.md").read_text()
    assert "| calls | `calls.log` | utf-8 | `whitespace` | 9 |" in report
    assert "calls.log: no header row; columns named by the mapping: day, time, seconds, agent, lead, outcome" in report


def test_whitespace_is_sniffed_when_no_delimiter_is_given(tmp_path):
    m = yaml.safe_load(yaml.safe_dump(CALLS_MAPPING))
    del m["read"]["calls"]["delimiter"]
    out, log = _import(tmp_path, m, [DATA / "calls.log"])
    assert log.files[0].delimiter == "whitespace"
    assert len(pd.read_csv(out / "activities.csv")) == 7


def test_single_space_delimiter_on_aligned_columns_says_whitespace(tmp_path):
    m = yaml.safe_load(yaml.safe_dump(CALLS_MAPPING))
    m["read"]["calls"] = {"delimiter": " "}  # what the analyst wrote: garbage, 3,805 rows dropped
    with pytest.raises(DataContractError) as e:
        _import(tmp_path, m, [DATA / "calls.log"])
    msg = str(e.value)
    assert msg.startswith("calls.log: delimiter ' ' makes every space a column break, but the columns are aligned")
    assert "(rows 1, 2, 3, 4, 6, … 3 more)" in msg and "use 'delimiter: whitespace'" in msg
    assert "\n" not in msg


def test_names_count_must_match_the_fields(tmp_path):
    m = yaml.safe_load(yaml.safe_dump(CALLS_MAPPING))
    m["read"]["calls"]["names"] = NAMES[:5]
    with pytest.raises(DataContractError) as e:
        _import(tmp_path, m, [DATA / "calls.log"])
    assert str(e.value) == (
        "calls.log: 'names:' gives 5 column names but the rows have 6 fields (7 of 8 rows); give one name per column"
    )


@pytest.mark.parametrize(
    "opts, message",
    [
        ({"header": "none"}, "calls.log: 'header: none' needs 'names: [a, b, …]', one name per column"),
        ({"names": NAMES}, "calls.log: 'names:' is given but the first row is read as the header; add 'header: none'"),
        ({"header": "none", "names": ["a", "a", "b", "c", "d", "e"]}, "calls.log: header names repeated: a"),
        ({"header": "maybe"}, "calls.log: header: 'maybe' is neither 'none' (no header row) nor 'first row'"),
        ({"delimiter": "::"}, "calls.log: delimiter '::' is not one character"),
    ],
)
def test_header_option_mistakes_are_one_line(opts, message):
    with pytest.raises(DataContractError) as e:
        read_source(DATA / "calls.log", opts)
    assert str(e.value).startswith(message)


def test_a_first_row_of_numbers_is_not_taken_as_the_header(tmp_path):
    # the layout of UCI Auto MPG's auto-mpg.data (CC BY 4.0): numbers aligned by spaces, a tab, a quoted name;
    # two rows, shortened to four of its nine fields
    p = tmp_path / "auto.data"
    p.write_text('18.0   8   307.0\t"chevrolet chevelle malibu"\n15.0   8   350.0\t"buick skylark 320"\n')
    with pytest.raises(DataContractError, match=r"^auto.data: the first row looks like data, not a header"):
        read_source(p, {"delimiter": "whitespace"})
    with pytest.raises(DataContractError) as e:
        read_source(DATA / "calls.log", {"delimiter": "whitespace"})  # the log: the first record is no header
    assert str(e.value) == (
        "calls.log: the first row looks like data, not a header (2026-01-05, 09:12:44, 132, ann.lee …); for a file "
        "without a header row give 'header: none' and 'names: [...]' for it under 'read:'"
    )
    df, log = read_source(
        p, {"delimiter": "whitespace", "header": "none", "names": ["mpg", "cyl", "displacement", "car"]}
    )
    assert log.delimiter == "whitespace"
    assert df["car"].tolist() == ["chevrolet chevelle malibu", "buick skylark 320"]  # quoted fields keep spaces


def test_split_whitespace_and_sniffing_leave_csv_alone():
    assert split_whitespace("a  b\t c\n\n 1 2 3 ") == [["a", "b", "c"], [], ["1", "2", "3"]]
    assert sniff_delimiter("id,name\n1,Ann  Lee\n") == ","
    assert sniff_delimiter("name\nAnn Lee\nBo Chen\n") == ","  # one column of names is not aligned text
    assert sniff_delimiter("id  name\n1   Ann\n2   Bo\n") == "whitespace"


def test_a_header_of_years_is_still_a_header(tmp_path):
    p = tmp_path / "quota.csv"
    p.write_text("Rep,2025,2026\nAnn,100,120\n")
    df, _ = read_source(p)
    assert df.columns.tolist() == ["Rep", "2025", "2026"] and len(df) == 1
    p.write_text("Channel,2026-01-01,2026-02-01\nweb,100,120\n")  # a pivot by month
    assert read_source(p)[0].columns.tolist() == ["Channel", "2026-01-01", "2026-02-01"]


# ------------------------------------------------------------------------------------------------
# currencies
# ------------------------------------------------------------------------------------------------
def _deals_mapping(**audit) -> dict:
    return {
        "name": "fx",
        "sources": {"leads": "leads.csv", "deals": "deals.csv", "rates": "rates.csv"},
        "audit": {"currency": "EUR", **audit},
        "tables": {
            "leads": {
                "source": "leads",
                "columns": {"lead_id": "Lead ID", "created_at": "Created", "channel": "Lead Source", "owner_id": "SDR"},
            },
            "opportunities": {
                "source": "deals",
                "columns": {
                    "opportunity_id": "Deal ID",
                    "lead_id": "Lead ID",
                    "owner_id": "Deal owner",
                    "created_at": "Created",
                    "stage": "Stage",
                    "amount": "Amount",
                    "amount_currency": "Currency",
                },
            },
            "reps": {"from_owners": True},
        },
    }


FILES = [DATA / "leads.csv", DATA / "deals.csv", DATA / "rates.csv"]
CONVERTED = {"D1": 1000.0, "D2": 1840.0, "D3": 585.0, "D4": 2760.0, "D5": 800.0}


@pytest.mark.parametrize(
    "audit", [{"fx_rates": {"USD": 0.92, "GBP": 1.17}}, {"fx_rates_from": {"source": "rates"}}], ids=["inline", "file"]
)
def test_mixed_currency_deals_convert_at_the_stated_rates(tmp_path, audit):
    out, log = _import(tmp_path, _deals_mapping(**audit), FILES)
    data = io.load(out, use_cache=False)
    amounts = data.opportunities.set_index("opportunity_id")["amount"]
    assert amounts.drop("D6").to_dict() == pytest.approx(CONVERTED)
    assert pd.isna(amounts["D6"])
    assert "amount_currency" not in data.opportunities.columns  # every amount is in EUR now
    assert yaml.safe_load((out / "audit.yaml").read_text())["fx_rates"] == {"GBP": 1.17, "USD": 0.92}
    assert "fx_rates_from" not in (out / "audit.yaml").read_text()
    assert load_config(out).extra["fx_rates"] == {"GBP": 1.17, "USD": 0.92}
    origin = "map.yaml" if "fx_rates" in audit else "rates.csv"
    report = (out / "import-report.md").read_text()
    assert "## Currencies" in report
    assert f"- 1 USD = 0.92 EUR (from {origin})" in report and f"- 1 GBP = 1.17 EUR (from {origin})" in report
    assert (
        "- opportunities.amount (deals.csv) converted to EUR: EUR as it was (2 rows), GBP × 1.17 (1 row), "
        "USD × 0.92 (2 rows); 1 row with no currency taken as EUR (row 6)"
    ) in report


def test_the_report_states_the_rates(tmp_path):
    out, _ = _import(tmp_path, _deals_mapping(fx_rates={"USD": 0.92, "GBP": 1.17}), FILES)
    cfg = load_config(out)
    assert currency_sentences(cfg.extra.get("fx_rates"), cfg.currency) == [
        "Amounts are in EUR: the importer converted other currencies at 1 GBP = 1.17 EUR and 1 USD = 0.92 EUR "
        "(one rate per currency for every date; fx_rates in audit.yaml)."
    ]
    assert currency_sentences(None, "EUR") == []  # nothing converted, nothing said


def test_per_source_currency_converts_every_amount(tmp_path):
    m = _deals_mapping(fx_rates={"USD": 0.92, "GBP": 1.17})
    del m["tables"]["opportunities"]["columns"]["amount_currency"]
    m["read"] = {"deals": {"currency": "USD"}}
    out, log = _import(tmp_path, m, FILES)
    amounts = pd.read_csv(out / "opportunities.csv").set_index("opportunity_id")["amount"]
    assert amounts.dropna().to_dict() == pytest.approx(
        {"D1": 920.0, "D2": 1840.0, "D3": 460.0, "D4": 2760.0, "D5": 736.0}
    )
    assert "opportunities.amount (deals.csv) converted to EUR: USD × 0.92 (5 rows)" in log.currencies[-1]


def test_source_currency_fills_empty_cells_and_values_translate_symbols(tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text((DATA / "deals.csv").read_text().replace("2000,USD", "2000,$"))
    m = _deals_mapping(fx_rates={"USD": 0.92, "GBP": 1.17})
    m["read"] = {"deals": {"currency": "USD"}}
    with pytest.raises(DataContractError, match=r"no exchange rate to EUR for \$ \(row 3\)"):
        _import(tmp_path, m, [DATA / "leads.csv", deals])
    m["tables"]["opportunities"]["values"] = {"amount_currency": {"$": "USD"}}
    out, log = _import(tmp_path, m, [DATA / "leads.csv", deals])
    amounts = pd.read_csv(out / "opportunities.csv").set_index("opportunity_id")["amount"]
    assert amounts["D2"] == pytest.approx(1840.0)  # "$" → USD by the value map
    assert amounts["D5"] == pytest.approx(736.0)  # an empty Currency cell → the source's USD
    assert log.currencies[-1].endswith("; 1 row with no currency taken as USD (row 6)")


def test_amounts_marked_in_two_currencies_are_not_summed(tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Deal ID,Lead ID,Deal owner,Created,Stage,Amount\n"
        "D1,L1,Cy Diaz,2026-01-20,Won,$1200\nD2,L2,Cy Diaz,2026-01-21,Won,€ 900\nD3,L3,Cy Diaz,2026-01-22,Won,$50\n"
        "D4,L4,Cy Diaz,2026-01-23,Won,700\nD5,L5,Cy Diaz,2026-01-24,Won,1 000 PLN\nD6,L1,Cy Diaz,2026-01-25,Open,TBD\n"
    )
    m = _deals_mapping()
    del m["tables"]["opportunities"]["columns"]["amount_currency"]
    with pytest.raises(DataContractError) as e:
        _import(tmp_path, m, [DATA / "leads.csv", deals])
    assert str(e.value).startswith(
        "deals.csv: column amount (← Amount): amounts in several currencies — $ (rows 2, 4), PLN (row 6), € (row 3); "
        "map each row's currency as amount_currency"
    )
    deals.write_text(deals.read_text().replace("€ 900", "$900").replace("1 000 PLN", "1000"))
    out, _ = _import(tmp_path, m, [DATA / "leads.csv", deals])  # one marker: read as before
    assert pd.read_csv(out / "opportunities.csv")["amount"].fillna(-1).tolist() == [1200, 900, 50, 700, 1000, -1]


def test_orders_grouped_from_lines_convert_too(tmp_path):
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "Invoice,Customer,Date,Value,Cur\n"
        "I1,L1,2026-01-05,100,GBP\nI1,L1,2026-01-05,50,GBP\nI2,L2,2026-01-06,10,USD\nI3,L3,2026-01-07,7,EUR\n"
    )
    m = _deals_mapping(fx_rates={"USD": 0.92, "GBP": 1.17})
    m["sources"]["lines"] = "lines.csv"
    m["tables"]["orders"] = {
        "source": "lines",
        "group_by": {
            "key": "Invoice",
            "aggregate": {
                "who": {"first": "Customer"},
                "day": {"min": "Date"},
                "total": {"sum": "Value"},
                "cur": {"first": "Cur"},
            },
        },
        "columns": {
            "order_id": "Invoice",
            "customer_id": "who",
            "ordered_at": "day",
            "amount": "total",
            "amount_currency": "cur",
        },
    }
    out, log = _import(tmp_path, m, [*FILES, lines])
    orders = pd.read_csv(out / "orders.csv").set_index("order_id")["amount"]
    assert orders.to_dict() == pytest.approx({"I1": 175.5, "I2": 9.2, "I3": 7.0})
    assert (
        "orders.amount (lines.csv) converted to EUR: EUR as it was (1 row), GBP × 1.17 (1 row), USD × 0.92 (1 row)"
        in (log.currencies)[-1]
    )


def test_a_currency_without_a_rate_is_one_line(tmp_path):
    with pytest.raises(DataContractError) as e:
        _import(tmp_path, _deals_mapping(fx_rates={"USD": 0.92}), FILES)
    assert str(e.value).startswith(
        "deals.csv: column amount_currency (← Currency): no exchange rate to EUR for GBP (row 4); give it under "
        "audit: fx_rates"
    )


def test_rates_that_disagree_or_are_not_rates(tmp_path):
    with pytest.raises(DataContractError, match=r"^rates.csv: rate 0.92 for USD disagrees with map.yaml's fx_rates"):
        _import(tmp_path, _deals_mapping(fx_rates={"USD": 0.9}, fx_rates_from={"source": "rates"}), FILES)
    with pytest.raises(DataContractError, match=r"^map.yaml: audit: fx_rates.USD: 'x' is not a rate > 0"):
        _import(tmp_path, _deals_mapping(fx_rates={"USD": "x"}), FILES)
    with pytest.raises(DataContractError, match=r"rate 2 for EUR, the audit's own currency"):
        _import(tmp_path, _deals_mapping(fx_rates={"EUR": 2, "USD": 0.92, "GBP": 1.17}), FILES)
    with pytest.raises(DataContractError, match=r"'dollar' is not a three-letter currency code"):
        parse_fx_rates({"dollar": 1})


def test_audit_yaml_fx_rates_are_checked(tmp_path):
    (tmp_path / "audit.yaml").write_text("fx_rates: {USD: -1}\n")
    with pytest.raises(DataContractError, match=r"^audit.yaml: fx_rates.USD: -1 is not a rate > 0"):
        load_config(tmp_path)


# ------------------------------------------------------------------------------------------------
# reps from the distinct values of columns, with a role each
# ------------------------------------------------------------------------------------------------
def test_reps_from_values_with_roles(tmp_path):
    m = _deals_mapping(fx_rates={"USD": 0.92, "GBP": 1.17})
    m["tables"]["reps"] = {
        "from_values": [
            {"source": "leads", "column": "SDR", "role": "SDR"},
            {"source": "deals", "column": "Deal owner", "role": "AE"},
        ]
    }
    out, log = _import(tmp_path, m, FILES)
    data = io.load(out, use_cache=False)
    reps = data.reps.set_index("rep_id")
    assert reps["role"].to_dict() == {"Ann Lee": "SDR", "Bo Chen": "SDR/AE", "Cy Diaz": "AE", "Dee Egan": "AE"}
    assert (reps.index == reps["name"]).all()
    assert "reps ← leads.csv: distinct values of SDR (2), role SDR" in log.mapped
    assert "reps ← deals.csv: distinct values of Deal owner (3), role AE" in log.mapped
    assert any(
        a.startswith("1 rep name(s) appear under two roles") and "Bo Chen (SDR/AE)" in a for a in log.assumptions
    )
    assert data.errors().empty  # every owner is a rep


def test_reps_from_values_plus_owners_and_a_missing_column(tmp_path):
    m = _deals_mapping(fx_rates={"USD": 0.92, "GBP": 1.17})
    m["tables"]["reps"] = {"from_values": [{"source": "leads", "column": "SDR", "role": "SDR"}], "from_owners": True}
    out, log = _import(tmp_path, m, FILES)
    reps = pd.read_csv(out / "reps.csv").set_index("rep_id")
    assert reps["role"].fillna("").to_dict() == {"Ann Lee": "SDR", "Bo Chen": "SDR", "Cy Diaz": "", "Dee Egan": ""}
    assert "2 owner(s) not among the from_values columns added as reps (no role)" in log.assumptions
    m["tables"]["reps"] = {"from_values": [{"source": "leads", "column": "Owner", "role": "SDR"}]}
    with pytest.raises(
        DataContractError, match=r"^leads.csv: reps.from_values names column\(s\) not in the file: Owner"
    ):
        _import(tmp_path, m, FILES)


@pytest.mark.slow
def test_step_04_says_the_rates_it_used(tmp_path, run_nb):
    out, _ = _import(tmp_path, _deals_mapping(fx_rates={"USD": 0.92, "GBP": 1.17}), FILES)
    nb, _ = run_nb("04_reporting", out, quarter="2026Q1")
    shown = " ".join(
        str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "the importer converted other currencies at 1 GBP = 1.17 EUR and 1 USD = 0.92 EUR" in shown
