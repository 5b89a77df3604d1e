"""The key under which an executed notebook is reused (salesaudit.report.reuse): what changes it, what does not."""

from __future__ import annotations

import datetime as dt

import nbformat
import pytest
from salesaudit.report import reuse


def _write(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = cells
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def notebook(tmp_path):
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    return _write(
        tmp_path / "01_x.ipynb",
        [md("# Title"), code("quarter = 'latest'", metadata={"tags": ["parameters"]}), code("x = 1")],
    )


def _key(path, params=None, **kw):
    kw.setdefault("today", dt.date(2026, 12, 1))
    return reuse.notebook_key(path, params or {"quarter": "2026Q3"}, data_key="d1", **kw)


def test_key_follows_cells_params_data_inputs_charts_and_date(notebook, tmp_path):
    base = _key(notebook)
    assert _key(notebook) == base  # deterministic
    assert _key(notebook, {"quarter": "2026Q2"}) != base
    assert reuse.notebook_key(notebook, {"quarter": "2026Q3"}, data_key="d2", today=dt.date(2026, 12, 1)) != base
    assert _key(notebook, charts=False) != base
    assert _key(notebook, today=dt.date(2026, 12, 2)) != base  # "today" is a default of the extraction date
    assert _key(notebook, skip_tags=("interactive-only",)) != base
    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells[2].metadata["tags"] = ["report-only"]
    assert _key(_write(tmp_path / "tags.ipynb", nb.cells)) != base
    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells[0].source = "# Another title"
    assert _key(_write(tmp_path / "md.ipynb", nb.cells)) != base


def test_key_ignores_outputs_counts_and_where_the_notebook_is(notebook, tmp_path):
    base = _key(notebook)
    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[2].execution_count = 7
    assert _key(_write(tmp_path / "elsewhere.ipynb", nb.cells)) == base


def test_an_input_file_counts_by_its_content_not_its_path(notebook, tmp_path):
    a, b = tmp_path / "build-a" / "figs.json", tmp_path / "build-b" / "figs.json"
    for p in (a, b):
        p.parent.mkdir()
        p.write_text('{"figures": {"01": {"leads": 10}}}')
    key_a = _key(notebook, {"quarter": "2026Q3", "figures_path": str(a)}, inputs=[a])
    assert _key(notebook, {"quarter": "2026Q3", "figures_path": str(b)}, inputs=[b]) == key_a
    b.write_text('{"figures": {"01": {"leads": 11}}}')
    assert _key(notebook, {"quarter": "2026Q3", "figures_path": str(b)}, inputs=[b]) != key_a


def test_store_lookup_and_keep_the_newest(notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("SALESAUDIT_CACHE", str(tmp_path / "cache"))
    assert reuse.lookup("d1", "01_x", "k0") is None
    for i in range(reuse.KEEP + 2):
        reuse.store("d1", "01_x", f"k{i}", notebook)
    kept = sorted(p.name for p in (tmp_path / "cache" / "d1" / "executed").glob("*.ipynb"))
    assert len(kept) == reuse.KEEP and reuse.lookup("d1", "01_x", f"k{reuse.KEEP + 1}") is not None
    assert reuse.lookup("d1", "01_x", f"k{reuse.KEEP + 1}").read_bytes() == notebook.read_bytes()


def test_reuse_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("SALESAUDIT_REUSE", "0")
    assert not reuse.reuse_enabled()
    monkeypatch.setenv("SALESAUDIT_REUSE", "1")
    assert reuse.reuse_enabled()
