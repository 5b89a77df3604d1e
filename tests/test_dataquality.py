"""Data-quality checks (step 04) on tiny hand-made frames, the score formula, and recovery of the faults
injected into the demo company."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from salesaudit.config import load_config
from salesaudit.data.io import load
from salesaudit.periods import parse_quarter
from salesaudit.steps import reporting as dq
from salesaudit.steps.reporting import metrics as dq_metrics

T = pd.Timestamp
END = T("2026-04-01")


def tiny_cfg(**kw):
    return dataclasses.replace(load_config(None, None), channels=["paid_search", "webinar"], **kw)


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Five leads, two reps, five deals, one activity, two orders — each fault planted once.

    L2 copies L1 (duplicate: same contact_key, same created_at, larger lead_id); L3 has no owner and SAL before MQL; L4 belongs to unknown rep R9 and was never
    touched (created 2026-03-01); L5 is untouched but only a week old. O2 is owned by unknown rep R9, has
    no account, the product spelled "GTXPro" and its only activity on 2026-02-05 (stale at 2026-04-01);
    O3 is open but new; O4 was closed before it was created; O5 is won without an order.
    """
    base = dict(
        created_at=T("2026-01-01"),
        channel="paid_search",
        owner_id="R1",
        first_contact_at=T("2026-01-02"),
        mql_at=T("2026-01-05"),
        sal_at=T("2026-01-06"),
        sql_at=T("2026-01-10"),
        customer_at=T("2026-02-01"),
        disqualified_at=pd.NaT,
        segment="SMB",
        country="PL",
        lead_score=50.0,
        contact_key="k1",
    )
    none = dict(first_contact_at=pd.NaT, mql_at=pd.NaT, sal_at=pd.NaT, sql_at=pd.NaT, customer_at=pd.NaT)
    leads = pd.DataFrame(
        [
            {**base, "lead_id": "L1"},
            {**base, "lead_id": "L2"},
            {
                **base,
                **none,
                "lead_id": "L3",
                "contact_key": "k3",
                "created_at": T("2026-01-03"),
                "owner_id": None,
                "mql_at": T("2026-01-10"),
                "sal_at": T("2026-01-05"),
            },
            {
                **base,
                **none,
                "lead_id": "L4",
                "contact_key": "k4",
                "created_at": T("2026-03-01"),
                "owner_id": "R9",
                "channel": "webinar",
            },
            {**base, **none, "lead_id": "L5", "contact_key": "k5", "created_at": T("2026-03-25")},
        ]
    )
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "name": ["Ann", "Bob"]})

    def o(i, owner, lead, created, stage, status, closed, amount, account, product):
        return dict(
            opportunity_id=i,
            owner_id=owner,
            lead_id=lead,
            created_at=T(created),
            stage=stage,
            status=status,
            closed_at=T(closed) if closed else pd.NaT,
            amount=amount,
            account_id=account,
            product=product,
            is_won={"won": True, "lost": False}.get(status),
            lost_reason="price" if status == "lost" else None,
        )

    opps = pd.DataFrame(
        [
            o("O1", "R1", "L1", "2026-01-10", "Closed Won", "won", "2026-02-01", 1000.0, "A1", "GTX Pro"),
            o("O2", "R9", "L3", "2026-02-01", "Proposal", "open", None, 500.0, None, "GTXPro"),
            o("O3", "R2", "L4", "2026-03-20", "Proposal", "open", None, 200.0, "A3", "GTX Pro"),
            o("O4", "R1", "L3", "2026-01-15", "Closed Lost", "lost", "2026-01-10", 100.0, "A4", "GTX Pro"),
            o("O5", "R2", "L2", "2026-02-10", "Closed Won", "won", "2026-03-01", 300.0, "A5", "Other"),
        ]
    )
    opps["is_won"] = opps["is_won"].astype("boolean")
    activities = pd.DataFrame(
        {
            "activity_id": ["A1"],
            "owner_id": ["R1"],
            "type": ["call"],
            "occurred_at": [T("2026-02-05")],
            "lead_id": [None],
            "opportunity_id": ["O2"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["S1", "S2"],
            "customer_id": ["L1", "L1"],
            "ordered_at": [T("2026-02-01"), T("2026-03-01")],
            "amount": [1000.0, 50.0],
        }
    )
    return {"leads": leads, "reps": reps, "opportunities": opps, "activities": activities, "orders": orders}


RAW_CHANNELS = {"leads": pd.Series(["paid_search", "Paid Search", "paid_search", "webinar", "paid_search"])}


@pytest.fixture()
def snap():
    return dq.from_tables(tiny_tables(), tiny_cfg(), end=END, raw_channels=RAW_CHANNELS)


@pytest.fixture()
def table(snap):
    return dq.checks(snap)


def count(table, t, check):
    return dq.check_count(table, t, check)


# --------------------------------------------------------------------------------------------------
# each check
# --------------------------------------------------------------------------------------------------
def test_fault_counts_on_tiny_frames(table):
    assert dq.fault_counts(table) == {
        "leads_missing_owner": 1,
        "leads_stage_out_of_order": 1,
        "duplicate_leads": 1,
        "unknown_channel_spellings": 1,
        "opportunities_unknown_owner": 1,
        "open_opportunities_without_account": 1,
        "product_name_mismatch": 1,
        "won_without_order": 1,
    }


def test_completeness_counts_only_rows_that_must_be_filled(table):
    row = table[(table["table"] == "opportunities") & (table["check"] == "missing:account_id:open")].iloc[0]
    assert (row["count"], row["base"]) == (1, 2)  # O2 of the open deals O2, O3
    assert count(table, "opportunities", "missing:account_id:won") == 0
    assert count(table, "opportunities", "missing:lost_reason:lost") == 0
    k, n = dq.missing_in(pd.DataFrame({"x": [1, None, None], "status": ["won", "won", "lost"]}), "x", ("won",))
    assert (k, n) == (1, 2)


def test_quota_checked_only_for_reps_who_own_deals():
    t = tiny_tables()
    t["reps"] = (
        t["reps"]
        .assign(quarterly_quota=[None, 1000.0])
        .pipe(lambda r: pd.concat([r, pd.DataFrame({"rep_id": ["R3"], "name": ["Sdr"], "quarterly_quota": [None]})]))
    )
    c = dq.checks(dq.from_tables(t, tiny_cfg(), end=END))
    row = c[c["check"] == "missing:quarterly_quota"].iloc[0]
    assert (row["count"], row["base"]) == (1, 2)  # R1 owns deals without a quota; R3 owns none


def test_validity_checks(table):
    assert count(table, "leads", "stage_order") == 1
    assert count(table, "opportunities", "closed_before_created") == 1
    assert count(table, "opportunities", "future_date") == 0
    assert count(table, "opportunities", "negative_amount") == 0
    assert count(table, "opportunities", "stage_map") == 0
    assert count(table, "opportunities", "is_won_vs_stage") == 0


def test_future_dates_negative_amounts_unknown_stage_and_is_won_clash():
    t = tiny_tables()
    t["leads"].loc[4, "mql_at"] = T("2027-01-01")
    t["opportunities"].loc[0, "amount"] = -5.0
    t["opportunities"].loc[2, "status"] = "unknown"
    t["opportunities"].loc[3, "is_won"] = True  # lost stage, is_won true
    c = dq.checks(dq.from_tables(t, tiny_cfg(), end=END))
    assert count(c, "leads", "future_date") == 1
    assert count(c, "opportunities", "negative_amount") == 1
    assert count(c, "opportunities", "stage_map") == 1
    assert count(c, "opportunities", "is_won_vs_stage") == 1


def test_future_dates_only_strictly_after_the_extraction_date():
    t = tiny_tables()
    ext = T("2026-03-25")  # the latest lead
    t["orders"].loc[1, "ordered_at"] = ext  # at the extraction instant: genuine
    c = dq.checks(dq.from_tables(t, tiny_cfg(), end=ext))
    assert count(c, "orders", "future_date") == 0
    t["orders"].loc[1, "ordered_at"] = ext + pd.Timedelta(seconds=1)
    assert count(dq.checks(dq.from_tables(t, tiny_cfg(), end=ext)), "orders", "future_date") == 1


def test_orders_after_the_latest_lead_are_genuine():
    """The extraction date is the coverage's (latest timestamp ≤ today), not the day after the latest lead."""
    t = tiny_tables()
    t["orders"] = t["orders"].assign(ordered_at=[T("2026-02-01"), T("2026-11-20")])  # 8 months past the last lead
    snap = dq.from_tables(t, tiny_cfg())
    assert snap.end == T("2026-11-20")
    c = dq.checks(snap)
    assert int(c.loc[c["check"] == "future_date", "count"].sum()) == 0
    assert "future_date" not in set(dq.unjudged(snap)["check"])


def test_extraction_date_unknown_cannot_judge():
    leads = pd.DataFrame({"lead_id": ["a", "b"], "created_at": pd.to_datetime([pd.NaT, pd.NaT]), "channel": ["x", "y"]})
    snap = dq.from_tables({"leads": leads}, tiny_cfg())
    assert snap.end is None
    c = dq.checks(snap)
    assert "future_date" not in set(c["check"])
    notes = dq.unjudged(snap)
    assert "extraction date is unknown" in notes.set_index("check").loc["future_date", "reason"]
    assert any(
        "Cannot judge dates after the extraction date" in x for x in dq.dimension_sentences(c, "validity", notes=notes)
    )


def test_duplicates_only_on_contact_key():
    t = tiny_tables()["leads"]
    assert dq.duplicate_leads(t).tolist() == [False, True, False, False, False]
    worked_apart = t.assign(owner_id=["R1", "R2", None, "R9", "R1"])  # still the same person
    assert dq.duplicate_leads(worked_apart).tolist() == [False, True, False, False, False]
    # same instant and channel but different people: not duplicates
    strangers = t.assign(contact_key=["k1", "k2", "k3", "k4", "k5"])
    assert dq.duplicate_leads(strangers).sum() == 0
    # no identifying field: cannot judge (None), whatever else the leads share
    assert dq.duplicate_leads(t.drop(columns="contact_key")) is None
    assert dq.duplicate_leads(t.assign(contact_key=["", " ", None, None, None])) is None


def test_the_earliest_created_lead_is_the_original():
    leads = pd.DataFrame(
        {
            "lead_id": ["A", "B", "C", "D", "E"],
            "created_at": pd.to_datetime(["2026-02-01", "2026-01-01", pd.NaT, "2026-01-01", "2026-03-01"]),
            "contact_key": ["p", "p", "p", "q", "q"],
        }
    )
    assert dq.duplicate_leads(leads).tolist() == [True, False, True, False, True]
    pairs = dq.duplicate_pairs(leads)
    assert dict(zip(pairs["lead_id"], pairs["original_lead_id"])) == {"A": "B", "E": "D", "C": "B"}
    tie = pd.DataFrame({"lead_id": ["L9", "L1"], "created_at": [T("2026-01-01")] * 2, "contact_key": ["p", "p"]})
    assert dq.duplicate_leads(tie).tolist() == [True, False]  # same instant: the smaller lead_id is the original
    s = dq.duplicate_summary(leads)
    assert (s["copies"], s["judged"], s["people"]) == (3, 5, 2)


def test_leads_derived_from_opportunities_are_not_duplicates():
    leads = pd.DataFrame(
        {
            "lead_id": ["O1", "O2", "L3"],
            "created_at": [T("2026-01-01")] * 3,
            "contact_key": ["acme", "acme", "acme"],
            "source_opportunity_id": ["O1", "O2", None],
        }
    )
    assert dq.duplicate_leads(leads).tolist() == [False, False, False]
    s = dq.duplicate_summary(leads)
    assert (s["copies"], s["judged"], s["derived"]) == (0, 1, 2)


def test_without_contact_key_a_neutral_note_not_a_finding():
    t = tiny_tables()
    t["leads"] = t["leads"].drop(columns="contact_key")
    snap = dq.from_tables(t, tiny_cfg(), end=END)
    c = dq.checks(snap)
    assert dq.check_count(c, "leads", "duplicate_leads") is None and "uniqueness" not in set(c["dimension"])
    assert dq.fault_counts(c)["duplicate_leads"] == 0
    notes = dq.unjudged(snap)
    assert notes.set_index("check").loc["duplicate_leads", "reason"] == dq.NO_CONTACT_KEY
    s = dq.duplicate_sentences(dq.duplicate_summary(snap.tables["leads"]))
    assert s[0].startswith("Cannot judge duplicates: the leads carry no identifying field (contact_key")
    assert not any("cop" in x for x in dq.fixes_lines(dq.ranked_fixes(c)))
    assert dq.dimension_sentences(c, "uniqueness", notes=notes)[0].startswith("Cannot judge duplicates")


def test_foreign_keys_and_channels(table):
    assert count(table, "opportunities", "foreign_key:reps.rep_id") == 1
    assert count(table, "leads", "foreign_key:reps.rep_id") == 1  # L4 → R9
    assert count(table, "opportunities", "foreign_key:leads.lead_id") == 0  # passing reference still listed
    assert count(table, "leads", "channel_spelling") == 1
    assert count(table, "leads", "channel_unknown") == 0


def test_channel_spelling_flags_count_surrounding_spaces():
    cfg = tiny_cfg()
    raw = pd.Series(["paid_search", "webinar ", "Webinar", None, "podcast"])
    assert dq.channel_spelling_flags(raw, cfg).tolist() == [False, True, True, False, True]
    no_list = dataclasses.replace(cfg, channels=[])
    assert dq.channel_spelling_flags(raw, no_list).tolist() == [False, True, True, False, False]


def test_product_mismatch_with_and_without_a_list():
    p = pd.Series(["GTX Pro", "GTX Pro", "GTXPro", None, "GTX Basic", "gtx basic", "GTX Basic"])
    assert dq.product_mismatch(p).tolist() == [False, False, True, False, False, True, False]
    assert dq.product_mismatch(p, ["GTX Pro"]).tolist() == [False, False, True, False, True, True, True]
    sp = dq.product_spellings(pd.Series(["ProSuite", "Enterprize", "Core", "Zzz"]), ["Core", "Pro Suite", "Enterprise"])
    assert dict(zip(sp["product"], sp["suggestion"])) == {
        "ProSuite": "Pro Suite",
        "Enterprize": "Enterprise",
        "Zzz": "",
    }
    cfg = tiny_cfg()
    assert dq.product_reference(cfg, {"products": pd.DataFrame({"product": ["B", "A"]})}) == ["A", "B"]
    assert dq.product_reference(dataclasses.replace(cfg, products=["X"])) == ["X"]


def test_timeliness(table, snap):
    row = table[table["check"] == "stale_open"].iloc[0]
    assert (row["count"], row["base"]) == (1, 2)  # O2 idle since 2026-02-05; O3 opened 12 days ago
    stale = dq.stale_open_opportunities(snap.tables["opportunities"], snap.tables["activities"], END, 30)
    assert stale.tolist() == [False, True, False, False, False]
    assert dq.idle_days_open(snap).round(0).tolist() == [55.0, 12.0]
    row = table[table["check"] == "untouched"].iloc[0]
    assert (row["count"], row["base"]) == (1, 4)  # L4; L5 is younger than 14 days


def test_reconciliation(snap):
    opps, orders = snap.tables["opportunities"], snap.tables["orders"]
    r = dq.reconcile_orders(opps, orders)
    assert r.set_index("opportunity_id")["has_order"].to_dict() == {"O1": True, "O5": False}
    assert r["order_amount"].iloc[0] == 1000.0  # the first order, not the later 50
    s = dq.reconciliation_summary(opps, orders, T("2026-01-01"), T("2026-04-01"))
    assert (s["won_deals"], s["without_order"], s["unreconciled_revenue"]) == (2, 1, 300.0)
    differs = dq.reconcile_orders(opps.assign(amount=[1100.0, 500, 200, 100, 300]), orders)
    assert differs["amount_differs"].tolist() == [True, False]
    s2 = dq.reconciliation_summary(opps.assign(amount=[1100.0, 500, 200, 100, 300]), orders)
    assert s2["unreconciled_revenue"] == pytest.approx(300.0 + 100.0)


def test_freshness_lag_and_share(snap):
    f = dq.freshness(snap).set_index("table")
    assert f.loc["leads", "lag_days"] == pytest.approx(7.0)  # latest lead 2026-03-25
    assert f.loc["orders", "lag_days"] == pytest.approx(31.0)
    assert f.loc["orders", "stale_share"] == pytest.approx((31 - 7) / 91)
    assert f.loc["leads", "stale_share"] == 0.0


# --------------------------------------------------------------------------------------------------
# snapshots "as of"
# --------------------------------------------------------------------------------------------------
def test_as_of_drops_later_records_and_reopens_later_closes(snap):
    s = dq.as_of(snap, T("2026-02-15"))
    assert sorted(s.tables["leads"]["lead_id"]) == ["L1", "L2", "L3"]
    opps = s.tables["opportunities"].set_index("opportunity_id")
    assert "O3" not in opps.index
    assert opps.loc["O5", "status"] == "open" and pd.isna(opps.loc["O5", "closed_at"])
    assert opps.loc["O1", "status"] == "won"
    c = dq.checks(s)
    assert count(c, "opportunities", "won_without_order") == 0  # O5 not won yet
    assert count(c, "leads", "missing:owner_id") == 1
    assert s.tables["orders"]["order_id"].tolist() == ["S1"]
    # the original snapshot is untouched
    assert snap.tables["opportunities"].set_index("opportunity_id").loc["O5", "status"] == "won"


def test_score_trend_has_one_overall_row_per_quarter(snap):
    qs = [parse_quarter("2026Q1").previous(), parse_quarter("2026Q1")]
    tr = dq.score_trend(snap, qs)
    overall = tr[tr["table"] == "overall"].set_index("quarter")["score"]
    assert overall.index.tolist() == ["2025Q4", "2026Q1"]
    assert np.isnan(overall["2025Q4"])  # nothing was created before 2026-01-01: no score, not 100
    assert tr.loc[tr["quarter"] == "2026Q1", "score"].between(0, 100).all()


# --------------------------------------------------------------------------------------------------
# scores, fixes, findings
# --------------------------------------------------------------------------------------------------
def hand_checks() -> pd.DataFrame:
    rows = [
        dq_metrics._row("a", "validity", "x", "c", "rows bad", "fix", 10, 100),  # share 0.1, weight 3
        dq_metrics._row("a", "completeness", "y", "c", "rows empty", "fill", 5, 10),  # share 0.5, weight 1
        dq_metrics._row("b", "uniqueness", "z", "c", "rows dup", "merge", 0, 50),
    ]  # share 0, weight 2
    return pd.DataFrame(rows, columns=dq.CHECK_COLUMNS)


def test_table_score_formula_by_hand():
    s = dq.table_scores(hand_checks()).set_index("table")
    assert s.loc["a", "score"] == pytest.approx(100 * (1 - (3 * 0.1 + 1 * 0.5) / 4))  # 80
    assert s.loc["b", "score"] == 100.0
    assert s.loc["a", "failing"] == 2
    assert dq.overall_score(s.reset_index()) == pytest.approx(90.0)
    d = dq.dimension_scores(hand_checks()).set_index("dimension")
    assert d.loc["validity", "score"] == pytest.approx(90.0)


def test_ranked_fixes_order_and_text():
    f = dq.ranked_fixes(hand_checks())
    assert f["fix"].tolist() == ["10 rows bad: fix", "5 rows empty: fill"]  # 10×3 = 30 before 5×1 = 5
    assert f["rank"].tolist() == [1, 2]
    assert dq.fixes_lines(f)[0] == "1. 10 rows bad: fix (validity, a)"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.integers(1, 50), st.sampled_from(list(dq.DIMENSION_WEIGHT))),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 7),
)
def test_score_bounded_and_monotone(specs, which):
    rows = [dq_metrics._row("t", d, f"c{i}", "", "bad", "fix", min(k, n), n) for i, (k, n, d) in enumerate(specs)]
    c = pd.DataFrame(rows, columns=dq.CHECK_COLUMNS)
    score = dq.table_scores(c)["score"].iloc[0]
    assert 0.0 <= score <= 100.0
    i = which % len(rows)
    worse = c.copy()
    worse.loc[i, "count"] = worse.loc[i, "base"]
    worse.loc[i, "share"] = 1.0
    assert dq.table_scores(worse)["score"].iloc[0] <= score + 1e-9


def test_findings_sentences_and_impacts(snap, table):
    f = dq.dq_findings(snap, table, T("2026-01-01"), T("2026-04-01"), "2026Q1", section="04_reporting#10")
    by = {x.slug: x for x in f}
    assert by["dq_unreconciled_revenue"].impact == 300.0  # O5 won without an order
    assert "EUR 300" in by["dq_unreconciled_revenue"].text
    # O2 is stale (value 500) × win rate of deals closed in the quarter (O1, O5 won, O4 lost → 2/3)
    assert by["dq_stale_pipeline"].impact == pytest.approx(500 * 2 / 3)
    assert "dq_unknown_owner_revenue" not in by  # no won deal is owned by R9
    assert all(x.section == "04_reporting#10" for x in f) and len(f) <= 3
    assert [x.impact for x in f] == sorted((x.impact for x in f), reverse=True)


def test_sentences_are_built_from_numbers(table):
    s = dq.dimension_sentences(table, "uniqueness")
    assert s[0] == "1 of 1 uniqueness checks find problems."
    # 5 leads checked: below 30 rows the share is not printed as a percentage
    assert s[1].startswith("1 leads are copies of an earlier lead with the same contact_key (1 of 5 checked)")
    assert "%" not in s[1]
    assert dq.dimension_table(table, "uniqueness")["failing %"].tolist() == ["—"]
    big = table.assign(base=table["base"] * 10, share=table["share"] / 10)
    assert "(2.00% of 50 checked)" in dq.dimension_sentences(big, "uniqueness")[1]
    scores = dq.table_scores(table)
    assert "equal-weighted mean" in dq.score_sentences(scores, dq.overall_score(scores), quarter="2026Q1")[0]
    assert dq.fixes_sentences(dq.ranked_fixes(table))[0].startswith("Fix first: ")


def test_missing_optional_tables_skip_their_checks():
    t = {"leads": tiny_tables()["leads"].drop(columns=["owner_id", "first_contact_at"])}
    c = dq.checks(dq.from_tables(t, tiny_cfg(), end=END))
    assert set(c["table"]) == {"leads"}
    assert not c["dimension"].isin(["reconciliation", "timeliness"]).any()
    assert dq.fault_counts(c)["won_without_order"] == 0
    assert dq.dq_findings(dq.from_tables(t, tiny_cfg(), end=END), c, T("2026-01-01"), END, "2026Q1") == []


# --------------------------------------------------------------------------------------------------
# through the loader
# --------------------------------------------------------------------------------------------------
def test_whole_snapshot_reads_raw_spellings_through_the_loader(tmp_path):
    leads = pd.DataFrame(
        {
            "lead_id": ["L3", "L1", "L2", "L4"],  # not in id order: flags must follow the ids
            "created_at": ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"],
            "channel": ["Paid Search", "paid_search", "webinar ", "webinar"],
        }
    )
    leads.to_csv(tmp_path / "leads.csv", index=False)
    (tmp_path / "audit.yaml").write_text("channels: [paid_search, webinar]\n")
    data = load(tmp_path, use_cache=False)
    snap = dq.whole_snapshot(data)
    flags = dict(zip(snap.tables["leads"]["lead_id"], snap.tables["leads"]["_channel_off"]))
    assert flags == {"L1": False, "L2": True, "L3": True, "L4": False}
    loader = int(data.findings.loc[data.findings["check"] == "channel_spelling", "count"].sum())
    assert loader == 2  # the loader counts the spelling as stored ("webinar " included), like the audit
    assert snap.end == data.coverage.extracted_at == T("2026-01-04")


# --------------------------------------------------------------------------------------------------
# recovery on the demo company
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_injected_faults_found_at_their_counts(demo_data, demo_truth):
    data = load(demo_data)
    table = dq.checks(dq.whole_snapshot(data))
    found = dq.fault_counts(table)
    assert set(demo_truth["faults"]) <= set(found)
    assert {k: found[k] for k in demo_truth["faults"]} == demo_truth["faults"]


@pytest.mark.slow
def test_injected_faults_small_company(small_data):
    import json

    truth = json.loads((small_data / "truth.json").read_text())
    found = dq.fault_counts(dq.checks(dq.whole_snapshot(load(small_data))))
    assert {k: found[k] for k in truth["faults"]} == truth["faults"]


@pytest.mark.slow
def test_demo_scores_sane(demo_data):
    snap = dq.whole_snapshot(load(demo_data))
    q = parse_quarter("2026Q3")
    table = dq.checks(dq.as_of(snap, q.end))
    scores = dq.table_scores(table)
    assert 90 < dq.overall_score(scores) < 100  # faults are injected, but few
    assert scores.set_index("table").loc["opportunities", "score"] < 100
    assert np.isfinite(scores["score"]).all()


# --------------------------------------------------------------------------------------------------
# cannot judge, small bases, coverage of the trend
# --------------------------------------------------------------------------------------------------
def test_absent_or_empty_columns_cannot_judge_instead_of_counting():
    t = tiny_tables()
    t["opportunities"] = t["opportunities"].drop(columns="amount").assign(product=None)
    t["leads"] = t["leads"].assign(segment=None)
    snap = dq.from_tables(t, tiny_cfg(), end=END)
    c = dq.checks(snap)
    assert "missing:amount:open+won" not in set(c["check"])  # not "100% of deals lack amount"
    assert "missing:segment" not in set(c["check"])
    assert "product_name" not in set(c["check"]) and "amount_vs_order" not in set(c["check"])
    notes = dq.unjudged(snap)
    assert {"missing:amount", "missing:segment", "product_name", "amount_vs_order", "negative_amount"} <= set(
        notes["check"]
    )
    s = dq.dimension_sentences(c, "completeness", notes=notes)[-1]
    assert s.startswith("Cannot judge whether these fields are filled") and "`opportunities.amount`" in s
    assert not dq.ranked_fixes(c)["fix"].str.contains("amount").any()
    # the check table of a column that exists but is only partly empty still counts
    assert (
        count(dq.checks(dq.from_tables(tiny_tables(), tiny_cfg(), end=END)), "opportunities", "missing:account_id:open")
        == 1
    )


def test_unjudged_on_leads_only_undated():
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c"],
            "channel": ["x", "x", "y"],
            "created_at": pd.Series([pd.NaT] * 3, dtype="datetime64[ns]"),
            "stage_reached": ["lead", "sql", "mql"],
        }
    )
    snap = dq.from_tables({"leads": leads}, tiny_cfg())
    c = dq.checks(snap)
    assert set(c["check"]) <= {"channel_spelling", "channel_unknown"}
    got = set(dq.unjudged(snap)["check"])
    assert {"stage_order", "future_date", "duplicate_leads", "untouched", "freshness"} <= got


def test_no_percentage_of_fewer_than_30():
    assert dq.share_text(1, 5) == "—" and dq.share_text(3, 30) == "10.00%"
    idle = pd.Series([40.0, 5.0, 60.0])
    assert "%" not in dq.timeliness_title(idle, 30) and dq.timeliness_title(idle, 30).startswith("2 of 3 open deals")
    s = {
        "won_deals": 4,
        "won_revenue": 1000.0,
        "order_revenue": 900.0,
        "without_order": 1,
        "without_order_revenue": 100.0,
        "amount_differs": 0,
        "difference_revenue": 0.0,
        "unreconciled_revenue": 100.0,
    }
    assert "%" not in dq.reconciliation_sentences(s, "EUR", "2026Q1")[1].replace(f"{dq.AMOUNT_TOLERANCE:.0%}", "")
    by_q = pd.DataFrame([{**s, "quarter": "2026Q1"}, {**s, "quarter": "2026Q2", "won_deals": 0}])
    assert dq.reconciliation_labels(by_q) == ["1 of 4 deals", ""]
    assert "%" not in dq.reconciliation_title(by_q.iloc[:1], "EUR")


def test_freshness_and_timeliness_measured_at_the_extraction_when_it_is_earlier(snap):
    early = dq.as_of(dataclasses.replace(snap, end=T("2026-03-26")), T("2026-04-01"))
    assert early.cutoff == T("2026-03-26")
    assert dq.freshness(early).set_index("table").loc["leads", "lag_days"] == pytest.approx(1.0)
    q1 = parse_quarter("2026Q1")
    assert dq.cutoff_label(early, q1) == "the extraction date (2026-03-26), before the end of 2026Q1"
    assert dq.cutoff_label(snap, q1) == "the end of 2026Q1"


def test_trend_uses_only_quarters_the_leads_cover():
    from salesaudit.data.coverage import coverage_of

    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(4)],
            "created_at": pd.to_datetime(["2025-04-01", "2025-08-15", "2025-12-31", "2026-03-30"]),
            "channel": "x",
        }
    )
    cov = coverage_of({"leads": leads}, tiny_cfg(), today=T("2026-06-01"))
    q = parse_quarter("2026Q1")
    got = dq.trend_quarters(cov, q)
    assert [x.label for x in got] == ["2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    note = dq.trend_coverage_sentence(got, q)
    assert note.startswith("The trend uses 4 of the 8 quarter ends 2024Q2–2026Q1 (2025Q2–2026Q1)")
    assert dq.trend_coverage_sentence([], q).endswith("so there is no trend.")
    assert [x.label for x in dq.reconciliation_quarters(got[:2], q)] == ["2025Q2", "2025Q3", "2026Q1"]
    s = dq.coverage_sentences(cov, parse_quarter("2026Q2"))
    assert s[-1].startswith("2026Q2 is a partial quarter: the leads end on 2026-03-30")
    assert dq.coverage_sentences(cov, q)[-1] == "2026Q1 is covered completely by the leads."


def test_coverage_sentences_never_say_from_x_to_x():
    from salesaudit.data.coverage import coverage_of

    leads = pd.DataFrame({"lead_id": ["a"], "created_at": [T("2026-01-05 10:00")], "channel": ["x"]})
    cov = coverage_of({"leads": leads}, tiny_cfg(), today=T("2026-06-01"))
    s = " ".join(dq.coverage_sentences(cov, parse_quarter("2026Q1")))
    assert "Leads are dated on 2026-01-05" in s and "from 2026-01-05 to 2026-01-05" not in s


def test_loader_and_step_04_count_the_recounted_checks_alike_on_the_whole_export(small_data):
    """Stage order, foreign keys and channel spellings: the loader counts them on the whole export, step 04
    as of the quarter end; on the whole export both must give the same counts (``Snapshot.loader_counts``)."""
    data = load(small_data)
    snap = dq.whole_snapshot(data)
    recounted = [k for k in snap.loader_counts if dq.is_recounted(k.split(":", 1)[1])]
    assert len(recounted) == 3  # channel spellings, stage order, deals of unknown reps in the small demo
    assert dq.loader_disagreements(snap, dq.checks(snap)).empty


def test_step_04_shows_only_the_loader_warnings_it_does_not_recount(small_data):
    from salesaudit.steps.reporting import view

    data = load(small_data)
    assert set(data.warnings()["check"]) == {"channel_spelling", "stage_order", "foreign_key:reps.rep_id"}
    shown = view.loader_warnings(data)
    assert "no other problem" in str(getattr(shown, "data", shown))  # a note: all three are counted below
    fake = pd.DataFrame(
        [{"table": "leads", "check": "lead_id_whitespace", "severity": "warning", "count": 2, "message": "m"}]
    )
    assert list(dq.loader_only_findings(pd.concat([data.warnings(), fake]))["check"]) == ["lead_id_whitespace"]


def test_cut_snapshots_count_from_the_whole_datas_index_exactly_as_the_cut_tables_say():
    """A snapshot cut from a whole one (as_of) counts broken references, duplicate copies and untouched leads
    from indexes of the whole data (reference_index, the original order, first_activity); a snapshot without
    them recomputes on the cut tables. Both must agree at every cut-off — parents created after the cut, a
    parent without a creation date, an original created after its copy's cut, an undated activity."""
    t = tiny_tables()
    extra_leads = pd.DataFrame(
        [
            {**t["leads"].iloc[4].to_dict(), "lead_id": "L6", "created_at": T("2026-03-30")},  # copies L5 (k5)
            {**t["leads"].iloc[3].to_dict(), "lead_id": "L7", "created_at": pd.NaT, "contact_key": "k7"},
        ]
    )
    t["leads"] = pd.concat([t["leads"], extra_leads], ignore_index=True)
    t["activities"] = pd.concat(
        [
            t["activities"],
            pd.DataFrame(
                {
                    "activity_id": ["A2", "A3", "A4"],
                    "owner_id": ["R1", "R1", "R2"],
                    "type": ["call", "email", "call"],
                    "occurred_at": [pd.NaT, T("2026-03-28"), T("2026-03-31")],
                    "lead_id": ["L4", "L5", "L6"],
                    "opportunity_id": [None, "O7", None],
                }
            ),
        ],
        ignore_index=True,
    )
    o7 = {
        **t["opportunities"].iloc[2].to_dict(),
        "opportunity_id": "O7",
        "lead_id": "L6",
        "created_at": T("2026-03-30"),
    }
    t["opportunities"] = pd.concat([t["opportunities"], pd.DataFrame([o7])], ignore_index=True)
    t["opportunities"]["is_won"] = t["opportunities"]["is_won"].astype("boolean")
    t["orders"] = pd.concat(
        [
            t["orders"],
            pd.DataFrame({"order_id": ["S3"], "customer_id": ["L7"], "ordered_at": [T("2026-01-20")], "amount": [5.0]}),
        ],
        ignore_index=True,
    )
    whole = dq.from_tables(t, tiny_cfg(), end=END)
    plain = dataclasses.replace(whole, whole=False, refs={})  # no whole-data index: the cut tables are recounted
    for cut in (
        "2026-01-05",
        "2026-01-12",
        "2026-02-01",
        "2026-03-02",
        "2026-03-26",
        "2026-03-29",
        "2026-03-31",
        "2026-04-01",
    ):
        fast, slow = dq.as_of(whole, T(cut)), dq.as_of(plain, T(cut))
        assert "tables" in fast.refs and not slow.refs
        pd.testing.assert_frame_equal(dq.checks(fast), dq.checks(slow), obj=f"checks at {cut}")
    fk = "foreign_key:opportunities.opportunity_id"
    at = {c: dq.checks(dq.as_of(whole, T(c))) for c in ("2026-03-29", "2026-03-31")}
    assert count(at["2026-03-29"], "activities", fk) == 1  # A3 (03-28) names O7, created only on 03-30
    assert count(at["2026-03-31"], "activities", fk) == 0
    assert count(at["2026-03-29"], "leads", "duplicate_leads") == 1  # L2 of L1; L6 (copy of L5) not created yet
    assert count(at["2026-03-31"], "leads", "duplicate_leads") == 2
