"""Execute an audit notebook in-process with papermill's Python API and read its recorded figures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .config import NOTEBOOKS_DIR, PROJECT_ROOT

KERNEL = "python3"


def notebook_path(name: str | Path) -> Path:
    """``"01_sales_process"`` / ``"01_sales_process.ipynb"`` / a path → the notebook's path."""
    p = Path(name)
    if p.exists():
        return p
    stem = p.name if p.suffix == ".ipynb" else f"{p.name}.ipynb"
    return NOTEBOOKS_DIR / stem


def run_notebook(
    name: str | Path,
    *,
    quarter: str,
    data_dir: str | Path,
    config: str = "audit.yaml",
    out_path: str | Path | None = None,
    extra_parameters: dict[str, Any] | None = None,
    timeout: int = 900,
    **engine_kwargs: Any,
):
    """Execute one notebook with papermill (parameters ``quarter``, ``data_dir``, ``config``).

    Returns the executed ``NotebookNode``; written to ``out_path`` when given. Raises papermill's
    ``PapermillExecutionError`` (which names the cell and the exception) when a cell fails.
    ``engine_kwargs`` go to papermill's engine / nbclient (e.g. ``extra_arguments`` for the kernel).
    """
    import papermill as pm

    src = notebook_path(name)
    params = {"quarter": str(quarter), "data_dir": str(Path(data_dir).resolve()), "config": config}
    params.update(extra_parameters or {})
    out = str(out_path) if out_path is not None else os.devnull
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return pm.execute_notebook(
        str(src),
        out,
        parameters=params,
        kernel_name=KERNEL,
        cwd=str(PROJECT_ROOT),
        progress_bar=False,
        log_output=False,
        execution_timeout=timeout,
        **engine_kwargs,
    )
