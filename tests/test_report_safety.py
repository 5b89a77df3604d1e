"""Builds that cannot hang or collide (issue 11): cell timeouts, interactive-only cells never executed,
stale build folders of dead builds removed, publishing a quarter serialised by a lock.

The builds use tiny notebooks that do not load the data (one kernel each, a few seconds) on the tiny
hand-made data folder of ``test_report``.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from salesaudit.cli import main as cli_main
from salesaudit.report import build as report
from test_report import _nb, _tiny_data

PARAMS = 'quarter = "2026Q3"\ndata_dir = "data/demo"\nconfig = "audit.yaml"'


def _notebook(folder: Path, stem: str, cells: list) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = _nb([md(f"# {stem}\n\nA tiny notebook."), code(PARAMS, metadata={"tags": ["parameters"]}), *cells])
    nbformat.write(nb, folder / f"{stem}.ipynb")
    return folder


def _build(data: Path, nbs: Path, reports: Path, *extra: str) -> int:
    args = ["report", "--data", str(data), "--quarter", "2026Q3", "--notebooks", str(nbs), "--reports", str(reports)]
    return cli_main([*args, "--no-compare", "--no-pdf", "--quiet", *extra])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return _tiny_data(tmp_path_factory.mktemp("safety") / "data")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _owned(folder: Path, pid: int, start: str | None = None, host: str | None = None) -> Path:
    folder.mkdir(parents=True)
    owner = {"pid": pid, "start": start, "host": host or report._host(), "started": "2026-12-01T00:00:00+00:00"}
    (folder / report.OWNER_FILE).write_text(json.dumps(owner))
    (folder / "01_x.ipynb").write_text("{}")
    return folder


# --------------------------------------------------------------------------------------------------
# cell timeout
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_cell_timeout_fails_fast_naming_notebook_and_cell(data, tmp_path, capsys):
    code = nbformat.v4.new_code_cell
    nbs = _notebook(tmp_path / "nbs", "01_sleepy", [code("import time"), code("time.sleep(60)  # hangs")])
    reports = tmp_path / "reports"
    t0 = time.perf_counter()
    rc = _build(data, nbs, reports, "--cell-timeout", "5")
    wall = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert rc == 1
    assert wall < 30, f"the timeout did not stop the build ({wall:.0f} s)"
    first = err.strip().splitlines()[0]
    assert "notebook 01_sleepy.ipynb" in first and "time.sleep(60)" in first
    assert "cell 4" in first and "CellTimeoutError" in first and "5 s" in first  # cell 3 + injected parameters
    assert "Traceback" not in err
    kept = reports / ".failed" / "2026Q3" / "01_sleepy.ipynb"
    assert kept.exists() and "CellTimeoutError" in kept.read_text()
    assert not (kept.parent / report.OWNER_FILE).exists()
    assert not (reports / "2026Q3").exists() and not list(reports.glob(".build-*"))


@pytest.mark.slow
def test_disk_full_during_a_build_is_one_line_and_keeps_the_previous_report(data, tmp_path, capsys, monkeypatch):
    import errno

    nbs = _notebook(tmp_path / "nbs", "01_plain", [nbformat.v4.new_code_cell("print('ok')")])
    reports = tmp_path / "reports"
    assert _build(data, nbs, reports) == 0
    before = {p.name: p.read_bytes() for p in (reports / "2026Q3").iterdir()}
    capsys.readouterr()

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(report, "render_report_html", lambda *a, **k: "<html></html>")
    monkeypatch.setattr(Path, "write_text", full)
    rc = _build(data, nbs, reports)
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(f"salesaudit report: {reports}/.build-2026Q3-")
    assert lines[0].endswith(": the disk is full; free some space and run again (nothing was published)")
    assert {p.name: p.read_bytes() for p in (reports / "2026Q3").iterdir()} == before
    assert not list(reports.glob(".build-*"))


# --------------------------------------------------------------------------------------------------
# interactive-only cells, stale build folders
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_interactive_only_cells_never_run_and_dead_builds_are_cleaned(data, tmp_path, capsys):
    code = nbformat.v4.new_code_cell
    inter = {"tags": ["interactive-only"]}
    nbs = _notebook(
        tmp_path / "nbs",
        "07_sliders",
        [
            code("raise RuntimeError('the slider ran in a report build')", metadata=inter),
            code("import time\ntime.sleep(60)", metadata=inter),
            code("print('static table for the report')", metadata={"tags": ["report-only"]}),
        ],
    )
    reports = tmp_path / "reports"
    dead = _owned(reports / ".build-2026Q3-dead", _dead_pid())
    live = _owned(reports / ".build-2026Q3-live", os.getpid(), report._process_start(os.getpid()))
    rc = _build(data, nbs, reports, "--cell-timeout", "20")
    assert rc == 0, capsys.readouterr().err
    assert not dead.exists() and live.is_dir()
    out = reports / "2026Q3"
    executed = nbformat.read(str(out / "07_sliders.ipynb"), as_version=4)
    tags = [t for c in executed.cells for t in c.metadata.get("tags", [])]
    assert "interactive-only" not in tags and "report-only" in tags
    html = (out / "sales-audit-2026Q3.html").read_text()
    assert "static table for the report" in html and "slider ran" not in html
    assert not (out / report.OWNER_FILE).exists()
    assert sorted(p.name for p in reports.glob(".build-*")) == [live.name]


def test_remove_stale_builds_keeps_live_and_young_folders(tmp_path):
    me = os.getpid()
    dead = _owned(tmp_path / ".build-2026Q3-dead", _dead_pid())
    live = _owned(tmp_path / ".build-2026Q3-live", me, report._process_start(me))
    live_no_start = _owned(tmp_path / ".build-2026Q2-live", me)
    reused = _owned(tmp_path / ".build-2026Q1-reused", me, "1")  # same PID, another process's start time
    elsewhere = _owned(tmp_path / ".build-2026Q3-other-host", _dead_pid(), host="not-this-host")
    young = tmp_path / ".build-2026Q3-starting"  # created, owner file not written yet
    young.mkdir()
    old = tmp_path / ".build-2026Q3-ancient"  # from before owner files, two days old
    old.mkdir()
    garbled = _owned(tmp_path / ".build-2026Q3-garbled", me)
    (garbled / report.OWNER_FILE).write_text("{not json")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    old_copy = tmp_path / f".old-2026Q3-1a2b3c4d-{_dead_pid()}"
    old_copy.mkdir()
    mine = tmp_path / f".old-2026Q2-1a2b3c4d-{me}"
    mine.mkdir()
    (tmp_path / "2026Q3").mkdir()

    removed = report.remove_stale_builds(tmp_path)

    assert sorted(removed) == sorted([dead, reused, old, old_copy])
    for kept in (live, live_no_start, elsewhere, young, garbled, mine, tmp_path / "2026Q3"):
        assert kept.is_dir(), kept
    assert report.remove_stale_builds(tmp_path / "missing") == []


def test_claim_build_dir_names_this_process(tmp_path):
    report.claim_build_dir(tmp_path)
    owner = json.loads((tmp_path / report.OWNER_FILE).read_text())
    assert owner["pid"] == os.getpid() and owner["host"] == report._host()
    assert owner["start"] == report._process_start(os.getpid())
    assert report.remove_stale_builds(tmp_path.parent) == [] or tmp_path.exists()
    assert report._pid_alive(os.getpid()) and not report._pid_alive(_dead_pid())


# --------------------------------------------------------------------------------------------------
# publishing the same quarter from two threads / processes
# --------------------------------------------------------------------------------------------------
FILES = ["00_executive_summary.ipynb", "01_sales_process.ipynb", "summary.json", "sales-audit-2026Q3.html"]


def _publish_many(reports: str, who: str, n: int) -> int:
    """Build ``n`` complete fake reports of 2026Q3 and publish each; returns how many were published."""
    import tempfile

    reports_dir = Path(reports)
    for i in range(n):
        build = Path(tempfile.mkdtemp(prefix=".build-2026Q3-", dir=reports_dir))
        report.claim_build_dir(build)
        for name in FILES:
            (build / name).write_text(f"{who}-{i}")
        (build / report.OWNER_FILE).unlink()
        report._publish(build, reports_dir / "2026Q3")
    return n


def _assert_complete(reports: Path, tokens: set[str]) -> None:
    final = reports / "2026Q3"
    assert sorted(p.name for p in final.iterdir()) == sorted(FILES)
    contents = {(final / name).read_text() for name in FILES}
    assert len(contents) == 1 and contents <= tokens  # every file from one and the same build
    assert sorted(p.name for p in reports.iterdir()) == [".2026Q3.lock", "2026Q3"]  # no .old-*, no .build-*


def test_two_threads_publishing_the_same_quarter_never_collide(tmp_path):
    n = 50
    barrier = threading.Barrier(2)

    def run(who: str) -> int:
        barrier.wait()
        return _publish_many(str(tmp_path), who, n)

    with cf.ThreadPoolExecutor(2) as pool:
        done = [f.result() for f in [pool.submit(run, "a"), pool.submit(run, "b")]]  # re-raises any error
    assert done == [n, n]
    _assert_complete(tmp_path, {f"{w}-{n - 1}" for w in "ab"})  # the later of the two last publishes won


def test_two_processes_publishing_the_same_quarter_never_collide(tmp_path):
    n = 50
    ctx = mp.get_context("fork") if sys.platform == "linux" else mp.get_context()
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        futures = [pool.submit(_publish_many, str(tmp_path), who, n) for who in "ab"]
        assert [f.result(timeout=120) for f in futures] == [n, n]
    _assert_complete(tmp_path, {f"{w}-{n - 1}" for w in "ab"})


@pytest.mark.slow
def test_a_sigkilled_build_leaves_a_folder_the_next_build_removes(data, tmp_path):
    import signal

    code = nbformat.v4.new_code_cell
    nbs = _notebook(tmp_path / "nbs", "01_sleepy", [code("import time\ntime.sleep(60)")])
    reports = tmp_path / "reports"
    args = ["report", "--data", str(data), "--quarter", "2026Q3", "--notebooks", str(nbs), "--reports", str(reports)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "salesaudit", *args, "--no-compare", "--no-pdf", "--quiet"],
        start_new_session=True,  # its own process group: the kernel is killed with it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(reports.glob(f".build-*/{report.OWNER_FILE}")) and time.monotonic() < deadline:
            time.sleep(0.2)
        (owner,) = reports.glob(f".build-*/{report.OWNER_FILE}")
        assert json.loads(owner.read_text())["pid"] == proc.pid
        assert report.remove_stale_builds(reports) == []  # alive: kept
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert owner.parent.is_dir()  # SIGKILL: nothing cleaned up
    assert report.remove_stale_builds(reports) == [owner.parent]
    assert not list(reports.glob(".build-*"))


def test_pdf_worker_renders_beside_this_process_and_reraises_its_error(tmp_path):
    """build.PdfWorker renders HTML files to PDF in another interpreter (the rep scorecards, while the build
    renders the report's PDF); an error there reaches the build at wait() as one line."""
    from pypdf import PdfReader
    from salesaudit.report.build import PdfWorker, ReportError

    jobs = []
    for i in range(2):
        page = tmp_path / f"r{i}.html"
        page.write_text(f"<html><body><h1>Rep {i}</h1></body></html>", encoding="utf-8")
        jobs.append((page, page.with_suffix(".pdf")))
    with PdfWorker(jobs) as side:
        side.wait()
    for _, pdf in jobs:
        assert len(PdfReader(str(pdf)).pages) == 1
        assert f"Rep {pdf.stem[1:]}" in PdfReader(str(pdf)).pages[0].extract_text()
    with pytest.raises(ReportError, match="could not be rendered: FileNotFoundError.*missing.html"):
        with PdfWorker([(tmp_path / "missing.html", tmp_path / "m.pdf")]) as side:
            side.wait()
    with PdfWorker([]) as side:  # nothing to render: no process is started
        side.wait()
        assert side.proc is None
