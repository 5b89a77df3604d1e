"""The audit tells the truth on exports not shaped like the demo company (issue 10).

* every real public dataset (``../shared/data/real``) and Maven imports with its ``examples/`` mapping and
  builds a full report (latest quarter, exit 0) on which the report linter finds nothing;
* a copy of the small demo with ``sal_at`` emptied, ``opportunities.amount`` dropped and the data cut in the
  middle of 2026Q3 builds, labels the quarter partial, draws no verdict and says which sections it cannot
  measure;
* an undated snapshot (leads with ``stage_reached`` only) gives numbers for conversion by channel and the
  score, and its time-based sections say they need dates.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from _shapes import make_partial, make_snapshot
from salesaudit.data.importers import import_data
from salesaudit.report import lint
from salesaudit.report.record import read_figures

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
MAVEN = ROOT / "tests" / "data" / "maven-crm"
REAL_SETS = ["uci-bank-marketing", "uci-online-retail", "uci-itsm-incident-log", "olist-ecommerce-sample"]

pytestmark = pytest.mark.slow


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _build(cli, data_dir: Path, reports: Path, quarter: str = "latest", pdf: bool = True) -> Path:
    """Build a report; ``pdf=False`` for tests that read only the notebooks, the HTML and summary.json (the linter
    does not read the PDF; the real exports, test_report and test_maven render it)."""
    args = ["report", "--data", data_dir, "--quarter", quarter, "--reports", reports, "--quiet"]
    code, out, err = cli(*args, *([] if pdf else ["--no-pdf"]))
    assert code == 0, (out + err)[-3000:]
    built = [p for p in reports.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(built) == 1, built
    return built[0]


def _texts(folder: Path) -> str:
    parts = []
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            for o in cell.get("outputs", []):
                data = o.get("data", {})
                parts += [str(data[k]) for k in ("text/markdown", "text/plain") if k in data]
                if o.get("output_type") == "stream":
                    parts.append(o.get("text", ""))
    return "\n".join(parts)


def _figures(folder: Path) -> dict:
    return {k: v for p in folder.glob("*.ipynb") for k, v in read_figures(p).items()}


def _assert_lints_clean(folder: Path, demo: bool | None = None) -> None:
    problems = lint.lint_report(folder, demo=demo)
    assert not problems, "\n".join(p.line() for p in problems[:40])


@pytest.mark.parametrize("name", [*REAL_SETS, "maven-crm"])
def test_real_export_builds_a_report_the_linter_passes(name, tmp_path, cli):
    source = MAVEN if name == "maven-crm" else REAL / name
    if not source.is_dir():
        pytest.skip(f"real dataset {name} not found at {source} (the shared data folder is not mounted)")
    data_dir, _ = import_data(ROOT / "examples" / f"{name}.yaml", [source], tmp_path / name)
    out = _build(cli, data_dir, tmp_path / "reports")
    assert (out / f"sales-audit-{out.name}.pdf").is_file()
    _assert_lints_clean(out, demo=False)
    doc = json.loads((out / "summary.json").read_text())
    assert doc["coverage"]["extracted_at"] is None or doc["coverage"]["extracted_at"] <= "2026-12-31"
    assert "Not measured" in _texts(out)  # no real export here supports every section


def test_partial_quarter_without_sal_or_amounts(small_data, tmp_path, cli):
    data_dir = make_partial(small_data, _mkdir(tmp_path / "cut"))
    reports = tmp_path / "reports"
    out = _build(cli, data_dir, reports, "2026Q3", pdf=False)
    doc = json.loads((out / "summary.json").read_text())
    assert doc["partial"] and "2026-08-14" in doc["partial"]
    assert doc["comparison_source"] is None
    assert not any(row["significant"] for row in doc["headline"].values())  # no verdict from a partial quarter
    html = (out / "sales-audit-2026Q3.html").read_text()
    assert "partial" in html.split('class="toc"')[0]  # on the cover
    texts = _texts(out)
    assert "2026Q3 is a partial quarter" in texts  # executive summary and step 01
    assert "Not in the data: SAL" in texts
    assert "needs the SAL stage (not in the data)" in texts  # step 03's hand-over section
    assert "deals carry no amounts" in texts
    figs = _figures(out)
    assert "sal" not in figs  # a stage the export does not record has no count
    assert figs["leads_vs_prev4"]["value"] is None
    _assert_lints_clean(out, demo=True)


def test_undated_snapshot_measures_what_needs_no_time_axis(small_data, tmp_path, cli):
    data_dir = make_snapshot(small_data, _mkdir(tmp_path / "snap"))
    out = _build(cli, data_dir, tmp_path / "reports", pdf=False)
    figs = _figures(out)
    assert 0 < figs["cohort_lead_to_customer_rate"]["value"] < 1  # conversion by channel (step 01 §3)
    assert 0.5 < figs["lead_score_auc"]["value"] <= 1  # score calibration (step 03 §2)
    assert figs["mql_threshold_suggested"]["value"] is not None
    texts = _texts(out)
    assert "this section needs lead creation dates" in texts  # time-based sections say so
    assert "undated snapshot" in texts
    assert "median_days_to_customer" not in figs and "leads" not in figs  # no invented dates
    _assert_lints_clean(out, demo=True)  # the snapshot is the demo company's leads: its channel names are allowed


def _leads_only(small: Path, out: Path) -> Path:
    for f in ("leads.csv", "audit.yaml"):
        shutil.copy(small / f, out / f)
    return out


def _tiny(small: Path, out: Path) -> Path:
    from salesaudit.data.demo import generate

    generate(out, seed=5, leads_per_year=300, years=2)
    return out


def _hubspot(small: Path, out: Path) -> Path:
    data_dir, _ = import_data("hubspot", [ROOT / "tests" / "data" / "imports" / "hubspot"], out / "hubspot")
    return data_dir


@pytest.mark.parametrize("variant", [_leads_only, _tiny, _hubspot], ids=["leads-only", "tiny", "hubspot"])
def test_robustness_variants_build_reports_the_linter_passes(variant, small_data, tmp_path, cli):
    data_dir = variant(small_data, _mkdir(tmp_path / "data"))
    out = _build(cli, data_dir, tmp_path / "reports", pdf=False)
    _assert_lints_clean(out, demo=variant is not _hubspot)
