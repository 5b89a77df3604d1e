"""``python -m salesaudit quarters DATA``: the quarters the leads cover, complete or partial, latest marked."""

from __future__ import annotations

import pandas as pd
import pytest
from salesaudit.data.coverage import audit_quarter, quarter_statuses
from salesaudit.data.io import load


def _folder(tmp_path, dates, extra: str = "") -> str:
    """A data folder whose leads are created on ``dates`` (one lead a day between the two given)."""
    days = pd.date_range(dates[0], dates[1], freq="D")
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(len(days))], "created_at": days, "channel": "web"})
    leads.to_csv(tmp_path / "leads.csv", index=False)
    (tmp_path / "audit.yaml").write_text(f"company: Test\nchannels: [web]\n{extra}", encoding="utf-8")
    return str(tmp_path)


def test_lists_complete_and_partial_quarters(tmp_path, cli):
    # 2025-02-10 … 2025-11-20: Q1 starts late, Q2 and Q3 are covered, Q4 ends early
    data = _folder(tmp_path, ("2025-02-10", "2025-11-20"))
    code, out, err = cli("quarters", data)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "2025Q1  2025-01-01 – 2025-03-31  partial: the leads start on 2025-02-10, after 2025Q1 begins"
    assert lines[1] == "2025Q2  2025-04-01 – 2025-06-30  complete"
    assert lines[2] == "2025Q3  2025-07-01 – 2025-09-30  complete  ← latest (report --quarter latest)"
    assert lines[3].startswith("2025Q4  2025-10-01 – 2025-12-31  partial: the leads end on 2025-11-20")
    assert lines[4].endswith(": 4 quarter(s), 2 complete, 2 partial")
    assert len(lines) == 5


def test_latest_is_the_reports_choice(tmp_path):
    """The marked quarter is the one report --quarter latest audits (the same function, not a copy of its rule)."""
    data = load(_folder(tmp_path, ("2025-01-01", "2025-09-26")), use_cache=False)  # Q3 ends within the 7-day tolerance
    table = quarter_statuses(data.coverage)
    assert (
        table.loc[table["latest"], "quarter"].tolist() == [audit_quarter(data.coverage, "latest").label] == ["2025Q3"]
    )
    assert table["status"].tolist() == ["complete", "complete", "complete"]


def test_fiscal_year_quarters(tmp_path, cli):
    """With fiscal_year_start_month: 4, April–June 2025 is 2026Q1 (labels name the year the fiscal year ends in)."""
    data = _folder(tmp_path, ("2025-04-01", "2025-09-30"), "fiscal_year_start_month: 4\n")
    code, out, _ = cli("quarters", data)
    assert code == 0
    assert out.splitlines()[:2] == [
        "2026Q1  2025-04-01 – 2025-06-30  complete",
        "2026Q2  2025-07-01 – 2025-09-30  complete  ← latest (report --quarter latest)",
    ]


def test_no_complete_quarter_marks_the_last_partial_one(tmp_path, cli):
    code, out, _ = cli("quarters", _folder(tmp_path, ("2025-05-03", "2025-05-20")))
    assert code == 0
    assert out.splitlines()[0] == (
        "2025Q2  2025-04-01 – 2025-06-30  partial: the leads end on 2025-05-20, before 2025Q2 ends on 2025-06-30"
        "  ← latest (report --quarter latest)"
    )


def test_undated_leads_say_so(tmp_path, cli):
    pd.DataFrame({"lead_id": ["a", "b"], "channel": ["web", "web"]}).to_csv(tmp_path / "leads.csv", index=False)
    code, out, _ = cli("quarters", str(tmp_path))
    assert code == 0
    assert (
        out.strip() == f"{tmp_path.name}: the leads carry no creation dates (an undated snapshot): no quarter to list"
    )


@pytest.mark.parametrize("kind", ["missing", "file", "no-leads"])
def test_a_bad_folder_is_one_line(tmp_path, cli, kind):
    target = tmp_path / "nope"
    if kind == "file":
        target.write_text("x")
    elif kind == "no-leads":
        target.mkdir()
    code, out, err = cli("quarters", str(target))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "nope" in err and "Traceback" not in err


def test_bad_data_lists_its_problems_and_exits_2(tmp_path, cli):
    (tmp_path / "leads.csv").write_text("lead_id,created_at,channel\na,2025-01-01,web\na,2025-01-02,web\n")
    code, out, err = cli("quarters", str(tmp_path))
    assert code == 2 and out == ""
    assert "lead_id" in err and "cannot be audited" in err
