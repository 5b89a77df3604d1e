import nbformat
from salesaudit.report.record import figure, findings_of, read_figures


def test_read_figures_from_outputs():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"application/json": figure("win_rate", 0.25, unit="%", n=40)}),
        nbformat.v4.new_output("display_data", data={"text/plain": "hello"}),
        nbformat.v4.new_output(
            "display_data", data={"application/json": figure("finding:x", 1000.0, kind="finding", label="A")}
        ),
        nbformat.v4.new_output(
            "display_data", data={"application/json": figure("finding:y", 5000.0, kind="finding", label="B")}
        ),
    ]
    nb.cells.append(cell)
    figs = read_figures(nb)
    assert figs["win_rate"]["value"] == 0.25 and figs["win_rate"]["n"] == 40
    assert [f["name"] for f in findings_of(figs)] == ["finding:y", "finding:x"]


def test_nan_becomes_none():
    assert figure("x", float("nan"))["value"] is None
