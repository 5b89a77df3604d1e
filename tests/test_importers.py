"""CRM imports: built-in formats, the Maven CRM mapping, and every reading problem's one-line message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from salesaudit import io
from salesaudit.contract import DataContractError
from salesaudit.importers import import_data
from salesaudit.importers.reading import detect_decimal, parse_dates, parse_numbers, read_table

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
