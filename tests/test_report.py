"""The report runner: HTML clean-up and assembly (fast), and whole builds with kernels (slow).

The slow builds use a temporary folder of small fake notebooks (one made to fail) on a tiny hand-made
data folder, and the real notebooks on the ``small_data`` demo company.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from salesaudit.cli import main as cli_main
from salesaudit.periods import Quarter
from salesaudit.report import build as report
from salesaudit.report import summary as summ
from salesaudit.report.record import read_figures

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def _nb(cells, name="x"):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _executed_like():
    """An executed notebook as papermill leaves it, with every kind of output the report must handle."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    out = nbformat.v4.new_output
    cells = [
        md("# 09 · Fake step\n\nWhat it is for."),
        code("quarter = 'x'", metadata={"tags": ["parameters"]}),
        md("## 1. First question"),
        code("plot", outputs=[out("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]),
        code(
            "slider",
            metadata={"tags": ["interactive-only"]},
            outputs=[
                out(
                    "display_data",
                    data={"text/plain": "IntSlider()", "application/vnd.jupyter.widget-view+json": {"model_id": "a"}},
                )
            ],
        ),
        code(
            "static", metadata={"tags": ["report-only"]}, outputs=[out("stream", name="stdout", text="static table\n")]
        ),
        code("warn", outputs=[out("stream", name="stderr", text="UserWarning: noisy\n")]),
        code(
            "rec.record('x', 1)",
            outputs=[
                out("display_data", data={"application/json": {"salesaudit_figure": "x", "value": 1}}),
                out("execute_result", data={"text/plain": "{'salesaudit_figure': 'x', 'value': 1}"}, execution_count=3),
            ],
        ),
        code(
            "widget",
            outputs=[
                out(
                    "display_data",
                    data={"text/plain": "Button()", "application/vnd.jupyter.widget-view+json": {"model_id": "b"}},
                )
            ],
        ),
        md("## 2. Second question\n\n### Details"),
        code(
            "df",
            outputs=[
                out(
                    "execute_result",
                    data={"text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "df"},
                    execution_count=4,
                )
            ],
        ),
    ]
    nb = _nb(cells)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


# --------------------------------------------------------------------------------------------------
# fast: cleaning and assembling HTML
# --------------------------------------------------------------------------------------------------
def test_clean_notebook_keeps_only_what_the_reader_needs():
    nb = _executed_like()
    before = json.dumps(nb, sort_keys=True)
    clean = report.clean_notebook(nb)
    assert json.dumps(nb, sort_keys=True) == before  # argument not changed
    sources = [c.source for c in clean.cells]
    assert "slider" not in sources  # interactive-only removed
    assert "static" in sources  # report-only kept
    assert "warn" not in sources  # stderr only → cell dropped
    assert "rec.record('x', 1)" not in sources  # figure payload and its echo dropped
    assert "widget" not in sources  # widget view without static content
    assert "quarter = 'x'" not in sources  # no output
    assert "widgets" not in clean.metadata
    assert "plot" in sources and "df" in sources


def test_notebook_section_ids_toc_and_no_script():
    title, body, headings = report.notebook_section(_executed_like(), "09_fake")
    assert title == "09 · Fake step"
    assert '<h1 id="09_fake">' in body
    assert '<h2 id="09_fake-1">' in body and '<h2 id="09_fake-2">' in body
    assert 'id="09_fake--details"' in body
    assert [(lvl, hid) for lvl, hid, _ in headings] == [(1, "09_fake"), (2, "09_fake-1"), (2, "09_fake-2")]
    assert "¶" not in body and "anchor-link" not in body
    assert "<script" not in body.lower()
    assert "data:image/png;base64,iVBORw0KGgo=" in body
    assert "static table" in body and "noisy" not in body and "salesaudit_figure" not in body
    assert "quarter = " not in body  # code hidden


def test_notebook_without_title_gets_one():
    nb = _nb([nbformat.v4.new_markdown_cell("## 1. Only a question")])
    title, body, headings = report.notebook_section(nb, "08_untitled")
    assert title == "08 untitled" and body.startswith('<h1 id="08_untitled">')
    assert headings[0] == (1, "08_untitled", "08 untitled")


def test_strip_external_removes_scripts_and_links():
    html = (
        '<head><link rel="stylesheet" href="https://cdn.example/x.css"><script src="https://cdn.example/require.js">'
        '</script></head><body><script type="application/vnd.jupyter.widget-state+json">{}</script><p>ok</p></body>'
    )
    out = report.strip_external(html)
    assert "<script" not in out and "<link" not in out and "<p>ok</p>" in out


def _assembled(paper="A4", company='Acme "Q" Ltd'):
    sections = [
        ("00_summary", *report.notebook_section(_executed_like(), "00_summary")),
        ("09_fake", *report.notebook_section(_executed_like(), "09_fake")),
    ]
    return report.assemble_html(
        sections,
        company=company,
        quarter=Quarter(2026, 3),
        paper=paper,
        built_at=datetime(2026, 10, 2, 8, 0, tzinfo=timezone.utc),
        data_range=(pd.Timestamp("2023-10-01"), pd.Timestamp("2026-09-30")),
        n_leads=1234,
        comparison="2026Q2 (report built earlier)",
    )


def test_assemble_html_cover_toc_and_paged_media():
    html = _assembled()
    assert html.startswith("<!DOCTYPE html>")
    assert '<section class="cover">' in html and "Acme &quot;Q&quot; Ltd" in html
    assert "2026Q3 (01 Jul 2026 – 30 Sep 2026)" in html
    assert "01 Oct 2023 – 30 Sep 2026 (1,234 leads)" in html
    assert '<a href="#09_fake-2">' in html and '<a href="#00_summary">' in html
    assert "target-counter(attr(href), page)" in html
    assert "size: A4;" in html and 'content: "Acme \\"Q\\" Ltd"' in html and "counter(page)" in html
    assert "size: letter;" in _assembled(paper="letter")
    assert not re.search(r"<script\b", html, re.I)
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_discover_notebooks_puts_summary_last(tmp_path):
    for name in ["02_b.ipynb", "00_executive_summary.ipynb", "01_a.ipynb", "notes.ipynb", "1_bad.ipynb"]:
        (tmp_path / name).write_text("{}")
    steps, summary = report.discover_notebooks(tmp_path)
    assert [p.name for p in steps] == ["01_a.ipynb", "02_b.ipynb"]
    assert summary.name == "00_executive_summary.ipynb"


def test_publish_replaces_and_keep_failed(tmp_path):
    final, build = tmp_path / "2026Q3", tmp_path / ".build-1"
    final.mkdir()
    (final / "old.txt").write_text("old")
    build.mkdir()
    (build / "new.txt").write_text("new")
    report._publish(build, final)
    assert (final / "new.txt").exists() and not (final / "old.txt").exists() and not build.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".2026Q3.lock", "2026Q3"]  # lock file stays, empty
    b2 = tmp_path / ".build-2"
    b2.mkdir()
    kept = report._keep_failed(b2, tmp_path, "2026Q3")
    assert kept == tmp_path / ".failed" / "2026Q3" and kept.is_dir()


def test_failure_message_names_notebook_cell_and_exception():
    from papermill.exceptions import PapermillExecutionError

    exc = PapermillExecutionError(7, 5, "x = 1\nraise ValueError('boom')", "ValueError", "boom", [])
    f = report._failure_from("03_lead_quality.ipynb", exc)
    text = f.describe()
    assert "notebook 03_lead_quality.ipynb" in text and "cell 7 (In [5])" in text and "ValueError: boom" in text


def _tiny_data(folder: Path, start: str = "2025-07-01") -> Path:
    """Leads only: ``start`` … 2026-09-30 (from 2025-07-01: five complete quarters), company 'Tiny Co'."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    n = 1500
    start = pd.Timestamp(start)
    days = (pd.Timestamp("2026-09-30") - start).days
    t = start + pd.to_timedelta(np.sort(rng.uniform(0, days, n)), unit="D")
    t = t.insert(0, start).insert(n + 1, pd.Timestamp("2026-09-30 12:00"))
    pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(len(t))],
            "created_at": t.strftime("%Y-%m-%d %H:%M:%S"),
            "channel": rng.choice(["paid_search", "events"], len(t)),
        }
    ).to_csv(folder / "leads.csv", index=False)
    (folder / "audit.yaml").write_text("company: Tiny Co\ncurrency: EUR\n")
    return folder


def test_complete_quarters(tmp_path):
    from salesaudit.data.io import load

    data = load(_tiny_data(tmp_path / "d"))
    assert [q.label for q in report.complete_quarters(data)] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert report.resolve_quarter(data, "latest").label == "2026Q3"


def test_bad_data_exits_2_and_builds_nothing(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "leads.csv").write_text("lead_id,created_at,channel\nL1,not a date,events\nL1,2026-01-01,events\n")
    reports = tmp_path / "reports"
    code = cli_main(["report", "--data", str(bad), "--reports", str(reports), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "leads.csv" in err and "Traceback" not in err
    assert not reports.exists()


# --------------------------------------------------------------------------------------------------
# slow: builds with kernels, on fake notebooks
# --------------------------------------------------------------------------------------------------
_SETUP = (
    "from salesaudit import nb, record as rec\nimport matplotlib.pyplot as plt\n"
    "ctx = nb.setup(quarter, data_dir, config)\n"
    "n = int(ctx.quarter.contains(ctx.data.leads['created_at']).sum())"
)


def _fake_step(folder: Path, stem: str, title: str, body: list[str], fail: bool = False) -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md(f"# {title}\n\nA fake audit step."),
        code('quarter = "2026Q3"\ndata_dir = "data/demo"\nconfig = "audit.yaml"', metadata={"tags": ["parameters"]}),
        code(_SETUP),
        md("## 1. How many leads came in?"),
        code(
            "fig, ax = plt.subplots(figsize=(6, 3)); ax.bar(['this quarter'], [n]); ax.set_title('Leads'); plt.show()"
        ),
    ]
    cells += [code(b) for b in body]
    if fail:
        cells.append(code("ratio = n / 0  # the broken cell"))
    nbformat.write(_nb(cells), folder / f"{stem}.ipynb")


def _fake_notebooks(folder: Path, fail: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _fake_step(
        folder,
        "01_sales_process",
        "01 · Fake sales process",
        [
            "rec.record('leads', n, unit='count', label='Leads', section='01_sales_process#1');",
            "rec.record_finding('slow', 'Leads wait too long', impact=5000.0, section='01_sales_process#1', "
            "recommendation='Call sooner', basis='a guess');",
        ],
    )
    _fake_step(
        folder,
        "05_sales_effectiveness",
        "05 · Fake sales effectiveness",
        ["rec.record('win_rate', 0.25, unit='%', n=max(n, 1), section='05_sales_effectiveness#1');"],
        fail=fail,
    )
    src = ROOT / "notebooks" / "00_executive_summary.ipynb"
    (folder / src.name).write_bytes(src.read_bytes())
    return folder


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def fake_build(tmp_path_factory):
    """One successful build of 2026Q3 on fake notebooks (previous quarter computed for the comparison)."""
    base = tmp_path_factory.mktemp("fakereport")
    data = _tiny_data(base / "data")
    nbs = _fake_notebooks(base / "nbs")
    reports = base / "reports"
    res = report.build_report(data, "2026Q3", notebooks_dir=nbs, reports_dir=reports, progress=False)
    return base, data, reports, res


@pytest.mark.slow
def test_fake_build_outputs(fake_build):
    from pypdf import PdfReader

    base, data, reports, res = fake_build
    out = reports / "2026Q3"
    assert res.out_dir == out
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "00_executive_summary.ipynb",
        "01_sales_process.ipynb",
        "05_sales_effectiveness.ipynb",
        "sales-audit-2026Q3.html",
        "sales-audit-2026Q3.pdf",
        "summary.json",
    ]
    assert not list(reports.glob(".build-*"))
    pdf = PdfReader(str(res.pdf))
    pages = [p.extract_text() for p in pdf.pages]
    assert "Tiny Co" in pages[0] and "2026Q3" in pages[0]
    assert "Contents" in pages[1]
    text = "\n".join(pages)
    for heading in ["00 · Executive summary", "01 · Fake sales process", "05 · Fake sales effectiveness"]:
        assert heading in text
    assert set(res.timings) >= {"validate", "execute", "compare", "summary", "html", "pdf"}


@pytest.mark.slow
def test_fake_build_summary_json_equals_executed_notebooks(fake_build):
    base, data, reports, res = fake_build
    doc = json.loads(res.summary.read_text())
    assert doc["quarter"] == "2026Q3" and doc["previous_quarter"] == "2026Q2" and doc["company"] == "Tiny Co"
    for path in (reports / "2026Q3").glob("*.ipynb"):
        assert doc["figures"][path.stem] == read_figures(path)
    leads = doc["figures"]["01_sales_process"]["leads"]["value"]
    assert doc["headline"]["leads"]["value"] == leads > 0
    # 2026Q2 was computed from the data (no earlier report): the change and its verdict are there
    assert doc["comparison_source"] == "computed"
    assert doc["headline"]["leads"]["previous"] > 0 and doc["headline"]["leads"]["significant"] in (True, False)
    assert doc["headline"]["win_rate"]["change"] == pytest.approx(0.0)
    assert doc["findings"][0]["name"] == "finding:slow"
    exec_summary = doc["figures"]["00_executive_summary"]
    assert exec_summary["headline_available"]["value"] == 2
    assert exec_summary["top_findings_impact"]["value"] == pytest.approx(5000.0)


@pytest.mark.slow
def test_fake_build_html_is_self_contained(fake_build):
    base, data, reports, res = fake_build
    html = res.html.read_text()
    assert not re.search(r"<script\b", html, re.I)
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "data:image/png;base64," in html
    assert "ctx = nb.setup" not in html  # code hidden
    assert "&lt;Figure size" not in html and html.count("<img") >= 4  # charts are images, incl. the summary's two
    assert 'id="01_sales_process-1"' in html and 'href="#01_sales_process-1"' in html  # finding → section


@pytest.mark.slow
def test_rebuild_reuses_the_computed_previous_quarter(fake_build):
    base, data, reports, res = fake_build
    again = report.build_report(data, "2026Q3", notebooks_dir=base / "nbs", reports_dir=reports, progress=False)
    assert again.comparison_source.startswith("computed (cached ")
    assert again.timings["compare"] < 1.0
    assert sorted(p.name for p in reports.iterdir() if not p.name.endswith(".lock")) in (
        [".failed", "2026Q3"],
        ["2026Q3"],
    )


@pytest.mark.slow
def test_rebuild_runs_only_the_notebooks_whose_inputs_changed(fake_build, tmp_path):
    base, data, reports, res = fake_build
    nbs = tmp_path / "nbs"
    shutil.copytree(base / "nbs", nbs)  # the same cells in another folder: the key is the content
    first = json.loads(res.summary.read_text())
    same = report.build_report(data, "2026Q3", notebooks_dir=nbs, reports_dir=reports, progress=False)
    assert same.reused == ["00_executive_summary", "01_sales_process", "05_sales_effectiveness"]
    assert same.notebook_seconds == {}
    assert json.loads(same.summary.read_text())["figures"] == first["figures"]

    nb05 = nbformat.read(str(nbs / "05_sales_effectiveness.ipynb"), as_version=4)
    nb05.cells[0].source += "\n\nThe text an analyst edited."  # markdown: 05 runs again, its figures do not change
    nbformat.write(nb05, str(nbs / "05_sales_effectiveness.ipynb"))
    text = report.build_report(data, "2026Q3", notebooks_dir=nbs, reports_dir=reports, progress=False)
    assert text.reused == ["00_executive_summary", "01_sales_process"]
    assert set(text.notebook_seconds) == {"05_sales_effectiveness"}
    assert "The text an analyst edited." in text.html.read_text()

    nb01 = nbformat.read(str(nbs / "01_sales_process.ipynb"), as_version=4)
    nb01.cells[-2].source = nb01.cells[-2].source.replace("rec.record('leads', n,", "rec.record('leads', n + 1,")
    nbformat.write(nb01, str(nbs / "01_sales_process.ipynb"))
    code = report.build_report(data, "2026Q3", notebooks_dir=nbs, reports_dir=reports, progress=False)
    assert code.reused == ["05_sales_effectiveness"]  # 01's figure changed, so the summary reading it ran too
    doc = json.loads(code.summary.read_text())
    assert (
        doc["figures"]["01_sales_process"]["leads"]["value"]
        == first["figures"]["01_sales_process"]["leads"]["value"] + 1
    )
    assert doc["headline"]["leads"]["value"] == doc["figures"]["01_sales_process"]["leads"]["value"]

    fresh = report.build_report(data, "2026Q3", notebooks_dir=nbs, reports_dir=reports, progress=False, reuse=False)
    assert fresh.reused == [] and len(fresh.notebook_seconds) == 3


@pytest.mark.slow
def test_failing_notebook_leaves_previous_report_untouched(fake_build, tmp_path, capsys):
    base, data, reports, res = fake_build
    before = _tree_digest(reports / "2026Q3")
    bad = _fake_notebooks(tmp_path / "bad-nbs", fail=True)
    code = cli_main(
        [
            "report",
            "--data",
            str(data),
            "--quarter",
            "2026Q3",
            "--notebooks",
            str(bad),
            "--reports",
            str(reports),
            "--no-compare",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert _tree_digest(reports / "2026Q3") == before  # byte-identical
    assert "05_sales_effectiveness.ipynb" in err
    assert re.search(r"cell \d+ \(In \[\d+\]\)", err) and "ZeroDivisionError: division by zero" in err
    assert "ratio = n / 0" in err
    kept = reports / ".failed" / "2026Q3" / "05_sales_effectiveness.ipynb"
    assert kept.exists() and "ZeroDivisionError" in kept.read_text()
    assert not list(reports.glob(".build-*"))


@pytest.mark.slow
def test_all_quarters_builds_each_and_compares_with_the_one_before(tmp_path, capsys):
    data = _tiny_data(tmp_path / "data", start="2026-04-01")
    nbs = _fake_notebooks(tmp_path / "nbs")
    reports = tmp_path / "reports"
    args = ["report", "--data", str(data), "--all-quarters", "--notebooks", str(nbs), "--reports", str(reports)]
    assert cli_main([*args, "--quiet", "--no-pdf"]) == 0
    out = capsys.readouterr().out
    assert "2026Q2: validate" in out and "2026Q3: validate" in out and "2 quarters in" in out
    assert sorted(p.name for p in reports.iterdir() if not p.name.startswith(".")) == ["2026Q2", "2026Q3"]
    q2 = json.loads((reports / "2026Q2" / "summary.json").read_text())
    q3 = json.loads((reports / "2026Q3" / "summary.json").read_text())
    assert q2["comparison_source"] is None  # 2026Q1 is before the data starts
    assert q3["comparison_source"] == str(reports / "2026Q2" / "summary.json")
    assert q3["headline"]["leads"]["previous"] == q2["headline"]["leads"]["value"]


# --------------------------------------------------------------------------------------------------
# slow: the real notebooks on the small demo company
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_report_on_small_demo(small_data, tmp_path):
    from pypdf import PdfReader

    reports = tmp_path / "reports"
    code = cli_main(
        [
            "report",
            "--data",
            str(small_data),
            "--quarter",
            "2026Q3",
            "--reports",
            str(reports),
            "--no-compare",
            "--quiet",
        ]
    )
    assert code == 0
    out = reports / "2026Q3"
    steps, summary_nb = report.discover_notebooks(ROOT / "notebooks")
    executed = sorted(out.glob("*.ipynb"))
    assert [p.name for p in executed] == sorted(p.name for p in [*steps, summary_nb])
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(str(out / "sales-audit-2026Q3.pdf")).pages)
    html = (out / "sales-audit-2026Q3.html").read_text()
    assert "Contents" in pdf_text
    for path in executed:  # one section per notebook, its title in the PDF text
        title = next(
            h for lvl, _, h in report.notebook_section(nbformat.read(str(path), as_version=4), path.stem)[2] if lvl == 1
        )
        assert " ".join(title.split()[:2]) in " ".join(pdf_text.split())
    assert not re.search(r"<script\b|<link\b", html, re.I)
    doc = json.loads((out / "summary.json").read_text())
    for path in executed:
        assert doc["figures"][path.stem] == read_figures(path)
    flat = {k: v for figs in doc["figures"].values() for k, v in figs.items()}
    assert list(doc["headline"]) == [name for name, _, _ in summ.HEADLINE]  # a renamed figure fails here
    for name, row in doc["headline"].items():
        assert name in flat, f"headline figure {name} is recorded by no notebook"
        assert row["value"] == flat[name]["value"]
    from salesaudit.report import lint

    problems = lint.lint_report(out, demo=True)
    assert not problems, "\n".join(p.line() for p in problems[:20])


def test_long_tables_may_split_short_ones_stay_whole():
    rows = "".join(f"<tr><td>{i}</td></tr>" for i in range(30))
    html = f'<table class="dataframe">{rows}</table><table><tr><td>1</td></tr></table><table id="t">{rows}</table>'
    out = report.mark_long_tables(html)
    assert '<table class="long dataframe">' in out
    assert "<table><tr><td>1</td></tr></table>" in out
    assert '<table id="t" class="long">' in out
    wide = "<table><tr>" + "<th>h</th>" * 12 + "</tr><tr>" + "<td>1</td>" * 12 + "</tr></table>"
    assert '<table class="wide">' in report.mark_long_tables(wide)
    narrow = "<table><tr>" + "<th>h</th>" * 4 + "</tr><tr>" + "<td>1</td>" * 4 + "</tr></table>"
    assert report.mark_long_tables(narrow) == narrow


def test_auto_workers_stays_under_the_memory_budget():
    small, big = 7_400_000, 108_000_000  # Parquet cache of the 60k- and the 1M-lead demo
    assert report.auto_workers(small, 4.0, cores=2) == 2
    assert report.kernel_memory_gb(big) == pytest.approx(0.35 + 2.7)
    assert report.auto_workers(big, 4.0, cores=2) == 1
    assert report.auto_workers(big, 16.0, cores=2) == 2
    assert report.auto_workers(big, 0, cores=2) == 2  # no limit
    assert report.auto_workers(10**10, 4.0, cores=8) == 1  # never fewer than one


def test_cli_options_reach_the_runner():
    from salesaudit.cli import build_parser

    args = build_parser().parse_args(["report", "--data", "d", "--paper", "Letter", "--max-memory", "8", "--quiet"])
    assert (args.paper, args.max_memory, args.workers, args.quarter) == ("letter", 8.0, None, "latest")
    assert args.cell_timeout == report.CELL_TIMEOUT == 600
    assert build_parser().parse_args(["report", "--cell-timeout", "5"]).cell_timeout == 5
    assert args.notebooks.endswith("notebooks") and args.reports.endswith("reports")
    assert not args.all_quarters and not args.no_compare and not args.no_pdf
