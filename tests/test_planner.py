"""`make planner`: the what-if and target planner served with Voilà (notebooks/planner.ipynb).

* the recipe from a clean copy of the repository (tracked and new files, no data, no .cache): ``make -n planner``
  prints the papermill and voila commands for DATA, QUARTER and PORT; ``make planner-notebook`` writes the
  parameterised notebook, which then executes headless with papermill — widgets shown, no recorded-figure payload;
* in headless Chromium (Playwright): Voilà on a free localhost port serves the planner on the small demo; the
  labels name unit and period, moving the target slider and typing ``1,000,000`` in its box both change the plan.

The browser test needs Debian's Chromium at ``/usr/bin/chromium`` and the ``playwright`` and ``voila`` packages;
it is skipped with the reason when one is missing. It starts and stops its own server and is bounded (≤ 6 min).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
VENV_BIN = Path(sys.executable).parent
TIMEOUT_MS = 60_000
#: Voilà runs the whole notebook before the page is complete: on a loaded two-core machine that may take minutes
FIRST_RENDER_MS = 120_000
RENDER_ATTEMPTS = 3
MARKER = "salesaudit_figure"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_planner_is_not_a_report_notebook():
    from salesaudit.report.build import discover_notebooks

    steps, summary = discover_notebooks(ROOT / "notebooks")
    assert (ROOT / "notebooks" / "planner.ipynb").exists()
    assert "planner.ipynb" not in [p.name for p in [*steps, summary] if p]
    nb = nbformat.read(str(ROOT / "notebooks" / "planner.ipynb"), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "record" not in code and "def " not in code and "matplotlib" not in code
    assert all(len(c.source.splitlines()) <= 15 for c in nb.cells if c.cell_type == "code")
    params = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and "data_dir" in params[0].source and "quarter" in params[0].source


def _clean_copy(dest: Path) -> Path:
    """The working tree as a fresh clone would have it: tracked and new (not ignored) files, with the venv."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file() and not src.is_symlink():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())
    return dest


@pytest.mark.slow
def test_make_planner_recipe_works_from_a_clean_clone(small_data, tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    clone = _clean_copy(tmp_path / "clone")
    assert not (clone / "data" / "demo").exists() and not (clone / ".cache").exists()
    env = dict(os.environ, PYTHONPATH=str(clone / "lib"), SALESAUDIT_CACHE=str(tmp_path / "cache"))
    port = _free_port()
    args = [f"DATA={small_data}", "QUARTER=2026Q3", f"PORT={port}", "-o", ".venv/.installed"]  # never reinstall
    dry = subprocess.run(["make", "-n", "planner", *args], cwd=clone, env=env, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "papermill --prepare-only" in dry.stdout and f'-p data_dir "{small_data}"' in dry.stdout
    assert '-p quarter "2026Q3"' in dry.stdout
    assert f"voila .cache/planner/planner.ipynb --port={port} --no-browser --Voila.ip=127.0.0.1" in dry.stdout
    helps = subprocess.run(["make", "help"], cwd=clone, env=env, capture_output=True, text=True).stdout
    assert "planner " in helps and "Voilà" in helps
    made = subprocess.run(["make", "-s", "planner-notebook", *args], cwd=clone, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    prepared = clone / ".cache" / "planner" / "planner.ipynb"
    assert prepared.exists()
    out = tmp_path / "executed.ipynb"
    cmd = [str(VENV_BIN / "python"), "-m", "papermill", "--log-level", "WARNING", "--execution-timeout", "150"]
    cmd += [str(prepared), str(out), "--cwd", str(clone / "notebooks")]
    # the planner's cells are widget cells: nbclient can stall on them until the cell timeout (jupyter/nbclient#312;
    # one CI run hung 300 s here), so a run cut by the 150 s cell timeout is run again, three runs at most
    for attempt in range(3):
        try:
            run = subprocess.run(cmd, cwd=clone, env=env, capture_output=True, text=True, timeout=240)
        except subprocess.TimeoutExpired:
            if attempt == 2:
                raise
            continue
        if run.returncode == 0 or "CellTimeoutError" not in run.stderr or attempt == 2:
            break
    assert run.returncode == 0, run.stderr[-3000:]
    nb = nbformat.read(str(out), as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs) == 2
    assert MARKER not in nbformat.writes(nb)


@pytest.fixture
def planner_server(small_data, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium) to run this test")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    voila = VENV_BIN / "voila"
    if not voila.exists():
        pytest.skip(f"{voila} not found: voila is not installed in this environment (pip install -r requirements.txt)")
    import papermill

    work = tmp_path / "planner"
    work.mkdir()
    nb = work / "planner.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "planner.ipynb"),
        str(nb),
        parameters={"data_dir": str(small_data), "quarter": "2026Q3"},
        prepare_only=True,
        log_output=False,
        progress_bar=False,
    )
    port = _free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jrt"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        PYTHONPATH=str(ROOT / "lib"),
        SALESAUDIT_CACHE=str(tmp_path / "cache"),  # its own cache: nothing another test left behind
    )
    log = open(tmp_path / "voila.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(voila), str(nb), f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1", "--show_tracebacks=False"],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()  # "/" would start a kernel
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail("voila did not start:\n" + (tmp_path / "voila.log").read_text()[-2000:])
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/", tmp_path / "voila.log"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


@pytest.mark.browser
@pytest.mark.slow
def test_planner_app_moves_the_target_and_the_plan_follows(planner_server):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    url, server_log = planner_server
    changed = "(before) => { const t = document.querySelector('.target-plan'); return t && t.innerText !== before; }"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            timeout=30_000,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            rendered = "() => { const t = document.querySelector('.target-plan'); return t && t.innerText.includes('All channels'); }"
            # Voilà runs the notebook in a new kernel per page load; that execution intermittently stalls on the
            # widget cells (the nbclient stall of jupyter/nbclient#312; one CI run never rendered in 240 s). A load
            # that has not rendered in FIRST_RENDER_MS is retried with a new page load (= a new kernel), twice at most.
            for attempt in range(1, RENDER_ATTEMPTS + 1):
                t0 = time.time()
                page.goto(url, wait_until="commit", timeout=FIRST_RENDER_MS)
                try:
                    page.wait_for_function(rendered, timeout=FIRST_RENDER_MS)
                    break
                except PlaywrightTimeout:
                    print(f"planner load {attempt} did not render in {FIRST_RENDER_MS / 1000:.0f} s")
                    if attempt == RENDER_ATTEMPTS:
                        raise
            print(f"planner rendered in {time.time() - t0:.0f} s (load {attempt})")
            body = page.locator("body").inner_text()
            assert "paid_search, EUR per quarter" in body and "revenue target, EUR per quarter" in body
            assert MARKER not in page.content()  # no recorded-figure payload in the app
            assert "Traceback" not in body
            table = page.locator(".target-plan").first
            before = table.inner_text()
            assert "EUR 750k per quarter" in before  # the demo's revenue_target {year: 3,000,000}
            # move the target slider with the keyboard
            handle = page.locator(".widget-slider .noUi-handle").last
            handle.scroll_into_view_if_needed()
            handle.click()
            for _ in range(3):
                handle.press("ArrowRight")
            page.wait_for_function(changed, arg=before)
            moved = table.inner_text()
            assert "All channels" in moved and "recomputed in" in moved
            # type the amount as the box shows it
            box = page.locator(".amount-input input").last
            assert box.input_value().replace(",", "").isdigit() and "," in box.input_value()
            box.fill("1,000,000")
            box.press("Enter")
            page.wait_for_function(changed, arg=moved)
            after = table.inner_text()
            assert "EUR 1.0M per quarter" in after
            assert box.input_value() == "1,000,000"
        except Exception:
            shot = Path(tempfile.gettempdir()) / "salesaudit-planner-failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print("voila log:\n" + server_log.read_text()[-3000:])
            raise
        finally:
            browser.close()
