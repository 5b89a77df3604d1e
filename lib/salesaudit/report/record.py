"""Recording key figures from a notebook, and reading them back from an executed notebook.

``record("close_rate", 0.23, label="Close rate", unit="%", lo=0.2, hi=0.26, n=812)`` displays an
``application/json`` output tagged as a figure. Tests, the executive summary, ``summary.json`` and the
quarter-over-quarter comparison read these back with :func:`read_figures` — nothing is computed twice.

Units: ``"%"`` (a share 0–1), ``"days"``, ``"money"``, ``"count"``, ``"ratio"``, ``"score"`` or ``""``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

MARKER = "salesaudit_figure"


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def figure(
    name: str,
    value: Any,
    *,
    label: str | None = None,
    unit: str = "",
    lo: float | None = None,
    hi: float | None = None,
    n: float | None = None,
    section: str | None = None,
    higher_is_better: bool | None = None,
    **extra: Any,
) -> dict:
    """The JSON payload of one recorded figure (no display)."""
    payload = {
        MARKER: name,
        "value": _plain(value),
        "label": label or name.replace("_", " ").capitalize(),
        "unit": unit,
        "lo": _plain(lo),
        "hi": _plain(hi),
        "n": _plain(n),
        "section": section,
        "higher_is_better": higher_is_better,
    }
    payload.update({k: _plain(v) for k, v in extra.items()})
    json.dumps(payload)  # fail early on anything not serialisable
    return payload


def record(name: str, value: Any, **kwargs: Any) -> dict:
    """Record a key figure: display it as ``application/json`` (a collapsed line in JupyterLab, removed
    from the HTML report)."""
    payload = figure(name, value, **kwargs)
    try:
        from IPython.display import display

        # JupyterLab's JSON viewer shows it as one collapsed line ("recorded: name"); the report strips it
        display(
            {"application/json": payload},
            raw=True,
            metadata={"application/json": {"expanded": False, "root": f"recorded: {name}"}},
        )
    except ImportError:  # pragma: no cover - IPython is a dependency
        pass
    return payload


def read_figures(notebook: Any) -> dict[str, dict]:
    """``{name: payload}`` of every figure recorded in an executed notebook (path or NotebookNode).

    A figure recorded twice keeps its last value.
    """
    if isinstance(notebook, (str, Path)):
        import nbformat

        notebook = nbformat.read(str(notebook), as_version=4)
    out: dict[str, dict] = {}
    for cell in notebook.get("cells", []):
        for o in cell.get("outputs", []) or []:
            if o.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = o.get("data", {}).get("application/json")
            if isinstance(data, str):
                try:
                    data = json.loads(data)
                except ValueError:
                    continue
            if isinstance(data, dict) and MARKER in data:
                out[data[MARKER]] = dict(data)
    return out


def figure_values(notebook: Any) -> dict[str, Any]:
    """``{name: value}`` of the recorded figures."""
    return {k: v.get("value") for k, v in read_figures(notebook).items()}


def record_finding(
    slug: str, text: str, *, impact: float, section: str, recommendation: str = "", basis: str = ""
) -> dict:
    """Record a finding for the executive summary, ranked there by ``impact``.

    ``impact`` is the estimated effect per quarter in the configured currency (revenue at stake or to
    gain; positive), so findings from different steps can be ranked on one scale. ``basis`` says how the
    impact was estimated (one clause). The figure is named ``finding:<slug>``.
    """
    return record(
        f"finding:{slug}",
        float(impact),
        label=text,
        unit="money",
        section=section,
        kind="finding",
        recommendation=recommendation,
        basis=basis,
    )


def findings_of(figures: dict[str, dict]) -> list[dict]:
    """The recorded findings among ``figures``, largest impact first (ties by name)."""
    out = [dict(v, name=k) for k, v in figures.items() if v.get("kind") == "finding"]
    return sorted(out, key=lambda f: (-(f.get("value") or 0.0), f["name"]))


def record_many(figures: list[dict]) -> list[dict]:
    """Record each ``{name, value, **kwargs}`` of a list a step built (e.g. ``dataquality.score_figures``)."""
    return [
        record(f["name"], f["value"], **{k: v for k, v in f.items() if k not in ("name", "value")}) for f in figures
    ]


def record_findings(findings: list[dict]) -> list[dict]:
    """Record each finding ``{slug, text, impact, section, recommendation, basis}`` with :func:`record_finding`."""
    return [
        record_finding(
            f["slug"],
            f["text"],
            impact=f["impact"],
            section=f["section"],
            recommendation=f.get("recommendation", ""),
            basis=f.get("basis", ""),
        )
        for f in findings
    ]
