"""Loader: coercion, one-line messages for bad input, findings, the Parquet cache, the validate CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from salesaudit.data import io
from salesaudit.errors import DataContractError

ROOT = Path(__file__).resolve().parents[1]


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text.strip() + "\n", encoding="utf-8")


@pytest.fixture
def tiny(tmp_path) -> Path:
    d = tmp_path / "tiny"
    d.mkdir()
    _write(d, "audit.yaml", "company: Tiny\nchannels: [paid_search, events]\n")
    _write(
        d,
        "leads.csv",
        """
lead_id,created_at,channel,owner_id,mql_at,sql_at,lead_score
L1,2026-01-05,paid_search,R1,2026-01-06,2026-01-10,55
L2,2026-01-06 10:00:00,Paid Search,R1,,,
L3,2026-01-07,events,R9,2026-01-09,2026-01-08,80
""",
    )
    _write(d, "reps.csv", "rep_id,name\nR1,Ann\n")
    _write(
        d,
        "opportunities.csv",
        """
opportunity_id,owner_id,created_at,stage,amount
O1,R1,2026-01-10,Closed Won,100
O2,R1,2026-01-11,Negotiation,
O3,R1,2026-01-12,Weird stage,5
""",
    )
    return d


def test_tiny_loads_with_findings(tiny):
    data = io.load(tiny, use_cache=False)
    leads = data.leads
    assert leads["created_at"].dtype == "datetime64[ns]"
    assert leads["channel"].tolist() == ["paid_search", "paid_search", "events"]
    checks = dict(zip(data.findings["check"], data.findings["count"]))
    assert checks["channel_spelling"] == 1
    assert checks["stage_order"] == 1  # L3: sql before mql
    assert checks["foreign_key:reps.rep_id"] == 1  # R9
    assert checks["stage_map"] == 1  # "Weird stage"
    opps = data.opportunities.set_index("opportunity_id")
    assert opps.loc["O1", "status"] == "won" and bool(opps.loc["O1", "is_won"])
    assert opps.loc["O2", "status"] == "open" and pd.isna(opps.loc["O2", "is_won"])
    assert data.missing() == [t for t in io.TABLES if t not in {"leads", "reps", "opportunities"}]
    first = data.findings.loc[data.findings["check"] == "stage_order", "message"].iloc[0]
    assert first.startswith("leads.csv: column created_at,mql_at,sql_at: 1 row have stage dates out of order")
    assert "(row 4)" in first


def test_raw_files_never_written(tiny):
    before = {p.name: p.read_bytes() for p in tiny.iterdir()}
    io.load(tiny)
    io.clear_memo()
    io.load(tiny)
    assert {p.name: p.read_bytes() for p in tiny.iterdir()} == before


def test_missing_leads_table(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(DataContractError, match="leads.csv: required table is missing"):
        io.load(tmp_path / "x")


def test_unreadable_file(tiny):
    (tiny / "reps.csv").write_bytes(b'rep_id,name\n\xff\xfe\x00bad,"unterminated\n')
    with pytest.raises(DataContractError) as exc:
        io.load(tiny, use_cache=False)
    assert str(exc.value).startswith("reps.csv")


def test_cache_roundtrip_and_key(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("SALESAUDIT_CACHE", str(tmp_path / "c"))
    io.clear_memo()
    fresh = io.load(tiny)
    key = fresh.cache_key
    assert (tmp_path / "c" / key / "leads.parquet").exists()
    io.clear_memo()
    cached = io.load(tiny)
    assert cached.cache_key == key
    for t in fresh.tables:
        pd.testing.assert_frame_equal(fresh.tables[t], cached.tables[t], check_dtype=False)
    pd.testing.assert_frame_equal(fresh.findings, cached.findings)
    # any change of a raw file changes the key
    (tiny / "reps.csv").write_text("rep_id,name\nR1,Ann\nR9,Bob\n")
    io.clear_memo()
    assert io.load(tiny).cache_key != key


def test_parquet_input(tiny, tmp_path):
    d = tmp_path / "pq"
    shutil.copytree(tiny, d)
    pd.read_csv(d / "leads.csv", dtype=str).to_parquet(d / "leads.parquet", index=False)
    (d / "leads.csv").unlink()
    data = io.load(d, use_cache=False)
    assert len(data.leads) == 3 and data.files["leads"] == "leads.parquet"


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "salesaudit", *args], capture_output=True, text=True, cwd=ROOT)


def test_validate_cli_on_demo_and_broken_copy(small_data, tmp_path, cli):
    code, out, err = cli("validate", small_data)
    assert code == 0, err
    assert "leads" in out and "OK:" in out
    broken = tmp_path / "broken"
    shutil.copytree(small_data, broken)
    leads = (broken / "leads.csv").read_text().splitlines()
    header = leads[0].split(",")
    row = leads[1].split(",")
    row[header.index("created_at")] = "31/31/2026"  # a broken date
    leads[1] = ",".join(row)
    dup = leads[3].split(",")
    dup[0] = leads[2].split(",")[0]  # a duplicate lead_id
    leads[3] = ",".join(dup)
    (broken / "leads.csv").write_text("\n".join(leads) + "\n")
    spend = pd.read_csv(broken / "spend.csv", dtype=str)
    spend.loc[4, "amount"] = "-10"  # a negative spend
    spend.to_csv(broken / "spend.csv", index=False)
    opps = pd.read_csv(broken / "opportunities.csv", dtype=str).drop(columns=["stage"])  # a missing required column
    opps.to_csv(broken / "opportunities.csv", index=False)
    code, _, err = cli("validate", broken)
    assert code == 2
    assert "Traceback" not in err
    assert "leads.csv: column created_at: 1 row not a date (e.g. '31/31/2026') (row 2)" in err
    assert "leads.csv: column lead_id: 2 rows duplicate id (rows 3, 4)" in err
    assert "spend.csv: column amount: 1 row is negative (must be ≥ 0) (row 6)" in err
    assert "opportunities.csv: column stage: required column is missing" in err


def test_validate_cli_missing_folder(tmp_path):
    # through the real entry point: a separate interpreter shows no traceback for bad input
    res = _cli("validate", str(tmp_path / "nope"))
    assert res.returncode == 2 and "data folder not found" in res.stderr and "Traceback" not in res.stderr
