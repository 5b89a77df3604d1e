"""Day-first or month-first: one rule per date column, in the importer and in the loader (issue 10 A)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from salesaudit.data import io
from salesaudit.data.dates import date_order, decide_dayfirst, parse_date_text
from salesaudit.data.importers import import_data
from salesaudit.data.importers.reading import parse_dates
from salesaudit.errors import DataContractError


def _iso(s: pd.Series) -> list[str]:
    return [None if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M") for v in s]


# --------------------------------------------------------------------------------------------------
# the rule (salesaudit.data.dates)
# --------------------------------------------------------------------------------------------------
def test_a_first_field_above_12_makes_the_whole_column_day_first():
    got = parse_date_text(pd.Series(["01-02-2018", "20-10-2017", "5/3/2016 12:00"]), "x.csv: column d")
    assert _iso(got) == ["2018-02-01 00:00", "2017-10-20 00:00", "2016-03-05 12:00"]


def test_a_second_field_above_12_makes_it_month_first_with_two_digit_years_and_am_pm():
    got = parse_date_text(pd.Series(["12/06/2010 10:08", "2/20/11 11:39", "2/3/11 2:03 PM"]), "x")
    assert _iso(got) == ["2010-12-06 10:08", "2011-02-20 11:39", "2011-02-03 14:03"]


def test_iso_is_never_day_first_and_needs_no_declaration():
    got = parse_date_text(pd.Series(["2018-01-02", "2018-01-02T10:00:00+02:00", None]), "x")
    assert _iso(got) == ["2018-01-02 00:00", "2018-01-02 08:00", None]
    assert decide_dayfirst(pd.Series(["2018-01-02", "2018-03-04"]), "x") is False


def test_both_orders_in_one_column_is_an_error_naming_file_column_rows():
    values = pd.Series(["20/10/2017", "10/20/2017", "01/02/2018"], index=[2, 3, 4])
    with pytest.raises(DataContractError) as exc:
        parse_date_text(values, "leads.csv: column created_at")
    msg = str(exc.value)
    assert msg.startswith("leads.csv: column created_at: dates in both orders")
    assert "row 2 ('20/10/2017')" in msg and "row 3 ('10/20/2017')" in msg and "\n" not in msg


def test_ambiguous_column_needs_a_declaration():
    values = pd.Series(["01/02/2018", "03/04/2018", "2018-05-06"])
    with pytest.raises(DataContractError, match="x.csv: column d: dates like '01/02/2018' could be day-first"):
        parse_date_text(values, "x.csv: column d")
    assert _iso(parse_date_text(values, "x", declared=True))[:2] == ["2018-02-01 00:00", "2018-04-03 00:00"]
    assert _iso(parse_date_text(values, "x", declared=False))[:2] == ["2018-01-02 00:00", "2018-03-04 00:00"]


def test_a_declaration_the_values_contradict_is_an_error():
    with pytest.raises(DataContractError, match="says 'dayfirst: true' but row 1 \\('10/20/2017'\\)"):
        parse_date_text(pd.Series(["01/02/2018", "10/20/2017"]), "x", declared=True)


def test_impossible_dates_are_no_evidence_just_unreadable():
    assert date_order(pd.Series(["31/31/2026"])).decided is None
    got = parse_date_text(pd.Series(["31/31/2026", "31/02/2026", "20/10/2017"]), "x")
    assert _iso(got) == [None, None, "2017-10-20 00:00"]


def test_parsing_is_per_distinct_value_and_keeps_the_index():
    values = pd.Series(["20/10/2017"] * 1000 + ["01/02/2018"] * 1000, index=range(5, 2005))
    got = parse_date_text(values, "x")
    assert got.index.equals(values.index)
    assert got.iloc[-1] == pd.Timestamp("2018-02-01")


# --------------------------------------------------------------------------------------------------
# the importer uses it
# --------------------------------------------------------------------------------------------------
def _import(tmp_path, rows: list[str], extra: dict | None = None):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "leads.csv").write_text("id,created,source\n" + "\n".join(rows) + "\n")
    mapping = {
        "sources": {"leads": "leads.csv"},
        "tables": {
            "leads": {"source": "leads", "columns": {"lead_id": "id", "created_at": "created", "channel": "source"}}
        },
    }
    for k, v in (extra or {}).items():
        mapping[k] = v
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping))
    return import_data(tmp_path / "m.yaml", [src], tmp_path / "out")


def test_import_mixture_that_used_to_pass_silently_is_now_consistent(tmp_path):
    # 01-02-2018 was read as 2 January next to a day-first 20-10-2017, with "Problems: none"
    out, log = _import(tmp_path, ["A,01-02-2018,web", "B,20-10-2017,web"])
    assert pd.read_csv(out / "leads.csv")["created_at"].tolist() == ["2018-02-01", "2017-10-20"]
    assert log.problems == []


def test_import_stops_on_an_ambiguous_column(tmp_path):
    with pytest.raises(DataContractError) as exc:
        _import(tmp_path, ["A,01-02-2018,web", "B,03-04-2018,web"])
    msg = str(exc.value)
    assert msg.startswith("leads.csv: column created_at (← created): dates like '01-02-2018'") and "dayfirst" in msg


def test_import_read_dayfirst_for_the_source(tmp_path):
    out, _ = _import(tmp_path, ["A,01-02-2018,web"], {"read": {"leads": {"dayfirst": True}}})
    assert pd.read_csv(out / "leads.csv")["created_at"].tolist() == ["2018-02-01"]


def test_import_column_dayfirst_overrides_the_source(tmp_path):
    out, _ = _import(
        tmp_path,
        ["A,01-02-2018,web"],
        {"read": {"leads": {"dayfirst": True}}},
    )
    m = yaml.safe_load((tmp_path / "m.yaml").read_text())
    m["tables"]["leads"]["dates"] = {"created_at": {"dayfirst": False}}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(m))
    out, _ = import_data(tmp_path / "m.yaml", [tmp_path / "src"], tmp_path / "out2")
    assert pd.read_csv(out / "leads.csv")["created_at"].tolist() == ["2018-01-02"]


def test_import_both_orders_is_an_error_with_spreadsheet_rows(tmp_path):
    with pytest.raises(DataContractError, match=r"day-first in row 2 \('20/10/2017'\), month-first in row 3"):
        _import(tmp_path, ["A,20/10/2017,web", "B,10/20/2017,web"])


def test_parse_dates_keeps_excel_serials_and_explicit_formats():
    got = parse_dates(pd.Series(["45658", "01.02.2018"]), fmt="%d.%m.%Y")
    assert _iso(got) == ["2025-01-01 00:00", "2018-02-01 00:00"]


# --------------------------------------------------------------------------------------------------
# the loader (data folders written by hand) uses the same rule
# --------------------------------------------------------------------------------------------------
def _folder(tmp_path, created: list[str]):
    d = tmp_path / "data"
    d.mkdir()
    lines = ["lead_id,created_at,channel"] + [f"L{i},{c},web" for i, c in enumerate(created)]
    (d / "leads.csv").write_text("\n".join(lines) + "\n")
    return d


def test_loader_parses_a_column_decided_by_its_values(tmp_path):
    data = io.load(_folder(tmp_path, ["01-02-2018", "20-10-2017", "2018-03-04"]), use_cache=False)
    assert _iso(data.leads.sort_values("lead_id")["created_at"]) == [
        "2018-02-01 00:00",
        "2017-10-20 00:00",
        "2018-03-04 00:00",
    ]


def test_loader_rejects_an_ambiguous_column(tmp_path):
    with pytest.raises(DataContractError) as exc:
        io.load(_folder(tmp_path, ["01-02-2018", "2018-03-04"]), use_cache=False)
    msg = str(exc.value)
    assert "column created_at: dates like '01-02-2018' could be day-first or month-first" in msg
    assert "ISO YYYY-MM-DD" in msg and "dayfirst:" in msg


def test_loader_rejects_both_orders_naming_spreadsheet_rows(tmp_path):
    with pytest.raises(DataContractError, match=r"day-first in row 2 .* month-first in row 3"):
        io.load(_folder(tmp_path, ["20/10/2017", "10/20/2017"]), use_cache=False)


def test_loader_iso_fast_path_unchanged():
    s = pd.Series(["2018-01-02 10:00", "2018-01-03T00:00:00Z", None], name="created_at")
    assert _iso(io._parse_timestamps(s)) == ["2018-01-02 10:00", "2018-01-03 00:00", None]
