"""Warm kernels: notebooks share a running kernel but never each other's state.

A kernel is reused only after a reset (fresh namespace, history, execution counter, figures, rcParams,
pandas options, warning filters, environment, working folder); a kernel whose notebook failed is shut
down. Executing a real notebook warm gives exactly the outputs of a new kernel.
"""

from __future__ import annotations

import hashlib
import json

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError
from salesaudit.report import execute
from salesaudit.report.record import read_figures

LEAK = """\
import os, warnings, matplotlib, pandas as pd
leaked = 41
matplotlib.rcParams["lines.linewidth"] = 9.0
pd.set_option("display.max_rows", 3)
os.environ["SALESAUDIT_LEAK"] = "1"
os.chdir("/")
warnings.simplefilter("error")
print("pid", os.getpid())
"""

CHECK = """\
import os, warnings, matplotlib, pandas as pd
print("pid", os.getpid())
print("leaked" in globals(), matplotlib.rcParams["lines.linewidth"], pd.get_option("display.max_rows"),
      "SALESAUDIT_LEAK" in os.environ, os.getcwd(), ("error", None, Warning, None, 0) in warnings.filters,
      len(get_ipython().history_manager.input_hist_raw))
"""


def _notebook(tmp_path, name: str, *sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# parameters\nquarter = data_dir = config = None")]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return path


def _stdout(nb, cell: int) -> list[str]:
    return "".join(o.get("text", "") for o in nb.cells[cell].outputs if o.get("output_type") == "stream").splitlines()


def _run(path, tmp_path):
    out = tmp_path / f"{path.stem}-out.ipynb"
    return execute.run_notebook(path, quarter="2026Q3", data_dir=tmp_path, out_path=out)


@pytest.fixture
def warm(monkeypatch):
    monkeypatch.setenv("SALESAUDIT_WARM_KERNELS", "1")


def test_the_next_notebook_gets_the_same_kernel_with_a_fresh_namespace(tmp_path, warm):
    a = _run(_notebook(tmp_path, "a", LEAK), tmp_path)
    b = _run(_notebook(tmp_path, "b", CHECK), tmp_path)
    pid_a = _stdout(a, -1)[-1]
    pid_b, state = _stdout(b, -1)
    assert pid_a == pid_b  # one kernel ran both …
    default_linewidth = float(__import__("matplotlib").rcParamsDefault["lines.linewidth"])
    root = str(execute.PROJECT_ROOT)
    # … yet nothing of the first is left: variable, rcParams, pandas option, environment, folder, filter
    assert state.split(" ")[:4] == ["False", str(default_linewidth), "60", "False"]
    assert state.split(" ")[4:6] == [root, "False"]
    assert [c.execution_count for c in b.cells] == [1, 2, 3]  # papermill's injected parameters + 2 cells
    assert int(state.split(" ")[-1]) <= 4  # history restarts: only this notebook's cells


def test_a_kernel_whose_notebook_failed_is_not_reused(tmp_path, warm):
    with pytest.raises(PapermillExecutionError):
        _run(_notebook(tmp_path, "fail", "import os\nprint('pid', os.getpid())", "raise ValueError('boom')"), tmp_path)
    failed = nbformat.read(str(tmp_path / "fail-out.ipynb"), as_version=4)
    after = _run(_notebook(tmp_path, "after", CHECK), tmp_path)
    printed = [o.get("text", "") for c in failed.cells if c.cell_type == "code" for o in c.outputs]
    pid_failed = "".join(printed).splitlines()[0]
    assert pid_failed.startswith("pid ")
    assert _stdout(after, -1)[0] != pid_failed


def test_warm_and_new_kernels_give_identical_notebooks(small_data, monkeypatch):
    """Step 03 (many charts and recorded figures): every output, PNG and execution count is the same;
    ``charts=False`` records the same figures without rendering an image."""

    def signature(nb):
        out = []
        for c in nb.cells:
            if c.cell_type != "code":
                continue
            out.append(c.get("execution_count"))
            for o in c.get("outputs", []):
                for k, v in sorted(o.get("data", {}).items()):
                    v = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
                    out.append((k, hashlib.sha1(v.encode()).hexdigest()))
                if o.get("output_type") in ("stream", "error"):
                    out.append((o["output_type"], o.get("text", o.get("ename"))))
        return out

    def pngs(sig):
        return sum(isinstance(x, tuple) and x[0] == "image/png" for x in sig)

    runs = []
    # a new kernel; a warm kernel (first use); the same kernel without charts; the same kernel again
    for mode, charts in (("0", True), ("1", True), ("1", False), ("1", True)):
        monkeypatch.setenv("SALESAUDIT_WARM_KERNELS", mode)
        nb = execute.run_notebook("03_lead_quality", quarter="2026Q3", data_dir=small_data, charts=charts)
        runs.append((read_figures(nb), signature(nb)))
    cold, warm, no_charts, warm_again = runs
    assert len(cold[0]) >= 20 and pngs(cold[1]) > 3
    assert warm == cold and warm_again == cold  # the charts-off run left the next notebook's charts alone
    assert no_charts[0] == cold[0] and pngs(no_charts[1]) == 0  # the same figures, no image rendered
