import dataclasses

import nbformat
import numpy as np
import pytest
from salesaudit.findings import Finding
from salesaudit.report.record import figure, findings_of, read_figures, record_finding, record_findings


def test_read_figures_from_outputs():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"application/json": figure("win_rate", 0.25, unit="%", n=40)}),
        nbformat.v4.new_output("display_data", data={"text/plain": "hello"}),
        nbformat.v4.new_output(
            "display_data", data={"application/json": figure("finding:x", 1000.0, kind="finding", label="A")}
        ),
        nbformat.v4.new_output(
            "display_data", data={"application/json": figure("finding:y", 5000.0, kind="finding", label="B")}
        ),
    ]
    nb.cells.append(cell)
    figs = read_figures(nb)
    assert figs["win_rate"]["value"] == 0.25 and figs["win_rate"]["n"] == 40
    assert [f["name"] for f in findings_of(figs)] == ["finding:y", "finding:x"]


def test_nan_becomes_none():
    assert figure("x", float("nan"))["value"] is None


# --------------------------------------------------------------------------------------------------
# findings: Finding objects, and the 0.2 keyword / dict forms analysts' notebooks may still use
# --------------------------------------------------------------------------------------------------
FOUND = Finding(
    "funnel_leak_mql_sal",
    "MQL → SAL lost more leads than before.",
    1250.5,
    section="01_sales_process#5",
    recommendation="Fix the hand-over.",
    basis="entries × change in loss × deal",
)
PAYLOAD = {
    "salesaudit_figure": "finding:funnel_leak_mql_sal",
    "value": 1250.5,
    "label": "MQL → SAL lost more leads than before.",
    "unit": "money",
    "lo": None,
    "hi": None,
    "n": None,
    "section": "01_sales_process#5",
    "higher_is_better": None,
    "kind": "finding",
    "recommendation": "Fix the hand-over.",
    "basis": "entries × change in loss × deal",
}
OLD = {
    "slug": "funnel_leak_mql_sal",
    "text": "MQL → SAL lost more leads than before.",
    "impact": np.float64(1250.5),
    "section": "01_sales_process#5",
    "recommendation": "Fix the hand-over.",
    "basis": "entries × change in loss × deal",
}


def test_record_finding_takes_a_finding():
    assert record_finding(FOUND) == PAYLOAD


def test_record_findings_takes_findings():
    other = Finding("dq_stale_pipeline", "Stale deals.", 10.0, section="04_reporting#11")
    got = record_findings([FOUND, other])
    assert got[0] == PAYLOAD
    assert (got[1]["salesaudit_figure"], got[1]["value"], got[1]["section"]) == (
        "finding:dq_stale_pipeline",
        10.0,
        "04_reporting#11",
    )
    assert got[1]["recommendation"] == "" and got[1]["basis"] == ""
    assert record_findings([]) == [] and record_findings(iter([FOUND])) == [PAYLOAD]


def test_record_findings_still_takes_the_old_dicts():
    assert record_findings([OLD]) == [PAYLOAD]
    short = {k: OLD[k] for k in ("slug", "text", "impact", "section")}  # recommendation and basis optional
    (p,) = record_findings([short, FOUND])[:1]
    assert p["recommendation"] == "" and p["basis"] == "" and p["value"] == 1250.5
    with pytest.raises(ValueError, match="has no section"):
        record_findings([{k: v for k, v in OLD.items() if k != "section"}])
    with pytest.raises(ValueError, match="impact must be finite"):
        record_findings([OLD | {"impact": float("nan")}])
    with pytest.raises(TypeError, match="salesaudit.findings.Finding"):
        record_findings([("funnel_leak_mql_sal", "text", 1.0)])


def test_record_finding_still_takes_the_old_keyword_form():
    args = {k: v for k, v in OLD.items() if k not in ("slug", "text")}
    assert record_finding(OLD["slug"], OLD["text"], **args) == PAYLOAD
    no_section = {k: v for k, v in OLD.items() if k != "section"}  # 0.2's notebooks: record_finding(**f, section=…)
    assert record_finding(**no_section, section="01_sales_process#5") == PAYLOAD
    p = record_finding("x_slug", "Something costs money.", impact=1000.0, section="01_sales_process#1")
    assert (p["salesaudit_figure"], p["value"], p["recommendation"], p["basis"]) == ("finding:x_slug", 1000.0, "", "")


def test_record_finding_refuses_what_a_finding_refuses():
    with pytest.raises(ValueError, match="needs a slug"):
        record_finding("", "Text.", impact=1.0, section="01_sales_process#1")
    with pytest.raises(ValueError, match="impact must be finite"):
        record_finding("x", "Text.", impact=float("inf"), section="01_sales_process#1")
    with pytest.raises(ValueError, match=r"'funnel_leak_mql_sal' has no section.*in_section"):
        record_finding(dataclasses.replace(FOUND, section=""))
    with pytest.raises(TypeError, match="alone"):
        record_finding(FOUND, section="01_sales_process#1")
    with pytest.raises(TypeError, match="needs text, impact and section"):
        record_finding("x", "Text.", section="01_sales_process#1")
    with pytest.raises(TypeError):
        record_finding()
    with pytest.raises(TypeError):
        record_finding("x", "Text.", slug="x", impact=1.0, section="01_sales_process#1")


def test_a_recorded_finding_reads_back_as_it_was_recorded():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    low = FOUND.in_section("01_sales_process#3")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"application/json": p})
        for p in record_findings([dataclasses.replace(low, slug="small", impact=5.0), FOUND])
    ]
    nb.cells.append(cell)
    (top, small) = findings_of(read_figures(nb))
    assert top["name"] == FOUND.figure_name and top["value"] == FOUND.impact and top["label"] == FOUND.text
    assert (top["section"], top["recommendation"], top["basis"]) == (FOUND.section, FOUND.recommendation, FOUND.basis)
    assert small["name"] == "finding:small" and small["section"] == "01_sales_process#3"
