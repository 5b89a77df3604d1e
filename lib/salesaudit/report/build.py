"""``python -m salesaudit report``: build the quarterly report (executed notebooks, HTML, PDF, summary.json).

Phases (timed, printed at the end):

1. **validate** — ``io.load`` validates the data and caches it as Parquet, once; bad data stops here
   (``DataContractError`` → one line per problem, exit 2).
2. **execute** — every ``notebooks/NN_*.ipynb`` except ``00_*`` runs with papermill's Python API in a
   thread pool (``--workers`` = the number of cores; each thread's notebooks run in a warm kernel with
   a fresh namespace, see :mod:`salesaudit.report.execute`), with a tqdm bar naming the notebooks running.
3. **compare** — the previous quarter's figures: ``reports/<prev Q>/summary.json`` when it was built
   from the same data, else the step notebooks executed for the previous quarter (figures only, cached
   under the loader cache keyed by data, notebooks and code, so a warm build skips it). ``--no-compare``
   skips this phase.
4. **summary** — ``00_executive_summary`` runs last, given the step figures and the previous quarter's.
5. **html** — one self-contained document: cover, contents, one section per notebook; code hidden,
   ``interactive-only`` cells removed, no script, images embedded as base64.
6. **pdf** — WeasyPrint renders that HTML with CSS paged media (A4 or letter).

The build happens in ``reports/.build-*`` and replaces ``reports/<Q>/`` only on success. When a notebook
fails, ``reports/<Q>/`` is left untouched, the executed notebooks go to ``reports/.failed/<Q>/`` and the
error names the notebook, the cell and the exception. Format of ``summary.json``: ``docs/report.md``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import errno
import functools
import hashlib
import html as htmllib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from salesaudit.config import NOTEBOOKS_DIR, REPORTS_DIR, resolve_data_dir
from salesaudit.data.coverage import audit_quarter
from salesaudit.data.io import AuditData, cache_root, load
from salesaudit.errors import DataContractError, os_error_line
from salesaudit.periods import Quarter
from salesaudit.report import summary as summ
from salesaudit.report.evidence import unlinked_for_print, write_evidence
from salesaudit.report.pdf import (
    finish_worker,
    start_worker,
    write_pdf,  # noqa: F401  (build.write_pdf: the tests use it)
    write_report_pdf,
)
from salesaudit.report.record import read_figures
from salesaudit.report.reuse import reuse_enabled
from salesaudit.text import mask_contacts

log = logging.getLogger(__name__)

PHASES = ("validate", "execute", "compare", "summary", "html", "pdf", "scorecards")
PAPERS = {"a4": "A4", "letter": "letter"}
SUMMARY_PREFIX = "00_"
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]  # keep the kernels' start-up chatter off the terminal
INTERACTIVE_TAG = "interactive-only"
CELL_TIMEOUT = 600  # seconds a cell may run before the build fails (--cell-timeout)
STALE_AFTER = 24 * 3600  # a build folder without an owner file older than this is abandoned
OWNER_FILE = ".builder.json"
_FIGURE_TEXT = re.compile(r"['\"]salesaudit_figure['\"]\s*:")


# --------------------------------------------------------------------------------------------------
# errors and results
# --------------------------------------------------------------------------------------------------
class ReportError(Exception):
    """The report could not be built; the message says why (and what was kept for inspection)."""


@dataclass
class NotebookFailure:
    """One notebook that failed: its name, the cell, the exception's message."""

    notebook: str
    message: str
    cell: int | None = None
    exec_count: int | None = None
    source: str = ""

    def describe(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "while starting"
        if self.exec_count is not None:
            where += f" (In [{self.exec_count}])"
        first = next((ln.strip() for ln in self.source.splitlines() if ln.strip()), "")
        code = f", code `{first[:80]}`" if first else ""
        return f"notebook {self.notebook}: {where}{code} failed: {self.message}"


class NotebooksFailed(Exception):
    def __init__(self, failures: list[NotebookFailure]):
        self.failures = failures
        super().__init__("; ".join(f.describe() for f in failures))


@dataclass
class BuildResult:
    """What a build produced and how long each phase took (seconds)."""

    quarter: str
    out_dir: Path
    html: Path
    pdf: Path | None
    summary: Path
    timings: dict[str, float] = field(default_factory=dict)
    comparison_source: str | None = None
    notebook_seconds: dict[str, float] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)  # notebooks not executed: inputs unchanged (report/reuse.py)


@dataclass(frozen=True)
class DataInfo:
    """What the runner needs to know about a validated data folder (the tables themselves stay in the
    kernels: the runner does not keep a million-lead frame in memory while they run)."""

    data_dir: Path
    config: Any
    cache_key: str
    first: Any
    last: Any
    n_leads: int
    cache_bytes: int = 0
    coverage: Any = None
    slice: Any = None  # a salesaudit.data.slices.Slice when this is a slice's data folder
    origin: Path | None = None  # the data folder the slice was cut from
    slice_note: str = ""  # what the slice leaves out (salesaudit.data.slices.not_sliced_note)

    @classmethod
    def of(cls, data: AuditData | DataInfo) -> DataInfo:
        if isinstance(data, DataInfo):
            return data
        first, last = data.date_range()
        folder = cache_root() / data.cache_key
        size = sum(p.stat().st_size for p in folder.glob("*.parquet")) if folder.is_dir() else 0
        return cls(data.data_dir, data.config, data.cache_key, first, last, len(data.leads), size, data.coverage)

    def date_range(self) -> tuple[Any, Any]:
        return self.first, self.last


def _validate_here(data_dir: str, config: str) -> DataInfo:
    from salesaudit.data.io import clear_memo

    info = DataInfo.of(load(resolve_data_dir(data_dir), config))
    clear_memo()
    return info


def validate(data_dir: str | Path, config: str = "audit.yaml") -> DataInfo:
    """Validate and cache the data once (``DataContractError`` on bad data); keep only its description.

    On Linux the loading happens in a forked child process, so the memory it took (gigabytes at a million
    leads) goes back to the system before the kernels start; the kernels read the Parquet cache.
    """
    import multiprocessing as mp

    if sys.platform != "linux" or threading.active_count() > 1:
        return _validate_here(str(data_dir), config)
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork")) as pool:
        return pool.submit(_validate_here, str(data_dir), config).result()


#: Memory of one kernel ≈ base + factor × size of the validated Parquet cache (measured on the demo
#: company at 60k and 1M leads: about 2.6 GB for a 108 MB cache).
KERNEL_BASE_GB = 0.35
KERNEL_PER_CACHE_BYTE = 25.0
RUNNER_GB = 0.3


def kernel_memory_gb(cache_bytes: int) -> float:
    """Estimated peak memory of one notebook kernel for data whose Parquet cache has ``cache_bytes``."""
    return KERNEL_BASE_GB + KERNEL_PER_CACHE_BYTE * cache_bytes / 1e9


def auto_workers(cache_bytes: int, max_memory_gb: float | None, cores: int | None = None) -> int:
    """Notebooks to run at once: one per core, fewer when that would exceed ``max_memory_gb`` in total."""
    cores = cores or os.cpu_count() or 1
    if not max_memory_gb:
        return cores
    fit = int((max_memory_gb - RUNNER_GB) // kernel_memory_gb(cache_bytes))
    return max(1, min(cores, fit))


class Timer:
    """Wall time per named phase."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - t0


# --------------------------------------------------------------------------------------------------
# notebooks, quarters
# --------------------------------------------------------------------------------------------------
def discover_notebooks(folder: str | Path) -> tuple[list[Path], Path | None]:
    """``(step notebooks in order, executive summary or None)`` among ``folder/NN_*.ipynb``."""
    nbs = sorted(p for p in Path(folder).glob("[0-9][0-9]_*.ipynb") if p.is_file())
    steps = [p for p in nbs if not p.name.startswith(SUMMARY_PREFIX)]
    summary = next((p for p in nbs if p.name.startswith(SUMMARY_PREFIX)), None)
    return steps, summary


def complete_quarters(data: AuditData | DataInfo) -> list[Quarter]:
    """Every quarter the leads cover from start to end (first and last within the completeness tolerance)."""
    return data.coverage.complete_quarters()


def resolve_quarter(data: AuditData | DataInfo, label: str | None) -> Quarter:
    """``"latest"``/None → latest complete quarter of the leads; else the parsed label (see
    :func:`salesaudit.data.coverage.audit_quarter`)."""
    return audit_quarter(data.coverage, label)


def _failure_from(name: str, exc: BaseException) -> NotebookFailure:
    ename = getattr(exc, "ename", None)
    if ename is not None:  # papermill.PapermillExecutionError
        evalue = str(getattr(exc, "evalue", "")).strip()
        return NotebookFailure(
            name,
            f"{ename}: {evalue}" if evalue else ename,
            getattr(exc, "cell_index", None),
            getattr(exc, "exec_count", None),
            getattr(exc, "source", "") or "",
        )
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return NotebookFailure(name, f"{exc.__class__.__name__}: {msg}" if msg else exc.__class__.__name__)


def execute_notebooks(
    notebooks: list[Path],
    *,
    quarter: str,
    data_dir: Path,
    config: str,
    out_dir: Path | None,
    workers: int,
    progress: bool = True,
    desc: str = "",
    extra_parameters: dict[str, Any] | None = None,
    durations: dict[str, float] | None = None,
    cell_timeout: int | None = CELL_TIMEOUT,
    charts: bool = True,
    reuse: str | None = None,
    inputs: list[Path] | None = None,
    reused: list[str] | None = None,
) -> dict[str, dict[str, dict]]:
    """Execute notebooks in parallel (threads; each runs its own kernel) → ``{stem: {figure: payload}}``.

    Executed notebooks are written to ``out_dir`` (not kept when None). Cells tagged ``interactive-only``
    are not executed (removed before the kernel starts; the report drops them anyway). A cell running
    longer than ``cell_timeout`` seconds fails its notebook (None/0 = no limit). Raises
    :class:`NotebooksFailed` listing every notebook that failed; notebooks not yet started are then
    cancelled. The wall time of each notebook (kernel start-up included) is put in ``durations`` when given.
    ``charts=False``: chart images are not rendered (figures only; :func:`execute.run_notebook`).

    ``reuse`` (the validated data's key): a notebook whose inputs are unchanged since it was last executed is
    not executed again; its stored executed copy is used (:mod:`salesaudit.report.reuse`, which names everything
    the key covers; ``inputs`` are further files the notebooks read). The stems reused are appended to
    ``reused``; their times are not put in ``durations``.
    """
    from tqdm.auto import tqdm

    from salesaudit.report import reuse as reuse_mod
    from salesaudit.report.execute import run_notebook

    warnings.filterwarnings("ignore", message="the file is not specified with any extension")  # out_path=/dev/null
    results: dict[str, dict[str, dict]] = {}
    failures: list[NotebookFailure] = []
    running: list[str] = []
    lock = threading.Lock()
    bar = tqdm(
        total=len(notebooks),
        desc=desc or f"{quarter} notebooks",
        unit="nb",
        disable=not progress,
        file=sys.stderr,
        leave=True,
        dynamic_ncols=True,
    )

    def show() -> None:
        bar.set_postfix_str(("running " + ", ".join(running)) if running else "done", refresh=True)

    def task(path: Path) -> dict[str, dict]:
        with lock:
            running.append(path.stem)
            show()
        t0 = time.perf_counter()
        hit = False
        try:
            out = (out_dir / path.name) if out_dir is not None else None
            key = None
            if reuse:
                params = {"quarter": str(quarter), "data_dir": str(Path(data_dir).resolve()), "config": config}
                params.update(extra_parameters or {})
                key = reuse_mod.notebook_key(
                    path, params, data_key=reuse, inputs=inputs or (), charts=charts, skip_tags=(INTERACTIVE_TAG,)
                )
                stored = reuse_mod.lookup(reuse, path.stem, key)
                if stored is not None:
                    if out is not None:
                        shutil.copyfile(stored, out)
                    hit = True
                    return read_figures(json.loads(stored.read_text(encoding="utf-8")))  # nbformat.read: 1 s
            nb = run_notebook(
                path,
                quarter=quarter,
                data_dir=data_dir,
                config=config,
                out_path=out,
                extra_parameters=extra_parameters,
                extra_arguments=KERNEL_ARGS,
                timeout=cell_timeout,
                skip_tags=(INTERACTIVE_TAG,),
                charts=charts,
            )
            if key is not None:
                reuse_mod.store(reuse, path.stem, key, out if out is not None else nb)
            return read_figures(nb)
        finally:
            with lock:
                if hit:
                    if reused is not None:
                        reused.append(path.stem)
                elif durations is not None:
                    durations[path.stem] = time.perf_counter() - t0
                running.remove(path.stem)
                bar.set_postfix_str(("running " + ", ".join(running)) if running else "done", refresh=False)
                bar.update(1)

    try:
        with cf.ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="nb") as pool:
            futures = {pool.submit(task, p): p for p in longest_first(notebooks)}
            for fut in cf.as_completed(futures):
                path = futures[fut]
                if fut.cancelled():
                    continue
                exc = fut.exception()
                if exc is None:
                    results[path.stem] = fut.result()
                else:
                    failures.append(_failure_from(path.name, exc))
                    for other in futures:
                        other.cancel()
    finally:
        bar.close()
    if failures:
        raise NotebooksFailed(sorted(failures, key=lambda f: f.notebook))
    if durations is not None:
        remember_seconds(durations)
    return {k: results[k] for k in sorted(results)}


#: seconds a notebook is assumed to take before one was measured on this machine: the spend-planning notebook
#: (its backtest) is the longest, then the funnel and content steps
DEFAULT_SECONDS = {"07_spend_planning": 16.0, "02_tools_and_content": 12.0, "01_sales_process": 12.0}


def _seconds_file() -> Path:
    return cache_root() / "notebook-seconds.json"


def longest_first(notebooks: list[Path]) -> list[Path]:
    """The notebooks in the order to start them: longest first by the last build's wall times on this machine
    (``<cache>/notebook-seconds.json``; :data:`DEFAULT_SECONDS` before any), so no worker is left running the
    longest notebook alone at the end (longest-processing-time-first scheduling); ties by name."""
    try:
        known = json.loads(_seconds_file().read_text(encoding="utf-8"))
        known = {str(k): float(v) for k, v in known.items()} if isinstance(known, dict) else {}
    except (OSError, ValueError, TypeError):
        known = {}
    est = lambda p: known.get(p.stem, DEFAULT_SECONDS.get(p.stem, 5.0))  # noqa: E731
    return sorted(notebooks, key=lambda p: (-est(p), p.name))


def remember_seconds(durations: dict[str, float]) -> None:
    """Keep the notebooks' wall times for :func:`longest_first` (merged with earlier ones; a cache that cannot be
    written only costs the order)."""
    path = _seconds_file()
    try:
        known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    known.update({k: round(float(v), 2) for k, v in durations.items()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(known, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


# --------------------------------------------------------------------------------------------------
# previous quarter
# --------------------------------------------------------------------------------------------------
def _code_fingerprint(notebooks: list[Path]) -> str:
    """Hash of the step notebooks and the package's code (but the runner's own modules, which do not
    change a step's figures): computed figures are reused only when equal."""
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parents[1]
    own = {"report/build.py", "report/summary.py", "report/lint.py", "cli.py", "__main__.py"}
    code = sorted(q for q in pkg.rglob("*.py") if q.relative_to(pkg).as_posix() not in own)
    for p in sorted(notebooks) + code:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _same_source(doc_path: Path, data: DataInfo) -> bool:
    """The report in ``doc_path`` was built from the same data folder, company and slice (the full audit's
    figures are never compared with a slice's, nor one slice's with another's)."""
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    folder = str(data.origin or data.data_dir)
    doc_slice = doc.get("slice") if isinstance(doc.get("slice"), dict) else {}
    same_slice = doc_slice.get("slug") == (data.slice.slug if data.slice is not None else None)
    return doc.get("data_dir") in ("", None, folder) and doc.get("company") == data.config.company and same_slice


def comparison_steps(steps: list[Path]) -> list[Path]:
    """The step notebooks that record a headline figure (:data:`summary.HEADLINE`, each figure's notebook from
    the registry, :mod:`salesaudit.report.figures`): the previous quarter is compared on those figures only, so
    only these notebooks run for it (02 and 03 record none)."""
    from salesaudit.report.figures import lookup

    wanted = {d.step for d in (lookup(name) for name, _label, _hib in summ.HEADLINE) if d is not None}
    return [p for p in steps if p.stem in wanted]


def previous_quarter_figures(
    data: DataInfo,
    quarter: Quarter,
    steps: list[Path],
    *,
    reports_dir: Path,
    config: str,
    workers: int,
    progress: bool,
    cell_timeout: int | None = CELL_TIMEOUT,
) -> tuple[dict[str, dict[str, dict]], str | None, str | None]:
    """``(figures, source, warning)`` of the quarter before ``quarter``.

    From ``reports/<prev>/summary.json`` when built from the same data; else by executing the step
    notebooks that record a headline figure (:func:`comparison_steps`) for the previous quarter (figures only,
    no chart rendered), cached by data, notebooks and code; ``{}`` when
    the previous quarter is not covered by the data or its notebooks fail (``warning`` says why).
    """
    prev = quarter.previous()
    existing = reports_dir / prev.label / (data.slice.slug if data.slice is not None else "") / "summary.json"
    if existing.is_file() and _same_source(existing, data):
        return summ.read_figures_file(existing), str(existing), None
    if not data.coverage.is_complete(prev):
        return {}, None, None  # the leads do not cover the previous quarter: nothing to compare with
    steps = comparison_steps(steps)
    if not steps:
        return {}, None, None
    cache = cache_root() / "figures" / f"{data.cache_key}-{_code_fingerprint(steps)}" / f"{prev.label}.json"
    if cache.is_file():
        return summ.read_figures_file(cache), f"computed (cached {cache})", None
    try:
        figs = execute_notebooks(
            steps,
            quarter=prev.label,
            data_dir=data.data_dir,
            config=config,
            out_dir=None,
            workers=workers,
            progress=progress,
            desc=f"{prev.label} figures (for comparison)",
            cell_timeout=cell_timeout,
            charts=False,  # only the figures are kept: no chart is rendered
        )
    except NotebooksFailed as exc:
        return {}, None, f"could not compute {prev.label} for the comparison ({exc})"
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps({"quarter": prev.label, "figures": figs}), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError as exc:  # a read-only cache only costs time
        log.warning("could not cache %s figures (%s)", prev.label, exc)
    return figs, "computed", None


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------
def clean_notebook(nb: Any) -> Any:
    """A copy of an executed notebook ready for the report (the argument is not changed).

    Removes cells tagged ``interactive-only``, stderr streams (warnings), widget views (their
    ``report-only`` counterpart carries the content), recorded-figure payloads (``application/json``
    and their echoed ``text/plain``), code cells left without output, and the widget state.
    """
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        if INTERACTIVE_TAG in tags:
            continue
        if cell.cell_type == "code":
            outputs = []
            for o in cell.get("outputs", []) or []:
                kind = o.get("output_type")
                if kind == "stream" and o.get("name") == "stderr":
                    continue
                if kind in ("display_data", "execute_result"):
                    data = dict(o.get("data", {}))
                    special = any(k in data for k in ("application/json", "application/vnd.jupyter.widget-view+json"))
                    data.pop("application/json", None)
                    data.pop("application/vnd.jupyter.widget-view+json", None)
                    plain = data.get("text/plain", "")
                    plain = "".join(plain) if isinstance(plain, list) else str(plain)
                    if _FIGURE_TEXT.search(plain):
                        data.pop("text/plain", None)
                    if special and set(data) <= {"text/plain"}:
                        data = {}
                    if not data:
                        continue
                    o = copy.deepcopy(o)
                    o["data"] = _masked(data)
                elif kind == "stream":
                    o = copy.deepcopy(o)
                    o["text"] = mask_contacts(
                        o.get("text", "") if isinstance(o.get("text"), str) else "".join(o["text"])
                    )
                outputs.append(o)
            if not outputs:
                continue
            cell["outputs"] = outputs
        cells.append(cell)
    nb.cells = cells
    return nb


_HEADING = re.compile(r'<h([1-6])(?: id="([^"]*)")?>(.*?)</h\1>', re.S)
_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="[^"]*">¶</a>')
_TAGS = re.compile(r"<[^>]+>")
_NUMBERED = re.compile(r"^\s*(\d+)\s*[.)]")


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")[:60] or "s"


_EXPORTER_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _html_exporter() -> Any:
    """One nbconvert HTML exporter per process (building one loads and compiles its 48 Jinja templates, ≈ 0.5 s;
    the report converts eight notebooks). Used under :data:`_EXPORTER_LOCK`: an exporter is not thread-safe."""
    from nbconvert import HTMLExporter

    quiet = logging.getLogger("salesaudit.report.build.nbconvert")
    quiet.setLevel(logging.ERROR)  # nbconvert warns about charts without alt text; notebook_section sets it
    return HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, log=quiet
    )


def notebook_section(nb: Any, stem: str) -> tuple[str, str, list[tuple[int, str, str]]]:
    """``(title, body HTML, headings)`` of one executed notebook, for the combined report.

    Code is hidden; the first ``#`` heading gets the id ``<stem>``, each ``## k. …`` heading the id
    ``<stem>-k`` (what findings link to), other headings ``<stem>--<slug>``. ``headings`` lists
    ``(level, id, text)`` for the table of contents.
    """
    with _EXPORTER_LOCK:
        body, _ = _html_exporter().from_notebook_node(clean_notebook(nb))
    body = _ANCHOR_LINK.sub("", body)
    body = re.sub(r' id="cell-id=[^"]*"', "", body)
    body = body.replace('alt="No description has been provided for this image"', 'alt="chart"')
    headings: list[tuple[int, str, str]] = []
    used: set[str] = set()
    title: list[str] = []

    def fix(m: re.Match) -> str:
        level, inner = int(m.group(1)), m.group(3)
        plain = htmllib.unescape(_TAGS.sub("", inner)).strip()
        num = _NUMBERED.match(plain)
        if level == 1 and not title:
            hid = stem
            title.append(plain)
        elif level == 2 and num and f"{stem}-{num.group(1)}" not in used:
            hid = f"{stem}-{num.group(1)}"
        else:
            hid = f"{stem}--{_slug(plain)}"
            while hid in used:
                hid += "-x"
        used.add(hid)
        if level <= 2:
            headings.append((level, hid, plain))
        return f'<h{level} id="{hid}">{inner}</h{level}>'

    body = _HEADING.sub(fix, body)
    if not title:
        name = stem.replace("_", " ")
        title.append(name)
        headings.insert(0, (1, stem, name))
        body = f'<h1 id="{stem}">{htmllib.escape(name)}</h1>\n' + body
    return title[0], mark_long_tables(strip_external(body)), headings


_TABLE_OPEN = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.S | re.I)
_ROW = re.compile(r"<tr\b.*?</tr>", re.S | re.I)
LONG_TABLE_ROWS = 18
WIDE_TABLE_COLUMNS = 10


def _add_class(attrs: str, name: str) -> str:
    if re.search(r'class="', attrs):
        return re.sub(r'class="', f'class="{name} ', attrs, count=1)
    return attrs + f' class="{name}"'


def mark_long_tables(html: str, max_rows: int = LONG_TABLE_ROWS, max_columns: int = WIDE_TABLE_COLUMNS) -> str:
    """Class tables for print: ``long`` (more than ``max_rows`` rows) may run over a page break (between
    rows, header repeated), shorter ones stay whole on one page; ``wide`` (more than ``max_columns``
    cells in a row) get a smaller font so they fit the page width."""

    def fix(m: re.Match) -> str:
        attrs, inner = m.group(1), m.group(2)
        if inner.count("<tr") > max_rows:
            attrs = _add_class(attrs, "long")
        columns = max((len(re.findall(r"<t[hd]\b", r)) for r in _ROW.findall(inner)), default=0)
        if columns > max_columns:
            attrs = _add_class(attrs, "wide")
        return f"<table{attrs}>{inner}</table>"

    return _TABLE_OPEN.sub(fix, html)


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*>", re.I)


def strip_external(html: str) -> str:
    """Remove every ``<script>`` element and ``<link>`` tag: the report is static and self-contained."""
    return _EXTERNAL_LINK.sub("", _SCRIPT.sub("", html))


def _masked(data: dict) -> dict:
    """Text outputs with e-mail addresses and phone numbers masked (tables quote free text: campaign names,
    reasons, categories); images are left alone."""
    out = {}
    for mime, value in data.items():
        if mime in ("text/html", "text/markdown", "text/plain"):
            value = mask_contacts("".join(value) if isinstance(value, list) else str(value))
        out[mime] = value
    return out


def _css_string(s: str) -> str:
    """A CSS string literal that no data can end: quotes and backslashes escaped, ``<``/``>`` as CSS escapes
    (so ``</style>`` in a company name cannot close the stylesheet), control characters dropped."""
    s = "".join(ch for ch in str(s) if ch >= " ")
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ").replace(">", "\\3E ")
    return '"' + s + '"'


def page_css(company: str, quarter: str, paper: str) -> str:
    """CSS paged media: paper size, running header (company, quarter), page numbers; none on the cover."""
    size = PAPERS.get(paper.lower(), "A4")
    return f"""
@page {{ size: {size}; margin: 20mm 16mm 18mm 16mm;
  @top-left {{ content: {_css_string(company)}; font-size: 8pt; color: #5b6b7b; }}
  @top-right {{ content: {_css_string("Sales audit " + quarter)}; font-size: 8pt; color: #5b6b7b; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #5b6b7b; }}
}}
@page cover {{ @top-left {{ content: none; }} @top-right {{ content: none; }} @bottom-right {{ content: none; }} }}
"""


def _fmt_date(x: Any) -> str:
    import pandas as pd

    return pd.Timestamp(x).strftime("%d %b %Y") if x is not None and not pd.isna(x) else "n/a"


def assemble_html(
    sections: list[tuple[str, str, str, list[tuple[int, str, str]]]],
    *,
    company: str,
    quarter: Quarter,
    built_at: datetime,
    data_range: tuple[Any, Any],
    n_leads: int,
    paper: str = "A4",
    comparison: str | None = None,
    coverage: Any = None,
    slice_line: str | None = None,
) -> str:
    """One self-contained HTML document: cover, contents with page numbers (in the PDF), sections.

    ``sections`` are ``(stem, title, body, headings)`` in report order. ``coverage`` (the loader's
    :class:`salesaudit.data.coverage.Coverage`) labels a partial quarter or an undated snapshot on the cover and
    says what the data covers. ``slice_line`` (:func:`slice_cover_line`) names the slice a slice report covers;
    its comparison is then with the same slice.
    """
    css = (Path(__file__).with_name("report.css")).read_text(encoding="utf-8") + page_css(company, quarter.label, paper)
    e = htmllib.escape
    import pandas as pd

    last_day = quarter.end - pd.Timedelta(days=1)
    span = f"{quarter.label} ({_fmt_date(quarter.start)} – {_fmt_date(last_day)})"
    data_line = (
        f"leads created {_fmt_date(data_range[0])} – {_fmt_date(data_range[1])} ({n_leads:,} leads)"
        if data_range and not pd.isna(data_range[0])
        else f"an undated snapshot of {n_leads:,} leads (no creation dates)"
    )
    partial = coverage.partial_reason(quarter) if coverage is not None and coverage.leads_dated else None
    if partial:
        span += f" — partial: {partial}; no better-or-worse verdict is drawn from its totals"
    rows = [
        ("Company", company),
        ("Slice", slice_line or ""),
        ("Quarter", span if coverage is None or coverage.leads_dated else f"{quarter.label} — undated snapshot"),
        ("Data", data_line),
        (
            "Coverage",
            " ".join(coverage.sentences()[:1] + coverage.sentences()[2:]).replace("`", "")
            if coverage is not None
            else "",
        ),
        (
            "Compared with",
            "no comparison (partial quarter)"
            if partial
            else (comparison + (", the same slice" if slice_line else "") if comparison else "no previous quarter"),
        ),
        ("Built", built_at.strftime("%d %b %Y %H:%M UTC")),
    ]
    rows = [(k, v) for k, v in rows if v]
    undated = coverage is not None and not coverage.leads_dated
    headline_label = "Undated snapshot" if undated else f"{quarter.label} (partial)" if partial else quarter.label
    if slice_line:
        headline_label += " · slice " + slice_line.split(":", 1)[0]
    meta = "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    cover = (
        f'<section class="cover"><div class="kicker">Quarterly sales audit</div><h1 class="cover-title">'
        f'{e(company)}</h1><div class="quarter">{e(headline_label)}</div><table class="meta">{meta}</table>'
        "</section>"
    )
    toc_items = []
    for _stem, _title, _body, headings in sections:
        for level, hid, text in headings:
            toc_items.append(f'<li class="l{level}"><a href="#{hid}">{e(text)}</a></li>')
    toc = f'<nav class="toc"><h1 id="contents">Contents</h1><ol>{"".join(toc_items)}</ol></nav>'
    body = "\n".join(
        f'<section class="step" data-notebook="{e(stem)}">\n{b}\n</section>' for stem, _t, b, _h in sections
    )
    title = f"{company} · Sales audit {quarter.label}" + (" · " + slice_line.split(":", 1)[0] if slice_line else "")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{css}</style></head>'
        f"<body>{cover}\n{toc}\n{body}</body></html>"
    )


class PdfWorker:
    """Render PDFs of HTML files in another process while this one renders the report's PDF (WeasyPrint holds the
    interpreter lock, so a thread would not run beside it): the rep scorecards' PDFs cost no extra wall time on a
    machine with two cores. The other process is a new interpreter (``python -c``; not a fork of this process,
    which runs kernel-client threads, and not multiprocessing's spawn, which re-imports the caller's main
    script). ``wait()`` raises :class:`ReportError` with the worker's last error line; leaving the block
    without it stops the worker."""

    def __init__(self, jobs: list[tuple[Path, Path]]):
        self.jobs = [(str(a), str(b)) for a, b in jobs]
        self.proc: Any = None

    def __enter__(self) -> PdfWorker:
        if self.jobs:
            self.proc = start_worker("pdf_files", self.jobs)
        return self

    def wait(self) -> None:
        if self.proc is None:
            return
        error = finish_worker(self.proc)
        if error:
            raise ReportError(f"the scorecard PDFs could not be rendered: {error}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------------------------------
# the build
# --------------------------------------------------------------------------------------------------
@contextmanager
def quarter_lock(reports_dir: Path, quarter: str) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``reports/.<Q>.lock`` (blocking): publishing a quarter, or
    keeping its failed notebooks, happens in one process (and one thread) at a time. The lock goes with
    the file descriptor, so a killed process never leaves it held; the empty lock file stays."""
    import fcntl

    reports_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(reports_dir / f".{quarter}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _publish(build: Path, final: Path) -> None:
    """Replace ``final`` by ``build``: two renames on the same file system (the old copy is removed last),
    under the quarter's lock, so of two builds publishing the same quarter the later one wins cleanly."""
    with quarter_lock(final.parent, final.name):
        old = None
        if final.exists():  # a name of its own (threads share the PID); the PID last, for remove_stale_builds
            old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}-{os.getpid()}")
            os.replace(final, old)
            carry_slices(old, build)
        os.replace(build, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _keep_failed(build: Path, reports_dir: Path, quarter: str) -> Path:
    failed = reports_dir / ".failed" / quarter
    (build / OWNER_FILE).unlink(missing_ok=True)
    with quarter_lock(reports_dir, quarter):
        if failed.exists():
            shutil.rmtree(failed)
        failed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(build, failed)
    return failed


def _process_start(pid: int) -> str | None:
    """The kernel's start time of process ``pid`` (Linux ``/proc``), to tell a reused PID apart; else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, after the "(command)" that may hold spaces


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _host() -> str:
    import socket

    return socket.gethostname()


def claim_build_dir(build: Path) -> None:
    """Write who builds in ``build`` (PID, its start time, host, time) so a later build can tell it dead."""
    owner = {
        "pid": os.getpid(),
        "start": _process_start(os.getpid()),
        "host": _host(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (build / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")


def _owner_dead(folder: Path, now: float, max_age: float) -> bool:
    def old() -> bool:
        try:
            return now - folder.stat().st_mtime > max_age
        except OSError:  # gone already
            return False

    try:
        owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        pid = int(owner["pid"])
    except (OSError, ValueError, KeyError, TypeError):  # no owner file (yet, or an older build): only when old
        return old()
    if owner.get("host") != _host():  # cannot see that machine's processes: only old folders go
        return old()
    if not _pid_alive(pid):
        return True
    start = owner.get("start")
    return start is not None and _process_start(pid) not in (None, start)  # the PID was reused


def remove_stale_builds(reports_dir: Path, max_age: float = STALE_AFTER) -> list[Path]:
    """Remove ``reports/.build-*`` folders of builds that died (killed, out of memory, power cut).

    A folder goes when its owner file names a process of this host that is no longer alive (or whose PID
    now belongs to a younger process), or when it has no readable owner file and is older than
    ``max_age`` seconds (or, from another host, whatever its owner file says). A live build's folder is
    never removed. ``.old-<Q>-<pid>`` copies left by a publish that died are removed when that PID is dead.
    Returns the removed folders.
    """
    now = time.time()
    removed = []
    if not reports_dir.is_dir():
        return removed
    for folder in sorted(reports_dir.glob(".build-*")):
        if folder.is_dir() and _owner_dead(folder, now, max_age):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for folder in sorted(reports_dir.glob(".old-*-*")):
        pid = folder.name.rsplit("-", 1)[-1]
        if folder.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for folder in removed:
        log.info("removed %s (left by a build that is no longer running)", folder)
    return removed


def check_reports_dir(reports_dir: str | Path) -> Path:
    """The output folder, resolved; a file, a path under a file or a folder that cannot be written → one line.

    Checked before anything is validated or executed, so a typo in ``--reports`` costs no build; nothing is
    created here (a build that stops on bad data leaves no folder behind): the write test makes and removes
    a temporary folder in the nearest existing parent.
    """
    path = Path(reports_dir).resolve()
    if path.exists() and not path.is_dir():
        raise DataContractError(f"--reports {reports_dir}: is a file, not a folder")
    existing = next(p for p in (path, *path.parents) if p.exists())
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(path))
        Path(tempfile.mkdtemp(prefix=".write-check-", dir=existing)).rmdir()
    except OSError as exc:
        raise DataContractError(f"--reports {reports_dir}: cannot write there ({os_error_line(exc)})") from None
    return path


def prepare_slice(data: DataInfo, spec: str) -> DataInfo:
    """The validated data folder of the slice ``spec`` of ``data`` (:mod:`salesaudit.data.slices`).

    Written once under ``<cache>/slices/<data's cache key>-<slice hash>/`` (the raw rows of the kept records
    and the settings file) and validated like any data folder, so every notebook reads the slice through the
    usual loader; the raw data is never modified. A bad slice or one matching no lead → ``DataContractError``.
    """
    import dataclasses

    from salesaudit.data import slices as slicing
    from salesaudit.data.io import find_files
    from salesaudit.data.slices import not_sliced_note, parse_slice, whole_data_dates, write_slice_folder

    sl = parse_slice(spec)
    files = find_files(data.data_dir, data.config.extra.get("file_format"))
    rules = hashlib.sha256(Path(slicing.__file__).read_bytes()).hexdigest()[:12]  # new rules, new folder
    key = hashlib.sha256(f"{data.cache_key}|{sl.slug}|{sl.spec.casefold()}|{rules}".encode()).hexdigest()[:16]
    folder = write_slice_folder(
        data.data_dir,
        {t: p.name for t, p in files.items()},
        data.config,
        sl,
        cache_root() / "slices" / f"{sl.slug[:60]}-{key}",
        whole_data_dates(data.coverage),
    )
    info = validate(folder, "audit.yaml")
    note = not_sliced_note(sl, list(files))
    return dataclasses.replace(info, slice=sl, origin=data.origin or data.data_dir, slice_note=note)


def slice_fields(data: DataInfo) -> dict[str, Any]:
    """What ``summary.json`` says about the slice (``{}`` for the full audit): its spec, label, folder name, the
    data folder it was cut from and what it leaves out (format in ``docs/report.md``)."""
    if data.slice is None:
        return {}
    sl = data.slice
    return {
        "data_dir": str(data.origin),
        "slice": {"spec": sl.spec, "label": sl.label, "slug": sl.slug, "not_sliced": data.slice_note or None},
    }


def carry_slices(old: Path, build: Path) -> list[str]:
    """Move the slice reports (sub-folders holding a ``summary.json``) of the report ``old`` into the new build
    ``build``, unless the build has a folder of that name: rebuilding the full audit keeps its slices."""
    moved = []
    if not old.is_dir():
        return moved
    for sub in sorted(old.iterdir()):
        if sub.is_dir() and (sub / "summary.json").is_file() and not (build / sub.name).exists():
            os.replace(sub, build / sub.name)
            moved.append(sub.name)
    return moved


def build_report(
    data_dir: str | Path,
    quarter: str | None = "latest",
    *,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    reports_dir: str | Path = REPORTS_DIR,
    config: str = "audit.yaml",
    paper: str = "A4",
    compare: bool = True,
    pdf: bool = True,
    workers: int | None = None,
    progress: bool = True,
    data: AuditData | DataInfo | None = None,
    max_memory_gb: float | None = 4.0,
    cell_timeout: int | None = CELL_TIMEOUT,
    rep_scorecards: bool = False,
    slice: str | None = None,
    slice_reports: list[Path] | None = None,
    reuse: bool = True,
) -> BuildResult:
    """Build ``reports/<Q>/`` (atomically). Raises ``DataContractError`` on bad data and
    :class:`ReportError` when a notebook fails or a cell runs longer than ``cell_timeout`` seconds (the
    previous report is left untouched). Build folders of dead builds are removed first.

    ``slice`` (``"country=Germany"``, :mod:`salesaudit.data.slices`): the whole audit of that slice, written to
    ``reports/<Q>/<slice folder>/`` and compared with the same slice's previous quarter. ``slice_reports``:
    the ``summary.json`` of slice reports the executive summary compares (:mod:`salesaudit.report.slices`).
    ``reuse``: a notebook whose inputs are all unchanged since its last execution is not executed again
    (:mod:`salesaudit.report.reuse`; ``BuildResult.reused`` names them)."""
    timer = Timer()
    reports_dir = check_reports_dir(reports_dir)
    with timer("validate"):
        data = DataInfo.of(data) if data is not None else validate(data_dir, config)
        if slice:
            data = prepare_slice(data, slice)
            config = "audit.yaml"
        q = resolve_quarter(data, quarter)
    workers = workers or auto_workers(data.cache_bytes, max_memory_gb)
    steps, summary_nb = discover_notebooks(notebooks_dir)
    if not steps and summary_nb is None:
        raise ReportError(f"no notebooks NN_*.ipynb in {notebooks_dir}")
    reports_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(reports_dir)
    build = Path(tempfile.mkdtemp(prefix=f".build-{q.label}-", dir=reports_dir))
    build.chmod(0o755)
    try:
        claim_build_dir(build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    built_at = datetime.now(timezone.utc)
    first, last = data.date_range()
    nb_seconds: dict[str, float] = {}
    reused: list[str] = []
    reuse = reuse and reuse_enabled()  # --no-reuse or SALESAUDIT_REUSE=0: every notebook and PDF page again
    reuse_key = data.cache_key if reuse else None
    try:
        with timer("execute"):
            figures = execute_notebooks(
                steps,
                quarter=q.label,
                data_dir=data.data_dir,
                config=config,
                out_dir=build,
                workers=workers,
                progress=progress,
                durations=nb_seconds,
                cell_timeout=cell_timeout,
                reuse=reuse_key,
                reused=reused,
            )
        previous: dict[str, dict[str, dict]] = {}
        source = warning = None
        if compare and (data.coverage is None or data.coverage.is_complete(q)):  # a partial quarter: no verdict
            with timer("compare"):
                previous, source, warning = previous_quarter_figures(
                    data,
                    q,
                    steps,
                    reports_dir=reports_dir,
                    config=config,
                    workers=workers,
                    progress=progress,
                    cell_timeout=cell_timeout,
                )
        if warning:
            log.warning(warning)
        if summary_nb is not None:
            with timer("summary"):
                fig_path = build / ".step-figures.json"
                prev_path = build / ".previous-figures.json"
                fig_path.write_text(json.dumps({"figures": figures}, sort_keys=True), encoding="utf-8")
                prev_path.write_text(json.dumps({"figures": previous}, sort_keys=True), encoding="utf-8")
                params = {
                    "figures_path": str(fig_path),
                    "previous_path": str(prev_path) if previous else "none",
                    "reports_dir": str(reports_dir),
                }
                inputs = [fig_path, prev_path, *(slice_reports or [])]  # what it reads, for reuse
                if data.slice is not None:
                    params["slice_label"] = data.slice.label
                if slice_reports:
                    slices_path = build / ".slice-reports.json"
                    slices_path.write_text(json.dumps([str(p) for p in slice_reports]), encoding="utf-8")
                    params["slices_path"] = str(slices_path)
                figures.update(
                    execute_notebooks(
                        [summary_nb],
                        quarter=q.label,
                        data_dir=data.data_dir,
                        config=config,
                        out_dir=build,
                        workers=1,
                        progress=progress,
                        desc=f"{q.label} executive summary",
                        extra_parameters=params,
                        durations=nb_seconds,
                        cell_timeout=cell_timeout,
                        reuse=reuse_key,
                        inputs=inputs,
                        reused=reused,
                    )
                )
                fig_path.unlink()
                prev_path.unlink()
                (build / ".slice-reports.json").unlink(missing_ok=True)
        write_evidence(build)  # reports/<Q>/evidence/*.csv: the records behind findings and counts
        doc = summ.summary_document(
            quarter=q.label,
            previous_quarter=q.previous().label,
            company=data.config.company,
            currency=data.config.currency,
            built_at=built_at.isoformat(timespec="seconds"),
            data_range=tuple(None if x is None or x != x else x.isoformat() for x in (first, last)),  # NaT != NaT
            figures=figures,
            previous=previous,
            previous_source=source,
            data_dir=str(data.data_dir),
            coverage=data.coverage.to_dict() if data.coverage is not None else None,
            partial=data.coverage.partial_reason(q)
            if data.coverage is not None and data.coverage.leads_dated
            else None,
        )
        doc.update(slice_fields(data))
        (build / "summary.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
        with timer("html"):
            html = render_report_html(build, q, data, built_at, paper, source)
            html_path = build / f"sales-audit-{q.label}.html"
            html_path.write_text(html, encoding="utf-8")
        pdf_path = build / f"sales-audit-{q.label}.pdf"
        cards: list[Path] = []
        if rep_scorecards:  # reports/<Q>/reps/<rep>.html and .pdf, one page per rep, from step 05's metrics
            with timer("scorecards"):
                from salesaudit.report.scorecards import build_scorecards  # matplotlib: only for the cards

                cards = build_scorecards(build, data.data_dir, config, q, pdf=False)
        if pdf:
            with timer("pdf"), PdfWorker([(c, c.with_suffix(".pdf")) for c in cards]) as side:
                write_report_pdf(  # evidence links as paths; the sections laid out in two processes
                    unlinked_for_print(html),
                    pdf_path,
                    build,
                    page_rule=page_css(data.config.company, q.label, paper),
                    workers=min(2, os.cpu_count() or 1),
                    reuse=reuse,
                )
                side.wait()
    except NotebooksFailed as exc:
        name = q.label if data.slice is None else f"{q.label}-{data.slice.slug}"
        kept = _keep_failed(build, reports_dir, name)
        lines = [f"report {name} not built: {f.describe()}" for f in exc.failures]
        lines.append(f"the executed notebooks are kept in {kept}; {reports_dir / q.label} is unchanged")
        raise ReportError("\n".join(lines)) from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    final = reports_dir / q.label if data.slice is None else reports_dir / q.label / data.slice.slug
    final.parent.mkdir(parents=True, exist_ok=True)
    (build / OWNER_FILE).unlink(missing_ok=True)
    _publish(build, final)
    return BuildResult(
        q.label,
        final,
        final / html_path.name,
        (final / pdf_path.name) if pdf else None,
        final / "summary.json",
        timer.timings,
        source,
        dict(sorted(nb_seconds.items())),
        sorted(reused),
    )


def render_report_html(
    build: Path, quarter: Quarter, data: DataInfo, built_at: datetime, paper: str, comparison: str | None
) -> str:
    """The combined HTML of the executed notebooks in ``build`` (executive summary first)."""
    import nbformat

    from salesaudit.report.reuse import environment_version

    sections = []
    folder = cache_root() / "html-sections"
    for path in sorted(build.glob("[0-9][0-9]_*.ipynb")):
        raw = path.read_bytes()
        key = hashlib.sha256(raw + f"|{path.stem}|{environment_version()}".encode()).hexdigest()[:24]
        kept = folder / f"{key}.json"
        try:  # the section of an executed notebook converted before (same bytes, same code): ≈ 0.3 s saved each
            title, body, headings = json.loads(kept.read_text(encoding="utf-8"))
            headings = [tuple(h) for h in headings]
        except (OSError, ValueError):
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
            title, body, headings = notebook_section(nb, path.stem)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                tmp = folder / f".{key}.{os.getpid()}.tmp"
                tmp.write_text(json.dumps([title, body, headings]), encoding="utf-8")
                os.replace(tmp, kept)
            except OSError:  # a cache that cannot be written only costs time
                pass
        sections.append((path.stem, title, body, headings))
    if comparison and comparison.startswith("computed"):
        comparison = f"{quarter.previous().label} (computed from the data)"
    elif comparison:
        comparison = f"{quarter.previous().label} (report built earlier)"
    return assemble_html(
        sections,
        company=data.config.company,
        quarter=quarter,
        built_at=built_at,
        data_range=data.date_range(),
        n_leads=data.n_leads,
        paper=paper,
        comparison=comparison,
        coverage=data.coverage,
        slice_line=slice_cover_line(data),
    )


def slice_cover_line(data: DataInfo) -> str | None:
    """The cover's "Slice" row: which records the report covers, and what the slice leaves out; None for the
    full audit."""
    if data.slice is None:
        return None
    line = (
        f"{data.slice.label}: the leads matching it and their deals, activities, orders, tickets and NPS answers; "
        "every figure, finding and comparison is within the slice"
    )
    return line + (f"; {data.slice_note}" if data.slice_note else "")


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="data/demo", help="data folder (default: data/demo)")
    parser.add_argument("--quarter", default="latest", help="quarter like 2026Q3, or 'latest' (default)")
    parser.add_argument("--all-quarters", action="store_true", help="build every complete quarter in the data")
    parser.add_argument("--paper", default="A4", type=str.lower, choices=sorted(PAPERS), help="PDF paper size")
    parser.add_argument("--config", default="audit.yaml", help="settings file inside the data folder")
    parser.add_argument("--notebooks", default=str(NOTEBOOKS_DIR), help="folder of NN_*.ipynb (default: notebooks/)")
    parser.add_argument("--reports", default=str(REPORTS_DIR), help="output folder (default: reports/)")
    parser.add_argument(
        "--workers", type=int, default=None, help="notebooks run at once (default: the number of cores)"
    )
    parser.add_argument(
        "--max-memory",
        type=float,
        default=4.0,
        help="GB for the kernels together; fewer notebooks run at once when needed (default 4; 0 = no limit)",
    )
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help="do not compute the previous quarter when reports/<prev>/summary.json is missing",
    )
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=CELL_TIMEOUT,
        metavar="SECONDS",
        help=f"fail the build when one notebook cell runs longer than this (default {CELL_TIMEOUT}; 0 = no limit)",
    )
    parser.add_argument("--no-pdf", action="store_true", help="HTML only")
    parser.add_argument(
        "--no-reuse",
        action="store_true",
        help="execute every notebook and lay out every PDF page, even those whose inputs are unchanged since "
        "the last build (default: reuse them; also SALESAUDIT_REUSE=0)",
    )
    parser.add_argument(
        "--rep-scorecards",
        action="store_true",
        help="also write reports/<Q>/reps/<rep>.html and .pdf: one page per rep against the team",
    )
    parser.add_argument(
        "--slice",
        default=None,
        metavar="COLUMN=VALUE",
        help="audit one slice only: country=, segment=, channel=, team=, product= (AND with ','); "
        "written to reports/<Q>/<slice>/ (docs/report.md)",
    )
    parser.add_argument(
        "--slices",
        action="store_true",
        help="also build every slice listed under slices: in audit.yaml, and compare them in the executive summary",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--timings-json", default=None, help=argparse.SUPPRESS)


def _print_timings(res: BuildResult, out=None) -> None:
    out = out or sys.stdout
    parts = [f"{p} {res.timings[p]:.1f} s" for p in PHASES if p in res.timings]
    print(f"{res.quarter}: " + " · ".join(parts) + f" · total {sum(res.timings.values()):.1f} s", file=out)
    if res.reused:
        print(
            f"  reused (inputs unchanged since their last execution; --no-reuse runs them): {', '.join(res.reused)}",
            file=out,
        )
    slow = sorted(res.notebook_seconds.items(), key=lambda kv: -kv[1])[:3]
    if slow:
        print(
            "  slowest notebooks (wall, kernel start included): " + ", ".join(f"{k} {v:.1f} s" for k, v in slow),
            file=out,
        )


def run(args: argparse.Namespace) -> int:
    """Build one quarter (or all); print where the outputs are and the time per phase."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    t0 = time.perf_counter()
    check_reports_dir(args.reports)
    t_validate = time.perf_counter()
    data = validate(args.data, args.config)  # validate + cache once; bad data → exit 2
    t_validate = time.perf_counter() - t_validate
    quarters = [q.label for q in complete_quarters(data)] if args.all_quarters else [args.quarter]
    workers = args.workers or auto_workers(data.cache_bytes, args.max_memory)
    if not args.workers and workers < (os.cpu_count() or 1):
        print(
            f"running {workers} notebook(s) at a time to stay under {args.max_memory:g} GB "
            f"(about {kernel_memory_gb(data.cache_bytes):.1f} GB per kernel for this data; see --max-memory)",
            file=sys.stderr,
        )
    if not quarters:
        print("no complete quarter in the data", file=sys.stderr)
        return 2
    from salesaudit.data.slices import configured_slices, parse_slice

    if args.slice and args.slices:
        print("--slice and --slices: give one (a single slice, or the slices listed in audit.yaml)", file=sys.stderr)
        return 2
    one = [parse_slice(args.slice).spec] if args.slice else []  # bad syntax → one line before any build
    many = [s.spec for s in configured_slices(data.config)] if args.slices else []
    if args.slices and not many:
        print(
            f"--slices: {args.config} lists no slices (add e.g. slices: [country=Germany, team=North])", file=sys.stderr
        )
        return 2
    for spec in one + many:  # every slice checked (and its data folder written) before any build
        prepare_slice(data, spec)
    results = []
    for label in quarters:
        if one:
            plan: list[tuple[str | None, str | None]] = [(one[0], None)]
        elif many:  # the slices first, then the full audit comparing them
            plan = [(spec, None) for spec in many] + [(None, "slices")]
        else:
            plan = [(None, None)]
        built: list[Path] = []
        for spec, role in plan:
            try:
                res = build_report(
                    args.data,
                    label,
                    notebooks_dir=args.notebooks,
                    reports_dir=args.reports,
                    config=args.config,
                    paper=args.paper,
                    compare=not args.no_compare,
                    pdf=not args.no_pdf,
                    workers=workers,
                    progress=not args.quiet,
                    data=data,
                    cell_timeout=args.cell_timeout,
                    rep_scorecards=getattr(args, "rep_scorecards", False),
                    slice=spec,
                    slice_reports=built if role == "slices" else None,
                    reuse=not getattr(args, "no_reuse", False),
                )
            except ReportError as exc:
                for line in str(exc).splitlines():
                    print(line, file=sys.stderr)
                return 1
            if spec is not None:
                built.append(res.summary)
            res.timings["validate"] = res.timings.get("validate", 0.0) + (t_validate if not results else 0.0)
            results.append(res)
            print(f"{res.quarter}: {res.html}" + (f" and {res.pdf.name}" if res.pdf else ""))
    for res in results:
        _print_timings(res)
    if len(results) > 1:
        print(f"{len(results)} quarters in {time.perf_counter() - t0:.1f} s")
    if args.timings_json:
        Path(args.timings_json).write_text(
            json.dumps(
                [
                    {"quarter": r.quarter, "timings": r.timings, "notebooks": r.notebook_seconds, "reused": r.reused}
                    for r in results
                ]
            )
        )
    return 0
