"""Evidence files: the records behind every finding and actionable count (issue 16, part 3).

Unit tests of :mod:`salesaudit.evidence` (allow-list, file names, CSV text), then one small-demo build
(module-scoped, no PDF) whose ``evidence/`` folder is checked against ``summary.json``.
"""

from __future__ import annotations

import csv
import json
import re

import pandas as pd
import pytest
from salesaudit import evidence as ev
from salesaudit.findings import Finding
from salesaudit.report.summary import evidence_link
from salesaudit.text import safe_markdown

#: findings whose step attaches the records behind them: the demo build must give each an evidence file
EVIDENCED_FINDINGS = {
    "finding:channel_paid_search_sal_sql",  # 01: the channel's entries into SAL this quarter
    "finding:never_contacted_leads",  # 02
    "finding:content_best_asset",  # 02: the MQLs the asset reached
    "finding:mql_threshold",  # 03: the value cohort's leads between the two thresholds
    "finding:nurture_campaigns",  # 03: the campaigns
    "finding:mql_never_accepted",  # 03
    "finding:dq_unreconciled_revenue",  # 04
    "finding:dq_stale_pipeline",  # 04
    "finding:dq_unknown_owner_revenue",  # 04
    "finding:rep_win_rate_gap",  # 05: the reps below the median
    "finding:rep_capacity_shortfall",  # 05: the reps whose capacity is counted
    "finding:service_repeat_gap",  # 06: the rated customers of the repeat cohort
}
#: findings no record stands behind (docs/report.md, "Evidence files"): a model's estimate or "nothing is wrong"
NO_RECORDS = {"finding:funnel_no_new_leak", "finding:spend_resplit"}  # nothing behind them: no leak; a budget re-split
#: counts whose notebook attaches the records behind them (figure value = rows)
EVIDENCED_COUNTS = {
    "dq_leads_missing_owner",
    "dq_stage_out_of_order",
    "dq_duplicate_leads",
    "dq_unknown_owner_deals",
    "dq_stale_open_deals",
    "dq_untouched_leads",
}
FORBIDDEN = re.compile(r"mail|phone|name|contact_key|title", re.I)


# --------------------------------------------------------------------------------------------------
# salesaudit.evidence
# --------------------------------------------------------------------------------------------------
def test_only_allowed_columns_are_kept():
    rows = pd.DataFrame(
        {"lead_id": ["L1"], "email": ["a@b.c"], "phone": ["+44 20 7946 0000"], "name": ["Ann"], "owner_id": ["R1"]}
    )
    assert list(ev.evidence_frame(rows).columns) == ["lead_id", "owner_id"]
    with pytest.raises(ValueError, match="email"):
        ev.evidence_frame(rows, ["lead_id", "email"])


@pytest.mark.parametrize(
    "name",
    ["channel_Paid search_sal_sql", "../../etc/passwd", "a/b\\c", "<img src=x onerror=alert(1)>", "x.csv", "ü" * 90],
)
def test_file_names_are_slug_safe_and_distinct(name):
    f = ev.file_name(name)
    assert re.fullmatch(r"[a-z0-9_-]{1,80}\.csv", f), f
    assert f != ev.file_name(name + "x")
    assert ev.relative_path(name) == f"evidence/{f}"


def test_plain_slugs_keep_their_name():
    assert ev.file_name("dq_stale_pipeline") == "dq_stale_pipeline.csv"


def test_csv_cells_cannot_run_as_formulas():
    rows = pd.DataFrame(
        {"lead_id": ['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "L4"], "amount": [-5.0, 1.0, 2.0, 3.0]}
    )
    parsed = list(csv.DictReader(ev.csv_text(rows).splitlines()))
    assert [r["lead_id"] for r in parsed] == ['\'=HYPERLINK("http://x")', "'+1", "'@SUM(A1)", "L4"]
    assert parsed[0]["amount"] == "-5.0"  # numbers are left alone


def test_finding_carries_evidence_without_changing_equality():
    rows = pd.DataFrame({"lead_id": ["L1", "L2"]})
    a = Finding("x", "2 leads.", 1.0, evidence=rows)
    assert a == Finding("x", "2 leads.", 1.0)
    assert a.count == 2 and Finding("x", "t", 1.0).count is None
    assert a.with_evidence(rows.head(1)).count == 1
    with pytest.raises(ValueError, match="DataFrame"):
        Finding("x", "t", 1.0, evidence=[1, 2])


def test_links_to_evidence_files_survive_the_markdown_gate_and_nothing_else_does():
    assert "(evidence/dq_stale_pipeline.csv)" in safe_markdown("[records](evidence/dq_stale_pipeline.csv)")
    assert "http" not in safe_markdown("[x](http://evil.example/evidence/a.csv)")
    assert "(" not in safe_markdown("[x](evidence/../secret.csv)")
    assert evidence_link("evidence/dq_stale_pipeline.csv", 20) == " [20 records (CSV)](evidence/dq_stale_pipeline.csv)"
    assert evidence_link("evidence/../x.csv") == "" and evidence_link(None) == ""


def test_the_pdf_gets_evidence_paths_not_links():
    from salesaudit.report.evidence import unlinked_for_print

    html = '<p>x <a href="evidence/dq_stale_pipeline.csv">20 records (CSV)</a> <a href="#04_reporting-11">→</a></p>'
    out = unlinked_for_print(html)
    assert 'href="evidence/' not in out and "20 records (CSV): evidence/dq_stale_pipeline.csv" in out
    assert '<a href="#04_reporting-11">' in out


# --------------------------------------------------------------------------------------------------
# a small demo build
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(small_data, tmp_path_factory):
    from salesaudit.report.build import build_report

    out = tmp_path_factory.mktemp("evidence_reports")
    res = build_report(
        small_data, "2026Q3", reports_dir=out, pdf=False, compare=False, progress=False, rep_scorecards=True
    )
    doc = json.loads(res.summary.read_text(encoding="utf-8"))
    return res, doc


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _recorded(doc: dict) -> dict[str, dict]:
    return {k: v for figs in doc["figures"].values() for k, v in figs.items()}


def test_every_evidenced_finding_of_the_demo_has_its_file_and_count(built):
    res, doc = built
    figures = _recorded(doc)
    findings = {k: v for k, v in figures.items() if v.get("kind") == "finding"}
    assert EVIDENCED_FINDINGS <= set(findings), sorted(findings)  # the demo has each of them
    for name, f in findings.items():
        if name in NO_RECORDS:
            assert not f.get("evidence"), name
            continue
        assert f.get("evidence"), f"{name} has no evidence file"
        rows = _rows(res.out_dir / f["evidence"])
        assert len(rows) == f["evidence_rows"], name
        # the count the reader reads in the sentence is the number of records in the file
        assert re.search(rf"(?<![\d,.]){len(rows):,}(?![\d,])", f["label"]), (name, len(rows), f["label"])


def test_summary_json_findings_link_their_evidence(built):
    res, doc = built
    html = res.html.read_text(encoding="utf-8")
    linked = [f for f in doc["findings"] if f.get("evidence")]
    assert linked, "no top finding of the demo has evidence"
    for f in linked:
        assert (res.out_dir / f["evidence"]).is_file(), f["name"]
        assert len(_rows(res.out_dir / f["evidence"])) == f["evidence_rows"]
        assert f'href="{f["evidence"]}"' in html, f["name"]
    for f in doc["findings"]:
        if f["name"] in EVIDENCED_FINDINGS:
            assert f.get("evidence"), f["name"]


def test_counts_equal_their_evidence_rows(built):
    res, doc = built
    figures = _recorded(doc)
    for name in EVIDENCED_COUNTS:
        f = figures[name]
        rows = _rows(res.out_dir / f["evidence"])
        assert len(rows) == f["value"] == f["evidence_rows"], name


def test_no_forbidden_column_in_any_evidence_file(built):
    res, _doc = built
    files = sorted((res.out_dir / ev.FOLDER).glob("*.csv"))
    assert len(files) >= len(EVIDENCED_COUNTS)
    for path in files:
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        assert set(header) <= ev.ALLOWED_COLUMNS, (path.name, header)
        assert not [c for c in header if FORBIDDEN.search(c)], (path.name, header)
        assert "@" not in path.read_text(encoding="utf-8"), path.name  # no e-mail address in any cell


def test_the_build_writes_rep_scorecards_when_asked(built):
    res, _doc = built
    cards = sorted((res.out_dir / "reps").glob("*.html"))
    assert len(cards) >= 10 and not list((res.out_dir / "reps").glob("*.pdf"))  # --no-pdf: HTML only
    assert "scorecards" in res.timings


# --------------------------------------------------------------------------------------------------
# the step metrics behind the counts (the demo build checks the findings it has; these the others)
# --------------------------------------------------------------------------------------------------
def test_step_entry_leads_are_the_entry_counts(small_data):
    from salesaudit.data.coverage import audit_quarter
    from salesaudit.data.io import load
    from salesaudit.steps.process import metrics as pm

    data = load(small_data)
    q = audit_quarter(data.coverage, "2026Q3")
    dates = pm.stage_dates(data.leads)
    entries = pm.step_entries(dates, q)
    for r in entries.itertuples(index=False):
        assert len(pm.step_entry_leads(dates, q.start, q.end, r.step, group=r.group)) == r.entered_now
    loss = pm.loss_comparison(dates, q)
    for r in loss.itertuples(index=False):
        rows = pm.step_entry_leads(dates, q.start, q.end, r.step, known_since=q.previous(4).start)
        assert len(rows) == r.entered_now, r.step
        assert set(rows.columns) <= ev.ALLOWED_COLUMNS


def test_reporting_rows_match_the_check_counts(small_data):
    from salesaudit.data.coverage import audit_quarter
    from salesaudit.data.io import load
    from salesaudit.steps.reporting import metrics as rm

    data = load(small_data)
    q = audit_quarter(data.coverage, "2026Q3")
    snap = rm.as_of(rm.whole_snapshot(data), data.coverage.observed_until(q))
    checks = rm.checks(snap)
    for (table, check), rows in {
        ("opportunities", "stale_open"): rm.stale_open_deals(snap),
        ("leads", "untouched"): rm.untouched_lead_rows(snap),
        ("leads", "stage_order"): rm.stage_order_rows(snap),
        ("leads", "duplicate_leads"): rm.duplicate_rows(snap),
        ("leads", "missing:owner_id"): rm.missing_owner_rows(snap),
        ("opportunities", "foreign_key:reps.rep_id"): rm.unknown_owner_deals(snap),
    }.items():
        assert len(rows) == rm.check_count(checks, table, check), check
    opps, orders = snap.tables["opportunities"], snap.tables["orders"]
    s = rm.reconciliation_summary(opps, orders, q.start, q.end)
    rows = rm.unreconciled_deals(opps, orders, q.start, q.end)
    assert len(rows) == s["without_order"] + s["amount_differs"]
    assert float(rows["amount_gap"].sum()) == pytest.approx(s["unreconciled_revenue"])


def test_every_finding_with_records_links_them_beside_itself_in_its_step(built):
    """Not only the executive summary's top five: each finding's own step shows the link to its records
    (record_finding displays it where the step records the finding)."""
    import nbformat
    from salesaudit.report.record import evidence_line

    res, doc = built
    figures = _recorded(doc)
    linked = {k: v for k, v in figures.items() if v.get("kind") == "finding" and v.get("evidence")}
    assert linked
    for name, f in linked.items():
        step = f["section"].split("#")[0]
        nb = nbformat.read(str(res.out_dir / f"{step}.ipynb"), as_version=4)
        shown = [o.get("data", {}).get("text/markdown", "") for c in nb.cells for o in c.get("outputs", [])]
        assert evidence_line(f) in shown, name
    assert evidence_line({"evidence": "evidence/../x.csv", "evidence_rows": 1}) is None
    assert evidence_line({"evidence": None}) is None
