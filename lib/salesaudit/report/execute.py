"""Execute an audit notebook in-process with papermill's Python API and read its recorded figures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from salesaudit.config import NOTEBOOKS_DIR, PROJECT_ROOT

KERNEL = "python3"
ENGINE = "salesaudit"
TIMEOUT_ENAME = "CellTimeoutError"


def _tags(cell: Any) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []) or [])


def _timed_out_cell(nb: Any) -> int | None:
    """Index of the cell that was running when execution stopped: the last one papermill started."""
    started = [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _engine():
    """papermill's nbclient engine, plus: cells tagged with one of ``skip_tags`` are removed before the
    kernel starts (they are never executed), and a cell timeout becomes a ``PapermillExecutionError``
    naming the cell (nbclient's ``CellTimeoutError`` carries no cell index), the timed-out cell marked
    with an error output in the saved notebook."""
    import nbformat
    from nbclient.exceptions import CellTimeoutError
    from papermill.engines import NBClientEngine
    from papermill.exceptions import PapermillExecutionError

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, skip_tags=(), **kwargs):  # noqa: ANN001
            nb = nb_man.nb
            if skip_tags:
                nb.cells = [c for c in nb.cells if not (_tags(c) & set(skip_tags))]
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except CellTimeoutError:
                timeout = kwargs.get("execution_timeout")
                index = _timed_out_cell(nb)
                cell = nb.cells[index] if index is not None else None
                evalue = f"no result after {timeout} s (the cell timeout, --cell-timeout)"
                if cell is not None:
                    cell.metadata.papermill["status"] = nb_man.FAILED
                    cell.metadata.papermill["exception"] = True
                    if cell.cell_type == "code":
                        cell.setdefault("outputs", []).append(
                            nbformat.v4.new_output("error", ename=TIMEOUT_ENAME, evalue=evalue, traceback=[])
                        )
                nb.metadata.papermill["exception"] = True
                raise PapermillExecutionError(
                    index,
                    cell.get("execution_count") if cell is not None else None,
                    cell.source if cell is not None else "",
                    TIMEOUT_ENAME,
                    evalue,
                    [],
                ) from None

    return Engine


def _register_engine() -> None:
    from papermill.engines import papermill_engines

    if ENGINE not in papermill_engines._engines:
        papermill_engines.register(ENGINE, _engine())


def notebook_path(name: str | Path) -> Path:
    """``"01_sales_process"`` / ``"01_sales_process.ipynb"`` / a path → the notebook's path."""
    p = Path(name)
    if p.exists():
        return p
    stem = p.name if p.suffix == ".ipynb" else f"{p.name}.ipynb"
    return NOTEBOOKS_DIR / stem


#: seconds a kernel may take to start: papermill's 60 s is too short on a two-core machine running two test workers
#: (or two builds), where a start of 60–90 s is slow, not hung; a kernel that never starts still fails the run
KERNEL_START_TIMEOUT = 180


def run_notebook(
    name: str | Path,
    *,
    quarter: str,
    data_dir: str | Path,
    config: str = "audit.yaml",
    out_path: str | Path | None = None,
    extra_parameters: dict[str, Any] | None = None,
    timeout: int | None = 900,
    skip_tags: tuple[str, ...] | list[str] = (),
    **engine_kwargs: Any,
):
    """Execute one notebook with papermill (parameters ``quarter``, ``data_dir``, ``config``).

    Returns the executed ``NotebookNode``; written to ``out_path`` when given. Raises papermill's
    ``PapermillExecutionError`` (which names the cell and the exception) when a cell fails — also when a
    cell runs longer than ``timeout`` seconds (``ename`` ``"CellTimeoutError"``; None or 0 = no limit).
    Cells tagged with one of ``skip_tags`` (e.g. ``interactive-only``) are removed before execution: they
    never run and are absent from the executed notebook. ``engine_kwargs`` go to papermill's engine /
    nbclient (e.g. ``extra_arguments`` for the kernel).
    """
    import papermill as pm

    _register_engine()

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
        execution_timeout=timeout or None,
        start_timeout=KERNEL_START_TIMEOUT,
        engine_name=ENGINE,
        skip_tags=tuple(skip_tags),
        **engine_kwargs,
    )
