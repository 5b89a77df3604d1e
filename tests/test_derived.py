"""Derived tables are computed once per data and reused exactly (salesaudit.data.derived)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from salesaudit.data import derived


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESAUDIT_CACHE", str(tmp_path / "cache"))
    derived.clear_memo()
    yield
    derived.clear_memo()


def _frame() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "channel": pd.Series(["paid_search", None, "email"], dtype=object),
            "n": [3, 4, 5],
            "rate": [0.5, np.nan, 0.25],
            "at": pd.to_datetime(["2026-01-01", None, "2026-03-31"]),
            "ok": [True, False, True],
        }
    )
    df.attrs["quarters"] = ["2026Q1", "2026Q2"]
    return df


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self) -> pd.DataFrame:
        self.calls += 1
        return _frame()


def test_computed_once_then_read_back_identical_from_disk():
    c = Counter()
    first = derived.cached_frame("k1", "t", {"q": "2026Q1"}, c)
    again = derived.cached_frame("k1", "t", {"q": "2026Q1"}, c)
    assert c.calls == 1
    derived.clear_memo()  # a new process: only the disk copy is left
    from_disk = derived.cached_frame("k1", "t", {"q": "2026Q1"}, c)
    assert c.calls == 1
    for got in (first, again, from_disk):
        pd.testing.assert_frame_equal(got, _frame())
        assert got.attrs == {"quarters": ["2026Q1", "2026Q2"]}
        assert got["channel"].dtype == object and got["channel"].iloc[1] is None
    assert len(list(derived.derived_dir("k1").glob("t-*.parquet"))) == 1


def test_callers_get_copies():
    c = Counter()
    a = derived.cached_frame("k1", "t", {}, c)
    a.loc[0, "n"] = 99
    a.attrs["quarters"].append("x")
    b = derived.cached_frame("k1", "t", {}, c)
    assert b.loc[0, "n"] == 3 and b.attrs["quarters"] == ["2026Q1", "2026Q2"]


def test_other_parameters_data_or_code_compute_afresh(monkeypatch):
    c = Counter()
    derived.cached_frame("k1", "t", {"q": "2026Q1"}, c)
    derived.cached_frame("k1", "t", {"q": "2026Q2"}, c)
    derived.cached_frame("k2", "t", {"q": "2026Q1"}, c)
    assert c.calls == 3
    monkeypatch.setattr(derived, "_CODE", "another-version")
    derived.clear_memo()
    derived.cached_frame("k1", "t", {"q": "2026Q1"}, c)
    assert c.calls == 4


def test_no_data_key_caches_nothing(tmp_path):
    c = Counter()
    derived.cached_frame("", "t", {}, c)
    derived.cached_frame("", "t", {}, c)
    assert c.calls == 2
    assert not (tmp_path / "cache").exists()


def test_a_damaged_entry_is_computed_again(caplog):
    c = Counter()
    derived.cached_frame("k1", "t", {}, c)
    (path,) = derived.derived_dir("k1").glob("t-*.parquet")
    path.write_bytes(b"not parquet")
    derived.clear_memo()
    got = derived.cached_frame("k1", "t", {}, c)
    assert c.calls == 2
    pd.testing.assert_frame_equal(got, _frame())
    assert "unreadable" in caplog.text


def test_a_cache_that_is_a_file_only_costs_time(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("SALESAUDIT_CACHE", str(blocker))
    c = Counter()
    got = derived.cached_frame("k1", "t", {}, c)
    pd.testing.assert_frame_equal(got, _frame())
    assert "could not write" in caplog.text


def test_code_version_covers_the_package_source():
    v = derived.code_version()
    assert len(v) == 16 and int(v, 16) >= 0


def test_the_cached_backtest_and_score_trend_equal_the_computed_ones(small_data):
    """The steps that cache (the backtest's quarters, step 04's score per quarter end) return exactly what they
    compute without the cache, from the memo and from disk."""
    from salesaudit.data import io
    from salesaudit.periods import quarter_of
    from salesaudit.steps.planning import forecast
    from salesaudit.steps.reporting import metrics as dq

    io.clear_memo()
    data = io.load(small_data)
    bare = dataclasses.replace(data, cache_key="")  # no data key: nothing is cached
    assert data.cache_key
    cur = quarter_of(data.leads["created_at"].max(), data.config.fiscal_year_start_month).previous()
    want_bt = forecast.backtest(bare, cur, n_quarters=2)
    quarters = [cur.previous(), cur]
    want_tr = dq.score_trend(dq.whole_snapshot(bare), quarters)
    for _ in ("computed", "memo", "disk"):
        pd.testing.assert_frame_equal(forecast.backtest(data, cur, n_quarters=2), want_bt)
        assert forecast.backtest(data, cur, n_quarters=2).attrs == want_bt.attrs
        pd.testing.assert_frame_equal(dq.score_trend(dq.whole_snapshot(data), quarters), want_tr)
        derived.clear_memo()
    assert len(list(derived.derived_dir(data.cache_key).glob("forecast_quarter-*.parquet"))) == len(
        want_bt.attrs["quarters"]
    )
    assert len(list(derived.derived_dir(data.cache_key).glob("dq_quarter_scores-*.parquet"))) == 2


def test_raw_file_hashes_are_read_once_per_version_of_the_file(tmp_path, monkeypatch):
    """The loader's file hash is kept per file identity (in the process and on disk); a changed file is hashed
    again, and a file changed in the last 2 s is always hashed (file times are only as fine as a clock tick)."""
    import hashlib
    import time

    from salesaudit.data import io

    f = tmp_path / "leads.csv"
    f.write_text("lead_id\n1\n")
    want = hashlib.sha256(b"lead_id\n1\n").hexdigest()
    calls = []
    real = io._sha256
    monkeypatch.setattr(io, "_sha256", lambda p: calls.append(p) or real(p))
    assert io._hash_file(f) == want and io._hash_file(f) == want
    assert len(calls) == 2  # fresh: never trusted from the memo
    time.sleep(2.1)
    assert io._hash_file(f) == want
    io._HASHES.clear()  # another kernel: only the disk memo is left
    assert io._hash_file(f) == want
    assert len(calls) == 3
    f.write_text("lead_id\n2\n")
    assert io._hash_file(f) == hashlib.sha256(b"lead_id\n2\n").hexdigest()


def test_notebooks_start_longest_first_by_the_last_measured_seconds(tmp_path):
    """Longest-processing-time-first: the runner starts the notebook that took longest last time first (the
    spend-planning notebook before any measurement), so no worker ends up running it alone at the end."""
    from pathlib import Path

    from salesaudit.report import build

    nbs = [Path(f"{n}.ipynb") for n in ("01_sales_process", "03_lead_quality", "07_spend_planning")]
    assert [p.stem for p in build.longest_first(nbs)] == ["07_spend_planning", "01_sales_process", "03_lead_quality"]
    build.remember_seconds({"03_lead_quality": 30.0, "07_spend_planning": 2.0})
    build.remember_seconds({"01_sales_process": 9.0})  # merged with what was kept
    assert [p.stem for p in build.longest_first(nbs)] == ["03_lead_quality", "01_sales_process", "07_spend_planning"]
    build._seconds_file().write_text("not json")
    assert [p.stem for p in build.longest_first(nbs)][0] == "07_spend_planning"
