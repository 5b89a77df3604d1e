"""Shared fixtures: generated demo companies (small and default size) in temporary folders.

* ``small_data`` — a small demo company (≈ 3,000 leads a year, 3 years, seed 11): for notebook runs
  and fast tests.
* ``demo_data`` — the default demo company (seed 7, ≈ 20,000 leads a year): for recovery tests
  against ``truth.json``.
* ``run_nb(name, data_dir, quarter)`` — execute a notebook with papermill, return (notebook, figures).

The loader cache goes to a temporary folder so tests never touch the project's ``.cache``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# the same inputs give the same test run: property tests draw the same examples every time
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.load_profile("deterministic")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    os.environ["SALESAUDIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> Path:
    from salesaudit.data.demo import generate

    out = tmp_path_factory.mktemp("small_demo")
    generate(out, seed=11, leads_per_year=3000, years=3)
    return out


@pytest.fixture(scope="session")
def leads_only(tmp_path_factory, small_data) -> Path:
    """The small demo's leads and audit.yaml alone: a CRM export with no other table."""
    out = tmp_path_factory.mktemp("leads_only")
    for f in ("leads.csv", "audit.yaml"):
        shutil.copy(small_data / f, out / f)
    return out


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    from salesaudit.data.demo import generate

    out = tmp_path_factory.mktemp("demo")
    generate(out, seed=7)
    return out


@pytest.fixture(scope="session")
def demo_truth(demo_data) -> dict:
    return json.loads((demo_data / "truth.json").read_text())


@pytest.fixture(scope="session")
def run_nb(tmp_path_factory):
    """Execute a notebook; results are memoised per (notebook, data folder, quarter, widgets).

    Cells tagged ``interactive-only`` (the sliders) are skipped, as in a report build, unless ``widgets=True``:
    executing ipywidgets cells through nbclient can stall until the cell timeout (jupyter/nbclient#312; a
    900 s stall was seen in CI), so only the tests about the sliders run them."""
    from salesaudit.report.execute import run_notebook
    from salesaudit.report.record import read_figures

    cache: dict = {}
    outdir = tmp_path_factory.mktemp("executed")

    def _run(name: str, data_dir: Path, quarter: str = "2026Q3", widgets: bool = False):
        key = (name, str(data_dir), quarter, widgets)
        if key not in cache:
            out = outdir / f"{Path(data_dir).name}-{quarter}-{Path(name).stem}{'-widgets' if widgets else ''}.ipynb"
            skip = () if widgets else ("interactive-only",)
            nb = run_notebook(name, quarter=quarter, data_dir=data_dir, out_path=out, skip_tags=skip)
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
