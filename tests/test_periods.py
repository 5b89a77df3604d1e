import pandas as pd
import pytest
from salesaudit.errors import DataContractError
from salesaudit.periods import Quarter, latest_complete_quarter, parse_quarter, quarter_labels, quarter_of


def test_parse_and_bounds():
    q = parse_quarter("2026Q3")
    assert (q.start, q.end) == (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-10-01"))
    assert parse_quarter("fy2026-q3") == q
    assert q.previous() == Quarter(2026, 2)
    assert q.previous(3) == Quarter(2025, 4)
    assert q.next(2) == Quarter(2027, 1)


def test_bad_label():
    with pytest.raises(DataContractError, match="2026Q5"):
        parse_quarter("2026Q5")


def test_fiscal_year_offset():
    # fiscal year starting in April, named by the calendar year it ends in
    q = parse_quarter("2027Q1", fy_start_month=4)
    assert q.start == pd.Timestamp("2026-04-01")
    assert q.end == pd.Timestamp("2026-07-01")
    assert quarter_of(pd.Timestamp("2026-03-31"), 4).label == "2026Q4"
    assert quarter_of(pd.Timestamp("2026-04-01"), 4).label == "2027Q1"


def test_vectorised_labels_agree_with_scalar():
    ts = pd.Series(pd.date_range("2024-01-01", "2026-12-31", freq="17D"))
    for fy in (1, 4, 7, 10):
        labels = quarter_labels(ts, fy)
        assert labels.tolist() == [quarter_of(t, fy).label for t in ts]


def test_latest_complete_quarter():
    assert latest_complete_quarter(pd.Timestamp("2026-09-30 18:00")).label == "2026Q3"
    assert latest_complete_quarter(pd.Timestamp("2026-09-26")).label == "2026Q3"  # within 7 days
    assert latest_complete_quarter(pd.Timestamp("2026-08-15")).label == "2026Q2"
