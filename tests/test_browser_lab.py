"""`make lab` for real: JupyterLab in headless Chromium runs notebook 07 and a slider moves the plan.

Starts ``jupyter lab`` from the venv on a free localhost port with a token, opens a temporary copy of
``notebooks/07_spend_planning.ipynb`` whose ``data_dir`` points to the small demo company, runs all
cells, moves the first spend slider with the keyboard and checks that the plan table changes.

Needs Debian's Chromium at ``/usr/bin/chromium`` (``apt-get install -y chromium``) and the Python
package ``playwright``; skipped with the reason when either is missing. Bounded: ~90 s at most.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
NB = "07_spend_planning.ipynb"
TIMEOUT_MS = 60_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook_copy(folder: Path, data_dir: Path) -> Path:
    nb = nbformat.read(str(ROOT / "notebooks" / NB), as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = re.sub(r'data_dir = ".*"', f'data_dir = "{data_dir}"', cell.source)
    out = folder / NB
    nbformat.write(nb, str(out))
    return out


@pytest.fixture
def lab_server(small_data, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium) to run this test")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        pytest.skip(f"{jupyter} not found: JupyterLab is not installed in this environment")
    work = tmp_path / "lab"
    work.mkdir()
    _notebook_copy(work, Path(small_data).resolve())
    settings = tmp_path / "lab-settings"
    for name, value in [
        ("notebook-extension/tracker", {"windowingMode": "none"}),  # keep every cell in the DOM
        ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
    ]:
        f = settings / f"@jupyterlab/{name}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jrt"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--no-browser",
            f"--notebook-dir={work}",
            f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
            "--LabApp.news_url=None",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={tmp_path / 'lab-workspaces'}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 40
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail("jupyter lab did not start:\n" + (tmp_path / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/{NB}?token={token}"
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
        shutil.rmtree(work, ignore_errors=True)


def test_lab_slider_updates_the_plan(lab_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            timeout=30_000,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(lab_server, wait_until="domcontentloaded")
            page.locator(".jp-Notebook").first.wait_for()
            # wait until the kernel is connected and idle, then Run ▸ Run All Cells
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " const s = w && w.sessionContext; const k = s && s.session && s.session.kernel;"
                " return s && s.isReady && k && k.connectionStatus === 'connected' && k.status === 'idle'; }"
            )
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            table = page.locator(".plan-table").first
            table.wait_for()
            page.wait_for_function(
                "() => { const t = document.querySelector('.plan-table');"
                " return t && t.innerText.includes('Total (paid)'); }"
            )
            before = table.inner_text()
            handle = page.locator(".widget-slider .noUi-handle").first
            handle.scroll_into_view_if_needed()
            handle.click()
            for _ in range(5):
                handle.press("ArrowRight")
            page.wait_for_function(
                "(before) => { const t = document.querySelector('.plan-table'); return t && t.innerText !== before; }",
                arg=before,
            )
            after = table.inner_text()
            assert after != before
            assert "Total (paid)" in after and "recomputed in" in after
        except Exception:
            shot = Path(tempfile.gettempdir()) / "salesaudit-lab-failure.png"
            page.screenshot(path=str(shot), full_page=True)
            raise
        finally:
            browser.close()
