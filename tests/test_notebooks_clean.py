"""Committed notebooks: outputs stripped, one literal-only `parameters` cell, no def/class."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.lstrip().startswith("# "), "needs a title"
    params = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged parameters"
    tree = ast.parse(params[0].source)
    for node in tree.body:
        assert isinstance(node, ast.Assign), "parameters cell holds assignments only"
        assert isinstance(node.value, ast.Constant), f"parameters must be literals: {ast.unparse(node)}"
    values = {t.id: n.value.value for n in tree.body for t in n.targets}
    assert {k: values.get(k) for k in ("quarter", "data_dir", "config")} == {
        "quarter": "2026Q3",
        "data_dir": "data/demo",
        "config": "audit.yaml",
    }, "parameters default to the demo company's latest quarter"
    numbered = [
        int(m.group(1)) for c in nb.cells if c.cell_type == "markdown" for m in [re.match(r"## (\d+)\.", c.source)] if m
    ]
    assert numbered == list(range(1, len(numbered) + 1)), f"sections numbered 1…n in order: {numbered}"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.get("outputs", []) == [], f"outputs not stripped: {cell.source[:40]!r}"
        assert cell.get("execution_count") is None, "execution count not cleared"
        src = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(src)):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)), (
                "no def/class in notebooks"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_nbformat(path):
    """``make format`` strips outputs but keeps what the format requires (``kernelspec.display_name``)."""
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"


#: matplotlib belongs in a step's ``view``: a notebook only displays the figures it returns
_PLOTTING = re.compile(
    r"\b(plt|ax|axes|fig|twin)\.\w+\(|\.add_subplot\(|\.subplots\(|#[0-9a-fA-F]{6}\b|import matplotlib"
)
MAX_CELL_LINES = 15


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_cells_read_like_a_report(path):
    """Issue 12's rules: no code cell longer than 15 lines, no matplotlib calls or hex colours (only
    ``display`` of a view's figure), every ``rec.record…(…)`` call on one line."""
    nb = nbformat.read(str(path), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if line.strip()]
        assert len(lines) <= MAX_CELL_LINES, f"cell {i} has {len(lines)} lines: {lines[0]!r}"
        for line in lines:
            code = line.split("#", 1)[0] if not re.search(r"#[0-9a-fA-F]{6}\b", line) else line
            assert not _PLOTTING.search(code), f"cell {i}: plotting belongs in a view: {line.strip()!r}"
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                base = node.func.value
                if isinstance(base, ast.Name) and base.id == "rec" and node.func.attr.startswith("record"):
                    assert node.lineno == node.end_lineno, (
                        f"cell {i}: a rec.{node.func.attr}(…) call over several lines"
                    )
