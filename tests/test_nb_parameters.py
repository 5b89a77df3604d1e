"""Which data folder and quarter a notebook audits: injected parameter > SALESAUDIT_DATA / _QUARTER > default."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from salesaudit.report.nb import DEFAULT_DATA_DIR, DEFAULT_QUARTER, notebook_parameters

ROOT = Path(__file__).resolve().parents[1]
ENV = {"SALESAUDIT_DATA": "/srv/data/acme", "SALESAUDIT_QUARTER": "latest"}


def test_the_defaults_are_the_notebooks_literals():
    """The rule compares with the literals of the parameters cell: they must be the ones the notebooks hold."""
    nb = nbformat.read(str(ROOT / "notebooks" / "01_sales_process.ipynb"), as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert f'data_dir = "{DEFAULT_DATA_DIR}"' in params.source
    assert f'quarter = "{DEFAULT_QUARTER}"' in params.source


def test_environment_replaces_the_default_literals():
    assert notebook_parameters(DEFAULT_QUARTER, DEFAULT_DATA_DIR, ENV) == ("latest", "/srv/data/acme")


def test_injected_or_edited_values_win_over_the_environment():
    assert notebook_parameters("2025Q4", "/builds/acme", ENV) == ("2025Q4", "/builds/acme")
    # each parameter on its own: an injected folder keeps the environment's quarter, and the reverse
    assert notebook_parameters(DEFAULT_QUARTER, "/builds/acme", ENV) == ("latest", "/builds/acme")
    assert notebook_parameters("2024Q1", DEFAULT_DATA_DIR, ENV) == ("2024Q1", "/srv/data/acme")


@pytest.mark.parametrize("env", [{}, {"SALESAUDIT_DATA": "", "SALESAUDIT_QUARTER": "  "}])
def test_unset_or_empty_variables_keep_the_defaults(env):
    assert notebook_parameters(DEFAULT_QUARTER, DEFAULT_DATA_DIR, env) == (DEFAULT_QUARTER, DEFAULT_DATA_DIR)


def test_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("SALESAUDIT_DATA", "/tmp/x")
    monkeypatch.delenv("SALESAUDIT_QUARTER", raising=False)
    assert notebook_parameters(DEFAULT_QUARTER, DEFAULT_DATA_DIR) == (DEFAULT_QUARTER, "/tmp/x")


def test_every_notebook_goes_through_setup():
    """The notebooks read the variables only through nb.setup (no notebook code for it)."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        src = "\n".join(c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code")
        assert re.search(r"nb\.setup\(quarter, data_dir, config\)", src), path.name
        assert "SALESAUDIT_DATA" not in src and "environ" not in src, path.name


def test_make_lab_exports_the_folder():
    rule = re.search(r"^lab:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert rule and 'SALESAUDIT_DATA="$(abspath $(DATA))"' in rule.group(1)
    assert 'SALESAUDIT_QUARTER="$(QUARTER)"' in rule.group(1)


def test_a_build_is_not_redirected_by_the_variables(monkeypatch, tmp_path):
    """A papermill run injects its parameters, and the kernel it starts does not see the lab's variables: an
    injected quarter equal to the default literal stays what the build asked for."""
    from salesaudit.report.execute import run_notebook

    monkeypatch.setenv("SALESAUDIT_WARM_KERNELS", "0")
    monkeypatch.setenv("SALESAUDIT_DATA", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SALESAUDIT_QUARTER", "2019Q1")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(f'quarter = "{DEFAULT_QUARTER}"\ndata_dir = "{DEFAULT_DATA_DIR}"\nconfig = "a"')
    params.metadata["tags"] = ["parameters"]
    check = nbformat.v4.new_code_cell(
        "from salesaudit.report.nb import notebook_parameters\nprint(repr(notebook_parameters(quarter, data_dir)))"
    )
    nb.cells = [params, check]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, str(path))
    out = run_notebook(
        path, quarter=DEFAULT_QUARTER, data_dir=tmp_path, config="a", out_path=tmp_path / "out.ipynb", timeout=120
    )
    printed = "".join(o.get("text", "") for o in out.cells[-1].outputs)
    assert printed.strip() == repr((DEFAULT_QUARTER, str(tmp_path.resolve())))
