"""Shared fixtures: generated demo companies (small and default size) in temporary folders.

* ``small_data`` — a small demo company (≈ 3,000 leads a year, 3 years, seed 11): for notebook runs
  and fast tests.
* ``demo_data`` — the default demo company (seed 7, ≈ 20,000 leads a year): for recovery tests
  against ``truth.json``.
* ``run_nb(name, data_dir, quarter)`` — execute a notebook with papermill, return (notebook, figures).

The loader cache goes to a temporary folder so tests never touch the project's ``.cache``.

Work shared by the pytest-xdist workers (``make test`` runs ``-n auto --dist loadfile``: each test file on one
worker, so the same fixture would otherwise be built once per worker): the demo companies are generated once
per test run, and a notebook executed on one of them is executed once per run, whichever worker asks first;
the others wait for it and read the executed notebook (``shared_once``, under a file lock, in a folder of the
run's own temporary tree — nothing outlives the run or leaks into the next one).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

# the same inputs give the same test run: property tests draw the same examples every time
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.load_profile("deterministic")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data"


#: the test files that take longest (CPU seconds, measured), started first so the xdist workers finish together:
#: with ``--dist loadfile`` a file runs on one worker, and a long file started last would run alone at the end
#: (the Makefile passes ``--no-loadscope-reorder`` so xdist keeps this order instead of most-tests-first)
LONGEST_FIRST = (
    "test_truth_on_real_data.py",
    "test_injection_browser.py",
    "test_report.py",
    "test_figures.py",
    "test_nb_07.py",
    "test_robustness.py",
    "test_browser_lab.py",
    "test_planner.py",
    "test_maven.py",
    "test_nb_04.py",
    "test_nb_02_06.py",
    "test_nb_05.py",
    "test_nb_01.py",
    "test_nb_03.py",
    "test_warm_kernels.py",
    "test_bad_inputs.py",
    "test_report_safety.py",
)


def pytest_collection_modifyitems(session, config, items):
    """Longest files first (``LONGEST_FIRST``), the rest after them in their usual order; a file's tests keep
    their order. The same order on every worker (xdist checks that the collections agree)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: ties keep collection order


def _shared_dir(tmp_path_factory) -> Path:
    """A folder every xdist worker of this test run sees: the parent of a worker's basetemp is the run's
    basetemp; without xdist, the session's own basetemp (its parent holds earlier runs)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    out = base / "shared"
    out.mkdir(exist_ok=True)
    return out


@contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (a lock file), across processes; released when the block ends."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def shared_once(tmp_path_factory) -> Callable[[str, Callable[[Path], object]], Path]:
    """``shared_once(name, make)``: the folder ``<shared>/name``, filled by ``make(folder)`` once per test run
    by whichever worker asks first (the others wait on the lock, then use it). ``make`` writes into a fresh
    temporary folder renamed into place when it returns, so a failed ``make`` leaves nothing half-made."""
    shared = _shared_dir(tmp_path_factory)

    def _once(name: str, make: Callable[[Path], object]) -> Path:
        out = shared / name
        with _locked(shared / f"{name}.lock"):
            if not out.is_dir():
                tmp = shared / f"{name}.partial"
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                make(tmp)
                tmp.rename(out)
        return out

    return _once


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    os.environ["SALESAUDIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


# The three folders below are shared by every test of the run (and every worker): a test that needs to change
# one copies it first (tests/_shapes.py, or shutil.copytree into its tmp_path).
@pytest.fixture(scope="session")
def small_data(shared_once) -> Path:
    from salesaudit.data.demo import generate

    return shared_once("small_demo", lambda out: generate(out, seed=11, leads_per_year=3000, years=3))


@pytest.fixture(scope="session")
def leads_only(shared_once, small_data) -> Path:
    """The small demo's leads and audit.yaml alone: a CRM export with no other table."""

    def make(out: Path) -> None:
        for f in ("leads.csv", "audit.yaml"):
            shutil.copy(small_data / f, out / f)

    return shared_once("leads_only", make)


@pytest.fixture(scope="session")
def demo_data(shared_once) -> Path:
    from salesaudit.data.demo import generate

    return shared_once("demo", lambda out: generate(out, seed=7))


@pytest.fixture(scope="session")
def demo_truth(demo_data) -> dict:
    return json.loads((demo_data / "truth.json").read_text())


@pytest.fixture(scope="session")
def run_nb(tmp_path_factory):
    """Execute a notebook; results are memoised per (notebook, data folder, quarter, widgets).

    Cells tagged ``interactive-only`` (the sliders) are skipped, as in a report build, unless ``widgets=True``:
    executing ipywidgets cells through nbclient can stall until the cell timeout (jupyter/nbclient#312; 900 s
    stalls were seen in CI and on a test run), so only the tests about the sliders run them, with a 150 s cell
    timeout and up to three runs.

    On a folder every worker shares (``small_data``, ``demo_data``, ``leads_only``) the executed notebook is
    shared too: executed once per test run under a lock on its key, written to the shared folder, and read
    back by the other workers (the same parameters, the same kernel code, so the same notebook). A run that
    fails is not kept: each test that asks runs it again and sees the failure itself."""
    import nbformat
    from salesaudit.report.execute import run_notebook
    from salesaudit.report.record import read_figures

    cache: dict = {}
    outdir = tmp_path_factory.mktemp("executed")
    shared = _shared_dir(tmp_path_factory)
    executed = shared / "executed"
    executed.mkdir(exist_ok=True)

    def _execute(name: str, data_dir: Path, quarter: str, widgets: bool, out: Path):
        if not widgets:
            return run_notebook(name, quarter=quarter, data_dir=data_dir, out_path=out, skip_tags=("interactive-only",))
        # with the sliders: a stalled run (nbclient#312: the kernel idle, the client waiting for the cell's
        # outputs until the cell timeout) is cut at 150 s and run again in a new kernel, three runs at most;
        # a real error or a third stall fails the test
        from papermill.exceptions import PapermillExecutionError
        from salesaudit.report.execute import TIMEOUT_ENAME

        for attempt in range(3):
            try:
                return run_notebook(name, quarter=quarter, data_dir=data_dir, out_path=out, timeout=150)
            except PapermillExecutionError as exc:
                if exc.ename != TIMEOUT_ENAME or attempt == 2:
                    raise

    def _run(name: str, data_dir: Path, quarter: str = "2026Q3", widgets: bool = False):
        key = (name, str(data_dir), quarter, widgets)
        if key not in cache:
            stem = f"{Path(data_dir).name}-{quarter}-{Path(name).stem}{'-widgets' if widgets else ''}"
            if Path(data_dir).resolve().parent == shared.resolve():
                digest = hashlib.sha256(
                    json.dumps([str(Path(name)), str(Path(data_dir).resolve()), quarter, widgets]).encode()
                )
                out = executed / f"{stem}-{digest.hexdigest()[:12]}.ipynb"
                with _locked(out.with_suffix(".lock")):
                    if out.is_file():
                        nb = nbformat.read(str(out), as_version=4)
                    else:
                        partial = out.with_suffix(".partial.ipynb")
                        nb = _execute(name, data_dir, quarter, widgets, partial)
                        partial.rename(out)
            else:
                nb = _execute(name, data_dir, quarter, widgets, outdir / f"{stem}.ipynb")
            cache[key] = (nb, read_figures(nb))
        return cache[key]

    return _run


@pytest.fixture
def cli(capsys):
    """Run ``python -m salesaudit ARGS`` in-process: returns (exit code, stdout, stderr)."""
    from salesaudit.cli import main

    def _run(*args: str):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run
