"""Execute an audit notebook in-process with papermill's Python API and read its recorded figures.

Warm kernels: a kernel is started once per process (one per notebook running at the same time), the
heavy imports done once (pandas, matplotlib, seaborn/scipy, pandera, the salesaudit steps), and every
notebook then runs through an idle warm kernel with a **fresh namespace**: before each notebook the
user namespace, IPython history and execution counter are reset, figures closed, and matplotlib's
rcParams, pandas' options, warning filters, the environment and the working folder restored to what
they were after warm-up. A kernel whose notebook failed, timed out or died is shut down, never reused.
``SALESAUDIT_WARM_KERNELS=0`` turns this off (a new kernel per notebook, as papermill does).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import threading
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
        def execute_managed_notebook(cls, nb_man, kernel_name, skip_tags=(), warm=None, **kwargs):  # noqa: ANN001
            nb = nb_man.nb
            if skip_tags:
                nb.cells = [c for c in nb.cells if not (_tags(c) & set(skip_tags))]
            try:
                if warm is not None:
                    return _execute_on(warm, nb_man, kernel_name, **kwargs)
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


#: seconds one wait for the kernel's reply lasts before it looks again (:func:`_slice_waits`)
WAIT_SLICE = 1.0


def _slice_waits(channel: Any, step: float = WAIT_SLICE) -> None:
    """Make ``channel.get_msg(timeout)`` wait in polls of at most ``step`` seconds, up to the same deadline.

    Waiting for a cell's reply is one ``await socket.poll(timeout)`` in jupyter_client; with ipywidgets'
    comm messages arriving on the same client, that poll can miss the reply that has arrived and sleep until
    the whole cell timeout (jupyter/nbclient#312, "when cell contains ipywidget, execute cell will sometimes
    block"; the fix proposed there, nbclient#311, also polls again). A new poll sees a message that is ready at
    once, so a missed wake-up costs at most ``step`` seconds; a reply that never comes still times out."""
    from queue import Empty
    from time import monotonic

    wait = channel.get_msg

    async def get_msg(timeout: float | None = None) -> dict:
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = step if deadline is None else max(0.0, min(step, deadline - monotonic()))
            try:
                return await wait(timeout=left)
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise

    channel.get_msg = get_msg


def _execute_on(warm: WarmKernel, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
    """papermill's ``NBClientEngine.execute_managed_notebook``, on the running kernel of ``warm`` (the
    client's channels are closed afterwards; the kernel is left running)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import logger
    from papermill.utils import merge_kwargs, remove_args

    start_timeout = kwargs.pop("start_timeout", 60)
    execution_timeout = kwargs.pop("execution_timeout", None)
    safe_kwargs = remove_args(["timeout", "startup_timeout", "extra_arguments", "input_path"], **kwargs)
    final_kwargs = merge_kwargs(
        safe_kwargs,
        timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
        startup_timeout=start_timeout,
        kernel_name=kernel_name,
        log=logger,
    )

    class Client(PapermillNotebookClient):
        async def async_start_new_kernel_client(self):  # noqa: ANN202
            kc = await super().async_start_new_kernel_client()
            _slice_waits(kc.shell_channel)
            _slice_waits(kc.iopub_channel)
            return kc

    client = Client(nb_man, km=warm.km, **final_kwargs)
    try:
        return client.execute()
    finally:
        if client.kc is not None:
            client.kc.stop_channels()


# --------------------------------------------------------------------------------------------------
# warm kernels
# --------------------------------------------------------------------------------------------------
#: modules every notebook imports: imported once when a warm kernel starts
WARM_IMPORTS = (
    "numpy",
    "pandas",
    "matplotlib.pyplot",
    "seaborn",
    "scipy.stats",
    "pandera",
    "IPython.display",
    "salesaudit",
    "salesaudit.report.nb",
    "salesaudit.report.record",
    "salesaudit.report.sections",
    "salesaudit.report.summary",
    "salesaudit.steps.process",
    "salesaudit.steps.tools",
    "salesaudit.steps.leads",
    "salesaudit.steps.reporting",
    "salesaudit.steps.sales",
    "salesaudit.steps.service",
    "salesaudit.steps.planning",
)

#: run (silently, outside the history) once in a new kernel: the imports, then a snapshot of the state
#: that :data:`_RESET_CODE` restores before each notebook
_WARM_UP_CODE = """
import importlib as __il, sys as __sys
for __m in {imports!r}:
    __il.import_module(__m)
def __salesaudit_snapshot():
    import copy, os, warnings, matplotlib
    return {{
        "rc": {{k: v for k, v in matplotlib.rcParams.items() if k != "backend"}},
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "warnings": list(warnings.filters),
        "path": list(__sys.path),
    }}
__il.import_module("salesaudit.report.execute")._KERNEL_STATE = __salesaudit_snapshot()
del __il, __m, __salesaudit_snapshot
"""

_RESET_CODE = """
def __salesaudit_reset():
    import os, sys, warnings, matplotlib, matplotlib.pyplot as plt, pandas as pd
    from IPython import get_ipython
    from salesaudit.report.execute import _KERNEL_STATE as state
    plt.close("all")
    get_ipython().reset(new_session=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.rcParams.update(state["rc"])
        pd.reset_option("all")
    warnings.filters[:] = state["warnings"]
    os.environ.clear()
    os.environ.update(state["env"])
    os.chdir(state["cwd"])
    sys.path[:] = state["path"]
    saved = state.pop("charts_off", None)
    if saved:  # undo _CHARTS_OFF_CODE: the figure printers the notebook before us replaced
        from matplotlib.figure import Figure
        formatters = get_ipython().display_formatter.formatters
        for mime, printer in saved.items():
            formatters[mime].type_printers.pop(Figure, None)
            if printer is not None:
                formatters[mime].for_type(Figure, printer)
__salesaudit_reset()
"""

#: run after the reset when a notebook's charts are not wanted (figures only): ``display(fig)`` then
#: renders no image (matplotlib's figure printers answer None); the next reset restores the printers
_CHARTS_OFF_CODE = """
def __salesaudit_charts_off():
    from IPython import get_ipython
    from matplotlib.figure import Figure
    from salesaudit.report.execute import _KERNEL_STATE as state
    formatters = get_ipython().display_formatter.formatters
    saved = {}
    for mime in ("image/png", "image/jpeg", "image/svg+xml", "application/pdf"):
        saved[mime] = formatters[mime].type_printers.get(Figure)
        formatters[mime].for_type(Figure, lambda fig: None)
    state["charts_off"] = saved
__salesaudit_charts_off()
"""

#: variables that change while a process runs without changing what a kernel computes
_ENV_NOT_KEYED = frozenset({"PYTEST_CURRENT_TEST"})

_KERNEL_STATE: dict[str, Any] = {}  # filled inside a kernel by _WARM_UP_CODE


def warm_kernels_enabled() -> bool:
    return os.environ.get("SALESAUDIT_WARM_KERNELS", "1").strip().lower() not in ("0", "false", "no", "off")


class WarmKernel:
    """One running kernel, its heavy imports done. Use it from one thread at a time."""

    def __init__(self, kernel_name: str, extra_arguments: list[str], cwd: str, start_timeout: float) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.km = AsyncKernelManager(kernel_name=kernel_name)
        run_sync(self.km.start_kernel)(extra_arguments=list(extra_arguments), cwd=cwd)
        self.runs = 0
        try:
            self._run(_WARM_UP_CODE.format(imports=WARM_IMPORTS), timeout=start_timeout)
        except BaseException:
            self.shutdown()
            raise

    def _run(self, code: str, timeout: float) -> None:
        """Execute ``code`` silently (nothing stored in the history, no output); raise if it fails."""
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(self.km.get_connection_info())
        kc.start_channels(hb=False)  # no heartbeat: on a loaded machine a late beat reads as a dead kernel
        try:
            kc.wait_for_ready(timeout=timeout)
            reply = kc.execute_interactive(
                code, silent=True, store_history=False, timeout=timeout, output_hook=lambda msg: None
            )
        finally:
            kc.stop_channels()
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"warm kernel: {content.get('ename', 'error')}: {content.get('evalue', '')}")

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:  # noqa: BLE001 — a kernel we cannot ask is not reused
            return False

    def reset(self, timeout: float = 120) -> None:
        """A fresh namespace, as in a new kernel (see the module docstring)."""
        self._run(_RESET_CODE, timeout=timeout)

    def charts_off(self, timeout: float = 60) -> None:
        """Until the next :meth:`reset`, figures displayed in this kernel render no image."""
        self._run(_CHARTS_OFF_CODE, timeout=timeout)

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001, S110 — already gone
            pass


class KernelPool:
    """Idle warm kernels of this process, by kernel name, arguments, working folder and environment
    (a kernel inherits the environment when it starts: a changed ``SALESAUDIT_CACHE`` or ``PYTHONPATH``
    needs a new one). At most ``max_idle`` idle kernels are kept per key; all are shut down at exit."""

    def __init__(self, max_idle: int | None = None) -> None:
        self.max_idle = max_idle or max(1, os.cpu_count() or 1)
        self._idle: dict[str, list[WarmKernel]] = {}
        self._lock = threading.Lock()
        self.started = 0

    @staticmethod
    def key(kernel_name: str, extra_arguments: list[str], cwd: str) -> str:
        env = json.dumps(sorted((k, v) for k, v in os.environ.items() if k not in _ENV_NOT_KEYED))
        raw = json.dumps([kernel_name, list(extra_arguments), cwd, env])
        return hashlib.sha256(raw.encode()).hexdigest()

    def acquire(
        self, kernel_name: str, extra_arguments: list[str], cwd: str, start_timeout: float
    ) -> tuple[str, WarmKernel]:
        key = self.key(kernel_name, extra_arguments, cwd)
        while True:
            with self._lock:
                kernel = self._idle.get(key, []).pop() if self._idle.get(key) else None
            if kernel is None:
                with self._lock:
                    self.started += 1
                return key, WarmKernel(kernel_name, extra_arguments, cwd, start_timeout)
            if kernel.alive():
                try:
                    kernel.reset()
                    return key, kernel
                except Exception:  # noqa: BLE001 — a kernel that cannot be reset is replaced
                    pass
            kernel.shutdown()

    def release(self, key: str, kernel: WarmKernel, healthy: bool) -> None:
        kernel.runs += 1
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if healthy and len(idle) < self.max_idle:
                idle.append(kernel)
                return
        kernel.shutdown()

    def shutdown(self) -> None:
        with self._lock:
            kernels = [k for ks in self._idle.values() for k in ks]
            self._idle.clear()
        for k in kernels:
            k.shutdown()


POOL = KernelPool()
atexit.register(POOL.shutdown)


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
    charts: bool = True,
    **engine_kwargs: Any,
):
    """Execute one notebook with papermill (parameters ``quarter``, ``data_dir``, ``config``).

    Returns the executed ``NotebookNode``; written to ``out_path`` when given. Raises papermill's
    ``PapermillExecutionError`` (which names the cell and the exception) when a cell fails — also when a
    cell runs longer than ``timeout`` seconds (``ename`` ``"CellTimeoutError"``; None or 0 = no limit).
    Cells tagged with one of ``skip_tags`` (e.g. ``interactive-only``) are removed before execution: they
    never run and are absent from the executed notebook. ``engine_kwargs`` go to papermill's engine /
    nbclient (e.g. ``extra_arguments`` for the kernel). ``charts=False`` (figures only, e.g. the previous
    quarter's comparison) skips rendering chart images — in a warm kernel; a new kernel renders them.
    """
    import papermill as pm

    _register_engine()

    src = notebook_path(name)
    params = {"quarter": str(quarter), "data_dir": str(Path(data_dir).resolve()), "config": config}
    params.update(extra_parameters or {})
    out = str(out_path) if out_path is not None else os.devnull
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # a run audits the parameters it injects: `make lab`'s variables (salesaudit.report.nb.notebook_parameters)
    # would redirect an injected default-valued quarter or folder, so the kernels started from here lack them
    for var in ("SALESAUDIT_DATA", "SALESAUDIT_QUARTER"):
        os.environ.pop(var, None)
    kwargs = dict(
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
    if not warm_kernels_enabled():
        return pm.execute_notebook(str(src), out, **kwargs)
    args = list(engine_kwargs.get("extra_arguments") or [])
    key, warm = POOL.acquire(KERNEL, args, str(PROJECT_ROOT), KERNEL_START_TIMEOUT)
    healthy = False
    try:
        if not charts:
            warm.charts_off()
        nb = pm.execute_notebook(str(src), out, warm=warm, **kwargs)
        healthy = warm.alive()
        return nb
    finally:
        POOL.release(key, warm, healthy)
