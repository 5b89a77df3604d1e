"""Notebook set-up: one call at the top of every audit notebook.

``ctx = setup(quarter, data_dir, config)`` loads the validated data (from the cache), parses the quarter,
sets the chart theme and makes bad-input errors show as one line instead of a traceback.

Which data folder and quarter (:func:`notebook_parameters`): a value injected by papermill (report builds,
the planner, the tests) or typed into the parameters cell wins; else ``SALESAUDIT_DATA`` /
``SALESAUDIT_QUARTER`` from the environment (``make lab DATA=… QUARTER=…`` exports them); else the
notebook's default literal (the demo company, ``2026Q3``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from salesaudit.config import AuditConfig
from salesaudit.data.coverage import Coverage, audit_quarter
from salesaudit.data.io import AuditData, load
from salesaudit.errors import DataContractError
from salesaudit.periods import Quarter
from salesaudit.report.sections import Section, check


@dataclass
class Context:
    """What every notebook needs: the data, its settings and the quarter under audit."""

    data: AuditData
    cfg: AuditConfig
    quarter: Quarter

    @property
    def coverage(self) -> Coverage:
        return self.data.coverage

    @property
    def partial(self) -> bool:
        """True when the leads do not cover the audited quarter completely (no verdict from its totals)."""
        return not self.data.coverage.is_complete(self.quarter)

    @property
    def dated(self) -> bool:
        """True when the leads carry creation dates (time-based sections need them)."""
        return self.data.coverage.leads_dated

    @property
    def previous(self) -> Quarter:
        return self.quarter.previous()

    def history(self, n: int = 4) -> list[Quarter]:
        """The ``n`` quarters before the audited one, oldest first."""
        return [self.quarter.previous(i) for i in range(n, 0, -1)]

    @property
    def as_of(self) -> pd.Timestamp:
        """The cut-off for "followed up to now": the end of the audited quarter — or, for a quarter the data
        stops in, the day after the extraction date (nothing after it was observed)."""
        return self.data.coverage.observed_until(self.quarter)

    def has(self, table: str) -> bool:
        return self.data.has(table)

    def section(self, shows: str, *requirements: Any) -> Section:
        """What a section needs (see :mod:`salesaudit.report.sections`): ``display`` it, then run ``if sec.ok:``."""
        return check(self, shows, *requirements)

    def missing_note(self, *tables: str) -> str | None:
        """A sentence naming the absent tables a section needs, or None when all are present."""
        absent = [t for t in tables if not self.data.has(t)]
        if not absent:
            return None
        names = ", ".join(f"`{t}`" for t in absent)
        return f"No {names} data was provided, so this section is skipped. Add {names} to the data folder to answer it."


def banner(ctx: Context, n_leads: int | None = None) -> Any:
    """The line under a notebook's title: company, quarter, as-of date, leads — and, when the quarter is
    partial or the data undated, one sentence saying so (the report labels such a quarter everywhere)."""
    from IPython.display import Markdown

    from salesaudit.text import md_escape

    cov = ctx.coverage
    company = md_escape(ctx.cfg.company)
    n = f", {n_leads:,} leads created before the cut-off" if n_leads is not None else ""
    if not cov.leads_dated:
        head = f"**{company}** — undated snapshot of {cov.n_leads:,} leads"
        tail = " The leads carry no creation dates: sections that need a time axis say so and are skipped."
        if cov.extracted_at is not None:
            head += f" (extracted {cov.extracted_at:%Y-%m-%d})"
        return Markdown(head + "." + tail)
    head = f"**{company}** — audit of {ctx.quarter.label} (as at {ctx.as_of:%Y-%m-%d}){n}."
    if ctx.partial:
        head += (
            f" **Partial quarter:** {cov.partial_reason(ctx.quarter)}; its totals are not compared with whole"
            " quarters and no better-or-worse verdict is drawn from them."
        )
    return Markdown(head)


def _one_line_errors() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return

    def handler(shell, etype, evalue, tb, tb_offset=None):  # noqa: ANN001
        print(f"Data problem: {evalue}")
        return None

    ip.set_custom_exc((DataContractError,), handler)


#: the literals every notebook's parameters cell holds (tests/test_notebooks_clean.py checks them)
DEFAULT_DATA_DIR = "data/demo"
DEFAULT_QUARTER = "2026Q3"
ENV_DATA_DIR = "SALESAUDIT_DATA"
ENV_QUARTER = "SALESAUDIT_QUARTER"


def notebook_parameters(
    quarter: str | None, data_dir: str, environ: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
    """``(quarter, data_dir)`` a notebook audits, from its parameters and the environment.

    Precedence, for each of the two: a value other than the notebook's default literal (papermill injected
    it — report builds pass an absolute folder — or the analyst typed it into the parameters cell) >
    ``SALESAUDIT_DATA`` / ``SALESAUDIT_QUARTER`` when set and not empty > the default literal
    (:data:`DEFAULT_DATA_DIR`, :data:`DEFAULT_QUARTER`). An injected value equal to the default literal
    cannot be told from the literal, so the environment variable wins over it.

    >>> notebook_parameters("2026Q3", "data/demo", {"SALESAUDIT_DATA": "/d/acme", "SALESAUDIT_QUARTER": "latest"})
    ('latest', '/d/acme')
    >>> notebook_parameters("2025Q4", "/builds/acme", {"SALESAUDIT_DATA": "/d/other"})
    ('2025Q4', '/builds/acme')
    """
    env = os.environ if environ is None else environ
    env_data = (env.get(ENV_DATA_DIR) or "").strip()
    env_quarter = (env.get(ENV_QUARTER) or "").strip()
    if env_data and str(data_dir) == DEFAULT_DATA_DIR:
        data_dir = env_data
    if env_quarter and str(quarter) == DEFAULT_QUARTER:
        quarter = env_quarter
    return quarter, data_dir


def setup(quarter: str | None, data_dir: str, config: str | None = "audit.yaml") -> Context:
    """Load the data and the quarter (``None`` or ``"latest"`` = latest complete quarter in the data).

    ``quarter`` and ``data_dir`` give way to ``SALESAUDIT_QUARTER`` / ``SALESAUDIT_DATA`` when they are the
    notebook's default literals (:func:`notebook_parameters`)."""
    from salesaudit import plots

    quarter, data_dir = notebook_parameters(quarter, data_dir)

    _one_line_errors()
    plots.set_theme()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    data = load(data_dir, config)
    q = audit_quarter(data.coverage, quarter)
    return Context(data=data, cfg=data.config, quarter=q)
