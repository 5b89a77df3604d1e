"""CRM imports: built-in formats, the Maven CRM mapping, and every reading problem's one-line message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from salesaudit.data import io
from salesaudit.data.importers import import_data
from salesaudit.data.importers.reading import detect_decimal, parse_dates, parse_numbers, read_table
from salesaudit.errors import DataContractError

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = ROOT / "tests" / "data" / "imports"
MAVEN = ROOT / "tests" / "data" / "maven-crm"


@pytest.mark.parametrize("fmt", ["hubspot", "salesforce", "pipedrive"])
def test_builtin_format_imports_and_validates(fmt, tmp_path):
    out, log = import_data(fmt, [IMPORTS / fmt], tmp_path / fmt)
    data = io.load(out, use_cache=False)
    assert data.has("leads") and data.has("opportunities") and data.has("reps")
    assert (out / "import-report.md").read_text().startswith(f"# Import report — {fmt}")
    assert yaml.safe_load((out / "audit.yaml").read_text())["stages"]["won"]


def test_hubspot_lifecycle_dates_and_channels(tmp_path):
    out, _ = import_data("hubspot", [IMPORTS / "hubspot"], tmp_path / "hs")
    data = io.load(out, use_cache=False)
    leads = data.leads.set_index("lead_id")
    assert leads.loc["101", "channel"] == "paid_search"
    assert leads.loc["105", "channel"] == "other"  # unknown source → the mapping's default
    assert leads.loc["101", "mql_at"] == pd.Timestamp("2026-01-07 10:00")
    opps = data.opportunities.set_index("opportunity_id")
    assert opps.loc["9002", "lead_id"] == "104"  # first of "104;105"
    assert opps.loc["9001", "status"] == "won" and opps.loc["9003", "status"] == "lost"


def test_pipedrive_status_and_activities(tmp_path):
    out, _ = import_data("pipedrive", [IMPORTS / "pipedrive"], tmp_path / "pd")
    data = io.load(out, use_cache=False)
    opps = data.opportunities.set_index("opportunity_id")
    assert opps["status"].to_dict() == {"11": "won", "12": "lost", "13": "open"}
    assert opps.loc["12", "closed_at"] == pd.Timestamp("2026-02-12 12:00")  # lost time when not won
    assert sorted(data.activities["type"]) == ["call", "meeting", "other"]


def test_maven_crm_import_matches_direct_pandas(tmp_path):
    out, log = import_data(ROOT / "examples" / "maven-crm.yaml", [MAVEN], tmp_path / "maven")
    data = io.load(out, use_cache=False)
    assert len(data.reps) == 35
    raw = pd.read_csv(MAVEN / "sales_pipeline.csv")
    dated = raw[raw["engage_date"].notna()]
    expected = dated[dated["deal_stage"] == "Won"].groupby("sales_agent").size().sort_index()
    got = data.opportunities[data.opportunities["status"] == "won"].groupby("owner_id").size().sort_index()
    pd.testing.assert_series_equal(got, expected, check_names=False)
    # the Prospecting deals without a date are dropped and reported, not lost silently
    assert any("500 rows dropped from opportunities: no usable created_at" in d for d in log.dropped)
    # the product catalogue comes from products.csv, so the GTXPro spelling stands out
    cfg = data.config
    assert "GTX Pro" in cfg.products and "GTXPro" not in cfg.products
    assert (data.opportunities["product"] == "GTXPro").sum() == (dated["product"] == "GTXPro").sum()
    open_no_account = data.opportunities[
        (data.opportunities["status"] == "open") & data.opportunities["account_id"].isna()
    ]
    assert len(open_no_account) == ((dated["deal_stage"] == "Engaging") & dated["account"].isna()).sum() > 0


# ------------------------------------------------------------------------------------------------
# reading problems: each gives its one-line message
# ------------------------------------------------------------------------------------------------
MAPPING = {
    "name": "t",
    "sources": {"leads": "leads.csv"},
    "tables": {
        "leads": {
            "source": "leads",
            "columns": {"lead_id": "id", "created_at": "created", "channel": "source", "lead_score": "score"},
        },
        "spend": {"source": "leads", "columns": {"month": "created", "channel": "source", "amount": "cost"}},
    },
}


def _run(tmp_path, content: bytes, mapping: dict | None = None):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "leads.csv").write_bytes(content)
    mp = tmp_path / "map.yaml"
    mp.write_text(yaml.safe_dump(mapping or MAPPING))
    return import_data(mp, [src], tmp_path / "out")


def test_semicolon_and_decimal_comma(tmp_path):
    out, log = _run(
        tmp_path, b"id;created;source;score;cost\nA;2026-01-02;web;12,5;1.234,50\nB;2026-01-03;web;7;99,00\n"
    )
    assert log.files[0].delimiter == ";"
    spend = pd.read_csv(out / "spend.csv")
    assert spend["amount"].tolist() == [1234.5, 99.0]


def test_tab_delimited_cp1252(tmp_path):
    out, log = _run(tmp_path, "id\tcreated\tsource\tscore\tcost\nA\t2026-01-02\tFöhn Messe\t1\t2\n".encode("cp1252"))
    assert log.files[0].encoding == "cp1252" and log.files[0].delimiter == "tab"
    assert pd.read_csv(out / "leads.csv")["channel"].tolist() == ["Föhn Messe"]


def test_utf8_bom(tmp_path):
    out, log = _run(tmp_path, b"\xef\xbb\xbfid,created,source,score,cost\nA,2026-01-02,web,1,2\n")
    assert log.files[0].encoding == "utf-8-sig"
    assert pd.read_csv(out / "leads.csv")["lead_id"].tolist() == ["A"]


def test_excel_serial_dates(tmp_path):
    out, _ = _run(tmp_path, b"id,created,source,score,cost\nA,46023,web,1,2\nB,2026-01-03,web,1,2\n")
    assert pd.read_csv(out / "leads.csv")["created_at"].tolist() == ["2026-01-01", "2026-01-03"]


def test_dayfirst_when_mapping_says_so(tmp_path):
    m = yaml.safe_load(yaml.safe_dump(MAPPING))
    m["tables"]["leads"]["dates"] = {"dayfirst": True}  # per table …
    m["tables"]["spend"]["dates"] = {"month": {"dayfirst": True}}  # … and per column
    out, _ = _run(tmp_path, b"id,created,source,score,cost\nA,03/04/2026,web,1,2\n", m)
    assert pd.read_csv(out / "leads.csv")["created_at"].tolist() == ["2026-04-03"]
    assert pd.read_csv(out / "spend.csv")["month"].tolist() == ["2026-04-03"]


def test_empty_trailing_rows_and_repeated_header(tmp_path):
    content = b"id,created,source,score,cost\nA,2026-01-02,web,1,2\nid,created,source,score,cost\nB,2026-01-03,web,1,2\n,,,,\n\n,,,,\n"
    out, log = _run(tmp_path, content)
    assert pd.read_csv(out / "leads.csv")["lead_id"].tolist() == ["A", "B"]
    assert "leads.csv: 1 row repeating the header (row 3)" in log.dropped
    assert any(d.startswith("leads.csv: 3 rows empty (rows 5, 6, 7)") for d in log.dropped)


def test_bad_date_and_number_messages(tmp_path):
    content = b"id,created,source,score,cost\nA,2026-01-02,web,1,2\nB,yesterday,web,x1,2\nC,2026-01-05,web,3,abc\n"
    out, log = _run(tmp_path, content)
    # leads.created_at is optional (undated snapshots): left empty; spend.month is required: row dropped
    assert "leads.csv: column created_at: 1 row not a date; value(s) left empty (row 3)" in log.problems
    assert "leads.csv: column month: 1 row not a date; row(s) cannot be used (row 3)" in log.problems
    assert "leads.csv: column lead_score: 1 row not a number; value(s) left empty (row 3)" in log.problems
    assert "leads.csv: column amount: 1 row not a number; row(s) cannot be used (row 4)" in log.problems
    assert any(
        d.startswith("leads.csv: 1 row dropped from spend: no usable month (required) (row 3)") for d in log.dropped
    )
    assert pd.read_csv(out / "leads.csv")["lead_id"].tolist() == ["A", "B", "C"]
    report = (out / "import-report.md").read_text()
    assert "no usable month" in report


def test_missing_required_source_column_one_line(tmp_path):
    with pytest.raises(DataContractError) as exc:
        _run(tmp_path, b"ident,created,source\nA,2026-01-02,web\n")
    msg = str(exc.value)
    assert msg.startswith("leads.csv: column(s) not found for required leads field(s): lead_id ← id")
    assert "\n" not in msg


def test_unknown_format(tmp_path):
    with pytest.raises(DataContractError, match="not a mapping file nor a built-in format"):
        import_data("zoho", [tmp_path], tmp_path / "o")


def test_cli_import_exit_codes(tmp_path, cli):
    code, _, err = cli("import", "--from", "hubspot", IMPORTS / "hubspot", "--out", tmp_path / "o")
    assert code == 0, err
    code, _, err = cli("import", "--from", "hubspot", tmp_path / "nope", "--out", tmp_path / "o2")
    assert code == 2 and "not found" in err and "Traceback" not in err


def test_number_and_date_parsers_unit():
    assert detect_decimal(pd.Series(["1.234,50", "12,5"])) == ","
    assert detect_decimal(pd.Series(["1,234.50", "12.5"])) == "."
    assert parse_numbers(pd.Series(["€ 1 234,50", "(12,00)", None]), ",").tolist()[:2] == [1234.5, -12.0]
    d = parse_dates(pd.Series(["45658", "2025-01-01T10:00:00+02:00", None]))
    assert d.iloc[0] == pd.Timestamp("2025-01-01") and d.iloc[1] == pd.Timestamp("2025-01-01 08:00")


def test_read_table_keeps_raw_untouched(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(b"a,b\n1,2\n")
    before = p.read_bytes()
    df, _ = read_table(p)
    assert p.read_bytes() == before and df.index.tolist() == [2]
    shutil.rmtree(tmp_path / "x.csv", ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# declarative transforms: drop_rows, compute, group_by, hash, na_values (no eval anywhere)
# ------------------------------------------------------------------------------------------------
LINES = (
    "invoice,customer,qty,price,when,email,mod,state\n"
    "1001,c1,2,5.00,2026-01-05 10:00,Ann@X.com ,1,New\n"
    "1001,c1,1,10.00,2026-01-05 10:00,ann@x.com,0,Active\n"
    "C1002,c1,-1,10.00,2026-01-06 09:00,ann@x.com,0,New\n"
    "1003,,4,1.00,2026-01-07 09:00,,0,New\n"
    "1004,c2,3,2.50,2026-02-01 12:00,bob@y.com,2,Closed\n"
    "1004,c2,1,?,2026-02-01 12:00,bob@y.com,10,Active\n"
)


def _transform(tmp_path, tables: dict, read: dict | None = None):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "lines.csv").write_text(LINES)
    mapping = {"sources": {"lines": "lines.csv"}, "read": read or {}, "tables": tables}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    out, log = import_data(tmp_path / "m.yaml", [src], tmp_path / "out")
    return out, log


LEADS_BY_CUSTOMER = {
    "source": "lines",
    "drop_rows": [{"column": "customer", "op": "empty"}],
    "group_by": {"key": "customer", "aggregate": {"first": {"min": "when"}}},
    "columns": {"lead_id": "customer", "created_at": "first"},
    "constants": {"channel": "web"},
}


def test_drop_rows_counts_each_rule_with_its_reason_and_distinct_keys(tmp_path):
    orders = {
        "source": "lines",
        "drop_rows": [
            {"column": "invoice", "op": "starts with", "value": "C", "reason": "cancellation"},
            {"column": "customer", "op": "empty", "reason": "guest"},
            {"column": "qty", "op": "<=", "value": 0},
        ],
        "compute": {"value": {"multiply": ["qty", "price"]}},
        "group_by": {
            "key": "invoice",
            "aggregate": {"cust": {"first": "customer"}, "at": {"min": "when"}, "amount": {"sum": "value"}},
        },
        "columns": {"order_id": "invoice", "customer_id": "cust", "ordered_at": "at", "amount": "amount"},
    }
    out, log = _transform(tmp_path, {"leads": LEADS_BY_CUSTOMER, "orders": orders}, {"lines": {"na_values": ["?"]}})
    got = pd.read_csv(out / "orders.csv", dtype=str)
    assert got["order_id"].tolist() == ["1001", "1004"]
    assert got["amount"].astype(float).tolist() == [20.0, 7.5]  # the unreadable '?' price is left out of the sum
    assert (
        "lines.csv: 1 row, 1 distinct invoice dropped from orders by the mapping's rule "
        "'invoice starts with 'C'' — cancellation (row 4)" in log.dropped
    )
    assert (
        "lines.csv: 1 row, 1 distinct invoice dropped from orders by the mapping's rule 'customer is empty' — guest (row 5)"
        in log.dropped
    )
    assert not any("qty ≤ '0'" in d for d in log.dropped)  # the rule matched nothing left: no line
    assert any("1 cells holding '?' read as empty (price 1)" in m for m in log.mapped)


@pytest.mark.parametrize(
    "cond, expected",
    [
        ({"column": "state", "op": "==", "value": "New"}, ["1001", "1004"]),
        ({"column": "state", "op": "!=", "value": "New"}, ["1001", "1003", "C1002"]),
        ({"column": "state", "op": "in", "value": ["New", "Closed"]}, ["1001", "1004"]),
        ({"column": "state", "op": "not in", "value": ["New", "Closed"]}, ["1001", "1003", "1004", "C1002"]),
        ({"column": "qty", "op": ">", "value": 2}, ["1001", "1004", "C1002"]),
        ({"column": "qty", "op": "<", "value": 1}, ["1001", "1003", "1004"]),
        ({"column": "customer", "op": "not empty"}, ["1003"]),
        ({"column": "email", "op": "contains", "value": "@y."}, ["1001", "1003", "C1002"]),
    ],
)
def test_drop_rows_operators(tmp_path, cond, expected):
    leads = {"source": "lines", "drop_rows": [cond], "group_by": {"key": "invoice", "aggregate": {}}}
    leads |= {"columns": {"lead_id": "invoice"}, "constants": {"channel": "web"}}
    out, _ = _transform(tmp_path, {"leads": leads})
    assert sorted(pd.read_csv(out / "leads.csv", dtype=str)["lead_id"]) == expected


def test_unknown_operator_is_a_one_line_error_and_nothing_is_evaluated(tmp_path):
    leads = dict(LEADS_BY_CUSTOMER, drop_rows=[{"column": "qty", "op": "__import__('os')", "value": 1}])
    with pytest.raises(DataContractError, match="unknown op '__import__"):
        _transform(tmp_path, {"leads": leads})


def test_group_by_order_by_first_last_count_nunique_and_where(tmp_path):
    tickets = {
        "source": "lines",
        "drop_rows": [{"column": "customer", "op": "empty"}],
        "group_by": {
            "key": "invoice",
            "order_by": "mod",  # numbers: 10 sorts after 2
            "aggregate": {
                "cust": {"first": "customer"},
                "opened": {"first": "when"},
                "first_state": {"first": "state"},
                "last_state": {"last": "state"},
                "touched": {"min": "when", "where": {"column": "state", "op": "!=", "value": "New"}},
                "lines": {"count": "qty"},
                "states": {"nunique": "state"},
                "top_qty": {"max": "qty"},
            },
        },
        "columns": {
            "ticket_id": "invoice",
            "customer_id": "cust",
            "opened_at": "opened",
            "first_response_at": "touched",
            "category": "last_state",
            "first_state": "first_state",
            "lines": "lines",
            "states": "states",
            "top_qty": "top_qty",
        },
    }
    out, log = _transform(tmp_path, {"leads": LEADS_BY_CUSTOMER, "tickets": tickets})
    t = pd.read_csv(out / "tickets.csv", dtype=str).set_index("ticket_id")
    assert t.loc["1001", "first_state"] == "Active" and t.loc["1001", "category"] == "New"  # mod 0 then 1
    assert t.loc["1004", "first_state"] == "Closed" and t.loc["1004", "category"] == "Active"  # mod 2 then 10
    assert t.loc["C1002", "first_response_at"] != t.loc["C1002", "first_response_at"]  # only New: empty
    assert t.loc["1001", "lines"] == "2" and t.loc["1001", "states"] == "2" and t.loc["1004", "top_qty"] == "3.0"
    assert any("5 rows grouped into 3 (one per invoice, in order of mod)" in m for m in log.mapped)


def test_group_by_drops_rows_without_a_key(tmp_path):
    leads = dict(LEADS_BY_CUSTOMER)
    leads.pop("drop_rows")
    _, log = _transform(tmp_path, {"leads": leads})
    assert "lines.csv: 1 row dropped from leads: no customer to group by (row 5)" in log.dropped


def test_compute_add_subtract_row_number_and_hash(tmp_path):
    leads = {
        "source": "lines",
        "compute": {
            "row": {"row_number": True},
            "total": {"add": ["qty", "price"]},
            "diff": {"subtract": ["price", "qty"]},
            "key": {"hash": ["email"]},
        },
        "columns": {"lead_id": "row", "lead_score": "total", "diff": "diff", "contact_key": "key"},
        "constants": {"channel": "web"},
    }
    out, log = _transform(tmp_path, {"leads": leads})
    got = pd.read_csv(out / "leads.csv", dtype=str).set_index("lead_id")
    assert got.index.tolist() == ["2", "3", "4", "5", "6", "7"]
    assert got.loc["2", "lead_score"] == "7.0" and got.loc["2", "diff"] == "3.0"
    # trimmed and lower-cased before hashing: the same person, one key; no e-mail → no key
    assert got.loc["2", "contact_key"] == got.loc["3", "contact_key"] != got.loc["6", "contact_key"]
    assert got.loc["5", "contact_key"] != got.loc["5", "contact_key"]
    assert len(got.loc["2", "contact_key"]) == 16
    text = (out / "leads.csv").read_text()
    assert "ann@x.com" not in text.lower() and "email" not in text
    assert any("key = SHA-256 of email" in m for m in log.mapped)


def test_hash_key_builds_contact_key_from_several_columns(tmp_path):
    leads = {
        "source": "lines",
        "drop_rows": [{"column": "customer", "op": "empty"}],
        "group_by": {"key": "customer", "aggregate": {"mail": {"first": "email"}}},
        "columns": {"lead_id": "customer"},
        "hash": {"contact_key": ["mail", "customer"]},
        "constants": {"channel": "web"},
    }
    out, log = _transform(tmp_path, {"leads": leads})
    got = pd.read_csv(out / "leads.csv", dtype=str)
    assert got["contact_key"].str.fullmatch(r"[0-9a-f]{16}").all() and got["contact_key"].nunique() == 2
    assert any("leads.contact_key = SHA-256 of lines.csv: mail + customer" in m for m in log.mapped)


def test_stage_reached_from_a_value_map(tmp_path):
    leads = {
        "source": "lines",
        "compute": {"row": {"row_number": True}},
        "columns": {"lead_id": "row", "stage_reached": "state"},
        "values": {"stage_reached": {"Closed": "customer", "*": "lead"}},
        "constants": {"channel": "web"},
    }
    out, _ = _transform(tmp_path, {"leads": leads})
    data = io.load(out, use_cache=False)
    assert data.leads["stage_reached"].value_counts().to_dict() == {"lead": 5, "customer": 1}


def test_compute_needs_one_known_operation(tmp_path):
    leads = dict(LEADS_BY_CUSTOMER, compute={"x": {"eval": "qty * 2"}})
    with pytest.raises(DataContractError, match="compute x: give one operation of multiply, add, subtract"):
        _transform(tmp_path, {"leads": leads})
