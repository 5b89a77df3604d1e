"""The demo company: deterministic, contract-valid, and its truth.json matches what is in the data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from salesaudit.config import canonical_token, load_config
from salesaudit.data.contract import COLUMNS, ID_COLUMNS, LEAD_STAGE_COLUMNS, MODELS, TABLES
from salesaudit.data.demo import CHANNEL_VARIANTS, CHANNELS, PRODUCT_VARIANTS, PRODUCTS, generate

SMALL = {"seed": 3, "leads_per_year": 1500, "years": 2}
TRUTH_KEYS = {
    "seed",
    "end",
    "leads_per_year",
    "years",
    "n_leads",
    "quarterly_expected",
    "generated_tables",
    "notes",
    "period",
    "seasonality",
    "channels",
    "mql_score_threshold",
    "best_score_threshold",
    "reps",
    "rep_skill_order",
    "ramp_months",
    "capacity",
    "email_streams",
    "content",
    "stale_content_ids",
    "service",
    "faults",
    "faults_detail",
}
FAULTS = {
    "leads_missing_owner",
    "leads_stage_out_of_order",
    "duplicate_leads",
    "unknown_channel_spellings",
    "opportunities_unknown_owner",
    "open_opportunities_without_account",
    "product_name_mismatch",
    "won_without_order",
}


def _coerce(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """The loader's type coercion in miniature: ids/text as str, timestamps parsed, numbers as float."""
    out = df.copy()
    for col in COLUMNS[table]:
        if col.name not in out:
            continue
        s = out[col.name]
        if col.kind in ("timestamp", "month"):
            out[col.name] = pd.to_datetime(s, format="mixed")
        elif col.kind in ("money", "float", "int"):
            out[col.name] = pd.to_numeric(s).astype(float)
        elif col.kind == "bool":
            out[col.name] = s.map({"True": True, "False": False}).astype("boolean")
    return out


def _read(data_dir: Path) -> dict[str, pd.DataFrame]:
    return {
        t: _coerce(t, pd.read_csv(data_dir / f"{t}.csv", dtype=str, keep_default_na=False, na_values=[""]))
        for t in TABLES
    }


def _hashes(data_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(data_dir.iterdir())}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict, dict[str, pd.DataFrame]]:
    out = tmp_path_factory.mktemp("demo_small")
    truth = generate(out, **SMALL)
    return out, truth, _read(out)


@pytest.fixture(scope="module")
def default(demo_data) -> tuple[Path, dict, dict[str, pd.DataFrame]]:
    """The default demo company (seed 7): conftest's ``demo_data``, generated once per test run; its truth as
    written to truth.json (test_files_and_truth_keys checks that the file holds what generate returns)."""
    return demo_data, json.loads((demo_data / "truth.json").read_text()), _read(demo_data)


def test_deterministic(small, tmp_path):
    first, _, _ = small
    generate(tmp_path, **SMALL)
    assert _hashes(tmp_path) == _hashes(first)
    other = tmp_path / "other"
    generate(other, **{**SMALL, "seed": SMALL["seed"] + 1})
    assert _hashes(other)["leads.csv"] != _hashes(first)["leads.csv"]


def test_files_and_truth_keys(small):
    out, truth, _ = small
    assert {f"{t}.csv" for t in TABLES} | {"audit.yaml", "truth.json"} <= {p.name for p in out.iterdir()}
    on_disk = json.loads((out / "truth.json").read_text())
    assert on_disk == json.loads(json.dumps(truth))
    assert TRUTH_KEYS <= set(truth)
    assert set(truth["faults"]) == FAULTS and all(v > 0 for v in truth["faults"].values())
    assert set(truth["generated_tables"]) == set(TABLES)
    assert len(truth["seasonality"]) == 12 and abs(np.mean(truth["seasonality"]) - 1) < 1e-3
    for ch in CHANNELS:
        c = truth["channels"][ch]
        assert set(c["rates"]) == set(c["median_days"]) == {"lead_mql", "mql_sal", "sal_sql", "sql_customer"}
        assert (c["response"] is None) == (ch in ("organic", "referral"))
        if c["response"]:
            assert c["response"]["form"] == "hill" and c["spend_range"][0] < c["spend_range"][1]
    assert truth["channels"]["podcast"]["history_months"] == 3
    assert truth["mql_score_threshold"] < truth["best_score_threshold"]
    assert truth["capacity"]["quarter"] == "2026Q3" and truth["capacity"]["shortfall"]
    assert truth["capacity"]["monthly_leads"] > truth["capacity"]["team_monthly_capacity"]
    assert sorted(truth["rep_skill_order"]) == sorted(r for r, v in truth["reps"].items() if v["role"] == "AE")
    assert set(truth["email_streams"]) == {"newsletter", "nurture", "product_updates", "webinar_invites", "promotions"}
    assert truth["stale_content_ids"] and all(
        truth["content"][c]["helpful"] is False for c in truth["stale_content_ids"]
    )
    assert truth["service"]["repeat_rate_high_csat"] > truth["service"]["repeat_rate_low_csat"]


def test_audit_yaml(small):
    out, _, _ = small
    cfg = load_config(out)
    assert cfg.company == "Northwind Devices (demo)" and cfg.currency == "EUR"
    assert cfg.channels == CHANNELS and cfg.products == PRODUCTS
    assert cfg.stages["won"] == ["Closed Won"] and cfg.stale_content_days == 365


#: optional contract columns the demo leaves out: every stage is dated, so ``stage_reached`` adds nothing
NOT_GENERATED = {"leads": {"stage_reached"}}


@pytest.mark.parametrize("table", TABLES)
def test_tables_pass_contract(small, table):
    _, _, data = small
    df = data[table]
    assert list(df.columns) == [c.name for c in COLUMNS[table] if c.name not in NOT_GENERATED.get(table, set())]
    assert len(df) > 0
    MODELS[table].validate(df, lazy=True)
    if table in ID_COLUMNS:
        ids = df[ID_COLUMNS[table]]
        assert ids.is_unique and ids.is_monotonic_increasing


def test_no_dates_after_end_and_no_negative_money(small):
    _, truth, data = small
    end = pd.Timestamp(truth["period"]["end_exclusive"])
    for table, df in data.items():
        for col in COLUMNS[table]:
            if col.kind in ("timestamp", "month"):
                assert not (df[col.name] >= end).any(), (table, col.name)
            if col.kind == "money":
                assert not (df[col.name] < 0).any(), (table, col.name)


def _fault_counts(data: dict[str, pd.DataFrame]) -> dict[str, int]:
    leads, opps = data["leads"], data["opportunities"]
    stages = leads[list(LEAD_STAGE_COLUMNS)]
    # a chain is out of order if any later non-empty stage is before an earlier non-empty stage
    ffill = stages.ffill(axis=1)
    bad = (stages.iloc[:, 1:].to_numpy() < ffill.iloc[:, :-1].to_numpy()).any(axis=1)
    canon = set(CHANNELS)
    ch = leads["channel"]
    open_stage = ~opps["stage"].isin(["Closed Won", "Closed Lost"])
    won = opps["stage"] == "Closed Won"
    return {
        "leads_missing_owner": int(leads["owner_id"].isna().sum()),
        "leads_stage_out_of_order": int(bad.sum()),
        "duplicate_leads": int(leads.drop(columns="lead_id").duplicated().sum()),
        "unknown_channel_spellings": int((~ch.isin(canon) & ch.map(canonical_token).isin(canon)).sum()),
        "opportunities_unknown_owner": int((~opps["owner_id"].isin(data["reps"]["rep_id"])).sum()),
        "open_opportunities_without_account": int((open_stage & opps["account_id"].isna()).sum()),
        "product_name_mismatch": int((~opps["product"].isin(PRODUCTS)).sum()),
        "won_without_order": int((won & ~opps["lead_id"].isin(data["orders"]["customer_id"])).sum()),
    }


@pytest.mark.parametrize("which", ["small", "default"])
def test_fault_counts_exact(which, request):
    _, truth, data = request.getfixturevalue(which)
    assert _fault_counts(data) == truth["faults"]
    for key, ids in truth["faults_detail"].items():
        assert len(ids) == truth["faults"][key]


@pytest.mark.parametrize("which", ["small", "default"])
def test_contact_key_identifies_the_injected_duplicates(which, request):
    """Natural leads have distinct keys; each injected copy shares its original's key, and nothing else does."""
    _, truth, data = request.getfixturevalue(which)
    leads = data["leads"].set_index("lead_id")
    key = leads["contact_key"]
    assert key.notna().all() and key.str.fullmatch(r"[0-9a-f]{16}").all()
    pairs = truth["faults_detail"]["duplicate_leads"]
    assert all(key[d] == key[o] and d > o for d, o in pairs)
    assert int(key.duplicated().sum()) == truth["faults"]["duplicate_leads"] == len(pairs)


def test_channel_variants_map_back():
    for canonical, variants in CHANNEL_VARIANTS.items():
        assert all(canonical_token(v) == canonical and v.strip() != canonical for v in variants)
    assert not set(PRODUCT_VARIANTS) & set(PRODUCTS)
    assert all(canonical_token(v) not in {canonical_token(p) for p in PRODUCTS} for v in PRODUCT_VARIANTS)


def test_first_contact_is_first_activity(small):
    _, truth, data = small
    dups = {d for d, _ in truth["faults_detail"]["duplicate_leads"]}
    leads = data["leads"][~data["leads"]["lead_id"].isin(dups)].set_index("lead_id")
    first = data["activities"].groupby("lead_id")["occurred_at"].min()
    contacted = leads["first_contact_at"].dropna()
    assert first.reindex(contacted.index).equals(contacted.rename("occurred_at"))
    assert set(first.index) == set(contacted.index)


def test_links_between_tables(small):
    _, _, data = small
    leads, opps = data["leads"], data["opportunities"]
    assert opps["lead_id"].isin(leads["lead_id"]).all()
    won = opps[opps["stage"] == "Closed Won"].set_index("lead_id")
    assert leads.set_index("lead_id").loc[won.index, "customer_at"].equals(won["closed_at"].rename("customer_at"))
    assert data["content_touches"]["content_id"].isin(data["content"]["content_id"]).all()
    assert data["activities"]["owner_id"].isin(data["reps"]["rep_id"]).all()
    assert set(data["spend"]["channel"]) == {"paid_search", "paid_social", "events", "webinar", "partner", "podcast"}


def test_empirical_rates_near_truth_on_mature_cohorts(default):
    """Each channel's stage conversion on leads at least a year old is within sampling noise of the truth."""
    _, truth, data = default
    end = pd.Timestamp(truth["period"]["end_exclusive"])
    dups = {d for d, _ in truth["faults_detail"]["duplicate_leads"]}
    leads = data["leads"][~data["leads"]["lead_id"].isin(dups)].assign(ch=lambda d: d["channel"].map(canonical_token))
    mature = leads[leads["created_at"] < end - pd.Timedelta(days=365)]
    opps = data["opportunities"].merge(leads[["lead_id", "ch"]], on="lead_id")
    opps = opps[(opps["created_at"] < end - pd.Timedelta(days=365)) & opps["stage"].isin(["Closed Won", "Closed Lost"])]
    checked = 0
    for ch, g in mature.groupby("ch"):
        rates = truth["channels"][ch]["rates"]
        mql = g[g["mql_at"].notna()]
        sal = mql[mql["sal_at"].notna()]
        o = opps[opps["ch"] == ch]
        observed = {
            "lead_mql": (len(mql), len(g)),
            "mql_sal": (len(sal), len(mql)),
            "sal_sql": (int(sal["sql_at"].notna().sum()), len(sal)),
            "sql_customer": (int((o["stage"] == "Closed Won").sum()), len(o)),
        }
        for stage, (k, n) in observed.items():
            p = rates[stage]
            assert abs(k / n - p) < 4 * np.sqrt(p * (1 - p) / n) + 0.01, (ch, stage, k / n, p, n)
            checked += 1
    assert checked == 4 * (len(CHANNELS) - 1)  # podcast has no mature cohort


def test_structure_visible_in_default_data(default):
    _, truth, data = default
    # seeded e-mail stream rates are recovered
    es = data["email_sends"].groupby("stream")[["recipients", "opens", "clicks"]].sum()
    for stream, t in truth["email_streams"].items():
        assert abs(es.loc[stream, "opens"] / es.loc[stream, "recipients"] - t["open_rate"]) < 0.01
        assert abs(es.loc[stream, "clicks"] / es.loc[stream, "opens"] - t["click_to_open"]) < 0.01
    # stale content: updated more than two years before the end, still touched in the last quarter
    end = pd.Timestamp(truth["period"]["end_exclusive"])
    content = data["content"].set_index("content_id")
    old = content.index[content["updated_at"] < end - pd.Timedelta(days=365)]
    assert list(old) == truth["stale_content_ids"]
    recent = data["content_touches"][data["content_touches"]["touched_at"] >= pd.Timestamp("2026-07-01")]
    assert recent["content_id"].value_counts()[truth["stale_content_ids"][0]] > 100
    # the leaver, the capacity shortfall and the podcast's short history
    reps = data["reps"]
    assert reps["end_date"].notna().sum() == 1
    assert reps.loc[reps["end_date"].notna(), "end_date"].iloc[0].to_period("Q") == pd.Period("2026Q2")
    assert data["spend"].loc[data["spend"]["channel"] == "podcast", "month"].min() == pd.Timestamp("2026-07-01")
    # lead score separates leads that reach SQL (among MQLs) with AUC around 0.7
    assert 0.62 < truth["score_auc_sql_among_mqls"] < 0.78
